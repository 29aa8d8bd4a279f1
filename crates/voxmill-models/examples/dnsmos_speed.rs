//! Times DNSMOS on this machine: `cargo run --release -p voxmill-models --example dnsmos_speed -- WORKERS WINDOWS
//! [clip.wav]` scores WINDOWS windows (default 8) with WORKERS workers (default 1) and prints the wall time per
//! window. The windows are noise, or copies of the given clip (resampled to 16 kHz) if one is named.

use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let workers = args.first().and_then(|a| a.parse().ok()).unwrap_or(1);
    let windows = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(8);
    let model = voxmill_models::Resolver::from_env(true).locate("quality:dnsmos").expect("run scripts/setup.sh").path;
    let mut dnsmos = voxmill_models::Dnsmos::load(&model, workers).expect("loads");
    let clip: Vec<f32> = match args.get(2) {
        Some(path) => {
            let (samples, rate) = voxmill_audio::read_wav_mono(std::path::Path::new(path)).expect("reads the clip");
            voxmill_audio::resample(&samples, rate, voxmill_models::DNSMOS_SAMPLE_RATE)
        }
        None => {
            let mut seed = 1u32;
            (0..voxmill_models::dnsmos::WINDOW_SAMPLES)
                .map(|_| {
                    seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                    ((seed >> 8) as f32 / (1u32 << 24) as f32 * 0.2 - 0.1)
                        * std::env::var("DNSMOS_SPEED_SCALE").ok().and_then(|v| v.parse().ok()).unwrap_or(1.0)
                })
                .collect()
        }
    };
    let denormal = clip.iter().filter(|x| **x != 0.0 && x.abs() < f32::MIN_POSITIVE).count();
    let clips: Vec<&[f32]> = (0..windows).map(|_| clip.as_slice()).collect();
    let started = Instant::now();
    let scores = dnsmos.score(&clips).expect("scores");
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{workers} worker(s): {windows} clips in {secs:.2} s, {:.3} s per clip ({denormal} denormal samples); {:?}",
        secs / windows as f64,
        scores[0]
    );
}
