//! Phonemes as Piper's own phonemizer makes them, so a voice trained on voxmill's phonemes hears at training time
//! exactly what Piper will feed it at synthesis time.
//!
//! Piper (PyPI `piper-tts`, piper1-gpl; and the older `piper-phonemize`) phonemizes with espeak-ng's C library:
//! it asks `espeak_TextToPhonemesWithTerminator` for one clause at a time in IPA mode, drops the `(lang)` switch
//! marks espeak puts around foreign words, appends the clause's punctuation (`.` `?` `!` `,` `:` `;`, the last
//! three followed by a space), starts a new sentence after a clause of sentence type, and decomposes every
//! phoneme string to Unicode NFD. [`Phonemizer::phonemize`] does the same through the same C API, called by hand
//! (`ffi`), and returns the sentences; [`Phonemes::to_piper_string`] joins them one per line, which is the
//! content of the `<utt>.phonemes.txt` file Piper's trainer writes for an utterance.
//!
//! Which espeak-ng decides the phonemes (see the README's "Phonemes" section for the measurements):
//! - the *data* (dictionaries, `espeak-ng-data/`) differs between releases: Debian 12's 1.51 data says "for" is
//!   `fˈoːɹ`, Piper's bundled data `fˈɔːɹ`. voxmill therefore reads the data Piper bundles, installed by
//!   `scripts/setup.sh` from the pinned `piper-tts` wheel into `$VOXMILL_HOME/espeak-ng-data` (see
//!   [`find_data_dir`]);
//! - the *library* differs too: espeak-ng after 1.52.0 picks some IPA symbols by context (German `r` after a
//!   consonant, Spanish `iʲ` before a vowel), which Piper, built on a newer espeak-ng, has and 1.51 lacks. With a
//!   library that has `espeak_TextToPhonemesWithTerminator` it is used as Piper uses it; with an older one (Debian
//!   12's 1.51) each clause's terminator is recovered from the text the clause consumed ([`terminator`]).
//!
//! espeak-ng keeps its state in globals and is not thread-safe: every call goes through one process-wide lock,
//! and the library is initialised once per process, with one data directory.

mod ffi;
pub mod terminator;
mod voices;

use std::ffi::{CStr, CString, c_void};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use unicode_normalization::UnicodeNormalization;

pub use terminator::{Clause, ClauseEnd};
pub use voices::voice_for_language;

/// Why phonemes could not be made. Each message names what was being read and what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum PhonemizeError {
    #[error(
        "{path}: not an espeak-ng data directory (no `phontab` in it); run `bash scripts/setup.sh`, which installs \
         Piper's espeak-ng data into $VOXMILL_HOME/espeak-ng-data, or point `phonemize.espeak_data` at one"
    )]
    NoData { path: PathBuf },
    #[error(
        "{path}: espeak-ng could not initialise with this data directory (error {code}); check that it is a complete \
         espeak-ng-data folder (e.g. reinstall it with `bash scripts/setup.sh`)"
    )]
    Init { path: PathBuf, code: i32 },
    #[error(
        "espeak-ng is already initialised in this process with the data in {current}; it cannot switch to {requested} \
         (espeak-ng keeps one data directory per process): use one `phonemize.espeak_data` for the whole run"
    )]
    OtherData { current: PathBuf, requested: PathBuf },
    #[error(
        "espeak-ng has no voice `{voice}` in {data}; set `phonemize.voice` in voxmill.toml to one it has \
         (`espeak-ng --voices` lists them)"
    )]
    UnknownVoice { voice: String, data: PathBuf },
    #[error("the text to phonemize contains a NUL character at byte {0}; remove it from the transcript")]
    Nul(usize),
    #[error(
        "espeak-ng could not decode the text {text:?} (voice `{voice}`); the transcript may hold characters it cannot read"
    )]
    Decode { voice: String, text: String },
    #[error("espeak-ng returned phonemes that are not UTF-8 for {text:?} (voice `{voice}`)")]
    NotUtf8 { voice: String, text: String },
}

/// The phonemes of one text: one string per sentence, exactly the strings Piper's `EspeakPhonemizer.phonemize`
/// returns joined codepoint by codepoint (so the same NFD codepoints, punctuation and spaces).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Phonemes {
    /// One entry per sentence, in order. Empty strings are kept where Piper keeps them (a text ending in spaces
    /// after its last sentence gives a last, empty sentence), so that the sentence count agrees too.
    pub sentences: Vec<String>,
}

impl Phonemes {
    /// The sentences one per line: what Piper's trainer writes to an utterance's `phonemes.txt` (less its final
    /// newline), and the form voxmill stores and exports.
    pub fn to_piper_string(&self) -> String {
        self.sentences.join("\n")
    }
}

/// Where the espeak-ng data comes from, in order: an explicit path (the `phonemize.espeak_data` setting), then
/// `$VOXMILL_ESPEAK_DATA`, then `$VOXMILL_HOME/espeak-ng-data` (Piper's data, installed by `scripts/setup.sh`),
/// then the system's data (Debian: `/usr/lib/x86_64-linux-gnu/espeak-ng-data`), whose phonemes can differ from
/// Piper's. Returns the directory and whether it is the system fallback.
pub fn find_data_dir(explicit: Option<&Path>) -> Result<(PathBuf, bool), PhonemizeError> {
    let check = |p: PathBuf| if p.join("phontab").is_file() { Ok(p) } else { Err(PhonemizeError::NoData { path: p }) };
    if let Some(p) = explicit.filter(|p| !p.as_os_str().is_empty()) {
        return check(p.to_path_buf()).map(|p| (p, false));
    }
    if let Some(p) = std::env::var_os("VOXMILL_ESPEAK_DATA").filter(|p| !p.is_empty()) {
        return check(PathBuf::from(p)).map(|p| (p, false));
    }
    let home = std::env::var_os("VOXMILL_HOME")
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share/voxmill")));
    if let Some(p) = home.map(|h| h.join("espeak-ng-data")).filter(|p| p.join("phontab").is_file()) {
        return Ok((p, false));
    }
    for system in [
        "/usr/lib/x86_64-linux-gnu/espeak-ng-data",
        "/usr/lib/aarch64-linux-gnu/espeak-ng-data",
        "/usr/share/espeak-ng-data",
        "/usr/lib/espeak-ng-data",
    ] {
        let p = PathBuf::from(system);
        if p.join("phontab").is_file() {
            return Ok((p, true));
        }
    }
    Err(PhonemizeError::NoData { path: PathBuf::from("$VOXMILL_HOME/espeak-ng-data") })
}

/// The version of the linked espeak-ng library (e.g. "1.51"), for fingerprints and reports.
pub fn library_version() -> String {
    let _lock = ENGINE.lock().unwrap_or_else(|e| e.into_inner());
    // SAFETY: espeak_Info only reads a static string; a null pointer asks for no data path.
    let v = unsafe { ffi::espeak_Info(std::ptr::null_mut()) };
    if v.is_null() { String::new() } else { unsafe { CStr::from_ptr(v) }.to_string_lossy().into_owned() }
}

/// Whether the linked library has `espeak_TextToPhonemesWithTerminator` (espeak-ng 1.52 and later); without it
/// clause terminators are recovered from the text (see [`terminator`]).
pub fn has_terminator_api() -> bool {
    ffi::with_terminator().is_some()
}

/// The process's espeak-ng state: initialised once, with one data directory, and the voice set last.
struct Engine {
    data: PathBuf,
    voice: Option<String>,
}

/// espeak-ng is not thread-safe (its translator, buffers and voice are globals): every call holds this lock.
static ENGINE: Mutex<Option<Engine>> = Mutex::new(None);

/// A handle on the process's espeak-ng, initialised with one data directory. Cheap to clone and to share; calls
/// from many threads take turns.
#[derive(Debug, Clone)]
pub struct Phonemizer {
    data: PathBuf,
}

impl Phonemizer {
    /// Initialises espeak-ng with the data in `data` (a folder holding `phontab`, `phondata`, `*_dict`, `voices/`),
    /// or checks that it already was with the same one.
    pub fn new(data: &Path) -> Result<Phonemizer, PhonemizeError> {
        if !data.join("phontab").is_file() {
            return Err(PhonemizeError::NoData { path: data.to_path_buf() });
        }
        let data = data.canonicalize().unwrap_or_else(|_| data.to_path_buf());
        let mut engine = ENGINE.lock().unwrap_or_else(|e| e.into_inner());
        match engine.as_ref() {
            Some(e) if e.data == data => {}
            Some(e) => return Err(PhonemizeError::OtherData { current: e.data.clone(), requested: data }),
            None => {
                let path = CString::new(data.as_os_str().as_encoded_bytes())
                    .map_err(|_| PhonemizeError::NoData { path: data.clone() })?;
                // SAFETY: the path is a valid C string; synchronous mode starts no thread and opens no audio
                // device; DONT_EXIT makes a bad data folder an error code instead of exit().
                let rate = unsafe {
                    ffi::espeak_Initialize(ffi::AUDIO_OUTPUT_SYNCHRONOUS, 0, path.as_ptr(), ffi::INITIALIZE_DONT_EXIT)
                };
                if rate <= 0 {
                    return Err(PhonemizeError::Init { path: data, code: rate });
                }
                *engine = Some(Engine { data: data.clone(), voice: None });
            }
        }
        Ok(Phonemizer { data })
    }

    /// The data directory espeak-ng reads.
    pub fn data_dir(&self) -> &Path {
        &self.data
    }

    /// Checks that espeak-ng has `voice` (and selects it).
    pub fn check_voice(&self, voice: &str) -> Result<(), PhonemizeError> {
        let mut engine = ENGINE.lock().unwrap_or_else(|e| e.into_inner());
        set_voice(engine.as_mut().expect("initialised by Phonemizer::new"), voice)
    }

    /// `text`'s phonemes in espeak-ng voice `voice` (e.g. "en-us", "de", "fr"), sentence by sentence, exactly as
    /// Piper's `EspeakPhonemizer.phonemize(voice, text)` makes them (without vowel-cluster merging, which only
    /// regroups the same codepoints into tokens).
    pub fn phonemize(&self, voice: &str, text: &str) -> Result<Phonemes, PhonemizeError> {
        if let Some(at) = text.find('\0') {
            return Err(PhonemizeError::Nul(at));
        }
        let mut engine = ENGINE.lock().unwrap_or_else(|e| e.into_inner());
        let engine = engine.as_mut().expect("initialised by Phonemizer::new");
        set_voice(engine, voice)?;
        let clauses = clauses(voice, text)?;
        Ok(assemble(&clauses))
    }
}

fn set_voice(engine: &mut Engine, voice: &str) -> Result<(), PhonemizeError> {
    if engine.voice.as_deref() == Some(voice) {
        return Ok(());
    }
    let unknown = || PhonemizeError::UnknownVoice { voice: voice.to_string(), data: engine.data.clone() };
    let name = CString::new(voice).map_err(|_| unknown())?;
    // SAFETY: a valid C string; the ENGINE lock is held.
    if unsafe { ffi::espeak_SetVoiceByName(name.as_ptr()) } != ffi::EE_OK {
        engine.voice = None;
        return Err(unknown());
    }
    engine.voice = Some(voice.to_string());
    Ok(())
}

/// espeak-ng's clauses of `text`: phonemes and how each ended. The caller holds the ENGINE lock and has set the
/// voice.
fn clauses(voice: &str, text: &str) -> Result<Vec<Clause>, PhonemizeError> {
    let c_text = CString::new(text).map_err(|e| PhonemizeError::Nul(e.nul_position()))?;
    let base = c_text.as_ptr() as usize;
    let mut ptr: *const c_void = c_text.as_ptr().cast();
    let with_terminator = ffi::with_terminator();
    let mut out = Vec::new();
    let mut consumed_from = 0usize;
    while !ptr.is_null() {
        let mut raw_terminator: i32 = 0;
        // SAFETY: `ptr` points into `c_text` (NUL-terminated, alive for the loop); espeak advances it past the
        // clause or sets it to null at the end. The ENGINE lock is held.
        let phonemes = unsafe {
            match with_terminator {
                Some(f) => f(&mut ptr, ffi::CHARS_AUTO, ffi::PHONEMES_IPA, &mut raw_terminator),
                None => ffi::espeak_TextToPhonemes(&mut ptr, ffi::CHARS_AUTO, ffi::PHONEMES_IPA),
            }
        };
        if phonemes.is_null() {
            return Err(PhonemizeError::Decode { voice: voice.to_string(), text: text.to_string() });
        }
        // SAFETY: espeak returns a NUL-terminated string in its own buffer, valid until the next call.
        let phonemes = unsafe { CStr::from_ptr(phonemes) }
            .to_str()
            .map_err(|_| PhonemizeError::NotUtf8 { voice: voice.to_string(), text: text.to_string() })?
            .to_string();
        let consumed_to = if ptr.is_null() { text.len() } else { (ptr as usize).saturating_sub(base).min(text.len()) };
        let end = match with_terminator {
            Some(_) => ClauseEnd::from_espeak(raw_terminator),
            None => {
                let segment = text.get(consumed_from..consumed_to).unwrap_or("");
                terminator::from_consumed_text(segment, ptr.is_null())
            }
        };
        consumed_from = consumed_to;
        out.push(Clause { phonemes, end });
    }
    Ok(out)
}

/// Piper's assembly of clauses into sentences (piper/phonemize_espeak.py): language-switch marks `(xx)` removed,
/// the terminator appended (a space after `,` `:` `;`), NFD decomposition, a new sentence after a sentence end.
pub fn assemble(clauses: &[Clause]) -> Phonemes {
    let mut sentences = Vec::new();
    let mut current = String::new();
    for clause in clauses {
        let mut s = strip_language_marks(&clause.phonemes);
        if let Some(p) = clause.end.punctuation {
            s.push(p);
            if matches!(p, ',' | ':' | ';') {
                s.push(' ');
            }
        }
        current.extend(s.nfd());
        if clause.end.sentence {
            sentences.push(std::mem::take(&mut current));
        }
    }
    if !current.is_empty() {
        sentences.push(current);
    }
    Phonemes { sentences }
}

/// Removes `(...)` groups, as Piper's `re.sub(r"\([^)]+\)", "", ...)` does: an opening parenthesis, at least one
/// character that is not `)`, and the closing one. Anything else is kept.
fn strip_language_marks(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(open) = rest.find('(') {
        let after = &rest[open + 1..];
        match after.find(')') {
            Some(close) if close > 0 => {
                out.push_str(&rest[..open]);
                rest = &after[close + 1..];
            }
            _ => {
                out.push_str(&rest[..open + 1]);
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests;
