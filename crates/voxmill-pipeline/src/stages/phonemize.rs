//! Phonemize: every clip's phonemes exactly as Piper makes them (`voxmill-phonemize`: espeak-ng's C library, IPA,
//! clause punctuation kept, one sentence a line), stored in the catalog for the exports that carry phonemes.
//!
//! The text phonemized is the text Piper's trainer would phonemize from voxmill's piper export: the normalised text
//! in the clip's language ([`voxmill_export::normalize()`]: English numbers, money and abbreviations spelled out,
//! numbers in the languages with number rules, NFC for every language), on one line as the export writes it. The voice is `phonemize.voice`, or Piper's voice for
//! the language the transcribe stage settled on for the recording (`en` → `en-us`, `zh` → `cmn`, …); a language
//! espeak-ng has no voice for leaves the recording's clips without phonemes and says so (a warning, not a failure).
//!
//! It reads only the clips' texts (a transcript corrected by hand, `voxmill edit`, in place of the ASR's: an edit
//! marks this stage of the clip's recording to run again), so it costs milliseconds a clip; it runs last, after the quality measures,
//! and nothing waits on it. Its fingerprint covers the voice setting, the espeak-ng library's version and the
//! content of its data folder, so installing other data re-phonemizes; its upstream (transcribe, segment) covers
//! the language and the clips.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use voxmill_export::ljspeech::clean_field;
use voxmill_phonemize::{PhonemizeError, Phonemizer, voice_for_language};
use voxmill_project::settings::PhonemizeSettings;
use voxmill_project::{ClipPhonemesRow, ClipRow, StageRows};

use crate::{Stage, StageContext, StageError, StageOutput};

/// The phonemize stage.
pub struct Phonemize;

impl Stage for Phonemize {
    fn name(&self) -> &'static str {
        "phonemize"
    }

    fn version(&self) -> u32 {
        1
    }

    fn depends_on(&self) -> &'static [&'static str] {
        // transcribe settles the recording's language (and so the voice), segment cuts the clips and their text.
        &["transcribe", "segment"]
    }

    fn settings_key(&self, settings: &voxmill_project::Settings) -> String {
        let p = &settings.phonemize;
        if !p.enabled {
            return "off".into();
        }
        format!("voice={}|espeak={}", p.voice.trim(), engine_identity(p.espeak_data_dir()))
    }

    fn outputs(&self, _: &StageContext<'_>) -> Result<Vec<PathBuf>, StageError> {
        Ok(Vec::new())
    }

    fn run(&self, ctx: &StageContext<'_>) -> Result<StageOutput, StageError> {
        let settings = &ctx.settings.phonemize;
        let nothing = |summary: serde_json::Value| StageOutput {
            summary,
            rows: StageRows::Phonemes(Vec::new()),
            after_commit: None,
        };
        if !settings.enabled {
            return Ok(nothing(serde_json::json!({"phonemized": 0, "note": "off (phonemize.enabled)"})));
        }
        let mut clips = ctx.catalog.clips(ctx.recording.id)?;
        // A transcript corrected by hand is the one phonemized (an edit marks this stage to run again).
        let edits = ctx.catalog.text_edits()?;
        for clip in &mut clips {
            if let Some(edit) = edits.get(&clip.name).filter(|e| e.applies_to(clip)) {
                clip.text = edit.text.clone();
            }
        }
        if clips.is_empty() {
            return Ok(nothing(serde_json::json!({"clips": 0, "phonemized": 0})));
        }
        let language = crate::export::language_of(ctx.settings, ctx.catalog, ctx.recording.id)?;
        let phonemizer = ctx.resources.phonemizer(settings)?;
        let out = phonemize_clips(&phonemizer, settings, &ctx.recording.name, &language, &clips, &mut |clip| {
            (ctx.progress)(clip.end)
        })?;
        for warning in &out.warnings {
            tracing::warn!("{warning}");
        }
        let summary = serde_json::json!({
            "clips": clips.len(),
            "phonemized": out.rows.len(),
            "language": language,
            "voice": out.voice,
            "espeak_data": phonemizer.data_dir(),
            "espeak_version": voxmill_phonemize::library_version(),
            "warnings": out.warnings,
        });
        Ok(StageOutput { summary, rows: StageRows::Phonemes(out.rows), after_commit: None })
    }
}

/// What phonemizing one recording's clips gave.
#[derive(Debug, Clone, PartialEq)]
pub struct Phonemized {
    /// One row per clip that got phonemes.
    pub rows: Vec<ClipPhonemesRow>,
    /// The voice used; `None` when espeak-ng has none for the recording's language.
    pub voice: Option<String>,
    /// Why clips got no phonemes, one line each, naming the recording or clip and what to do.
    pub warnings: Vec<String>,
}

/// Phonemizes `clips` of the recording `recording` (whose language is `language`) with the voice the settings
/// choose. A voice set in `phonemize.voice` that espeak-ng lacks is an error naming the setting; a language it
/// has no voice for gives no rows and a warning; a clip whose text espeak-ng cannot read is left out with a
/// warning naming it. `done` is called after each clip.
pub fn phonemize_clips(
    phonemizer: &Phonemizer,
    settings: &PhonemizeSettings,
    recording: &str,
    language: &str,
    clips: &[ClipRow],
    done: &mut dyn FnMut(&ClipRow),
) -> Result<Phonemized, StageError> {
    let voice = match settings.fixed_voice() {
        Some(voice) => {
            phonemizer.check_voice(voice).map_err(|e| unknown_setting(voice, phonemizer.data_dir(), e))?;
            voice.to_string()
        }
        None => {
            let voice = voice_for_language(language);
            match voice.as_deref().map(|v| phonemizer.check_voice(v)) {
                Some(Ok(())) => voice.unwrap_or_default(),
                Some(Err(PhonemizeError::UnknownVoice { .. })) | None => {
                    let warning = format!(
                        "{recording}: espeak-ng has no voice for the recording's language `{language}`{}, so its {} \
                         clip(s) get no phonemes; set `phonemize.voice` in voxmill.toml to a voice it has (`espeak-ng \
                         --voices` lists them) to phonemize them in that voice",
                        voice.map(|v| format!(" (looked for `{v}`)")).unwrap_or_default(),
                        clips.len()
                    );
                    return Ok(Phonemized { rows: Vec::new(), voice: None, warnings: vec![warning] });
                }
                Some(Err(e)) => return Err(StageError(format!("{recording}: {e}"))),
            }
        }
    };
    let mut rows = Vec::with_capacity(clips.len());
    let mut warnings = Vec::new();
    for clip in clips {
        let text = phoneme_text(&clip.text, language);
        match phonemizer.phonemize(&voice, &text) {
            Ok(p) => rows.push(ClipPhonemesRow {
                clip: clip.name.clone(),
                text: clip.text.clone(),
                voice: voice.clone(),
                phonemes: p.to_piper_string(),
            }),
            Err(e) => warnings.push(format!("clip {}: no phonemes: {e}", clip.name)),
        }
        done(clip);
    }
    Ok(Phonemized { rows, voice: Some(voice), warnings })
}

/// The text phonemized for a clip of text `text` in `language`: what voxmill's piper export writes to
/// `metadata.csv` for it (and Piper's trainer then phonemizes): the normalised text in its language, on one line
/// with single spaces.
pub fn phoneme_text(text: &str, language: &str) -> String {
    clean_field(&voxmill_export::normalize(&clean_field(text), language).text)
}

/// `phonemize.voice` names a voice espeak-ng does not have.
fn unknown_setting(voice: &str, data: &Path, e: PhonemizeError) -> StageError {
    match e {
        PhonemizeError::UnknownVoice { .. } => StageError(format!(
            "voxmill.toml: phonemize.voice = \"{voice}\": espeak-ng has no such voice in {}; set it to one it has \
             (`espeak-ng --voices` lists them, e.g. \"en-us\", \"de\", \"fr\") or to \"\" for Piper's voice for each \
             recording's language",
            data.display()
        )),
        other => StageError(other.to_string()),
    }
}

/// Opens espeak-ng with Piper's data (or the folder `phonemize.espeak_data` names). Without Piper's data the
/// system's is used with a warning: its dictionaries differ from Piper's in some words, and phonemes are an extra
/// of the dataset that should not fail a run (installing Piper's data later changes the stage's fingerprint, so
/// the clips are phonemized again).
pub fn open_phonemizer(settings: &PhonemizeSettings) -> Result<Phonemizer, StageError> {
    let explicit = settings.espeak_data_dir();
    let data = match voxmill_phonemize::find_data_dir(explicit) {
        Ok((data, false)) => data,
        Ok((system, true)) => {
            static WARNED: std::sync::Once = std::sync::Once::new();
            WARNED.call_once(|| tracing::warn!("{}", missing_data(Some(&system))));
            system
        }
        Err(e) => {
            return Err(StageError(match explicit {
                Some(_) => format!("voxmill.toml: phonemize.espeak_data: {e}"),
                None => missing_data(None),
            }));
        }
    };
    Phonemizer::new(&data).map_err(|e| match explicit {
        Some(_) => StageError(format!("voxmill.toml: phonemize.espeak_data: {e}")),
        None => StageError(e.to_string()),
    })
}

/// The error for Piper's espeak-ng data missing, naming where it was looked for and what to do.
fn missing_data(system: Option<&Path>) -> String {
    let home = voxmill_home().join("espeak-ng-data");
    let system = match system {
        Some(s) => format!(
            "; using the system's espeak-ng data at {} meanwhile, whose phonemes differ from Piper's in some words",
            s.display()
        ),
        None => String::new(),
    };
    format!(
        "Piper's espeak-ng data is missing: no {} and $VOXMILL_ESPEAK_DATA is not set; run `bash scripts/setup.sh`, \
         which installs it there, or set `phonemize.espeak_data` in voxmill.toml to an espeak-ng-data folder, or \
         `phonemize.enabled = false`{system}",
        home.join("phontab").display()
    )
}

/// `$VOXMILL_HOME`, by default `~/.local/share/voxmill` (where scripts/setup.sh installs Piper's data).
fn voxmill_home() -> PathBuf {
    std::env::var_os("VOXMILL_HOME")
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".local/share/voxmill"))
}

/// What decides the phonemes besides the text and voice: the espeak-ng library's version and the content of the
/// data folder the settings lead to (its top-level files: phoneme tables and every language's dictionary, and
/// the stamp setup.sh writes). Computed once per process and data folder.
fn engine_identity(explicit: Option<&Path>) -> String {
    static KNOWN: Mutex<Option<HashMap<Option<PathBuf>, String>>> = Mutex::new(None);
    let key = explicit.map(Path::to_path_buf);
    if let Some(id) = KNOWN.lock().unwrap_or_else(|e| e.into_inner()).get_or_insert_default().get(&key) {
        return id.clone();
    }
    let data = match voxmill_phonemize::find_data_dir(explicit) {
        Ok((data, false)) => data_identity(&data),
        // The stage fails without Piper's data; once it is installed, the key changes and the stage runs.
        _ => "no data".to_string(),
    };
    let id = format!("{} {data}", voxmill_phonemize::library_version());
    KNOWN.lock().unwrap_or_else(|e| e.into_inner()).get_or_insert_default().insert(key, id.clone());
    id
}

/// A hash of the regular files at the top of an espeak-ng data folder, by name.
fn data_identity(dir: &Path) -> String {
    let mut files: BTreeMap<String, String> = BTreeMap::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_file() {
                let digest = voxmill_project::hashing::sha256_file(&path).unwrap_or_else(|e| e.to_string());
                files.insert(entry.file_name().to_string_lossy().into_owned(), digest);
            }
        }
    }
    voxmill_project::hashing::sha256_parts(files.iter().map(|(n, d)| (n.as_str(), d.as_str())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use voxmill_export::normalize_english;

    /// espeak-ng with Piper's data, or `None` (skipped) when setup has not installed it.
    fn phonemizer() -> Option<Phonemizer> {
        match open_phonemizer(&PhonemizeSettings::default()) {
            Ok(p) => Some(p),
            Err(e) => {
                assert!(std::env::var_os("VOXMILL_REQUIRE_MODELS").is_none(), "{e}");
                eprintln!("skipped: {e}");
                None
            }
        }
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

    #[test]
    fn english_is_phonemized_as_the_piper_export_writes_it() {
        assert_eq!(phoneme_text(" It costs $5 at 3 pm. ", "en"), normalize_english("It costs $5 at 3 pm."));
        assert_ne!(phoneme_text("It costs $5.", "en"), "It costs $5.");
        assert_eq!(phoneme_text("Il coûte 5 €.\n", "fr"), "Il coûte cinq euros.");
        assert_eq!(phoneme_text("Cuesta 21 €", "es"), "Cuesta veintiún euros");
        assert_eq!(phoneme_text("今天 5 点", "zh"), "今天 5 点", "no number rules: left as written");
        assert_eq!(phoneme_text("a |b\tc", "de"), "a b c");
    }

    #[test]
    fn each_clip_gets_its_texts_phonemes_in_the_languages_voice() {
        let Some(ph) = phonemizer() else { return };
        let clips = [clip("r-00000", "Hello there."), clip("r-00001", "It is 5 pm. Time to go!")];
        let mut seen = Vec::new();
        let out =
            phonemize_clips(&ph, &PhonemizeSettings::default(), "r", "en", &clips, &mut |c| seen.push(c.name.clone()))
                .unwrap();
        assert_eq!(seen, ["r-00000", "r-00001"]);
        assert_eq!(out.voice.as_deref(), Some("en-us"));
        assert!(out.warnings.is_empty(), "{:?}", out.warnings);
        for (row, c) in out.rows.iter().zip(&clips) {
            let want = ph.phonemize("en-us", &normalize_english(&c.text)).unwrap().to_piper_string();
            assert_eq!(
                (row.clip.as_str(), row.text.as_str(), row.voice.as_str()),
                (c.name.as_str(), &*c.text, "en-us")
            );
            assert_eq!(row.phonemes, want);
        }
        assert_eq!(out.rows[1].phonemes.lines().count(), 2, "one sentence a line: {}", out.rows[1].phonemes);
        assert!(out.rows[1].phonemes.contains("fˈaɪv"), "numbers are spelled out first: {}", out.rows[1].phonemes);

        // German text in a German recording: as transcribed, in the `de` voice; a set voice wins.
        let de = phonemize_clips(&ph, &PhonemizeSettings::default(), "r", "de", &clips[..1], &mut |_| {}).unwrap();
        assert_eq!(de.voice.as_deref(), Some("de"));
        assert_eq!(de.rows[0].phonemes, ph.phonemize("de", "Hello there.").unwrap().to_piper_string());
        let set = PhonemizeSettings { voice: "en-gb-x-rp".into(), ..Default::default() };
        let gb = phonemize_clips(&ph, &set, "r", "de", &clips[..1], &mut |_| {}).unwrap();
        assert_eq!(gb.rows[0].voice, "en-gb-x-rp");
    }

    #[test]
    fn a_language_without_a_voice_warns_and_a_bad_voice_setting_fails() {
        let Some(ph) = phonemizer() else { return };
        let clips = [clip("talk-00000", "Hello there.")];
        let out = phonemize_clips(&ph, &PhonemizeSettings::default(), "talk", "xx", &clips, &mut |_| {}).unwrap();
        assert!(out.rows.is_empty() && out.voice.is_none());
        assert_eq!(out.warnings.len(), 1);
        let w = &out.warnings[0];
        assert!(w.starts_with("talk: ") && w.contains("`xx`") && w.contains("phonemize.voice"), "{w}");

        let set = PhonemizeSettings { voice: "no-such-voice".into(), ..Default::default() };
        let err = phonemize_clips(&ph, &set, "talk", "en", &clips, &mut |_| {}).unwrap_err().to_string();
        assert!(err.contains("phonemize.voice = \"no-such-voice\"") && err.contains("espeak-ng --voices"), "{err}");
        // The engine is still usable afterwards.
        let out = phonemize_clips(&ph, &PhonemizeSettings::default(), "talk", "en", &clips, &mut |_| {}).unwrap();
        assert_eq!(out.rows.len(), 1);
    }

    #[test]
    fn the_stage_stores_the_clips_phonemes_in_the_recordings_language() {
        use voxmill_project::{NewRecording, Project, WordYield};
        let Some(ph) = phonemizer() else { return };
        let dir = tempfile::tempdir().unwrap();
        let mut project = Project::init(&dir.path().join("p")).unwrap();
        let rec = project
            .catalog
            .insert_recording(&NewRecording {
                name: "talk".into(),
                source_path: "/in/talk.wav".into(),
                stored_path: "/in/talk.wav".into(),
                sha256: "0".repeat(64),
                size_bytes: 1,
                codec: "pcm_s16le".into(),
                container: "wav".into(),
                sample_rate: 16_000,
                channels: 1,
                duration_secs: 4.0,
            })
            .unwrap();
        let clips = vec![clip("talk-00000", "Guten Morgen."), clip("talk-00001", "Wie geht es dir?")];
        let mut c = voxmill_project::Catalog::open(&project.layout.catalog()).unwrap();
        c.record_done(rec.id, "transcribe", "t", r#"{"language":"de"}"#, 0.0, &StageRows::None).unwrap();
        let cut = StageRows::Clips { clips: clips.clone(), words: WordYield::new(0) };
        c.record_done(rec.id, "segment", "s", "{}", 0.0, &cut).unwrap();

        let resources = crate::Resources::new(true);
        let run = |project: &Project| {
            let ctx = StageContext {
                layout: &project.layout,
                settings: &project.settings,
                recording: &rec,
                catalog: &project.catalog,
                resources: &resources,
                progress: &|_: f64| {},
                threads: 1,
            };
            Phonemize.run(&ctx).unwrap()
        };
        let out = run(&project);
        let StageRows::Phonemes(rows) = &out.rows else { panic!("not phonemes: {:?}", out.rows) };
        assert_eq!(rows.len(), 2);
        for (row, c) in rows.iter().zip(&clips) {
            assert_eq!(row.voice, "de");
            assert_eq!(row.phonemes, ph.phonemize("de", &c.text).unwrap().to_piper_string(), "as transcribed");
        }
        assert_eq!((out.summary["phonemized"].as_u64(), out.summary["language"].as_str()), (Some(2), Some("de")));

        // A fixed asr.language decides the voice too; off stores nothing.
        project.settings.asr.language = "nl".into();
        let StageRows::Phonemes(rows) = run(&project).rows else { panic!() };
        assert!(rows.iter().all(|r| r.voice == "nl"));
        project.settings.phonemize.enabled = false;
        let StageRows::Phonemes(rows) = run(&project).rows else { panic!() };
        assert!(rows.is_empty());
    }

    #[test]
    fn missing_piper_data_says_to_run_setup() {
        let dir = tempfile::tempdir().unwrap();
        let set = PhonemizeSettings { espeak_data: dir.path().display().to_string(), ..Default::default() };
        let err = open_phonemizer(&set).unwrap_err().to_string();
        assert!(err.contains("phonemize.espeak_data") && err.contains("scripts/setup.sh"), "{err}");
        let err = missing_data(Some(Path::new("/usr/lib/x86_64-linux-gnu/espeak-ng-data")));
        assert!(err.contains("bash scripts/setup.sh") && err.contains("espeak-ng-data/phontab"), "{err}");
    }

    #[test]
    fn the_key_follows_the_voice_and_the_data() {
        let mut s = voxmill_project::Settings::default();
        let key = Phonemize.settings_key(&s);
        assert_eq!(key, Phonemize.settings_key(&s), "stable");
        s.phonemize.voice = "de".into();
        assert_ne!(Phonemize.settings_key(&s), key);
        s.phonemize.enabled = false;
        assert_eq!(Phonemize.settings_key(&s), "off");

        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        for d in [&a, &b] {
            std::fs::write(d.path().join("phontab"), "x").unwrap();
            std::fs::write(d.path().join("en_dict"), "for fˈɔːɹ").unwrap();
        }
        assert_eq!(data_identity(a.path()), data_identity(b.path()));
        std::fs::write(b.path().join("en_dict"), "for fˈoːɹ").unwrap();
        assert_ne!(data_identity(a.path()), data_identity(b.path()));
    }
}
