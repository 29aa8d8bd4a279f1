//! The Kaldi fbank front end of WeSpeaker / 3D-Speaker models against kaldi-native-fbank (the C++ library sherpa-onnx
//! uses), run by `scripts/fbank_reference.py` with the options those toolkits use (see its docstring), for both
//! windows: on real speech (an AMI meeting excerpt and silero-vad's English test file, installed by
//! `scripts/setup.sh`) and on a synthetic signal. Compared frame by frame before mean normalisation and again after
//! it. Needs python3 with numpy and kaldi_native_fbank, and the real test audio; without them the tests print a
//! NOTICE and pass, unless `VOXMILL_REQUIRE_MODELS=1`.
//!
//! Tolerance, per coefficient, before mean normalisation: |ours − reference| ≤ 1e-4 in the natural-log domain, which
//! is a relative difference of 1e-4 in the band's mel energy (d ln E = dE / E), the same for loud and quiet bands; or
//! else an energy difference within 1e-8 of the frame's loudest band's energy (a tenth of float32's rounding step,
//! 1.2e-7). The second half is needed because both sides compute in float32 with different FFTs, whose rounding
//! errors scale with the whole frame's energy, not with each bin's: a band 60 dB under its frame's loudest differs
//! by up to about 1e-3 relative on real speech, while every band within 30 dB of it agrees to about 1.5e-5 (asserted
//! below 1e-4 on its own). Frames of digital silence give the same floor, ln(f32::EPSILON), on both sides. After
//! mean normalisation, each difference must be the one before it plus at most 2e-5.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{have_python, python, skip};
use voxmill_models::{FbankWindow, SpeakerFrontEnd, voxmill_home};

/// Relative tolerance on a band's mel energy = absolute tolerance on its log.
const REL_TOL: f32 = 1e-4;
/// Energy difference allowed relative to the loudest band of the same frame: a tenth of float32's rounding step.
const FRAME_TOL: f32 = 1e-8;
/// What mean normalisation may add to a coefficient's difference (a few float32 rounding steps of values near 20).
const CMN_TOL: f32 = 2e-5;

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/fbank_reference.py")
}

/// Whether python3 can import kaldi-native-fbank and numpy (reported when not).
fn have_reference() -> bool {
    have_python("numpy, kaldi_native_fbank")
}

/// 16 kHz mono samples in [-1, 1] from 16-bit PCM or 32-bit float WAV, read as the reference script reads them.
fn read_wav(path: &Path) -> Vec<f32> {
    let mut r = hound::WavReader::open(path).unwrap();
    let spec = r.spec();
    assert_eq!((spec.sample_rate, spec.channels), (16_000, 1), "{}", path.display());
    match (spec.sample_format, spec.bits_per_sample) {
        (hound::SampleFormat::Float, 32) => r.samples::<f32>().map(Result::unwrap).collect(),
        (hound::SampleFormat::Int, 16) => r.samples::<i16>().map(|s| f32::from(s.unwrap()) / 32768.0).collect(),
        other => panic!("{}: {other:?} samples", path.display()),
    }
}

fn write_float_wav(path: &Path, samples: &[f32]) {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 16_000,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    for &s in samples {
        w.write_sample(s).unwrap();
    }
    w.finalize().unwrap();
}

/// kaldi-native-fbank's features of `wav`, frames × bins.
fn reference(wav: &Path, bins: usize, window: FbankWindow, cmn: bool) -> Vec<f32> {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("ref.f32");
    let window = match window {
        FbankWindow::Povey => "povey",
        FbankWindow::Hamming => "hamming",
    };
    let mut cmd = Command::new(python());
    cmd.arg(script()).arg(wav).arg(&out).args(["--bins", &bins.to_string(), "--window", window]);
    if cmn {
        cmd.arg("--cmn");
    }
    let run = cmd.output().unwrap();
    assert!(run.status.success(), "fbank_reference.py failed: {}", String::from_utf8_lossy(&run.stderr));
    std::fs::read(&out).unwrap().chunks(4).map(|c| f32::from_le_bytes(c.try_into().unwrap())).collect()
}

/// What a comparison found.
struct Diff {
    /// Largest |ours − reference| over all coefficients.
    max_abs: f32,
    /// Largest |ours − reference| over the coefficients whose band holds at least 1e-3 of its frame's loudest
    /// band's energy (30 dB below it), where float32 rounding is well below the tolerance.
    max_abs_strong: f32,
    /// Coefficients beyond 1e-4 in the log domain (all within the frame bound, or the comparison fails).
    beyond_rel: usize,
    /// Of those, the largest share of the frame bound used, and how far (dB) under its frame's loudest band that
    /// coefficient is.
    frame_bound_used: f32,
    frame_bound_db: f32,
    /// Coefficients compared.
    total: usize,
}

/// Compares log mel energies `ours` with `reference` (frames × bins, not mean-normalised) under the tolerance in
/// the module's doc; panics naming the worst coefficient that is outside it.
fn compare_log_energies(what: &str, ours: &[f32], reference: &[f32], bins: usize) -> Diff {
    assert_eq!(ours.len(), reference.len(), "{what}: frame count");
    let mut d = Diff {
        max_abs: 0.0,
        max_abs_strong: 0.0,
        beyond_rel: 0,
        frame_bound_used: 0.0,
        frame_bound_db: 0.0,
        total: ours.len(),
    };
    for (t, (a, b)) in ours.chunks_exact(bins).zip(reference.chunks_exact(bins)).enumerate() {
        let loudest = b.iter().cloned().fold(f32::MIN, f32::max);
        for (k, (&x, &y)) in a.iter().zip(b).enumerate() {
            let diff = (x - y).abs();
            d.max_abs = d.max_abs.max(diff);
            if y >= loudest + (1e-3f32).ln() {
                d.max_abs_strong = d.max_abs_strong.max(diff);
            }
            let rel = (f64::from(x - y).exp() - 1.0).abs() as f32;
            if diff > REL_TOL {
                d.beyond_rel += 1;
                // |E_ours − E_ref| within FRAME_TOL of the frame's loudest band, all relative to E_ref.
                let allowed = FRAME_TOL * f64::from(loudest - y).exp() as f32;
                let db = 10.0 * (loudest - y) / std::f32::consts::LN_10;
                assert!(
                    rel <= allowed,
                    "{what}: frame {t} band {k}: ours {x}, kaldi-native-fbank {y} (|diff| {diff:.2e}, relative \
                    {rel:.2e}; the band is {db:.0} dB under the frame's loudest, which allows {allowed:.2e})"
                );
                if rel / allowed > d.frame_bound_used {
                    d.frame_bound_used = rel / allowed;
                    d.frame_bound_db = db;
                }
            }
        }
    }
    d
}

/// Compares both windows, before and after mean normalisation, on the samples of `wav`.
fn check_wav(name: &str, wav: &Path, bins: usize) {
    let samples = read_wav(wav);
    let frames = 1 + (samples.len() - 400) / 160;
    for window in [FbankWindow::Povey, FbankWindow::Hamming] {
        let front = SpeakerFrontEnd::KaldiFbank { bins, window };
        let what = format!("{name} ({front})");

        let raw = front.features_before_mean_normalisation(&samples);
        let raw_reference = reference(wav, bins, window, false);
        assert_eq!(raw.len(), frames * bins, "{what}");
        let d = compare_log_energies(&what, &raw, &raw_reference, bins);
        eprintln!(
            "{what}: {frames} frames x {bins}: max |diff| {:.2e} (bands within 30 dB of their frame's loudest: \
            {:.2e}); {} of {} coefficients beyond {REL_TOL:.0e}, within the frame bound (at most {:.1} % of it, {:.0} \
            dB under the frame's loudest band)",
            d.max_abs,
            d.max_abs_strong,
            d.beyond_rel,
            d.total,
            100.0 * d.frame_bound_used,
            d.frame_bound_db
        );
        assert!(d.max_abs_strong <= REL_TOL, "{what}: {}", d.max_abs_strong);

        // After mean normalisation every coefficient is x − mean(x over its band): its difference is the one
        // above, shifted by the difference of the band means, which are averages of thousands of such differences.
        // So the normalisation itself must add next to nothing: at most CMN_TOL to any coefficient's difference.
        let ours = front.features(&samples);
        let theirs = reference(wav, bins, window, true);
        assert_eq!(ours.len(), theirs.len(), "{what}");
        let (mut max, mut added) = (0f32, 0f32);
        for (((x, y), r), q) in ours.iter().zip(&theirs).zip(&raw).zip(&raw_reference) {
            max = max.max((x - y).abs());
            added = added.max(((x - y) - (r - q)).abs());
        }
        eprintln!("{what}, mean-normalised: max |diff| {max:.2e}, of which the normalisation adds at most {added:.2e}");
        assert!(added <= CMN_TOL, "{what}: mean normalisation adds up to {added} to the differences");
    }
}

/// A real recording installed by `scripts/setup.sh` under `$VOXMILL_HOME/real`, or `None` (reported) without it.
fn real(relative: &str) -> Option<PathBuf> {
    let path = voxmill_home().join("real").join(relative);
    if path.is_file() {
        Some(path)
    } else {
        skip(&format!("{} is missing", path.display()));
        None
    }
}

#[test]
fn fbank_matches_kaldi_native_fbank_on_ami_meeting_speech() {
    if !have_reference() {
        return;
    }
    let Some(wav) = real("ami/trn03.wav") else { return };
    check_wav("AMI trn03", &wav, 80);
}

#[test]
fn fbank_matches_kaldi_native_fbank_on_english_speech() {
    if !have_reference() {
        return;
    }
    let Some(wav) = real("silero/test.wav") else { return };
    check_wav("silero test.wav", &wav, 80);
}

/// A chirp, two tones and noise, a stretch 44 dB quieter, a stretch of digital silence (both sides floor it at
/// ln(f32::EPSILON)) and a full-scale square wave (clipping-level energy), at a length that is not a whole number
/// of hops; with 80 and 64 bins.
#[test]
fn fbank_matches_kaldi_native_fbank_on_a_synthetic_signal() {
    if !have_reference() {
        return;
    }
    let mut seed = 777u32;
    let samples: Vec<f32> = (0..48_123)
        .map(|i| {
            let t = i as f32 / 16_000.0;
            seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            let noise = (seed >> 8) as f32 / (1u32 << 24) as f32 - 0.5;
            let chirp = (2.0 * std::f32::consts::PI * (80.0 + 900.0 * t) * t).sin();
            let tone =
                (2.0 * std::f32::consts::PI * 523.0 * t).sin() + 0.4 * (2.0 * std::f32::consts::PI * 5100.0 * t).sin();
            match t {
                t if (1.0..1.4).contains(&t) => 0.002 * (0.5 * chirp + 0.3 * tone + 0.2 * noise),
                t if (1.6..1.9).contains(&t) => 0.0,
                t if t >= 2.7 => {
                    if (2.0 * std::f32::consts::PI * 200.0 * t).sin() >= 0.0 {
                        1.0
                    } else {
                        -1.0
                    }
                }
                _ => 0.3 * (0.5 * chirp + 0.3 * tone + 0.2 * noise),
            }
        })
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let wav = dir.path().join("synthetic.wav");
    write_float_wav(&wav, &samples);
    assert_eq!(read_wav(&wav), samples);
    for bins in [80, 64] {
        check_wav(&format!("synthetic, {bins} bins"), &wav, bins);
    }
}
