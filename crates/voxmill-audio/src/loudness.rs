//! EBU R128 integrated loudness of the source, in bounded memory, on a worker thread.

use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

use ebur128::{EbuR128, Mode};

/// Samples collected before a batch is handed to the worker (about 0.4 s of 44.1 kHz stereo).
const BATCH_SAMPLES: usize = 32 * 1024;

/// Batches in flight; bounds memory and makes the decoder wait if the meter falls behind.
const QUEUE_DEPTH: usize = 4;

/// Measures integrated loudness over interleaved frames at the source rate and layout.
///
/// K-weighting every source channel costs about as much as the rest of standardize, so
/// the measurement runs on its own thread, fed batches through a bounded queue (with the
/// emptied buffers sent back for reuse). The histogram mode keeps the meter's memory
/// constant however long the input is.
pub(crate) struct LoudnessMeter {
    batch: Vec<f32>,
    to_worker: Option<SyncSender<Vec<f32>>>,
    recycled: Receiver<Vec<f32>>,
    worker: Option<JoinHandle<Option<f64>>>,
}

impl LoudnessMeter {
    /// A meter for `channels` interleaved channels at `rate` Hz. Layouts or rates the
    /// meter cannot handle simply produce no measurement.
    pub(crate) fn new(channels: u16, rate: u32) -> Self {
        let (to_worker, work) = sync_channel::<Vec<f32>>(QUEUE_DEPTH);
        let (give_back, recycled) = sync_channel::<Vec<f32>>(QUEUE_DEPTH + 1);
        let meter = EbuR128::new(u32::from(channels), rate, Mode::I | Mode::HISTOGRAM).ok();
        let worker = meter.map(|mut meter| {
            std::thread::spawn(move || {
                let mut ok = true;
                for mut batch in work {
                    ok = ok && meter.add_frames_f32(&batch).is_ok();
                    batch.clear();
                    // The receiver may be gone or full; then the buffer is simply dropped.
                    let _ = give_back.try_send(batch);
                }
                ok.then(|| meter.loudness_global().ok()).flatten().filter(|l| l.is_finite())
            })
        });
        LoudnessMeter {
            batch: Vec::with_capacity(BATCH_SAMPLES),
            to_worker: worker.as_ref().map(|_| to_worker),
            recycled,
            worker,
        }
    }

    /// Adds interleaved frames (callers pass whole frames).
    pub(crate) fn add(&mut self, interleaved: &[f32]) {
        if self.to_worker.is_none() {
            return;
        }
        self.batch.extend_from_slice(interleaved);
        if self.batch.len() >= BATCH_SAMPLES {
            self.send();
        }
    }

    fn send(&mut self) {
        let next = self.recycled.try_recv().unwrap_or_else(|_| Vec::with_capacity(BATCH_SAMPLES));
        let full = std::mem::replace(&mut self.batch, next);
        if let Some(tx) = &self.to_worker
            && tx.send(full).is_err()
        {
            self.to_worker = None;
        }
    }

    /// Integrated loudness in LUFS once all frames are in; `None` for silence (or too
    /// little audio to gate).
    pub(crate) fn finish(mut self) -> Option<f64> {
        if !self.batch.is_empty() {
            self.send();
        }
        self.to_worker = None;
        self.worker.take()?.join().ok().flatten()
    }
}
