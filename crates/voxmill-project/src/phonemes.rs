//! What the phonemize stage stores per clip: Piper's phonemes of the clip's text (espeak-ng IPA, one sentence a
//! line), the espeak-ng voice that made them and the text they were made from. The rows of one recording are
//! replaced as a whole when the stage re-runs, as the qualify stage's are, and go with their recording.
//!
//! A clip recut since (the segment stage ran again, the phonemize stage not yet, or it failed) may keep its name
//! with another text: phonemes are only ever handed out for a clip whose text is still the text they were made
//! from ([`ClipPhonemesRow::of`]), so no reader sees phonemes of words a clip no longer holds.

use std::collections::HashMap;

use rusqlite::params;

use crate::{Catalog, ClipRow, ProjectError};

/// The migration that adds the table.
pub(crate) const MIGRATION: &str = r#"
CREATE TABLE clip_phonemes (
    recording_id  INTEGER NOT NULL REFERENCES recordings(id) ON DELETE CASCADE,
    clip          TEXT NOT NULL,
    text          TEXT NOT NULL,
    voice         TEXT NOT NULL,
    phonemes      TEXT NOT NULL,
    PRIMARY KEY (recording_id, clip)
);
"#;

/// The phonemize stage's result for one clip.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClipPhonemesRow {
    /// The clip's name (`<recording>-NNNNN`).
    pub clip: String,
    /// The clip's text (as the catalog's `clips` row had it) when it was phonemized.
    pub text: String,
    /// The espeak-ng voice (`en-us`, `de`, …).
    pub voice: String,
    /// The phonemes, one sentence a line (what Piper's trainer writes to an utterance's `phonemes.txt`).
    pub phonemes: String,
}

impl ClipPhonemesRow {
    /// These phonemes if they were made from `clip`'s current text, else `None` (the clip was recut since).
    pub fn of(self, clip: &ClipRow) -> Option<ClipPhonemesRow> {
        (self.clip == clip.name && self.text == clip.text).then_some(self)
    }
}

/// Replaces the phonemes of a recording's clips (inside the caller's transaction).
pub(crate) fn write_clip_phonemes(
    tx: &rusqlite::Connection,
    rec: i64,
    rows: &[ClipPhonemesRow],
) -> rusqlite::Result<()> {
    tx.execute("DELETE FROM clip_phonemes WHERE recording_id = ?1", [rec])?;
    let mut ins = tx
        .prepare("INSERT INTO clip_phonemes (recording_id, clip, text, voice, phonemes) VALUES (?1, ?2, ?3, ?4, ?5)")?;
    for p in rows {
        ins.execute(params![rec, p.clip, p.text, p.voice, p.phonemes])?;
    }
    Ok(())
}

fn row_from(r: &rusqlite::Row<'_>) -> rusqlite::Result<ClipPhonemesRow> {
    Ok(ClipPhonemesRow { clip: r.get(0)?, text: r.get(1)?, voice: r.get(2)?, phonemes: r.get(3)? })
}

impl Catalog {
    /// The stored phonemes of one recording's clips, by clip name (also those of clips recut since: see
    /// [`ClipPhonemesRow::of`]).
    pub fn clip_phonemes(&self, recording_id: i64) -> Result<Vec<ClipPhonemesRow>, ProjectError> {
        self.query(
            "SELECT clip, text, voice, phonemes FROM clip_phonemes WHERE recording_id = ?1 ORDER BY clip",
            recording_id,
            row_from,
        )
    }

    /// Every stored phoneme row of the project, by clip name.
    pub fn all_clip_phonemes(&self) -> Result<HashMap<String, ClipPhonemesRow>, ProjectError> {
        let mut stmt =
            self.conn.prepare("SELECT clip, text, voice, phonemes FROM clip_phonemes").map_err(|e| self.err(e))?;
        let rows = stmt.query_map([], row_from).map_err(|e| self.err(e))?;
        rows.map(|r| r.map(|p| (p.clip.clone(), p))).collect::<Result<_, _>>().map_err(|e| self.err(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{NewRecording, StageRows, WordYield};

    fn catalog() -> (tempfile::TempDir, Catalog) {
        let dir = tempfile::tempdir().unwrap();
        let c = Catalog::open(&dir.path().join("voxmill.db")).unwrap();
        (dir, c)
    }

    fn recording(c: &Catalog, name: &str) -> i64 {
        c.insert_recording(&NewRecording {
            name: name.into(),
            source_path: format!("/in/{name}.wav"),
            stored_path: format!("/in/{name}.wav"),
            sha256: name.into(),
            size_bytes: 1,
            codec: "pcm_s16le".into(),
            container: "wav".into(),
            sample_rate: 16_000,
            channels: 1,
            duration_secs: 10.0,
        })
        .unwrap()
        .id
    }

    fn clip(name: &str, text: &str) -> ClipRow {
        ClipRow {
            name: name.into(),
            start: 0.0,
            end: 2.0,
            text: text.into(),
            speaker: "spk001".into(),
            path: format!("clips/spk001/{name}.wav"),
            flag: None,
        }
    }

    fn phonemes(name: &str, text: &str, phonemes: &str) -> ClipPhonemesRow {
        ClipPhonemesRow { clip: name.into(), text: text.into(), voice: "en-us".into(), phonemes: phonemes.into() }
    }

    #[test]
    fn rows_are_replaced_per_recording_and_go_with_it() {
        let (_dir, mut c) = catalog();
        let (a, b) = (recording(&c, "a"), recording(&c, "b"));
        let rows = |r: Vec<ClipPhonemesRow>| StageRows::Phonemes(r);
        c.record_done(a, "phonemize", "f", "{}", 0.0, &rows(vec![phonemes("a-00000", "Hi.", "hˈaɪ.")])).unwrap();
        c.record_done(b, "phonemize", "f", "{}", 0.0, &rows(vec![phonemes("b-00000", "Yes.", "jˈɛs.")])).unwrap();
        let two = vec![phonemes("a-00000", "Hi.", "hˈaɪ."), phonemes("a-00001", "No.", "nˈoʊ.")];
        c.record_done(a, "phonemize", "g", "{}", 0.0, &rows(two.clone())).unwrap();
        assert_eq!(c.clip_phonemes(a).unwrap(), two);
        assert_eq!(c.all_clip_phonemes().unwrap().len(), 3);
        // Off: the recording's rows go, the other recording's stay.
        c.record_done(a, "phonemize", "h", "{}", 0.0, &rows(Vec::new())).unwrap();
        assert!(c.clip_phonemes(a).unwrap().is_empty());
        assert_eq!(c.clip_phonemes(b).unwrap().len(), 1);
        c.conn.execute("DELETE FROM recordings WHERE id = ?1", [b]).unwrap();
        assert!(c.all_clip_phonemes().unwrap().is_empty(), "a deleted recording's phonemes are deleted with it");
    }

    #[test]
    fn a_recut_clip_gets_no_phonemes_of_its_old_text() {
        let (_dir, mut c) = catalog();
        let a = recording(&c, "a");
        let cut = |clips: Vec<ClipRow>| StageRows::Clips { clips, words: WordYield::new(0) };
        c.record_done(a, "segment", "f", "{}", 0.0, &cut(vec![clip("a-00000", "Hi."), clip("a-00001", "No.")]))
            .unwrap();
        let stored = vec![phonemes("a-00000", "Hi.", "hˈaɪ."), phonemes("a-00001", "No.", "nˈoʊ.")];
        c.record_done(a, "phonemize", "f", "{}", 0.0, &StageRows::Phonemes(stored)).unwrap();
        let s = c.clip_statuses().unwrap();
        let got: Vec<Option<&str>> = s.iter().map(|s| s.phonemes.as_ref().map(|p| p.phonemes.as_str())).collect();
        assert_eq!(got, [Some("hˈaɪ."), Some("nˈoʊ.")]);

        // Recut: the first clip keeps its text, the second now holds other words, a third is new.
        let recut = vec![clip("a-00000", "Hi."), clip("a-00001", "No way."), clip("a-00002", "Bye.")];
        c.record_done(a, "segment", "g", "{}", 0.0, &cut(recut)).unwrap();
        let s = c.clip_statuses().unwrap();
        let got: Vec<Option<&str>> = s.iter().map(|s| s.phonemes.as_ref().map(|p| p.phonemes.as_str())).collect();
        assert_eq!(got, [Some("hˈaɪ."), None, None]);
    }
}
