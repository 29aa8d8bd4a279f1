//! The quality verdict of each exported clip, for exports that take rejected clips too (`--include-rejected`).
//! A format with named columns carries the verdict in a column of its own; LJSpeech's `metadata.csv` has a fixed
//! layout that trainers read by position, so there the verdicts go into `verdicts.csv` beside it.

use crate::ExportError;
use crate::ljspeech::{clean_field, validate_id};

/// The file beside an LJSpeech export's `metadata.csv` that holds each clip's verdict.
pub const VERDICTS_FILE: &str = "verdicts.csv";

/// One clip's verdict as exported.
#[derive(Debug, Clone, PartialEq)]
pub struct ClipVerdict {
    /// The clip id, as in `metadata.csv`.
    pub id: String,
    /// `accepted` or `rejected`.
    pub verdict: String,
    /// Every failing gate (`dnsmos_ovrl 2.41 < 3.0`), and a manual decision's note.
    pub reasons: Vec<String>,
}

/// `verdicts.csv`: a header line `id|verdict|reasons`, then one line per clip with its reasons joined by `; `
/// (`|` inside a reason becomes a space).
pub fn verdicts_csv(verdicts: &[ClipVerdict]) -> Result<String, ExportError> {
    let mut out = String::from("id|verdict|reasons\n");
    for v in verdicts {
        validate_id(&v.id)?;
        let reasons: Vec<String> = v.reasons.iter().map(|r| clean_field(r)).collect();
        out.push_str(&format!("{}|{}|{}\n", v.id, clean_field(&v.verdict), reasons.join("; ")));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_per_clip_after_the_header() {
        let v = [
            ClipVerdict { id: "a-00001".into(), verdict: "accepted".into(), reasons: vec![] },
            ClipVerdict {
                id: "a-00002".into(),
                verdict: "rejected".into(),
                reasons: vec!["snr 7.6 < 12.0 dB".into(), "bandwidth 3875 < 6000.0 Hz".into()],
            },
        ];
        assert_eq!(
            verdicts_csv(&v).unwrap(),
            "id|verdict|reasons\na-00001|accepted|\na-00002|rejected|snr 7.6 < 12.0 dB; bandwidth 3875 < 6000.0 Hz\n"
        );
    }
}
