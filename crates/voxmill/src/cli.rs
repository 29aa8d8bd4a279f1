//! The command-line grammar.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// voxmill turns hours of raw speech into clean, transcribed, speaker-labelled clip datasets.
#[derive(Debug, Parser)]
#[command(name = "voxmill", version, about, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command takes.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// More log output (-v info, -vv debug, -vvv trace). VOXMILL_LOG overrides it.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Print only errors: no progress bars, no summary.
    #[arg(short, long, global = true, conflicts_with = "json")]
    pub quiet: bool,
    /// Print machine-readable JSON lines on stdout (events, then a summary object) instead of text.
    #[arg(long, global = true)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the whole pipeline. Given a project, brings it up to date; given audio files or folders, creates a
    /// project next to the first one (or at --out), adds them and runs.
    Run(RunArgs),
    /// Create a project: a folder with voxmill.toml (settings) and voxmill.db (catalog).
    Init {
        /// Folder to create the project in (created if missing).
        project: PathBuf,
    },
    /// Register audio files or folders of them in a project (exact duplicates are skipped).
    Add {
        project: PathBuf,
        /// Files or folders; folders are searched for audio files by extension.
        #[arg(required = true)]
        inputs: Vec<PathBuf>,
    },
    /// Show each recording, its duration and the state of each stage.
    Status { project: PathBuf },
    /// Write the project's clips as a dataset (also done at the end of `voxmill run` for export.formats).
    Export {
        project: PathBuf,
        /// Dataset format (ljspeech), or rttm for each recording's speaker turns.
        #[arg(long, short, default_value = "ljspeech")]
        format: String,
    },
    /// Project-wide speakers: list them, merge, unmerge, rename, and recheck clips against their speaker.
    Speakers {
        project: PathBuf,
        #[command(subcommand)]
        command: SpeakersCommand,
    },
    /// Totals of the project: per-speaker durations, clip length histogram, totals.
    Stats { project: PathBuf },
    /// Measure the quality of results against a reference.
    #[command(subcommand)]
    Eval(EvalCommand),
    /// Measure voxmill against the reference tools on the same input.
    #[command(subcommand)]
    Bench(BenchCommand),
    /// Known models: which are on this machine and where, and fetching them ahead of time.
    Models {
        #[command(subcommand)]
        command: ModelsCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum SpeakersCommand {
    /// Every speaker: label, name, clips, durations and the recordings they speak in.
    List,
    /// Merge speakers into the first one: their clips move to its folder (undo with `unmerge`).
    Merge {
        /// The speaker that stays (label or name).
        into: String,
        /// The speakers merged into it.
        #[arg(required = true)]
        others: Vec<String>,
    },
    /// Undo a merge: the speaker gets its recordings and clips back.
    Unmerge {
        /// The merged speaker (label or name).
        speaker: String,
    },
    /// Give a speaker a name; exports use it. Labels and clip folders do not change.
    Rename { speaker: String, name: String },
    /// Score every clip against its speaker's voice; flag (and leave out of exports) clips unlike it.
    Recheck {
        /// Similarity below which a clip is flagged (default: speakers.recheck_threshold).
        #[arg(long)]
        threshold: Option<f32>,
        /// Move a flagged clip to the speaker it matches best, when that match reaches speakers.match_threshold.
        #[arg(long = "move")]
        move_to_best: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum EvalCommand {
    /// Diarization error rate of a hypothesis RTTM against a reference RTTM (missed speech, false alarm, confusion).
    Der {
        reference: PathBuf,
        hypothesis: PathBuf,
        /// Seconds around each reference boundary left out of scoring.
        #[arg(long, default_value_t = 0.25)]
        collar: f64,
        /// Leave out regions where reference speakers overlap.
        #[arg(long)]
        skip_overlap: bool,
        /// Pair hypothesis speakers with reference speakers once for all files (Hungarian method on the overlap
        /// summed over the files) instead of once per file, for labels that name the same person in every file
        /// (corpus speaker ids; voxmill's project speakers spk001, …): one person under two labels in two files,
        /// or one label on two people, counts as confusion.
        #[arg(long)]
        project_wide: bool,
        /// Score only the regions of this NIST UEM file (lines `<file> <channel> <start> <end>`, in seconds), as
        /// md-eval -u does; reference files it does not name are not scored (as in pyannote.metrics), and files it
        /// names that the hypothesis lacks count as all missed.
        #[arg(long, value_name = "FILE")]
        uem: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Time voxmill's Whisper against faster-whisper on the same audio, model, beam size and compute type,
    /// and compare their word error rates.
    Asr(crate::commands::bench::BenchAsrArgs),
    /// Time voxmill's diarization (`voxmill run --until identify`) against the Resemblyzer + scikit-learn glue
    /// users write, on the same audio, and compare their diarization error rates against a reference RTTM.
    Diarize(crate::commands::bench_diarize::BenchDiarizeArgs),
}

#[derive(Debug, Subcommand)]
pub enum ModelsCommand {
    /// Every known model, whether it is present, and its path.
    List,
    /// Download a model into the Hugging Face cache (HF_ENDPOINT and HF_TOKEN are honoured).
    Fetch {
        /// Model id, e.g. whisper:small (see `voxmill models list`).
        id: String,
    },
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// A project folder, or audio files and folders to make a project of.
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,
    /// Where to create the project when inputs are audio (default: next to the first input, named <name>-voxmill).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Recordings processed at once (default: the project's run.jobs, or one per CPU core).
    #[arg(short, long, default_value_t = 0)]
    pub jobs: usize,
    /// Redo this stage and every stage after it even if up to date (repeatable).
    #[arg(long, value_name = "STAGE")]
    pub force: Vec<String>,
    /// Never download models; fail with a message saying which model is missing and how to get it.
    #[arg(long, env = "VOXMILL_OFFLINE")]
    pub offline: bool,
    /// Stop after this stage (and the stages it needs); no export. E.g. `--until identify` to diarize only.
    #[arg(long, value_name = "STAGE")]
    pub until: Option<String>,
}
