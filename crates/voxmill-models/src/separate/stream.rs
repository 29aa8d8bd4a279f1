//! The streaming core of MDX separation, independent of ONNX Runtime: the input (mono, 44.1 kHz) is cut into chunks
//! of `hop · (dim_t - 1)` samples that overlap by `overlap`, each chunk goes through the STFT, the spectrogram model
//! and the inverse STFT, and the chunks are cross-faded (a weighted overlap-add divided by the summed weights), as
//! UVR and python-audio-separator do it. `n_fft / 2` zeros are put before the input so that its first samples are
//! not at a chunk's edge. Only about two chunks are held, however long the recording.

use super::stft::ChunkStft;
use super::{Stem, ZEROED_LOW_BINS};

/// Runs the model on one chunk's spectrogram: `[1, 4, dim_f, dim_t]` in (left re, left im, right re, right im),
/// the target stem's spectrogram of the same shape out.
pub(crate) type SpecModel<'a> = dyn FnMut(&[f32], &mut [f32]) -> Result<(), String> + 'a;

/// Chunked, cross-faded, time-aligned separation of a mono stream.
pub(crate) struct MdxStream {
    stft: ChunkStft,
    chunk: usize,
    step: usize,
    /// Zeros before the input (`n_fft / 2`).
    lead: u64,
    /// The cross-fade weight over a chunk.
    weight: Vec<f32>,
    stem: Stem,
    compensate: f32,
    /// Bins at the bottom zeroed before the model (UVR zeroes 3).
    pub(crate) zero_low_bins: usize,
    /// Input (padded positions from `buf_start`).
    buf: Vec<f32>,
    buf_start: u64,
    /// Weighted sum and summed weights of the chunks, for positions from `acc_start` (the next one to emit).
    acc: Vec<f32>,
    div: Vec<f32>,
    acc_start: u64,
    /// Start of the next chunk.
    next: u64,
    /// Input samples fed.
    fed: u64,
    spec_in: Vec<f32>,
    spec_out: Vec<f32>,
    re: Vec<f32>,
    im: Vec<f32>,
    wave: Vec<f32>,
}

impl MdxStream {
    /// A stream over chunks of `dim_t` frames of the lowest `dim_f` bins of an `n_fft`-point STFT moved by `hop`,
    /// chunks overlapping by `overlap` (0 ≤ overlap < 1; 0 puts them end to end without a cross-fade). The caller
    /// has checked the geometry (see [`ChunkStft::new`]).
    pub(crate) fn new(
        n_fft: usize,
        hop: usize,
        dim_f: usize,
        dim_t: usize,
        stem: Stem,
        overlap: f32,
        compensate: f32,
    ) -> Self {
        let stft = ChunkStft::new(n_fft, hop, dim_t, dim_f);
        let chunk = stft.chunk_len();
        let step = ((1.0 - f64::from(overlap)) * chunk as f64).round().clamp(1.0, chunk as f64) as usize;
        // A raised-cosine (Hann-shaped) fade, sampled between the ends so that no weight is zero.
        let weight = if overlap > 0.0 {
            (0..chunk)
                .map(|i| ((std::f64::consts::PI * (i as f64 + 0.5) / chunk as f64).sin().powi(2)) as f32)
                .collect()
        } else {
            vec![1.0; chunk]
        };
        let lead = (n_fft / 2) as u64;
        let size = 4 * dim_f * dim_t;
        MdxStream {
            stft,
            chunk,
            step,
            lead,
            weight,
            stem,
            compensate,
            zero_low_bins: ZEROED_LOW_BINS,
            buf: vec![0.0; lead as usize],
            buf_start: 0,
            acc: Vec::new(),
            div: Vec::new(),
            acc_start: 0,
            next: 0,
            fed: 0,
            spec_in: vec![0.0; size],
            spec_out: vec![0.0; size],
            re: vec![0.0; dim_f * dim_t],
            im: vec![0.0; dim_f * dim_t],
            wave: vec![0.0; chunk],
        }
    }

    /// Samples per chunk.
    pub(crate) fn chunk_len(&self) -> usize {
        self.chunk
    }

    /// Samples between the starts of two chunks.
    pub(crate) fn step(&self) -> usize {
        self.step
    }

    /// Feeds input; runs every chunk that is complete and appends the output that is final.
    pub(crate) fn push(&mut self, input: &[f32], out: &mut Vec<f32>, model: &mut SpecModel<'_>) -> Result<(), String> {
        self.buf.extend_from_slice(input);
        self.fed += input.len() as u64;
        while self.buf_start + self.buf.len() as u64 >= self.next + self.chunk as u64 {
            self.run_chunk(out, model)?;
        }
        Ok(())
    }

    /// Pads the input with zeros until every input sample is final, and appends the rest of the output: in all,
    /// exactly as many samples as were fed.
    pub(crate) fn finish(&mut self, out: &mut Vec<f32>, model: &mut SpecModel<'_>) -> Result<(), String> {
        let end = self.lead + self.fed;
        if self.fed == 0 {
            return Ok(());
        }
        while self.next < end {
            let have = self.buf_start + self.buf.len() as u64;
            let need = self.next + self.chunk as u64;
            if have < need {
                self.buf.resize(self.buf.len() + (need - have) as usize, 0.0);
            }
            self.run_chunk(out, model)?;
        }
        self.emit_until(end, out);
        Ok(())
    }

    /// Separates the chunk starting at `next`, adds it into the cross-fade, and emits what no later chunk touches.
    fn run_chunk(&mut self, out: &mut Vec<f32>, model: &mut SpecModel<'_>) -> Result<(), String> {
        let start = self.next;
        let off = (start - self.buf_start) as usize;
        let x = &self.buf[off..off + self.chunk];
        self.stft.analyse(x, &mut self.re, &mut self.im);
        let frames = self.stft.frames();
        let plane = self.re.len();
        let low = self.zero_low_bins.min(self.stft.dim_f()) * frames;
        self.re[..low].fill(0.0);
        self.im[..low].fill(0.0);
        // The mono input is both channels.
        for c in 0..2 {
            self.spec_in[2 * c * plane..(2 * c + 1) * plane].copy_from_slice(&self.re);
            self.spec_in[(2 * c + 1) * plane..(2 * c + 2) * plane].copy_from_slice(&self.im);
        }
        self.spec_out.fill(0.0);
        model(&self.spec_in, &mut self.spec_out)?;
        if self.spec_out.iter().any(|v| !v.is_finite()) {
            return Err("the model returned NaN or infinite values".to_string());
        }
        // The two output channels, averaged (linear, so the spectra can be averaged before the inverse).
        for i in 0..plane {
            self.re[i] = 0.5 * (self.spec_out[i] + self.spec_out[2 * plane + i]);
            self.im[i] = 0.5 * (self.spec_out[plane + i] + self.spec_out[3 * plane + i]);
        }
        self.stft.synthesise(&self.re, &self.im, &mut self.wave);
        let x = &self.buf[off..off + self.chunk];
        let at = (start - self.acc_start) as usize;
        if self.acc.len() < at + self.chunk {
            self.acc.resize(at + self.chunk, 0.0);
            self.div.resize(at + self.chunk, 0.0);
        }
        let acc = self.acc[at..at + self.chunk].iter_mut().zip(&mut self.div[at..at + self.chunk]);
        for (((a, d), (w, y)), mix) in acc.zip(self.weight.iter().zip(&self.wave)).zip(x) {
            let target = self.compensate * y;
            let vocals = match self.stem {
                Stem::Vocals => target,
                Stem::Instrumental => mix - target,
            };
            *a += w * vocals;
            *d += w;
        }
        self.next += self.step as u64;
        self.emit_until(self.next.min(self.lead + self.fed), out);
        let drop = ((self.next - self.buf_start) as usize).min(self.buf.len());
        self.buf.drain(..drop);
        self.buf_start += drop as u64;
        Ok(())
    }

    /// Appends the cross-faded output of positions `[acc_start, to)` (those before the input starts are dropped).
    fn emit_until(&mut self, to: u64, out: &mut Vec<f32>) {
        if to <= self.acc_start {
            return;
        }
        let k = ((to - self.acc_start) as usize).min(self.acc.len());
        let skip = (self.lead.saturating_sub(self.acc_start) as usize).min(k);
        out.extend(self.acc[skip..k].iter().zip(&self.div[skip..k]).map(|(a, d)| a / d));
        self.acc.drain(..k);
        self.div.drain(..k);
        self.acc_start += k as u64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const N_FFT: usize = 2048;
    const HOP: usize = 1024;
    const DIM_T: usize = 16;
    const FULL: usize = N_FFT / 2 + 1;

    fn signal(n: usize) -> Vec<f32> {
        let mut seed = 99u32;
        (0..n)
            .map(|i| {
                seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                let noise = (seed >> 8) as f32 / (1u32 << 24) as f32 - 0.5;
                0.3 * (i as f32 * 2.0 * std::f32::consts::PI * 300.0 / 44_100.0).sin()
                    + 0.2 * (i as f32 * 2.0 * std::f32::consts::PI * 5_000.0 / 44_100.0).sin()
                    + 0.1 * noise
            })
            .collect()
    }

    fn identity(input: &[f32], output: &mut [f32]) -> Result<(), String> {
        output.copy_from_slice(input);
        Ok(())
    }

    /// Keeps bins below `cutoff`, scales the rest by `gain` (per channel, in the `[4, dim_f, dim_t]` layout).
    fn mask(dim_f: usize, cutoff: usize, gain: f32) -> impl FnMut(&[f32], &mut [f32]) -> Result<(), String> {
        move |input, output| {
            let frames = input.len() / (4 * dim_f);
            for (i, (o, x)) in output.iter_mut().zip(input).enumerate() {
                let f = (i / frames) % dim_f;
                *o = if f < cutoff { *x } else { x * gain };
            }
            Ok(())
        }
    }

    /// Streams `x` through in blocks of the sizes in `blocks` (cycled).
    fn stream(s: &mut MdxStream, x: &[f32], blocks: &[usize], model: &mut SpecModel<'_>) -> Vec<f32> {
        let mut out = Vec::new();
        let mut rest = x;
        let mut k = 0;
        while !rest.is_empty() {
            let n = blocks[k % blocks.len()].min(rest.len());
            s.push(&rest[..n], &mut out, model).unwrap();
            rest = &rest[n..];
            k += 1;
        }
        s.finish(&mut out, model).unwrap();
        out
    }

    fn max_diff(a: &[f32], b: &[f32]) -> f32 {
        a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
    }

    fn rms_db(x: &[f32]) -> f64 {
        let ms = x.iter().map(|&v| f64::from(v).powi(2)).sum::<f64>() / x.len().max(1) as f64;
        10.0 * ms.max(1e-30).log10()
    }

    #[test]
    fn chunked_round_trip_reconstructs_the_input() {
        let chunk = HOP * (DIM_T - 1);
        let x = signal(chunk * 3 + chunk / 3 + 7);
        for overlap in [0.0, 0.25, 0.5, 0.9] {
            let mut s = MdxStream::new(N_FFT, HOP, FULL, DIM_T, Stem::Vocals, overlap, 1.0);
            s.zero_low_bins = 0;
            let y = stream(&mut s, &x, &[777, 5_000, 1, 20_000], &mut identity);
            assert_eq!(y.len(), x.len(), "overlap {overlap}");
            let err = max_diff(&x, &y);
            assert!(err < 1e-5, "overlap {overlap}: max error {err}");
        }
    }

    #[test]
    fn output_is_as_long_as_the_input() {
        let chunk = HOP * (DIM_T - 1);
        for n in [0, 1, 100, chunk - 1, chunk, chunk + 1, 5 * chunk + 17] {
            let x = signal(n);
            let mut s = MdxStream::new(N_FFT, HOP, FULL, DIM_T, Stem::Vocals, 0.25, 1.0);
            s.zero_low_bins = 0;
            let y = stream(&mut s, &x, &[4_096], &mut identity);
            assert_eq!(y.len(), n);
            assert!(max_diff(&x, &y) < 1e-5, "{n} samples");
        }
    }

    #[test]
    fn instrumental_of_an_identity_model_is_silence() {
        let x = signal(40_000);
        let mut s = MdxStream::new(N_FFT, HOP, FULL, DIM_T, Stem::Instrumental, 0.25, 1.0);
        s.zero_low_bins = 0;
        let y = stream(&mut s, &x, &[3_000], &mut identity);
        assert!(rms_db(&y) - rms_db(&x) < -100.0, "{} dB", rms_db(&y) - rms_db(&x));
    }

    #[test]
    fn streaming_in_odd_blocks_equals_one_push() {
        let x = signal(100_000);
        let run = |blocks: &[usize]| {
            let mut s = MdxStream::new(N_FFT, HOP, 256, DIM_T, Stem::Vocals, 0.25, 1.02);
            stream(&mut s, &x, blocks, &mut mask(256, 100, 0.1))
        };
        let whole = run(&[x.len()]);
        let odd = run(&[1, 333, 4_097, 17, 10_007]);
        assert_eq!(whole.len(), x.len());
        assert_eq!(whole, odd);
    }

    /// A mask applied chunk by chunk and cross-faded equals the same mask applied to one STFT of the whole signal:
    /// the chunk boundaries leave no seams. Without the cross-fade (overlap 0) the chunk edges show.
    #[test]
    fn chunk_boundaries_leave_no_seams() {
        let chunk = HOP * (DIM_T - 1);
        let frames = 6 * (DIM_T - 1) + 1;
        let n = HOP * (frames - 1);
        let x = signal(n);
        let dim_f = 256;
        // The whole signal through one STFT.
        let mut whole = ChunkStft::new(N_FFT, HOP, frames, dim_f);
        let mut re = vec![0.0; dim_f * frames];
        let mut im = re.clone();
        whole.analyse(&x, &mut re, &mut im);
        for f in 0..dim_f {
            let g = if f < 3 {
                0.0
            } else if f < 100 {
                1.0
            } else {
                0.1
            };
            for t in 0..frames {
                re[f * frames + t] *= g;
                im[f * frames + t] *= g;
            }
        }
        let mut reference = vec![0.0; n];
        whole.synthesise(&re, &im, &mut reference);
        // Interior only: the ends of the whole-signal STFT are reflect-padded, the stream's are zero-padded.
        let inner = N_FFT..n - N_FFT;
        let signal_db = rms_db(&reference[inner.clone()]);
        let mut seam_db = Vec::new();
        for overlap in [0.25, 0.0] {
            let mut s = MdxStream::new(N_FFT, HOP, dim_f, DIM_T, Stem::Vocals, overlap, 1.0);
            assert_eq!(s.chunk_len(), chunk);
            let y = stream(&mut s, &x, &[5_555], &mut mask(dim_f, 100, 0.1));
            let diff: Vec<f32> = y[inner.clone()].iter().zip(&reference[inner.clone()]).map(|(a, b)| a - b).collect();
            let worst = diff.iter().fold(0f32, |m, d| m.max(d.abs()));
            eprintln!(
                "overlap {overlap}: chunked vs whole-signal {:.1} dB (rms), worst sample {:.1e}",
                rms_db(&diff) - signal_db,
                worst
            );
            seam_db.push(rms_db(&diff) - signal_db);
        }
        assert!(seam_db[0] < -50.0, "cross-faded chunks differ from the whole-signal STFT by {:.1} dB", seam_db[0]);
        assert!(seam_db[1] > seam_db[0] + 10.0, "the test cannot see seams: {seam_db:?}");
    }
}
