//! The SHA-256 manifest of an export: `SHA256SUMS` at the export's root lists every other file with its SHA-256,
//! one `<hex>  <path>` line each, paths relative to the root with `/`, sorted: the format `sha256sum -c SHA256SUMS`
//! checks. Every export writes it (just before it is swapped into place), archives carry it as their first member,
//! and `voxmill verify` checks an export folder or an archive against it.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::ExportError;

/// The manifest's file name.
pub const MANIFEST_FILE: &str = "SHA256SUMS";

/// Relative path → SHA-256 (lowercase hex).
pub type Manifest = BTreeMap<String, String>;

/// The SHA-256 of everything `reader` yields (lowercase hex) and its length.
pub fn sha256_of(mut reader: impl Read) -> std::io::Result<(String, u64)> {
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut len = 0u64;
    loop {
        let n = reader.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        len += n as u64;
    }
    Ok((hex::encode(hasher.finalize()), len))
}

/// Every file below `root` (not the manifest itself), as (path relative to `root` with `/`, absolute path), sorted.
pub fn files_of(root: &Path) -> Result<Vec<(String, PathBuf)>, ExportError> {
    fn walk(dir: &Path, prefix: &str, out: &mut Vec<(String, PathBuf)>) -> Result<(), ExportError> {
        for entry in std::fs::read_dir(dir).map_err(|e| ExportError::io(dir, e))? {
            let entry = entry.map_err(|e| ExportError::io(dir, e))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let path = entry.path();
            let relative = if prefix.is_empty() { name.clone() } else { format!("{prefix}/{name}") };
            let kind = entry.file_type().map_err(|e| ExportError::io(&path, e))?;
            if kind.is_dir() {
                walk(&path, &relative, out)?;
            } else if relative != MANIFEST_FILE {
                out.push((relative, path));
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    walk(root, "", &mut out)?;
    out.sort();
    Ok(out)
}

/// Hashes every file below `root` and writes `root/SHA256SUMS` (fsynced).
pub fn write_manifest(root: &Path) -> Result<(), ExportError> {
    let mut text = String::new();
    for (relative, path) in files_of(root)? {
        let file = File::open(&path).map_err(|e| ExportError::io(&path, e))?;
        let (hash, _) = sha256_of(file).map_err(|e| ExportError::io(&path, e))?;
        text.push_str(&format!("{hash}  {relative}\n"));
    }
    crate::staged::write_synced(&root.join(MANIFEST_FILE), text.as_bytes())
}

/// Reads a manifest's text; `source` names it in errors.
pub fn parse_manifest(text: &str, source: &Path) -> Result<Manifest, ExportError> {
    let mut out = Manifest::new();
    for (i, line) in text.lines().enumerate() {
        let bad = || ExportError::BadManifest {
            path: source.to_path_buf(),
            reason: format!("line {} is not `<sha256>  <path>`: {line:?}", i + 1),
        };
        let (hash, path) = line.split_once("  ").ok_or_else(bad)?;
        if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) || path.is_empty() {
            return Err(bad());
        }
        out.insert(path.to_string(), hash.to_ascii_lowercase());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_manifest_lists_every_other_file_as_sha256sum_does() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("wavs")).unwrap();
        std::fs::write(dir.path().join("wavs/a.wav"), b"abc").unwrap();
        std::fs::write(dir.path().join("metadata.csv"), b"").unwrap();
        write_manifest(dir.path()).unwrap();
        let text = std::fs::read_to_string(dir.path().join(MANIFEST_FILE)).unwrap();
        assert_eq!(
            text,
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855  metadata.csv\n\
             ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad  wavs/a.wav\n"
        );
        let parsed = parse_manifest(&text, Path::new("SHA256SUMS")).unwrap();
        assert_eq!(parsed.len(), 2);
        // Written again, the manifest does not list itself.
        write_manifest(dir.path()).unwrap();
        assert_eq!(std::fs::read_to_string(dir.path().join(MANIFEST_FILE)).unwrap(), text);
        let err = parse_manifest("nothash  x\n", Path::new("m")).unwrap_err().to_string();
        assert!(err.contains("line 1"), "{err}");
    }
}
