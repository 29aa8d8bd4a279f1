//! Gives this crate's tests the run-time path to the prebuilt CTranslate2 library that voxmill-asr links.

fn main() {
    println!("cargo:rerun-if-env-changed=DEP_VOXMILL_CTRANSLATE2_LIB_DIR");
    if let Ok(dir) = std::env::var("DEP_VOXMILL_CTRANSLATE2_LIB_DIR") {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{dir}");
    }
}
