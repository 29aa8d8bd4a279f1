//! Content hashes: sha256 of input files (to recognise duplicates and changed sources) and of stage fingerprints.

use std::io::Read;
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::ProjectError;

/// Streams a file through sha256, so a 10-hour recording costs a 1 MiB buffer, not its size in memory.
pub fn sha256_file(path: &Path) -> Result<String, ProjectError> {
    let mut file = std::fs::File::open(path).map_err(|e| ProjectError::io(path, e))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buf).map_err(|e| ProjectError::io(path, e))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex::encode(hasher.finalize()))
}

/// Hashes a sequence of labelled parts; the labels and lengths keep ("ab","c") and ("a","bc") apart.
pub fn sha256_parts<'a>(parts: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut hasher = Sha256::new();
    for (label, value) in parts {
        hasher.update((label.len() as u64).to_le_bytes());
        hasher.update(label.as_bytes());
        hasher.update((value.len() as u64).to_le_bytes());
        hasher.update(value.as_bytes());
    }
    hex::encode(hasher.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_hash_matches_known_vector() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("abc");
        std::fs::write(&p, b"abc").unwrap();
        assert_eq!(sha256_file(&p).unwrap(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }

    #[test]
    fn parts_are_unambiguous() {
        assert_ne!(sha256_parts([("a", "bc")]), sha256_parts([("ab", "c")]));
        assert_eq!(sha256_parts([("a", "b")]), sha256_parts([("a", "b")]));
    }
}
