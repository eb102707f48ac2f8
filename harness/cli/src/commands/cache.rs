//! `codefuel cache`: what the cache directory holds, and deleting what this build cannot use.
//!
//! Two kinds of entries are tied to one guest build: compiled guests
//! (`python-<guest>-wasmtime<version>-<config>.cwasm`) and ground-truth directories
//! (`groundtruth/<dataset>-<content>-<guest>`), where `<guest>` is the first 16 hex digits of
//! the guest's SHA-256. Entries of guest builds this binary does not embed (RustPython, and
//! CPython in a `--features cpython` build) are stale: this build never reads them.
//! Everything else (downloaded datasets) is listed as kept and never deleted.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use codefuel::runtime::{GuestKind, default_cache_dir};

/// Flags of `codefuel cache`.
#[derive(Clone, Debug, clap::Args)]
pub struct CacheArgs {
    /// Delete the stale entries (those of other guest builds).
    #[arg(long)]
    pub prune: bool,
    /// Cache directory [default: $CODEFUEL_CACHE_DIR or ~/.cache/codefuel].
    #[arg(long, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
}

/// What an entry of the cache is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    CompiledGuest,
    GroundTruth,
    Other,
}

/// One file or directory of the cache.
struct Entry {
    kind: Kind,
    path: PathBuf,
    bytes: u64,
    stale: bool,
}

/// Runs the command; returns the process exit status.
pub fn execute(args: &CacheArgs) -> Result<i32> {
    let dir = args.cache_dir.clone().unwrap_or_else(default_cache_dir);
    let guests: Vec<&str> = [GuestKind::RustPython, GuestKind::CPython]
        .into_iter()
        .filter_map(|guest| guest.sha256().map(|sha256| &sha256[..16]))
        .collect();
    println!(
        "cache: {} (this build's guests: {})",
        dir.display(),
        guests.join(", ")
    );
    if !dir.exists() {
        println!("empty: nothing cached yet");
        return Ok(0);
    }
    let entries = entries(&dir, &guests)?;
    let mut rows: Vec<(String, &str, String, &str)> = Vec::new();
    for e in &entries {
        let name = e.path.strip_prefix(&dir).unwrap_or(&e.path).display();
        let kind = match e.kind {
            Kind::CompiledGuest => "compiled guest",
            Kind::GroundTruth => "ground truth",
            Kind::Other => "other",
        };
        let state = match (e.stale, e.kind) {
            (true, _) => "stale (another guest build)",
            (false, Kind::Other) => "kept",
            (false, _) => "in use",
        };
        rows.push((name.to_string(), kind, human_bytes(e.bytes), state));
    }
    let width = rows.iter().map(|r| r.0.len()).max().unwrap_or(0);
    for (name, kind, size, state) in &rows {
        println!("  {kind:<14} {name:<width$} {size:>9}  {state}");
    }
    let stale: Vec<&Entry> = entries.iter().filter(|e| e.stale).collect();
    let stale_bytes: u64 = stale.iter().map(|e| e.bytes).sum();
    let kept_bytes: u64 = entries.iter().filter(|e| !e.stale).map(|e| e.bytes).sum();
    if !args.prune {
        println!(
            "kept {}; stale {} in {} entries{}",
            human_bytes(kept_bytes),
            human_bytes(stale_bytes),
            stale.len(),
            if stale.is_empty() {
                ""
            } else {
                " (`codefuel cache --prune` deletes them)"
            }
        );
        return Ok(0);
    }
    for e in &stale {
        let removed = if e.path.is_dir() {
            std::fs::remove_dir_all(&e.path)
        } else {
            std::fs::remove_file(&e.path)
        };
        removed.with_context(|| format!("cannot delete {}", e.path.display()))?;
    }
    println!(
        "deleted {} stale entries ({}); kept {}",
        stale.len(),
        human_bytes(stale_bytes),
        human_bytes(kept_bytes)
    );
    Ok(0)
}

/// The cache's entries: files at the top, ground-truth directories one level down, and any
/// other directory as a whole. Sorted by path.
fn entries(dir: &Path, guests: &[&str]) -> Result<Vec<Entry>> {
    let mut out = Vec::new();
    for item in read_dir_sorted(dir)? {
        let name = item.file_name().unwrap_or_default().to_string_lossy();
        if item.is_dir() && name == "groundtruth" {
            for gt in read_dir_sorted(&item)? {
                let gt_name = gt.file_name().unwrap_or_default().to_string_lossy();
                out.push(Entry {
                    kind: Kind::GroundTruth,
                    stale: !guests
                        .iter()
                        .any(|guest| gt_name.ends_with(&format!("-{guest}"))),
                    bytes: size_of(&gt),
                    path: gt,
                });
            }
        } else if name.starts_with("python-") && name.ends_with(".cwasm") {
            out.push(Entry {
                kind: Kind::CompiledGuest,
                stale: !guests
                    .iter()
                    .any(|guest| name.starts_with(&format!("python-{guest}-"))),
                bytes: size_of(&item),
                path: item,
            });
        } else {
            out.push(Entry {
                kind: Kind::Other,
                stale: false,
                bytes: size_of(&item),
                path: item,
            });
        }
    }
    Ok(out)
}

fn read_dir_sorted(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut paths = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read {}", dir.display()))?
        .map(|e| e.map(|e| e.path()))
        .collect::<std::io::Result<Vec<_>>>()
        .with_context(|| format!("cannot read {}", dir.display()))?;
    paths.sort();
    Ok(paths)
}

/// Bytes under `path` (a file, or a directory's files recursively); unreadable parts count 0.
fn size_of(path: &Path) -> u64 {
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return 0;
    };
    if !meta.is_dir() {
        return meta.len();
    }
    std::fs::read_dir(path)
        .map(|items| items.flatten().map(|e| size_of(&e.path())).sum())
        .unwrap_or(0)
}

/// `bytes` in B, kB, MB or GB (powers of 1000), one decimal.
fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["B", "kB", "MB", "GB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit + 1 < UNITS.len() {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}
