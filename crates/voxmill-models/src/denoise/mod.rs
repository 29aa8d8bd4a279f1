//! Speech enhancement (denoising) at 48 kHz: RNNoise ([`Rnnoise`], pure Rust, weights built in) and DeepFilterNet3
//! ([`DeepFilter`], ONNX). Both implement [`voxmill_audio::Denoiser`], so `voxmill_audio::enhance_wav` streams a
//! 16 kHz working copy through them block by block.

pub mod deepfilter;
mod rnnoise;

pub use deepfilter::DeepFilter;
pub use rnnoise::Rnnoise;

/// Samples per frame of both denoisers at 48 kHz (10 ms).
pub const HOP: usize = 480;

/// A frame processor: one frame of input in, whatever output it has ready appended.
pub(crate) type FrameFn<'a> = dyn FnMut(&[f32], &mut Vec<f32>) -> Result<(), String> + 'a;

/// Turns a frame processor with a fixed output delay into a time-aligned stream: input is gathered into frames of
/// [`HOP`] samples, the first `delay` output samples are dropped, and on finish the stream is padded with silence
/// until every input sample has come out, then cut to the input's length.
#[derive(Debug)]
pub(crate) struct FrameAligner {
    pending: Vec<f32>,
    delay: usize,
    to_drop: usize,
    fed: u64,
    emitted: u64,
}

impl FrameAligner {
    /// An aligner for a processor whose output lags its input by `delay` samples.
    pub(crate) fn new(delay: usize) -> Self {
        FrameAligner { pending: Vec::with_capacity(HOP), delay, to_drop: delay, fed: 0, emitted: 0 }
    }

    /// Feeds input; `frame` is called on each whole frame and appends its output (any length) to `out`.
    pub(crate) fn push(
        &mut self,
        mut input: &[f32],
        out: &mut Vec<f32>,
        frame: &mut FrameFn<'_>,
    ) -> Result<(), String> {
        self.fed += input.len() as u64;
        while !input.is_empty() {
            let take = (HOP - self.pending.len()).min(input.len());
            self.pending.extend_from_slice(&input[..take]);
            input = &input[take..];
            if self.pending.len() == HOP {
                let frame_in = std::mem::take(&mut self.pending);
                self.run(&frame_in, out, frame)?;
                self.pending = frame_in;
                self.pending.clear();
            }
        }
        Ok(())
    }

    /// Pads with silence until all input has come out, lets the processor emit what it still holds
    /// (it is then called with an empty frame) and the result is cut to the input's length.
    pub(crate) fn finish(&mut self, out: &mut Vec<f32>, frame: &mut FrameFn<'_>) -> Result<(), String> {
        let fed = self.fed;
        let mut zeros_left = self.delay + HOP;
        while self.emitted < fed && zeros_left > 0 {
            let take = (HOP - self.pending.len()).min(zeros_left);
            zeros_left -= take;
            self.pending.resize(self.pending.len() + take, 0.0);
            if self.pending.len() == HOP {
                let frame_in = std::mem::take(&mut self.pending);
                self.run(&frame_in, out, frame)?;
                self.pending = frame_in;
                self.pending.clear();
            }
        }
        // An empty frame asks the processor for everything it still holds.
        self.run(&[], out, frame)?;
        let extra = (self.emitted.saturating_sub(fed)) as usize;
        out.truncate(out.len() - extra.min(out.len()));
        self.emitted -= extra as u64;
        Ok(())
    }

    fn run(&mut self, input: &[f32], out: &mut Vec<f32>, frame: &mut FrameFn<'_>) -> Result<(), String> {
        let start = out.len();
        frame(input, out)?;
        let drop = self.to_drop.min(out.len() - start);
        out.drain(start..start + drop);
        self.to_drop -= drop;
        self.emitted += (out.len() - start) as u64;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aligner_compensates_a_delay() {
        // A processor that delays by 700 samples.
        let mut line: std::collections::VecDeque<f32> = std::iter::repeat_n(0.0, 700).collect();
        let mut frame = |x: &[f32], out: &mut Vec<f32>| {
            line.extend(x.iter().copied());
            out.extend(line.drain(..x.len()));
            Ok(())
        };
        let input: Vec<f32> = (0..5000).map(|i| i as f32).collect();
        let mut a = FrameAligner::new(700);
        let mut out = Vec::new();
        for chunk in input.chunks(333) {
            a.push(chunk, &mut out, &mut frame).unwrap();
        }
        a.finish(&mut out, &mut frame).unwrap();
        assert_eq!(out, input);
    }
}
