//! Transcribing many recordings with their windows sharing batches. A short recording fills one window of
//! the `batch_size` a generate call decodes; on its own it would pay for a whole call (on a CPU, a batch of 8
//! windows costs about half as much per window as 8 calls of one). Here windows are taken from the recordings in
//! the order they come, a batch filled from the oldest unfinished one first. Each recording is reported as soon
//! as its last window is decoded, so the caller can commit it while the others go on, and a failure (an
//! unreadable file) fails only that recording.
//!
//! **Short recordings share windows too.** A 5 s clip alone still costs a whole 30 s encoder pass, so a folder of
//! short files would cost several times what the same speech costs in one long file. Recordings with little
//! speech (under [`BUNDLE_MEMBER_SECS`]) are therefore laid end to end on the time line of a *bundle* (a second of
//! silence between them, each starting on a whole second) until the bundle holds a batch's worth of speech, and
//! the bundle's speech is packed into windows as one recording's would be: a window may hold the end of one
//! recording and the start of the next, as it holds two speech regions of one recording. Each word goes back to
//! the recording its audio came from (a window piece never spans two recordings), and a segment whose words
//! come from two recordings is split between them. This needs word timestamps (they say where the split falls).
//! When the language is not given, each shared window is decoded in the language detected in it and each
//! recording takes the languages of the windows its speech was in (a folder can mix languages, though a window
//! holding recordings in two languages is decoded in the one Whisper hears most). With `pack_recordings` off, or
//! without word timestamps, every recording is a bundle of its own, and
//! its windows are decoded exactly as if it had been transcribed alone (windows stand alone: no previous text;
//! with a multilingual model and no language given, a recording's language is detected from its windows in the
//! first batch it takes part in, which may be fewer than the `batch_size` it would have alone). The members of a
//! bundle are reported together when its last window is decoded.
//!
//! With `condition_on_previous_text`, a window's prompt is the text before it in its own recording, and every
//! window of a batch gets only as much previous text as the one with the least has: mixing recordings would cut
//! their context. Recordings are then decoded one after the other, as before.
//!
//! Only the recordings with windows in flight are open (a bundle or two, about `batch_size` windows' worth), so a
//! folder of 10,000 files holds as many file handles and as much audio as a few hundred seconds of speech.

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::time::Instant;

use voxmill_audio::WavSpans;

use crate::audio::open_16k;
use crate::mel::SAMPLE_RATE;
use crate::pack::{PackOptions, Regions, Window};
use crate::whisper::{
    Activity, BatchWindow, MAX_PREVIOUS_TOKENS, MIN_RUN_SECS, MIN_SEEK_REST_SECS, compression_ratio, quiet_point,
    to_sample_regions,
};
use crate::{
    AsrError, LanguageShare, MIXED_LANGUAGE_MIN_SECS, Segment, Timings, Transcript, Whisper, add_language_share,
};

/// One recording to transcribe among many: what [`Whisper::transcribe_many`] takes.
#[derive(Debug, Clone, PartialEq)]
pub struct Source {
    /// The caller's key for the recording; every [`SourceEvent`] about it carries it.
    pub id: usize,
    /// Its 16 kHz mono working audio.
    pub wav: PathBuf,
    /// Its speech regions in seconds, sorted and non-overlapping: only these are transcribed.
    pub regions: Vec<(f64, f64)>,
}

/// What [`Whisper::transcribe_many`] tells its caller about one recording, so that the caller can show progress
/// and store each transcript as soon as it is complete.
#[derive(Debug)]
pub enum SourceEvent {
    /// The recording was opened and its windows cut; they are decoded from the next batch on.
    Started { id: usize },
    /// Seconds of the recording's speech regions decoded so far.
    Progress { id: usize, done_secs: f64 },
    /// The recording's transcript, or why it could not be made. Every source that was started gets exactly
    /// one, unless the caller stopped the run.
    Finished { id: usize, result: Result<Transcript, AsrError> },
}

/// The recordings still to open: those taken back out of a bundle to be decoded alone first, then the rest.
struct Pending<I: Iterator<Item = Source>> {
    back: std::collections::VecDeque<Source>,
    rest: std::iter::Peekable<I>,
}

impl<I: Iterator<Item = Source>> Pending<I> {
    fn peek(&mut self) -> Option<&Source> {
        match self.back.front() {
            Some(s) => Some(s),
            None => self.rest.peek(),
        }
    }

    fn next(&mut self) -> Option<Source> {
        self.back.pop_front().or_else(|| self.rest.next())
    }
}

/// Recordings with less speech than this (seconds) share a bundle with others: alone, most of their last window
/// would be padding. Longer ones fill their windows themselves and are decoded alone.
const BUNDLE_MEMBER_SECS: f64 = 60.0;
/// At most this many recordings in one bundle: each holds its file open until the bundle is done.
const BUNDLE_MAX_MEMBERS: usize = 64;
/// A bundle takes recordings until it holds this many batches' worth of full windows of speech. Its last window
/// is usually part empty, so bigger bundles waste less (200 clips of 3-15 s: 53 windows with one batch's worth,
/// against 45 for the same speech in one file), but the members are reported only when the whole bundle is done.
const BUNDLE_BATCHES: usize = 4;
/// A stretch of speech a shared window left without words is decoded a second time when it is at least this long
/// (seconds). Shorter ones are mostly fillers and noises that Whisper leaves out in a long file too: on 200 real
/// clips, retrying every stretch of 0.3 s or more took 25 more windows (72 instead of 47) for words a long file
/// does not get either.
const UNHEARD_MIN_SECS: f64 = 1.5;

/// A run of a recording decoded window after window, each window prompted with the text before it (without
/// `condition_on_previous_text`, each window is a stream of its own). A batch takes the next window of each
/// stream, so long recordings keep their context and still fill the batch.
struct Stream {
    regions: Regions,
    /// Text tokens (and timestamps) decoded so far in this stream, the newest last.
    previous: Vec<usize>,
    /// Speech a shared window left without words, decoded a second time (never a third: what gets no word
    /// twice is taken as no speech).
    retry: bool,
}

/// One recording of a bundle, placed on the bundle's time line.
struct Member {
    id: usize,
    wav: PathBuf,
    audio: WavSpans,
    /// Where the recording starts on the bundle's time line (samples, a whole second).
    start: u64,
    /// Samples of speech to transcribe in it.
    speech: u64,
    /// Its speech regions in seconds, as given: to decode it alone after all (see [`Open::unpack`]).
    regions: Vec<(f64, f64)>,
}

impl Member {
    fn end(&self) -> u64 {
        self.start + self.audio.len()
    }
}

/// Recordings whose windows are being decoded together: one recording, or several short ones end to end (see the
/// module documentation). Windows and transcript are on the bundle's time line.
struct Open {
    members: Vec<Member>,
    streams: Vec<Stream>,
    /// Streams before this one have nothing left.
    first_open: usize,
    /// Samples of speech to transcribe.
    total: u64,
    transcript: Transcript,
    /// Per member, the languages detected in the windows its speech was in (a bundle's members may speak
    /// different languages; empty when the language was given).
    member_languages: Vec<Vec<LanguageShare>>,
}

impl Open {
    fn open_streams(&self) -> usize {
        self.streams[self.first_open..].iter().filter(|s| !s.regions.is_empty()).count()
    }

    fn is_done(&self) -> bool {
        self.open_streams() == 0
    }

    /// The audio errors and logs are named after: the first recording's.
    fn wav(&self) -> &Path {
        &self.members[0].wav
    }

    /// Seconds of each member's speech decoded so far (a bundle's progress shared by speech).
    fn done_secs(&self) -> impl Iterator<Item = (usize, f64)> + '_ {
        let left: u64 = self.streams.iter().map(|s| s.regions.remaining()).sum();
        let done = if self.total == 0 { 1.0 } else { (self.total - left) as f64 / self.total as f64 };
        self.members.iter().map(move |m| (m.id, done * m.speech as f64 / SAMPLE_RATE as f64))
    }

    /// The member holding bundle sample `at` (the last one starting at or before it).
    fn member_at(&self, at: u64) -> usize {
        self.members.partition_point(|m| m.start <= at).saturating_sub(1)
    }

    /// In a window shared by several recordings, the stretches of speech (of [`UNHEARD_MIN_SECS`] or more) that got
    /// no word at all, to decode a second time without the speech around them that was heard. Whisper may skip speech there: the same sentence read again by the next recording
    /// (takes of one script, the same speech degraded in different ways) reads to it as a repetition, and it
    /// may drop a recording's second sentence after writing its neighbour's.
    fn unheard(&self, w: &Window, segments: &[Segment]) -> Vec<(u64, u64)> {
        let member_of = |p: &crate::pack::Piece| self.member_at(p.src_start);
        let Some(first) = w.pieces.first().map(member_of) else { return Vec::new() };
        if w.pieces.iter().all(|p| member_of(p) == first) {
            return Vec::new();
        }
        let sr = SAMPLE_RATE as f64;
        let heard = |p: &crate::pack::Piece| {
            let (a, b) = (p.src_start as f64 / sr, (p.src_start + p.len as u64) as f64 / sr);
            segments.iter().flat_map(|s| &s.words).any(|x| x.end > a && x.start < b)
        };
        w.pieces
            .iter()
            .filter(|p| p.len as f64 / sr >= UNHEARD_MIN_SECS && !heard(p))
            .map(|p| (p.src_start, p.src_start + p.len as u64))
            .collect()
    }

    /// Lays a window's pieces out in `buf` (silence between them), each read from its own recording.
    fn read_window(&mut self, w: &Window, buf: &mut Vec<f32>) -> Result<(), AsrError> {
        buf.clear();
        buf.resize(w.content_len(), 0.0);
        for p in &w.pieces {
            let at = self.member_at(p.src_start);
            let m = &mut self.members[at];
            m.audio.read_into(p.src_start - m.start, &mut buf[p.offset..p.end_offset()])?;
        }
        Ok(())
    }

    /// A window's segments cut where its recordings meet, each piece's compression ratio taken over the text
    /// its own recording got in the window. Whisper's ratio is the whole window's, and a window of several
    /// recordings that say the same sentence (takes of one script, prompts read by many speakers) would read as
    /// one decoding loop and every clip be rejected for it.
    fn by_member(&self, segments: Vec<Segment>) -> Vec<Segment> {
        if self.members.len() == 1 {
            return segments;
        }
        let member_of = |secs: f64| self.member_at((secs * SAMPLE_RATE as f64).round() as u64);
        split_and_judge(segments, self.members.len(), &member_of)
    }

    /// The members as recordings to decode again, each alone: what the bundle decoded of them is dropped.
    fn unpack(self) -> Vec<Source> {
        self.members.into_iter().map(|m| Source { id: m.id, wav: m.wav, regions: m.regions }).collect()
    }

    /// Each member's transcript: the bundle's segments moved back to each recording's own time line, a segment
    /// whose words come from two recordings split between them.
    fn finish(mut self) -> Vec<(usize, Transcript)> {
        self.transcript.segments.sort_by(|a, b| a.start.total_cmp(&b.start));
        tracing::debug!("transcribed {}: {}", self.wav().display(), self.transcript.timings.summary());
        if self.members.len() == 1 {
            return vec![(self.members[0].id, self.transcript)];
        }
        let total = self.total.max(1) as f64;
        let mut out: Vec<Transcript> = self
            .members
            .iter()
            .zip(&self.member_languages)
            .map(|(m, detected)| {
                let (language, language_probability, languages) = match detected.first() {
                    Some(top) => (top.language.clone(), top.probability, detected.clone()),
                    None => (
                        self.transcript.language.clone(),
                        self.transcript.language_probability,
                        self.transcript.languages.clone(),
                    ),
                };
                Transcript {
                    language,
                    language_probability,
                    segments: Vec::new(),
                    languages,
                    timings: share_of(&self.transcript.timings, m.speech as f64 / total),
                }
            })
            .collect();
        let segments = std::mem::take(&mut self.transcript.segments);
        let starts: Vec<u64> = self.members.iter().map(|m| m.start).collect();
        let member_of = |secs: f64| self.member_at((secs * SAMPLE_RATE as f64).round() as u64);
        for segment in segments {
            for (m, piece) in split_by_member(segment, &member_of) {
                out[m].segments.push(shifted(piece, starts[m] as f64 / SAMPLE_RATE as f64));
            }
        }
        self.members.iter().map(|m| m.id).zip(out).collect()
    }
}

/// Splits a bundle segment into runs of words from one member each (by where each word starts); a segment
/// without words belongs to the member where it starts.
fn split_by_member(segment: Segment, member_of: &dyn Fn(f64) -> usize) -> Vec<(usize, Segment)> {
    let first = member_of(segment.words.first().map_or(segment.start, |w| w.start));
    if segment.words.iter().all(|w| member_of(w.start) == first) {
        return vec![(first, segment)];
    }
    // Whisper puts a space before each word in languages written with spaces, none in those without.
    let separator = if segment.text.contains(' ') { " " } else { "" };
    let mut out: Vec<(usize, Segment)> = Vec::new();
    for word in &segment.words {
        let m = member_of(word.start);
        match out.last_mut() {
            Some((last, piece)) if *last == m => {
                piece.end = word.end;
                piece.text.push_str(separator);
                piece.text.push_str(&word.text);
                piece.words.push(word.clone());
            }
            _ => out.push((
                m,
                Segment {
                    start: word.start,
                    end: word.end,
                    text: word.text.clone(),
                    words: vec![word.clone()],
                    ..segment.clone()
                },
            )),
        }
    }
    out
}

/// One window's segments split by member, each piece's compression ratio over its member's text in the window.
fn split_and_judge(segments: Vec<Segment>, members: usize, member_of: &dyn Fn(f64) -> usize) -> Vec<Segment> {
    let mut pieces: Vec<(usize, Segment)> = segments.into_iter().flat_map(|s| split_by_member(s, member_of)).collect();
    let mut texts = vec![String::new(); members];
    for (m, piece) in &pieces {
        if !texts[*m].is_empty() {
            texts[*m].push(' ');
        }
        texts[*m].push_str(&piece.text);
    }
    for (m, piece) in &mut pieces {
        piece.compression_ratio = compression_ratio(&texts[*m]);
    }
    pieces.into_iter().map(|(_, piece)| piece).collect()
}

/// A segment moved `by` seconds earlier (a whole number of seconds, so millisecond times stay exact).
fn shifted(mut segment: Segment, by: f64) -> Segment {
    let back = |t: f64| ((t - by) * 1000.0).round() / 1000.0;
    segment.start = back(segment.start);
    segment.end = back(segment.end);
    for w in &mut segment.words {
        w.start = back(w.start);
        w.end = back(w.end);
    }
    segment
}

/// One window picked for the next batch: which open recording and stream it comes from.
struct Picked {
    slot: usize,
    stream: usize,
    window: Window,
}

impl Whisper {
    /// Transcribes many recordings, packing the windows of several of them into each batch of
    /// `batch_size` (and short recordings into shared windows, see the module documentation). Sources are taken
    /// from `sources` as batches need them (so it may be a lazy iterator over a large folder); `events` hears when
    /// each one starts, how far it is and, once its last window is decoded, its transcript (or its error: a
    /// recording that cannot be read fails alone). Returning `ControlFlow::Break` from `events` stops the run
    /// after the current batch; recordings in flight then get no `Finished` event.
    pub fn transcribe_many(
        &self,
        sources: impl IntoIterator<Item = Source>,
        events: &mut dyn FnMut(SourceEvent) -> ControlFlow<()>,
    ) {
        let opts = PackOptions::from_secs(self.config.max_window_secs as f64);
        let window_len = self.mel.window_len();
        let mut pending = Pending { back: std::collections::VecDeque::new(), rest: sources.into_iter().peekable() };
        let mut packing = self.bundles();
        let mut started = std::collections::HashSet::new();
        let mut open: Vec<Open> = Vec::new();
        let mut features: Vec<f32> = Vec::new();
        let mut contents: Vec<Vec<f32>> = Vec::new();
        loop {
            // Take in recordings until their windows fill a batch.
            while self.admits_more(&open) && pending.peek().is_some() {
                let ControlFlow::Continue(bundle) = self.next_bundle(&mut pending, opts, packing, &mut started, events)
                else {
                    return;
                };
                let flow = match bundle {
                    None => ControlFlow::Continue(()),
                    Some(o) if o.is_done() => finished(o, events),
                    Some(o) => {
                        open.push(o);
                        ControlFlow::Continue(())
                    }
                };
                if flow.is_break() {
                    return;
                }
            }
            if open.is_empty() {
                return;
            }

            // The next window of each open stream, oldest recording first, up to `batch_size`.
            let mut failed: Vec<Option<AsrError>> = open.iter().map(|_| None).collect();
            let mut unpack = vec![false; open.len()];
            let mut picked: Vec<Picked> = Vec::new();
            for (slot, o) in open.iter_mut().enumerate() {
                while o.streams.get(o.first_open).is_some_and(|s| s.regions.is_empty()) {
                    o.first_open += 1;
                }
                let mut split_error = None;
                for (i, stream) in o.streams.iter().enumerate().skip(o.first_open) {
                    if picked.len() == self.config.batch_size {
                        break;
                    }
                    let members = &mut o.members;
                    let mut split_at = |lo: u64, hi: u64| {
                        let at = members.partition_point(|m| m.start <= lo).saturating_sub(1);
                        let m = &mut members[at];
                        m.start + quiet_point(&mut m.audio, &mut split_error, lo - m.start, hi - m.start)
                    };
                    if let Some(window) = stream.regions.next_window(opts, &mut split_at) {
                        picked.push(Picked { slot, stream: i, window });
                    }
                }
                if let Some(e) = split_error {
                    failed[slot] = Some(e.into());
                }
                if picked.len() == self.config.batch_size {
                    break;
                }
            }

            // Their audio; a recording that cannot be read leaves the batch.
            let started = Instant::now();
            contents.resize_with(picked.len(), Vec::new);
            for (p, content) in picked.iter().zip(contents.iter_mut()) {
                if failed[p.slot].is_none()
                    && let Err(e) = open[p.slot].read_window(&p.window, content)
                {
                    failed[p.slot] = Some(e);
                }
            }
            let keep: Vec<usize> = (0..picked.len()).filter(|&k| failed[picked[k].slot].is_none()).collect();
            features.clear();
            features.resize(window_len * keep.len(), 0.0);
            let mut activity = Vec::with_capacity(keep.len());
            for (&k, out) in keep.iter().zip(features.chunks_mut(window_len)) {
                self.mel.compute_into(&contents[k], out);
                activity.push(Activity::new(&contents[k]));
            }
            let mel_secs = started.elapsed().as_secs_f64();

            if !keep.is_empty() {
                // Every window gets as much previous text as the one with the least has (CTranslate2 needs
                // <|startoftranscript|> at one position in the whole batch).
                let previous = |k: usize| &open[picked[k].slot].streams[picked[k].stream].previous;
                let shared = keep.iter().map(|&k| previous(k).len()).min().unwrap_or(0);
                let batch: Vec<BatchWindow<'_>> = keep
                    .iter()
                    .zip(&activity)
                    .map(|(&k, activity)| {
                        let o = &open[picked[k].slot];
                        let p = previous(k);
                        // Unless the language is given, recordings sharing windows may each speak another
                        // language: each window is decoded in the one detected in it.
                        let own_language =
                            self.language.is_none() && (self.config.language_per_window || o.members.len() > 1);
                        BatchWindow {
                            window: &picked[k].window,
                            wav: o.wav(),
                            previous: &p[p.len() - shared..],
                            activity,
                            language: Some(o.transcript.language.as_str()).filter(|l| !l.is_empty() && !own_language),
                            own_language,
                            detect: self.language.is_none(),
                            source: picked[k].slot,
                        }
                    })
                    .collect();
                let label = batch[0].wav.to_path_buf();
                let result = self.transcribe_batch(&label, &batch, &mut features);
                drop(batch);
                if let Ok(r) = &result {
                    // Recordings whose speech the batch held (a window of a bundle may hold several).
                    let mut recordings: Vec<usize> = keep
                        .iter()
                        .flat_map(|&k| {
                            let o = &open[picked[k].slot];
                            picked[k].window.pieces.iter().map(|p| o.members[o.member_at(p.src_start)].id)
                        })
                        .collect();
                    recordings.sort_unstable();
                    recordings.dedup();
                    let t = &r.timings;
                    tracing::debug!(
                        "batch of {} windows of {} recording(s) ({}{}): encode {:.2} s, generate {:.2} s, fallback \
                         {:.2} s, align {:.2} s",
                        keep.len(),
                        recordings.len(),
                        label.display(),
                        if recordings.len() > 1 { ", …" } else { "" },
                        t.encode,
                        t.generate,
                        t.fallback,
                        t.align
                    );
                }
                match result {
                    Ok(result) => {
                        for (slot, language, probability) in result.detected {
                            let t = &mut open[slot].transcript;
                            if t.language.is_empty() {
                                t.language = language;
                                t.language_probability = probability;
                            }
                        }
                        for (&k, detected) in keep.iter().zip(&result.window_languages) {
                            if let Some((language, probability)) = detected {
                                let o = &mut open[picked[k].slot];
                                if o.members.len() > 1 {
                                    // Each recording counts the language of the windows its speech was in.
                                    for p in &picked[k].window.pieces {
                                        let m = o.member_at(p.src_start);
                                        add_language_share(
                                            &mut o.member_languages[m],
                                            language,
                                            *probability,
                                            p.len as f64 / SAMPLE_RATE as f64,
                                        );
                                    }
                                }
                                let t = &mut o.transcript;
                                t.add_language(language, *probability, picked[k].window.content_secs());
                                if self.config.language_per_window {
                                    // Windows speak for themselves: the recording's language is the one most of
                                    // its speech was detected as.
                                    t.language = t.languages[0].language.clone();
                                    t.language_probability = t.languages[0].probability;
                                }
                            }
                        }
                        // A bundle with windows heard in another language (at least MIXED_LANGUAGE_MIN_SECS of
                        // them: a short window of English is now and then heard as German) holds recordings in
                        // different languages, and a window they share is decoded in the one Whisper hears most:
                        // each of its recordings is decoded alone instead, in its own language, and recordings share
                        // no more windows in this run.
                        if self.language.is_none() && !self.config.language_per_window {
                            for (slot, o) in open.iter().enumerate() {
                                let other =
                                    o.transcript.languages.iter().skip(1).any(|l| l.secs >= MIXED_LANGUAGE_MIN_SECS);
                                if o.members.len() > 1 && other {
                                    tracing::debug!(
                                        "{} and {} other recording(s) shared windows heard as {}: decoding each alone",
                                        o.wav().display(),
                                        o.members.len() - 1,
                                        o.transcript
                                            .languages
                                            .iter()
                                            .map(|l| format!(
                                                "{} ({:.0} s, p {:.2})",
                                                l.language, l.secs, l.probability
                                            ))
                                            .collect::<Vec<_>>()
                                            .join(", ")
                                    );
                                    unpack[slot] = true;
                                    packing = false;
                                }
                            }
                        }
                        let n = keep.len() as f64;
                        // Speech the batch's shared windows left without words, by open bundle: one stream each,
                        // so that the second try packs it into as few windows as it fills.
                        let mut unheard: std::collections::BTreeMap<usize, Vec<(u64, u64)>> = Default::default();
                        for (&k, outcome) in keep.iter().zip(result.outcomes) {
                            let Picked { slot, stream, ref window } = picked[k];
                            let o = &mut open[slot];
                            add_share(&mut o.transcript.timings, &result.timings, mel_secs, 1.0 / n);
                            o.transcript.timings.windows += 1;
                            o.transcript.timings.fallback_windows += outcome.fallbacks;
                            if !o.streams[stream].retry {
                                unheard.entry(slot).or_default().extend(o.unheard(window, &outcome.segments));
                            }
                            let segments = o.by_member(outcome.segments);
                            o.transcript.segments.extend(segments);
                            apply_outcome(
                                &mut o.streams[stream],
                                window,
                                outcome.stopped_at,
                                outcome.context,
                                self.config.condition_on_previous_text,
                            );
                        }
                        for (slot, mut regions) in unheard.into_iter().filter(|(_, r)| !r.is_empty()) {
                            regions.sort_unstable();
                            let regions = Regions::new(regions);
                            let o = &mut open[slot];
                            // Counted as more speech to do, so that progress never goes back.
                            o.total += regions.remaining();
                            o.streams.push(Stream { regions, previous: Vec::new(), retry: true });
                        }
                        let mut in_batch: Vec<usize> = keep.iter().map(|&k| picked[k].slot).collect();
                        in_batch.dedup();
                        for &slot in &in_batch {
                            let own = keep.iter().filter(|&&k| picked[k].slot == slot).count();
                            let o = &mut open[slot];
                            o.transcript.timings.batches += 1;
                            o.transcript.timings.other_windows += keep.len() - own;
                            for (id, done_secs) in o.done_secs() {
                                if events(SourceEvent::Progress { id, done_secs }).is_break() {
                                    return;
                                }
                            }
                        }
                    }
                    Err(e) => {
                        // The batch as a whole failed: so does every recording in it.
                        for &k in &keep {
                            let slot = picked[k].slot;
                            if failed[slot].is_none() {
                                failed[slot] = Some(for_recording(&e, open[slot].wav()));
                            }
                        }
                    }
                }
            }

            // Report the recordings that are complete or failed, and close them.
            for ((o, error), unpack) in std::mem::take(&mut open).into_iter().zip(failed).zip(unpack) {
                let flow = match error {
                    None if unpack => {
                        pending.back.extend(o.unpack());
                        ControlFlow::Continue(())
                    }
                    Some(e) => fail(o, e, events),
                    None if o.is_done() => finished(o, events),
                    None => {
                        open.push(o);
                        ControlFlow::Continue(())
                    }
                };
                if flow.is_break() {
                    return;
                }
            }
        }
    }

    /// Whether another recording may join the open ones: while their windows do not fill a batch, unless a
    /// window's prompt carries the text before it (then one recording at a time).
    fn admits_more(&self, open: &[Open]) -> bool {
        if self.config.condition_on_previous_text {
            open.is_empty()
        } else {
            open.iter().map(Open::open_streams).sum::<usize>() < self.config.batch_size
        }
    }

    /// Whether recordings may share windows: one language for every window, and word times to split them by.
    fn bundles(&self) -> bool {
        self.config.pack_recordings && self.config.word_timestamps && !self.config.condition_on_previous_text
    }

    /// Opens the next recording, with the short ones after it when it is short (see the module documentation),
    /// and cuts their speech into streams of windows; `None` when none could be opened (each such recording is
    /// reported failed at once), `Break` when `events` said stop.
    fn next_bundle(
        &self,
        pending: &mut Pending<impl Iterator<Item = Source>>,
        opts: PackOptions,
        packing: bool,
        started: &mut std::collections::HashSet<usize>,
        events: &mut dyn FnMut(SourceEvent) -> ControlFlow<()>,
    ) -> ControlFlow<(), Option<Open>> {
        let short = |s: &Source| s.regions.iter().map(|(a, b)| b - a).sum::<f64>() < BUNDLE_MEMBER_SECS;
        let target = (BUNDLE_BATCHES * self.config.batch_size) as f64 * self.config.max_window_secs as f64;
        let target = (target * SAMPLE_RATE as f64) as u64;
        let mut members: Vec<Member> = Vec::new();
        let mut regions: Vec<(u64, u64)> = Vec::new();
        let mut speech = 0u64;
        loop {
            let joins = match pending.peek() {
                None => false,
                Some(_) if members.is_empty() => true,
                Some(next) => packing && short(next) && members.len() < BUNDLE_MAX_MEMBERS && speech < target,
            };
            if !joins {
                break;
            }
            let source = pending.next().expect("peeked");
            let alone = !(packing && short(&source));
            let Source { id, wav, regions: secs } = source;
            if started.insert(id) {
                events(SourceEvent::Started { id })?;
            }
            // At least a second of silence after the previous member, starting on a whole second.
            let second = SAMPLE_RATE as u64;
            let start = members.last().map_or(0, |m| (m.end() + second).div_ceil(second) * second);
            let opened = open_16k(&wav).and_then(|audio| {
                let samples = to_sample_regions(&wav, &secs, audio.len())?;
                Ok((audio, samples))
            });
            match opened {
                Ok((audio, samples)) => {
                    let own: u64 = samples.iter().map(|(a, b)| b - a).sum();
                    regions.extend(samples.into_iter().map(|(a, b)| (start + a, start + b)));
                    speech += own;
                    members.push(Member { id, wav, audio, start, speech: own, regions: secs });
                }
                Err(e) => events(SourceEvent::Finished { id, result: Err(e) })?,
            }
            if alone && !members.is_empty() {
                break;
            }
        }
        if members.is_empty() {
            return ControlFlow::Continue(None);
        }
        // Cutting long regions reads the audio around the cut; a read error there fails the bundle.
        let mut split_error = None;
        let all = Regions::new(regions);
        let total = all.remaining();
        let runs = {
            let mut split_at = |lo: u64, hi: u64| {
                let at = members.partition_point(|m| m.start <= lo).saturating_sub(1);
                let m = &mut members[at];
                m.start + quiet_point(&mut m.audio, &mut split_error, lo - m.start, hi - m.start)
            };
            if self.config.condition_on_previous_text {
                let runs = (self.config.batch_size as u64).min(total / (MIN_RUN_SECS * SAMPLE_RATE as u64)).max(1);
                all.split(runs as usize, (opts.split_search / 2) as u64, &mut split_at)
            } else {
                // Without context every window stands alone: cut them all now, decode them `batch_size` at a time.
                all.windows(opts, &mut split_at)
            }
        };
        let streams = runs.into_iter().map(|regions| Stream { regions, previous: Vec::new(), retry: false }).collect();
        let transcript = Transcript {
            language: self.language.clone().unwrap_or_default(),
            language_probability: if self.language.is_some() { 1.0 } else { 0.0 },
            segments: Vec::new(),
            languages: Vec::new(),
            timings: Timings::default(),
        };
        let member_languages = vec![Vec::new(); members.len()];
        let bundle = Open { members, streams, first_open: 0, total, transcript, member_languages };
        match split_error {
            Some(e) => {
                fail(bundle, e.into(), events)?;
                ControlFlow::Continue(None)
            }
            None => ControlFlow::Continue(Some(bundle)),
        }
    }
}

/// Reports every member of a bundle that failed as failed, each under its own name.
fn fail(o: Open, e: AsrError, events: &mut dyn FnMut(SourceEvent) -> ControlFlow<()>) -> ControlFlow<()> {
    if let [m] = o.members.as_slice() {
        return events(SourceEvent::Finished { id: m.id, result: Err(e) });
    }
    for m in &o.members {
        events(SourceEvent::Finished { id: m.id, result: Err(for_recording(&e, &m.wav)) })?;
    }
    ControlFlow::Continue(())
}

/// Reports every member of a bundle whose windows are all decoded.
fn finished(o: Open, events: &mut dyn FnMut(SourceEvent) -> ControlFlow<()>) -> ControlFlow<()> {
    for (id, transcript) in o.finish() {
        events(SourceEvent::Finished { id, result: Ok(transcript) })?;
    }
    ControlFlow::Continue(())
}

/// Moves a stream past what a window's decode covered, and keeps or clears its previous text.
fn apply_outcome(
    stream: &mut Stream,
    w: &Window,
    stopped_at: Option<f64>,
    context: Option<Vec<usize>>,
    condition_on_previous_text: bool,
) {
    // Where Whisper stopped early, the next window starts at the last segment's end (its "seek"), unless what it
    // left is too short to be worth a window of its own.
    let until = match stopped_at {
        Some(t) if w.sample_at(t) > w.pieces[0].src_start && w.speech_secs_after(t) >= MIN_SEEK_REST_SECS => {
            w.sample_at(t)
        }
        _ => w.end_sample(),
    };
    stream.regions.consume(until);
    match context {
        Some(tokens) if condition_on_previous_text => {
            stream.previous.extend(tokens);
            let excess = stream.previous.len().saturating_sub(MAX_PREVIOUS_TOKENS);
            stream.previous.drain(..excess);
        }
        _ => stream.previous.clear(),
    }
}

/// Adds `share` of a batch's seconds (and of the seconds spent preparing its features) to one window's recording.
fn add_share(t: &mut Timings, batch: &Timings, mel_secs: f64, share: f64) {
    t.mel += mel_secs * share;
    t.encode += batch.encode * share;
    t.generate += batch.generate * share;
    t.fallback += batch.fallback * share;
    t.align += batch.align * share;
}

/// A bundle member's timings: `share` of the bundle's seconds; the counts are the bundle's (its windows held
/// this member's speech and the others'), the windows of the other members counted as other recordings'.
fn share_of(bundle: &Timings, share: f64) -> Timings {
    Timings {
        mel: bundle.mel * share,
        encode: bundle.encode * share,
        generate: bundle.generate * share,
        fallback: bundle.fallback * share,
        align: bundle.align * share,
        other_windows: bundle.other_windows + bundle.windows,
        ..*bundle
    }
}

/// A batch's error as one recording's: named after its own audio.
fn for_recording(e: &AsrError, wav: &Path) -> AsrError {
    match e {
        AsrError::Inference { reason, .. } => AsrError::Inference { path: wav.to_path_buf(), reason: reason.clone() },
        other => AsrError::Inference { path: wav.to_path_buf(), reason: other.to_string() },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Word;

    fn word(text: &str, start: f64, end: f64) -> Word {
        Word { start, end, text: text.into(), probability: 0.9 }
    }

    fn segment(text: &str, words: Vec<Word>) -> Segment {
        Segment {
            start: words[0].start,
            end: words[words.len() - 1].end,
            text: text.into(),
            avg_logprob: -0.2,
            no_speech_prob: 0.01,
            compression_ratio: 1.3,
            temperature: 0.0,
            words,
        }
    }

    /// Members start at 0 s, 5 s and 12 s of the bundle.
    fn member_of(secs: f64) -> usize {
        [0.0, 5.0, 12.0].partition_point(|&s| s <= secs + 1e-9) - 1
    }

    #[test]
    fn a_segment_over_two_recordings_is_split_between_them_with_their_scores() {
        let words =
            vec![word("Good", 3.0, 3.3), word("night.", 3.3, 3.8), word("Hello", 6.0, 6.4), word("there.", 6.4, 6.9)];
        let parts = split_by_member(segment("Good night. Hello there.", words), &member_of);
        assert_eq!(parts.len(), 2);
        let (m0, a) = &parts[0];
        let (m1, b) = &parts[1];
        assert_eq!((*m0, a.text.as_str(), a.start, a.end, a.words.len()), (0, "Good night.", 3.0, 3.8, 2));
        assert_eq!((*m1, b.text.as_str(), b.start, b.end, b.words.len()), (1, "Hello there.", 6.0, 6.9, 2));
        assert_eq!((b.avg_logprob, b.no_speech_prob, b.compression_ratio), (-0.2, 0.01, 1.3));

        // Moved back to the second recording's own time line, millisecond times stay exact.
        let b = shifted(b.clone(), 5.0);
        assert_eq!((b.start, b.end, b.words[0].start, b.words[1].end), (1.0, 1.9, 1.0, 1.9));
    }

    #[test]
    fn a_segment_within_one_recording_is_kept_whole_and_unspaced_languages_stay_unspaced() {
        let words = vec![word("Hello", 12.5, 12.9), word("again.", 12.9, 13.4)];
        let parts = split_by_member(segment("Hello again.", words), &member_of);
        assert_eq!(parts.len(), 1);
        assert_eq!((parts[0].0, parts[0].1.text.as_str()), (2, "Hello again."));

        let words = vec![word("你好", 4.0, 4.5), word("。", 4.5, 4.6), word("再见", 5.2, 5.7)];
        let parts = split_by_member(segment("你好。再见", words), &member_of);
        let texts: Vec<(usize, &str)> = parts.iter().map(|(m, s)| (*m, s.text.as_str())).collect();
        assert_eq!(texts, [(0, "你好。"), (1, "再见")]);
    }

    #[test]
    fn recordings_saying_the_same_sentence_in_one_window_are_not_a_repetition_loop() {
        // Three recordings in one window, each saying the same sentence: the window's text is repetitive (a
        // ratio over 2.4 would reject every clip), each recording's own text is not.
        let sentence = "The old lighthouse stood at the edge of the cliff, watching the grey sea.";
        let whole = [sentence; 3].join(" ");
        let window_ratio = compression_ratio(&whole);
        assert!(window_ratio > 2.4, "{window_ratio}");
        let segments: Vec<Segment> = [1.0, 6.0, 13.0]
            .iter()
            .map(|&at| {
                let words: Vec<Word> = sentence
                    .split(' ')
                    .enumerate()
                    .map(|(i, w)| word(w, at + 0.3 * i as f64, at + 0.3 * i as f64 + 0.25))
                    .collect();
                Segment { compression_ratio: window_ratio, ..segment(sentence, words) }
            })
            .collect();
        let judged = split_and_judge(segments, 3, &member_of);
        assert_eq!(judged.len(), 3);
        for piece in &judged {
            assert_eq!(piece.text, sentence);
            assert!(piece.compression_ratio < 1.5, "{}", piece.compression_ratio);
        }
    }
}
