//! Streaming 16-bit mono WAV writing, and reading mono WAVs back as f32.

use std::fs::File;
use std::io::{BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use crate::error::AudioError;

/// Size of the canonical 44-byte PCM WAV header.
const HEADER_BYTES: u32 = 44;

/// Writes a mono 16-bit PCM WAV sample by sample with a fixed-size buffer, then patches
/// the header sizes and fsyncs on [`WavSink::finish`].
pub(crate) struct WavSink {
    path: PathBuf,
    out: BufWriter<File>,
    rate: u32,
    samples: u64,
    peak: u16,
    scratch: Vec<u8>,
}

impl WavSink {
    /// Creates (or truncates) `path` and writes a provisional header.
    pub(crate) fn create(path: &Path, rate: u32) -> Result<Self, AudioError> {
        let file = File::create(path).map_err(|e| AudioError::io(path, "create the output", e))?;
        let mut sink = WavSink {
            path: path.to_path_buf(),
            out: BufWriter::with_capacity(256 * 1024, file),
            rate,
            samples: 0,
            peak: 0,
            scratch: Vec::new(),
        };
        sink.write_header(0)?;
        Ok(sink)
    }

    fn write_header(&mut self, data_bytes: u32) -> Result<(), AudioError> {
        let mut h = Vec::with_capacity(HEADER_BYTES as usize);
        h.extend_from_slice(b"RIFF");
        h.extend_from_slice(&(HEADER_BYTES - 8 + data_bytes).to_le_bytes());
        h.extend_from_slice(b"WAVEfmt ");
        h.extend_from_slice(&16u32.to_le_bytes()); // fmt chunk size
        h.extend_from_slice(&1u16.to_le_bytes()); // PCM
        h.extend_from_slice(&1u16.to_le_bytes()); // mono
        h.extend_from_slice(&self.rate.to_le_bytes());
        h.extend_from_slice(&(self.rate * 2).to_le_bytes()); // byte rate
        h.extend_from_slice(&2u16.to_le_bytes()); // block align
        h.extend_from_slice(&16u16.to_le_bytes()); // bits per sample
        h.extend_from_slice(b"data");
        h.extend_from_slice(&data_bytes.to_le_bytes());
        self.out.write_all(&h).map_err(|e| AudioError::io(&self.path, "write the output", e))
    }

    /// Appends samples in [-1, 1] (clipped beyond), quantised to 16 bits with rounding.
    pub(crate) fn write(&mut self, samples: &[f32]) -> Result<(), AudioError> {
        self.samples += samples.len() as u64;
        if self.samples * 2 > u64::from(u32::MAX - HEADER_BYTES) {
            return Err(AudioError::TooLong { path: self.path.clone() });
        }
        self.scratch.clear();
        for &s in samples {
            let q = (s * 32768.0).round().clamp(-32768.0, 32767.0) as i16;
            self.peak = self.peak.max(q.unsigned_abs());
            self.scratch.extend_from_slice(&q.to_le_bytes());
        }
        self.out.write_all(&self.scratch).map_err(|e| AudioError::io(&self.path, "write the output", e))
    }

    /// Largest absolute sample written so far, relative to full scale.
    pub(crate) fn peak(&self) -> f64 {
        f64::from(self.peak) / 32768.0
    }

    /// Patches the header with the final sizes and fsyncs the file.
    /// Returns the number of samples written.
    pub(crate) fn finish(mut self) -> Result<u64, AudioError> {
        let data_bytes = (self.samples * 2) as u32;
        let path = self.path.clone();
        let io = |e| AudioError::io(&path, "write the output", e);
        self.out.seek(SeekFrom::Start(0)).map_err(io)?;
        self.write_header(data_bytes)?;
        let file = self.out.into_inner().map_err(|e| io(e.into_error()))?;
        file.sync_all().map_err(|e| AudioError::io(&path, "fsync the output", e))?;
        Ok(self.samples)
    }
}

/// Reads a mono WAV (16-bit int, other integer widths, or 32-bit float) as f32 samples in
/// [-1, 1] together with its sample rate. Later stages use it to load standardized audio.
pub fn read_wav_mono(path: &Path) -> Result<(Vec<f32>, u32), AudioError> {
    crate::decode::check_not_empty(path)?;
    let reader = hound::WavReader::open(path).map_err(|e| match e {
        hound::Error::IoError(e) => AudioError::io(path, "read the file", e),
        other => AudioError::decode(path, format!("not a WAV file this reader supports ({other})")),
    })?;
    let spec = reader.spec();
    if spec.channels != 1 {
        return Err(AudioError::NotMono { path: path.to_path_buf(), channels: spec.channels });
    }
    let samples: Result<Vec<f32>, hound::Error> = match spec.sample_format {
        hound::SampleFormat::Float => reader.into_samples::<f32>().collect(),
        hound::SampleFormat::Int => {
            let scale = 1.0 / (1u64 << (spec.bits_per_sample - 1)) as f32;
            reader.into_samples::<i32>().map(|s| s.map(|v| v as f32 * scale)).collect()
        }
    };
    let samples = samples.map_err(|e| AudioError::decode(path, e))?;
    Ok((samples, spec.sample_rate))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sink_output_reads_back_with_rounding_and_clipping() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.wav");
        let mut sink = WavSink::create(&path, 16_000).unwrap();
        sink.write(&[0.0, 0.5, -0.5, 1.5, -1.5]).unwrap();
        sink.write(&[0.25]).unwrap();
        assert_eq!(sink.peak(), 1.0);
        assert_eq!(sink.finish().unwrap(), 6);
        let reader = hound::WavReader::open(&path).unwrap();
        assert_eq!(reader.spec().bits_per_sample, 16);
        let (samples, rate) = read_wav_mono(&path).unwrap();
        assert_eq!(rate, 16_000);
        assert_eq!(samples, vec![0.0, 0.5, -0.5, 32767.0 / 32768.0, -1.0, 0.25]);
    }

    #[test]
    fn float_wavs_are_read_and_stereo_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.wav");
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: 8000,
            bits_per_sample: 32,
            sample_format: hound::SampleFormat::Float,
        };
        let mut w = hound::WavWriter::create(&path, spec).unwrap();
        for s in [0.1f32, -0.7, 0.0] {
            w.write_sample(s).unwrap();
        }
        w.finalize().unwrap();
        assert_eq!(read_wav_mono(&path).unwrap(), (vec![0.1, -0.7, 0.0], 8000));

        let stereo = dir.path().join("st.wav");
        crate::test_support::write_wav(&stereo, 8000, 2, &[0.0; 8]);
        let err = read_wav_mono(&stereo).unwrap_err();
        assert!(matches!(err, AudioError::NotMono { channels: 2, .. }), "{err}");
        assert!(err.to_string().contains("st.wav"));
    }
}
