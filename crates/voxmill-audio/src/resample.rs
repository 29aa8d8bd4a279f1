//! Chunked, delay-compensated mono resampling with rubato's FFT resampler.

use rubato::{FftFixedInOut, Resampler};

/// Input frames per FFT chunk the resampler is asked for; rubato rounds this up to a
/// multiple of the rates' reduced ratio. Long chunks give a long, steep anti-alias filter.
const CHUNK_HINT: usize = 2048;

/// Converts a mono stream from one rate to another in fixed chunks, so memory does not depend
/// on stream length. Output is time-aligned with the input (the filter delay is dropped) and,
/// after [`StreamResampler::finish`], has exactly `round(in_len * out_rate / in_rate)` samples.
pub(crate) struct StreamResampler {
    inner: FftFixedInOut<f32>,
    in_rate: u64,
    out_rate: u64,
    pending: Vec<f32>,
    out: Vec<Vec<f32>>,
    /// Leading output samples still to drop to compensate the filter delay.
    to_skip: usize,
    in_total: u64,
    out_total: u64,
}

impl StreamResampler {
    /// A resampler from `in_rate` to `out_rate` Hz; both must be non-zero and different.
    pub(crate) fn new(in_rate: u32, out_rate: u32) -> Self {
        let inner = FftFixedInOut::<f32>::new(in_rate as usize, out_rate as usize, CHUNK_HINT, 1)
            .expect("sample rates are validated as non-zero by the caller");
        let to_skip = inner.output_delay();
        let out = inner.output_buffer_allocate(true);
        let pending = Vec::with_capacity(inner.input_frames_max());
        StreamResampler {
            inner,
            in_rate: u64::from(in_rate),
            out_rate: u64::from(out_rate),
            pending,
            out,
            to_skip,
            in_total: 0,
            out_total: 0,
        }
    }

    /// Feeds mono input; `sink` receives resampled output as it becomes available.
    pub(crate) fn push<E>(
        &mut self,
        mut input: &[f32],
        sink: &mut impl FnMut(&[f32]) -> Result<(), E>,
    ) -> Result<(), E> {
        self.in_total += input.len() as u64;
        while !input.is_empty() {
            let need = self.inner.input_frames_next() - self.pending.len();
            let take = need.min(input.len());
            self.pending.extend_from_slice(&input[..take]);
            input = &input[take..];
            if self.pending.len() == self.inner.input_frames_next() {
                self.process_pending(None, sink)?;
            }
        }
        Ok(())
    }

    /// Flushes the tail: pads with silence until every input sample has come out, then
    /// trims to the exact expected length. Returns the number of output samples produced.
    pub(crate) fn finish<E>(mut self, sink: &mut impl FnMut(&[f32]) -> Result<(), E>) -> Result<u64, E> {
        let expected = (self.in_total * self.out_rate + self.in_rate / 2) / self.in_rate;
        while self.out_total < expected {
            let chunk = self.inner.input_frames_next();
            self.pending.resize(chunk, 0.0);
            self.process_pending(Some(expected), sink)?;
        }
        Ok(self.out_total)
    }

    /// Resamples the full `pending` chunk, drops delay samples, and emits at most `limit`
    /// samples in total.
    fn process_pending<E>(
        &mut self,
        limit: Option<u64>,
        sink: &mut impl FnMut(&[f32]) -> Result<(), E>,
    ) -> Result<(), E> {
        let (_, produced) = self
            .inner
            .process_into_buffer(&[&self.pending], &mut self.out, None)
            .expect("buffers are sized from the resampler's own requirements");
        self.pending.clear();
        let skip = self.to_skip.min(produced);
        self.to_skip -= skip;
        let mut block = &self.out[0][skip..produced];
        if let Some(limit) = limit {
            let room = (limit - self.out_total).min(block.len() as u64) as usize;
            block = &block[..room];
        }
        self.out_total += block.len() as u64;
        if block.is_empty() { Ok(()) } else { sink(block) }
    }
}

/// Resamples a whole mono buffer from `in_rate` to `out_rate` Hz with the same band-limiting filter and delay
/// compensation as the streaming path (the quality measures use it to bring a clip to 16 kHz for DNSMOS, and
/// tests to band-limit audio). Equal rates return a copy.
pub fn resample(samples: &[f32], in_rate: u32, out_rate: u32) -> Vec<f32> {
    if in_rate == out_rate || in_rate == 0 || out_rate == 0 {
        return samples.to_vec();
    }
    let mut out = Vec::with_capacity(samples.len() * out_rate as usize / in_rate as usize + 1);
    let mut sink = |block: &[f32]| -> Result<(), std::convert::Infallible> {
        out.extend_from_slice(block);
        Ok(())
    };
    let mut r = StreamResampler::new(in_rate, out_rate);
    let Ok(()) = r.push(samples, &mut sink);
    let Ok(_) = r.finish(&mut sink);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(in_rate: u32, out_rate: u32, input: &[f32], block: usize) -> Vec<f32> {
        let mut r = StreamResampler::new(in_rate, out_rate);
        let mut out = Vec::new();
        let mut sink = |b: &[f32]| -> Result<(), ()> {
            out.extend_from_slice(b);
            Ok(())
        };
        for chunk in input.chunks(block) {
            r.push(chunk, &mut sink).unwrap();
        }
        r.finish(&mut sink).unwrap();
        out
    }

    #[test]
    fn output_length_is_the_rounded_ratio_for_any_input_length() {
        for (in_rate, out_rate) in [(44_100, 16_000), (8000, 16_000), (48_000, 16_000), (11_025, 16_000)] {
            for len in [0usize, 1, 7, 441, 1000, 12_345, 100_000] {
                let out = run(in_rate, out_rate, &vec![0.1; len], 777);
                let expected = (len as u64 * u64::from(out_rate) + u64::from(in_rate) / 2) / u64::from(in_rate);
                assert_eq!(out.len() as u64, expected, "{in_rate}->{out_rate}, {len} samples");
            }
        }
    }

    #[test]
    fn impulses_are_not_delayed_and_block_size_does_not_matter() {
        let mut x = vec![0.0f32; 48_000];
        x[24_000] = 1.0;
        let a = run(48_000, 16_000, &x, 100);
        let b = run(48_000, 16_000, &x, 48_000);
        assert_eq!(a, b);
        let peak = a.iter().enumerate().max_by(|p, q| p.1.total_cmp(q.1)).unwrap().0;
        assert_eq!(peak, 8000);
    }
}
