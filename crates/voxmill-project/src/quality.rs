//! What the qualify stage stores per clip: every measure, the verdict of the gates and each failing reason. The
//! rows of one recording are replaced as a whole when the stage re-runs; manual decisions live apart from them
//! ([`crate::reviews`]), so no re-run can undo one.

use rusqlite::{Row, params};

use crate::{Catalog, ProjectError};

/// Whether a clip goes into the dataset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Verdict {
    Accepted,
    Rejected,
}

impl Verdict {
    /// The stored and printed name: `accepted` or `rejected`.
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Accepted => "accepted",
            Verdict::Rejected => "rejected",
        }
    }

    /// The inverse of [`Verdict::name`].
    pub fn parse(name: &str) -> Option<Verdict> {
        match name {
            "accepted" => Some(Verdict::Accepted),
            "rejected" => Some(Verdict::Rejected),
            _ => None,
        }
    }
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Every measure of one clip. Names are the catalog's columns, the keys of `voxmill review --json` and the first
/// word of a reason. `None`: not measured (DNSMOS off, no words, language not detected, silence).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ClipMeasures {
    /// Seconds.
    pub duration: f64,
    /// DNSMOS P.835 speech signal, background and overall scores, and the P.808 score (1-5).
    pub dnsmos_sig: Option<f64>,
    pub dnsmos_bak: Option<f64>,
    pub dnsmos_ovrl: Option<f64>,
    pub dnsmos_p808: Option<f64>,
    /// Speech-to-pause SNR (dB).
    pub snr: f64,
    /// Share of samples within 5 % of the peak (0-1).
    pub clipping: f64,
    /// Peak sample (dBFS).
    pub peak: f64,
    /// EBU R128 integrated loudness (LUFS).
    pub loudness: Option<f64>,
    /// Effective bandwidth (Hz).
    pub bandwidth: f64,
    /// Letters and digits of the text per second of clip.
    pub speaking_rate: f64,
    /// Words of the text per second of clip.
    pub words_per_sec: f64,
    /// Letters and digits in the text.
    pub text_length: f64,
    /// Most back-to-back repeats of one 1-4 word sequence (1: nothing repeats).
    pub ngram_repeats: f64,
    /// Kinds of digits or symbols the normaliser of the clip's language left as written (times, a language without
    /// number rules, …): the normalised text would not say them. `None` for clips measured before it was taken.
    pub unnormalised: Option<f64>,
    /// Mean and lowest Whisper probability of the clip's words.
    pub word_probability: Option<f64>,
    pub word_probability_min: Option<f64>,
    /// Lowest average log-probability and highest compression ratio of the Whisper segments the words come from.
    pub avg_logprob: Option<f64>,
    pub compression_ratio: Option<f64>,
    /// The recording's language and the probability Whisper gave it.
    pub language: Option<String>,
    pub language_probability: Option<f64>,
    /// Agreement (0-100) of the clip's text with Whisper's second transcription of the clip alone, and that
    /// transcription (the validate stage; `None` when it did not run).
    pub validation: Option<f64>,
    pub validation_text: Option<String>,
    /// Speaker purity: cosine similarity of the clip's voice (its diarization windows) to its project speaker's
    /// voice when the clip was qualified, as `voxmill speakers recheck` scores it; `None` for a clip with no window.
    pub purity: Option<f64>,
    /// DNSMOS P.835 SIG/BAK/OVRL of the clip's span in the 16 kHz working audio before and after the enhance stage
    /// (`None` when enhancement or DNSMOS is off): what the denoiser did to this clip, whichever audio it was cut from.
    pub dnsmos_sig_before: Option<f64>,
    pub dnsmos_bak_before: Option<f64>,
    pub dnsmos_ovrl_before: Option<f64>,
    pub dnsmos_sig_after: Option<f64>,
    pub dnsmos_bak_after: Option<f64>,
    pub dnsmos_ovrl_after: Option<f64>,
}

impl ClipMeasures {
    /// Every numeric measure with its name, in the order listings show them.
    pub fn numeric(&self) -> [(&'static str, Option<f64>); 28] {
        [
            ("duration", Some(self.duration)),
            ("dnsmos_sig", self.dnsmos_sig),
            ("dnsmos_bak", self.dnsmos_bak),
            ("dnsmos_ovrl", self.dnsmos_ovrl),
            ("dnsmos_p808", self.dnsmos_p808),
            ("snr", Some(self.snr)),
            ("clipping", Some(self.clipping)),
            ("peak", Some(self.peak)),
            ("loudness", self.loudness),
            ("bandwidth", Some(self.bandwidth)),
            ("speaking_rate", Some(self.speaking_rate)),
            ("words_per_sec", Some(self.words_per_sec)),
            ("text_length", Some(self.text_length)),
            ("ngram_repeats", Some(self.ngram_repeats)),
            ("unnormalised", self.unnormalised),
            ("word_probability", self.word_probability),
            ("word_probability_min", self.word_probability_min),
            ("avg_logprob", self.avg_logprob),
            ("compression_ratio", self.compression_ratio),
            ("language_probability", self.language_probability),
            ("validation", self.validation),
            ("purity", self.purity),
            ("dnsmos_sig_before", self.dnsmos_sig_before),
            ("dnsmos_bak_before", self.dnsmos_bak_before),
            ("dnsmos_ovrl_before", self.dnsmos_ovrl_before),
            ("dnsmos_sig_after", self.dnsmos_sig_after),
            ("dnsmos_bak_after", self.dnsmos_bak_after),
            ("dnsmos_ovrl_after", self.dnsmos_ovrl_after),
        ]
    }
}

/// The qualify stage's result for one clip.
#[derive(Debug, Clone, PartialEq)]
pub struct ClipQualityRow {
    /// The clip's name (`<recording>-NNNNN`).
    pub clip: String,
    /// Identifies the audio and the way it was measured (hash of the clip file, measure version, DNSMOS model), so
    /// a re-run can keep measures of unchanged audio and only re-judge them.
    pub audio_key: String,
    pub measures: ClipMeasures,
    /// The gates' verdict (manual decisions are stored apart).
    pub verdict: Verdict,
    /// Every failing gate, each starting with the measure's name, then its value and the limit
    /// (`dnsmos_ovrl 2.41 < 3.0`).
    pub reasons: Vec<String>,
}

const COLUMNS: &str = "clip, audio_key, duration, dnsmos_sig, dnsmos_bak, dnsmos_ovrl, dnsmos_p808, snr, clipping,
    peak, loudness, bandwidth, speaking_rate, words_per_sec, text_length, ngram_repeats, word_probability,
    word_probability_min, avg_logprob, compression_ratio, language, language_probability, validation, validation_text, purity, verdict, reasons,
    dnsmos_sig_before, dnsmos_bak_before, dnsmos_ovrl_before, dnsmos_sig_after, dnsmos_bak_after, dnsmos_ovrl_after,
    unnormalised";

/// The migration that adds the count of what the text normaliser could not read.
pub(crate) const MIGRATION_UNNORMALISED: &str = "ALTER TABLE clip_quality ADD COLUMN unnormalised REAL;";

/// The migration that adds DNSMOS before and after enhancement.
pub(crate) const MIGRATION_ENHANCEMENT: &str = r#"
ALTER TABLE clip_quality ADD COLUMN dnsmos_sig_before REAL;
ALTER TABLE clip_quality ADD COLUMN dnsmos_bak_before REAL;
ALTER TABLE clip_quality ADD COLUMN dnsmos_ovrl_before REAL;
ALTER TABLE clip_quality ADD COLUMN dnsmos_sig_after REAL;
ALTER TABLE clip_quality ADD COLUMN dnsmos_bak_after REAL;
ALTER TABLE clip_quality ADD COLUMN dnsmos_ovrl_after REAL;
"#;

/// The migration that adds the tables (quality measures, manual decisions).
pub(crate) const MIGRATION: &str = r#"
CREATE TABLE clip_quality (
    recording_id         INTEGER NOT NULL REFERENCES recordings(id) ON DELETE CASCADE,
    clip                 TEXT NOT NULL,
    audio_key            TEXT NOT NULL,
    duration             REAL NOT NULL,
    dnsmos_sig           REAL,
    dnsmos_bak           REAL,
    dnsmos_ovrl          REAL,
    dnsmos_p808          REAL,
    snr                  REAL NOT NULL,
    clipping             REAL NOT NULL,
    peak                 REAL NOT NULL,
    loudness             REAL,
    bandwidth            REAL NOT NULL,
    speaking_rate        REAL NOT NULL,
    words_per_sec        REAL NOT NULL,
    text_length          REAL NOT NULL,
    ngram_repeats        REAL NOT NULL,
    word_probability     REAL,
    word_probability_min REAL,
    avg_logprob          REAL,
    compression_ratio    REAL,
    language             TEXT,
    language_probability REAL,
    validation           REAL,
    validation_text      TEXT,
    purity               REAL,
    verdict              TEXT NOT NULL CHECK (verdict IN ('accepted', 'rejected')),
    reasons              TEXT NOT NULL,
    PRIMARY KEY (recording_id, clip)
);
CREATE TABLE clip_reviews (
    clip          TEXT PRIMARY KEY,
    recording_id  INTEGER NOT NULL REFERENCES recordings(id) ON DELETE CASCADE,
    start         REAL NOT NULL,
    end           REAL NOT NULL,
    verdict       TEXT NOT NULL CHECK (verdict IN ('accepted', 'rejected')),
    note          TEXT,
    decided_at    REAL NOT NULL
);
CREATE TABLE clip_validation (
    recording_id  INTEGER NOT NULL REFERENCES recordings(id) ON DELETE CASCADE,
    clip          TEXT NOT NULL,
    text          TEXT NOT NULL,
    PRIMARY KEY (recording_id, clip)
);
"#;

fn row_from(r: &Row<'_>) -> rusqlite::Result<ClipQualityRow> {
    let verdict: String = r.get(25)?;
    let reasons: String = r.get(26)?;
    Ok(ClipQualityRow {
        clip: r.get(0)?,
        audio_key: r.get(1)?,
        measures: ClipMeasures {
            duration: r.get(2)?,
            dnsmos_sig: r.get(3)?,
            dnsmos_bak: r.get(4)?,
            dnsmos_ovrl: r.get(5)?,
            dnsmos_p808: r.get(6)?,
            snr: r.get(7)?,
            clipping: r.get(8)?,
            peak: r.get(9)?,
            loudness: r.get(10)?,
            bandwidth: r.get(11)?,
            speaking_rate: r.get(12)?,
            words_per_sec: r.get(13)?,
            text_length: r.get(14)?,
            ngram_repeats: r.get(15)?,
            word_probability: r.get(16)?,
            word_probability_min: r.get(17)?,
            avg_logprob: r.get(18)?,
            compression_ratio: r.get(19)?,
            language: r.get(20)?,
            language_probability: r.get(21)?,
            validation: r.get(22)?,
            validation_text: r.get(23)?,
            purity: r.get(24)?,
            dnsmos_sig_before: r.get(27)?,
            dnsmos_bak_before: r.get(28)?,
            dnsmos_ovrl_before: r.get(29)?,
            dnsmos_sig_after: r.get(30)?,
            dnsmos_bak_after: r.get(31)?,
            dnsmos_ovrl_after: r.get(32)?,
            unnormalised: r.get(33)?,
        },
        verdict: Verdict::parse(&verdict).unwrap_or(Verdict::Rejected),
        reasons: serde_json::from_str(&reasons).unwrap_or_else(|_| vec![reasons]),
    })
}

/// Replaces the quality rows of a recording (inside the caller's transaction).
pub(crate) fn write_clip_quality(tx: &rusqlite::Connection, rec: i64, rows: &[ClipQualityRow]) -> rusqlite::Result<()> {
    tx.execute("DELETE FROM clip_quality WHERE recording_id = ?1", [rec])?;
    let mut ins = tx.prepare(&format!(
        "INSERT INTO clip_quality (recording_id, {COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11,
             ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28, ?29, ?30, ?31,
             ?32, ?33, ?34, ?35)"
    ))?;
    for q in rows {
        let m = &q.measures;
        let reasons = serde_json::to_string(&q.reasons).expect("strings serialise");
        ins.execute(params![
            rec,
            q.clip,
            q.audio_key,
            m.duration,
            m.dnsmos_sig,
            m.dnsmos_bak,
            m.dnsmos_ovrl,
            m.dnsmos_p808,
            m.snr,
            m.clipping,
            m.peak,
            m.loudness,
            m.bandwidth,
            m.speaking_rate,
            m.words_per_sec,
            m.text_length,
            m.ngram_repeats,
            m.word_probability,
            m.word_probability_min,
            m.avg_logprob,
            m.compression_ratio,
            m.language,
            m.language_probability,
            m.validation,
            m.validation_text,
            m.purity,
            q.verdict.name(),
            reasons,
            m.dnsmos_sig_before,
            m.dnsmos_bak_before,
            m.dnsmos_ovrl_before,
            m.dnsmos_sig_after,
            m.dnsmos_bak_after,
            m.dnsmos_ovrl_after,
            m.unnormalised,
        ])?;
    }
    Ok(())
}

/// The validate stage's second transcription of one clip.
#[derive(Debug, Clone, PartialEq)]
pub struct ClipValidationRow {
    /// The clip's name.
    pub clip: String,
    /// What Whisper heard in the clip alone.
    pub text: String,
}

/// Replaces the second transcriptions of a recording (inside the caller's transaction).
pub(crate) fn write_clip_validation(
    tx: &rusqlite::Connection,
    rec: i64,
    rows: &[ClipValidationRow],
) -> rusqlite::Result<()> {
    tx.execute("DELETE FROM clip_validation WHERE recording_id = ?1", [rec])?;
    let mut ins = tx.prepare("INSERT INTO clip_validation (recording_id, clip, text) VALUES (?1, ?2, ?3)")?;
    for v in rows {
        ins.execute(params![rec, v.clip, v.text])?;
    }
    Ok(())
}

impl Catalog {
    /// The second transcriptions of one recording's clips (none when validation is off).
    pub fn clip_validation(&self, recording_id: i64) -> Result<Vec<ClipValidationRow>, ProjectError> {
        self.query("SELECT clip, text FROM clip_validation WHERE recording_id = ?1 ORDER BY clip", recording_id, |r| {
            Ok(ClipValidationRow { clip: r.get(0)?, text: r.get(1)? })
        })
    }

    /// The quality rows of one recording, in clip order.
    pub fn clip_quality(&self, recording_id: i64) -> Result<Vec<ClipQualityRow>, ProjectError> {
        let sql = format!("SELECT {COLUMNS} FROM clip_quality WHERE recording_id = ?1 ORDER BY clip");
        self.query(&sql, recording_id, row_from)
    }

    /// Every quality row of the project, by clip name.
    pub fn all_clip_quality(&self) -> Result<std::collections::HashMap<String, ClipQualityRow>, ProjectError> {
        let mut stmt = self.conn.prepare(&format!("SELECT {COLUMNS} FROM clip_quality")).map_err(|e| self.err(e))?;
        let rows = stmt.query_map([], row_from).map_err(|e| self.err(e))?;
        rows.map(|r| r.map(|q| (q.clip.clone(), q))).collect::<Result<_, _>>().map_err(|e| self.err(e))
    }
}
