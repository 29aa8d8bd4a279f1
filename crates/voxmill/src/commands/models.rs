use anyhow::Result;
use voxmill_models::{Resolver, known_models};

use super::Outcome;
use crate::mode::Mode;

/// `voxmill models list`: every model voxmill knows, the languages each speech recogniser transcribes, whether it
/// is on this machine, and where.
pub fn list(mode: Mode) -> Result<Outcome> {
    let resolver = Resolver::from_env(true);
    let mut rows = Vec::new();
    for spec in known_models() {
        let found = resolver.locate(spec.id);
        rows.push((spec, found));
    }
    if mode == Mode::Json {
        for (spec, found) in &rows {
            println!(
                "{}",
                serde_json::json!({"id": spec.id, "family": spec.family, "repo": spec.repo, "size_mb": spec.size_mb,
                    "languages": spec.languages().map(|l| l.as_str()), "present": found.is_some(),
                    "path": found.as_ref().map(|f| &f.path), "source": found.as_ref().map(|f| f.source)})
            );
        }
        return Ok(Outcome::Success);
    }
    println!("{:<28} {:>8}  {:<18} {:<8} WHERE", "MODEL", "SIZE", "LANGUAGES", "PRESENT");
    for (spec, found) in &rows {
        let languages = spec.languages().map_or_else(|| "-".to_string(), |l| l.label());
        let (present, place) = match found {
            Some(f) => ("yes", format!("{} ({})", f.path.display(), f.source)),
            None if spec.repo.is_empty() => ("no", "made by scripts/setup.sh (not on Hugging Face)".to_string()),
            None => ("no", format!("downloads from huggingface.co/{}", spec.repo)),
        };
        println!("{:<28} {:>5} MB  {languages:<18} {present:<8} {place}", spec.id, spec.size_mb);
    }
    println!();
    println!(
        "Models are looked for in $VOXMILL_MODELS ({}), then the Hugging Face cache ({}).",
        resolver.models_dir.display(),
        resolver.hf_cache.display()
    );
    println!("Fetch one ahead of time with `voxmill models fetch ID`.");
    Ok(Outcome::Success)
}

/// `voxmill models fetch`: downloads a model into the Hugging Face cache (or confirms it is present).
pub fn fetch(id: &str, mode: Mode) -> Result<Outcome> {
    let resolver = Resolver::from_env(false);
    let bar = (mode == Mode::Human).then(|| {
        let bar = indicatif::ProgressBar::new(0);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} {eta}")
                .expect("valid template")
                .progress_chars("=> "),
        );
        bar.set_message(format!("downloading {id}"));
        bar
    });
    let found = resolver.resolve(id, None, &mut |done, total| {
        if let Some(bar) = &bar {
            if let Some(total) = total {
                bar.set_length(total);
            }
            bar.set_position(done);
        }
    })?;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    match mode {
        Mode::Json => println!("{}", serde_json::json!({"id": id, "path": found.path, "source": found.source})),
        Mode::Quiet => {}
        Mode::Human => println!("{id}: {} ({})", found.path.display(), found.source),
    }
    Ok(Outcome::Success)
}
