//! The yield of the segment stage: of the words the ASR heard in a recording, how many reached a clip and, for
//! every one that did not, why. Each word is counted exactly once, in a clip or under one [`DropReason`]; the
//! catalog table enforces that sum with a CHECK constraint, and the row is replaced with the recording's clips.

use rusqlite::params;

use crate::{Catalog, ProjectError};

/// Why a word the ASR heard reached no clip. The names are the catalog's column names and the keys of
/// `voxmill stats --json`; adding one takes a migration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DropReason {
    /// Its piece is shorter than `segment.min_secs` and has no neighbour it could join within the maximum.
    TooShort,
    /// Its piece is longer than `segment.max_secs` and holds no pause to split it at.
    TooLong,
    /// Spoken where two speakers talk at once (`diarize.exclude_overlaps`).
    Overlap,
    /// No speaker turn of the diarization lies near it.
    NoSpeaker,
    /// Speech nobody transcribed runs up to it with no pause to cut in, so its clip would hold words its text
    /// does not (or lose some of its own).
    Untranscribed,
}

impl DropReason {
    /// Every reason, in the order `stats` lists them.
    pub const ALL: [DropReason; 5] = [
        DropReason::TooShort,
        DropReason::TooLong,
        DropReason::Overlap,
        DropReason::NoSpeaker,
        DropReason::Untranscribed,
    ];

    /// The stored name (`too_short`, …).
    pub fn name(self) -> &'static str {
        match self {
            DropReason::TooShort => "too_short",
            DropReason::TooLong => "too_long",
            DropReason::Overlap => "overlap",
            DropReason::NoSpeaker => "no_speaker",
            DropReason::Untranscribed => "untranscribed",
        }
    }

    /// What it means, in a few words, for people.
    pub fn describe(self) -> &'static str {
        match self {
            DropReason::TooShort => "piece shorter than segment.min_secs",
            DropReason::TooLong => "no pause to split below segment.max_secs",
            DropReason::Overlap => "spoken over another speaker",
            DropReason::NoSpeaker => "no speaker turn found",
            DropReason::Untranscribed => "sound no word accounts for runs up to it, no pause to cut in",
        }
    }
}

/// Words the ASR heard in one recording (or several, summed), words that reached a clip, and the rest by reason.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WordYield {
    /// Words of the transcript.
    pub asr_words: u64,
    /// Words inside a clip (whether or not the clip is flagged).
    pub clip_words: u64,
    dropped: [u64; DropReason::ALL.len()],
}

impl WordYield {
    /// No words yet: `asr_words` of them, none placed.
    pub fn new(asr_words: u64) -> WordYield {
        WordYield { asr_words, ..WordYield::default() }
    }

    /// Words dropped for `reason`.
    pub fn dropped(&self, reason: DropReason) -> u64 {
        self.dropped[reason as usize]
    }

    /// Counts `n` more words dropped for `reason`.
    pub fn add_dropped(&mut self, reason: DropReason, n: u64) {
        self.dropped[reason as usize] += n;
    }

    /// Words dropped for any reason.
    pub fn dropped_total(&self) -> u64 {
        self.dropped.iter().sum()
    }

    /// Whether every word is counted exactly once: in a clip or under one reason.
    pub fn is_balanced(&self) -> bool {
        self.asr_words == self.clip_words + self.dropped_total()
    }

    /// The share of the ASR's words that reached a clip (1 when there were none).
    pub fn clip_share(&self) -> f64 {
        if self.asr_words == 0 { 1.0 } else { self.clip_words as f64 / self.asr_words as f64 }
    }

    /// Adds another recording's yield to this one.
    pub fn add(&mut self, other: &WordYield) {
        self.asr_words += other.asr_words;
        self.clip_words += other.clip_words;
        for (a, b) in self.dropped.iter_mut().zip(other.dropped) {
            *a += b;
        }
    }
}

/// Replaces the yield row of a recording (inside the caller's transaction).
pub(crate) fn write_word_yield(tx: &rusqlite::Connection, rec: i64, y: &WordYield) -> rusqlite::Result<()> {
    tx.execute("DELETE FROM word_yield WHERE recording_id = ?1", [rec])?;
    tx.execute(
        "INSERT INTO word_yield (recording_id, asr_words, clip_words, too_short, too_long, overlap, no_speaker,
             untranscribed) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            rec,
            y.asr_words as i64,
            y.clip_words as i64,
            y.dropped(DropReason::TooShort) as i64,
            y.dropped(DropReason::TooLong) as i64,
            y.dropped(DropReason::Overlap) as i64,
            y.dropped(DropReason::NoSpeaker) as i64,
            y.dropped(DropReason::Untranscribed) as i64,
        ],
    )?;
    Ok(())
}

impl Catalog {
    /// The yield of the last segment run of every recording that has one, by recording id, in the order the
    /// recordings were added. Recordings segmented before the catalog kept yields have none until segment re-runs.
    pub fn word_yields(&self) -> Result<Vec<(i64, WordYield)>, ProjectError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT recording_id, asr_words, clip_words, too_short, too_long, overlap, no_speaker, untranscribed
                 FROM word_yield ORDER BY recording_id",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| {
                let mut y = WordYield::new(r.get::<_, i64>(1)? as u64);
                y.clip_words = r.get::<_, i64>(2)? as u64;
                for (i, reason) in DropReason::ALL.into_iter().enumerate() {
                    y.add_dropped(reason, r.get::<_, i64>(3 + i)? as u64);
                }
                Ok((r.get(0)?, y))
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ClipRow, NewRecording, StageRows};

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

    fn clips(n: usize) -> Vec<ClipRow> {
        (0..n)
            .map(|i| ClipRow {
                name: format!("a-{i:05}"),
                start: i as f64,
                end: i as f64 + 0.9,
                text: "w".into(),
                speaker: "spk001".into(),
                path: format!("clips/spk001/a-{i:05}.wav"),
                flag: None,
            })
            .collect()
    }

    #[test]
    fn yields_are_replaced_with_the_clips_and_must_balance() {
        let dir = tempfile::tempdir().unwrap();
        let mut c = Catalog::open(&dir.path().join("voxmill.db")).unwrap();
        let a = recording(&c, "a");
        let b = recording(&c, "b");
        let mut y = WordYield::new(10);
        y.clip_words = 7;
        y.add_dropped(DropReason::TooShort, 1);
        y.add_dropped(DropReason::Untranscribed, 2);
        assert!(y.is_balanced());
        c.record_done(a, "segment", "f", "{}", 0.0, &StageRows::Clips { clips: clips(2), words: y }).unwrap();
        c.record_done(b, "segment", "f", "{}", 0.0, &StageRows::Clips { clips: clips(0), words: WordYield::new(0) })
            .unwrap();
        assert_eq!(c.word_yields().unwrap(), [(a, y), (b, WordYield::new(0))]);

        // A re-run replaces the row, never adds one.
        let mut again = WordYield::new(10);
        again.clip_words = 10;
        c.record_done(a, "segment", "g", "{}", 0.0, &StageRows::Clips { clips: clips(3), words: again }).unwrap();
        assert_eq!(c.word_yields().unwrap(), [(a, again), (b, WordYield::new(0))]);

        // A yield that loses a word is refused, and the transaction leaves the old result in place.
        let mut lossy = WordYield::new(10);
        lossy.clip_words = 8;
        lossy.add_dropped(DropReason::Overlap, 1);
        assert!(!lossy.is_balanced());
        assert!(
            c.record_done(a, "segment", "h", "{}", 0.0, &StageRows::Clips { clips: clips(1), words: lossy }).is_err()
        );
        assert_eq!(c.word_yields().unwrap()[0], (a, again));
        assert_eq!(c.clips(a).unwrap().len(), 3);
        assert_eq!(c.stage_run(a, "segment").unwrap().unwrap().fingerprint, "g");

        let mut total = WordYield::default();
        for (_, y) in c.word_yields().unwrap() {
            total.add(&y);
        }
        assert_eq!((total.asr_words, total.clip_words, total.dropped_total()), (10, 10, 0));
        assert_eq!(WordYield::new(0).clip_share(), 1.0);
    }
}
