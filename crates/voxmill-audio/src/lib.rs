//! Audio decoding, resampling and measurement for voxmill.
