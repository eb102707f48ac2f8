//! On-disk cache of the compiled, pre-initialized guest.
//!
//! Keyed by the guest's SHA-256, the wasmtime version and the engine's compilation settings,
//! so only the first run on a machine pays for snapshotting and Cranelift (~30 s); later
//! processes map the cached artifact in milliseconds.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use wasmtime::{Engine, Module};

/// Where compiled guests are kept: `$CODEFUEL_CACHE_DIR`, else `$XDG_CACHE_HOME/codefuel`,
/// else `~/.cache/codefuel`, else a directory under the system temp dir.
pub fn default_cache_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("CODEFUEL_CACHE_DIR") {
        return PathBuf::from(dir);
    }
    if let Some(dir) = std::env::var_os("XDG_CACHE_HOME") {
        return PathBuf::from(dir).join("codefuel");
    }
    if let Some(home) = std::env::var_os("HOME") {
        return PathBuf::from(home).join(".cache").join("codefuel");
    }
    std::env::temp_dir().join("codefuel-cache")
}

/// File name of the compiled guest for this guest build and engine configuration.
pub(crate) fn artifact_name(engine: &Engine, guest_sha256: &str) -> String {
    let mut hasher = DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut hasher);
    format!(
        "python-{}-wasmtime{}-{:016x}.cwasm",
        &guest_sha256[..16],
        WASMTIME_VERSION,
        hasher.finish()
    )
}

/// The wasmtime version the runtime is built against (part of the cache key).
pub(crate) const WASMTIME_VERSION: &str = "50.0.1";

/// Loads the module from `dir/name`, or builds, serializes and stores it.
pub(crate) fn load_or_build(
    engine: &Engine,
    dir: &Path,
    name: &str,
    build: impl FnOnce() -> Result<Vec<u8>>,
) -> Result<Module> {
    let path = dir.join(name);
    if path.exists() {
        // SAFETY: the file was written by `Module::serialize` of this same engine
        // configuration (the name encodes it); wasmtime also checks its header.
        match unsafe { Module::deserialize_file(engine, &path) } {
            Ok(module) => return Ok(module),
            Err(_) => {
                // Stale or damaged: rebuild below and overwrite.
            }
        }
    }
    let wasm = build()?;
    let module = Module::new(engine, &wasm)
        .map_err(anyhow::Error::from)
        .context("compiling the guest snapshot")?;
    let bytes = module.serialize()?;
    store_atomically(dir, &path, &bytes)
        .with_context(|| format!("writing the compiled guest to {}", path.display()))?;
    // Reload from the file so the module's memory image is file-backed (copy-on-write).
    // SAFETY: as above, the file was just written by this engine.
    match unsafe { Module::deserialize_file(engine, &path) } {
        Ok(module) => Ok(module),
        Err(_) => Ok(module),
    }
}

fn store_atomically(dir: &Path, path: &Path, bytes: &[u8]) -> Result<()> {
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(format!(
        ".{}.{}.tmp",
        path.file_name().unwrap().to_string_lossy(),
        std::process::id()
    ));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)?;
    Ok(())
}
