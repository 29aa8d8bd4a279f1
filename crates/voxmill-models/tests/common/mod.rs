//! What the model tests share: skipping (or failing, under `VOXMILL_REQUIRE_MODELS=1`) when something the machine
//! lacks is needed, and the python3 that generates small models and runs the numpy references.

use std::process::Command;

/// Reports a missing prerequisite: a panic when `VOXMILL_REQUIRE_MODELS=1` (as `make test` sets), else a notice.
pub fn skip(why: &str) {
    if std::env::var("VOXMILL_REQUIRE_MODELS").is_ok_and(|v| v == "1") {
        panic!("{why}");
    }
    eprintln!("NOTICE: {why}; skipping this test (run scripts/setup.sh)");
}

/// The python interpreter: `VOXMILL_PYTHON`, else `python3`.
pub fn python() -> String {
    std::env::var("VOXMILL_PYTHON").unwrap_or_else(|_| "python3".into())
}

/// Whether python can import every module named (comma-separated), reporting it when not.
pub fn have_python(modules: &str) -> bool {
    let ok =
        Command::new(python()).args(["-c", &format!("import {modules}")]).output().is_ok_and(|o| o.status.success());
    if !ok {
        skip(&format!("{} cannot import {modules}", python()));
    }
    ok
}
