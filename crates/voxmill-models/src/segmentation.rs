//! Neural speaker segmentation on ONNX Runtime: models with the signature of pyannote segmentation-3.0, for
//! diarization that finds who speaks when (and overlap) inside short chunks before speakers are matched across them.
//!
//! Such a model reads fixed-length chunks of audio, `x: [batch, 1, samples]` (10 s = 160,000 samples at 16 kHz),
//! and scores every output frame (589 per 10 s chunk) over the 7 *powerset* classes `∅, {0}, {1}, {2}, {0,1},
//! {0,2}, {1,2}` of three local speakers, as log-probabilities: `y: [batch, frames, 7]`. The input and output
//! names do not matter. sherpa-onnx exports carry their settings as ONNX metadata (`sample_rate`, `window_size`
//! in samples, `num_speakers`, `powerset_max_classes`, `num_classes`, `receptive_field_size`,
//! `receptive_field_shift`); what is there is read and checked, and segmentation-3.0's values stand in for the
//! rest. Decoding the scores into speaker activity is `voxmill-diarize`'s job.

use std::path::{Path, PathBuf};

use ort::session::{Session, SessionInputValue};
use ort::value::{TensorElementType, TensorRef, ValueType};

use crate::error::ModelError;
use crate::runtime::open_session;

/// Classes per frame: the powerset of 3 local speakers with at most 2 at once, the only layout the diarizer decodes.
pub const POWERSET_CLASSES: usize = 7;

/// One frame's log-probabilities of the classes `∅, {0}, {1}, {2}, {0,1}, {0,2}, {1,2}`, in that (pyannote's)
/// order; `exp` of them sums to 1.
pub type FrameScores = [f32; POWERSET_CLASSES];

/// The setting that names the segmentation model, for error messages.
const SETTING: &str = "diarize.segmentation_model";
/// segmentation-3.0's sample rate, used when the model's metadata does not say.
const DEFAULT_SAMPLE_RATE: u32 = 16_000;
/// segmentation-3.0's chunk: 10 s at 16 kHz, used when neither the metadata nor the input shape say.
const DEFAULT_CHUNK_SAMPLES: usize = 160_000;
/// segmentation-3.0's local speakers per chunk.
const DEFAULT_SPEAKERS: usize = 3;
/// segmentation-3.0's most speakers active in one frame.
const DEFAULT_MAX_SIMULTANEOUS: usize = 2;
/// Most chunks handed to one session run: 32 chunks of 10 s are 20 MB of input, enough to keep a GPU busy.
const MAX_BATCH: usize = 32;

/// What the model's metadata and shapes say about how to feed it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Layout {
    sample_rate: u32,
    chunk_samples: usize,
    num_speakers: usize,
    max_simultaneous: usize,
    /// `(size, shift)` in samples of one output frame, when the metadata gives both.
    receptive_field: Option<(usize, usize)>,
}

/// A loaded speaker segmentation model with its reusable input buffer. One instance runs one batch at a time; use
/// one per thread to run several.
pub struct SpeakerSegmentation {
    session: Session,
    path: PathBuf,
    layout: Layout,
    /// Output frames per chunk, found by running a silent chunk at load.
    frames: usize,
    /// The batch size a graph with a static batch dimension insists on; short batches are padded to it.
    fixed_batch: Option<usize>,
    /// The batch being assembled, `[batch, 1, chunk_samples]`.
    batch: Vec<f32>,
}

impl std::fmt::Debug for SpeakerSegmentation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SpeakerSegmentation")
            .field("path", &self.path)
            .field("chunk_samples", &self.layout.chunk_samples)
            .field("sample_rate", &self.layout.sample_rate)
            .field("frames", &self.frames)
            .finish()
    }
}

impl SpeakerSegmentation {
    /// Loads a segmentation model from an ONNX file, running on one thread. A missing ONNX Runtime, an empty or
    /// corrupt file, or a model without segmentation-3.0's signature is a one-line error naming the file (and, for
    /// the wrong kind of model, `diarize.segmentation_model`).
    pub fn load(path: &Path) -> Result<Self, ModelError> {
        Self::load_with_threads(path, 1)
    }

    /// Like [`load`](Self::load), with ONNX Runtime's intra-op thread count (at least 1): more threads speed up one
    /// batch; several single-threaded runners in parallel use cores better for many batches.
    pub fn load_with_threads(path: &Path, intra_threads: usize) -> Result<Self, ModelError> {
        let session = open_session(path, intra_threads)?;

        let input = check_signature(&session, path)?;
        let layout = match session.metadata() {
            Ok(m) => read_layout(path, |key| m.custom(key), input.samples)?,
            Err(_) => read_layout(path, |_| None, input.samples)?,
        };
        let mut segmentation = SpeakerSegmentation {
            session,
            path: path.to_path_buf(),
            layout,
            frames: 0,
            fixed_batch: input.batch,
            batch: Vec::new(),
        };
        // The frame count is not in the graph's shapes (they are dynamic in exports): run one silent chunk.
        let rows = segmentation.fixed_batch.unwrap_or(1);
        segmentation.batch = vec![0.0; rows * segmentation.layout.chunk_samples];
        let (frames, _) = segmentation.try_forward(rows).map_err(|reason| {
            let n = segmentation.layout.chunk_samples;
            not_segmentation(path, format!("running it on a silent chunk of {n} samples: {reason}"))
        })?;
        segmentation.frames = frames;
        segmentation.batch = Vec::new();
        Ok(segmentation)
    }

    /// The model file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Samples in one chunk (160,000 for segmentation-3.0): the most [`run`](Self::run) takes per chunk.
    pub fn chunk_samples(&self) -> usize {
        self.layout.chunk_samples
    }

    /// The sample rate the model was trained on (16 kHz for segmentation-3.0); resample to it first.
    pub fn sample_rate(&self) -> u32 {
        self.layout.sample_rate
    }

    /// Local speakers per chunk the classes cover (3).
    pub fn num_speakers(&self) -> usize {
        self.layout.num_speakers
    }

    /// Most local speakers one frame's class can hold (2).
    pub fn max_simultaneous(&self) -> usize {
        self.layout.max_simultaneous
    }

    /// Output frames per chunk (589 for segmentation-3.0), measured at load.
    pub fn frames_per_chunk(&self) -> usize {
        self.frames
    }

    /// `(size, shift)` in samples of the audio one output frame sees, as the model's metadata states (sherpa-onnx
    /// exports of segmentation-3.0: 991 and 270), to place frames in time; `None` when the model does not say.
    pub fn receptive_field(&self) -> Option<(usize, usize)> {
        self.layout.receptive_field
    }

    /// Scores chunks of mono samples at [`sample_rate`](Self::sample_rate) in [-1, 1]: per chunk, in order,
    /// [`frames_per_chunk`](Self::frames_per_chunk) frames of log-probabilities. A chunk shorter than
    /// [`chunk_samples`](Self::chunk_samples) is zero-padded at the end (its last frames score silence); a longer
    /// one is an error. Chunks run in batches of up to 32. The scores are passed through a log-softmax here, so they
    /// are log-probabilities even from a model exported without its final activation.
    pub fn run(&mut self, chunks: &[&[f32]]) -> Result<Vec<Vec<FrameScores>>, ModelError> {
        let n = self.layout.chunk_samples;
        if let Some((k, c)) = chunks.iter().enumerate().find(|(_, c)| c.len() > n) {
            return Err(ModelError::inference(
                &self.path,
                format!(
                    "chunk {k} has {} samples, more than the model's {n}; cut the audio into chunks of at most {n} \
                    samples",
                    c.len()
                ),
            ));
        }
        let mut out = Vec::with_capacity(chunks.len());
        let per_run = self.fixed_batch.unwrap_or(MAX_BATCH);
        for group in chunks.chunks(per_run) {
            let rows = self.fixed_batch.unwrap_or(group.len());
            self.batch.clear();
            self.batch.resize(rows * n, 0.0);
            for (row, chunk) in self.batch.chunks_exact_mut(n).zip(group) {
                row[..chunk.len()].copy_from_slice(chunk);
            }
            let (frames, scores) = self.forward(rows)?;
            for chunk in scores.chunks_exact(frames * POWERSET_CLASSES).take(group.len()) {
                out.push(chunk.chunks_exact(POWERSET_CLASSES).map(log_softmax).collect());
            }
        }
        Ok(out)
    }

    /// Runs `self.batch` as `[rows, 1, chunk_samples]`; returns the frames per chunk and `rows × frames × 7` finite
    /// scores, checking the frame count against the one measured at load.
    fn forward(&mut self, rows: usize) -> Result<(usize, Vec<f32>), ModelError> {
        self.try_forward(rows).map_err(|reason| ModelError::inference(&self.path, reason))
    }

    /// [`forward`](Self::forward), failing with the reason only (load words it as a wrong model instead).
    fn try_forward(&mut self, rows: usize) -> Result<(usize, Vec<f32>), String> {
        let n = self.layout.chunk_samples;
        debug_assert_eq!(self.batch.len(), rows * n);
        let input = TensorRef::from_array_view(([rows, 1, n], self.batch.as_slice())).map_err(|e| e.to_string())?;
        let values: [SessionInputValue<'_>; 1] = [input.into()];
        let outputs = self.session.run(values).map_err(|e| e.to_string())?;
        let (shape, values) = outputs[0].try_extract_tensor::<f32>().map_err(|e| e.to_string())?;
        let frames = match **shape {
            [b, f, c] if b == rows as i64 && f > 0 && c == POWERSET_CLASSES as i64 => f as usize,
            _ => {
                return Err(format!(
                    "it returned shape {} for a batch of {rows}, not [{rows}, frames, {POWERSET_CLASSES}]",
                    dims(shape)
                ));
            }
        };
        if self.frames != 0 && frames != self.frames {
            return Err(format!("it returned {frames} frames per chunk, but {} at load", self.frames));
        }
        if values.iter().any(|v| !v.is_finite()) {
            return Err("it returned NaN or infinite values".to_string());
        }
        Ok((frames, values.to_vec()))
    }
}

/// What the input shape fixes: the batch size and the chunk length, where they are static.
struct InputShape {
    batch: Option<usize>,
    samples: Option<usize>,
}

/// Checks for one float input `[batch, 1, samples]` and one float output `[batch, frames, 7]` (any dimension may
/// be dynamic), whatever their names.
fn check_signature(session: &Session, path: &Path) -> Result<InputShape, ModelError> {
    let inputs = session.inputs();
    let [input] = inputs else {
        let names: Vec<&str> = inputs.iter().map(|i| i.name()).collect();
        return Err(not_segmentation(path, format!("it has {} inputs ({})", names.len(), names.join(", "))));
    };
    let shape = match input.dtype() {
        ValueType::Tensor { ty: TensorElementType::Float32, shape, .. } if shape.len() == 3 => shape,
        other => return Err(not_segmentation(path, format!("input `{}` is {other}", input.name()))),
    };
    if shape[1] > 1 {
        return Err(not_segmentation(
            path,
            format!("input `{}` has shape {}, {} channels instead of 1", input.name(), dims(shape), shape[1]),
        ));
    }
    let outputs = session.outputs();
    let [output] = outputs else {
        let names: Vec<&str> = outputs.iter().map(|o| o.name()).collect();
        return Err(not_segmentation(path, format!("it has {} outputs ({})", names.len(), names.join(", "))));
    };
    match output.dtype() {
        ValueType::Tensor { ty: TensorElementType::Float32, shape: out, .. }
            if out.len() == 3 && (out[2] <= 0 || out[2] == POWERSET_CLASSES as i64) => {}
        other => return Err(not_segmentation(path, format!("output `{}` is {other}", output.name()))),
    }
    let fixed = |d: i64| usize::try_from(d).ok().filter(|&d| d > 0);
    Ok(InputShape { batch: fixed(shape[0]), samples: fixed(shape[2]) })
}

/// The layout from the model's metadata (`get` looks a key up), the input's static length and segmentation-3.0's
/// defaults, checked against each other and against the 7-class powerset.
fn read_layout(
    path: &Path,
    get: impl Fn(&str) -> Option<String>,
    input_samples: Option<usize>,
) -> Result<Layout, ModelError> {
    let number = |key: &str| -> Result<Option<usize>, ModelError> {
        let Some(value) = get(key) else { return Ok(None) };
        match value.trim().parse::<usize>() {
            Ok(v) if v > 0 => Ok(Some(v)),
            _ => Err(ModelError::unsupported(
                path,
                format!(
                    "metadata {key} is `{value}`, not a positive whole number; point {SETTING} at an unmodified \
                    segmentation-3.0 export"
                ),
            )),
        }
    };
    let sample_rate = match number("sample_rate")? {
        Some(rate) => u32::try_from(rate)
            .map_err(|_| ModelError::unsupported(path, format!("metadata sample_rate is {rate}, not a sample rate")))?,
        None => DEFAULT_SAMPLE_RATE,
    };
    let chunk_samples = match (number("window_size")?, input_samples) {
        (Some(meta), Some(fixed)) if meta != fixed => {
            return Err(ModelError::unsupported(
                path,
                format!(
                    "metadata window_size is {meta} samples but the input takes {fixed}; point {SETTING} at an \
                    unmodified segmentation-3.0 export"
                ),
            ));
        }
        (Some(samples), _) | (None, Some(samples)) => samples,
        (None, None) => DEFAULT_CHUNK_SAMPLES,
    };
    let num_speakers = number("num_speakers")?.unwrap_or(DEFAULT_SPEAKERS);
    let max_simultaneous = number("powerset_max_classes")?.unwrap_or(DEFAULT_MAX_SIMULTANEOUS);
    let classes = powerset_size(num_speakers, max_simultaneous);
    let declared = number("num_classes")?;
    if classes != Some(POWERSET_CLASSES) || declared.is_some_and(|c| c != POWERSET_CLASSES) {
        return Err(wrong_model(
            path,
            format!(
                "its metadata describes {num_speakers} speakers with up to {max_simultaneous} at once{}, but voxmill \
                decodes segmentation-3.0's {POWERSET_CLASSES} classes (3 speakers, up to 2 at once)",
                declared.map_or(String::new(), |c| format!(" ({c} classes)"))
            ),
        ));
    }
    let receptive_field = match (number("receptive_field_size")?, number("receptive_field_shift")?) {
        (Some(size), Some(shift)) => Some((size, shift)),
        _ => None,
    };
    Ok(Layout { sample_rate, chunk_samples, num_speakers, max_simultaneous, receptive_field })
}

/// Classes of the powerset of up to `max_set` of `speakers` speakers (the empty set included), or `None` when
/// `max_set > speakers` or the count is absurd.
fn powerset_size(speakers: usize, max_set: usize) -> Option<usize> {
    if max_set > speakers || speakers > 64 {
        return None;
    }
    let mut binomial = 1usize; // C(speakers, k)
    let mut total = 1usize;
    for k in 1..=max_set {
        binomial = binomial.checked_mul(speakers - k + 1)? / k;
        total = total.checked_add(binomial)?;
    }
    Some(total)
}

/// The "wrong kind of model" error for a graph of the wrong shape: what is wrong, the signature wanted, the fix.
fn not_segmentation(path: &Path, detail: impl std::fmt::Display) -> ModelError {
    wrong_model(
        path,
        format!(
            "{detail}; it must take one float input [batch, 1, samples] and give one float output [batch, frames, \
            {POWERSET_CLASSES}]"
        ),
    )
}

/// The "wrong kind of model" error: what is wrong, and the setting to point elsewhere.
fn wrong_model(path: &Path, detail: impl std::fmt::Display) -> ModelError {
    ModelError::unsupported(
        path,
        format!(
            "not a pyannote segmentation-3.0 style model: {detail}; point {SETTING} at a segmentation-3.0 ONNX export \
            (`voxmill models fetch segmentation:pyannote-3.0`)"
        ),
    )
}

/// A shape as `[?, 1, 160000]`, dynamic dimensions as `?`.
fn dims(shape: &[i64]) -> String {
    let parts: Vec<String> = shape.iter().map(|&d| if d < 0 { "?".to_string() } else { d.to_string() }).collect();
    format!("[{}]", parts.join(", "))
}

/// `scores - log(sum(exp(scores)))`, computed stably: log-probabilities whatever the model's last activation.
fn log_softmax(scores: &[f32]) -> FrameScores {
    let max = scores.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let sum: f64 = scores.iter().map(|&s| f64::from(s - max).exp()).sum();
    let norm = max + sum.ln() as f32;
    std::array::from_fn(|c| scores[c] - norm)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn layout(meta: &[(&str, &str)], input: Option<usize>) -> Result<Layout, ModelError> {
        let map: HashMap<String, String> = meta.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        read_layout(Path::new("/models/seg.onnx"), |k| map.get(k).cloned(), input)
    }

    #[test]
    fn powerset_sizes() {
        assert_eq!(powerset_size(3, 2), Some(7));
        assert_eq!(powerset_size(3, 3), Some(8));
        assert_eq!(powerset_size(4, 2), Some(11));
        assert_eq!(powerset_size(1, 0), Some(1));
        assert_eq!(powerset_size(2, 3), None);
    }

    #[test]
    fn layout_reads_sherpa_onnx_metadata_and_falls_back_to_segmentation_3_0() {
        let sherpa = [
            ("sample_rate", "16000"),
            ("window_size", "160000"),
            ("num_speakers", "3"),
            ("powerset_max_classes", "2"),
            ("num_classes", "7"),
            ("receptive_field_size", "991"),
            ("receptive_field_shift", "270"),
            ("model_type", "pyannote-segmentation-3.0"),
        ];
        let got = layout(&sherpa, None).unwrap();
        assert_eq!(
            got,
            Layout {
                sample_rate: 16_000,
                chunk_samples: 160_000,
                num_speakers: 3,
                max_simultaneous: 2,
                receptive_field: Some((991, 270)),
            }
        );
        let bare = layout(&[], None).unwrap();
        assert_eq!(bare, Layout { receptive_field: None, ..got.clone() });
        // A static input length stands in for window_size; the metadata wins over the default.
        assert_eq!(layout(&[], Some(80_000)).unwrap().chunk_samples, 80_000);
        assert_eq!(layout(&[("window_size", "48000"), ("sample_rate", "8000")], None).unwrap().chunk_samples, 48_000);
        assert_eq!(layout(&[("window_size", "160000")], Some(160_000)).unwrap().chunk_samples, 160_000);
    }

    #[test]
    fn inconsistent_or_foreign_metadata_is_a_clear_error() {
        let cases: [&[(&str, &str)]; 6] = [
            &[("num_speakers", "4")],
            &[("powerset_max_classes", "3")],
            &[("num_classes", "8")],
            &[("window_size", "ten seconds")],
            &[("sample_rate", "0")],
            &[("window_size", "80000")],
        ];
        for meta in cases {
            let msg = layout(meta, Some(160_000)).unwrap_err().to_string();
            assert!(msg.starts_with("/models/seg.onnx: ") && msg.contains(SETTING), "{msg}");
            assert!(!msg.contains('\n'), "{msg}");
        }
    }

    #[test]
    fn log_softmax_gives_log_probabilities_and_keeps_them() {
        let raw = [3.0f32, -1.0, 0.5, 100.0, -50.0, 2.0, 0.0];
        let once = log_softmax(&raw);
        let total: f64 = once.iter().map(|&v| f64::from(v).exp()).sum();
        assert!((total - 1.0).abs() < 1e-6, "{total}");
        assert_eq!(once.iter().cloned().fold(f32::MIN, f32::max), once[3]);
        let twice = log_softmax(&once);
        assert!(once.iter().zip(&twice).all(|(a, b)| (a - b).abs() < 1e-5));
    }

    #[test]
    fn shapes_print_dynamic_dimensions_as_question_marks() {
        assert_eq!(dims(&[-1, 1, 160_000]), "[?, 1, 160000]");
        assert_eq!(dims(&[]), "[]");
    }

    #[test]
    fn speaker_segmentation_is_send() {
        fn assert_send<T: Send>() {}
        assert_send::<SpeakerSegmentation>();
    }
}
