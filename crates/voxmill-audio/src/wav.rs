//! Streaming mono WAV writing (16-bit, 24-bit or float), and reading mono WAVs back as f32.

use std::fs::File;
use std::io::{BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use crate::error::AudioError;

/// Size of the canonical 44-byte WAV header.
const HEADER_BYTES: u32 = 44;

/// How samples are stored in a WAV file voxmill writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum SampleFormat {
    /// 16-bit integer PCM, what most trainers and players expect.
    #[default]
    Pcm16,
    /// 24-bit integer PCM: room for quiet sources and later gain without added quantisation noise.
    Pcm24,
    /// 32-bit IEEE float: no quantisation at all (also how clips are held between cutting and finishing).
    Float32,
}

impl SampleFormat {
    /// Bytes per sample.
    pub fn bytes(self) -> u16 {
        match self {
            SampleFormat::Pcm16 => 2,
            SampleFormat::Pcm24 => 3,
            SampleFormat::Float32 => 4,
        }
    }
}

/// Writes a mono WAV (16-bit PCM unless created with another [`SampleFormat`]) sample by sample with a fixed-size
/// buffer, then patches the header sizes and fsyncs on [`WavSink::finish`].
pub(crate) struct WavSink {
    path: PathBuf,
    out: BufWriter<File>,
    rate: u32,
    format: SampleFormat,
    samples: u64,
    peak: f32,
    scratch: Vec<u8>,
}

impl WavSink {
    /// Creates (or truncates) `path` for 16-bit PCM and writes a provisional header.
    pub(crate) fn create(path: &Path, rate: u32) -> Result<Self, AudioError> {
        Self::create_as(path, rate, SampleFormat::Pcm16)
    }

    /// Creates (or truncates) `path` for samples stored as `format` and writes a provisional header.
    pub(crate) fn create_as(path: &Path, rate: u32, format: SampleFormat) -> Result<Self, AudioError> {
        let file = File::create(path).map_err(|e| AudioError::io(path, "create the output", e))?;
        let mut sink = WavSink {
            path: path.to_path_buf(),
            out: BufWriter::with_capacity(256 * 1024, file),
            rate,
            format,
            samples: 0,
            peak: 0.0,
            scratch: Vec::new(),
        };
        sink.write_header(0)?;
        Ok(sink)
    }

    fn write_header(&mut self, data_bytes: u32) -> Result<(), AudioError> {
        let bytes = self.format.bytes();
        // 1: integer PCM, 3: IEEE float.
        let tag: u16 = if self.format == SampleFormat::Float32 { 3 } else { 1 };
        let mut h = Vec::with_capacity(HEADER_BYTES as usize);
        h.extend_from_slice(b"RIFF");
        h.extend_from_slice(&(HEADER_BYTES - 8 + data_bytes + data_bytes % 2).to_le_bytes());
        h.extend_from_slice(b"WAVEfmt ");
        h.extend_from_slice(&16u32.to_le_bytes()); // fmt chunk size
        h.extend_from_slice(&tag.to_le_bytes());
        h.extend_from_slice(&1u16.to_le_bytes()); // mono
        h.extend_from_slice(&self.rate.to_le_bytes());
        h.extend_from_slice(&(self.rate * u32::from(bytes)).to_le_bytes()); // byte rate
        h.extend_from_slice(&bytes.to_le_bytes()); // block align
        h.extend_from_slice(&(bytes * 8).to_le_bytes()); // bits per sample
        h.extend_from_slice(b"data");
        h.extend_from_slice(&data_bytes.to_le_bytes());
        self.out.write_all(&h).map_err(|e| AudioError::io(&self.path, "write the output", e))
    }

    /// Appends samples in [-1, 1] (clipped beyond, as full scale is the end of every format: a resampled source
    /// clipped at full scale stays clipped), integer formats quantised with rounding.
    pub(crate) fn write(&mut self, samples: &[f32]) -> Result<(), AudioError> {
        self.samples += samples.len() as u64;
        if self.samples * u64::from(self.format.bytes()) > u64::from(u32::MAX - HEADER_BYTES) {
            return Err(AudioError::TooLong { path: self.path.clone() });
        }
        self.scratch.clear();
        match self.format {
            SampleFormat::Pcm16 => {
                for &s in samples {
                    let q = (s * 32768.0).round().clamp(-32768.0, 32767.0) as i16;
                    self.peak = self.peak.max(f32::from(q.unsigned_abs()) / 32768.0);
                    self.scratch.extend_from_slice(&q.to_le_bytes());
                }
            }
            SampleFormat::Pcm24 => {
                for &s in samples {
                    let q = (f64::from(s) * 8_388_608.0).round().clamp(-8_388_608.0, 8_388_607.0) as i32;
                    self.peak = self.peak.max(q.unsigned_abs() as f32 / 8_388_608.0);
                    self.scratch.extend_from_slice(&q.to_le_bytes()[..3]);
                }
            }
            SampleFormat::Float32 => {
                for &s in samples {
                    let s = s.clamp(-1.0, 1.0);
                    self.peak = self.peak.max(s.abs());
                    self.scratch.extend_from_slice(&s.to_le_bytes());
                }
            }
        }
        self.out.write_all(&self.scratch).map_err(|e| AudioError::io(&self.path, "write the output", e))
    }

    /// Largest absolute sample written so far, relative to full scale.
    pub(crate) fn peak(&self) -> f64 {
        f64::from(self.peak)
    }

    /// Patches the header with the final sizes and fsyncs the file.
    /// Returns the number of samples written.
    pub(crate) fn finish(mut self) -> Result<u64, AudioError> {
        let data_bytes = (self.samples * u64::from(self.format.bytes())) as u32;
        // RIFF chunks are word-aligned: an odd-sized data chunk (24-bit, odd sample count) gets a pad byte.
        if data_bytes % 2 == 1 {
            self.out.write_all(&[0]).map_err(|e| AudioError::io(&self.path, "write the output", e))?;
        }
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
    fn every_sample_format_reads_back_as_written() {
        let dir = tempfile::tempdir().unwrap();
        // An odd count, so the 24-bit data chunk needs its pad byte.
        let samples = [0.0f32, 0.5, -0.25, 1.0 / 3.0, -1.0, 0.75, 1e-6];
        for (format, bits, tolerance) in [
            (SampleFormat::Pcm16, 16, 0.5 / 32768.0),
            (SampleFormat::Pcm24, 24, 0.5 / 8_388_608.0),
            (SampleFormat::Float32, 32, 0.0),
        ] {
            let path = dir.path().join(format!("{bits}.wav"));
            let mut sink = WavSink::create_as(&path, 22_050, format).unwrap();
            sink.write(&samples).unwrap();
            assert_eq!(sink.finish().unwrap(), samples.len() as u64);
            let spec = hound::WavReader::open(&path).unwrap().spec();
            assert_eq!(spec.bits_per_sample, bits);
            let float =
                if format == SampleFormat::Float32 { hound::SampleFormat::Float } else { hound::SampleFormat::Int };
            assert_eq!(spec.sample_format, float);
            let bytes = std::fs::metadata(&path).unwrap().len();
            assert_eq!(bytes % 2, 0, "{format:?}: {bytes} bytes, not word-aligned");
            let (back, rate) = read_wav_mono(&path).unwrap();
            assert_eq!((rate, back.len()), (22_050, samples.len()));
            for (a, b) in samples.iter().zip(&back) {
                assert!((a - b).abs() <= tolerance + f32::EPSILON, "{format:?}: {a} read back as {b}");
            }
        }
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
