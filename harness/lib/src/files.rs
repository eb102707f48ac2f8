//! Reading and writing the user's files: JSONL in and out, and atomic writes (one
//! implementation, [`codefuel_runtime::write_atomically`], behind all of them).

use std::path::Path;

use anyhow::{Context, Result};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::bad_input;

/// Writes `bytes` to `path` atomically (a reader sees the old file or the new one, never
/// half), creating its folder first.
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = match path.parent().filter(|p| !p.as_os_str().is_empty()) {
        Some(dir) => {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create the folder {}", dir.display()))?;
            dir
        }
        None => Path::new("."),
    };
    codefuel_runtime::write_atomically(dir, path, bytes)
        .with_context(|| format!("cannot write {}", path.display()))
}

/// Writes one JSON line per record to `path` (see [`write_file`]).
pub fn write_jsonl<T: Serialize>(path: &Path, records: &[T]) -> Result<()> {
    let mut out = Vec::new();
    for r in records {
        serde_json::to_writer(&mut out, r)?;
        out.push(b'\n');
    }
    write_file(path, &out)
}

/// Writes pretty-printed JSON and a newline to `path` (see [`write_file`]).
pub fn write_json_pretty<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    let mut text = serde_json::to_vec_pretty(value)?;
    text.push(b'\n');
    write_file(path, &text)
}

/// Reads a JSONL file of `T`, skipping blank lines. A line that is not a `T` is an input
/// error naming `file:line` and `what` a line should be.
pub fn read_jsonl<T: DeserializeOwned>(path: &Path, what: &str) -> Result<Vec<(usize, T)>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let value = serde_json::from_str(line)
            .map_err(|e| bad_input(format!("{}:{}: {what} ({e})", path.display(), n + 1)))?;
        out.push((n + 1, value));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jsonl_round_trip_and_errors_name_the_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/x.jsonl");
        write_jsonl(&path, &[1, 2, 3]).unwrap();
        let back: Vec<(usize, u32)> = read_jsonl(&path, "a number").unwrap();
        assert_eq!(back, [(1, 1), (2, 2), (3, 3)]);
        std::fs::write(&path, "1\n\nnope\n").unwrap();
        let e = read_jsonl::<u32>(&path, "not a number").unwrap_err();
        let e = crate::Error::from_anyhow(e);
        assert!(e.is_input());
        assert!(e.to_string().contains("x.jsonl:3: not a number"), "{e}");
    }
}
