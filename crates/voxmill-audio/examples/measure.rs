//! Prints the signal measures of WAV files (mono), one line each: `cargo run --example measure -- a.wav b.wav`.
//! For tuning the quality gates on your own audio.

fn main() {
    for path in std::env::args().skip(1) {
        match voxmill_audio::read_wav_mono(std::path::Path::new(&path)) {
            Ok((samples, rate)) => {
                let m = voxmill_audio::signal_measures(&samples, rate);
                println!(
                    "{path}: peak {:.1} dBFS, clipping {:.4}, loudness {:?} LUFS, snr {:.1} dB, bandwidth {:.0} Hz",
                    m.peak_dbfs,
                    m.clipping,
                    m.loudness_lufs.map(|l| (l * 10.0).round() / 10.0),
                    m.snr_db,
                    m.bandwidth_hz
                );
            }
            Err(e) => eprintln!("{e}"),
        }
    }
}
