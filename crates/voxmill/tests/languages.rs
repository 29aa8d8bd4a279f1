//! Speech in other languages, end to end, as a fresh project takes it (`asr.model = "auto"`, `asr.language = ""`):
//! the multilingual Whisper base transcribes synthetic Spanish, German and French (espeak-ng voices), each
//! recording's language is identified, the clip texts are measured against the script (WER) and every clip ends
//! at a sentence end. A recording that switches from Spanish to English is reported as mixing languages.
//! Slovenian runs with the language set (Whisper does not recognise espeak-ng's Slovenian voice as Slovenian, so
//! detecting it would not be a fair test). Synthetic voices get language probabilities of only 0.6-0.7, so the
//! probability gate (`quality.min_language_probability`) is off here; its own tests are in the quality gates.
//! Speakers are found with GE2E windows without the segmentation model, as in the other synthetic-voice tests:
//! segmentation-3.0 hears espeak-ng's voice as two people talking at once for 10 % of the time (3.8 s of 39 s),
//! and words in overlap are left out of clips.

mod common;

use std::path::Path;

use common::*;

const SPANISH: &[&str] = &[
    "El tren salió de la estación a las ocho de la mañana.",
    "Los pasajeros miraban por la ventana mientras el campo pasaba lentamente.",
    "Una mujer leía un libro sobre la historia de la ciudad.",
    "El revisor pidió los billetes con una sonrisa amable.",
    "Cuando llegamos al pueblo, la plaza estaba llena de gente.",
    "Había un mercado con frutas, verduras y pan recién hecho.",
    "Por la tarde caminamos hasta el río y descansamos bajo los árboles.",
    "Al volver a casa, la cena ya estaba preparada en la mesa.",
];

const GERMAN: &[&str] = &[
    "Der Zug verließ den Bahnhof am frühen Morgen.",
    "Die Reisenden schauten aus dem Fenster auf die grünen Felder.",
    "Eine Frau las ein Buch über die Geschichte der Stadt.",
    "Der Schaffner kontrollierte freundlich die Fahrkarten.",
    "Im Dorf war der Marktplatz voller Menschen.",
    "Es gab frisches Brot, Obst und Gemüse aus der Gegend.",
    "Am Nachmittag gingen wir zum Fluss und ruhten uns im Schatten aus.",
    "Als wir nach Hause kamen, stand das Abendessen schon auf dem Tisch.",
];

const FRENCH: &[&str] = &[
    "Le train a quitté la gare tôt le matin.",
    "Les voyageurs regardaient les champs par la fenêtre.",
    "Une femme lisait un livre sur l'histoire de la ville.",
    "Le contrôleur a vérifié les billets avec un sourire.",
    "Au village, la place du marché était pleine de monde.",
    "Il y avait du pain frais, des fruits et des légumes.",
    "L'après-midi, nous avons marché jusqu'à la rivière.",
    "Quand nous sommes rentrés, le dîner était déjà servi.",
];

const SLOVENIAN: &[&str] = &[
    "Vlak je zjutraj odpeljal s postaje.",
    "Potniki so gledali skozi okno na zelena polja.",
    "Ženska je brala knjigo o zgodovini mesta.",
    "Sprevodnik je prijazno pregledal vozovnice.",
    "V vasi je bil trg poln ljudi.",
    "Popoldne smo šli do reke in počivali v senci.",
];

const ENGLISH: &[&str] = &[
    "The morning was cold and the sky was grey over the harbour.",
    "Fishermen were loading their boats with nets and ropes.",
    "A small dog ran along the pier, barking at the seagulls.",
    "By noon the fog had lifted and the sun came out at last.",
    "We bought fresh bread and walked up the hill to the old church.",
    "From there we could see the whole town and the sea beyond it.",
];

/// Speaks `sentences` with the espeak-ng voice `voice`, one after the other with 0.8 s of silence after each, into
/// a 16 kHz mono WAV at `path`.
fn spoken(dir: &Path, path: &Path, voice: &str, sentences: &[&str]) {
    let mut parts = Vec::new();
    for (i, sentence) in sentences.iter().enumerate() {
        let raw = dir.join(format!("{voice}-{i}.raw.wav"));
        let part = dir.join(format!("{voice}-{i}.wav"));
        tool("espeak-ng", &["-v", voice, "-s", "150", "-w", raw.to_str().unwrap(), sentence]);
        tool(
            "sox",
            &[raw.to_str().unwrap(), "-r", "16000", "-c", "1", "-b", "16", part.to_str().unwrap(), "pad", "0", "0.8"],
        );
        std::fs::remove_file(raw).unwrap();
        parts.push(part);
    }
    let mut args: Vec<&str> = parts.iter().map(|p| p.to_str().unwrap()).collect();
    args.push(path.to_str().unwrap());
    tool("sox", &args);
    for p in parts {
        std::fs::remove_file(p).unwrap();
    }
}

/// The accepted and rejected clips of recording `name`, in order: (text, verdict).
fn clip_texts(project: &Path, name: &str) -> Vec<String> {
    let conn = catalog(project);
    let mut stmt = conn
        .prepare(
            "SELECT c.text FROM clips c JOIN recordings r ON r.id = c.recording_id WHERE r.name = ?1 ORDER BY c.idx",
        )
        .unwrap();
    stmt.query_map([name], |r| r.get::<_, String>(0)).unwrap().map(Result::unwrap).collect()
}

/// Runs the whole pipeline on the project, which must succeed; returns the run's JSON summary.
fn run_project(project: &Path) -> serde_json::Value {
    let out = voxmill().args(["run", "--offline", "--json"]).arg(project).output().unwrap();
    assert!(out.status.success(), "{}\n{}", stdout(&out), stderr(&out));
    serde_json::from_str(stdout(&out).lines().last().unwrap()).unwrap()
}

/// `voxmill init`, with the language probability gate off and speakers found as in the other synthetic tests.
fn init(project: &Path) {
    let out = run(&[&"init", &project]);
    assert!(out.status.success(), "{}", stderr(&out));
    set_setting(project, "quality", "min_language_probability", "0.0");
    set_setting(project, "diarize", "embedding_model", "\"speaker:resemblyzer\"");
    set_setting(project, "diarize", "segmentation_model", "\"\"");
}

/// How a recording's clip texts are measured against the script.
#[derive(Clone, Copy)]
enum Measure {
    Wer(f64),
    Cer(f64),
}

/// Checks one recording of a finished project: its language, the error rate of its clips against `script`, and
/// that every clip ends at a sentence end.
fn check_recording(project: &Path, name: &str, language: &str, script: &[&str], bound: Measure) {
    let rows = status_json(project);
    let row = rows.iter().find(|r| r["recording"] == name).unwrap_or_else(|| panic!("no {name}: {rows:?}"));
    assert_eq!(row["language"], language, "{name}: {row}");
    let clips = clip_texts(project, name);
    assert!(clips.len() >= 2, "{name}: only {} clip(s): {clips:?}", clips.len());
    let (reference, hypothesis) = (script.join(" "), clips.join(" "));
    let wer = voxmill_asr::wer::word_error_rate(&reference, &hypothesis);
    let cer = voxmill_asr::wer::character_error_rate(&reference, &hypothesis);
    println!(
        "{name}: language {} (p {}), {} clips, WER {:.1}% ({wer:?}), CER {:.1}%",
        row["language"],
        row["language_probability"],
        clips.len(),
        wer.wer * 100.0,
        cer.wer * 100.0
    );
    for c in &clips {
        println!("  {c}");
    }
    let (what, rate, max) = match bound {
        Measure::Wer(max) => ("WER", wer.wer, max),
        Measure::Cer(max) => ("CER", cer.wer, max),
    };
    assert!(rate <= max, "{name}: {what} {:.1}% is above {:.0}%", rate * 100.0, max * 100.0);
    for c in &clips {
        let end = c.trim_end_matches(['"', '\'', '»', '”', ')']).trim_end();
        assert!(end.ends_with(['.', '!', '?', '…']), "{name}: the clip {c:?} does not end at a sentence end");
    }
}

#[test]
fn spanish_german_and_french_are_identified_transcribed_and_cut_at_sentence_ends() {
    let dir = tempfile::tempdir().unwrap();
    let audio = dir.path().join("audio");
    std::fs::create_dir(&audio).unwrap();
    spoken(dir.path(), &audio.join("cuento.wav"), "es", SPANISH);
    spoken(dir.path(), &audio.join("geschichte.wav"), "de", GERMAN);
    // espeak-ng's default French variant is heard as Thai or Latin by Whisper base (faster-whisper's detection
    // too: "th" 0.26-0.42, "la"); its m7 variant as French (0.80 in faster-whisper).
    spoken(dir.path(), &audio.join("histoire.wav"), "fr+m7", FRENCH);
    // Spanish, then English: one recording in two languages.
    let (es, en) = (dir.path().join("es.wav"), dir.path().join("en.wav"));
    spoken(dir.path(), &es, "es", SPANISH);
    spoken(dir.path(), &en, "en-us", ENGLISH);
    tool("sox", &[es.to_str().unwrap(), en.to_str().unwrap(), audio.join("mezcla.wav").to_str().unwrap()]);

    let project = dir.path().join("project");
    init(&project);
    let toml = std::fs::read_to_string(project.join("voxmill.toml")).unwrap();
    assert!(toml.contains("model = \"auto\"") && toml.contains("language = \"\""), "a fresh project detects: {toml}");
    let out = run(&[&"add", &project, &audio]);
    assert!(out.status.success(), "{}", stderr(&out));
    let summary = run_project(&project);
    assert_eq!(summary["failures"].as_array().unwrap().len(), 0, "{summary}");

    // The fresh project picked the multilingual model.
    let conn = catalog(&project);
    let models: Vec<String> = conn
        .prepare("SELECT DISTINCT json_extract(outputs, '$.model') FROM stage_runs WHERE stage = 'transcribe'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(models, ["whisper:base"]);

    // Measured 2026-11-29: WER 33 / 21 / 55-60 %. The synthetic voices decide most of it: faster-whisper's batched
    // pipeline with the same model got 53 % on the same French voice.
    check_recording(&project, "cuento", "es", SPANISH, Measure::Wer(0.40));
    check_recording(&project, "geschichte", "de", GERMAN, Measure::Wer(0.30));
    check_recording(&project, "histoire", "fr", FRENCH, Measure::Wer(0.65));

    // The bilingual recording: its main language, and the other one reported with its share.
    let rows = status_json(&project);
    let mixed = rows.iter().find(|r| r["recording"] == "mezcla").unwrap();
    let languages = mixed["languages"].as_object().unwrap_or_else(|| panic!("no languages: {mixed}"));
    assert!(languages.contains_key("es") && languages.contains_key("en"), "{mixed}");
    assert_eq!(mixed["mixed_language"], if mixed["language"] == "es" { "en" } else { "es" }, "{mixed}");
    for single in ["cuento", "geschichte", "histoire"] {
        let row = rows.iter().find(|r| r["recording"] == single).unwrap();
        assert!(row["mixed_language"].is_null(), "{row}");
    }
}

#[test]
fn slovenian_runs_with_the_language_set() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("zgodba.wav");
    spoken(dir.path(), &input, "sl", SLOVENIAN);
    let project = dir.path().join("project");
    init(&project);
    set_setting(&project, "asr", "language", "\"sl\"");
    let out = run(&[&"add", &project, &input]);
    assert!(out.status.success(), "{}", stderr(&out));
    let summary = run_project(&project);
    assert_eq!(summary["failures"].as_array().unwrap().len(), 0, "{summary}");
    let row = &status_json(&project)[0];
    assert_eq!(row["language_probability"], 1.0, "{row}");
    // Whisper base hears espeak-ng's Slovenian as near-Slovenian words ("Ulak je njutraj od peljau postaje" for
    // "Vlak je zjutraj odpeljal s postaje"): WER 86 %, so the characters are measured.
    check_recording(&project, "zgodba", "sl", SLOVENIAN, Measure::Cer(0.35));
}
