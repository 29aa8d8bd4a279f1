//! The project catalog, `voxmill.db`: recordings and the result of every stage run, in SQLite (WAL, full sync).
//! Every change is one transaction, so a killed process leaves the catalog as it was before or after the change.
//! The schema is versioned with `PRAGMA user_version` and upgraded by the migrations below, in order.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rusqlite::{Connection, OptionalExtension, Row, TransactionBehavior, params};

use crate::ProjectError;
use crate::phonemes::{ClipPhonemesRow, write_clip_phonemes};
use crate::quality::{ClipQualityRow, ClipValidationRow, write_clip_quality, write_clip_validation};
use crate::word_yield::{WordYield, write_word_yield};

/// Schema migrations; entry `i` takes the schema from version `i` to `i + 1`. Never edit one that has shipped.
const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE recordings (
    id            INTEGER PRIMARY KEY,
    name          TEXT NOT NULL UNIQUE,
    source_path   TEXT NOT NULL,
    stored_path   TEXT NOT NULL,
    sha256        TEXT NOT NULL UNIQUE,
    size_bytes    INTEGER NOT NULL,
    codec         TEXT NOT NULL,
    container     TEXT NOT NULL,
    sample_rate   INTEGER NOT NULL,
    channels      INTEGER NOT NULL,
    duration_secs REAL NOT NULL,
    added_at      REAL NOT NULL
);
CREATE TABLE stage_runs (
    recording_id  INTEGER NOT NULL REFERENCES recordings(id) ON DELETE CASCADE,
    stage         TEXT NOT NULL,
    state         TEXT NOT NULL CHECK (state IN ('done', 'failed')),
    fingerprint   TEXT NOT NULL,
    outputs       TEXT NOT NULL DEFAULT '{}',
    error         TEXT,
    finished_at   REAL NOT NULL,
    elapsed_secs  REAL NOT NULL,
    PRIMARY KEY (recording_id, stage)
);
"#,
    r#"
CREATE TABLE speech_regions (
    recording_id INTEGER NOT NULL REFERENCES recordings(id) ON DELETE CASCADE,
    idx          INTEGER NOT NULL,
    start        REAL NOT NULL,
    end          REAL NOT NULL,
    PRIMARY KEY (recording_id, idx)
);
CREATE TABLE silences (
    recording_id INTEGER NOT NULL REFERENCES recordings(id) ON DELETE CASCADE,
    idx          INTEGER NOT NULL,
    start        REAL NOT NULL,
    end          REAL NOT NULL,
    rms_db       REAL NOT NULL,
    PRIMARY KEY (recording_id, idx)
);
CREATE TABLE segments (
    recording_id      INTEGER NOT NULL REFERENCES recordings(id) ON DELETE CASCADE,
    idx               INTEGER NOT NULL,
    start             REAL NOT NULL,
    end               REAL NOT NULL,
    text              TEXT NOT NULL,
    avg_logprob       REAL NOT NULL,
    no_speech_prob    REAL NOT NULL,
    compression_ratio REAL NOT NULL,
    temperature       REAL NOT NULL,
    PRIMARY KEY (recording_id, idx)
);
CREATE TABLE words (
    recording_id INTEGER NOT NULL REFERENCES recordings(id) ON DELETE CASCADE,
    idx          INTEGER NOT NULL,
    segment_idx  INTEGER NOT NULL,
    start        REAL NOT NULL,
    end          REAL NOT NULL,
    text         TEXT NOT NULL,
    probability  REAL NOT NULL,
    PRIMARY KEY (recording_id, idx)
);
CREATE TABLE clips (
    recording_id INTEGER NOT NULL REFERENCES recordings(id) ON DELETE CASCADE,
    idx          INTEGER NOT NULL,
    name         TEXT NOT NULL UNIQUE,
    start        REAL NOT NULL,
    end          REAL NOT NULL,
    text         TEXT NOT NULL,
    speaker      TEXT NOT NULL,
    path         TEXT NOT NULL,
    PRIMARY KEY (recording_id, idx)
);
"#,
    r#"
CREATE TABLE turns (
    recording_id INTEGER NOT NULL REFERENCES recordings(id) ON DELETE CASCADE,
    idx          INTEGER NOT NULL,
    start        REAL NOT NULL,
    end          REAL NOT NULL,
    speaker      INTEGER NOT NULL,
    PRIMARY KEY (recording_id, idx)
);
CREATE TABLE overlaps (
    recording_id INTEGER NOT NULL REFERENCES recordings(id) ON DELETE CASCADE,
    idx          INTEGER NOT NULL,
    start        REAL NOT NULL,
    end          REAL NOT NULL,
    PRIMARY KEY (recording_id, idx)
);
CREATE TABLE local_speakers (
    recording_id INTEGER NOT NULL REFERENCES recordings(id) ON DELETE CASCADE,
    speaker      INTEGER NOT NULL,
    seconds      REAL NOT NULL,
    centroid     BLOB NOT NULL,
    PRIMARY KEY (recording_id, speaker)
);
CREATE TABLE speaker_windows (
    recording_id INTEGER NOT NULL REFERENCES recordings(id) ON DELETE CASCADE,
    idx          INTEGER NOT NULL,
    start        REAL NOT NULL,
    end          REAL NOT NULL,
    speaker      INTEGER NOT NULL,
    embedding    BLOB NOT NULL,
    PRIMARY KEY (recording_id, idx)
);
CREATE TABLE speakers (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    label        TEXT NOT NULL UNIQUE,
    name         TEXT NOT NULL UNIQUE,
    merged_into  INTEGER REFERENCES speakers(id),
    created_at   REAL NOT NULL
);
CREATE TABLE speaker_members (
    recording_id INTEGER NOT NULL REFERENCES recordings(id) ON DELETE CASCADE,
    speaker      INTEGER NOT NULL,
    speaker_id   INTEGER NOT NULL REFERENCES speakers(id),
    merged_from  INTEGER REFERENCES speakers(id),
    similarity   REAL,
    assigned_by  TEXT NOT NULL,
    PRIMARY KEY (recording_id, speaker)
);
CREATE TABLE file_moves (
    idx          INTEGER PRIMARY KEY,
    from_path    TEXT NOT NULL,
    to_path      TEXT NOT NULL
);
ALTER TABLE clips ADD COLUMN flag TEXT;
"#,
    r#"
ALTER TABLE local_speakers ADD COLUMN channel INTEGER;
"#,
    r#"
CREATE TABLE word_yield (
    recording_id  INTEGER PRIMARY KEY REFERENCES recordings(id) ON DELETE CASCADE,
    asr_words     INTEGER NOT NULL,
    clip_words    INTEGER NOT NULL,
    too_short     INTEGER NOT NULL,
    too_long      INTEGER NOT NULL,
    overlap       INTEGER NOT NULL,
    no_speaker    INTEGER NOT NULL,
    untranscribed INTEGER NOT NULL,
    CHECK (asr_words = clip_words + too_short + too_long + overlap + no_speaker + untranscribed)
);
"#,
    crate::quality::MIGRATION,
    crate::quality::MIGRATION_ENHANCEMENT,
    crate::phonemes::MIGRATION,
    crate::sources::MIGRATION,
    crate::reviews::MIGRATION_TEXT_EDITS,
    crate::training::MIGRATION,
    crate::quality::MIGRATION_UNNORMALISED,
];

/// An open catalog connection. One per thread; SQLite serialises the writers.
#[derive(Debug)]
pub struct Catalog {
    pub(crate) conn: Connection,
    pub(crate) path: PathBuf,
}

/// A registered input.
#[derive(Debug, Clone, PartialEq)]
pub struct Recording {
    pub id: i64,
    /// Safe, unique, readable name; also the name of its `work/` folder.
    pub name: String,
    /// The input as the user gave it (absolute).
    pub source_path: String,
    /// Where voxmill reads it from: the source path, or a path under `sources/` relative to the project.
    pub stored_path: String,
    pub sha256: String,
    pub size_bytes: u64,
    pub codec: String,
    pub container: String,
    pub sample_rate: u32,
    pub channels: u16,
    pub duration_secs: f64,
}

/// What `add` knows about an input before it has an id.
#[derive(Debug, Clone)]
pub struct NewRecording {
    pub name: String,
    pub source_path: String,
    pub stored_path: String,
    pub sha256: String,
    pub size_bytes: u64,
    pub codec: String,
    pub container: String,
    pub sample_rate: u32,
    pub channels: u16,
    pub duration_secs: f64,
}

/// Outcome of the last run of one stage on one recording.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StageState {
    Done,
    Failed,
}

/// The stored result of one stage on one recording.
#[derive(Debug, Clone, PartialEq)]
pub struct StageRun {
    pub recording_id: i64,
    pub stage: String,
    pub state: StageState,
    pub fingerprint: String,
    /// Stage-specific results as JSON (e.g. loudness).
    pub outputs: String,
    pub error: Option<String>,
    pub elapsed_secs: f64,
    /// When it was committed (seconds since the Unix epoch): a stage whose dependency was committed after it was
    /// built on an older result.
    pub finished_at: f64,
}

/// A stretch of speech found by the vad stage (seconds).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SpeechRegionRow {
    pub start: f64,
    pub end: f64,
}

/// A silence found by energy (seconds, mean level in dBFS).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SilenceRow {
    pub start: f64,
    pub end: f64,
    pub rms_db: f64,
}

/// One Whisper segment with its confidence figures.
#[derive(Debug, Clone, PartialEq)]
pub struct SegmentRow {
    pub start: f64,
    pub end: f64,
    pub text: String,
    pub avg_logprob: f64,
    pub no_speech_prob: f64,
    pub compression_ratio: f64,
    pub temperature: f64,
}

/// One word with its timing, the segment it belongs to and its probability.
#[derive(Debug, Clone, PartialEq)]
pub struct WordRow {
    pub segment_idx: usize,
    pub start: f64,
    pub end: f64,
    pub text: String,
    pub probability: f64,
}

/// One clip: its span of the recording, its text, speaker and file (relative to the project).
#[derive(Debug, Clone, PartialEq)]
pub struct ClipRow {
    pub name: String,
    pub start: f64,
    pub end: f64,
    pub text: String,
    pub speaker: String,
    pub path: String,
    /// Why the clip is held back from exports (e.g. `speakers recheck` found it unlike its speaker), if it is.
    pub flag: Option<String>,
}

/// A stretch of one local speaker's speech (seconds); `speaker` numbers the recording's own speakers from 0.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TurnRow {
    pub start: f64,
    pub end: f64,
    pub speaker: u32,
}

/// A speaker of one recording: how long they speak and their voice (an L2-normalised embedding).
#[derive(Debug, Clone, PartialEq)]
pub struct LocalSpeakerRow {
    pub speaker: u32,
    pub seconds: f64,
    pub centroid: Vec<f32>,
    /// The source channel (0-based) this speaker was found on when the recording was diarized by channel; their
    /// clips are cut from it. `None`: found in the mix.
    pub channel: Option<u16>,
}

/// One embedding window of the diarization, kept so clips can be re-scored against their speaker later.
#[derive(Debug, Clone, PartialEq)]
pub struct SpeakerWindowRow {
    pub start: f64,
    pub end: f64,
    pub speaker: u32,
    pub embedding: Vec<f32>,
}

/// What the diarize stage finds in one recording.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Diarization {
    pub turns: Vec<TurnRow>,
    /// Where two or more speakers talk at once (seconds).
    pub overlaps: Vec<(f64, f64)>,
    pub speakers: Vec<LocalSpeakerRow>,
    pub windows: Vec<SpeakerWindowRow>,
}

/// The rows a stage produces, replaced as a whole when the stage re-runs.
#[derive(Debug, Clone, PartialEq)]
pub enum StageRows {
    None,
    /// Replacing a diarization also forgets which project speakers its local speakers were (identify re-runs).
    Diarization(Diarization),
    Vad {
        regions: Vec<SpeechRegionRow>,
        silences: Vec<SilenceRow>,
    },
    Transcript {
        segments: Vec<SegmentRow>,
        words: Vec<WordRow>,
    },
    /// The clips of a recording and what became of every word of its transcript.
    Clips {
        clips: Vec<ClipRow>,
        words: WordYield,
    },
    /// The measures and verdicts of a recording's clips (the qualify stage).
    Quality(Vec<ClipQualityRow>),
    /// The second transcription of each clip (the validate stage).
    Validation(Vec<ClipValidationRow>),
    /// The phonemes of a recording's clips (the phonemize stage).
    Phonemes(Vec<ClipPhonemesRow>),
}

impl Catalog {
    /// Opens (creating if needed) and migrates the catalog at `path`.
    pub fn open(path: &Path) -> Result<Catalog, ProjectError> {
        let wrap = |source| ProjectError::Catalog { path: path.to_path_buf(), source };
        let conn = Connection::open(path).map_err(wrap)?;
        conn.busy_timeout(Duration::from_secs(60)).map_err(wrap)?;
        conn.execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;")
            .map_err(wrap)?;
        let mut catalog = Catalog { conn, path: path.to_path_buf() };
        catalog.migrate()?;
        Ok(catalog)
    }

    pub(crate) fn err(&self, source: rusqlite::Error) -> ProjectError {
        ProjectError::Catalog { path: self.path.clone(), source }
    }

    /// The schema version this build writes.
    pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

    fn migrate(&mut self) -> Result<(), ProjectError> {
        let version: i64 = self.conn.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(|e| self.err(e))?;
        if version > Self::SCHEMA_VERSION {
            return Err(ProjectError::SchemaTooNew {
                path: self.path.clone(),
                found: version,
                known: Self::SCHEMA_VERSION,
            });
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
            let tx =
                self.conn.transaction().map_err(|e| ProjectError::Catalog { path: self.path.clone(), source: e })?;
            tx.execute_batch(sql)
                .and_then(|_| tx.pragma_update(None, "user_version", (i + 1) as i64))
                .and_then(|_| tx.commit())
                .map_err(|e| ProjectError::Catalog { path: self.path.clone(), source: e })?;
        }
        Ok(())
    }

    /// The schema version found on disk.
    pub fn schema_version(&self) -> Result<i64, ProjectError> {
        self.conn.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(|e| self.err(e))
    }

    /// Registers an input; the caller has checked for duplicates under the project lock.
    pub fn insert_recording(&self, new: &NewRecording) -> Result<Recording, ProjectError> {
        let id = insert_recording_in(&self.conn, new).map_err(|e| self.err(e))?;
        Ok(Recording {
            id,
            name: new.name.clone(),
            source_path: new.source_path.clone(),
            stored_path: new.stored_path.clone(),
            sha256: new.sha256.clone(),
            size_bytes: new.size_bytes,
            codec: new.codec.clone(),
            container: new.container.clone(),
            sample_rate: new.sample_rate,
            channels: new.channels,
            duration_secs: new.duration_secs,
        })
    }

    const RECORDING_COLUMNS: &'static str = "id, name, source_path, stored_path, sha256, size_bytes, codec, container,
         sample_rate, channels, duration_secs";

    fn recording_from_row(row: &Row<'_>) -> rusqlite::Result<Recording> {
        Ok(Recording {
            id: row.get(0)?,
            name: row.get(1)?,
            source_path: row.get(2)?,
            stored_path: row.get(3)?,
            sha256: row.get(4)?,
            size_bytes: row.get::<_, i64>(5)? as u64,
            codec: row.get(6)?,
            container: row.get(7)?,
            sample_rate: row.get(8)?,
            channels: row.get(9)?,
            duration_secs: row.get(10)?,
        })
    }

    /// The recording with this content hash, if any.
    pub fn recording_by_sha256(&self, sha256: &str) -> Result<Option<Recording>, ProjectError> {
        let sql = format!("SELECT {} FROM recordings WHERE sha256 = ?1", Self::RECORDING_COLUMNS);
        self.conn.query_row(&sql, [sha256], Self::recording_from_row).optional().map_err(|e| self.err(e))
    }

    /// Whether a recording already uses this name.
    pub fn name_taken(&self, name: &str) -> Result<bool, ProjectError> {
        self.conn
            .query_row("SELECT 1 FROM recordings WHERE name = ?1", [name], |_| Ok(()))
            .optional()
            .map(|r| r.is_some())
            .map_err(|e| self.err(e))
    }

    /// All recordings in the order they were added.
    pub fn recordings(&self) -> Result<Vec<Recording>, ProjectError> {
        let sql = format!("SELECT {} FROM recordings ORDER BY id", Self::RECORDING_COLUMNS);
        let mut stmt = self.conn.prepare(&sql).map_err(|e| self.err(e))?;
        let rows = stmt.query_map([], Self::recording_from_row).map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    /// The last run of `stage` on a recording.
    pub fn stage_run(&self, recording_id: i64, stage: &str) -> Result<Option<StageRun>, ProjectError> {
        self.conn
            .query_row(
                "SELECT recording_id, stage, state, fingerprint, outputs, error, elapsed_secs, finished_at
                 FROM stage_runs WHERE recording_id = ?1 AND stage = ?2",
                params![recording_id, stage],
                |row| {
                    let state: String = row.get(2)?;
                    Ok(StageRun {
                        recording_id: row.get(0)?,
                        stage: row.get(1)?,
                        state: if state == "done" { StageState::Done } else { StageState::Failed },
                        fingerprint: row.get(3)?,
                        outputs: row.get(4)?,
                        error: row.get(5)?,
                        elapsed_secs: row.get(6)?,
                        finished_at: row.get(7)?,
                    })
                },
            )
            .optional()
            .map_err(|e| self.err(e))
    }

    /// Records a stage's success and replaces its rows, in one transaction: a reader (or a run after a crash)
    /// sees the old result or the new one, never a mix.
    pub fn record_done(
        &mut self,
        recording_id: i64,
        stage: &str,
        fingerprint: &str,
        outputs_json: &str,
        elapsed_secs: f64,
        rows: &StageRows,
    ) -> Result<(), ProjectError> {
        let path = self.path.clone();
        let wrap = |source| ProjectError::Catalog { path: path.clone(), source };
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(wrap)?;
        write_rows(&tx, recording_id, rows).map_err(wrap)?;
        upsert_run(&tx, recording_id, stage, "done", fingerprint, outputs_json, None, elapsed_secs).map_err(wrap)?;
        tx.commit().map_err(wrap)
    }

    /// Sets when a stage's stored run counts as committed (a result regenerated unchanged keeps its first time,
    /// so that the stages built on it stay up to date).
    pub fn set_finished_at(&self, recording_id: i64, stage: &str, finished_at: f64) -> Result<(), ProjectError> {
        self.conn
            .execute(
                "UPDATE stage_runs SET finished_at = ?3 WHERE recording_id = ?1 AND stage = ?2",
                params![recording_id, stage, finished_at],
            )
            .map(|_| ())
            .map_err(|e| self.err(e))
    }

    /// Records a stage's failure and its reason.
    pub fn record_failed(
        &self,
        recording_id: i64,
        stage: &str,
        fingerprint: &str,
        error: &str,
        elapsed_secs: f64,
    ) -> Result<(), ProjectError> {
        upsert_run(&self.conn, recording_id, stage, "failed", fingerprint, "{}", Some(error), elapsed_secs)
            .map_err(|e| self.err(e))
    }

    /// Speech regions of a recording, in time order.
    pub fn speech_regions(&self, recording_id: i64) -> Result<Vec<SpeechRegionRow>, ProjectError> {
        self.query("SELECT start, end FROM speech_regions WHERE recording_id = ?1 ORDER BY idx", recording_id, |r| {
            Ok(SpeechRegionRow { start: r.get(0)?, end: r.get(1)? })
        })
    }

    /// Silences of a recording, in time order.
    pub fn silences(&self, recording_id: i64) -> Result<Vec<SilenceRow>, ProjectError> {
        self.query("SELECT start, end, rms_db FROM silences WHERE recording_id = ?1 ORDER BY idx", recording_id, |r| {
            Ok(SilenceRow { start: r.get(0)?, end: r.get(1)?, rms_db: r.get(2)? })
        })
    }

    /// Whisper segments of a recording, in time order.
    pub fn segments(&self, recording_id: i64) -> Result<Vec<SegmentRow>, ProjectError> {
        self.query(
            "SELECT start, end, text, avg_logprob, no_speech_prob, compression_ratio, temperature FROM segments
             WHERE recording_id = ?1 ORDER BY idx",
            recording_id,
            |r| {
                Ok(SegmentRow {
                    start: r.get(0)?,
                    end: r.get(1)?,
                    text: r.get(2)?,
                    avg_logprob: r.get(3)?,
                    no_speech_prob: r.get(4)?,
                    compression_ratio: r.get(5)?,
                    temperature: r.get(6)?,
                })
            },
        )
    }

    /// Words of a recording, in time order.
    pub fn words(&self, recording_id: i64) -> Result<Vec<WordRow>, ProjectError> {
        self.query(
            "SELECT segment_idx, start, end, text, probability FROM words WHERE recording_id = ?1 ORDER BY idx",
            recording_id,
            |r| {
                Ok(WordRow {
                    segment_idx: r.get::<_, i64>(0)? as usize,
                    start: r.get(1)?,
                    end: r.get(2)?,
                    text: r.get(3)?,
                    probability: r.get(4)?,
                })
            },
        )
    }

    /// Clips of a recording, in time order.
    pub fn clips(&self, recording_id: i64) -> Result<Vec<ClipRow>, ProjectError> {
        self.query(
            "SELECT name, start, end, text, speaker, path, flag FROM clips WHERE recording_id = ?1 ORDER BY idx",
            recording_id,
            clip_from_row,
        )
    }

    /// Speaker turns of a recording, in time order.
    pub fn turns(&self, recording_id: i64) -> Result<Vec<TurnRow>, ProjectError> {
        self.query("SELECT start, end, speaker FROM turns WHERE recording_id = ?1 ORDER BY idx", recording_id, |r| {
            Ok(TurnRow { start: r.get(0)?, end: r.get(1)?, speaker: r.get(2)? })
        })
    }

    /// Overlapped speech of a recording, in time order.
    pub fn overlaps(&self, recording_id: i64) -> Result<Vec<(f64, f64)>, ProjectError> {
        self.query("SELECT start, end FROM overlaps WHERE recording_id = ?1 ORDER BY idx", recording_id, |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
    }

    /// The speakers the diarization found in a recording.
    pub fn local_speakers(&self, recording_id: i64) -> Result<Vec<LocalSpeakerRow>, ProjectError> {
        self.query(
            "SELECT speaker, seconds, centroid, channel FROM local_speakers WHERE recording_id = ?1 ORDER BY speaker",
            recording_id,
            |r| {
                Ok(LocalSpeakerRow {
                    speaker: r.get(0)?,
                    seconds: r.get(1)?,
                    centroid: blob_embedding(&r.get::<_, Vec<u8>>(2)?),
                    channel: r.get(3)?,
                })
            },
        )
    }

    /// The diarization's embedding windows of a recording, in time order.
    pub fn speaker_windows(&self, recording_id: i64) -> Result<Vec<SpeakerWindowRow>, ProjectError> {
        self.query(
            "SELECT start, end, speaker, embedding FROM speaker_windows WHERE recording_id = ?1 ORDER BY idx",
            recording_id,
            |r| {
                Ok(SpeakerWindowRow {
                    start: r.get(0)?,
                    end: r.get(1)?,
                    speaker: r.get(2)?,
                    embedding: blob_embedding(&r.get::<_, Vec<u8>>(3)?),
                })
            },
        )
    }

    /// Every clip of the project, recording by recording, in time order.
    pub fn all_clips(&self) -> Result<Vec<ClipRow>, ProjectError> {
        let mut stmt = self
            .conn
            .prepare("SELECT name, start, end, text, speaker, path, flag FROM clips ORDER BY recording_id, idx")
            .map_err(|e| self.err(e))?;
        let rows = stmt.query_map([], clip_from_row).map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    pub(crate) fn query<T>(
        &self,
        sql: &str,
        recording_id: i64,
        map: impl FnMut(&Row<'_>) -> rusqlite::Result<T>,
    ) -> Result<Vec<T>, ProjectError> {
        let mut stmt = self.conn.prepare_cached(sql).map_err(|e| self.err(e))?;
        let rows = stmt.query_map([recording_id], map).map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }
}

fn clip_from_row(r: &Row<'_>) -> rusqlite::Result<ClipRow> {
    Ok(ClipRow {
        name: r.get(0)?,
        start: r.get(1)?,
        end: r.get(2)?,
        text: r.get(3)?,
        speaker: r.get(4)?,
        path: r.get(5)?,
        flag: r.get(6)?,
    })
}

#[allow(clippy::too_many_arguments)]
fn upsert_run(
    conn: &Connection,
    recording_id: i64,
    stage: &str,
    state: &str,
    fingerprint: &str,
    outputs_json: &str,
    error: Option<&str>,
    elapsed_secs: f64,
) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO stage_runs (recording_id, stage, state, fingerprint, outputs, error, finished_at, elapsed_secs)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT (recording_id, stage) DO UPDATE SET
            state = excluded.state, fingerprint = excluded.fingerprint, outputs = excluded.outputs,
            error = excluded.error, finished_at = excluded.finished_at, elapsed_secs = excluded.elapsed_secs",
        params![recording_id, stage, state, fingerprint, outputs_json, error, now(), elapsed_secs],
    )
    .map(|_| ())
}

/// Replaces the rows of the kind `rows` holds for one recording.
fn write_rows(tx: &Connection, rec: i64, rows: &StageRows) -> rusqlite::Result<()> {
    match rows {
        StageRows::None => {}
        StageRows::Vad { regions, silences } => {
            tx.execute("DELETE FROM speech_regions WHERE recording_id = ?1", [rec])?;
            tx.execute("DELETE FROM silences WHERE recording_id = ?1", [rec])?;
            let mut ins = tx.prepare("INSERT INTO speech_regions VALUES (?1, ?2, ?3, ?4)")?;
            for (i, r) in regions.iter().enumerate() {
                ins.execute(params![rec, i as i64, r.start, r.end])?;
            }
            let mut ins = tx.prepare("INSERT INTO silences VALUES (?1, ?2, ?3, ?4, ?5)")?;
            for (i, s) in silences.iter().enumerate() {
                ins.execute(params![rec, i as i64, s.start, s.end, s.rms_db])?;
            }
        }
        StageRows::Transcript { segments, words } => {
            tx.execute("DELETE FROM segments WHERE recording_id = ?1", [rec])?;
            tx.execute("DELETE FROM words WHERE recording_id = ?1", [rec])?;
            let mut ins = tx.prepare("INSERT INTO segments VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)")?;
            for (i, s) in segments.iter().enumerate() {
                ins.execute(params![
                    rec,
                    i as i64,
                    s.start,
                    s.end,
                    s.text,
                    s.avg_logprob,
                    s.no_speech_prob,
                    s.compression_ratio,
                    s.temperature
                ])?;
            }
            let mut ins = tx.prepare("INSERT INTO words VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")?;
            for (i, w) in words.iter().enumerate() {
                ins.execute(params![rec, i as i64, w.segment_idx as i64, w.start, w.end, w.text, w.probability])?;
            }
        }
        StageRows::Diarization(d) => {
            for table in ["turns", "overlaps", "local_speakers", "speaker_windows", "speaker_members"] {
                tx.execute(&format!("DELETE FROM {table} WHERE recording_id = ?1"), [rec])?;
            }
            let mut ins = tx.prepare("INSERT INTO turns VALUES (?1, ?2, ?3, ?4, ?5)")?;
            for (i, t) in d.turns.iter().enumerate() {
                ins.execute(params![rec, i as i64, t.start, t.end, t.speaker])?;
            }
            let mut ins = tx.prepare("INSERT INTO overlaps VALUES (?1, ?2, ?3, ?4)")?;
            for (i, (start, end)) in d.overlaps.iter().enumerate() {
                ins.execute(params![rec, i as i64, start, end])?;
            }
            let mut ins = tx.prepare(
                "INSERT INTO local_speakers (recording_id, speaker, seconds, centroid, channel) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?;
            for s in &d.speakers {
                ins.execute(params![rec, s.speaker, s.seconds, embedding_blob(&s.centroid), s.channel])?;
            }
            let mut ins = tx.prepare("INSERT INTO speaker_windows VALUES (?1, ?2, ?3, ?4, ?5, ?6)")?;
            for (i, w) in d.windows.iter().enumerate() {
                ins.execute(params![rec, i as i64, w.start, w.end, w.speaker, embedding_blob(&w.embedding)])?;
            }
        }
        StageRows::Clips { clips, words } => {
            write_word_yield(tx, rec, words)?;
            tx.execute("DELETE FROM clips WHERE recording_id = ?1", [rec])?;
            let mut ins = tx.prepare("INSERT INTO clips VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)")?;
            for (i, c) in clips.iter().enumerate() {
                ins.execute(params![rec, i as i64, c.name, c.start, c.end, c.text, c.speaker, c.path, c.flag])?;
            }
        }
        StageRows::Quality(rows) => write_clip_quality(tx, rec, rows)?,
        StageRows::Validation(rows) => write_clip_validation(tx, rec, rows)?,
        StageRows::Phonemes(rows) => write_clip_phonemes(tx, rec, rows)?,
    }
    Ok(())
}

/// An embedding as stored: little-endian f32s.
pub(crate) fn embedding_blob(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// The inverse of [`embedding_blob`].
pub(crate) fn blob_embedding(b: &[u8]) -> Vec<f32> {
    b.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect()
}

/// Inserts a recording row (inside the caller's transaction, if any); returns its id.
pub(crate) fn insert_recording_in(conn: &Connection, new: &NewRecording) -> rusqlite::Result<i64> {
    conn.execute(
        "INSERT INTO recordings (name, source_path, stored_path, sha256, size_bytes, codec, container,
             sample_rate, channels, duration_secs, added_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        params![
            new.name,
            new.source_path,
            new.stored_path,
            new.sha256,
            new.size_bytes as i64,
            new.codec,
            new.container,
            new.sample_rate,
            new.channels,
            new.duration_secs,
            now()
        ],
    )?;
    Ok(conn.last_insert_rowid())
}

/// Seconds since the Unix epoch.
pub(crate) fn now_secs() -> f64 {
    now()
}

pub(crate) fn now() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(name: &str, sha: &str) -> NewRecording {
        NewRecording {
            name: name.into(),
            source_path: format!("/in/{name}.wav"),
            stored_path: format!("/in/{name}.wav"),
            sha256: sha.into(),
            size_bytes: 10,
            codec: "pcm_s16le".into(),
            container: "wav".into(),
            sample_rate: 44_100,
            channels: 2,
            duration_secs: 1.5,
        }
    }

    #[test]
    fn migrates_once_and_reopens() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("voxmill.db");
        let c = Catalog::open(&path).unwrap();
        assert_eq!(c.schema_version().unwrap(), Catalog::SCHEMA_VERSION);
        c.insert_recording(&sample("a", "aa")).unwrap();
        drop(c);
        let c = Catalog::open(&path).unwrap();
        assert_eq!(c.recordings().unwrap().len(), 1);
    }

    #[test]
    fn refuses_newer_schema() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("voxmill.db");
        Connection::open(&path).unwrap().pragma_update(None, "user_version", 99).unwrap();
        assert!(matches!(Catalog::open(&path), Err(ProjectError::SchemaTooNew { found: 99, .. })));
    }

    #[test]
    fn duplicate_hash_is_refused_by_schema() {
        let dir = tempfile::tempdir().unwrap();
        let c = Catalog::open(&dir.path().join("voxmill.db")).unwrap();
        c.insert_recording(&sample("a", "same")).unwrap();
        assert!(c.insert_recording(&sample("b", "same")).is_err());
        assert!(c.recording_by_sha256("same").unwrap().is_some());
        assert!(c.name_taken("a").unwrap());
    }

    #[test]
    fn stage_results_replace_each_other() {
        let dir = tempfile::tempdir().unwrap();
        let mut c = Catalog::open(&dir.path().join("voxmill.db")).unwrap();
        let r = c.insert_recording(&sample("a", "aa")).unwrap();
        c.record_failed(r.id, "standardize", "f1", "boom", 0.1).unwrap();
        assert_eq!(c.stage_run(r.id, "standardize").unwrap().unwrap().state, StageState::Failed);
        c.record_done(r.id, "standardize", "f2", "{\"x\":1}", 0.2, &StageRows::None).unwrap();
        let run = c.stage_run(r.id, "standardize").unwrap().unwrap();
        assert_eq!(run.state, StageState::Done);
        assert_eq!(run.fingerprint, "f2");
        assert_eq!(run.error, None);
        assert!(c.stage_run(r.id, "vad").unwrap().is_none());
    }

    #[test]
    fn stage_rows_are_replaced_as_a_whole() {
        let dir = tempfile::tempdir().unwrap();
        let mut c = Catalog::open(&dir.path().join("voxmill.db")).unwrap();
        let r = c.insert_recording(&sample("a", "aa")).unwrap();
        let regions = |n: usize| (0..n).map(|i| SpeechRegionRow { start: i as f64, end: i as f64 + 0.5 }).collect();
        let rows =
            StageRows::Vad { regions: regions(3), silences: vec![SilenceRow { start: 0.5, end: 1.0, rms_db: -60.0 }] };
        c.record_done(r.id, "vad", "f", "{}", 0.0, &rows).unwrap();
        assert_eq!(c.speech_regions(r.id).unwrap().len(), 3);
        c.record_done(r.id, "vad", "g", "{}", 0.0, &StageRows::Vad { regions: regions(2), silences: vec![] }).unwrap();
        assert_eq!(c.speech_regions(r.id).unwrap(), regions(2));
        assert!(c.silences(r.id).unwrap().is_empty());
        let words = vec![WordRow { segment_idx: 0, start: 0.1, end: 0.4, text: "Hi.".into(), probability: 0.9 }];
        let seg = SegmentRow {
            start: 0.0,
            end: 0.5,
            text: "Hi.".into(),
            avg_logprob: -0.2,
            no_speech_prob: 0.01,
            compression_ratio: 1.0,
            temperature: 0.0,
        };
        c.record_done(
            r.id,
            "transcribe",
            "t",
            "{}",
            0.0,
            &StageRows::Transcript { segments: vec![seg], words: words.clone() },
        )
        .unwrap();
        assert_eq!(c.words(r.id).unwrap(), words);
        assert_eq!(c.segments(r.id).unwrap().len(), 1);
    }
}
