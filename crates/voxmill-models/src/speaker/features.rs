//! The two feature front ends speaker embedding models are trained on, computed exactly as their training code does
//! so the embeddings mean what the model's authors measured.
//!
//! - GE2E (Resemblyzer): `librosa.feature.melspectrogram(sr=16000, n_fft=400, hop_length=160, n_mels=40)`: periodic
//!   Hann window, centred frames with 200 zero samples of padding on each side (librosa ≥ 0.10, which is what pip
//!   installs for resemblyzer today; librosa 0.9 padded by reflection), power spectrum, Slaney mel filters with Slaney
//!   normalisation over 0–8 kHz, no log.
//! - Kaldi fbank (WeSpeaker, 3D-Speaker): `torchaudio.compliance.kaldi.fbank` / kaldi-native-fbank with
//!   `num_mel_bins=80, frame_length=25, frame_shift=10, dither=0` and Kaldi's other defaults: snip-edges framing,
//!   samples scaled to the int16 range, per-frame DC removal, pre-emphasis 0.97, FFT padded to 512, power spectrum,
//!   Kaldi mel filters (mel = 1127 ln(1 + f/700)) over 20 Hz–8 kHz, natural log floored at f32 epsilon, no energy
//!   term; then the mean over the window's frames subtracted from every frame (CMN). The window is the one thing the
//!   two toolkits disagree on ([`FbankWindow`]): WeSpeaker passes `window_type='hamming'` everywhere (training,
//!   `infer_onnx.py`, its C++ runtime), 3D-Speaker keeps Kaldi's default Povey window. 3D-Speaker feeds samples in
//!   [-1, 1] rather than the int16 range, which only shifts every log value by ln 32768², and CMN removes that.
//!   `scripts/fbank_reference.py` computes the same with kaldi-native-fbank, and `tests/fbank.rs` compares the two.

use std::sync::Arc;

use realfft::{RealFftPlanner, RealToComplex, num_complex::Complex32};
use voxmill_audio::mel::{hann_periodic, slaney_mel_filters};

/// Sample rate every speaker front end here works at.
pub(crate) const SAMPLE_RATE: usize = 16_000;
/// GE2E: STFT size and window (25 ms).
pub(crate) const GE2E_N_FFT: usize = 400;
/// Hop between frames of both front ends (10 ms).
pub(crate) const HOP: usize = 160;
/// GE2E: mel bands.
pub(crate) const GE2E_BANDS: usize = 40;
/// Kaldi fbank: frame length (25 ms).
pub(crate) const FBANK_FRAME: usize = 400;
/// Kaldi fbank: the frame zero-padded to the next power of two.
const FBANK_FFT: usize = 512;
/// Kaldi fbank: pre-emphasis coefficient.
const PREEMPHASIS: f32 = 0.97;
/// Kaldi fbank: lowest filter edge (Hz); the highest is the Nyquist frequency.
const FBANK_LOW_HZ: f32 = 20.0;
/// Kaldi's `--dither=0` pipelines (and WeSpeaker's) scale float samples to the int16 range first.
const INT16_SCALE: f32 = 32768.0;

/// The analysis window of the Kaldi fbank front end: the one option the model families set differently, and a
/// wrong one is not an error, only a mismatch with what the model was trained on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FbankWindow {
    /// Kaldi's default (`--window-type=povey`): a Hann window over N − 1 raised to the power 0.85. 3D-Speaker
    /// (CAM++, ERes2Net) trains with it, and sherpa-onnx feeds it to every speaker model.
    Povey,
    /// `0.54 − 0.46 cos(2πi / (N − 1))`: what WeSpeaker trains and runs its models with (`window_type='hamming'`).
    Hamming,
}

/// Which features a speaker embedding model takes. Chosen by the setting `diarize.embedding_kind`, the model's
/// `voxmill.kind` metadata, or the width of its input; the wrong one gives meaningless embeddings, not an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SpeakerFrontEnd {
    /// Resemblyzer's GE2E: 40-band power mel (n_fft 400, hop 160, no log), 160-frame partial windows averaged.
    Ge2eMel,
    /// Kaldi-style log mel filterbank with per-window mean normalisation, as WeSpeaker and 3D-Speaker feed their
    /// models; `bins` mel bands (80 for all of them).
    KaldiFbank {
        /// Number of mel bands.
        bins: usize,
        /// Analysis window: [`FbankWindow::Hamming`] for WeSpeaker models, [`FbankWindow::Povey`] for 3D-Speaker.
        window: FbankWindow,
    },
}

impl SpeakerFrontEnd {
    /// Features per frame, which must equal the last dimension of the model's input.
    pub fn bands(&self) -> usize {
        match *self {
            SpeakerFrontEnd::Ge2eMel => GE2E_BANDS,
            SpeakerFrontEnd::KaldiFbank { bins, .. } => bins,
        }
    }

    /// Frames [`features`](Self::features) gives for `n_samples` samples (GE2E: `1 + n / 160`, centred; fbank:
    /// `1 + (n - 400) / 160`, or 0 below 400 samples).
    pub fn num_frames(&self, n_samples: usize) -> usize {
        match self {
            SpeakerFrontEnd::Ge2eMel => 1 + n_samples / HOP,
            SpeakerFrontEnd::KaldiFbank { .. } if n_samples < FBANK_FRAME => 0,
            SpeakerFrontEnd::KaldiFbank { .. } => 1 + (n_samples - FBANK_FRAME) / HOP,
        }
    }

    /// The features of 16 kHz mono samples in [-1, 1], frames × [`bands`](Self::bands), row-major. GE2E's volume
    /// normalisation and partial windows are not applied here (the embedder does that); fbank's mean normalisation
    /// is. Builds the filters on every call: for repeated use, [`SpeakerEmbedder`](super::SpeakerEmbedder) keeps them.
    pub fn features(&self, samples: &[f32]) -> Vec<f32> {
        let mut out = Vec::new();
        Extractor::new(*self).compute(samples, &mut out);
        out
    }

    /// [`features`](Self::features) without fbank's per-window mean normalisation (the same for GE2E): the log mel
    /// energies of each frame on their own. Public so that the reference tests can compare them frame by frame with
    /// kaldi-native-fbank, which stops there; models are fed [`features`](Self::features).
    pub fn features_before_mean_normalisation(&self, samples: &[f32]) -> Vec<f32> {
        let mut out = Vec::new();
        Extractor::new(*self).compute_frames(samples, &mut out);
        out
    }

    /// The value of `diarize.embedding_kind` that selects this front end: `ge2e`, or `fbank` followed by the number
    /// of bins unless it is 80 and `-hamming` for the Hamming window (`fbank`, `fbank64`, `fbank-hamming`).
    pub fn name(&self) -> String {
        match *self {
            SpeakerFrontEnd::Ge2eMel => "ge2e".to_string(),
            SpeakerFrontEnd::KaldiFbank { bins, window } => {
                let bins = if bins == 80 { String::new() } else { bins.to_string() };
                let window = match window {
                    FbankWindow::Povey => "",
                    FbankWindow::Hamming => "-hamming",
                };
                format!("fbank{bins}{window}")
            }
        }
    }

    /// Reads a `diarize.embedding_kind` value; `None` if it is none. `ge2e`; `fbank`, `fbankN` (N bins, 8–256) with
    /// an optional `-povey` (the default) or `-hamming`; and the toolkits' names as sherpa-onnx writes them in its
    /// models' `framework` metadata: `wespeaker` (= `fbank-hamming`) and `3d-speaker` (= `fbank`).
    pub fn parse(value: &str) -> Option<Self> {
        let v = value.trim().to_ascii_lowercase();
        match v.as_str() {
            "ge2e" | "resemblyzer" => return Some(SpeakerFrontEnd::Ge2eMel),
            "wespeaker" => return Some(SpeakerFrontEnd::KaldiFbank { bins: 80, window: FbankWindow::Hamming }),
            "3d-speaker" | "3dspeaker" => {
                return Some(SpeakerFrontEnd::KaldiFbank { bins: 80, window: FbankWindow::Povey });
            }
            _ => {}
        }
        let rest = v.strip_prefix("fbank")?;
        let (bins, window) = match rest.split_once('-') {
            None => (rest, FbankWindow::Povey),
            Some((bins, "povey")) => (bins, FbankWindow::Povey),
            Some((bins, "hamming")) => (bins, FbankWindow::Hamming),
            Some(_) => return None,
        };
        let bins: usize = if bins.is_empty() { 80 } else { bins.parse().ok()? };
        (8..=256).contains(&bins).then_some(SpeakerFrontEnd::KaldiFbank { bins, window })
    }
}

impl std::fmt::Display for SpeakerFrontEnd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.name())
    }
}

/// A front end with its FFT plan, window, filters and buffers, reused across calls.
pub(crate) struct Extractor {
    kind: SpeakerFrontEnd,
    fft: Arc<dyn RealToComplex<f32>>,
    /// Analysis window (400 samples for both front ends).
    window: Vec<f32>,
    /// Mel filters, bands × (fft/2 + 1), row-major.
    filters: Vec<f32>,
    frame: Vec<f32>,
    spectrum: Vec<Complex32>,
    scratch: Vec<Complex32>,
    power: Vec<f32>,
}

impl Extractor {
    pub(crate) fn new(kind: SpeakerFrontEnd) -> Self {
        let (n_fft, window, filters) = match kind {
            SpeakerFrontEnd::Ge2eMel => (GE2E_N_FFT, hann_periodic(GE2E_N_FFT), slaney_filters(GE2E_BANDS, GE2E_N_FFT)),
            SpeakerFrontEnd::KaldiFbank { bins, window } => {
                let window = match window {
                    FbankWindow::Povey => povey(FBANK_FRAME),
                    FbankWindow::Hamming => hamming(FBANK_FRAME),
                };
                (FBANK_FFT, window, kaldi_filters(bins, FBANK_FFT))
            }
        };
        let fft = RealFftPlanner::<f32>::new().plan_fft_forward(n_fft);
        let frame = fft.make_input_vec();
        let spectrum = fft.make_output_vec();
        let scratch = fft.make_scratch_vec();
        Extractor { kind, fft, window, filters, frame, spectrum, scratch, power: vec![0.0; n_fft / 2 + 1] }
    }

    pub(crate) fn kind(&self) -> SpeakerFrontEnd {
        self.kind
    }

    /// Appends the features of `samples` (frames × bands) to `out`.
    pub(crate) fn compute(&mut self, samples: &[f32], out: &mut Vec<f32>) {
        let first = out.len();
        self.compute_frames(samples, out);
        if let SpeakerFrontEnd::KaldiFbank { bins, .. } = self.kind {
            subtract_band_means(&mut out[first..], bins);
        }
    }

    /// Appends the features of `samples` before fbank's mean normalisation.
    pub(crate) fn compute_frames(&mut self, samples: &[f32], out: &mut Vec<f32>) {
        match self.kind {
            SpeakerFrontEnd::Ge2eMel => self.ge2e(samples, out),
            SpeakerFrontEnd::KaldiFbank { bins, .. } => self.fbank(samples, bins, out),
        }
    }

    fn ge2e(&mut self, samples: &[f32], out: &mut Vec<f32>) {
        let frames = self.kind.num_frames(samples.len());
        let half = GE2E_N_FFT / 2;
        out.reserve(frames * GE2E_BANDS);
        for t in 0..frames {
            // Frame t covers samples [t·hop − 200, t·hop + 200) with zeros outside the signal.
            let start = (t * HOP) as isize - half as isize;
            for (i, (x, w)) in self.frame.iter_mut().zip(&self.window).enumerate() {
                let j = start + i as isize;
                *x = if j >= 0 && (j as usize) < samples.len() { samples[j as usize] * w } else { 0.0 };
            }
            self.power_spectrum();
            self.apply_filters(GE2E_BANDS, out, |e| e);
        }
    }

    /// Kaldi's `ProcessWindow` and `FbankComputer::Compute` per frame, in their order: DC removal, pre-emphasis
    /// (the first sample against itself), window, zero-padding, power spectrum, mel filters, floored log.
    fn fbank(&mut self, samples: &[f32], bins: usize, out: &mut Vec<f32>) {
        let frames = self.kind.num_frames(samples.len());
        out.reserve(frames * bins);
        for t in 0..frames {
            let src = &samples[t * HOP..t * HOP + FBANK_FRAME];
            let frame = &mut self.frame[..FBANK_FRAME];
            let mean = src.iter().map(|&x| f64::from(x)).sum::<f64>() as f32 * INT16_SCALE / FBANK_FRAME as f32;
            for (y, &x) in frame.iter_mut().zip(src) {
                *y = x * INT16_SCALE - mean;
            }
            for i in (1..FBANK_FRAME).rev() {
                frame[i] -= PREEMPHASIS * frame[i - 1];
            }
            frame[0] -= PREEMPHASIS * frame[0];
            for (y, w) in frame.iter_mut().zip(&self.window) {
                *y *= w;
            }
            self.frame[FBANK_FRAME..].fill(0.0);
            self.power_spectrum();
            self.apply_filters(bins, out, |e| e.max(f32::EPSILON).ln());
        }
    }

    /// |FFT(frame)|² into `power`.
    fn power_spectrum(&mut self) {
        self.fft
            .process_with_scratch(&mut self.frame, &mut self.spectrum, &mut self.scratch)
            .expect("buffers come from the plan");
        for (p, c) in self.power.iter_mut().zip(&self.spectrum) {
            *p = c.norm_sqr();
        }
    }

    fn apply_filters(&self, bands: usize, out: &mut Vec<f32>, map: impl Fn(f32) -> f32) {
        let width = self.power.len();
        for b in 0..bands {
            let row = &self.filters[b * width..(b + 1) * width];
            let e: f32 = row.iter().zip(&self.power).map(|(w, p)| w * p).sum();
            out.push(map(e));
        }
    }
}

/// Cepstral mean normalisation: subtracts from each of the `bins` bands of `feats` (frames × bins) its mean over
/// the frames, as WeSpeaker's `apply_cmvn(norm_var=False)` and 3D-Speaker's `mean_nor` do per utterance.
fn subtract_band_means(feats: &mut [f32], bins: usize) {
    let frames = feats.len() / bins;
    if frames == 0 {
        return;
    }
    let mut mean = vec![0f64; bins];
    for row in feats.chunks_exact(bins) {
        for (m, &v) in mean.iter_mut().zip(row) {
            *m += f64::from(v);
        }
    }
    let mean: Vec<f32> = mean.iter().map(|m| (m / frames as f64) as f32).collect();
    for row in feats.chunks_exact_mut(bins) {
        for (v, m) in row.iter_mut().zip(&mean) {
            *v -= m;
        }
    }
}

/// Kaldi's Hamming window (symmetric, over n − 1), as WeSpeaker uses it.
fn hamming(n: usize) -> Vec<f32> {
    let a = 2.0 * std::f64::consts::PI / (n - 1) as f64;
    (0..n).map(|i| (0.54 - 0.46 * (a * i as f64).cos()) as f32).collect()
}

/// Kaldi's Povey window: a Hann window over n − 1 raised to the power 0.85.
fn povey(n: usize) -> Vec<f32> {
    let a = 2.0 * std::f64::consts::PI / (n - 1) as f64;
    (0..n).map(|i| (0.5 - 0.5 * (a * i as f64).cos()).powf(0.85) as f32).collect()
}

/// librosa's `filters.mel(sr=16000, n_fft, n_mels=bands)` (Slaney scale and area normalisation, 0 Hz–Nyquist):
/// bands × (n_fft/2 + 1).
pub(crate) fn slaney_filters(bands: usize, n_fft: usize) -> Vec<f32> {
    slaney_mel_filters(SAMPLE_RATE as u32, n_fft, bands)
}

/// Kaldi's mel scale, in float32 as Kaldi's `MelBanks::MelScale` computes it.
fn kaldi_mel(f: f32) -> f32 {
    1127.0 * (1.0 + f / 700.0).ln()
}

/// Kaldi's `MelBanks` for 16 kHz, 20 Hz to Nyquist: triangles equally spaced in Kaldi mel, evaluated at each FFT
/// bin's mel, unnormalised. bands × (n_fft/2 + 1); the Nyquist bin always has weight 0, as in Kaldi. Computed in
/// float32 step by step as Kaldi (and kaldi-native-fbank) do: the 80-band weights then match kaldi-native-fbank's to
/// 9e-7 (most bit for bit; a few differ in the last bits because the compiler folds ln(1 + 20/700) to the correctly
/// rounded value where glibc's `logf` is one step off). Computed in float64 they differed by up to 1e-5, which
/// moved a band carried by one strong FFT bin near a triangle's edge (a tone) by up to 1e-4 relative.
pub(crate) fn kaldi_filters(bands: usize, n_fft: usize) -> Vec<f32> {
    let width = n_fft / 2 + 1;
    let bin_hz = SAMPLE_RATE as f32 / n_fft as f32;
    let (lo, hi) = (kaldi_mel(FBANK_LOW_HZ), kaldi_mel(SAMPLE_RATE as f32 / 2.0));
    let delta = (hi - lo) / (bands + 1) as f32;
    let mut out = vec![0f32; bands * width];
    for b in 0..bands {
        let left = lo + b as f32 * delta;
        let centre = lo + (b + 1) as f32 * delta;
        let right = lo + (b + 2) as f32 * delta;
        for k in 0..n_fft / 2 {
            let mel = kaldi_mel(bin_hz * k as f32);
            if mel > left && mel < right {
                out[b * width + k] =
                    if mel <= centre { (mel - left) / (centre - left) } else { (right - mel) / (right - centre) };
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const FBANK: SpeakerFrontEnd = SpeakerFrontEnd::KaldiFbank { bins: 80, window: FbankWindow::Povey };
    const WESPEAKER: SpeakerFrontEnd = SpeakerFrontEnd::KaldiFbank { bins: 80, window: FbankWindow::Hamming };

    #[test]
    fn frame_counts_follow_each_framing() {
        let ge2e = SpeakerFrontEnd::Ge2eMel;
        assert_eq!(ge2e.num_frames(0), 1);
        assert_eq!(ge2e.num_frames(32_000), 201);
        assert_eq!(ge2e.num_frames(25_600), 161);
        let fbank = FBANK;
        assert_eq!(fbank.num_frames(399), 0);
        assert_eq!(fbank.num_frames(400), 1);
        assert_eq!(fbank.num_frames(32_000), 198);
        assert_eq!(fbank.features(&[0.1; 399]).len(), 0);
        assert_eq!(ge2e.features(&vec![0.1; 32_000]).len(), 201 * 40);
        assert_eq!(fbank.features(&vec![0.1; 32_000]).len(), 198 * 80);
    }

    #[test]
    fn names_round_trip_and_bad_values_are_refused() {
        for kind in [
            SpeakerFrontEnd::Ge2eMel,
            FBANK,
            WESPEAKER,
            SpeakerFrontEnd::KaldiFbank { bins: 64, window: FbankWindow::Povey },
            SpeakerFrontEnd::KaldiFbank { bins: 64, window: FbankWindow::Hamming },
        ] {
            assert_eq!(SpeakerFrontEnd::parse(&kind.name()), Some(kind));
        }
        assert_eq!(FBANK.name(), "fbank");
        assert_eq!(WESPEAKER.name(), "fbank-hamming");
        assert_eq!(SpeakerFrontEnd::parse(" FBANK80 "), Some(FBANK));
        assert_eq!(SpeakerFrontEnd::parse("fbank80-povey"), Some(FBANK));
        assert_eq!(SpeakerFrontEnd::parse("WeSpeaker"), Some(WESPEAKER));
        assert_eq!(SpeakerFrontEnd::parse("3d-speaker"), Some(FBANK));
        for bad in ["", "mfcc", "fbank0", "fbankx", "fbank100000", "fbank-", "fbank-hann", "fbank64-hamming-x"] {
            assert_eq!(SpeakerFrontEnd::parse(bad), None, "{bad}");
        }
    }

    /// Slaney area normalisation: every filter integrates (over frequency in Hz) to about 1.
    #[test]
    fn slaney_filters_have_unit_area() {
        let f = slaney_filters(40, 400);
        for b in 0..40 {
            let area: f32 = f[b * 201..(b + 1) * 201].iter().sum::<f32>() * 40.0;
            assert!((area - 1.0).abs() < 0.08, "band {b}: area {area}");
        }
    }

    /// The windows are Kaldi's symmetric ones: Hamming from 0.08 to 1 at the centre, Povey from 0 to 1.
    #[test]
    fn windows_are_symmetric_with_kaldis_end_values() {
        for (w, end) in [(hamming(400), 0.08f32), (povey(400), 0.0)] {
            assert!((w[0] - end).abs() < 1e-6 && (w[399] - end).abs() < 1e-6, "{} {}", w[0], w[399]);
            assert!((0..400).all(|i| (w[i] - w[399 - i]).abs() < 1e-6));
            assert!(w[199] > 0.9999 && w[199] <= 1.0, "{}", w[199]);
        }
    }

    /// Kaldi's filters peak near 1 and leave out 0 Hz (below 20 Hz) and the Nyquist bin.
    #[test]
    fn kaldi_filters_span_20_hz_to_nyquist() {
        let f = kaldi_filters(80, 512);
        let w = 257;
        assert!((0..80).all(|b| f[b * w] == 0.0 && f[b * w + 256] == 0.0));
        for b in 0..80 {
            let peak = f[b * w..(b + 1) * w].iter().cloned().fold(0f32, f32::max);
            assert!(peak > 0.3 && peak <= 1.0, "band {b}: peak {peak}");
        }
    }

    /// Fbank is mean-normalised per window, so a constant gain changes nothing (as long as the energy floor is
    /// not reached), and every band averages to zero.
    #[test]
    fn fbank_is_mean_normalised_and_gain_invariant() {
        let mut seed = 1u32;
        let x: Vec<f32> = (0..16_000)
            .map(|i| {
                seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                0.1 * (i as f32 * 0.05).sin() + 0.05 * ((seed >> 8) as f32 / (1u32 << 24) as f32 - 0.5)
            })
            .collect();
        for fbank in [FBANK, WESPEAKER] {
            let a = fbank.features(&x);
            let quiet: Vec<f32> = x.iter().map(|v| v * 0.25).collect();
            let b = fbank.features(&quiet);
            let max = a.iter().zip(&b).map(|(p, q)| (p - q).abs()).fold(0f32, f32::max);
            assert!(max < 1e-3, "{fbank}: {max}");
            let frames = a.len() / 80;
            for band in 0..80 {
                let mean: f32 = (0..frames).map(|t| a[t * 80 + band]).sum::<f32>() / frames as f32;
                assert!(mean.abs() < 1e-4, "{fbank} band {band}: mean {mean}");
            }
            // Before normalisation, the same frames differ by their per-band means.
            let raw = fbank.features_before_mean_normalisation(&x);
            assert_eq!(raw.len(), a.len());
            let shift = raw[0] - a[0];
            assert!((0..frames).all(|t| (raw[t * 80] - a[t * 80] - shift).abs() < 1e-4));
        }
        // The two windows give measurably different features.
        let (p, h) = (FBANK.features(&x), WESPEAKER.features(&x));
        let max = p.iter().zip(&h).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
        assert!(max > 0.05, "{max}");
    }
}
