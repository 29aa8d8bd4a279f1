//! Clip quality: the measures taken from a clip's text and transcript ([`text`], [`asr`]), and the gates that
//! turn all measures into a verdict with reasons ([`gates`]). The signal measures live in `voxmill-audio`, DNSMOS
//! in `voxmill-models`; the qualify stage (`stages/qualify.rs`) brings them together.

pub mod asr;
pub mod gates;
pub mod text;
