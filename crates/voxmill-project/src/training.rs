//! Training runs (`voxmill train`): one row per run, with what it was asked to do, where it is (state, step,
//! epoch), which processes run it and the voice it made. Each change is one statement, so a killed voxmill leaves
//! the row as it was; a row that says `running` whose process is gone is a run that was interrupted, and
//! `voxmill train P --resume` continues it.

use rusqlite::{OptionalExtension, Row, params};
use serde::Serialize;

use crate::catalog::now_secs;
use crate::{Catalog, ProjectError};

/// The migration that adds the table.
pub(crate) const MIGRATION: &str = r#"
CREATE TABLE train_runs (
    id            INTEGER PRIMARY KEY,
    name          TEXT NOT NULL UNIQUE,
    recipe        TEXT NOT NULL,
    state         TEXT NOT NULL CHECK (state IN ('preparing', 'running', 'stopped', 'failed', 'finished')),
    options       TEXT NOT NULL,
    dir           TEXT NOT NULL,
    clips         INTEGER NOT NULL DEFAULT 0,
    clip_secs     REAL NOT NULL DEFAULT 0,
    step          INTEGER NOT NULL DEFAULT 0,
    epoch         INTEGER NOT NULL DEFAULT 0,
    pid           INTEGER,
    trainer_pid   INTEGER,
    voice         TEXT,
    error         TEXT,
    created_at    REAL NOT NULL,
    updated_at    REAL NOT NULL
);
"#;

/// Where a training run is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TrainState {
    /// Exporting the clips or installing the trainer.
    Preparing,
    Running,
    /// Stopped on request (`voxmill train P stop`, Ctrl-C) after saving a checkpoint.
    Stopped,
    Failed,
    /// Trained to its limit and the voice exported.
    Finished,
}

impl TrainState {
    pub fn as_str(self) -> &'static str {
        match self {
            TrainState::Preparing => "preparing",
            TrainState::Running => "running",
            TrainState::Stopped => "stopped",
            TrainState::Failed => "failed",
            TrainState::Finished => "finished",
        }
    }

    fn parse(s: &str) -> TrainState {
        match s {
            "preparing" => TrainState::Preparing,
            "running" => TrainState::Running,
            "stopped" => TrainState::Stopped,
            "finished" => TrainState::Finished,
            _ => TrainState::Failed,
        }
    }

    /// Whether a process should be working on the run (when none is, the run was interrupted).
    pub fn is_active(self) -> bool {
        matches!(self, TrainState::Preparing | TrainState::Running)
    }
}

/// One training run as the catalog holds it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrainRunRow {
    /// `<recipe>-<n>`, also the run's folder under `training/`.
    pub name: String,
    pub recipe: String,
    pub state: TrainState,
    /// The options the run was started with (JSON, as the orchestration writes them).
    pub options: serde_json::Value,
    /// The run's folder.
    pub dir: String,
    /// Clips and seconds of audio in the run's dataset.
    pub clips: u64,
    pub clip_secs: f64,
    pub step: u64,
    pub epoch: u64,
    /// The voxmill process supervising the run, and the trainer it started, while they run.
    pub pid: Option<u32>,
    pub trainer_pid: Option<u32>,
    /// The exported voice (`voices/<name>.onnx`), once there is one.
    pub voice: Option<String>,
    pub error: Option<String>,
    pub created_at: f64,
    pub updated_at: f64,
}

const COLUMNS: &str =
    "name, recipe, state, options, dir, clips, clip_secs, step, epoch, pid, trainer_pid, voice, error,
    created_at, updated_at";

fn from_row(r: &Row<'_>) -> rusqlite::Result<TrainRunRow> {
    let state: String = r.get(2)?;
    let options: String = r.get(3)?;
    Ok(TrainRunRow {
        name: r.get(0)?,
        recipe: r.get(1)?,
        state: TrainState::parse(&state),
        options: serde_json::from_str(&options).unwrap_or(serde_json::Value::Null),
        dir: r.get(4)?,
        clips: r.get::<_, i64>(5)?.max(0) as u64,
        clip_secs: r.get(6)?,
        step: r.get::<_, i64>(7)?.max(0) as u64,
        epoch: r.get::<_, i64>(8)?.max(0) as u64,
        pid: r.get::<_, Option<i64>>(9)?.map(|p| p as u32),
        trainer_pid: r.get::<_, Option<i64>>(10)?.map(|p| p as u32),
        voice: r.get(11)?,
        error: r.get(12)?,
        created_at: r.get(13)?,
        updated_at: r.get(14)?,
    })
}

impl Catalog {
    /// Creates a run named `<recipe>-<n>` (n one more than the recipe's highest so far) in state `preparing`,
    /// owned by this process; `dir_of(name)` gives its folder.
    pub fn create_train_run(
        &self,
        recipe: &str,
        options: &serde_json::Value,
        dir_of: &dyn Fn(&str) -> String,
    ) -> Result<TrainRunRow, ProjectError> {
        let tx = self.conn.unchecked_transaction().map_err(|e| self.err(e))?;
        let prefix = format!("{recipe}-");
        let mut stmt = tx.prepare("SELECT name FROM train_runs WHERE recipe = ?1").map_err(|e| self.err(e))?;
        let highest = stmt
            .query_map([recipe], |r| r.get::<_, String>(0))
            .map_err(|e| self.err(e))?
            .filter_map(|n| n.ok()?.strip_prefix(&prefix)?.parse::<u64>().ok())
            .max()
            .unwrap_or(0);
        drop(stmt);
        let name = format!("{prefix}{}", highest + 1);
        let now = now_secs();
        tx.execute(
            "INSERT INTO train_runs (name, recipe, state, options, dir, pid, created_at, updated_at)
             VALUES (?1, ?2, 'preparing', ?3, ?4, ?5, ?6, ?6)",
            params![name, recipe, options.to_string(), dir_of(&name), std::process::id(), now],
        )
        .map_err(|e| self.err(e))?;
        tx.commit().map_err(|e| self.err(e))?;
        Ok(self.train_run(&name)?.expect("the run just inserted"))
    }

    /// The run called `name`.
    pub fn train_run(&self, name: &str) -> Result<Option<TrainRunRow>, ProjectError> {
        self.conn
            .query_row(&format!("SELECT {COLUMNS} FROM train_runs WHERE name = ?1"), [name], from_row)
            .optional()
            .map_err(|e| self.err(e))
    }

    /// Every run, oldest first.
    pub fn train_runs(&self) -> Result<Vec<TrainRunRow>, ProjectError> {
        let mut stmt = self
            .conn
            .prepare(&format!("SELECT {COLUMNS} FROM train_runs ORDER BY created_at, id"))
            .map_err(|e| self.err(e))?;
        let rows = stmt.query_map([], from_row).map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    /// Moves a run to `state`: this process owns an active run (`pid`); any other state releases it and records
    /// `error` (`None` clears it).
    pub fn set_train_state(&self, name: &str, state: TrainState, error: Option<&str>) -> Result<(), ProjectError> {
        let pid = state.is_active().then(std::process::id);
        self.conn
            .execute(
                "UPDATE train_runs SET state = ?2, error = ?3, pid = ?4,
                     trainer_pid = CASE WHEN ?4 IS NULL THEN NULL ELSE trainer_pid END, updated_at = ?5
                 WHERE name = ?1",
                params![name, state.as_str(), error, pid, now_secs()],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Records the trainer process (`None` when it has exited).
    pub fn set_train_trainer_pid(&self, name: &str, pid: Option<u32>) -> Result<(), ProjectError> {
        self.conn
            .execute(
                "UPDATE train_runs SET trainer_pid = ?2, updated_at = ?3 WHERE name = ?1",
                params![name, pid, now_secs()],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Records how far training has come.
    pub fn set_train_progress(&self, name: &str, step: u64, epoch: u64) -> Result<(), ProjectError> {
        self.conn
            .execute(
                "UPDATE train_runs SET step = ?2, epoch = ?3, updated_at = ?4 WHERE name = ?1",
                params![name, step as i64, epoch as i64, now_secs()],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Records the run's dataset size.
    pub fn set_train_dataset(&self, name: &str, clips: u64, clip_secs: f64) -> Result<(), ProjectError> {
        self.conn
            .execute(
                "UPDATE train_runs SET clips = ?2, clip_secs = ?3, updated_at = ?4 WHERE name = ?1",
                params![name, clips as i64, clip_secs, now_secs()],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Records the exported voice.
    pub fn set_train_voice(&self, name: &str, voice: &str) -> Result<(), ProjectError> {
        self.conn
            .execute(
                "UPDATE train_runs SET voice = ?2, updated_at = ?3 WHERE name = ?1",
                params![name, voice, now_secs()],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Replaces a run's options (a resume may raise its limits).
    pub fn set_train_options(&self, name: &str, options: &serde_json::Value) -> Result<(), ProjectError> {
        self.conn
            .execute(
                "UPDATE train_runs SET options = ?2, updated_at = ?3 WHERE name = ?1",
                params![name, options.to_string(), now_secs()],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_are_numbered_per_recipe_and_move_through_their_states() {
        let dir = tempfile::tempdir().unwrap();
        let catalog = Catalog::open(&dir.path().join("voxmill.db")).unwrap();
        let options = serde_json::json!({"max_steps": 2});
        let dir_of = |n: &str| format!("/p/training/{n}");
        let a = catalog.create_train_run("piper", &options, &dir_of).unwrap();
        let b = catalog.create_train_run("piper", &options, &dir_of).unwrap();
        assert_eq!((a.name.as_str(), b.name.as_str()), ("piper-1", "piper-2"));
        assert_eq!(a.state, TrainState::Preparing);
        assert_eq!(a.pid, Some(std::process::id()));
        assert_eq!(a.dir, "/p/training/piper-1");
        assert_eq!(a.options, options);

        catalog.set_train_state("piper-1", TrainState::Running, None).unwrap();
        catalog.set_train_trainer_pid("piper-1", Some(4242)).unwrap();
        catalog.set_train_progress("piper-1", 17, 2).unwrap();
        catalog.set_train_dataset("piper-1", 8, 30.5).unwrap();
        let r = catalog.train_run("piper-1").unwrap().unwrap();
        assert_eq!((r.step, r.epoch, r.clips, r.trainer_pid), (17, 2, 8, Some(4242)));

        catalog.set_train_state("piper-1", TrainState::Failed, Some("trainer crashed")).unwrap();
        let r = catalog.train_run("piper-1").unwrap().unwrap();
        assert_eq!((r.state, r.pid, r.trainer_pid), (TrainState::Failed, None, None), "a finished state releases it");
        assert_eq!(r.error.as_deref(), Some("trainer crashed"));
        catalog.set_train_state("piper-1", TrainState::Finished, None).unwrap();
        catalog.set_train_voice("piper-1", "/p/voices/alice.onnx").unwrap();
        let r = catalog.train_run("piper-1").unwrap().unwrap();
        assert_eq!((r.error, r.voice.as_deref()), (None, Some("/p/voices/alice.onnx")));

        let names: Vec<String> = catalog.train_runs().unwrap().into_iter().map(|r| r.name).collect();
        assert_eq!(names, ["piper-1", "piper-2"]);
        assert!(catalog.train_run("piper-9").unwrap().is_none());
    }
}
