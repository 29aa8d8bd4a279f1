"""voxmill's driver for piper1-gpl's trainer (piper-tts[train] 1.8), run inside the trainer environment.

voxmill writes this file next to the environment it prepares and runs it as a child process:

    python voxmill_piper.py fit --run-dir DIR --max-steps N [--max-epochs E] [--checkpoint-every K]
                                [--device cpu|cuda|auto] [--resume CKPT] -- <piper.train fit arguments>
    python voxmill_piper.py export --checkpoint CKPT --output VOICE.onnx

It works around three problems of piper-tts 1.8.0 without changing the installed package:
* the monotonic alignment extension (Cython) is not in the wheel or sdist: a numba version is registered under the
  module name piper imports, unless a compiled one is importable;
* the default checkpoint callbacks monitor a MOS score whose model downloads at run time: voxmill's own callback
  replaces them (MOS is switched off), keeping two files, `last.ckpt` and `best.ckpt` (lowest validation mel loss),
  each written to a temporary name and renamed, so a kill never leaves a truncated checkpoint;
* ONNX export fails with torch >= 2.9's default (dynamo) exporter: the legacy exporter is used.

Progress goes to `events.jsonl` in the run directory, one JSON object per line, which voxmill reads while the
trainer runs: `start`, `step` (every training batch: generator and discriminator losses), `validation`,
`checkpoint`, `stop` (a SIGTERM or SIGINT: the last checkpoint is saved first) and `end`.
A step is one training batch (one generator and one discriminator update).
"""

import argparse
import json
import logging
import math
import os
import signal
import sys
import time
import types

EVENTS_FILE = "events.jsonl"
CHECKPOINT_DIR = "checkpoints"


# -- monotonic alignment ---------------------------------------------------------------------------------------------


def install_monotonic_align():
    """Registers a numba `maximum_path_c` where piper looks for its Cython extension, unless the extension exists."""
    name = "piper.train.vits.monotonic_align.monotonic_align"
    try:
        __import__(name + ".core")
        return
    except ImportError:
        pass
    import numba
    import numpy as np

    @numba.njit(nogil=True, cache=False)
    def best_path(path, value, t_y, t_x):
        # Dynamic programming over the alignment grid: each text position x is reached from x or x - 1 on the
        # previous frame; then the best path is traced back from the last text position.
        very_negative = -1e9
        for y in range(t_y):
            for x in range(max(0, t_x + y - t_y), min(t_x, y + 1)):
                stay = very_negative if x == y else value[y - 1, x]
                if x == 0:
                    advance = 0.0 if y == 0 else very_negative
                else:
                    advance = value[y - 1, x - 1]
                value[y, x] += max(stay, advance)
        index = t_x - 1
        for y in range(t_y - 1, -1, -1):
            path[y, index] = 1
            if index != 0 and (index == y or value[y - 1, index] < value[y - 1, index - 1]):
                index -= 1

    @numba.njit(nogil=True, parallel=True, cache=False)
    def maximum_path_c(paths, values, t_ys, t_xs):
        for b in numba.prange(paths.shape[0]):
            best_path(paths[b], values[b], t_ys[b], t_xs[b])

    package = types.ModuleType(name)
    core = types.ModuleType(name + ".core")
    core.maximum_path_c = maximum_path_c
    package.core = core
    sys.modules[name] = package
    sys.modules[name + ".core"] = core


# -- events ----------------------------------------------------------------------------------------------------------


class Events:
    """Appends one JSON object per line to the run's events file, flushed at once so voxmill sees it."""

    def __init__(self, path):
        self.file = open(path, "a", encoding="utf-8")

    def emit(self, event, **fields):
        fields = {"event": event, "time": round(time.time(), 3), **fields}
        self.file.write(json.dumps(fields, allow_nan=False, default=str) + "\n")
        self.file.flush()


def number(value):
    """A logged metric as a plain float (None when missing or not finite)."""
    if value is None:
        return None
    try:
        value = float(value.item() if hasattr(value, "item") else value)
    except (TypeError, ValueError):
        return None
    return round(value, 5) if math.isfinite(value) else None


# -- fit -------------------------------------------------------------------------------------------------------------


def make_callback(args, events):
    from lightning.pytorch.callbacks import Callback

    class VoxmillProgress(Callback):
        """Progress events, the step limit, graceful stop on SIGTERM/SIGINT, and the two checkpoints."""

        def __init__(self):
            self.checkpoints = os.path.join(args.run_dir, CHECKPOINT_DIR)
            os.makedirs(self.checkpoints, exist_ok=True)
            self.stop_signal = None
            self.saved_step = None
            self.best = math.inf
            best_file = os.path.join(self.checkpoints, "best.json")
            if os.path.exists(best_file):
                with open(best_file, encoding="utf-8") as f:
                    self.best = json.load(f).get("val_mel", math.inf)
            self.batch_started = None

        def optimizers_per_step(self, trainer):
            return max(1, len(trainer.optimizers))

        def step(self, trainer):
            return trainer.global_step // self.optimizers_per_step(trainer)

        def save(self, trainer, kind, **extra):
            final = os.path.join(self.checkpoints, kind + ".ckpt")
            partial = final + ".partial"
            trainer.save_checkpoint(partial)
            with open(partial, "rb") as f:
                os.fsync(f.fileno())
            os.replace(partial, final)
            directory = os.open(self.checkpoints, os.O_RDONLY)
            try:
                os.fsync(directory)
            finally:
                os.close(directory)
            step = self.step(trainer)
            if kind == "last":
                self.saved_step = step
            events.emit(
                "checkpoint",
                kind=kind,
                path=final,
                step=step,
                epoch=trainer.current_epoch,
                bytes=os.path.getsize(final),
                **extra,
            )

        def on_train_start(self, trainer, pl_module):
            def on_signal(signum, _frame):
                self.stop_signal = signal.Signals(signum).name
                trainer.should_stop = True

            signal.signal(signal.SIGTERM, on_signal)
            signal.signal(signal.SIGINT, on_signal)
            self.saved_step = self.step(trainer)
            events.emit(
                "start",
                step=self.step(trainer),
                epoch=trainer.current_epoch,
                batches_per_epoch=trainer.num_training_batches,
                max_steps=args.max_steps,
                max_epochs=args.max_epochs,
                device=str(pl_module.device),
                parameters=sum(p.numel() for p in pl_module.parameters()),
                train_clips=len(trainer.datamodule.train_dataset),
                validation_clips=len(trainer.datamodule.val_dataset),
            )

        def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
            self.batch_started = time.monotonic()

        def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
            step = self.step(trainer)
            metrics = trainer.callback_metrics
            events.emit(
                "step",
                step=step,
                epoch=trainer.current_epoch,
                loss_g=number(metrics.get("loss_g")),
                loss_d=number(metrics.get("loss_d")),
                mel=number(metrics.get("train_mel")),
                secs=round(time.monotonic() - (self.batch_started or time.monotonic()), 3),
            )
            if args.checkpoint_every > 0 and step % args.checkpoint_every == 0:
                self.save(trainer, "last")
            if self.stop_signal is not None or (args.max_steps > 0 and step >= args.max_steps):
                trainer.should_stop = True

        def on_validation_end(self, trainer, pl_module):
            if trainer.sanity_checking:
                return
            metrics = trainer.callback_metrics
            val_mel = number(metrics.get("val_mel"))
            events.emit(
                "validation",
                step=self.step(trainer),
                epoch=trainer.current_epoch,
                val_loss=number(metrics.get("val_loss")),
                val_mel=val_mel,
            )
            if val_mel is not None and val_mel < self.best:
                self.best = val_mel
                self.save(trainer, "best", val_mel=val_mel)
                with open(os.path.join(self.checkpoints, "best.json"), "w", encoding="utf-8") as f:
                    json.dump({"val_mel": val_mel, "step": self.step(trainer)}, f)

        def on_train_epoch_end(self, trainer, pl_module):
            if self.saved_step != self.step(trainer):
                self.save(trainer, "last")

        def on_train_end(self, trainer, pl_module):
            if self.saved_step != self.step(trainer):
                self.save(trainer, "last")
            if self.stop_signal is not None:
                events.emit("stop", signal=self.stop_signal, step=self.step(trainer))
            events.emit("end", step=self.step(trainer), epoch=trainer.current_epoch)

    return VoxmillProgress()


def fit(args, piper_args):
    install_monotonic_align()
    import torch
    from lightning.pytorch.cli import LightningCLI

    from piper.train.vits.dataset import VitsDataModule
    from piper.train.vits.lightning import VitsModel

    # A stop requested before training starts (while the data are phonemised) ends the process here.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    device = args.device
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        sys.exit("voxmill: --device cuda, but torch sees no CUDA device (check the driver with nvidia-smi)")
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True

    events = Events(os.path.join(args.run_dir, EVENTS_FILE))

    class Cli(LightningCLI):
        def add_arguments_to_parser(self, parser):
            # The links piper's own command line makes between the data module and the model.
            parser.link_arguments("data.batch_size", "model.batch_size")
            parser.link_arguments("data.num_symbols", "model.num_symbols")
            parser.link_arguments("model.num_speakers", "data.num_speakers")
            parser.link_arguments("model.sample_rate", "data.sample_rate")
            parser.link_arguments("model.filter_length", "data.filter_length")
            parser.link_arguments("model.hop_length", "data.hop_length")
            parser.link_arguments("model.win_length", "data.win_length")
            parser.link_arguments("model.segment_size", "data.segment_size")

    trainer_args = [
        "--trainer.accelerator",
        "gpu" if device == "cuda" else "cpu",
        "--trainer.devices",
        "1",
        "--trainer.default_root_dir",
        args.run_dir,
        "--trainer.enable_progress_bar",
        "false",
        "--trainer.enable_checkpointing",
        "false",
        "--trainer.max_epochs",
        str(args.max_epochs if args.max_epochs > 0 else -1),
        "--trainer.log_every_n_steps",
        "1",
        "--seed_everything",
        "1234",
        "--model.mos_metric",
        "none",
    ]
    if args.resume:
        trainer_args += ["--ckpt_path", args.resume]
    sys.argv = sys.argv[:1]
    Cli(
        VitsModel,
        VitsDataModule,
        trainer_defaults={"callbacks": [make_callback(args, events)]},
        args=["fit", *trainer_args, *piper_args],
        save_config_kwargs={"overwrite": True},
    )


# -- export ----------------------------------------------------------------------------------------------------------


def export(args):
    install_monotonic_align()
    import torch

    legacy_export = torch.onnx.export

    def export_with_legacy_exporter(*a, **kw):
        kw["dynamo"] = False
        return legacy_export(*a, **kw)

    torch.onnx.export = export_with_legacy_exporter
    from piper.train import export_onnx

    sys.argv = ["piper.train.export_onnx", "--checkpoint", args.checkpoint, "--output-file", args.output]
    export_onnx.main()


def main():
    parser = argparse.ArgumentParser(prog="voxmill_piper.py")
    commands = parser.add_subparsers(dest="command", required=True)
    f = commands.add_parser("fit")
    f.add_argument("--run-dir", required=True)
    f.add_argument("--max-steps", type=int, default=0)
    f.add_argument("--max-epochs", type=int, default=0)
    f.add_argument("--checkpoint-every", type=int, default=0)
    f.add_argument("--device", choices=("cpu", "cuda", "auto"), default="auto")
    f.add_argument("--resume")
    e = commands.add_parser("export")
    e.add_argument("--checkpoint", required=True)
    e.add_argument("--output", required=True)
    argv = sys.argv[1:]
    piper_args = []
    if "--" in argv:
        split = argv.index("--")
        argv, piper_args = argv[:split], argv[split + 1 :]
    args = parser.parse_args(argv)
    # Piper reports what it does (phonemising, the warm start: how many parameters it copied) at INFO.
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.command == "fit":
        fit(args, piper_args)
    else:
        export(args)


if __name__ == "__main__":
    main()
