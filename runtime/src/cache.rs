//! On-disk cache of the compiled, pre-initialized guest, and the rules every cache directory
//! of codefuel follows.
//!
//! Keyed by the guest's SHA-256, the wasmtime version and the engine's compilation settings,
//! so only the first run on a machine pays for snapshotting and Cranelift (~30 s); later
//! processes map the cached artifact in milliseconds. A compiled guest is native code that is
//! mapped and run, so it is trusted only from a directory that belongs to this user and that
//! no one else can write ([`prepare_cache_dir`]), and only when its SHA-256 matches the one
//! written beside it; anything else is rebuilt.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use wasmtime::{Engine, Module};

use crate::error::{Error, Result};

/// Where compiled guests are kept: `$CODEFUEL_CACHE_DIR`, else `$XDG_CACHE_HOME/codefuel`,
/// else `~/.cache/codefuel`, else (no `HOME`) a directory of this user's own under the system
/// temp dir, `codefuel-cache-<uid>` (never one shared by all users; [`prepare_cache_dir`]
/// refuses it if someone else made it first).
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
    std::env::temp_dir().join(format!("codefuel-cache-{}", current_uid()))
}

/// The real user id of this process.
fn current_uid() -> u32 {
    // SAFETY: getuid(2) takes no arguments, touches no memory of ours, is always successful
    // and is async-signal-safe: there is no precondition to uphold.
    unsafe { libc::getuid() }
}

/// Creates `dir` (and its parents) if needed, a new directory with mode 0700, and checks that
/// it can be trusted: owned by this user and not writable by group or others. A cache that
/// someone else can write could plant a compiled guest (native code) or forged expected
/// outputs, so such a directory is refused ([`Error::CacheDirNotOwned`],
/// [`Error::CacheDirWritable`]) with a message saying how to fix it.
pub fn prepare_cache_dir(dir: &Path) -> Result<()> {
    use std::os::unix::fs::{DirBuilderExt, MetadataExt};
    let io_error = |operation| {
        move |source| Error::CacheIo {
            operation,
            path: dir.to_owned(),
            source,
        }
    };
    if !dir.exists() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(io_error("create the cache directory"))?;
    }
    let meta = std::fs::metadata(dir).map_err(io_error("read the cache directory"))?;
    let path = dir.to_owned();
    if !meta.is_dir() {
        return Err(Error::CacheNotADirectory { path });
    }
    let uid = current_uid();
    if meta.uid() != uid {
        return Err(Error::CacheDirNotOwned {
            path,
            owner: meta.uid(),
            uid,
        });
    }
    if meta.mode() & 0o022 != 0 {
        return Err(Error::CacheDirWritable {
            path,
            mode: meta.mode() & 0o7777,
        });
    }
    Ok(())
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
    prepare_cache_dir(dir)?;
    let path = dir.join(name);
    let digest_path = dir.join(format!("{name}.sha256"));
    if path.exists() && digest_matches(&path, &digest_path) {
        // SAFETY: `deserialize_file` maps the file and runs its native code, so the file must
        // be one `Module::serialize` wrote for a compatible engine and not changed since.
        // It is: its name encodes the guest's hash, the wasmtime version and this engine's
        // compatibility hash; it lies in a directory `prepare_cache_dir` checked belongs to
        // this user and no one else can write; and its SHA-256 is the one recorded when this
        // runtime wrote it. wasmtime also checks its header against the engine.
        if let Ok(module) = unsafe { Module::deserialize_file(engine, &path) } {
            return Ok(module);
        }
        // Stale or damaged: rebuild below and overwrite.
    }
    let wasm = build()?;
    let module = Module::new(engine, &wasm).map_err(Error::guest("compiling the snapshot"))?;
    let bytes = module
        .serialize()
        .map_err(Error::guest("serializing the compiled guest"))?;
    let write_error = |operation, path: &Path| {
        let path = path.to_owned();
        move |source| Error::CacheIo {
            operation,
            path,
            source,
        }
    };
    write_atomically(dir, &path, &bytes)
        .map_err(write_error("write the compiled guest to", &path))?;
    write_atomically(
        dir,
        &digest_path,
        hex::encode(Sha256::digest(&bytes)).as_bytes(),
    )
    .map_err(write_error(
        "write the compiled guest's digest to",
        &digest_path,
    ))?;
    // Reload from the file so the module's memory image is file-backed (copy-on-write).
    // SAFETY: as above: `module.serialize()` of this engine wrote this file just now, into
    // the same private directory, and nothing else writes there.
    match unsafe { Module::deserialize_file(engine, &path) } {
        Ok(module) => Ok(module),
        Err(_) => Ok(module),
    }
}

/// Whether the file at `path` hashes to the hex SHA-256 stored at `digest_path`.
fn digest_matches(path: &Path, digest_path: &Path) -> bool {
    let (Ok(bytes), Ok(digest)) = (std::fs::read(path), std::fs::read_to_string(digest_path))
    else {
        return false;
    };
    hex::encode(Sha256::digest(&bytes)) == digest.trim()
}

/// Writes `bytes` to `path` (in `dir`) through a temporary file and a rename, so readers see
/// the old file or the whole new one, never a part. Concurrent writers of the same path (other
/// processes, or other threads of this one) each use their own temporary file; the last
/// rename wins.
pub fn write_atomically(dir: &Path, path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    static WRITES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let name = path
        .file_name()
        .map_or_else(|| "file".into(), |n| n.to_string_lossy());
    let n = WRITES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tmp = dir.join(format!(".{name}.{}.{n}.tmp", std::process::id()));
    let written = std::fs::write(&tmp, bytes).and_then(|()| std::fs::rename(&tmp, path));
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

#[cfg(test)]
mod tests {
    #[test]
    fn threads_writing_one_path_do_not_trip_over_each_other() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("shared.bin");
        std::thread::scope(|scope| {
            for t in 0..8u8 {
                let (dir, path) = (dir.path(), &path);
                scope.spawn(move || {
                    for _ in 0..50 {
                        super::write_atomically(dir, path, &[t; 4096]).unwrap();
                    }
                });
            }
        });
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(bytes.len(), 4096);
        assert!(
            bytes.iter().all(|&b| b == bytes[0]),
            "one writer's whole file"
        );
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(left.len(), 1, "no temporary file left behind");
    }

    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn a_new_cache_directory_is_private() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("a/b/codefuel");
        prepare_cache_dir(&dir).unwrap();
        let mode = std::fs::metadata(&dir).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
        // Existing and private: accepted again.
        prepare_cache_dir(&dir).unwrap();
    }

    #[test]
    fn a_cache_directory_others_can_write_is_refused() {
        let root = tempfile::tempdir().unwrap();
        for mode in [0o777, 0o770, 0o1777] {
            std::fs::set_permissions(root.path(), std::fs::Permissions::from_mode(mode)).unwrap();
            let error = prepare_cache_dir(root.path()).unwrap_err().to_string();
            assert!(error.contains("writable by group or others"), "{error}");
        }
        let file = root.path().join("file");
        std::fs::write(&file, b"").unwrap();
        std::fs::set_permissions(root.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
        assert!(
            prepare_cache_dir(&file).is_err(),
            "a file is no cache directory"
        );
    }

    #[test]
    fn a_cache_directory_of_another_user_is_refused() {
        if current_uid() != 0 {
            return; // Only root can give a directory away; CI runs as root.
        }
        let root = tempfile::tempdir().unwrap();
        std::os::unix::fs::chown(root.path(), Some(65534), None).unwrap();
        let error = prepare_cache_dir(root.path()).unwrap_err().to_string();
        assert!(error.contains("belongs to user 65534"), "{error}");
    }

    #[test]
    fn a_compiled_guest_is_used_only_with_its_recorded_digest() {
        let root = tempfile::tempdir().unwrap();
        let (path, digest) = (
            root.path().join("g.cwasm"),
            root.path().join("g.cwasm.sha256"),
        );
        write_atomically(root.path(), &path, b"compiled").unwrap();
        assert!(!digest_matches(&path, &digest), "no digest");
        write_atomically(
            root.path(),
            &digest,
            hex::encode(Sha256::digest(b"compiled")).as_bytes(),
        )
        .unwrap();
        assert!(digest_matches(&path, &digest));
        std::fs::write(&path, b"compiles").unwrap();
        assert!(!digest_matches(&path, &digest), "damaged");
        std::fs::write(&path, b"comp").unwrap();
        assert!(!digest_matches(&path, &digest), "truncated");
    }
}
