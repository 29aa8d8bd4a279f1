//! The command-line grammar.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use voxmill_asr::{ComputeType, Device};

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

impl GlobalArgs {
    /// The output these flags ask for.
    pub fn mode(&self) -> crate::mode::Mode {
        use crate::mode::Mode;
        if self.json {
            Mode::Json
        } else if self.quiet {
            Mode::Quiet
        } else {
            Mode::Human
        }
    }
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
    /// Register audio files, folders of them or URLs in a project (exact duplicates are skipped). URLs are
    /// downloaded (resumed after an interruption, retried, size-limited; see [fetch] in voxmill.toml); video and
    /// audio sites (YouTube, Vimeo, SoundCloud, …) go through yt-dlp when it is installed.
    Add(AddArgs),
    /// Podcast feeds the project follows: new episodes are downloaded by `feed update` and by every `voxmill run`.
    Feed {
        #[command(subcommand)]
        command: FeedCommand,
    },
    /// Serve the HTTP API and the web UI for every project under DIR (or for one project), until Ctrl-C.
    Serve(ServeArgs),
    /// Take recordings out of the project with everything derived from them (clips, results; the source file too
    /// when the project owns it: a copy, a download or an upload).
    Remove {
        project: PathBuf,
        /// Recording names (as `voxmill status` lists them).
        #[arg(required = true)]
        recordings: Vec<String>,
    },
    /// Correct a clip's transcript by hand (exports use it; it survives re-runs while the clip is cut the same).
    Edit {
        project: PathBuf,
        /// The clip's name (as `voxmill review` lists it).
        clip: String,
        /// The corrected text; "" goes back to the ASR's.
        text: String,
    },
    /// Where each recording came from: URL or file, title, author, date, licence, feed (--licence filters).
    Sources {
        project: PathBuf,
        /// Only recordings under this licence (as the source states it, e.g. cc-by-4.0; `none` for unstated).
        #[arg(long, value_name = "LICENCE")]
        licence: Option<String>,
    },
    /// Show each recording, its duration and the state of each stage.
    Status { project: PathBuf },
    /// Write the project's clips as a dataset (also done at the end of `voxmill run` for export.formats).
    Export {
        project: PathBuf,
        /// Dataset format: ljspeech, piper (piper1-gpl's training input; prints the training command), hf (Hugging
        /// Face Parquet shards and dataset card), audiofolder (Hugging Face folders per split), lhotse (recordings,
        /// supervisions and cuts per split), nemo (a JSON-lines manifest per split), kaldi (a data directory per
        /// split), webdataset (tar shards per split) or emilia (JSON lines); rttm for each recording's speaker
        /// turns; transcripts for each recording's speaker-labelled transcript (JSON, CSV, text, SRT, WebVTT).
        #[arg(long, short, default_value = "ljspeech")]
        format: String,
        /// Where to write the dataset (default: <project>/exports/<format>). An existing folder is replaced only
        /// when it holds nothing but an earlier export of the same format.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Only this speaker's clips (a label such as SPK003 or a name given with `speakers rename`); repeatable.
        #[arg(long = "speaker", value_name = "SPEAKER")]
        speakers: Vec<String>,
        /// Export every clip, rejected ones too, with each clip's verdict and reasons in verdicts.csv beside the
        /// dataset (whose own files stay as trainers read them).
        #[arg(long)]
        include_rejected: bool,
        /// Also pack the export into one archive beside it (<folder>.tar.zst, .tar.gz or .zip), its SHA256SUMS
        /// first; `voxmill verify` checks it.
        #[arg(long, value_name = "tar.zst|tar.gz|zip")]
        archive: Option<String>,
    },
    /// Train a TTS voice on the project's accepted clips (Piper), resumable: `train P --recipe piper --base CKPT`,
    /// `train P --resume`, `train P status|list|stop`. The trainer is installed once under $VOXMILL_HOME/trainers.
    Train(TrainArgs),
    /// Check an export folder or archive against its SHA256SUMS: every file there, unchanged, nothing extra.
    Verify {
        /// An export folder (exports/<format>) or an archive made by `voxmill export --archive`.
        path: PathBuf,
    },
    /// List the clips with their quality measures, verdict and every failing reason (--json: one object per clip).
    Review(ReviewArgs),
    /// Accept clips by hand, whatever the quality gates say; the decision survives re-runs, --force and changed gates.
    Accept(DecideArgs),
    /// Reject clips by hand, whatever the quality gates say; the decision survives re-runs, --force and changed gates.
    Reject(DecideArgs),
    /// Forget manual decisions: the clips go back to the quality gates' verdict.
    Unreview {
        project: PathBuf,
        /// Clip names (as `voxmill review` lists them).
        #[arg(required = true)]
        clips: Vec<String>,
    },
    /// Project-wide speakers: list them, merge, unmerge, rename, and recheck clips against their speaker.
    Speakers {
        project: PathBuf,
        #[command(subcommand)]
        command: SpeakersCommand,
    },
    /// Totals of the project: per-speaker durations, clip length histogram, word yield, quality verdicts and
    /// reasons, and the distribution of every quality measure.
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

/// Options of `voxmill train`.
#[derive(Debug, Args)]
pub struct TrainArgs {
    pub project: PathBuf,
    /// `status` (the newest run, or RUN, in detail), `list` (every run) or `stop` (the run being trained saves a
    /// checkpoint and stops; `--resume` continues it); or a run's name, to `--resume` it. Without one, a new run
    /// starts (or `--resume` continues the newest unfinished one).
    #[arg(value_name = "ACTION|RUN")]
    pub action: Option<String>,
    /// The run for status, stop and --resume (as `list` names it, e.g. piper-2); default: the newest.
    pub run: Option<String>,
    /// What to train: `piper` (a Piper voice: VITS on espeak-ng phonemes, piper1-gpl's trainer).
    #[arg(long, default_value = "piper")]
    pub recipe: String,
    /// Only this speaker's clips (label or name; repeatable). Several speakers make a multi-speaker voice.
    #[arg(long = "speaker", value_name = "SPEAKER")]
    pub speakers: Vec<String>,
    /// Fine-tune this published Piper checkpoint (.ckpt, e.g. from rhasspy/piper-checkpoints, same sample rate).
    #[arg(long, value_name = "CKPT", conflicts_with = "from_scratch")]
    pub base: Option<PathBuf>,
    /// Train from random weights (needs hours of speech and much longer training than --base).
    #[arg(long)]
    pub from_scratch: bool,
    /// Train for this many epochs (default: train.epochs in voxmill.toml).
    #[arg(long, value_name = "N")]
    pub epochs: Option<u64>,
    /// Stop after this many steps (one step: one batch); with --resume, the new total.
    #[arg(long, value_name = "N")]
    pub max_steps: Option<u64>,
    /// Clips per batch (default: train.batch_size).
    #[arg(long, value_name = "B")]
    pub batch_size: Option<usize>,
    /// cpu, cuda or auto (CUDA when torch sees a GPU).
    #[arg(long, value_name = "DEVICE")]
    pub device: Option<String>,
    /// Continue the newest unfinished run (or RUN) from its last checkpoint; the step counter continues.
    #[arg(long)]
    pub resume: bool,
}

/// What `voxmill train P ACTION` does instead of training.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrainAction {
    Status,
    List,
    Stop,
}

/// Options of `voxmill serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// A folder of projects (created if missing; new projects are made in it), or one project.
    #[arg(default_value = ".")]
    pub dir: PathBuf,
    /// Address to listen on. Anything but loopback requires a token on every API request.
    #[arg(long, default_value = "127.0.0.1:8750")]
    pub addr: std::net::SocketAddr,
    /// The token API requests must carry (`Authorization: Bearer …` or `?token=`); generated and printed when the
    /// address is not loopback and none is given. Also read from VOXMILL_TOKEN.
    #[arg(long, env = "VOXMILL_TOKEN")]
    pub token: Option<String>,
    /// Largest upload accepted in one request, in MB.
    #[arg(long, default_value_t = 2048)]
    pub max_upload_mb: u64,
    /// Runs started from the server never download models (as `voxmill run --offline`).
    #[arg(long, env = "VOXMILL_OFFLINE")]
    pub offline: bool,
}

/// Options of `voxmill add`.
#[derive(Debug, Args)]
pub struct AddArgs {
    pub project: PathBuf,
    /// Files, folders (searched for audio files by extension) or http(s) URLs.
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,
    /// Download every URL through yt-dlp (sites are recognised by name without it: YouTube, Vimeo, SoundCloud, …).
    #[arg(long = "yt-dlp")]
    pub ytdlp: bool,
    /// The licence of these recordings (kept as their source metadata; carried into dataset cards), e.g. cc-by-4.0.
    #[arg(long, value_name = "LICENCE")]
    pub licence: Option<String>,
}

/// `voxmill feed …`
#[derive(Debug, Subcommand)]
pub enum FeedCommand {
    /// Follow a podcast feed (RSS 2.0 or Atom) and download the episodes it keeps.
    Add {
        project: PathBuf,
        /// The feed's URL.
        url: String,
        /// At most this many of the newest episodes (now, and of the new ones at each update).
        #[arg(long, value_name = "N")]
        limit: Option<usize>,
        /// Only episodes published on or after this date (YYYY-MM-DD or an RFC 3339 time).
        #[arg(long, value_name = "DATE")]
        since: Option<String>,
        /// Only episodes whose title matches this regular expression (`(?i)` for any case).
        #[arg(long = "match", value_name = "REGEX")]
        title_match: Option<String>,
    },
    /// Check every feed for new episodes (one conditional request each) and download them.
    Update { project: PathBuf },
    /// The followed feeds with their episodes: downloaded, pending, failed, skipped.
    List { project: PathBuf },
    /// Stop following a feed (recordings already downloaded from it stay).
    Remove { project: PathBuf, url: String },
}

/// Options of `voxmill review`.
#[derive(Debug, Args)]
pub struct ReviewArgs {
    pub project: PathBuf,
    /// Only clips with a reason that starts with this (a measure name: dnsmos_ovrl, snr, clipping, bandwidth,
    /// speaking_rate, …; or any text a reason starts with).
    #[arg(long, value_name = "R")]
    pub reason: Option<String>,
    /// Only this speaker's clips (label or name).
    #[arg(long, value_name = "S")]
    pub speaker: Option<String>,
    /// Only accepted or only rejected clips.
    #[arg(long, value_parser = ["accepted", "rejected"])]
    pub verdict: Option<String>,
}

/// Options of `voxmill accept` and `voxmill reject`.
#[derive(Debug, Args)]
pub struct DecideArgs {
    pub project: PathBuf,
    /// Clip names (as `voxmill review` lists them).
    #[arg(required = true)]
    pub clips: Vec<String>,
    /// Why, kept with the decision and shown by `voxmill review`.
    #[arg(long, value_name = "TEXT")]
    pub note: Option<String>,
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
    /// Word error rate of each recording's transcription against the transcript its publisher put in the feed
    /// (`podcast:transcript`, stored when the episode was downloaded), and over all of them.
    Transcripts { project: PathBuf },
}

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Time voxmill's Whisper against faster-whisper on the same audio, model, beam size and compute type,
    /// and compare their word error rates.
    Asr(BenchAsrArgs),
    /// Time voxmill's diarization (`voxmill run --until identify`) against the Resemblyzer + scikit-learn glue
    /// users write, on the same audio, and compare their diarization error rates against a reference RTTM.
    Diarize(BenchDiarizeArgs),
    /// Time the qualify and validate stages against transcription on the same audio, and voxmill's DNSMOS against
    /// Microsoft's reference implementation on the same clips.
    Quality(BenchQualityArgs),
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
    /// A project folder, or audio files, folders and URLs to make a project of.
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
    /// Only this recording of the project (by name, as `voxmill status` lists it; repeatable).
    #[arg(long = "recording", value_name = "NAME")]
    pub recordings: Vec<String>,
    /// Do not check the project's feeds for new episodes first (fetch.update_on_run).
    #[arg(long)]
    pub no_update: bool,
    /// Download every URL input through yt-dlp.
    #[arg(long = "yt-dlp")]
    pub ytdlp: bool,
}

/// Options of `voxmill bench asr`.
#[derive(Debug, Clone, clap::Args)]
pub struct BenchAsrArgs {
    /// CTranslate2 Whisper model folder, or a model id (`whisper:base`, as `voxmill models list` shows them;
    /// downloaded unless present) [default: whisper:tiny.en].
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Beam size (both implementations).
    #[arg(long, default_value_t = 5)]
    pub beam_size: usize,
    /// default, int8, float16 or float32 (both implementations).
    #[arg(long, default_value = "default")]
    pub compute_type: ComputeType,
    /// cpu or cuda (both implementations; cuda needs an NVIDIA driver and cuBLAS, see the README's Builds).
    #[arg(long, default_value = "cpu")]
    pub device: Device,
    /// Threads (both implementations); 0 = every core.
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    /// Windows decoded per generate call (voxmill and faster-whisper's batched pipeline).
    #[arg(long, default_value_t = voxmill_asr::WhisperConfig::default().batch_size)]
    pub batch_size: usize,
    /// Prompt each window with the text before it (voxmill and faster-whisper's sequential decoding; the
    /// batched pipeline never does).
    #[arg(long)]
    pub condition: bool,
    /// Temperatures voxmill tries until a window passes the thresholds, e.g. 0,0.2,0.4,0.6,0.8,1 (faster-whisper
    /// sequential's fallback) [default: voxmill's, 0 only, as the batched pipeline].
    #[arg(long, value_delimiter = ',')]
    pub temperatures: Option<Vec<f32>>,
    /// Let voxmill's Whisper emit segment timestamp tokens (faster-whisper sequential does, batched does not).
    #[arg(long)]
    pub timestamps: bool,
    /// faster-whisper runs to compare with: sequential, batched, or both.
    #[arg(long, value_delimiter = ',', default_value = "sequential,batched")]
    pub reference: Vec<ReferenceMode>,
    /// Minutes of synthetic speech (espeak-ng) when no --audio is given.
    #[arg(long, default_value_t = 3.0)]
    pub minutes: f64,
    /// Your own recording (any format sox reads; converted to 16 kHz mono first unless it already is a 16 kHz mono
    /// 16-bit WAV).
    #[arg(long)]
    pub audio: Option<PathBuf>,
    /// The reference transcript of --audio (plain text), for the word error rates.
    #[arg(long, requires = "audio")]
    pub script: Option<PathBuf>,
    /// Only time voxmill (no faster-whisper).
    #[arg(long)]
    pub skip_reference: bool,
    /// The reference runner [default: scripts/bench-asr.sh of this source tree].
    #[arg(long)]
    pub reference_runner: Option<PathBuf>,
    /// Keep the audio, the script and both transcripts (voxmill.txt, faster-whisper.txt) in this folder (default:
    /// a temporary folder, removed at the end).
    #[arg(long)]
    pub keep: Option<PathBuf>,
}

/// How faster-whisper decodes in a reference run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReferenceMode {
    /// `WhisperModel.transcribe`: window after window, temperature fallback, timestamps.
    Sequential,
    /// `BatchedInferencePipeline`: VAD chunks decoded `--batch-size` at a time, no fallback.
    Batched,
}

impl ReferenceMode {
    /// The name the reference runner takes (VOXMILL_BENCH_MODE).
    pub fn as_str(self) -> &'static str {
        match self {
            ReferenceMode::Sequential => "sequential",
            ReferenceMode::Batched => "batched",
        }
    }
}

/// Options of `voxmill bench quality`.
#[derive(Debug, Clone, clap::Args)]
pub struct BenchQualityArgs {
    /// The recordings (any format voxmill reads); repeat for several.
    #[arg(long, required = true)]
    pub audio: Vec<PathBuf>,
    /// The Python of the DNSMOS reference environment [default: $VOXMILL_HOME/dnsmos-reference/bin/python].
    #[arg(long)]
    pub reference_python: Option<PathBuf>,
    /// Only time voxmill (no Python reference).
    #[arg(long)]
    pub skip_reference: bool,
    /// Keep the voxmill project in this folder (default: a temporary folder, removed at the end).
    #[arg(long)]
    pub keep: Option<PathBuf>,
}

/// Options of `voxmill bench diarize`.
#[derive(Debug, Clone, clap::Args)]
pub struct BenchDiarizeArgs {
    /// The recording (any format sox reads; both sides get the same 16 kHz mono WAV made from it).
    /// scripts/bench-diarize.sh makes a synthetic conversation when you have none.
    #[arg(long)]
    pub audio: PathBuf,
    /// The true speaker turns of --audio (NIST RTTM), for the diarization error rates.
    #[arg(long)]
    pub rttm: PathBuf,
    /// Seconds around each reference boundary left out of scoring.
    #[arg(long, default_value_t = 0.25)]
    pub collar: f64,
    /// PyTorch threads of the reference; 0 = every core (PyTorch's own default). On a busy machine one thread can be
    /// several times faster: PyTorch's worker threads wait for each other when one of them is not running.
    #[arg(long, default_value_t = 0)]
    pub reference_threads: usize,
    /// Only time voxmill (no Python reference).
    #[arg(long)]
    pub skip_reference: bool,
    /// The reference runner [default: scripts/bench-diarize.sh of this source tree].
    #[arg(long)]
    pub reference_runner: Option<PathBuf>,
    /// Keep the voxmill project and both RTTMs in this folder (default: a temporary folder, removed at the end).
    #[arg(long)]
    pub keep: Option<PathBuf>,
}
