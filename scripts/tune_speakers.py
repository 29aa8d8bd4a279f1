#!/usr/bin/env python3
"""Measures voxmill's speakers on the ten real AMI excerpts that scripts/setup.sh installs (developer tooling for
issue 10; the regression test is crates/voxmill/tests/real_speakers.rs).

    scripts/tune_speakers.py PROJECT [section.key=value ...] [--bin target/release/voxmill] [--detail]

Creates PROJECT the first time (init, add the ten excerpts), sets the given settings in its voxmill.toml, runs the
pipeline (only stages whose settings changed run again, so trying diarize settings does not transcribe again),
exports RTTM and prints: DER with collar 0.25 and without (overlap scored, per file and project-wide), the speaker
count of each excerpt and of the project, and clip purity (share of clip time in which only the clip's speaker
talks, by the reference turns) with what makes clips impure. Tune methods on these ten, never per-file settings.
"""

import argparse
import json
import os
import re
import sqlite3
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

STEP = 0.01


def home() -> Path:
    return Path(os.environ.get("VOXMILL_HOME") or Path.home() / ".local/share/voxmill")


def sh(*args: str) -> str:
    out = subprocess.run(args, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"{' '.join(args)} failed:\n{out.stderr}")
    return out.stdout


def set_setting(toml: str, dotted: str) -> str:
    key, value = dotted.split("=", 1)
    section, name = key.rsplit(".", 1)
    start = toml.find(f"[{section}]\n")
    if start < 0:
        sys.exit(f"no [{section}] in voxmill.toml")
    m = re.compile(rf"^{re.escape(name)} = .*$", re.M).search(toml, start)
    if not m:  # a key newer than the project's voxmill.toml: add it to its section
        at = toml.index("\n", start) + 1
        return toml[:at] + f"{name} = {value}\n" + toml[at:]
    return toml[: m.start()] + f"{name} = {value}" + toml[m.end() :]


def read_rttm(path: Path) -> dict:
    turns = defaultdict(list)
    for line in path.read_text().splitlines():
        f = line.split()
        if len(f) >= 8 and f[0] == "SPEAKER":
            turns[f[1]].append((float(f[3]), float(f[3]) + float(f[4]), f[7]))
    return turns


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("project", type=Path)
    ap.add_argument("settings", nargs="*")
    ap.add_argument("--bin", default="target/release/voxmill")
    ap.add_argument("--audio", type=Path, help="take the ten trn0N.wav from this folder instead (e.g. processed copies)")
    ap.add_argument("--corpus", type=Path,
                    help="measure on every NAME.wav of this folder with its NAME.rttm as the reference instead "
                         "(e.g. synthetic conversations)")
    ap.add_argument("--detail", action="store_true", help="list each impure stretch of clip time")
    a = ap.parse_intermixed_args()
    ami = home() / "real/ami"
    vox = a.bin
    if a.corpus:
        names = sorted(w.stem for w in a.corpus.glob("*.wav") if w.with_suffix(".rttm").is_file())
        wavs = [a.corpus / f"{n}.wav" for n in names]
        ref_path = a.project / "reference.rttm"
        uem = None
    else:
        names = [f"trn0{i}" for i in range(10)]
        wavs = [(a.audio or ami) / f"{n}.wav" for n in names]
        ref_path, uem = ami / "ami.rttm", ami / "ami.uem"
    if not (a.project / "voxmill.toml").is_file():
        sh(vox, "init", str(a.project))
        sh(vox, "add", str(a.project), *map(str, wavs))
    if a.corpus:
        ref_path.write_text("".join((a.corpus / f"{n}.rttm").read_text() for n in names))
    toml_path = a.project / "voxmill.toml"
    toml = toml_path.read_text()
    for s in a.settings:
        toml = set_setting(toml, s)
    toml_path.write_text(toml)
    sh(vox, "run", str(a.project), "--offline", "--quiet")
    sh(vox, "export", str(a.project), "--format", "rttm")
    hyp = a.project / "all.rttm"
    hyp.write_text("".join((a.project / f"exports/rttm/{n}.rttm").read_text() for n in names
                           if (a.project / f"exports/rttm/{n}.rttm").exists()))
    for name, extra in [("collar 0.25", ["--collar", "0.25"]), ("no collar", ["--collar", "0"]),
                        ("project-wide", ["--collar", "0.25", "--project-wide"])]:
        scored = ["--uem", str(uem)] if uem else []
        v = json.loads(sh(vox, "eval", "der", str(ref_path), str(hyp), *scored, "--json", *extra)
                       .strip().splitlines()[-1])
        t = v["total_speech"]
        print(f"DER {name:13s} {100 * v['der']:5.1f}%  (missed {100 * v['missed'] / t:4.1f}, "
              f"false alarm {100 * v['false_alarm'] / t:4.1f}, confusion {100 * v['confusion'] / t:4.1f})")
    ref, hyps = read_rttm(ref_path), read_rttm(hyp)
    within = exact = 0
    counts = []
    for f in sorted(ref):
        truth = len({w for _, _, w in ref[f]})
        found = len({w for _, _, w in hyps.get(f, [])})
        within += abs(found - truth) <= 1
        exact += found == truth
        counts.append(f"{truth}/{found}")
    people = len({w for f in ref for _, _, w in ref[f]})
    db = sqlite3.connect(a.project / "voxmill.db")
    project_speakers = len(sh(vox, "speakers", str(a.project), "list", "--json").splitlines())
    print(f"counts (truth/found) {' '.join(counts)}: within one on {within}/{len(ref)}, exact on {exact}; "
          f"project speakers {project_speakers} for {people} people")
    clips = db.execute("SELECT r.name, c.start, c.end, c.speaker FROM clips c "
                       "JOIN recordings r ON r.id = c.recording_id").fetchall()

    def talking(f, t):
        return [w for s, e, w in ref[f] if s <= t < e]

    def frames(s, e):
        n = int((e - s) / STEP)
        return [s + i * STEP for i in range(n)]

    heard = defaultdict(lambda: defaultdict(int))
    for f, s, e, spk in clips:
        for t in frames(s, e):
            for w in talking(f, t):
                heard[spk][w] += 1
    person = {spk: max(p, key=p.get) for spk, p in heard.items()}
    pure = total = over = wrong = silent = 0
    for f, s, e, spk in clips:
        bad_from = None
        for t in frames(s, e) + [e]:
            who = talking(f, t) if t < e else None
            ok = who is None or all(w == person.get(spk) for w in who)
            if who is not None:
                total += 1
                pure += ok
                silent += not who
                if not ok:
                    if person.get(spk) in who:
                        over += 1
                    else:
                        wrong += 1
            if not ok and bad_from is None:
                bad_from = t
            if ok and bad_from is not None:
                if a.detail:
                    print(f"  impure {f} {bad_from:6.2f}-{t:6.2f} clip {s:6.2f}-{e:6.2f} speaker {spk} "
                          f"({person.get(spk)}): {talking(f, bad_from)}")
                bad_from = None
    print(f"clips {len(clips)}, {total * STEP:.1f} s (no one talking {silent * STEP:.1f} s); purity "
          f"{100 * pure / max(total, 1):.1f}%: {over * STEP:.1f} s another voice over the speaker's, "
          f"{wrong * STEP:.1f} s someone else")


if __name__ == "__main__":
    main()
