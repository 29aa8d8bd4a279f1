//! From a dataset to a voice: everything voxmill needs to run a TTS trainer, with no Python in voxmill itself.
//!
//! * [`env`]: the trainer's isolated Python environment under `$VOXMILL_HOME/trainers/`, installed from a committed,
//!   hash-pinned lock file (`locks/`), once per lock;
//! * [`recipe`]: what is trained and how (Piper, MMS/VITS), and the exact command lines;
//! * [`events`]: the trainer's progress, read from the events file the driver script writes;
//! * [`checkpoints`]: which checkpoint a run resumes from, pruning, disk use;
//! * [`process`]: the trainer as a child process that dies with voxmill and stops gracefully;
//! * [`disk`]: free space checks before gigabytes are written.
//!
//! The catalog state of training runs lives in `voxmill-project` (`training.rs`); the orchestration that exports the
//! clips, prepares the environment and supervises the trainer is `voxmill_pipeline::train`.

pub mod checkpoints;
pub mod disk;
pub mod env;
mod error;
pub mod events;
pub mod process;
pub mod recipe;

pub use error::TrainError;
