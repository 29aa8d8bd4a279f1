//! Links CTranslate2. With `ct2-prebuilt` (the default) it links the shared library that `scripts/setup.sh`
//! unpacked from the ctranslate2 PyPI wheel, gives this crate's tests a run-time path to it, and hands its folder
//! to the crates that depend on this one (`DEP_VOXMILL_CTRANSLATE2_LIB_DIR`), whose binaries need the same path.
//! The source builds (`ct2-source`, `mkl`, `cuda`) are ct2rs's own and need nothing here.

use std::env;
use std::path::PathBuf;

/// The wheel the library comes from; its headers are the ones ct2rs 0.10.3 compiles its bridge against.
const CT2_VERSION: &str = "4.8.4";

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=VOXMILL_CT2_LIB_DIR");
    println!("cargo:rerun-if-env-changed=VOXMILL_HOME");
    let prebuilt = env::var_os("CARGO_FEATURE_CT2_PREBUILT").is_some();
    let source = env::var_os("CARGO_FEATURE_CT2_SOURCE").is_some();
    if prebuilt && source {
        fail(
            "the features `ct2-prebuilt` (the default) and `ct2-source` / `mkl` / `cuda` exclude each other: \
             build a source variant with `--no-default-features --features voxmill/mkl` (or `make CT2=mkl`)",
        );
    }
    if !prebuilt && !source {
        fail(
            "no CTranslate2 build chosen: enable `ct2-prebuilt` (default) or `ct2-source` / `mkl` / `cuda` on \
             voxmill-asr",
        );
    }
    println!("cargo:rerun-if-env-changed=CMAKE_LIBRARY_PATH");
    if !prebuilt {
        let stubs = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets it")).join("link-stubs");
        if env::split_paths(&env::var_os("CMAKE_LIBRARY_PATH").unwrap_or_default()).any(|p| p == stubs) {
            fail(
                "a source build of CTranslate2 must not see the empty archives of link-stubs: set \
                 CMAKE_LIBRARY_PATH= (empty) when building it, as `make CT2=mkl` and `make CT2=ruy` do",
            );
        }
        return;
    }
    if env::var("CARGO_CFG_TARGET_OS").as_deref() != Ok("linux")
        || env::var("CARGO_CFG_TARGET_ARCH").as_deref() != Ok("x86_64")
    {
        fail(
            "the prebuilt CTranslate2 library exists for x86-64 Linux only: build with \
             `--no-default-features --features voxmill/ct2-source` here",
        );
    }
    let dir = lib_dir();
    if !dir.join("libctranslate2.so").exists() {
        fail(&format!(
            "{} has no libctranslate2.so: run `make setup` (scripts/setup.sh unpacks it from the ctranslate2 \
             {CT2_VERSION} wheel), or point VOXMILL_CT2_LIB_DIR at a folder holding libctranslate2.so {CT2_VERSION}",
            dir.display()
        ));
    }
    // ct2rs's `system` link line also names cpu_features and cudart_static, which the shared library contains:
    // the empty archives in link-stubs stand in, found through CMAKE_LIBRARY_PATH (.cargo/config.toml).
    let stubs = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets it")).join("link-stubs");
    if !env::split_paths(&env::var_os("CMAKE_LIBRARY_PATH").unwrap_or_default()).any(|p| p == stubs) {
        fail(&format!(
            "CMAKE_LIBRARY_PATH must name {} for the prebuilt CTranslate2 build (.cargo/config.toml sets it unless \
             CMAKE_LIBRARY_PATH is already set: unset it, or add that folder)",
            stubs.display()
        ));
    }
    println!("cargo:rustc-link-search=native={}", dir.display());
    println!("cargo:rustc-link-arg=-Wl,-rpath,{}", dir.display());
    println!("cargo:lib_dir={}", dir.display());
}

fn lib_dir() -> PathBuf {
    if let Some(dir) = env::var_os("VOXMILL_CT2_LIB_DIR") {
        return PathBuf::from(dir);
    }
    let home = env::var_os("VOXMILL_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env::var_os("HOME").unwrap_or_default()).join(".local/share/voxmill"));
    home.join("ctranslate2").join(CT2_VERSION)
}

fn fail(message: &str) -> ! {
    eprintln!("error: {message}");
    std::process::exit(1);
}
