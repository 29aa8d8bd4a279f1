//! One module per stage, named after it.

mod diarize;
mod enhance;
mod identify;
mod phonemize;
mod qualify;
mod segment;
mod standardize;
mod transcribe;
mod vad;
mod validate;

pub use diarize::Diarize;
pub use enhance::Enhance;
pub use identify::Identify;
pub use phonemize::{Phonemize, Phonemized, open_phonemizer, phoneme_text, phonemize_clips};
pub use qualify::Qualify;
pub use segment::Segment;
pub use standardize::Standardize;
pub use transcribe::Transcribe;
pub use vad::Vad;
pub use validate::Validate;

use crate::{PipelineError, Stage};

/// Every stage, in dependency order.
pub fn all_stages() -> Vec<Box<dyn Stage>> {
    vec![
        Box::new(Standardize),
        Box::new(Enhance),
        Box::new(Vad),
        Box::new(Transcribe),
        Box::new(Diarize),
        Box::new(Identify),
        Box::new(Segment),
        Box::new(Validate),
        Box::new(Qualify),
        // Reads only the clips' texts: last, so that it never holds up the quality measures.
        Box::new(Phonemize),
    ]
}

/// `stage` and every stage it needs, in dependency order: what `voxmill run --until <stage>` runs.
pub fn stages_until(stage: &str) -> Result<Vec<Box<dyn Stage>>, PipelineError> {
    let all = all_stages();
    if !all.iter().any(|s| s.name() == stage) {
        let known: Vec<_> = all.iter().map(|s| s.name()).collect();
        return Err(PipelineError::UnknownStage(stage.to_string(), known.join(", ")));
    }
    let mut needed = vec![stage.to_string()];
    for s in all.iter().rev() {
        if needed.iter().any(|n| n == s.name()) {
            needed.extend(s.depends_on().iter().map(|d| d.to_string()));
        }
    }
    Ok(all.into_iter().filter(|s| needed.iter().any(|n| n == s.name())).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn until_takes_the_stage_and_what_it_needs() {
        let names = |v: Vec<Box<dyn Stage>>| v.iter().map(|s| s.name()).collect::<Vec<_>>();
        assert_eq!(names(stages_until("identify").unwrap()), ["standardize", "enhance", "vad", "diarize", "identify"]);
        assert_eq!(names(stages_until("phonemize").unwrap()).len(), all_stages().len() - 2, "no validate, qualify");
        assert_eq!(names(stages_until("qualify").unwrap()).len(), all_stages().len() - 1);
        assert_eq!(names(stages_until("segment").unwrap()).len(), all_stages().len() - 3);
        assert_eq!(names(stages_until("validate").unwrap()).len(), all_stages().len() - 2);
        assert!(stages_until("nope").is_err());
    }

    #[test]
    fn the_model_auto_picks_keys_transcription_and_validation() {
        let mut s = voxmill_project::Settings::default();
        s.quality.validate = Some(true);
        let keys = |s: &voxmill_project::Settings| (Transcribe.settings_key(s), Validate.settings_key(s));
        let detect = keys(&s);
        assert!(detect.0.starts_with("whisper:base|") && detect.1.starts_with("whisper:base|"), "{detect:?}");
        // English: tiny.en instead, so both stages are stale.
        s.asr.language = "en".into();
        let english = keys(&s);
        assert!(english.0.starts_with("whisper:tiny.en|") && english.1.starts_with("whisper:tiny.en|"));
        // With "auto" the device picks the model, so it keys the result; with a model named, it does not.
        s.asr.device = "cuda".into();
        assert!(keys(&s).0.starts_with("whisper:large-v3-turbo|"), "{:?}", keys(&s));
        s.asr.model = "whisper:tiny.en".into();
        assert_eq!(keys(&s), english, "an explicit model keys the stages as it always did");
        s.asr.device = "cpu".into();
        assert_eq!(keys(&s), english);
    }

    #[test]
    fn the_wanted_languages_key_qualify_only_when_set() {
        let mut s = voxmill_project::Settings::default();
        let before = Qualify.settings_key(&s);
        assert!(!before.contains("languages"), "projects from before the setting keep their key: {before}");
        s.asr.languages = vec!["es".into(), "en".into()];
        let wanted = Qualify.settings_key(&s);
        assert!(wanted.ends_with(" languages=es,en"), "{wanted}");
        s.asr.languages = vec!["es".into()];
        assert_ne!(Qualify.settings_key(&s), wanted);
    }
}
