use std::path::Path;

use anyhow::Result;
use voxmill_project::{Project, SourceMeta};

use super::Outcome;
use crate::format::hms;
use crate::mode::Mode;

/// `voxmill sources`: where each recording came from and under which licence.
pub fn sources(project_dir: &Path, licence: Option<&str>, mode: Mode) -> Result<Outcome> {
    let project = Project::open(project_dir)?;
    let metas = project.catalog.all_recording_sources()?;
    let mut shown = 0usize;
    for rec in project.catalog.recordings()? {
        let meta = metas.get(&rec.id).cloned().unwrap_or_default();
        if let Some(want) = licence {
            let has = meta.licence.as_deref().unwrap_or("none");
            if !has.eq_ignore_ascii_case(want) {
                continue;
            }
        }
        shown += 1;
        if mode == Mode::Json {
            let mut v = source_json(&meta);
            v["recording"] = serde_json::json!(rec.name);
            v["source"] = serde_json::json!(rec.source_path);
            v["duration_secs"] = serde_json::json!(rec.duration_secs);
            println!("{v}");
            continue;
        }
        println!("{} ({})", rec.name, hms(rec.duration_secs));
        println!("  from:     {}", meta.url.as_deref().unwrap_or(&rec.source_path));
        let fields = [
            ("title", meta.title.as_deref()),
            ("author", meta.author.as_deref()),
            ("date", meta.published.as_deref()),
            ("licence", Some(meta.licence.as_deref().unwrap_or("not stated"))),
            ("page", meta.page_url.as_deref()),
            ("feed", meta.feed_url.as_deref()),
            ("transcript", meta.transcript_path.as_deref()),
        ];
        for (k, v) in fields {
            if let Some(v) = v {
                println!("  {:<9} {v}", format!("{k}:"));
            }
        }
        if !meta.persons.is_empty() {
            println!("  people:   {}", meta.persons.join(", "));
        }
    }
    if mode == Mode::Human && shown == 0 {
        match licence {
            Some(l) => println!("No recordings under licence {l}."),
            None => println!("No recordings yet."),
        }
    }
    Ok(Outcome::Success)
}

/// The source fields of a recording as JSON (shared with `status --json`).
pub fn source_json(meta: &SourceMeta) -> serde_json::Value {
    serde_json::json!({
        "url": meta.url, "page_url": meta.page_url, "title": meta.title, "author": meta.author,
        "published": meta.published, "licence": meta.licence, "feed": meta.feed_url, "guid": meta.guid,
        "persons": meta.persons, "transcript": meta.transcript_path, "via": meta.via,
    })
}
