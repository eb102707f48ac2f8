//! `codefuel matrix`, `pairs` and `score` end to end on the shipped example (examples/prefs).

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use common::{codefuel, codefuel_io, lines, ok, repo};
use serde_json::Value;

/// Writes one problem as a problems file in `dir`.
fn one_problem(dir: &Path, problem: Value) -> PathBuf {
    let input = dir.join("p.jsonl");
    std::fs::write(&input, format!("{problem}\n")).unwrap();
    input
}

/// Runs `codefuel matrix -q` on `input`, writing `output`, with `extra` flags.
fn run_matrix(input: &Path, output: &Path, extra: &[&str]) -> Output {
    codefuel_io("matrix", input, output, extra)
}

/// Runs `codefuel matrix` on `input` with a 1 G test limit; returns the output path.
fn matrix(dir: &Path, input: &Path, name: &str, extra: &[&str]) -> PathBuf {
    let output = dir.join(name);
    let mut args = vec!["--test-fuel", "1000000000"];
    args.extend_from_slice(extra);
    ok(&run_matrix(input, &output, &args));
    output
}

/// The statuses of the first code's row, with the matrix built under each isolation mode.
fn first_row_per_isolation(dir: &Path, input: &Path) -> Vec<(&'static str, Vec<String>)> {
    ["module", "fresh"]
        .into_iter()
        .map(|isolation| {
            let m = lines(&matrix(dir, input, "m.jsonl", &["--isolation", isolation]));
            let row = statuses(&m[0]["rows"][0]).into_iter().map(String::from);
            (isolation, row.collect())
        })
        .collect()
}

fn statuses(row: &Value) -> Vec<&str> {
    row["cells"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["status"].as_str().unwrap())
        .collect()
}

#[test]
fn example_matrix_cells_pairs_and_scores() {
    let dir = tempfile::tempdir().unwrap();
    let input = repo().join("examples/prefs/problems.jsonl");
    let path = matrix(dir.path(), &input, "m.jsonl", &[]);
    let m = lines(&path);
    assert_eq!(m.len(), 3);

    // palindrome: the correct codes fail only the wrong test (5); the case-sensitive one also
    // fails 'Racecar'; the syntax error never loads; the endless loop hits the limit on
    // every test that does not skip its loop.
    let pal = &m[0];
    assert_eq!(pal["id"], "palindrome");
    let rows = pal["rows"].as_array().unwrap();
    assert_eq!(
        statuses(&rows[0]),
        ["pass", "pass", "pass", "pass", "pass", "fail"]
    );
    assert_eq!(
        statuses(&rows[2]),
        ["pass", "fail", "pass", "pass", "pass", "fail"]
    );
    assert_eq!(rows[3]["load"]["status"], "syntax_error");
    assert!(statuses(&rows[3]).iter().all(|s| *s == "syntax_error"));
    assert_eq!(
        statuses(&rows[4]),
        [
            "fuel_limit",
            "fuel_limit",
            "fuel_limit",
            "pass",
            "fuel_limit",
            "fuel_limit"
        ]
    );
    assert_eq!(rows[4]["cells"][0]["fuel"], 1_000_000_000u64);
    assert_eq!(
        pal["reference_passes"],
        serde_json::json!([true, true, true, true, true, false])
    );
    // The loop-based palindrome costs more fuel than slicing on the long input.
    let fuel = |row: usize, test: usize| rows[row]["cells"][test]["fuel"].as_u64().unwrap();
    assert!(fuel(1, 4) > 10 * fuel(0, 4));

    // fib: a wrong-typed argument is an error with its type; the memoizing code starts each
    // test from a fresh module, so fib(10) after fib(1) costs what it costs alone.
    let fib = &m[1]["rows"];
    assert_eq!(fib[0]["cells"][6]["status"], "error");
    assert_eq!(fib[0]["cells"][6]["error"], "TypeError");
    assert_eq!(statuses(&fib[2]), statuses(&fib[0]));

    // Same matrix in a fresh sandbox per cell: the same statuses everywhere.
    let fresh = lines(&matrix(
        dir.path(),
        &input,
        "f.jsonl",
        &["--isolation", "fresh"],
    ));
    for (a, b) in m.iter().zip(&fresh) {
        for (ra, rb) in a["rows"]
            .as_array()
            .unwrap()
            .iter()
            .zip(b["rows"].as_array().unwrap())
        {
            assert_eq!(statuses(ra), statuses(rb), "{}", a["id"]);
        }
    }
    // And a second run is byte-identical.
    let again = matrix(dir.path(), &input, "again.jsonl", &[]);
    assert_eq!(
        std::fs::read(&path).unwrap(),
        std::fs::read(&again).unwrap()
    );

    // CodeDPO: the best code against the syntax error, and slicing against the loop.
    let pairs = dir.path().join("pairs.jsonl");
    let summary = ok(&codefuel(&[
        "pairs",
        "--matrix",
        path.to_str().unwrap(),
        "--output",
        pairs.to_str().unwrap(),
    ]));
    assert!(summary.contains("3 correctness, 3 efficiency"), "{summary}");
    let records = lines(&pairs);
    let pal_pairs: Vec<&Value> = records
        .iter()
        .filter(|r| r["metadata"]["id"] == "palindrome")
        .collect();
    assert_eq!(pal_pairs[0]["metadata"]["kind"], "correctness");
    assert_eq!(pal_pairs[0]["metadata"]["chosen_index"], 0);
    assert_eq!(pal_pairs[0]["metadata"]["rejected_index"], 3);
    assert_eq!(pal_pairs[0]["chosen"], pal["codes"][0]);
    assert_eq!(pal_pairs[0]["prompt"], pal["prompt"]);
    assert_eq!(pal_pairs[1]["metadata"]["kind"], "efficiency");
    assert_eq!(pal_pairs[1]["metadata"]["chosen_index"], 0);
    assert_eq!(pal_pairs[1]["metadata"]["rejected_index"], 1);

    // KTO: every paired code once, with a label.
    let kto = dir.path().join("kto.jsonl");
    ok(&codefuel(&[
        "pairs",
        "--matrix",
        path.to_str().unwrap(),
        "--strategy",
        "acecoder",
        "--format",
        "kto",
        "--output",
        kto.to_str().unwrap(),
    ]));
    let kto = lines(&kto);
    assert!(!kto.is_empty());
    assert!(
        kto.iter()
            .all(|r| r["label"].is_boolean() && r["completion"].is_string())
    );

    // Scores: CodeDPO distrusts the wrong test.
    let scores = dir.path().join("scores.jsonl");
    ok(&codefuel(&[
        "score",
        "--matrix",
        path.to_str().unwrap(),
        "--output",
        scores.to_str().unwrap(),
    ]));
    let scores = lines(&scores);
    assert_eq!(scores[0]["tests"][5]["trusted"], false);
    assert_eq!(scores[0]["tests"][0]["trusted"], true);
}

#[test]
fn tests_do_not_see_each_others_module_state() {
    let dir = tempfile::tempdir().unwrap();
    let input = one_problem(
        dir.path(),
        serde_json::json!({
            "id": "state",
            "prompt": "count calls",
            "codes": ["seen = []\n\ndef f(x):\n    seen.append(x)\n    return len(seen)\n"],
            "tests": ["assert f(1) == 1", "assert f(2) == 1", "seen.append(0)\nassert len(seen) == 1"],
        }),
    );
    for (isolation, row) in first_row_per_isolation(dir.path(), &input) {
        assert_eq!(row, ["pass", "pass", "pass"], "{isolation}");
    }
}

#[test]
fn bad_problem_lines_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("p.jsonl");
    std::fs::write(
        &input,
        "{\"id\": \"a\", \"prompt\": \"\", \"codes\": [], \"tests\": []}\n{\"id\": \"b\", \"codes\": 3}\n",
    )
    .unwrap();
    let output = dir.path().join("m.jsonl");
    let out = run_matrix(&input, &output, &[]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("p.jsonl:2:"), "{stderr}");
    // A failed run leaves no output file behind.
    assert!(!output.exists());

    let out = codefuel(&[
        "pairs",
        "--matrix",
        input.to_str().unwrap(),
        "--output",
        dir.path().join("x.jsonl").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("p.jsonl:1:"));
}

#[test]
fn forging_driver_records_only_costs_the_code_or_test_that_tries() {
    let dir = tempfile::tempdir().unwrap();
    let input = one_problem(
        dir.path(),
        serde_json::json!({
            "id": "forge",
            "prompt": "f",
            "codes": [
                // Records no longer exist: the attempt fails the code's own load.
                "import _codefuel, os\n_codefuel.emit('done', b'')\nos._exit(0)\n",
                "def f(x):\n    return x\n",
            ],
            "tests": [
                "assert f(1) == 1",
                "import _codefuel\n_codefuel.emit('cell', b'garbage')\nassert f(2) == 2",
                // Ends the process inside a test.
                "import os\nos._exit(0)",
                "assert f(3) == 3",
            ],
        }),
    );
    for isolation in ["module", "fresh"] {
        let m = lines(&matrix(
            dir.path(),
            &input,
            "m.jsonl",
            &["--isolation", isolation],
        ));
        let rows = &m[0]["rows"];
        assert_eq!(rows[0]["load"]["status"], "error", "{isolation}");
        assert_eq!(rows[0]["load"]["error"], "AttributeError", "{isolation}");
        assert_eq!(statuses(&rows[0]), ["error"; 4], "{isolation}");
        // The test that ends the process crashes its own cell; the next test still runs.
        assert_eq!(
            statuses(&rows[1]),
            ["pass", "error", "crash", "pass"],
            "{isolation}"
        );
    }
}

#[test]
fn a_problem_without_tests_is_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let input = one_problem(
        dir.path(),
        serde_json::json!({"id": "lonely", "prompt": "", "codes": ["x = 1"], "tests": []}),
    );
    let output = dir.path().join("m.jsonl");
    let out = run_matrix(&input, &output, &[]);
    ok(&out);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("warning: problem \"lonely\" has 1 codes and 0 tests"),
        "{stderr}"
    );
    let m = lines(&output);
    assert_eq!(m[0]["rows"][0]["load"]["status"], "pass");
}

#[test]
fn the_memory_cap_is_a_cell_status() {
    let dir = tempfile::tempdir().unwrap();
    let input = one_problem(
        dir.path(),
        serde_json::json!({
            "id": "memory",
            "prompt": "f",
            "codes": ["def f(x):\n    return x\n"],
            "tests": ["blob = bytearray(300 * 1024 * 1024)", "assert f(1) == 1"],
        }),
    );
    let m = lines(&matrix(dir.path(), &input, "m.jsonl", &["--memory", "128"]));
    assert_eq!(statuses(&m[0]["rows"][0]), ["memory", "pass"]);
}

#[test]
fn cells_after_the_problem_budget_are_skipped_but_repeated_codes_are_copied() {
    let dir = tempfile::tempdir().unwrap();
    let ok = "def f(x):\n    return x\n";
    let input = one_problem(
        dir.path(),
        serde_json::json!({
            "id": "budget",
            "prompt": "f",
            "codes": [
                ok,
                "def f(x):\n    while True:\n        pass\n",
                "def f(x):\n    return x + 0\n",
                ok,
            ],
            "tests": ["assert f(1) == 1", "assert f(2) == 2"],
        }),
    );
    // The hang spends the rest of the 1 G budget: nothing after it runs. The repeat of the
    // first code still has its row, because it is copied, not run.
    let m = lines(&matrix(
        dir.path(),
        &input,
        "m.jsonl",
        &["--problem-fuel", "1000000000"],
    ));
    let rows = &m[0]["rows"];
    assert_eq!(statuses(&rows[0]), ["pass", "pass"]);
    assert_eq!(statuses(&rows[1]), ["fuel_limit", "skipped"]);
    assert_eq!(statuses(&rows[2]), ["skipped", "skipped"]);
    assert_eq!(rows[2]["load"]["status"], "skipped");
    assert_eq!(rows[3], rows[0]);
}
