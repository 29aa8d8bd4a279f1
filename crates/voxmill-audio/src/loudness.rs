//! EBU R128 integrated loudness of the source, in bounded memory.

use ebur128::{EbuR128, Mode};

/// Measures integrated loudness over interleaved frames at the source rate and layout.
/// The histogram mode keeps memory constant however long the input is.
pub(crate) struct LoudnessMeter {
    meter: Option<EbuR128>,
}

impl LoudnessMeter {
    /// A meter for `channels` interleaved channels at `rate` Hz. Layouts or rates the
    /// meter cannot handle simply produce no measurement.
    pub(crate) fn new(channels: u16, rate: u32) -> Self {
        let meter = EbuR128::new(u32::from(channels), rate, Mode::I | Mode::HISTOGRAM).ok();
        LoudnessMeter { meter }
    }

    /// Adds interleaved frames.
    pub(crate) fn add(&mut self, interleaved: &[f32]) {
        if let Some(meter) = self.meter.as_mut()
            && meter.add_frames_f32(interleaved).is_err()
        {
            self.meter = None;
        }
    }

    /// Integrated loudness in LUFS; `None` for silence (or too little audio to gate).
    pub(crate) fn integrated_lufs(&self) -> Option<f64> {
        self.meter
            .as_ref()
            .and_then(|m| m.loudness_global().ok())
            .filter(|l| l.is_finite())
    }
}
