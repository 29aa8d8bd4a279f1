//! Manual decisions (`voxmill accept|reject`) and the verdict a clip ends with. A decision is stored apart from
//! the qualify stage's rows, keyed by the clip's name and span, so re-runs, `--force` of any stage and changed
//! gates leave it alone; it applies while a clip of that name covers the same span of the recording (a clip cut
//! differently is another clip, and its old decision is kept, unapplied, until the span comes back).

use std::collections::HashMap;

use rusqlite::{OptionalExtension, params};

use crate::catalog::now;
use crate::phonemes::ClipPhonemesRow;
use crate::quality::{ClipQualityRow, Verdict};
use crate::{Catalog, ClipRow, ProjectError};

/// How far (seconds) a clip's edges may move and still be the clip a decision was made on.
const SAME_SPAN_SECS: f64 = 0.005;

/// The migration that adds transcripts corrected by hand (kept apart from the stages' rows, as decisions are).
pub(crate) const MIGRATION_TEXT_EDITS: &str = r#"
CREATE TABLE clip_text_edits (
    clip          TEXT PRIMARY KEY,
    start         REAL NOT NULL,
    end           REAL NOT NULL,
    text          TEXT NOT NULL,
    original      TEXT NOT NULL,
    edited_at     REAL NOT NULL
);
"#;

/// A transcript corrected by hand: it replaces the clip's text while the clip covers the span it was made on.
#[derive(Debug, Clone, PartialEq)]
pub struct TextEdit {
    pub text: String,
    /// The text the ASR gave, when the edit was made.
    pub original: String,
    pub start: f64,
    pub end: f64,
    pub edited_at: f64,
}

impl TextEdit {
    /// Whether this correction was made on `clip` as it is cut now (same span of the recording).
    pub fn applies_to(&self, clip: &ClipRow) -> bool {
        (self.start - clip.start).abs() <= SAME_SPAN_SECS && (self.end - clip.end).abs() <= SAME_SPAN_SECS
    }
}

/// A person's decision on one clip.
#[derive(Debug, Clone, PartialEq)]
pub struct ManualDecision {
    pub verdict: Verdict,
    pub note: Option<String>,
    /// The span of the recording the clip covered when the decision was made.
    pub start: f64,
    pub end: f64,
    /// Seconds since the Unix epoch.
    pub decided_at: f64,
}

/// A clip with everything that decides its verdict.
#[derive(Debug, Clone, PartialEq)]
pub struct ClipStatus {
    /// The recording's name.
    pub recording: String,
    pub clip: ClipRow,
    /// The qualify stage's measures and verdict; `None` until it has run on the clip's recording.
    pub quality: Option<ClipQualityRow>,
    /// A manual decision stored under the clip's name (applied only if it was made on this span).
    pub decision: Option<ManualDecision>,
    /// Piper's phonemes of the clip's text (the phonemize stage); `None` until it has run on the clip's recording
    /// (or when it is off, or espeak-ng has no voice for the recording's language).
    pub phonemes: Option<ClipPhonemesRow>,
    /// The ASR's text when a person corrected it (`clip.text` then holds the correction).
    pub original_text: Option<String>,
}

impl ClipStatus {
    /// The manual decision, if one was made on this very clip.
    pub fn manual(&self) -> Option<&ManualDecision> {
        self.decision.as_ref().filter(|d| {
            (d.start - self.clip.start).abs() <= SAME_SPAN_SECS && (d.end - self.clip.end).abs() <= SAME_SPAN_SECS
        })
    }

    /// What the gates (and a `speakers recheck` flag) say, without a manual decision; `None` when the clip has not
    /// been measured and is not flagged.
    pub fn automatic(&self) -> Option<Verdict> {
        match (&self.quality, &self.clip.flag) {
            (_, Some(_)) => Some(Verdict::Rejected),
            (Some(q), None) => Some(q.verdict),
            (None, None) => None,
        }
    }

    /// The verdict the clip ends with: a manual decision made on it, else the automatic one; `None` when neither
    /// exists yet (not measured).
    pub fn verdict(&self) -> Option<Verdict> {
        self.manual().map(|d| d.verdict).or(self.automatic())
    }

    /// Every failing gate, and a `speakers recheck` flag as a `purity` reason.
    pub fn reasons(&self) -> Vec<String> {
        let mut out: Vec<String> = self.quality.iter().flat_map(|q| q.reasons.iter().cloned()).collect();
        if let Some(flag) = &self.clip.flag {
            let score = flag.split_whitespace().nth(1).unwrap_or("?");
            out.push(format!("purity {score} < speakers.recheck_threshold (flagged by speakers recheck)"));
        }
        out
    }
}

impl Catalog {
    /// Every manual decision, by clip name.
    pub fn decisions(&self) -> Result<HashMap<String, ManualDecision>, ProjectError> {
        let mut stmt = self
            .conn
            .prepare("SELECT clip, verdict, note, start, end, decided_at FROM clip_reviews")
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| {
                let verdict: String = r.get(1)?;
                Ok((
                    r.get::<_, String>(0)?,
                    ManualDecision {
                        verdict: Verdict::parse(&verdict).unwrap_or(Verdict::Rejected),
                        note: r.get(2)?,
                        start: r.get(3)?,
                        end: r.get(4)?,
                        decided_at: r.get(5)?,
                    },
                ))
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    /// Every clip of the project with its quality row, manual decision and phonemes, recording by recording, in time order.
    pub fn clip_statuses(&self) -> Result<Vec<ClipStatus>, ProjectError> {
        let mut quality = self.all_clip_quality()?;
        let mut decisions = self.decisions()?;
        let mut phonemes = self.all_clip_phonemes()?;
        let mut edits = self.text_edits()?;
        let mut out = Vec::new();
        for rec in self.recordings()? {
            for mut clip in self.clips(rec.id)? {
                let edit = edits.remove(&clip.name).filter(|e| e.applies_to(&clip));
                let original_text = edit.map(|e| std::mem::replace(&mut clip.text, e.text));
                out.push(ClipStatus {
                    recording: rec.name.clone(),
                    quality: quality.remove(&clip.name),
                    decision: decisions.remove(&clip.name),
                    phonemes: phonemes.remove(&clip.name).and_then(|p| p.of(&clip)),
                    original_text,
                    clip,
                });
            }
        }
        Ok(out)
    }

    /// Every transcript corrected by hand, by clip name.
    pub fn text_edits(&self) -> Result<HashMap<String, TextEdit>, ProjectError> {
        let mut stmt = self
            .conn
            .prepare("SELECT clip, text, original, start, end, edited_at FROM clip_text_edits")
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    TextEdit {
                        text: r.get(1)?,
                        original: r.get(2)?,
                        start: r.get(3)?,
                        end: r.get(4)?,
                        edited_at: r.get(5)?,
                    },
                ))
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    /// Corrects a clip's transcript by hand (it survives re-runs while the clip covers the same span); an empty
    /// `text`, or the ASR's own text, removes the correction. Returns the clip's text from now on. The phonemize
    /// stage of the clip's recording is marked to run again (its phonemes were made from the old text).
    pub fn edit_text(&self, clip: &str, text: &str) -> Result<String, ProjectError> {
        let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
        let span: Option<(i64, f64, f64, String)> = self
            .conn
            .query_row("SELECT recording_id, start, end, text FROM clips WHERE name = ?1", [clip], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })
            .optional()
            .map_err(|e| self.err(e))?;
        let Some((recording, start, end, original)) = span else {
            let dir = self.path.parent().unwrap_or(&self.path).display().to_string();
            return Err(ProjectError::Review(format!(
                "{dir}: no such clip: {clip}; `voxmill review {dir}` lists the clips (nothing was changed)"
            )));
        };
        let tx = self.conn.unchecked_transaction().map_err(|e| self.err(e))?;
        let now_text = if text.is_empty() || text == original {
            tx.execute("DELETE FROM clip_text_edits WHERE clip = ?1", [clip]).map_err(|e| self.err(e))?;
            original
        } else {
            tx.execute(
                "INSERT INTO clip_text_edits (clip, start, end, text, original, edited_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (clip) DO UPDATE SET start = excluded.start, end = excluded.end, text = excluded.text,
                     original = excluded.original, edited_at = excluded.edited_at",
                params![clip, start, end, text, original, now()],
            )
            .map_err(|e| self.err(e))?;
            text
        };
        // The text's measures (speaking rate, what the normaliser cannot read) and its phonemes follow the edit.
        tx.execute("DELETE FROM stage_runs WHERE recording_id = ?1 AND stage IN ('qualify', 'phonemize')", [recording])
            .map_err(|e| self.err(e))?;
        tx.commit().map_err(|e| self.err(e))?;
        Ok(now_text)
    }

    /// Records `verdict` (with an optional note) as the manual decision on each named clip, replacing earlier
    /// ones, in one transaction. Unknown clip names are an error and nothing is recorded.
    pub fn decide(&mut self, clips: &[String], verdict: Verdict, note: Option<&str>) -> Result<(), ProjectError> {
        let path = self.path.clone();
        let wrap = |source| ProjectError::Catalog { path: path.clone(), source };
        let tx = self.conn.transaction().map_err(wrap)?;
        let mut unknown = Vec::new();
        for name in clips {
            let span: Option<(i64, f64, f64)> = tx
                .query_row("SELECT recording_id, start, end FROM clips WHERE name = ?1", [name], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                })
                .optional()
                .map_err(wrap)?;
            match span {
                Some((rec, start, end)) => {
                    tx.execute(
                        "INSERT INTO clip_reviews (clip, recording_id, start, end, verdict, note, decided_at)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                         ON CONFLICT (clip) DO UPDATE SET recording_id = excluded.recording_id,
                            start = excluded.start, end = excluded.end, verdict = excluded.verdict,
                            note = excluded.note, decided_at = excluded.decided_at",
                        params![name, rec, start, end, verdict.name(), note, now()],
                    )
                    .map_err(wrap)?;
                }
                None => unknown.push(name.clone()),
            }
        }
        if !unknown.is_empty() {
            return Err(ProjectError::Review(format!(
                "{}: no such clip(s): {}; `voxmill review {}` lists the clips (nothing was changed)",
                self.path.parent().unwrap_or(&self.path).display(),
                unknown.join(", "),
                self.path.parent().unwrap_or(&self.path).display()
            )));
        }
        tx.commit().map_err(wrap)
    }

    /// Forgets the manual decisions on the named clips (they go back to the gates' verdict); returns how many there
    /// were.
    pub fn forget_decisions(&mut self, clips: &[String]) -> Result<usize, ProjectError> {
        let path = self.path.clone();
        let wrap = |source| ProjectError::Catalog { path: path.clone(), source };
        let tx = self.conn.transaction().map_err(wrap)?;
        let mut n = 0;
        for name in clips {
            n += tx.execute("DELETE FROM clip_reviews WHERE clip = ?1", [name]).map_err(wrap)?;
        }
        tx.commit().map_err(wrap)?;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quality::ClipMeasures;
    use crate::{NewRecording, StageRows, WordYield};

    fn project() -> (tempfile::TempDir, Catalog, i64) {
        let dir = tempfile::tempdir().unwrap();
        let c = Catalog::open(&dir.path().join("voxmill.db")).unwrap();
        let id = c
            .insert_recording(&NewRecording {
                name: "a".into(),
                source_path: "/in/a.wav".into(),
                stored_path: "/in/a.wav".into(),
                sha256: "a".into(),
                size_bytes: 1,
                codec: "pcm_s16le".into(),
                container: "wav".into(),
                sample_rate: 16_000,
                channels: 1,
                duration_secs: 10.0,
            })
            .unwrap()
            .id;
        (dir, c, id)
    }

    fn clip(name: &str, start: f64) -> ClipRow {
        ClipRow {
            name: name.into(),
            start,
            end: start + 2.0,
            text: "Hello there.".into(),
            speaker: "spk001".into(),
            path: format!("clips/spk001/{name}.wav"),
            flag: None,
        }
    }

    fn quality(name: &str, verdict: Verdict) -> ClipQualityRow {
        ClipQualityRow {
            clip: name.into(),
            audio_key: "k".into(),
            measures: ClipMeasures { duration: 2.0, dnsmos_ovrl: Some(2.41), ..Default::default() },
            verdict,
            reasons: if verdict == Verdict::Rejected { vec!["dnsmos_ovrl 2.41 < 3.0".into()] } else { vec![] },
        }
    }

    #[test]
    fn decisions_outlive_re_runs_and_apply_only_to_the_same_span() {
        let (_dir, mut c, rec) = project();
        let clips =
            StageRows::Clips { clips: vec![clip("a-00001", 0.0), clip("a-00002", 3.0)], words: WordYield::new(0) };
        c.record_done(rec, "segment", "f", "{}", 0.0, &clips).unwrap();
        let rows =
            StageRows::Quality(vec![quality("a-00001", Verdict::Rejected), quality("a-00002", Verdict::Accepted)]);
        c.record_done(rec, "qualify", "q", "{}", 0.0, &rows).unwrap();
        let s = c.clip_statuses().unwrap();
        assert_eq!(
            s.iter().map(|s| s.verdict()).collect::<Vec<_>>(),
            [Some(Verdict::Rejected), Some(Verdict::Accepted)]
        );
        assert_eq!(s[0].reasons(), ["dnsmos_ovrl 2.41 < 3.0"]);

        c.decide(&["a-00001".into()], Verdict::Accepted, Some("fine by ear")).unwrap();
        assert!(
            c.decide(&["a-00002".into(), "nope".into()], Verdict::Rejected, None)
                .unwrap_err()
                .to_string()
                .contains("nope")
        );
        // The stages re-run: new rows replace the old, the decision stays.
        c.record_done(rec, "segment", "g", "{}", 0.0, &clips).unwrap();
        c.record_done(rec, "qualify", "r", "{}", 0.0, &rows).unwrap();
        let s = c.clip_statuses().unwrap();
        assert_eq!(s[0].verdict(), Some(Verdict::Accepted));
        assert_eq!(s[0].automatic(), Some(Verdict::Rejected));
        assert_eq!(s[0].manual().unwrap().note.as_deref(), Some("fine by ear"));
        assert_eq!(s[1].verdict(), Some(Verdict::Accepted), "the failed batch changed nothing");

        // Cut differently, the clip is another clip: the decision waits, unapplied.
        let moved = StageRows::Clips { clips: vec![clip("a-00001", 0.5)], words: WordYield::new(0) };
        c.record_done(rec, "segment", "h", "{}", 0.0, &moved).unwrap();
        let s = c.clip_statuses().unwrap();
        assert!(s[0].decision.is_some() && s[0].manual().is_none());
        assert_eq!(s[0].verdict(), Some(Verdict::Rejected));
        assert_eq!(c.forget_decisions(&["a-00001".into()]).unwrap(), 1);
        assert!(c.decisions().unwrap().is_empty());
    }
}
