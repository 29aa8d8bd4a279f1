//! Speech from the web: everything voxmill needs to turn a URL into a file on disk, with no project knowledge
//! (the pipeline registers what arrives).
//!
//! * [`http`]: one download with resume by `Range`, retries with backoff, redirect and size limits, timeouts, a
//!   per-host concurrency limit, and a check that what arrived is audio ([`magic`]).
//! * [`feed`]: RSS 2.0 (iTunes and Podcasting 2.0 namespaces) and Atom feeds parsed into episodes.
//! * [`transcript`]: published transcripts (SRT, WebVTT, Podcasting 2.0 JSON) read into timed text.
//! * [`ytdlp`]: video and audio sites through the `yt-dlp` program, when it is installed.
//! * [`date`]: the dates feeds use (RFC 822, RFC 3339), read into UTC.

pub mod date;
pub mod feed;
pub mod http;
pub mod magic;
pub mod transcript;
pub mod ytdlp;
