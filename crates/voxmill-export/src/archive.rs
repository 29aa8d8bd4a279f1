//! Archives of an export, and checking an export or an archive against its manifest. An archive holds the export
//! folder under its own name (`hf/…`), its `SHA256SUMS` first, so that a reader can check every member as it
//! streams by. `tar.zst` (zstd level 3), `tar.gz` (fast deflate) and `zip` (audio and shards stored, text deflated)
//! are written; the archive is built beside its final name and renamed into place once complete and fsynced, so a
//! killed export never leaves a truncated archive under the real name.
//!
//! [`verify`] reads a folder or an archive, hashes every file and reports each one that is missing, different or
//! not in the manifest, and an archive that cannot be read to its end (a flipped byte in compressed data is caught
//! by the decompressor or the hash).

use std::fs::{self, File};
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use crate::ExportError;
use crate::manifest::{MANIFEST_FILE, Manifest, files_of, parse_manifest, sha256_of};

/// The kinds of archive written and read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArchiveFormat {
    TarZst,
    TarGz,
    Zip,
}

impl ArchiveFormat {
    /// Every kind, as `--archive` names them.
    pub const ALL: [ArchiveFormat; 3] = [ArchiveFormat::TarZst, ArchiveFormat::TarGz, ArchiveFormat::Zip];

    /// The name on the command line, which is also the file's extension.
    pub fn name(self) -> &'static str {
        match self {
            ArchiveFormat::TarZst => "tar.zst",
            ArchiveFormat::TarGz => "tar.gz",
            ArchiveFormat::Zip => "zip",
        }
    }

    /// The kind named `name` (`tar.zst`, `tar.gz`, `zip`).
    pub fn from_name(name: &str) -> Option<ArchiveFormat> {
        ArchiveFormat::ALL.into_iter().find(|f| f.name() == name)
    }

    /// The kind of archive a file is, by its name.
    pub fn of_path(path: &Path) -> Option<ArchiveFormat> {
        let name = path.file_name()?.to_string_lossy().to_ascii_lowercase();
        ArchiveFormat::ALL.into_iter().find(|f| name.ends_with(&format!(".{}", f.name())))
    }
}

/// What an archive holds.
#[derive(Debug, Clone, PartialEq)]
pub struct ArchiveReport {
    pub path: PathBuf,
    /// Files archived (the manifest included).
    pub files: usize,
    /// Size of the archive in bytes.
    pub bytes: u64,
}

/// Archives the export folder `export_dir` (which has a manifest) as `<export_dir>.<ext>` beside it.
pub fn write_archive(export_dir: &Path, format: ArchiveFormat) -> Result<ArchiveReport, ExportError> {
    let name = export_dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .ok_or_else(|| ExportError::BadOutDir { path: export_dir.to_path_buf(), reason: "it has no folder name" })?;
    let manifest = export_dir.join(MANIFEST_FILE);
    if !manifest.is_file() {
        return Err(ExportError::BadManifest {
            path: manifest,
            reason: "missing; export again to write it".to_string(),
        });
    }
    let mut members = vec![(MANIFEST_FILE.to_string(), manifest)];
    members.extend(files_of(export_dir)?);
    let parent = export_dir.parent().unwrap_or(Path::new("."));
    let dest = parent.join(format!("{name}.{}", format.name()));
    let partial = format!(".{name}.{}.partial-", format.name());
    // Leftovers of archives a killed export was writing.
    for entry in fs::read_dir(parent).map_err(|e| ExportError::io(parent, e))?.flatten() {
        let n = entry.file_name().to_string_lossy().into_owned();
        if n.strip_prefix(&partial).is_some_and(|pid| !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit())) {
            let _ = fs::remove_file(entry.path());
        }
    }
    let temp = parent.join(format!("{partial}{}", std::process::id()));
    let result = write_members(&temp, &name, &members, format);
    if let Err(e) = result {
        let _ = fs::remove_file(&temp);
        return Err(e);
    }
    fs::rename(&temp, &dest).map_err(|e| ExportError::io(&dest, e))?;
    voxmill_project::atomic::sync_dir(parent)?;
    let bytes = fs::metadata(&dest).map_err(|e| ExportError::io(&dest, e))?.len();
    Ok(ArchiveReport { path: dest, files: members.len(), bytes })
}

/// Writes `members` (relative name, file) under `root/` into a new archive at `path`, fsynced.
fn write_members(
    path: &Path,
    root: &str,
    members: &[(String, PathBuf)],
    format: ArchiveFormat,
) -> Result<(), ExportError> {
    let io = |e: std::io::Error| ExportError::io(path, e);
    let file = BufWriter::with_capacity(1 << 20, File::create(path).map_err(io)?);
    let file = match format {
        ArchiveFormat::TarZst => {
            let mut enc = zstd::Encoder::new(file, 3).map_err(io)?;
            // The frame checksum lets the decompressor itself catch a damaged archive.
            enc.include_checksum(true).map_err(io)?;
            append_tar(&mut enc, root, members, path)?;
            enc.finish().map_err(io)?
        }
        ArchiveFormat::TarGz => {
            let mut enc = flate2::write::GzEncoder::new(file, flate2::Compression::fast());
            append_tar(&mut enc, root, members, path)?;
            enc.finish().map_err(io)?
        }
        ArchiveFormat::Zip => {
            let mut zip = zip::ZipWriter::new(file);
            for (relative, source) in members {
                let size = fs::metadata(source).map_err(|e| ExportError::io(source, e))?.len();
                let packed = [".wav", ".parquet", ".tar", ".gz", ".flac", ".mp3"].iter().any(|x| relative.ends_with(x));
                let method = if packed { zip::CompressionMethod::Stored } else { zip::CompressionMethod::Deflated };
                let options = zip::write::SimpleFileOptions::default()
                    .compression_method(method)
                    .large_file(size >= u64::from(u32::MAX))
                    .last_modified_time(zip::DateTime::default())
                    .unix_permissions(0o644);
                zip.start_file(format!("{root}/{relative}"), options).map_err(|e| zip_error(path, e))?;
                let mut src = File::open(source).map_err(|e| ExportError::io(source, e))?;
                std::io::copy(&mut src, &mut zip).map_err(io)?;
            }
            zip.finish().map_err(|e| zip_error(path, e))?
        }
    };
    let file = file.into_inner().map_err(|e| ExportError::io(path, e.into_error()))?;
    file.sync_all().map_err(io)
}

fn zip_error(path: &Path, e: zip::result::ZipError) -> ExportError {
    ExportError::io(path, std::io::Error::other(e.to_string()))
}

/// Appends `members` to a tar stream with fixed owners and times.
fn append_tar(out: &mut dyn Write, root: &str, members: &[(String, PathBuf)], path: &Path) -> Result<(), ExportError> {
    let mut tar = tar::Builder::new(out);
    for (relative, source) in members {
        let file = File::open(source).map_err(|e| ExportError::io(source, e))?;
        let size = file.metadata().map_err(|e| ExportError::io(source, e))?.len();
        let mut header = tar::Header::new_gnu();
        header.set_size(size);
        header.set_mode(0o644);
        header.set_mtime(0);
        header.set_entry_type(tar::EntryType::Regular);
        tar.append_data(&mut header, format!("{root}/{relative}"), BufReader::new(file))
            .map_err(|e| ExportError::io(path, e))?;
    }
    tar.finish().map_err(|e| ExportError::io(path, e))
}

/// A file found in a folder or an archive: its path relative to the export, and its SHA-256 and length, or why it
/// could not be read.
type Found = (String, Result<(String, u64), String>);

/// What [`verify`] found.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct VerifyReport {
    /// Files the manifest lists.
    pub listed: usize,
    /// Files whose content matched.
    pub verified: usize,
    /// Bytes hashed.
    pub bytes: u64,
    /// Every problem, one line each (missing, different, unlisted, unreadable); empty when all is well.
    pub problems: Vec<String>,
}

impl VerifyReport {
    /// Whether everything the manifest lists is there, unchanged, with nothing else.
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Checks an export folder or an archive (`.tar.zst`, `.tar.gz`, `.zip`) against its `SHA256SUMS`.
pub fn verify(path: &Path) -> Result<VerifyReport, ExportError> {
    let meta = fs::metadata(path).map_err(|e| ExportError::io(path, e))?;
    if meta.is_dir() {
        return verify_dir(path);
    }
    let format = ArchiveFormat::of_path(path).ok_or_else(|| ExportError::BadManifest {
        path: path.to_path_buf(),
        reason: "neither an export folder nor a .tar.zst, .tar.gz or .zip archive".to_string(),
    })?;
    let mut seen: Vec<Found> = Vec::new();
    let mut manifest_text: Option<String> = None;
    let mut visit = |name: &str, reader: &mut dyn Read| {
        // Members are `<export>/<relative path>`.
        let relative = name.split_once('/').map_or(name, |(_, rest)| rest).to_string();
        if relative.is_empty() || relative.ends_with('/') {
            return;
        }
        if relative == MANIFEST_FILE {
            let mut text = String::new();
            match reader.read_to_string(&mut text) {
                Ok(_) => manifest_text = Some(text),
                Err(e) => seen.push((relative, Err(e.to_string()))),
            }
            return;
        }
        seen.push((relative, sha256_of(reader).map_err(|e| e.to_string())));
    };
    let mut read_error: Option<String> = None;
    let io = |e: std::io::Error| ExportError::io(path, e);
    match format {
        ArchiveFormat::TarZst | ArchiveFormat::TarGz => {
            let file = BufReader::new(File::open(path).map_err(io)?);
            let stream: Box<dyn Read> = match format {
                ArchiveFormat::TarZst => Box::new(zstd::Decoder::with_buffer(file).map_err(io)?),
                _ => Box::new(flate2::read::GzDecoder::new(file)),
            };
            let mut tar = tar::Archive::new(stream);
            match tar.entries() {
                Ok(entries) => {
                    for entry in entries {
                        match entry {
                            Ok(mut entry) => {
                                let name = entry.path().map(|p| p.to_string_lossy().into_owned()).unwrap_or_default();
                                visit(&name, &mut entry);
                            }
                            Err(e) => {
                                read_error = Some(e.to_string());
                                break;
                            }
                        }
                    }
                }
                Err(e) => read_error = Some(e.to_string()),
            }
        }
        ArchiveFormat::Zip => match zip::ZipArchive::new(File::open(path).map_err(io)?) {
            Ok(mut zip) => {
                for i in 0..zip.len() {
                    match zip.by_index(i) {
                        Ok(mut member) => {
                            let name = member.name().to_string();
                            visit(&name, &mut member);
                        }
                        Err(e) => {
                            read_error = Some(e.to_string());
                            break;
                        }
                    }
                }
            }
            Err(e) => read_error = Some(e.to_string()),
        },
    }
    let mut report = VerifyReport::default();
    if let Some(e) = read_error {
        report.problems.push(format!("the archive cannot be read to its end: {e}"));
    }
    let Some(text) = manifest_text else {
        report
            .problems
            .push(format!("no {MANIFEST_FILE} in the archive: it was not made by `voxmill export --archive`"));
        return Ok(report);
    };
    let manifest = parse_manifest(&text, path)?;
    compare(&manifest, seen, &mut report);
    Ok(report)
}

fn verify_dir(dir: &Path) -> Result<VerifyReport, ExportError> {
    let manifest_path = dir.join(MANIFEST_FILE);
    let text = fs::read_to_string(&manifest_path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => ExportError::BadManifest {
            path: manifest_path.clone(),
            reason: "missing: this folder is not a voxmill export, or was exported before manifests; export again"
                .to_string(),
        },
        _ => ExportError::io(&manifest_path, e),
    })?;
    let manifest = parse_manifest(&text, &manifest_path)?;
    let seen = files_of(dir)?
        .into_iter()
        .map(|(relative, path)| {
            let hashed = File::open(&path).and_then(sha256_of).map_err(|e| e.to_string());
            (relative, hashed)
        })
        .collect();
    let mut report = VerifyReport::default();
    compare(&manifest, seen, &mut report);
    Ok(report)
}

/// Fills `report` from the files found (relative path, hash and length or the read error) against `manifest`.
fn compare(manifest: &Manifest, seen: Vec<Found>, report: &mut VerifyReport) {
    report.listed = manifest.len();
    let mut found = std::collections::BTreeSet::new();
    for (relative, hashed) in seen {
        found.insert(relative.clone());
        match (manifest.get(&relative), hashed) {
            (None, _) => report.problems.push(format!("{relative}: not in {MANIFEST_FILE}")),
            (Some(_), Err(e)) => report.problems.push(format!("{relative}: cannot be read: {e}")),
            (Some(want), Ok((got, len))) => {
                report.bytes += len;
                if *want == got {
                    report.verified += 1;
                } else {
                    report.problems.push(format!("{relative}: content differs from {MANIFEST_FILE} (sha256 {got})"));
                }
            }
        }
    }
    for relative in manifest.keys().filter(|k| !found.contains(*k)) {
        report.problems.push(format!("{relative}: missing"));
    }
}
