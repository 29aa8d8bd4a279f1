//! Times CTranslate2's Whisper encoder and a beam-5 decode on one 30 s window of synthetic features, to compare
//! this build of CTranslate2 (ct2rs, ruy backend) with another (e.g. the PyPI wheel).
//!
//! `cargo run --release -p voxmill-asr --example ct2_speed -- [MODEL_DIR] [THREADS]`

use std::time::Instant;

use ct2rs::sys::{self, StorageView, WhisperOptions};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let dir = args.next().filter(|m| !m.is_empty()).map_or_else(tiny_en, Into::into);
    let threads: usize = args.next().map_or(Ok(2), |t| t.parse())?;
    let config = sys::Config { num_threads_per_replica: threads, ..sys::Config::default() };
    let model = sys::Whisper::new(&dir, config)?;
    let mut features: Vec<f32> = (0..80 * 3000).map(|i| ((i % 97) as f32 / 97.0) - 0.5).collect();
    let view = StorageView::new(&[1, 80, 3000], &mut features, sys::Device::CPU)?;
    let _ = model.encode(&view, false)?;
    let t = Instant::now();
    let encoded = model.encode(&view, false)?;
    println!("encode: {:.3} s", t.elapsed().as_secs_f64());
    let options = WhisperOptions {
        beam_size: std::env::var("BEAM").ok().and_then(|b| b.parse().ok()).unwrap_or(5),
        max_length: 448,
        ..WhisperOptions::default()
    };
    let prompt = vec![vec!["<|startoftranscript|>", "<|notimestamps|>"]];
    let t = Instant::now();
    let r = model.generate(&encoded, &prompt, &options)?;
    println!("generate (beam 5): {:.3} s, {} tokens", t.elapsed().as_secs_f64(), r[0].sequences_ids[0].len());
    Ok(())
}

/// The Whisper tiny.en model `make setup` installs.
fn tiny_en() -> std::path::PathBuf {
    voxmill_models::Resolver::from_env(true)
        .locate("whisper:tiny.en")
        .expect("whisper:tiny.en is not installed; run `make setup`")
        .path
}
