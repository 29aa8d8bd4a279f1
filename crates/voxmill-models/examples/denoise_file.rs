//! Denoises a mono WAV with DeepFilterNet3 or RNNoise (developer tool, for comparing with a reference):
//! `cargo run -p voxmill-models --example denoise_file -- <deepfilternet|rnnoise> IN.wav OUT.wav [MODEL_DIR]`.

use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 3 {
        return Err("usage: denoise_file <deepfilternet|rnnoise> IN.wav OUT.wav [MODEL_DIR]".into());
    }
    let mut denoiser: Box<dyn voxmill_audio::Denoiser> = match args[0].as_str() {
        "rnnoise" => Box::new(voxmill_models::Rnnoise::new()),
        _ => {
            let dir = args
                .get(3)
                .map(PathBuf::from)
                .unwrap_or_else(|| voxmill_models::voxmill_home().join("models/denoise-deepfilternet3"));
            Box::new(voxmill_models::DeepFilter::load(&dir, 2)?)
        }
    };
    let started = std::time::Instant::now();
    let report = voxmill_audio::enhance_wav(
        std::path::Path::new(&args[1]),
        std::path::Path::new(&args[2]),
        denoiser.as_mut(),
        &mut |_| {},
    )?;
    let secs = started.elapsed().as_secs_f64();
    eprintln!(
        "{:.1} s of audio in {secs:.2} s: {:.2} s per minute of audio",
        report.duration_secs,
        secs / report.duration_secs * 60.0
    );
    Ok(())
}
