//! How long a big export takes, and how much memory it needs: synthesises `COUNT` clips (2-8 s of tones at
//! 22050 Hz, cheap to make, with text, words and quality measures like real ones) into `DIR/clips`, then exports
//! them as `FORMAT` into `DIR/export` and prints the seconds each part took. `scripts/bench-export.sh` runs it under
//! `/usr/bin/time -v` for the peak RSS.
//!
//!     cargo run --release -p voxmill-export --example export_bench -- DIR [COUNT] [FORMAT]

use std::path::PathBuf;
use std::time::Instant;

use voxmill_export::{
    DEFAULT_SHARD_BYTES, DatasetOptions, ExportClip, ExportWord, Format, SplitOptions, export_dataset,
};

const RATE: u32 = 22_050;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let dir = PathBuf::from(args.get(1).expect("usage: export_bench DIR [COUNT] [FORMAT]"));
    let count: usize = args.get(2).map_or(10_000, |c| c.parse().expect("COUNT is a number"));
    let format = Format::from_name(args.get(3).map_or("hf", String::as_str)).expect("a dataset format");
    let clips_dir = dir.join("clips");
    std::fs::create_dir_all(&clips_dir).unwrap();

    let started = Instant::now();
    let spec =
        hound::WavSpec { channels: 1, sample_rate: RATE, bits_per_sample: 16, sample_format: hound::SampleFormat::Int };
    let mut clips = Vec::with_capacity(count);
    for i in 0..count {
        let id = format!("rec{:03}-{:05}", i / 100, i % 100);
        let wav = clips_dir.join(format!("{id}.wav"));
        let secs = 2.0 + (i % 7) as f64;
        if !wav.exists() {
            let mut w = hound::WavWriter::create(&wav, spec).unwrap();
            let n = (secs * f64::from(RATE)) as usize;
            let f = 110.0 + (i % 50) as f64 * 7.0;
            for s in 0..n {
                let t = s as f64 / f64::from(RATE);
                w.write_sample(((2.0 * std::f64::consts::PI * f * t).sin() * 8000.0) as i16).unwrap();
            }
            w.finalize().unwrap();
        }
        let words: Vec<ExportWord> = (0..(secs * 2.5) as usize)
            .map(|k| ExportWord {
                text: format!("word{k}"),
                start: 0.4 * k as f64,
                end: 0.4 * k as f64 + 0.3,
                probability: 0.9,
            })
            .collect();
        let text = words.iter().map(|w| w.text.as_str()).collect::<Vec<_>>().join(" ") + ".";
        clips.push(ExportClip {
            id,
            wav,
            text,
            speaker: format!("spk{:03}", i % 12),
            duration_secs: secs,
            language: "en".into(),
            recording: format!("rec{:03}", i / 100),
            source_start: (i % 100) as f64 * 10.0,
            words,
            measures: vec![("dnsmos_ovrl".into(), 3.2), ("snr".into(), 31.0), ("bandwidth".into(), 11_025.0)],
            phonemes: None,
            source_url: None,
            licence: None,
        });
    }
    let made = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let options = DatasetOptions {
        require_rate: Some(RATE),
        splits: SplitOptions::default(),
        voice_name: "bench".into(),
        shard_bytes: DEFAULT_SHARD_BYTES,
    };
    let report = export_dataset(format, &clips, None, &dir.join("export"), &options, &mut |_, _| {}).unwrap();
    let exported = started.elapsed().as_secs_f64();
    let bytes: u64 = walk(&dir.join("export"));
    println!(
        "{} clips, {:.1} h of audio: synthesised/found in {made:.1} s; exported as {} in {exported:.1} s ({:.0} clips/s, {:.0} MB written)",
        report.clips,
        report.total_secs / 3600.0,
        format.name(),
        report.clips as f64 / exported,
        bytes as f64 / 1e6
    );
}

fn walk(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| if e.file_type().unwrap().is_dir() { walk(&e.path()) } else { e.metadata().unwrap().len() })
        .sum()
}
