//! Stage fingerprints: hash(stage name, stage version, the settings it reads, the recording's content hash, the
//! fingerprints of the stages it depends on). Equal fingerprint → the stored result is still right.

use std::collections::HashMap;

use voxmill_project::hashing::sha256_parts;
use voxmill_project::{Recording, Settings};

use crate::Stage;

/// The fingerprint each stage would have now, for one recording; `stages` must be in dependency order.
pub fn fingerprints(
    stages: &[Box<dyn Stage>],
    settings: &Settings,
    recording: &Recording,
) -> HashMap<&'static str, String> {
    let mut out: HashMap<&'static str, String> = HashMap::new();
    for stage in stages {
        let version = stage.version().to_string();
        let settings_key = stage.settings_key(settings);
        let mut parts: Vec<(&str, &str)> = vec![
            ("stage", stage.name()),
            ("version", &version),
            ("settings", &settings_key),
            ("input", &recording.sha256),
        ];
        let upstream: Vec<(&str, String)> =
            stage.depends_on().iter().map(|d| (*d, out.get(d).cloned().unwrap_or_default())).collect();
        parts.extend(upstream.iter().map(|(d, f)| (*d, f.as_str())));
        out.insert(stage.name(), sha256_parts(parts));
    }
    out
}
