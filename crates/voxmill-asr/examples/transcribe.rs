//! Transcribes a 16 kHz mono WAV and prints the transcript as JSON.
//!
//! `cargo run -p voxmill-asr --example transcribe -- AUDIO.wav [MODEL_DIR] [START-END,START-END,...]`

use std::path::PathBuf;

use voxmill_asr::{Whisper, WhisperConfig};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let wav = PathBuf::from(args.next().ok_or("usage: transcribe AUDIO.wav [MODEL_DIR] [REGIONS]")?);
    let model = args.next().filter(|m| !m.is_empty()).map_or_else(tiny_en, PathBuf::from);
    let regions: Vec<(f64, f64)> = match args.next() {
        Some(r) => r
            .split(',')
            .map(|p| {
                let (a, b) = p.split_once('-').ok_or("regions look like 0.5-3.2,4-9")?;
                Ok::<_, Box<dyn std::error::Error>>((a.parse()?, b.parse()?))
            })
            .collect::<Result<_, _>>()?,
        None => {
            let r = hound::WavReader::open(&wav)?;
            vec![(0.0, r.duration() as f64 / 16000.0)]
        }
    };
    let config = WhisperConfig::default();
    let whisper = Whisper::load(&model, &config)?;
    let t0 = std::time::Instant::now();
    let t = whisper.transcribe_file(&wav, &regions, &mut |_| {})?;
    eprintln!("transcribed in {:.2} s", t0.elapsed().as_secs_f64());
    println!("{}", serde_json::to_string_pretty(&t)?);
    Ok(())
}

/// The Whisper tiny.en model `make setup` installs.
fn tiny_en() -> std::path::PathBuf {
    voxmill_models::Resolver::from_env(true)
        .locate("whisper:tiny.en")
        .expect("whisper:tiny.en is not installed; run `make setup`")
        .path
}
