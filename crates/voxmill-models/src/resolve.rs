//! Finding a model's files: an explicit path, `$VOXMILL_MODELS/<dir>`, the Hugging Face
//! cache, or a download from the Hugging Face Hub into that cache.
//!
//! The cache layout is the one `huggingface_hub` uses, so Python tools and voxmill share
//! downloads:
//!
//! ```text
//! $HF_HUB_CACHE/models--{org}--{name}/
//!   refs/main                      the commit `main` pointed at when downloaded
//!   blobs/<etag>                   file contents, named by their ETag (sha256 for LFS files)
//!   snapshots/<commit>/<file>      relative symlinks into ../../blobs
//!   .no_exist/<commit>/<file>      markers for optional files the repository does not have
//! ```

use std::fs::{self, File};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::error::{ModelError, one_line};
use crate::registry::{ModelFile, ModelSpec, Need, known_ids, spec};
use crate::runtime::{home_dir, voxmill_home};

/// Where a resolved model was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ModelSource {
    /// A path given in the settings or on the command line.
    Explicit,
    /// `$VOXMILL_MODELS/<dir>` (by default `$VOXMILL_HOME/models`).
    VoxmillModels,
    /// The Hugging Face cache.
    HfCache,
    /// Downloaded from the Hugging Face Hub just now (into its cache).
    Downloaded,
}

impl std::fmt::Display for ModelSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ModelSource::Explicit => "explicit path",
            ModelSource::VoxmillModels => "voxmill models",
            ModelSource::HfCache => "Hugging Face cache",
            ModelSource::Downloaded => "downloaded",
        })
    }
}

/// A model's location on disk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResolvedModel {
    /// The model folder, or for single-file models (e.g. `vad:silero`) the file itself.
    pub path: PathBuf,
    /// Where it was found.
    pub source: ModelSource,
}

/// Finds models on disk and downloads missing ones. Every field is public so callers (and
/// tests) can point it anywhere without touching the process environment.
#[derive(Debug, Clone)]
pub struct Resolver {
    /// voxmill's own model folders: `$VOXMILL_MODELS`, default `$VOXMILL_HOME/models`.
    pub models_dir: PathBuf,
    /// The Hugging Face hub cache: `$HF_HUB_CACHE`, else `$HF_HOME/hub`, else
    /// `~/.cache/huggingface/hub`.
    pub hf_cache: PathBuf,
    /// The Hub's base URL: `$HF_ENDPOINT`, default `https://huggingface.co`.
    pub endpoint: String,
    /// `$HF_TOKEN`, sent as a Bearer token to the endpoint (never to the CDN it redirects to).
    pub token: Option<String>,
    /// Never download: a model that is not on disk is an error.
    pub offline: bool,
    /// Connect timeout and the longest wait for any one read.
    pub timeout: Duration,
    /// Use `HTTPS_PROXY`/`HTTP_PROXY`/`ALL_PROXY` from the environment (not for loopback endpoints).
    pub use_env_proxy: bool,
}

fn env_nonempty(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn truthy(v: &str) -> bool {
    matches!(v.trim().to_ascii_lowercase().as_str(), "1" | "true" | "yes" | "on")
}

impl Resolver {
    /// Reads the locations from the environment. `offline` (e.g. `--offline`) or
    /// `HF_HUB_OFFLINE=1` forbid downloads.
    pub fn from_env(offline: bool) -> Self {
        let models_dir =
            env_nonempty("VOXMILL_MODELS").map(PathBuf::from).unwrap_or_else(|| voxmill_home().join("models"));
        let hf_cache = env_nonempty("HF_HUB_CACHE")
            .map(PathBuf::from)
            .or_else(|| env_nonempty("HF_HOME").map(|h| PathBuf::from(h).join("hub")))
            .or_else(|| env_nonempty("XDG_CACHE_HOME").map(|h| PathBuf::from(h).join("huggingface/hub")))
            .unwrap_or_else(|| home_dir().join(".cache/huggingface/hub"));
        let endpoint = env_nonempty("HF_ENDPOINT")
            .unwrap_or_else(|| "https://huggingface.co".to_string())
            .trim_end_matches('/')
            .to_string();
        let token = env_nonempty("HF_TOKEN").or_else(|| {
            // huggingface_hub's `hf auth login` stores it here.
            let path = env_nonempty("HF_TOKEN_PATH").map(PathBuf::from).unwrap_or_else(|| {
                env_nonempty("HF_HOME")
                    .map(PathBuf::from)
                    .unwrap_or_else(|| home_dir().join(".cache/huggingface"))
                    .join("token")
            });
            fs::read_to_string(path).ok().map(|t| t.trim().to_string()).filter(|t| !t.is_empty())
        });
        let offline = offline || env_nonempty("HF_HUB_OFFLINE").is_some_and(|v| truthy(&v));
        Resolver {
            models_dir,
            hf_cache,
            endpoint,
            token,
            offline,
            timeout: Duration::from_secs(60),
            use_env_proxy: true,
        }
    }

    /// Finds model `id`: `explicit` if given (it must exist), else `$VOXMILL_MODELS/<dir>`,
    /// else the Hugging Face cache, else downloads it (unless offline). `progress` gets
    /// `(bytes downloaded, total bytes if known)` during a download.
    ///
    /// An id voxmill does not know is accepted only together with an explicit path.
    pub fn resolve(
        &self,
        id: &str,
        explicit: Option<&Path>,
        progress: &mut dyn FnMut(u64, Option<u64>),
    ) -> Result<ResolvedModel, ModelError> {
        let spec = spec(id);
        if let Some(path) = explicit {
            return resolve_explicit(id, spec, path);
        }
        let spec = spec.ok_or_else(|| ModelError::UnknownModel { id: id.to_string(), known: known_ids() })?;
        if let Some(found) = self.locate_spec(spec) {
            return Ok(found);
        }
        if spec.repo.is_empty() {
            return Err(ModelError::NotOnHub {
                id: spec.id.to_string(),
                tried: self.places(spec),
                setting: spec.setting,
            });
        }
        if self.offline {
            return Err(ModelError::Offline {
                id: spec.id.to_string(),
                tried: self.places(spec),
                setting: spec.setting,
            });
        }
        let snapshot = Download::new(self, spec).run(progress)?;
        match check_files(spec, &snapshot, Layout::Hub) {
            Ok(path) => Ok(ResolvedModel { path, source: ModelSource::Downloaded }),
            Err(file) => Err(ModelError::Incomplete {
                id: spec.id.to_string(),
                path: snapshot,
                file,
                hint: format!("the repository {} does not have it", spec.repo),
            }),
        }
    }

    /// Finds model `id` on disk without touching the network (for `voxmill models list`).
    pub fn locate(&self, id: &str) -> Option<ResolvedModel> {
        self.locate_spec(spec(id)?)
    }

    /// The places looked in for a model, in order (for messages).
    pub fn places(&self, spec: &ModelSpec) -> Vec<PathBuf> {
        if spec.repo.is_empty() {
            return vec![self.models_dir.join(spec.dir)];
        }
        vec![self.models_dir.join(spec.dir), self.hf_cache.join(spec.hf_cache_dir())]
    }

    fn locate_spec(&self, spec: &'static ModelSpec) -> Option<ResolvedModel> {
        let local = self.models_dir.join(spec.dir);
        if local.is_dir() {
            match check_files(spec, &local, Layout::Either) {
                Ok(path) => {
                    return Some(ResolvedModel { path, source: ModelSource::VoxmillModels });
                }
                Err(file) => {
                    tracing::warn!("model {}: ignoring {}: {file} is missing or empty", spec.id, local.display())
                }
            }
        }
        let snapshot = cached_snapshot(&self.hf_cache.join(spec.hf_cache_dir()), spec)?;
        let path = check_files(spec, &snapshot, Layout::Hub).ok()?;
        Some(ResolvedModel { path, source: ModelSource::HfCache })
    }
}

fn resolve_explicit(id: &str, spec: Option<&'static ModelSpec>, path: &Path) -> Result<ResolvedModel, ModelError> {
    if !path.exists() {
        return Err(ModelError::ExplicitMissing { id: id.to_string(), path: path.to_path_buf() });
    }
    let incomplete = |file: String| ModelError::Incomplete {
        id: id.to_string(),
        path: path.to_path_buf(),
        file,
        hint: "point the setting at a complete model".to_string(),
    };
    let resolved = match spec {
        Some(spec) if spec.single_file && path.is_file() => {
            if non_empty(path) {
                path.to_path_buf()
            } else {
                return Err(incomplete(file_name(path)));
            }
        }
        Some(spec) if path.is_dir() => check_files(spec, path, Layout::Either).map_err(incomplete)?,
        Some(spec) => {
            return Err(incomplete(format!(
                "a folder with {}",
                spec.files.iter().filter(|f| f.need == Need::Required).map(|f| f.local).collect::<Vec<_>>().join(", ")
            )));
        }
        None if path.is_file() && !non_empty(path) => return Err(incomplete(file_name(path))),
        None => path.to_path_buf(),
    };
    Ok(ResolvedModel { path: resolved, source: ModelSource::Explicit })
}

fn file_name(path: &Path) -> String {
    path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| path.display().to_string())
}

/// Whether `path` is (or links to) a file with at least one byte.
fn non_empty(path: &Path) -> bool {
    fs::metadata(path).is_ok_and(|m| m.is_file() && m.len() > 0)
}

/// Which names a folder's files have.
#[derive(Clone, Copy, PartialEq)]
enum Layout {
    /// A Hugging Face snapshot: repository paths.
    Hub,
    /// A voxmill folder (local names), or a copy of a repository (repository paths).
    Either,
}

/// Checks every needed file of `spec` is present and non-empty under `base`. Returns the
/// resolved path (the folder, or the file of a single-file model), or the first missing file.
fn check_files(spec: &ModelSpec, base: &Path, layout: Layout) -> Result<PathBuf, String> {
    let find = |f: &ModelFile| -> Option<PathBuf> {
        let mut names = vec![f.remote];
        if layout == Layout::Either {
            names.insert(0, f.local);
        }
        names.into_iter().map(|n| base.join(n)).find(|p| non_empty(p))
    };
    let mut groups: Vec<(&str, bool, Vec<&str>)> = Vec::new();
    for f in spec.files {
        let found = find(f);
        match f.need {
            Need::Required if found.is_none() => return Err(f.local.to_string()),
            Need::AnyOf(group) => match groups.iter_mut().find(|g| g.0 == group) {
                Some(g) => {
                    g.1 |= found.is_some();
                    g.2.push(f.local);
                }
                None => groups.push((group, found.is_some(), vec![f.local])),
            },
            _ => {}
        }
    }
    if let Some(g) = groups.iter().find(|g| !g.1) {
        return Err(g.2.join(" or "));
    }
    if spec.single_file {
        return find(spec.main_file()).ok_or_else(|| spec.main_file().local.to_string());
    }
    Ok(base.to_path_buf())
}

/// The snapshot folder for `spec.revision` in a cached repository, if any: the commit in
/// `refs/<revision>`, else (when the revision is itself a commit) that snapshot, else the
/// newest snapshot that holds every needed file.
fn cached_snapshot(repo_dir: &Path, spec: &ModelSpec) -> Option<PathBuf> {
    let snapshots = repo_dir.join("snapshots");
    if let Ok(commit) = fs::read_to_string(repo_dir.join("refs").join(spec.revision)) {
        let dir = snapshots.join(commit.trim());
        if dir.is_dir() && check_files(spec, &dir, Layout::Hub).is_ok() {
            return Some(dir);
        }
    }
    if is_commit(spec.revision) {
        let dir = snapshots.join(spec.revision);
        return dir.is_dir().then_some(dir);
    }
    let mut complete: Vec<(std::time::SystemTime, PathBuf)> = fs::read_dir(&snapshots)
        .ok()?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_dir() && check_files(spec, p, Layout::Hub).is_ok())
        .map(|p| {
            let t = fs::metadata(&p).and_then(|m| m.modified()).unwrap_or(std::time::UNIX_EPOCH);
            (t, p)
        })
        .collect();
    complete.sort();
    complete.pop().map(|(_, p)| p)
}

fn is_commit(rev: &str) -> bool {
    rev.len() == 40 && rev.bytes().all(|b| b.is_ascii_hexdigit())
}

/// What a `resolve` URL's headers say about a file.
#[derive(Debug)]
struct FileMeta {
    file: &'static ModelFile,
    /// Where to GET the contents (the CDN URL for LFS files).
    location: String,
    commit: String,
    etag: String,
    size: Option<u64>,
}

/// One model download into the Hugging Face cache.
struct Download<'a> {
    resolver: &'a Resolver,
    spec: &'static ModelSpec,
    repo_dir: PathBuf,
    /// Does not follow redirects, so the Hub's own headers can be read.
    head_agent: ureq::Agent,
    /// Follows redirects (to the CDN), never sending the token on.
    get_agent: ureq::Agent,
}

impl<'a> Download<'a> {
    fn new(resolver: &'a Resolver, spec: &'static ModelSpec) -> Self {
        let loopback = endpoint_is_loopback(&resolver.endpoint);
        let proxy = if resolver.use_env_proxy && !loopback { ureq::Proxy::try_from_env() } else { None };
        let agent = |redirects: u32| -> ureq::Agent {
            ureq::Agent::config_builder()
                .http_status_as_error(false)
                .max_redirects(redirects)
                .proxy(proxy.clone())
                .timeout_connect(Some(resolver.timeout))
                .timeout_per_read(Some(resolver.timeout))
                .user_agent(concat!("voxmill/", env!("CARGO_PKG_VERSION")))
                .build()
                .into()
        };
        Download {
            resolver,
            spec,
            repo_dir: resolver.hf_cache.join(spec.hf_cache_dir()),
            head_agent: agent(0),
            get_agent: agent(10),
        }
    }

    fn url(&self, revision: &str, file: &str) -> String {
        format!("{}/{}/resolve/{}/{}", self.resolver.endpoint, self.spec.repo, revision, file)
    }

    fn err(&self, url: &str, reason: impl std::fmt::Display) -> ModelError {
        ModelError::Download {
            id: self.spec.id.to_string(),
            url: url.to_string(),
            reason: one_line(&reason.to_string()),
        }
    }

    fn status_err(&self, url: &str, status: u16) -> ModelError {
        ModelError::HttpStatus { id: self.spec.id.to_string(), url: url.to_string(), status }
    }

    fn io<'p>(path: &'p Path, action: &'static str) -> impl FnOnce(std::io::Error) -> ModelError + 'p {
        move |e| ModelError::io(path, action, e)
    }

    /// Downloads whatever files of the model the cache lacks; returns the snapshot folder.
    fn run(&self, progress: &mut dyn FnMut(u64, Option<u64>)) -> Result<PathBuf, ModelError> {
        tracing::info!("downloading model {} from {}/{}", self.spec.id, self.resolver.endpoint, self.spec.repo);
        // Pin the commit with the first request; every other file comes from that commit,
        // so a repository updated meanwhile cannot mix two versions.
        let mut commit: Option<String> = None;
        let mut wanted: Vec<FileMeta> = Vec::new();
        for file in self.spec.files {
            if let Some(c) = &commit {
                let snap = self.repo_dir.join("snapshots").join(c);
                if non_empty(&snap.join(file.remote))
                    || (file.need != Need::Required
                        && self.repo_dir.join(".no_exist").join(c).join(file.remote).exists())
                {
                    continue;
                }
            }
            let revision = commit.as_deref().unwrap_or(self.spec.revision);
            let url = self.url(revision, file.remote);
            match self.head(&url, file)? {
                Some(meta) => {
                    if commit.is_none() {
                        commit = Some(meta.commit.clone());
                    }
                    let have = self.repo_dir.join("snapshots").join(&meta.commit).join(file.remote);
                    if !non_empty(&have) {
                        wanted.push(meta);
                    }
                }
                None if file.need == Need::Required => return Err(self.status_err(&url, 404)),
                None => {
                    if let Some(c) = &commit {
                        self.mark_missing(c, file.remote)?;
                    }
                }
            }
        }
        let Some(commit) = commit else {
            return Err(self.err(&self.url(self.spec.revision, ""), "the repository has none of the model's files"));
        };
        // Files served directly (not redirected) were asked for at the revision name: fetch
        // their contents from the pinned commit too.
        for meta in &mut wanted {
            if meta.location == self.url(self.spec.revision, meta.file.remote) {
                meta.location = self.url(&commit, meta.file.remote);
            }
        }
        let total = wanted.iter().try_fold(0u64, |acc, m| m.size.map(|s| acc + s));
        let mut done = 0u64;
        progress(0, total);
        for meta in &wanted {
            self.fetch(meta, &mut done, total, progress)?;
        }
        if self.spec.revision != commit {
            let refs = self.repo_dir.join("refs");
            fs::create_dir_all(&refs).map_err(Self::io(&refs, "create the cache folder"))?;
            write_atomic(&refs.join(self.spec.revision), commit.as_bytes())?;
        }
        Ok(self.repo_dir.join("snapshots").join(commit))
    }

    /// Asks the Hub about one file without downloading it. `None`: the file does not exist.
    fn head(&self, url: &str, file: &'static ModelFile) -> Result<Option<FileMeta>, ModelError> {
        let mut url = url.to_string();
        for _ in 0..5 {
            let mut req = self.head_agent.head(&url);
            if let Some(auth) = self.auth_for(&url) {
                req = req.header("Authorization", auth);
            }
            let resp = req.call().map_err(|e| self.err(&url, e))?;
            let status = resp.status().as_u16();
            let header = |name: &str| resp.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
            let location = match status {
                200..=299 => url.clone(),
                300..=399 => {
                    let Some(loc) = header("location") else {
                        return Err(self.err(&url, format!("HTTP {status} without a Location")));
                    };
                    let absolute = join_url(&url, &loc);
                    if header("x-repo-commit").is_none() && loc.starts_with('/') {
                        // A renamed repository: ask again at the new address.
                        url = absolute;
                        continue;
                    }
                    absolute
                }
                404 => return Ok(None),
                _ => return Err(self.status_err(&url, status)),
            };
            let commit = header("x-repo-commit").ok_or_else(|| {
                self.err(
                    &url,
                    format!(
                        "the reply has no X-Repo-Commit header; is {} a Hugging Face Hub? (check HF_ENDPOINT)",
                        self.resolver.endpoint
                    ),
                )
            })?;
            if !is_commit(commit.trim()) {
                return Err(self.err(&url, format!("invalid X-Repo-Commit `{commit}`")));
            }
            let etag = header("x-linked-etag")
                .or_else(|| header("etag"))
                .map(|e| normalize_etag(&e))
                .filter(|e| !e.is_empty() && !e.contains(['/', '\\']) && e != "." && e != "..")
                .ok_or_else(|| self.err(&url, "the reply has no usable ETag header"))?;
            let size = header("x-linked-size")
                .or_else(|| if status < 300 { header("content-length") } else { None })
                .and_then(|s| s.trim().parse().ok());
            return Ok(Some(FileMeta { file, location, commit: commit.trim().to_string(), etag, size }));
        }
        Err(self.err(&url, "too many redirects"))
    }

    /// The Authorization header for `url`: only for the endpoint itself, never for a CDN.
    fn auth_for(&self, url: &str) -> Option<String> {
        let token = self.resolver.token.as_ref()?;
        (origin(url) == origin(&self.resolver.endpoint)).then(|| format!("Bearer {token}"))
    }

    /// Records that an optional file does not exist in `commit`, like huggingface_hub.
    fn mark_missing(&self, commit: &str, remote: &str) -> Result<(), ModelError> {
        let marker = self.repo_dir.join(".no_exist").join(commit).join(remote);
        if let Some(parent) = marker.parent() {
            fs::create_dir_all(parent).map_err(Self::io(parent, "create the cache folder"))?;
        }
        File::create(&marker).map_err(Self::io(&marker, "write the cache marker"))?;
        Ok(())
    }

    /// Downloads one file into `blobs/` (unless it is there) and links it into the snapshot.
    fn fetch(
        &self,
        meta: &FileMeta,
        done: &mut u64,
        total: Option<u64>,
        progress: &mut dyn FnMut(u64, Option<u64>),
    ) -> Result<(), ModelError> {
        let blobs = self.repo_dir.join("blobs");
        fs::create_dir_all(&blobs).map_err(Self::io(&blobs, "create the cache folder"))?;
        let blob = blobs.join(&meta.etag);
        let have_blob =
            fs::metadata(&blob).is_ok_and(|m| m.is_file() && m.len() > 0 && meta.size.is_none_or(|s| s == m.len()));
        if have_blob {
            *done += meta.size.unwrap_or(0);
            progress(*done, total);
        } else {
            self.download_blob(meta, &blob, done, total, progress)?;
        }
        let link = self.repo_dir.join("snapshots").join(&meta.commit).join(meta.file.remote);
        let parent = link.parent().expect("a snapshot file has a parent");
        fs::create_dir_all(parent).map_err(Self::io(parent, "create the snapshot folder"))?;
        link_blob(&blob, &link, &meta.etag, meta.file.remote)
    }

    fn download_blob(
        &self,
        meta: &FileMeta,
        blob: &Path,
        done: &mut u64,
        total: Option<u64>,
        progress: &mut dyn FnMut(u64, Option<u64>),
    ) -> Result<(), ModelError> {
        let url = &meta.location;
        let mut req = self.get_agent.get(url);
        if let Some(auth) = self.auth_for(url) {
            req = req.header("Authorization", auth);
        }
        let mut resp = req.call().map_err(|e| self.err(url, e))?;
        let status = resp.status().as_u16();
        if status != 200 {
            return Err(self.status_err(url, status));
        }
        let tmp = blob.with_file_name(format!("{}.voxmill-{}.incomplete", meta.etag, std::process::id()));
        let result = (|| {
            let mut out = File::create(&tmp).map_err(Self::io(&tmp, "create the download"))?;
            let mut reader = resp.body_mut().as_reader();
            let mut hasher = Sha256::new();
            let mut buf = vec![0u8; 256 * 1024];
            let mut n_total = 0u64;
            loop {
                let n = match reader.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => n,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(self.err(url, e)),
                };
                out.write_all(&buf[..n]).map_err(Self::io(&tmp, "write the download"))?;
                hasher.update(&buf[..n]);
                n_total += n as u64;
                *done += n as u64;
                progress(*done, total);
            }
            if let Some(size) = meta.size
                && size != n_total
            {
                return Err(self.err(url, format!("transfer ended after {n_total} of {size} bytes; try again")));
            }
            if n_total == 0 {
                return Err(self.err(url, "the file is empty"));
            }
            let digest = hex::encode(hasher.finalize());
            if meta.etag.len() == 64
                && meta.etag.bytes().all(|b| b.is_ascii_hexdigit())
                && !digest.eq_ignore_ascii_case(&meta.etag)
            {
                return Err(
                    self.err(url, format!("checksum mismatch (sha256 {digest}, expected {}); try again", meta.etag))
                );
            }
            out.sync_all().map_err(Self::io(&tmp, "fsync the download"))?;
            fs::rename(&tmp, blob).map_err(Self::io(blob, "move the download into place"))?;
            Ok(())
        })();
        if result.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        result
    }
}

/// Links `link` to `blob` with a relative symlink like huggingface_hub (copies the blob
/// where symlinks are not available).
fn link_blob(blob: &Path, link: &Path, etag: &str, remote: &str) -> Result<(), ModelError> {
    let depth = 2 + remote.matches('/').count();
    let target: PathBuf = std::iter::repeat_n("..", depth).collect::<PathBuf>().join("blobs").join(etag);
    if fs::symlink_metadata(link).is_ok() {
        fs::remove_file(link).map_err(|e| ModelError::io(link, "replace the snapshot file", e))?;
    }
    #[cfg(unix)]
    let linked = std::os::unix::fs::symlink(&target, link);
    #[cfg(not(unix))]
    let linked: std::io::Result<()> = Err(std::io::Error::other("no symlinks"));
    if linked.is_err() {
        fs::copy(blob, link).map_err(|e| ModelError::io(link, "copy the blob into the snapshot", e))?;
    }
    Ok(())
}

fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), ModelError> {
    let tmp = path.with_file_name(format!(".{}.voxmill-{}.tmp", file_name(path), std::process::id()));
    fs::write(&tmp, bytes).map_err(|e| ModelError::io(&tmp, "write", e))?;
    fs::rename(&tmp, path).map_err(|e| ModelError::io(path, "write", e))
}

/// `W/"abc"` → `abc`.
fn normalize_etag(etag: &str) -> String {
    etag.trim().trim_start_matches("W/").trim_matches('"').to_string()
}

/// `scheme://host[:port]` of a URL, lower-cased.
fn origin(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    format!("{}://{}", scheme.to_ascii_lowercase(), host.to_ascii_lowercase())
}

/// Resolves a Location header against the URL it came from.
fn join_url(base: &str, location: &str) -> String {
    if location.contains("://") {
        location.to_string()
    } else if location.starts_with("//") {
        let scheme = base.split_once("://").map_or("https", |(s, _)| s);
        format!("{scheme}:{location}")
    } else if location.starts_with('/') {
        format!("{}{location}", origin(base))
    } else {
        let dir = base.rsplit_once('/').map_or(base, |(d, _)| d);
        format!("{dir}/{location}")
    }
}

fn endpoint_is_loopback(endpoint: &str) -> bool {
    let o = origin(endpoint);
    let host = o.split_once("://").map_or(o.as_str(), |(_, h)| h);
    let host =
        host.rsplit_once(':').map_or(host, |(h, p)| if p.bytes().all(|b| b.is_ascii_digit()) { h } else { host });
    matches!(host, "localhost" | "127.0.0.1" | "[::1]")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_helpers() {
        assert_eq!(origin("https://HF.co:443/a/b?x"), "https://hf.co:443");
        assert_eq!(join_url("http://a:1/x/y", "/cdn/z"), "http://a:1/cdn/z");
        assert_eq!(join_url("http://a:1/x/y", "https://cdn/z"), "https://cdn/z");
        assert_eq!(join_url("http://a:1/x/y", "z"), "http://a:1/x/z");
        assert_eq!(normalize_etag("W/\"abc\""), "abc");
        assert!(endpoint_is_loopback("http://127.0.0.1:8080"));
        assert!(!endpoint_is_loopback("https://huggingface.co"));
    }
}
