use std::path::Path;
use std::time::Duration;

use anyhow::Result;
use voxmill_pipeline::train::{self, ResumeRequest, RunStatus, TrainOutcome, TrainRequest, TrainUpdate};
use voxmill_project::Project;
use voxmill_train::events::{Event, duration_words};

use super::Outcome;
use crate::cli::{TrainAction, TrainArgs};
use crate::format::{hms, hours};
use crate::mode::Mode;

/// `voxmill train`: a new run, `--resume`, or `status|list|stop`.
pub fn train(args: &TrainArgs, mode: Mode) -> Result<Outcome> {
    // The first word is an action, or a run's name (`voxmill train P piper-2 --resume`).
    let (action, run) = match args.action.as_deref() {
        Some("status") => (Some(TrainAction::Status), args.run.clone()),
        Some("list") => (Some(TrainAction::List), args.run.clone()),
        Some("stop") => (Some(TrainAction::Stop), args.run.clone()),
        Some(name) if args.run.is_none() && args.resume => (None, Some(name.to_string())),
        Some(word) => anyhow::bail!(
            "`{word}`: expected status, list or stop, or a run's name with --resume (`voxmill train {} list` \
             lists the runs)",
            args.project.display()
        ),
        None => (None, args.run.clone()),
    };
    let project = Project::open(&args.project)?;
    match action {
        Some(TrainAction::List) => list(&project, None, mode),
        Some(TrainAction::Status) => list(&project, Some(run.as_deref()), mode),
        Some(TrainAction::Stop) => {
            let row = train::stop(&project, run.as_deref(), Duration::from_secs(120))?;
            match mode {
                Mode::Quiet => {}
                Mode::Json => println!("{}", serde_json::json!({"summary": "train_stop", "run": row})),
                Mode::Human => println!(
                    "{} is {} at step {}; `voxmill train {} --resume` continues it",
                    row.name,
                    row.state.as_str(),
                    row.step,
                    args.project.display()
                ),
            }
            Ok(Outcome::Success)
        }
        None => {
            let home = voxmill_models::voxmill_home();
            let mut ui = TrainUi::new(mode);
            let outcome = if args.resume {
                let request = ResumeRequest {
                    run: run.clone(),
                    epochs: args.epochs,
                    max_steps: args.max_steps,
                    batch_size: args.batch_size,
                    device: args.device.clone(),
                };
                train::resume(&project, &request, &home, &mut |u| ui.update(u))
            } else {
                let request = TrainRequest {
                    recipe: args.recipe.clone(),
                    speakers: args.speakers.clone(),
                    base: args.base.clone(),
                    from_scratch: args.from_scratch,
                    epochs: args.epochs,
                    max_steps: args.max_steps,
                    batch_size: args.batch_size,
                    device: args.device.clone().unwrap_or_default(),
                };
                train::train(&project, &request, &home, &mut |u| ui.update(u))
            };
            ui.finish();
            report(&outcome?, &args.project, mode);
            Ok(Outcome::Success)
        }
    }
}

/// Progress on the terminal (a bar over the steps when the end is known) or as JSON lines.
struct TrainUi {
    mode: Mode,
    bar: Option<indicatif::ProgressBar>,
}

impl TrainUi {
    fn new(mode: Mode) -> TrainUi {
        TrainUi { mode, bar: None }
    }

    fn bar(&mut self) -> &indicatif::ProgressBar {
        self.bar.get_or_insert_with(|| {
            let bar = indicatif::ProgressBar::new_spinner();
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        })
    }

    fn update(&mut self, update: TrainUpdate) {
        match self.mode {
            Mode::Quiet => {}
            Mode::Json => match update {
                TrainUpdate::Phase(p) => println!("{}", serde_json::json!({"event": "train_phase", "phase": p})),
                TrainUpdate::Installing(line) => {
                    println!("{}", serde_json::json!({"event": "train_install", "message": line}))
                }
                TrainUpdate::Exporting { .. } => {}
                TrainUpdate::Trained(event, progress) => {
                    if matches!(event, Event::Step { .. } | Event::Checkpoint { .. } | Event::Validation { .. }) {
                        println!(
                            "{}",
                            serde_json::json!({"event": "train_progress", "step": progress.step,
                                "epoch": progress.epoch, "total_steps": progress.total_steps(),
                                "loss_g": progress.loss_g, "loss_d": progress.loss_d,
                                "best_val_mel": progress.best_val_mel, "secs_per_step": progress.secs_per_step,
                                "secs_left": progress.secs_left(),
                                "last_checkpoint_step": progress.last_checkpoint.as_ref().map(|c| c.0)})
                        );
                    }
                }
            },
            Mode::Human => match update {
                TrainUpdate::Phase(p) => {
                    if let Some(bar) = self.bar.take() {
                        bar.finish_and_clear();
                    }
                    eprintln!("{p}");
                }
                TrainUpdate::Installing(line) => self.bar().set_message(line.to_string()),
                TrainUpdate::Exporting { done, total } => {
                    self.bar().set_message(format!("exporting clips {done}/{total}"))
                }
                TrainUpdate::Trained(event, progress) => {
                    if let Event::Start { device, train_clips, validation_clips, .. } = event {
                        let bar = self.bar.take();
                        if let Some(bar) = bar {
                            bar.finish_and_clear();
                        }
                        eprintln!(
                            "training on {device}: {} clips, {} held out for validation, from step {}",
                            train_clips.map(|n| n.to_string()).unwrap_or_else(|| "?".into()),
                            validation_clips.map(|n| n.to_string()).unwrap_or_else(|| "?".into()),
                            progress.step
                        );
                        let bar = match progress.total_steps() {
                            Some(total) => {
                                let bar = indicatif::ProgressBar::new(total);
                                bar.set_style(
                                    indicatif::ProgressStyle::with_template("[{bar:30}] {msg}")
                                        .expect("a valid template")
                                        .progress_chars("=> "),
                                );
                                bar
                            }
                            None => indicatif::ProgressBar::new_spinner(),
                        };
                        bar.enable_steady_tick(Duration::from_millis(500));
                        self.bar = Some(bar);
                    }
                    let bar = self.bar();
                    bar.set_position(progress.step);
                    bar.set_message(progress.summary());
                    if let Event::Checkpoint { kind, step, .. } = event {
                        bar.println(format!("saved checkpoint {kind} at step {step}"));
                    }
                }
            },
        }
    }

    fn finish(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}

fn report(outcome: &TrainOutcome, project_dir: &Path, mode: Mode) {
    let run = &outcome.run;
    match mode {
        Mode::Quiet => {}
        Mode::Json => println!(
            "{}",
            serde_json::json!({"summary": "train", "run": run, "state": run.state, "step": outcome.progress.step,
                "epoch": outcome.progress.epoch, "resumed_from": outcome.resumed_from, "voice": outcome.voice,
                "loss_g": outcome.progress.loss_g, "loss_d": outcome.progress.loss_d,
                "best_val_mel": outcome.progress.best_val_mel, "secs_per_step": outcome.progress.secs_per_step})
        ),
        Mode::Human => {
            let p = &outcome.progress;
            match &outcome.voice {
                Some(v) => {
                    println!("{} finished at step {} (epoch {}): {}", run.name, p.step, p.epoch, p.summary());
                    println!("Voice: {}\n       {}", v.onnx.display(), v.config.display());
                    println!("Sample ({:.1} s): {}", v.sample_secs, v.sample.display());
                    println!(
                        "Train it further: `voxmill train {} {} --resume --max-steps N` (or --epochs N)",
                        project_dir.display(),
                        run.name
                    );
                }
                None => println!(
                    "{} stopped at step {} (epoch {}), checkpoint saved; `voxmill train {} --resume` continues it",
                    run.name,
                    p.step,
                    p.epoch,
                    project_dir.display()
                ),
            }
        }
    }
}

/// `list` (every run, one line each) or `status` (one run in detail: `Some(None)` is the newest).
fn list(project: &Project, status_of: Option<Option<&str>>, mode: Mode) -> Result<Outcome> {
    let runs = train::runs(project)?;
    let picked: Vec<&RunStatus> = match status_of {
        None => runs.iter().collect(),
        Some(name) => {
            let found = match name {
                Some(n) => runs.iter().find(|r| r.run.name == n),
                None => runs.last(),
            };
            match (found, name) {
                (Some(r), _) => vec![r],
                (None, Some(n)) => anyhow::bail!("no training run `{n}` (`voxmill train PROJECT list` lists them)"),
                (None, None) => vec![],
            }
        }
    };
    match mode {
        Mode::Quiet => {}
        Mode::Json => {
            let items: Vec<serde_json::Value> = picked.iter().map(|r| r.to_json()).collect();
            println!("{}", serde_json::json!({"summary": "train_runs", "runs": items}));
        }
        Mode::Human => {
            if picked.is_empty() {
                println!(
                    "No training runs yet; `voxmill train {} --recipe piper --base CKPT` starts one",
                    project.layout.root().display()
                );
            }
            for r in &picked {
                print_status(r, status_of.is_some());
            }
        }
    }
    Ok(Outcome::Success)
}

fn print_status(r: &RunStatus, detail: bool) {
    let p = &r.progress;
    let mut line = format!("{:<10} {:<11} {}", r.run.name, r.state_word(), p.summary());
    if r.interrupted {
        line.push_str(" (no voxmill is training it: --resume continues it)");
    }
    println!("{line}");
    if !detail {
        return;
    }
    println!("  dataset:     {} clips, {} ({})", r.run.clips, hours(r.run.clip_secs), hms(r.run.clip_secs));
    if let Some(c) = &r.resume_point {
        println!(
            "  checkpoint:  {} (step {})",
            c.path.display(),
            c.step.map(|s| s.to_string()).unwrap_or_else(|| "?".into())
        );
    }
    println!("  disk:        {:.2} GB in {}", r.disk_bytes as f64 / 1e9, r.run.dir);
    if let Some(s) = p.secs_per_step {
        println!("  speed:       {s:.1} s per step on {}", if p.device.is_empty() { "?" } else { &p.device });
    }
    if let Some(left) = p.secs_left().filter(|_| r.live) {
        println!("  time left:   {}", duration_words(left));
    }
    if let Some(v) = &r.run.voice {
        println!("  voice:       {v}");
    }
    if let Some(e) = &r.run.error {
        println!("  error:       {}", e.lines().next().unwrap_or(""));
    }
    println!("  log:         {}", r.log.display());
}
