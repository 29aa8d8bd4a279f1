//! Random access to a mono WAV (the 16 kHz working copy): only the samples a window needs are read, so stages that
//! look at parts of a ten-hour file keep their memory bounded.

use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use hound::{SampleFormat, WavReader};

use crate::AudioError;

/// A mono WAV opened for reading spans of samples.
pub struct WavSpans {
    path: PathBuf,
    reader: WavReader<BufReader<File>>,
    format: SampleFormat,
    bits: u16,
    rate: u32,
    len: u64,
}

impl WavSpans {
    /// Opens a mono WAV; `rate` is the sample rate the caller needs (a different one is an error naming the file).
    pub fn open(path: &Path, rate: u32) -> Result<WavSpans, AudioError> {
        let reader = WavReader::open(path).map_err(|e| match e {
            hound::Error::IoError(e) => AudioError::io(path, "read the file", e),
            other => AudioError::decode(path, format!("not a WAV file this reader supports ({other})")),
        })?;
        let spec = reader.spec();
        if spec.channels != 1 {
            return Err(AudioError::NotMono { path: path.to_path_buf(), channels: spec.channels });
        }
        if spec.sample_rate != rate {
            return Err(AudioError::decode(
                path,
                format!(
                    "is {} Hz where {rate} Hz is needed; run the standardize stage again (`--force standardize`)",
                    spec.sample_rate
                ),
            ));
        }
        let len = u64::from(reader.duration());
        Ok(WavSpans {
            path: path.to_path_buf(),
            format: spec.sample_format,
            bits: spec.bits_per_sample,
            rate,
            reader,
            len,
        })
    }

    /// Length in samples.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether the file holds no samples.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Sample rate (Hz).
    pub fn rate(&self) -> u32 {
        self.rate
    }

    /// Reads samples `[start, start + out.len())` (as floats in −1..1) into `out`; past the end is silence.
    pub fn read_into(&mut self, start: u64, out: &mut [f32]) -> Result<(), AudioError> {
        out.fill(0.0);
        if start >= self.len {
            return Ok(());
        }
        let n = (out.len() as u64).min(self.len - start) as usize;
        let path = &self.path;
        let err = |e: hound::Error| AudioError::decode(path, e);
        self.reader.seek(start as u32).map_err(|e| AudioError::io(path, "seek in the file", e))?;
        match self.format {
            SampleFormat::Float => {
                for (o, s) in out[..n].iter_mut().zip(self.reader.samples::<f32>()) {
                    *o = s.map_err(err)?;
                }
            }
            SampleFormat::Int => {
                let scale = 1.0 / (1u64 << (self.bits - 1)) as f32;
                if self.bits <= 16 {
                    for (o, s) in out[..n].iter_mut().zip(self.reader.samples::<i16>()) {
                        *o = s.map_err(err)? as f32 * scale;
                    }
                } else {
                    for (o, s) in out[..n].iter_mut().zip(self.reader.samples::<i32>()) {
                        *o = s.map_err(err)? as f32 * scale;
                    }
                }
            }
        }
        Ok(())
    }

    /// The sample in `[lo, hi]` where a long region is best cut: the middle of the longest quiet stretch there,
    /// 20 ms frames within 6 dB of the quietest one. A pause between phrases is longer than the silence of a
    /// stop consonant inside a word, which the single quietest frame can be.
    pub fn quietest(&mut self, lo: u64, hi: u64) -> Result<u64, AudioError> {
        let frame = (self.rate / 50) as usize;
        let mut buf = vec![0f32; (hi - lo) as usize];
        self.read_into(lo, &mut buf)?;
        let energies: Vec<f32> = buf.chunks_exact(frame).map(|c| c.iter().map(|x| x * x).sum::<f32>()).collect();
        let Some(floor) = energies.iter().copied().min_by(f32::total_cmp) else {
            return Ok(hi);
        };
        // 6 dB above the floor, and never below the energy of ±1 LSB noise, so digital silence and dither
        // count as equally quiet.
        let quiet = (floor * 4.0).max(frame as f32 * (1.0 / 32768.0f32).powi(2));
        let (mut best, mut best_len, mut run_start) = (0usize, 0usize, None);
        for (i, &e) in energies.iter().chain(std::iter::once(&f32::INFINITY)).enumerate() {
            match (e <= quiet, run_start) {
                (true, None) => run_start = Some(i),
                (false, Some(s)) => {
                    if i - s > best_len {
                        (best, best_len) = (s, i - s);
                    }
                    run_start = None;
                }
                _ => {}
            }
        }
        Ok(lo + ((best * frame) + best_len * frame / 2) as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_spans_and_pads_past_the_end() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.wav");
        // Sample i is i * 10 in 16-bit units.
        let samples: Vec<f32> = (0..1000).map(|i| (i * 10) as f32 / 32767.0).collect();
        crate::test_support::write_wav(&path, 16_000, 1, &samples);
        let mut s = WavSpans::open(&path, 16_000).unwrap();
        assert_eq!(s.len(), 1000);
        let mut out = [1f32; 4];
        s.read_into(998, &mut out).unwrap();
        assert_eq!(out, [9980.0 / 32768.0, 9990.0 / 32768.0, 0.0, 0.0]);
        s.read_into(10, &mut out[..1]).unwrap();
        assert_eq!(out[0], 100.0 / 32768.0);
        let err = WavSpans::open(&path, 22_050).err().expect("wrong rate refused");
        assert!(err.to_string().contains("22050 Hz is needed"), "{err}");
    }

    #[test]
    fn cuts_in_the_longest_pause_not_in_a_stop_consonant() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("speech.wav");
        let rate = 16_000usize;
        let tone = |i: usize| 0.3 * (i as f32 * 0.07).sin();
        // 4 s of "speech" with a 60 ms digital-silence gap at 1.0 s (a stop inside a word) and a 400 ms pause
        // at 2.5 s that holds ±1 LSB dither only (a pause between phrases).
        let samples: Vec<f32> = (0..4 * rate)
            .map(|i| {
                let t = i as f32 / rate as f32;
                if (1.0..1.06).contains(&t) {
                    0.0
                } else if (2.5..2.9).contains(&t) {
                    if i % 3 == 0 { 1.0 / 32768.0 } else { -1.0 / 32768.0 }
                } else {
                    tone(i)
                }
            })
            .collect();
        crate::test_support::write_wav(&path, 16_000, 1, &samples);
        let mut s = WavSpans::open(&path, 16_000).unwrap();
        let cut = s.quietest(0, 4 * rate as u64).unwrap() as f64 / rate as f64;
        assert!((2.6..2.8).contains(&cut), "cut at {cut} s");
        // Where only the short gap is in range, it is used.
        let cut = s.quietest(8_000, 24_000).unwrap() as f64 / rate as f64;
        assert!((1.0..1.06).contains(&cut), "cut at {cut} s");
    }
}
