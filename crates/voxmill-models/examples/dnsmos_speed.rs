//! Times DNSMOS on this machine: `cargo run --release -p voxmill-models --example dnsmos_speed -- [threads] [windows]`
//! scores `windows` (default 8) windows of noise with `threads` (default 1) workers and prints the wall
//! time per window.

use std::time::Instant;

fn main() {
    let args: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let threads = args.first().copied().unwrap_or(1);
    let windows = args.get(1).copied().unwrap_or(8);
    let model = voxmill_models::Resolver::from_env(true).locate("quality:dnsmos").expect("run scripts/setup.sh").path;
    let mut dnsmos = voxmill_models::Dnsmos::load(&model, threads).expect("loads");
    let mut seed = 1u32;
    let clip: Vec<f32> = (0..voxmill_models::dnsmos::WINDOW_SAMPLES)
        .map(|_| {
            seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (seed >> 8) as f32 / (1u32 << 24) as f32 * 0.2 - 0.1
        })
        .collect();
    let clips: Vec<&[f32]> = (0..windows).map(|_| clip.as_slice()).collect();
    let started = Instant::now();
    dnsmos.score(&clips).expect("scores");
    let secs = started.elapsed().as_secs_f64();
    println!("{threads} thread(s): {windows} windows in {secs:.2} s, {:.3} s per window", secs / windows as f64);
}
