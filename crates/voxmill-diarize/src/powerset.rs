//! Decoding the pyannote segmentation-3.0 model (pyannote 3.x style diarization).
//!
//! The model reads 10 s chunks of 16 kHz audio (`[batch, 1, 160000]`) and scores, for each of 589 frames, the 7
//! *powerset* classes `∅, {0}, {1}, {2}, {0,1}, {0,2}, {1,2}` over three *local* speakers (log-probabilities,
//! `[batch, 589, 7]`). Local speaker numbers mean nothing across chunks, so the pipeline is:
//!
//! 1. cut the recording into overlapping chunks ([`chunk_starts`]);
//! 2. decode each chunk ([`ChunkActivity::decode`]): per frame, the arg-max class gives the set of active local
//!    speakers (a bitmask), and the soft posteriors are kept (speech, two or more voices, each local speaker);
//! 3. extract one speaker embedding per (chunk, active local speaker), from the frames
//!    [`ChunkActivity::embedding_frames`] gives, and cluster all of them globally ([`crate::cluster()`]);
//! 4. [`reconstruct`] the recording's time line from the posteriors averaged over the chunks covering each frame.
//!
//! # Frame timing
//!
//! The frames come from the SincNet front end of PyanNet: a 251-tap sinc convolution with stride 10, then max-pool
//! 3 (stride 3), conv 5, max-pool 3, conv 5, max-pool 3, no padding ([`SINCNET_LAYERS`]); the LSTM and linear
//! layers after it keep the frame count. So frame `i` sees samples `[270 i, 270 i + 991)`: a step of
//! 270 samples = 16.875 ms and a receptive field of 991 samples = 61.9375 ms at 16 kHz, and 160,000 samples
//! give `((((159749 / 10 + 1 - 3) / 3 + 1 - 5 + 1 - 3) / 3 + 1 - 5 + 1 - 3) / 3 + 1 = 589` frames.
//! [`segmentation_frames`] derives the timing from the frame count the model actually produced: when it matches
//! that architecture the exact values are used; for any other model the chunk is assumed to be divided evenly.

use serde::{Deserialize, Serialize};

use crate::frames::{Frames, runs};

/// Sample rate segmentation-3.0 expects.
pub const SAMPLE_RATE: u32 = 16_000;

/// Samples in one segmentation-3.0 chunk (10 s at 16 kHz).
pub const CHUNK_SAMPLES: usize = 160_000;

/// `(kernel, stride)` of each convolution and pooling layer of PyanNet's SincNet front end, in order.
pub const SINCNET_LAYERS: [(usize, usize); 6] = [(251, 10), (3, 3), (5, 1), (3, 3), (5, 1), (3, 3)];

/// Why model output could not be decoded or chunks not be combined.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PowersetError {
    /// The powerset parameters are impossible.
    #[error("invalid powerset: {0}")]
    InvalidPowerset(String),
    /// The output does not have the shape `[frames, classes]`.
    #[error("segmentation output has {len} values, which is not a whole number of frames of {classes} classes")]
    Shape {
        /// Number of values received.
        len: usize,
        /// Classes per frame.
        classes: usize,
    },
    /// NaN or infinity in the model output.
    #[error("segmentation output frame {frame} contains a non-finite score")]
    NonFinite {
        /// The frame.
        frame: usize,
    },
    /// Chunk length or step are not positive finite numbers.
    #[error("invalid chunking: chunk {chunk} s every {step} s")]
    InvalidChunking {
        /// Chunk duration.
        chunk: f64,
        /// Chunk step.
        step: f64,
    },
    /// Chunks given to [`reconstruct`] do not fit together.
    #[error("chunk {chunk}: {message}")]
    Reconstruct {
        /// 0-based chunk index.
        chunk: usize,
        /// What is wrong.
        message: String,
    },
}

/// Number of frames a stack of unpadded convolution / pooling layers (`(kernel, stride)`) produces from
/// `num_samples` inputs (0 when the input is shorter than the receptive field).
pub fn conv_output_frames(num_samples: usize, layers: &[(usize, usize)]) -> usize {
    layers.iter().fold(num_samples, |n, &(kernel, stride)| if n < kernel { 0 } else { (n - kernel) / stride + 1 })
}

/// `(receptive field, step)` in samples of a stack of unpadded layers `(kernel, stride)`.
pub fn receptive_field(layers: &[(usize, usize)]) -> (usize, usize) {
    layers.iter().rev().fold((1, 1), |(size, step), &(kernel, stride)| ((size - 1) * stride + kernel, step * stride))
}

/// Frame timing (relative to the chunk start) of a segmentation model that produced `num_frames` frames for a
/// chunk of `num_samples` samples at `sample_rate`: exact for the SincNet architecture, an even division of the
/// chunk otherwise.
pub fn segmentation_frames(num_samples: usize, num_frames: usize, sample_rate: u32) -> Frames {
    let rate = sample_rate as f64;
    if num_frames > 0 && conv_output_frames(num_samples, &SINCNET_LAYERS) == num_frames {
        let (field, step) = receptive_field(&SINCNET_LAYERS);
        Frames { start: 0.0, step: step as f64 / rate, duration: field as f64 / rate }
    } else {
        let step = num_samples as f64 / num_frames.max(1) as f64 / rate;
        Frames { start: 0.0, step, duration: step }
    }
}

/// The classes of a powerset output: every set of at most `max_set_size` of `num_speakers` local speakers,
/// ordered by size, then lexicographically (pyannote's order).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Powerset {
    num_speakers: usize,
    masks: Vec<u64>,
}

impl Powerset {
    /// The powerset of up to `max_set_size` simultaneous speakers among `num_speakers` (at most 64).
    pub fn new(num_speakers: usize, max_set_size: usize) -> Result<Self, PowersetError> {
        if num_speakers == 0 || num_speakers > 64 || max_set_size > num_speakers {
            return Err(PowersetError::InvalidPowerset(format!(
                "{num_speakers} speakers with sets of up to {max_set_size} (need 1..=64 speakers, set size ≤ speakers)"
            )));
        }
        fn combinations(n: usize, size: usize, from: usize, mask: u64, out: &mut Vec<u64>) {
            if size == 0 {
                out.push(mask);
                return;
            }
            for s in from..=n - size {
                combinations(n, size - 1, s + 1, mask | 1 << s, out);
            }
        }
        let mut masks = Vec::new();
        for size in 0..=max_set_size {
            combinations(num_speakers, size, 0, 0, &mut masks);
        }
        Ok(Self { num_speakers, masks })
    }

    /// segmentation-3.0's powerset: 3 local speakers, at most 2 at once, 7 classes.
    pub fn segmentation_3_0() -> Self {
        Self::new(3, 2).expect("valid constants")
    }

    /// Number of classes per frame in the model output.
    pub fn num_classes(&self) -> usize {
        self.masks.len()
    }

    /// Number of local speakers.
    pub fn num_speakers(&self) -> usize {
        self.num_speakers
    }

    /// The set of speakers of class `class`, as a bitmask (bit `s` = local speaker `s`).
    pub fn mask(&self, class: usize) -> u64 {
        self.masks[class]
    }

    /// Per-frame soft posteriors from one chunk's scores (`[frames, classes]`, log-probabilities or logits: each
    /// row goes through a softmax), as [`POSTERIOR_SCALE`]-quantised values per frame: the probability that anyone
    /// speaks, that two or more do, then each local speaker's marginal (the sum of the classes that hold it).
    /// Rows must be finite ([`Powerset::decode`] checks them).
    pub fn posteriors(&self, scores: &[f32]) -> Vec<u8> {
        let classes = self.num_classes();
        let per_frame = 2 + self.num_speakers;
        let mut out = Vec::with_capacity(scores.len() / classes.max(1) * per_frame);
        let mut probs = vec![0f32; classes];
        for row in scores.chunks_exact(classes) {
            let max = row.iter().copied().fold(f32::MIN, f32::max);
            let mut sum = 0.0;
            for (p, &x) in probs.iter_mut().zip(row) {
                *p = (x - max).exp();
                sum += *p;
            }
            let (mut speech, mut overlap) = (0.0, 0.0);
            let mut marginal = [0f32; 64];
            for (c, p) in probs.iter().enumerate() {
                let p = p / sum;
                let mask = self.masks[c];
                if mask != 0 {
                    speech += p;
                }
                if mask.count_ones() >= 2 {
                    overlap += p;
                }
                for (s, m) in marginal.iter_mut().enumerate().take(self.num_speakers) {
                    if mask & (1 << s) != 0 {
                        *m += p;
                    }
                }
            }
            out.push(quantise(speech));
            out.push(quantise(overlap));
            out.extend(marginal[..self.num_speakers].iter().map(|&m| quantise(m)));
        }
        out
    }

    /// Per-frame active speakers (bitmasks) from one chunk's scores, `[frames, classes]` row-major: the arg-max
    /// class of each frame (hard decision, as pyannote 3.x).
    pub fn decode(&self, scores: &[f32]) -> Result<Vec<u64>, PowersetError> {
        let classes = self.num_classes();
        if !scores.len().is_multiple_of(classes) {
            return Err(PowersetError::Shape { len: scores.len(), classes });
        }
        scores
            .chunks_exact(classes)
            .enumerate()
            .map(|(frame, row)| {
                if !row.iter().all(|x| x.is_finite()) {
                    return Err(PowersetError::NonFinite { frame });
                }
                let best = (0..classes).fold(0, |b, c| if row[c] > row[b] { c } else { b });
                Ok(self.masks[best])
            })
            .collect()
    }
}

/// Posterior probabilities are kept as bytes: `value / POSTERIOR_SCALE` is the probability (0..=1). Hours of
/// chunks stay small in memory, and 1/255 is finer than any threshold needs.
pub const POSTERIOR_SCALE: f32 = 255.0;

fn quantise(p: f32) -> u8 {
    (p.clamp(0.0, 1.0) * POSTERIOR_SCALE).round() as u8
}

/// Start times of `chunk`-second chunks every `step` seconds covering `total` seconds of audio. The last chunk is
/// aligned with the end of the audio rather than running past it (no zero padding); audio shorter than one chunk
/// gives a single chunk at 0, to be zero-padded.
pub fn chunk_starts(total: f64, chunk: f64, step: f64) -> Result<Vec<f64>, PowersetError> {
    if !(chunk > 0.0 && step > 0.0 && chunk.is_finite() && step.is_finite() && total.is_finite()) {
        return Err(PowersetError::InvalidChunking { chunk, step });
    }
    if total <= chunk {
        return Ok(vec![0.0]);
    }
    let eps = 1e-9;
    let mut starts: Vec<f64> = (0..).map(|i| i as f64 * step).take_while(|s| s + chunk <= total + eps).collect();
    if starts.last().is_none_or(|s| s + chunk < total - eps) {
        starts.push(total - chunk);
    }
    Ok(starts)
}

/// One chunk's decoded segmentation: which local speakers are active in which frames.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChunkActivity {
    /// Frame timing on the recording's time line (`frames.start` is the chunk's start).
    pub frames: Frames,
    /// Bit `s` of `activity[f]` is set when local speaker `s` is active in frame `f`.
    pub activity: Vec<u64>,
    /// Number of local speakers the model has.
    pub num_speakers: usize,
    /// Soft posteriors, `2 + num_speakers` bytes per frame ([`Powerset::posteriors`]): anyone speaking, two or
    /// more speaking, each local speaker.
    pub posteriors: Vec<u8>,
}

impl ChunkActivity {
    /// A chunk known only by its hard decisions (the posteriors are 0 or 1 from them); for tests and for models
    /// whose scores are not probabilities.
    pub fn from_hard(frames: Frames, activity: Vec<u64>, num_speakers: usize) -> Self {
        let one = POSTERIOR_SCALE as u8;
        let posteriors = activity
            .iter()
            .flat_map(|&m| {
                [u8::from(m != 0) * one, u8::from(m.count_ones() >= 2) * one]
                    .into_iter()
                    .chain((0..num_speakers).map(move |s| u8::from(m & (1 << s) != 0) * one))
            })
            .collect();
        Self { frames, activity, num_speakers, posteriors }
    }

    /// Probability that anyone speaks in frame `f`.
    pub fn speech(&self, f: usize) -> f32 {
        f32::from(self.posteriors[f * (2 + self.num_speakers)]) / POSTERIOR_SCALE
    }

    /// Probability that two or more speak in frame `f`.
    pub fn overlap(&self, f: usize) -> f32 {
        f32::from(self.posteriors[f * (2 + self.num_speakers) + 1]) / POSTERIOR_SCALE
    }

    /// Probability that local speaker `s` speaks in frame `f`.
    pub fn marginal(&self, f: usize, s: usize) -> f32 {
        f32::from(self.posteriors[f * (2 + self.num_speakers) + 2 + s]) / POSTERIOR_SCALE
    }

    /// Decodes one chunk's scores (`[frames, classes]`) for a chunk starting at `chunk_start` seconds. `frames` is
    /// the model's timing relative to the chunk ([`segmentation_frames`]); frames centred at or after `audio_end`
    /// (zero padding of a short recording) are cleared.
    pub fn decode(
        powerset: &Powerset,
        scores: &[f32],
        chunk_start: f64,
        frames: Frames,
        audio_end: f64,
    ) -> Result<Self, PowersetError> {
        let frames = frames.shifted(chunk_start + frames.start);
        let mut activity = powerset.decode(scores)?;
        let mut posteriors = powerset.posteriors(scores);
        let per_frame = 2 + powerset.num_speakers();
        for (f, a) in activity.iter_mut().enumerate() {
            if frames.centre(f) >= audio_end {
                *a = 0;
                posteriors[f * per_frame..(f + 1) * per_frame].fill(0);
            }
        }
        Ok(Self { frames, activity, num_speakers: powerset.num_speakers(), posteriors })
    }

    /// Local speakers active in at least one frame, ascending.
    pub fn active_speakers(&self) -> Vec<usize> {
        let any = self.activity.iter().fold(0u64, |acc, m| acc | m);
        (0..self.num_speakers).filter(|s| any & (1 << s) != 0).collect()
    }

    /// Frames in which local speaker `s` is active.
    pub fn speaker_frames(&self, s: usize) -> Vec<bool> {
        self.activity.iter().map(|m| m & (1 << s) != 0).collect()
    }

    /// Frames in which local speaker `s` is the only one speaking.
    pub fn clean_frames(&self, s: usize) -> Vec<bool> {
        self.activity.iter().map(|&m| m == 1 << s).collect()
    }

    /// The frames to compute local speaker `s`'s embedding from: those where `s` speaks alone, if there are at
    /// least `min_clean_frames` of them (overlap contaminates embeddings), else every frame where `s` speaks.
    pub fn embedding_frames(&self, s: usize, min_clean_frames: usize) -> Vec<bool> {
        let clean = self.clean_frames(s);
        if clean.iter().filter(|&&c| c).count() >= min_clean_frames { clean } else { self.speaker_frames(s) }
    }

    /// Frames in which local speaker `s`'s marginal probability is above `threshold`.
    pub fn likely_frames(&self, s: usize, threshold: f32) -> Vec<bool> {
        (0..self.activity.len()).map(|f| self.marginal(f, s) > threshold).collect()
    }

    /// Seconds during which local speaker `s` is active (frames count `step` each).
    pub fn speaker_duration(&self, s: usize) -> f64 {
        self.activity.iter().filter(|&&m| m & (1 << s) != 0).count() as f64 * self.frames.step
    }

    /// Time intervals (recording time line) where local speaker `s` is active.
    pub fn speaker_intervals(&self, s: usize) -> Vec<(f64, f64)> {
        runs(self.speaker_frames(s)).into_iter().map(|(a, b)| self.frames.run_interval(a, b)).collect()
    }
}

/// Gives each chunk's embedded local speakers a global speaker so that two local speakers of one chunk never share
/// one (they speak at the same time, or the model told them apart): per chunk, the one-to-one assignment of its
/// local speakers to `centroids` with the greatest total cosine similarity (the Hungarian method), as pyannote 3.x's
/// constrained assignment. `embeddings[c][s]` is local speaker `s` of chunk `c`'s embedding (unit length), or `None`
/// when it was not embedded; `centroids` are unit vectors. When a chunk has more embedded local speakers than there
/// are centroids, the ones left over take their nearest centroid. Returns `labels[c][s]` for [`reconstruct`].
pub fn assign_constrained(embeddings: &[Vec<Option<Vec<f32>>>], centroids: &[Vec<f32>]) -> Vec<Vec<Option<usize>>> {
    let cos = |a: &[f32], b: &[f32]| a.iter().zip(b).map(|(x, y)| f64::from(*x) * f64::from(*y)).sum::<f64>();
    embeddings
        .iter()
        .map(|chunk| {
            let present: Vec<usize> = (0..chunk.len()).filter(|&s| chunk[s].is_some()).collect();
            let mut out = vec![None; chunk.len()];
            if centroids.is_empty() {
                return out;
            }
            let weights: Vec<Vec<f64>> = present
                .iter()
                .map(|&s| centroids.iter().map(|c| cos(chunk[s].as_deref().unwrap_or(&[]), c)).collect())
                .collect();
            let matching = crate::hungarian::max_weight_matching(&weights);
            for ((&s, m), w) in present.iter().zip(matching).zip(&weights) {
                out[s] = m.or_else(|| (0..w.len()).max_by(|&a, &b| w[a].total_cmp(&w[b])));
            }
            out
        })
        .collect()
}

/// The whole recording's speaker activity after global clustering: frame `f` covers `step` around
/// `frames.centre(f)`; bit `k` of `activity[f]` is set when global speaker `k` speaks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Timeline {
    /// Frame timing, starting at 0.
    pub frames: Frames,
    /// Active global speakers per frame.
    pub activity: Vec<u64>,
    /// Per frame, the probability that two or more people speak (the average over the chunks covering it): where
    /// it is well above zero a second voice may be there even if `activity` has one speaker.
    pub overlap: Vec<f32>,
}

/// How [`reconstruct`] turns the chunks' averaged posteriors into a number of speakers per frame.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Reconstruction {
    /// A frame holds speech when the probability that anyone speaks, averaged over the chunks covering it, is
    /// above this.
    pub speech_threshold: f32,
    /// A frame holds two speakers when the averaged probability that two or more speak is above this.
    pub overlap_threshold: f32,
}

impl Default for Reconstruction {
    /// 0.5 and 0.5: the most probable count.
    fn default() -> Self {
        Self { speech_threshold: 0.5, overlap_threshold: 0.5 }
    }
}

/// Combines overlapping chunks into one time line of global speakers. `labels[c][s]` is the global speaker
/// (cluster) of local speaker `s` in chunk `c`, or `None` when it was not clustered (inactive, or too short to
/// embed). For every frame of the recording:
///
/// * the number of speakers comes from the chunks' soft posteriors averaged over the chunks covering it: one if
///   the probability of speech is above `opts.speech_threshold`, two if also the probability of two or more
///   voices is above `opts.overlap_threshold` (averaging posteriors rather than hard counts, as pyannote 3.x
///   does, keeps quiet speech that each chunk alone finds unlikely but all find possible);
/// * that many global speakers are chosen, by the sum of their local speakers' marginal probabilities over those
///   chunks (ties: lower label).
///
/// All chunks must share one frame step and duration; frames centred at or after `audio_end` are dropped.
pub fn reconstruct(
    chunks: &[ChunkActivity],
    labels: &[Vec<Option<usize>>],
    audio_end: f64,
    opts: &Reconstruction,
) -> Result<Timeline, PowersetError> {
    let Some(first) = chunks.first() else {
        return Ok(Timeline {
            frames: Frames { start: 0.0, step: 0.01, duration: 0.01 },
            activity: Vec::new(),
            overlap: Vec::new(),
        });
    };
    let (step, duration) = (first.frames.step, first.frames.duration);
    let frames = Frames { start: 0.0, step, duration };
    if chunks.len() != labels.len() {
        return Err(PowersetError::Reconstruct {
            chunk: chunks.len().min(labels.len()),
            message: format!("{} chunks but {} label lists", chunks.len(), labels.len()),
        });
    }
    let mut num_global = 0;
    for (c, (chunk, l)) in chunks.iter().zip(labels).enumerate() {
        let err = |message: String| Err(PowersetError::Reconstruct { chunk: c, message });
        if (chunk.frames.step - step).abs() > 1e-9 || (chunk.frames.duration - duration).abs() > 1e-9 {
            return err("frame timing differs from chunk 0".into());
        }
        if l.len() != chunk.num_speakers {
            return err(format!("{} labels for {} local speakers", l.len(), chunk.num_speakers));
        }
        if chunk.posteriors.len() != chunk.activity.len() * (2 + chunk.num_speakers) {
            return err(format!(
                "{} posterior values for {} frames of {} local speakers",
                chunk.posteriors.len(),
                chunk.activity.len(),
                chunk.num_speakers
            ));
        }
        if let Some(&big) = l.iter().flatten().find(|&&g| g >= 64) {
            return err(format!("global speaker {big} is beyond the 64 a time line can hold"));
        }
        num_global = num_global.max(l.iter().flatten().map(|g| g + 1).max().unwrap_or(0));
    }
    let total = ((audio_end - 0.5 * duration) / step).ceil().max(0.0) as usize;
    let mut scores = vec![0f32; total * num_global];
    let mut speech = vec![0f32; total];
    let mut overlap = vec![0f32; total];
    let mut coverage = vec![0u32; total];
    for (chunk, l) in chunks.iter().zip(labels) {
        let offset = (chunk.frames.start / step).round() as i64;
        for j in 0..chunk.activity.len() {
            let g = offset + j as i64;
            if g < 0 || g as usize >= total {
                continue;
            }
            let g = g as usize;
            coverage[g] += 1;
            speech[g] += chunk.speech(j);
            overlap[g] += chunk.overlap(j);
            for (s, label) in l.iter().enumerate() {
                if let Some(k) = *label {
                    scores[g * num_global + k] += chunk.marginal(j, s);
                }
            }
        }
    }
    let mut ranked: Vec<usize> = Vec::with_capacity(num_global);
    let activity = (0..total)
        .map(|g| {
            if coverage[g] == 0 {
                return 0;
            }
            let n = coverage[g] as f32;
            speech[g] /= n;
            overlap[g] /= n;
            let count =
                usize::from(speech[g] > opts.speech_threshold) * (1 + usize::from(overlap[g] > opts.overlap_threshold));
            let v = &scores[g * num_global..(g + 1) * num_global];
            ranked.clear();
            ranked.extend((0..num_global).filter(|&k| v[k] > 0.0));
            ranked.sort_by(|&a, &b| v[b].total_cmp(&v[a]).then(a.cmp(&b)));
            ranked.iter().take(count).fold(0u64, |m, &k| m | 1 << k)
        })
        .collect();
    Ok(Timeline { frames, activity, overlap })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Scores with a clear arg-max `class` per frame.
    fn scores(classes: &[usize], num_classes: usize) -> Vec<f32> {
        classes.iter().flat_map(|&c| (0..num_classes).map(move |k| if k == c { -0.1 } else { -5.0 })).collect()
    }

    #[test]
    fn constrained_assignment_keeps_a_chunks_speakers_apart() {
        let (a, b, c) = (vec![1.0, 0.0], vec![0.0, 1.0], vec![0.8, 0.6]);
        let centroids = vec![a.clone(), b.clone()];
        // Both local speakers are nearest to centroid 0; the constraint gives the less similar one centroid 1.
        let chunks = vec![vec![Some(a.clone()), Some(c.clone()), None], vec![None, Some(b.clone()), None]];
        assert_eq!(
            assign_constrained(&chunks, &centroids),
            vec![vec![Some(0), Some(1), None], vec![None, Some(1), None]]
        );
        // More local speakers than centroids: the one left over takes its nearest.
        let three = vec![vec![Some(a.clone()), Some(b), Some(c)]];
        assert_eq!(assign_constrained(&three, &centroids), vec![vec![Some(0), Some(1), Some(0)]]);
        assert_eq!(assign_constrained(&three, &[]), vec![vec![None, None, None]]);
    }

    #[test]
    fn segmentation_3_0_classes() {
        let p = Powerset::segmentation_3_0();
        assert_eq!(p.num_classes(), 7);
        assert_eq!(
            (0..7).map(|c| p.mask(c)).collect::<Vec<_>>(),
            vec![0b000, 0b001, 0b010, 0b100, 0b011, 0b101, 0b110]
        );
        assert_eq!(Powerset::new(3, 3).unwrap().num_classes(), 8);
        assert_eq!(Powerset::new(4, 2).unwrap().num_classes(), 11);
        assert_eq!(Powerset::new(2, 1).unwrap().num_classes(), 3);
        assert!(Powerset::new(2, 3).is_err());
        assert!(Powerset::new(0, 0).is_err());
    }

    #[test]
    fn decode_takes_the_argmax_class_of_each_frame() {
        let p = Powerset::segmentation_3_0();
        let decoded = p.decode(&scores(&[0, 1, 4, 6, 3, 5, 2], 7)).unwrap();
        assert_eq!(decoded, vec![0, 1, 3, 6, 4, 5, 2]);
        // Log-probabilities that are close still pick the larger.
        let mut s = scores(&[2], 7);
        s[4] = -0.09;
        assert_eq!(p.decode(&s).unwrap(), vec![3]);
        assert_eq!(p.decode(&[0.0; 13]).unwrap_err(), PowersetError::Shape { len: 13, classes: 7 });
        let mut bad = scores(&[0, 0], 7);
        bad[9] = f32::NAN;
        assert_eq!(p.decode(&bad).unwrap_err(), PowersetError::NonFinite { frame: 1 });
        assert!(p.decode(&[]).unwrap().is_empty());
    }

    #[test]
    fn sincnet_timing_matches_segmentation_3_0() {
        assert_eq!(conv_output_frames(CHUNK_SAMPLES, &SINCNET_LAYERS), 589);
        assert_eq!(receptive_field(&SINCNET_LAYERS), (991, 270));
        assert_eq!(conv_output_frames(100, &SINCNET_LAYERS), 0);
        let f = segmentation_frames(CHUNK_SAMPLES, 589, SAMPLE_RATE);
        assert_eq!(f, Frames { start: 0.0, step: 0.016875, duration: 0.0619375 });
        // The last frame ends inside the chunk.
        assert!(588.0 * f.step + f.duration <= 10.0);
        // A model with another frame rate: even division.
        let g = segmentation_frames(CHUNK_SAMPLES, 500, SAMPLE_RATE);
        assert!((g.step - 0.02).abs() < 1e-12 && g.duration == g.step);
    }

    #[test]
    fn chunks_cover_the_audio() {
        assert_eq!(chunk_starts(25.0, 10.0, 5.0).unwrap(), vec![0.0, 5.0, 10.0, 15.0]);
        assert_eq!(chunk_starts(27.0, 10.0, 5.0).unwrap(), vec![0.0, 5.0, 10.0, 15.0, 17.0]);
        assert_eq!(chunk_starts(4.0, 10.0, 1.0).unwrap(), vec![0.0]);
        assert_eq!(chunk_starts(10.0, 10.0, 1.0).unwrap(), vec![0.0]);
        assert_eq!(chunk_starts(12.5, 10.0, 2.5).unwrap(), vec![0.0, 2.5]);
        assert!(chunk_starts(10.0, 10.0, 0.0).is_err());
    }

    #[test]
    fn chunk_activity_per_local_speaker() {
        let p = Powerset::segmentation_3_0();
        let frames = Frames { start: 0.0, step: 0.5, duration: 0.5 };
        // Frames: {0}, {0}, {0,1}, {1}, ∅, {2} (past the end of the audio).
        let chunk = ChunkActivity::decode(&p, &scores(&[1, 1, 4, 2, 0, 3], 7), 10.0, frames, 12.5).unwrap();
        assert_eq!(chunk.frames.start, 10.0);
        assert_eq!(chunk.activity, vec![1, 1, 3, 2, 0, 0]);
        assert_eq!(chunk.active_speakers(), vec![0, 1]);
        assert_eq!(chunk.speaker_frames(1), vec![false, false, true, true, false, false]);
        assert_eq!(chunk.clean_frames(1), vec![false, false, false, true, false, false]);
        assert_eq!(chunk.embedding_frames(1, 1), chunk.clean_frames(1));
        assert_eq!(chunk.embedding_frames(1, 2), chunk.speaker_frames(1));
        assert_eq!(chunk.speaker_duration(0), 1.5);
        assert_eq!(chunk.speaker_intervals(0), vec![(10.0, 11.5)]);
        assert_eq!(chunk.speaker_intervals(1), vec![(11.0, 12.0)]);
    }

    #[test]
    fn reconstruct_maps_local_speakers_and_votes_over_overlapping_chunks() {
        let frames = Frames { start: 0.0, step: 1.0, duration: 1.0 };
        // Chunk 0 covers frames 0..4, chunk 1 frames 2..6. The same person is local 0 in chunk 0 and local 1 in
        // chunk 1 (global 5); the other is global 2.
        let c0 = ChunkActivity::from_hard(frames, vec![1, 1, 1, 2], 3);
        let c1 = ChunkActivity::from_hard(frames.shifted(2.0), vec![2, 1, 1, 1], 3);
        let labels = vec![vec![Some(5), Some(2), None], vec![Some(2), Some(5), None]];
        let t = reconstruct(&[c0, c1], &labels, 6.0, &Reconstruction::default()).unwrap();
        assert_eq!(t.frames, frames);
        // Frame 2: both chunks say global 5. Frame 3: chunk 0 says 2, chunk 1 says 2 → 2. Frames 4, 5: chunk 1 only.
        assert_eq!(t.activity, vec![1 << 5, 1 << 5, 1 << 5, 1 << 2, 1 << 2, 1 << 2]);
    }

    #[test]
    fn reconstruct_keeps_overlap_the_chunks_agree_on_and_resolves_disagreement() {
        let frames = Frames { start: 0.0, step: 1.0, duration: 1.0 };
        // Three chunks over the same 3 frames. Frame 0: all say {a, b} → overlap. Frame 1: one says {a, b}, two
        // say {a} → one speaker (count rounds 4/3 to 1), a (3 votes). Frame 2: b, b, a → b.
        let c = |activity: Vec<u64>| ChunkActivity::from_hard(frames, activity, 2);
        let chunks = [c(vec![3, 3, 2]), c(vec![3, 1, 2]), c(vec![3, 1, 1])];
        let labels = vec![vec![Some(0), Some(1)]; 3];
        let t = reconstruct(&chunks, &labels, 3.0, &Reconstruction::default()).unwrap();
        assert_eq!(t.activity, vec![3, 1, 2]);
    }

    #[test]
    fn posteriors_are_softmax_sums() {
        let p = Powerset::segmentation_3_0();
        // One frame: ∅ 0.5, {0} 0.2, {0,1} 0.3 (as log-probabilities; the other classes ~0).
        let row: Vec<f32> = [0.5f32, 0.2, 1e-9, 1e-9, 0.3, 1e-9, 1e-9].iter().map(|x| x.ln()).collect();
        let q = p.posteriors(&row);
        let v: Vec<f32> = q.iter().map(|&b| f32::from(b) / POSTERIOR_SCALE).collect();
        let close = |a: f32, b: f32| (a - b).abs() < 0.005;
        assert_eq!(v.len(), 5);
        assert!(
            close(v[0], 0.5) && close(v[1], 0.3) && close(v[2], 0.5) && close(v[3], 0.3) && close(v[4], 0.0),
            "{v:?}"
        );
        // Logits give the same as log-probabilities shifted by a constant.
        let shifted: Vec<f32> = row.iter().map(|x| x + 3.0).collect();
        assert_eq!(p.posteriors(&shifted), q);
    }

    #[test]
    fn averaged_posteriors_find_speech_no_single_chunk_is_sure_of() {
        let frames = Frames { start: 0.0, step: 1.0, duration: 1.0 };
        // Three chunks over two frames; each gives local speaker 0 a probability of 0.4 in frame 0 (so its hard
        // decision is silence) and, in frame 1, speaker 0 for sure with a 0.3 chance that speaker 1 joins.
        let chunk = || {
            let mut c = ChunkActivity::from_hard(frames, vec![0, 1], 2);
            let b = |p: f32| (p * POSTERIOR_SCALE).round() as u8;
            c.posteriors = vec![b(0.4), 0, b(0.4), 0, b(1.0), b(0.3), b(1.0), b(0.3)];
            c
        };
        let chunks = [chunk(), chunk(), chunk()];
        let labels = vec![vec![Some(0), Some(1)]; 3];
        let hard = reconstruct(&chunks, &labels, 2.0, &Reconstruction::default()).unwrap();
        assert_eq!(hard.activity, vec![0, 1]);
        assert!((hard.overlap[1] - 0.3).abs() < 0.01);
        let soft = Reconstruction { speech_threshold: 0.3, overlap_threshold: 0.25 };
        assert_eq!(reconstruct(&chunks, &labels, 2.0, &soft).unwrap().activity, vec![1, 3]);
    }

    #[test]
    fn reconstruct_checks_its_inputs() {
        let frames = Frames { start: 0.0, step: 1.0, duration: 1.0 };
        let c = ChunkActivity::from_hard(frames, vec![1], 2);
        assert!(reconstruct(std::slice::from_ref(&c), &[], 1.0, &Reconstruction::default()).is_err());
        assert!(reconstruct(std::slice::from_ref(&c), &[vec![Some(0)]], 1.0, &Reconstruction::default()).is_err());
        assert!(
            reconstruct(std::slice::from_ref(&c), &[vec![Some(64), None]], 1.0, &Reconstruction::default()).is_err()
        );
        let other = ChunkActivity { frames: Frames { step: 0.5, ..frames }, ..c.clone() };
        let err = reconstruct(&[c, other], &[vec![None, None], vec![None, None]], 1.0, &Reconstruction::default())
            .unwrap_err();
        assert!(matches!(err, PowersetError::Reconstruct { chunk: 1, .. }));
        assert!(reconstruct(&[], &[], 1.0, &Reconstruction::default()).unwrap().activity.is_empty());
    }
}
