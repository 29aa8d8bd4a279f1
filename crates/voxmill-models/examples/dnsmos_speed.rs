//! Times DNSMOS on this machine and compares its two windowings:
//! `cargo run --release -p voxmill-models --example dnsmos_speed -- WORKERS clip.wav…` scores the clips (any rate,
//! resampled to 16 kHz) with WORKERS workers, once with the reference's windows and once with the sparse ones, and
//! prints each clip's scores both ways, the windows and the wall time of each pass, and the mean and largest
//! differences.

use std::time::Instant;

use voxmill_models::{DNSMOS_SAMPLE_RATE, Windowing};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let workers = args.first().and_then(|a| a.parse().ok()).unwrap_or(1);
    let model = voxmill_models::Resolver::from_env(true).locate("quality:dnsmos").expect("run scripts/setup.sh").path;
    let mut dnsmos = voxmill_models::Dnsmos::load(&model, workers).expect("loads");
    let clips: Vec<Vec<f32>> = args[1..]
        .iter()
        .map(|path| {
            let (samples, rate) = voxmill_audio::read_wav_mono(std::path::Path::new(path)).expect("reads the clip");
            voxmill_audio::resample(&samples, rate, DNSMOS_SAMPLE_RATE)
        })
        .collect();
    let slices: Vec<&[f32]> = clips.iter().map(Vec::as_slice).collect();
    let mut passes = Vec::new();
    for windowing in [Windowing::Reference, Windowing::Sparse] {
        let cut = match windowing {
            Windowing::Reference => voxmill_models::dnsmos::reference_windows,
            Windowing::Sparse => voxmill_models::dnsmos::sparse_windows,
        };
        let windows: usize = slices.iter().map(|c| cut(c).1.len()).sum();
        let started = Instant::now();
        let scores = dnsmos.score(&slices, windowing).expect("scores");
        let secs = started.elapsed().as_secs_f64();
        println!("{windowing:?}: {} clips, {windows} windows, {secs:.2} s with {workers} worker(s)", slices.len());
        passes.push(scores);
    }
    let (mut sum, mut worst) = ([0f64; 4], [0f64; 4]);
    for (i, (r, s)) in passes[0].iter().zip(&passes[1]).enumerate() {
        let (r, s) = (r.expect("scored"), s.expect("scored"));
        let d = [(r.sig - s.sig).abs(), (r.bak - s.bak).abs(), (r.ovrl - s.ovrl).abs(), (r.p808 - s.p808).abs()];
        for k in 0..4 {
            sum[k] += d[k];
            worst[k] = worst[k].max(d[k]);
        }
        println!(
            "{}: {:.2} s, ovrl {:.3}/{:.3} bak {:.3}/{:.3} sig {:.3}/{:.3} p808 {:.3}/{:.3}",
            args[1 + i],
            slices[i].len() as f64 / f64::from(DNSMOS_SAMPLE_RATE),
            r.ovrl,
            s.ovrl,
            r.bak,
            s.bak,
            r.sig,
            s.sig,
            r.p808,
            s.p808
        );
    }
    let n = slices.len().max(1) as f64;
    println!(
        "mean |difference| sig {:.3} bak {:.3} ovrl {:.3} p808 {:.3}; largest {:.3} {:.3} {:.3} {:.3}",
        sum[0] / n,
        sum[1] / n,
        sum[2] / n,
        sum[3] / n,
        worst[0],
        worst[1],
        worst[2],
        worst[3]
    );
}
