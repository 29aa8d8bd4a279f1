//! Prints the phonemes of each line of standard input, in the voice given as the first argument, as one JSON
//! array of sentence strings per line: the same format `scripts/piper_phonemes.py` prints for Piper, so
//! `scripts/check-phonemes.sh` can compare the two line by line.
//!
//!     cargo run -p voxmill-phonemize --example phonemize -- en-us < sentences.txt

use std::io::BufRead;

fn main() {
    let voice = std::env::args().nth(1).unwrap_or_else(|| "en-us".to_string());
    let (data, system) = voxmill_phonemize::find_data_dir(None).unwrap_or_else(|e| {
        eprintln!("error: {e}");
        std::process::exit(2)
    });
    if system {
        eprintln!("warning: using the system's espeak-ng data ({}), not Piper's", data.display());
    }
    let ph = voxmill_phonemize::Phonemizer::new(&data).unwrap_or_else(|e| {
        eprintln!("error: {e}");
        std::process::exit(2)
    });
    for line in std::io::stdin().lock().lines() {
        let line = line.expect("stdin");
        if line.is_empty() {
            continue;
        }
        match ph.phonemize(&voice, &line) {
            Ok(p) => {
                let quoted: Vec<String> = p.sentences.iter().map(|s| json_string(s)).collect();
                println!("[{}]", quoted.join(", "));
            }
            Err(e) => {
                eprintln!("error: {e}");
                std::process::exit(1)
            }
        }
    }
}

/// A JSON string literal as Python's `json.dumps(..., ensure_ascii=False)` writes it.
fn json_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
