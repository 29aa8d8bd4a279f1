//! Prints the TTS normalisation of each line on stdin: `cargo run -p voxmill-export --example normalize < text.txt`.

use std::io::BufRead;

fn main() {
    for line in std::io::stdin().lock().lines() {
        println!("{}", voxmill_export::normalize_english(&line.expect("stdin is UTF-8 text")));
    }
}
