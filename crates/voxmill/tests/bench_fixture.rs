//! Not a test: writes a ground-truth conversation (common/conversation.rs) for `voxmill bench diarize`, which
//! `scripts/bench-diarize.sh` runs as
//! `cargo test --release -p voxmill --test bench_fixture -- --ignored`. Settings come from the environment:
//!
//! * `VOXMILL_BENCH_FIXTURE_DIR` (required): the folder; it gets `<name>.wav`, `<name>.rttm` and `voice-cache/`
//!   (sentences synthesised once per voice, reused by every later conversation in the same folder).
//! * `VOXMILL_BENCH_FIXTURE_NAME` (default `conversation`): the file name, also the RTTM file id.
//! * `VOXMILL_BENCH_MINUTES` (default 5): the length.
//! * `VOXMILL_BENCH_VOICES` (default the four distinct voices of the diarization tests): comma-separated voice
//!   labels, e.g. `flite-slt,flite-awb,espeak-en-us-f3,piper-joe,flite-rms`.
//! * `VOXMILL_BENCH_SEED` (default 1): the same seed gives the same audio and RTTM.

mod common;

use common::conversation::*;

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_string())
}

#[test]
#[ignore = "writes a benchmark fixture; scripts/bench-diarize.sh runs it"]
fn write_conversation() {
    let dir = std::env::var("VOXMILL_BENCH_FIXTURE_DIR").expect("set VOXMILL_BENCH_FIXTURE_DIR to the output folder");
    let name = env_or("VOXMILL_BENCH_FIXTURE_NAME", "conversation");
    let minutes: f64 = env_or("VOXMILL_BENCH_MINUTES", "5").parse().expect("VOXMILL_BENCH_MINUTES is a number");
    let seed: u64 = env_or("VOXMILL_BENCH_SEED", "1").parse().expect("VOXMILL_BENCH_SEED is a whole number");
    let default_voices: Vec<String> = FOUR_VOICES.iter().map(Voice::label).collect();
    let wanted = env_or("VOXMILL_BENCH_VOICES", &default_voices.join(","));
    let voices: Vec<Voice> = wanted
        .split(',')
        .map(|label| {
            let label = label.trim();
            *ALL_VOICES.iter().find(|v| v.label() == label).unwrap_or_else(|| {
                let known: Vec<String> = ALL_VOICES.iter().map(Voice::label).collect();
                panic!("VOXMILL_BENCH_VOICES: unknown voice {label:?}; known: {}", known.join(", "))
            })
        })
        .collect();
    let c = conversation(std::path::Path::new(&dir), &name, &voices, seed, minutes * 60.0);
    println!("audio {}", c.audio.display());
    println!("rttm {}", c.rttm.display());
    println!("{:.1} s, {} turns, speakers {}", c.seconds(), c.turns.len(), c.speakers.join(" "));
}
