//! Helpers shared by the CLI integration tests: the repository root, running the binary,
//! and reading its JSONL output.

#![allow(dead_code)] // Each test binary uses its own subset.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The guest the code-running tests use: `CODEFUEL_TEST_GUEST` (`rustpython`, the default, or
/// `cpython` in a `--features cpython` build), so both guests pass the same attack tests.
pub fn guest() -> &'static str {
    match std::env::var("CODEFUEL_TEST_GUEST").as_deref() {
        Ok("cpython") => "cpython",
        Ok("rustpython") | Ok("") | Err(_) => "rustpython",
        Ok(other) => panic!("CODEFUEL_TEST_GUEST={other}: expected rustpython or cpython"),
    }
}

/// Runs `codefuel` with `args`.
pub fn codefuel(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_codefuel"))
        .args(args)
        .output()
        .unwrap()
}

/// Runs `codefuel COMMAND -q --input INPUT --output OUTPUT EXTRA..` (matrix, judge).
pub fn codefuel_io(command: &str, input: &Path, output: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        command,
        "-q",
        "--input",
        input.to_str().unwrap(),
        "--output",
        output.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    codefuel(&args)
}

/// The stdout of a run that must have succeeded (both streams shown when it did not).
pub fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "stdout: {}\nstderr: {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

/// The JSON values of a JSONL file, one per line.
pub fn lines(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}
