//! Train / validation / test splits that stay put. Each clip's split comes from a hash of the seed and its id (or
//! of its speaker, for speaker-disjoint splits), compared with the shares: no clip moves between splits because
//! another was added or removed, and exporting again gives the same splits. The shares are expected values: a
//! dataset of 20 clips may have none in a 5 % split.

/// The part of a dataset a clip is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Split {
    Train,
    Validation,
    Test,
}

impl Split {
    /// Every split, in the order exports list them.
    pub const ALL: [Split; 3] = [Split::Train, Split::Validation, Split::Test];

    /// The name used in file and folder names (`train`, `validation`, `test`).
    pub fn name(self) -> &'static str {
        match self {
            Split::Train => "train",
            Split::Validation => "validation",
            Split::Test => "test",
        }
    }
}

/// How clips are split; every field is a setting of the `[export]` section.
#[derive(Debug, Clone, PartialEq)]
pub struct SplitOptions {
    /// Share of clips (or speakers) in the validation split, `0..1`.
    pub validation: f64,
    /// Share of clips (or speakers) in the test split, `0..1`.
    pub test: f64,
    /// Another seed gives other splits.
    pub seed: u64,
    /// Split speakers instead of clips: every clip of a speaker is in one split (for testing on unseen voices).
    pub by_speaker: bool,
}

impl Default for SplitOptions {
    fn default() -> Self {
        SplitOptions { validation: 0.05, test: 0.05, seed: 0, by_speaker: false }
    }
}

impl SplitOptions {
    /// Why the shares cannot be used, if they cannot.
    pub fn check(&self) -> Result<(), String> {
        let ok = |x: f64| (0.0..1.0).contains(&x);
        if !ok(self.validation) || !ok(self.test) || self.validation + self.test >= 1.0 {
            return Err(format!(
                "export.validation = {} and export.test = {} must each be at least 0 and together under 1",
                self.validation, self.test
            ));
        }
        Ok(())
    }

    /// The split of a clip with this id and speaker.
    pub fn split_of(&self, clip_id: &str, speaker: &str) -> Split {
        let u = unit(self.seed, if self.by_speaker { speaker } else { clip_id });
        if u < self.test {
            Split::Test
        } else if u < self.test + self.validation {
            Split::Validation
        } else {
            Split::Train
        }
    }
}

/// A number in `[0, 1)` from the seed and the key: the first 8 bytes of SHA-256 over both (not `std`'s hasher,
/// which may change between Rust releases, so splits never change; clip ids that differ in one digit still land
/// far apart).
fn unit(seed: u64, key: &str) -> f64 {
    use sha2::{Digest, Sha256};
    let digest = Sha256::new().chain_update(seed.to_le_bytes()).chain_update(key.as_bytes()).finalize();
    let h = u64::from_le_bytes(digest[..8].try_into().expect("8 bytes"));
    (h >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_are_met_and_splits_never_change() {
        let o = SplitOptions { validation: 0.1, test: 0.2, seed: 7, by_speaker: false };
        let ids: Vec<String> = (0..20_000).map(|i| format!("rec-{i:05}")).collect();
        let count = |s: Split| ids.iter().filter(|id| o.split_of(id, "spk001") == s).count() as f64 / 20_000.0;
        assert!((count(Split::Validation) - 0.1).abs() < 0.01 && (count(Split::Test) - 0.2).abs() < 0.01);
        // Pinned: a change of the hash would move every clip of every user's dataset. Ids that differ only in
        // their last digit spread over the splits.
        let first: Vec<&str> = ids[..8].iter().map(|id| o.split_of(id, "").name()).collect();
        assert_eq!(first, PINNED);
        // Another seed, other splits.
        let other = SplitOptions { seed: 8, ..o.clone() };
        assert!(ids.iter().any(|id| other.split_of(id, "") != o.split_of(id, "")));
    }

    const PINNED: [&str; 8] = ["test", "train", "test", "train", "train", "train", "train", "train"];

    #[test]
    fn by_speaker_keeps_each_speaker_in_one_split() {
        let o = SplitOptions { validation: 0.3, test: 0.3, seed: 0, by_speaker: true };
        for spk in ["spk001", "spk002", "spk003", "anna"] {
            let first = o.split_of("a", spk);
            assert!((0..50).all(|i| o.split_of(&format!("clip-{i}"), spk) == first));
        }
        assert!(SplitOptions { validation: 0.6, test: 0.4, ..o.clone() }.check().is_err());
        assert!(SplitOptions { validation: -0.1, ..o }.check().is_err());
    }
}
