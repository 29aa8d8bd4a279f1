//! Random access to a 16 kHz mono WAV: only the samples a window needs are read.

use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use hound::{SampleFormat, WavReader};

use crate::AsrError;
use crate::mel::SAMPLE_RATE;

pub struct WavSource {
    path: PathBuf,
    reader: WavReader<BufReader<File>>,
    format: SampleFormat,
    bits: u16,
    len: u64,
}

impl WavSource {
    pub fn open(path: &Path) -> Result<WavSource, AsrError> {
        let err = |reason: String| AsrError::Audio { path: path.to_path_buf(), reason };
        let reader = WavReader::open(path).map_err(|e| err(e.to_string()))?;
        let spec = reader.spec();
        if spec.sample_rate as usize != SAMPLE_RATE || spec.channels != 1 {
            return Err(AsrError::AudioFormat {
                path: path.to_path_buf(),
                found: format!("{} Hz, {} channel(s)", spec.sample_rate, spec.channels),
            });
        }
        let len = reader.duration() as u64;
        Ok(WavSource { path: path.to_path_buf(), format: spec.sample_format, bits: spec.bits_per_sample, reader, len })
    }

    /// Length in samples.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Reads samples `[start, start + out.len())` (as floats in −1..1) into `out`; past the end is silence.
    pub fn read_into(&mut self, start: u64, out: &mut [f32]) -> Result<(), AsrError> {
        out.fill(0.0);
        if start >= self.len {
            return Ok(());
        }
        let n = (out.len() as u64).min(self.len - start) as usize;
        let path = &self.path;
        let err = |e: hound::Error| AsrError::Audio { path: path.clone(), reason: e.to_string() };
        self.reader.seek(start as u32).map_err(|e| AsrError::Audio { path: path.clone(), reason: e.to_string() })?;
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

    /// The sample in `[lo, hi]` at the centre of the quietest 20 ms frame (for cutting long regions).
    pub fn quietest(&mut self, lo: u64, hi: u64) -> Result<u64, AsrError> {
        let frame = SAMPLE_RATE / 50;
        let mut buf = vec![0f32; (hi - lo) as usize];
        self.read_into(lo, &mut buf)?;
        let best = buf
            .chunks(frame)
            .enumerate()
            .filter(|(_, c)| c.len() == frame)
            .map(|(i, c)| (i, c.iter().map(|x| x * x).sum::<f32>()))
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .map_or(hi, |(i, _)| lo + (i * frame + frame / 2) as u64);
        Ok(best)
    }
}
