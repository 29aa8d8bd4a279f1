//! Which espeak-ng voice phonemizes a language, as Piper's voices choose it.

/// The espeak-ng voice Piper's voices use for an ISO 639-1 language code (the language Whisper settled on), e.g.
/// `en` → `en-us` (Piper's en_US voices; en_GB ones use `en-gb-x-rp`), `fr` → `fr`, `zh` → `cmn`, `no` → `nb`.
/// A code not in the table is returned as it is: espeak-ng names most voices by the bare code (`de`, `es`, `it`,
/// …), and one it lacks is reported when the voice is set. A region (`pt-BR`, `en_GB`) picks the regional voice
/// where Piper has one.
pub fn voice_for_language(language: &str) -> Option<String> {
    let lang = language.trim().to_ascii_lowercase().replace('_', "-");
    if lang.is_empty() {
        return None;
    }
    let regional = match lang.as_str() {
        "en-gb" | "en-uk" => Some("en-gb-x-rp"),
        "en-us" => Some("en-us"),
        "pt-br" => Some("pt-br"),
        "pt-pt" => Some("pt"),
        "es-mx" | "es-419" => Some("es-419"),
        _ => None,
    };
    if let Some(v) = regional {
        return Some(v.to_string());
    }
    let base = lang.split('-').next().unwrap_or(&lang);
    let voice = match base {
        "en" => "en-us",
        "zh" => "cmn",
        "no" | "nb" => "nb",
        "fa" => "fa",
        "el" => "el",
        other => other,
    };
    Some(voice.to_string())
}
