//! The few espeak-ng C functions voxmill calls (`speak_lib.h`), declared by hand: linking `libespeak-ng` is all
//! it takes, no binding generator. Callers hold the crate's ENGINE lock around every call.

use std::ffi::{c_char, c_int, c_void};
use std::sync::OnceLock;

/// `AUDIO_OUTPUT_SYNCHRONOUS`: no audio device, no thread.
pub const AUDIO_OUTPUT_SYNCHRONOUS: c_int = 2;
/// `espeakINITIALIZE_DONT_EXIT`: report a bad data folder instead of calling exit().
pub const INITIALIZE_DONT_EXIT: c_int = 0x8000;
/// `espeakCHARS_AUTO`: UTF-8 (or the language's 8-bit set if not valid UTF-8), as Piper passes.
pub const CHARS_AUTO: c_int = 0;
/// `espeakPHONEMES_IPA`: phonemes as IPA (UTF-8), no separator, as Piper asks.
pub const PHONEMES_IPA: c_int = 0x02;
/// `EE_OK`.
pub const EE_OK: c_int = 0;

#[link(name = "espeak-ng")]
unsafe extern "C" {
    pub fn espeak_Initialize(output: c_int, buflength: c_int, path: *const c_char, options: c_int) -> c_int;
    pub fn espeak_SetVoiceByName(name: *const c_char) -> c_int;
    pub fn espeak_TextToPhonemes(textptr: *mut *const c_void, textmode: c_int, phonememode: c_int) -> *const c_char;
    pub fn espeak_Info(path_data: *mut *const c_char) -> *const c_char;
}

/// `espeak_TextToPhonemesWithTerminator`, which Piper calls (espeak-ng 1.52 and later).
pub type WithTerminator = unsafe extern "C" fn(
    textptr: *mut *const c_void,
    textmode: c_int,
    phonememode: c_int,
    terminator: *mut c_int,
) -> *const c_char;

/// The linked library's `espeak_TextToPhonemesWithTerminator`, looked up at run time so that one binary works
/// with espeak-ng 1.51 (which lacks it) and uses it where the library has it.
pub fn with_terminator() -> Option<WithTerminator> {
    static FOUND: OnceLock<Option<usize>> = OnceLock::new();
    let addr = *FOUND.get_or_init(|| {
        // Make sure the library is loaded before asking the dynamic linker (it is: we link it).
        // SAFETY: dlsym with RTLD_DEFAULT searches the objects already loaded; the name is a C string literal.
        let p = unsafe { libc::dlsym(libc::RTLD_DEFAULT, c"espeak_TextToPhonemesWithTerminator".as_ptr()) };
        (!p.is_null()).then_some(p as usize)
    });
    // SAFETY: the symbol has this signature in every espeak-ng that exports it (speak_lib.h).
    addr.map(|a| unsafe { std::mem::transmute::<usize, WithTerminator>(a) })
}
