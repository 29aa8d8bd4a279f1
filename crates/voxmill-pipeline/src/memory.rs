//! Giving freed memory back to the system between stages. glibc keeps the memory a stage freed (model
//! activations, decoded audio) in its heaps for reuse, so the process kept the high-water mark of every stage so
//! far: on 30 minutes of speech, transcription left ~460 MB resident that diarization then added to, and the
//! DNSMOS models added to both (1.5 GB peak). `malloc_trim` returns the free heap pages.

/// Returns free heap memory to the system (glibc on Linux; elsewhere the allocator's own policy applies).
pub fn return_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases free memory of the allocator's heaps; it has no preconditions.
    unsafe {
        libc::malloc_trim(0);
    }
}
