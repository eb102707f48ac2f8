//! `codefuel speedup` and `codefuel profile` on the demo problem set with samples whose
//! relative speed is known by design (examples/speedup).

mod common;

use std::path::{Path, PathBuf};

use common::{codefuel, ok, repo};
use serde_json::Value;

/// Copies the example samples into `dir` (results are written next to them).
fn samples(dir: &Path) -> (PathBuf, PathBuf) {
    let copy = |name: &str| {
        let to = dir.join(name);
        std::fs::copy(repo().join("examples/speedup").join(name), &to).unwrap();
        to
    };
    (copy("baseline.jsonl"), copy("candidate.jsonl"))
}

#[test]
fn speedup_finds_the_faster_candidate_and_repeats_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let (baseline, candidate) = samples(dir.path());
    let problems = repo().join("examples/demo/problems.jsonl");
    let run = |report: &str, plot: &str| {
        codefuel(&[
            "speedup",
            "-q",
            "--dataset-file",
            problems.to_str().unwrap(),
            "--baseline",
            baseline.to_str().unwrap(),
            "--candidate",
            candidate.to_str().unwrap(),
            "--output",
            dir.path().join(report).to_str().unwrap(),
            "--plot",
            dir.path().join(plot).to_str().unwrap(),
        ])
    };
    let first = run("r1.json", "p1.svg");
    ok(&first);
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("r1.json")).unwrap())
            .unwrap();
    // Demo/0's candidate is wrong: only Demo/1..3 are in the intersection.
    let tasks: Vec<&str> = report["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["task_id"].as_str().unwrap())
        .collect();
    assert_eq!(tasks, ["Demo/1", "Demo/2", "Demo/3"]);
    let speedup = |i: usize| report["tasks"][i]["speedup"].as_f64().unwrap();
    // sum() against a Python loop: the candidate is slower.
    assert!(speedup(0) < 1.0 / 1.1, "{}", speedup(0));
    // A sieve against trial division, a set against list membership: much faster.
    assert!(speedup(1) > 5.0, "{}", speedup(1));
    assert!(speedup(2) > 1.1, "{}", speedup(2));
    let summary = &report["summary"];
    assert_eq!(summary["tasks"], 3);
    assert!((summary["share_faster_10pct"].as_f64().unwrap() - 2.0 / 3.0).abs() < 1e-12);
    assert!((summary["share_slower_10pct"].as_f64().unwrap() - 1.0 / 3.0).abs() < 1e-12);
    let mean = summary["mean"].as_f64().unwrap();
    assert!((mean - (speedup(0) + speedup(1) + speedup(2)) / 3.0).abs() < 1e-9);
    let ci = summary["mean_ci95"].as_array().unwrap();
    assert!(ci[0].as_f64().unwrap() <= mean && mean <= ci[1].as_f64().unwrap());
    assert!(
        std::fs::read_to_string(dir.path().join("p1.svg"))
            .unwrap()
            .starts_with("<svg")
    );

    // The second run reuses the evaluation results and writes identical bytes.
    let second = run("r2.json", "p2.svg");
    ok(&second);
    assert!(String::from_utf8_lossy(&second.stderr).contains("reusing evaluation results"));
    for (a, b) in [("r1.json", "r2.json"), ("p1.svg", "p2.svg")] {
        assert_eq!(
            std::fs::read(dir.path().join(a)).unwrap(),
            std::fs::read(dir.path().join(b)).unwrap(),
            "{a} vs {b}"
        );
    }
}

#[test]
fn profile_ranks_against_the_canonical_solution() {
    let dir = tempfile::tempdir().unwrap();
    let (baseline, _) = samples(dir.path());
    let problems = repo().join("examples/demo/problems.jsonl");
    let run = |out: &str| {
        codefuel(&[
            "profile",
            "-q",
            "--dataset-file",
            problems.to_str().unwrap(),
            "--samples",
            baseline.to_str().unwrap(),
            "--output",
            dir.path().join(out).to_str().unwrap(),
        ])
    };
    // Results made under other limits decide pass/fail differently: they are not reused.
    ok(&codefuel(&[
        "evaluate",
        "-q",
        "--dataset-file",
        problems.to_str().unwrap(),
        "--samples",
        baseline.to_str().unwrap(),
        "--gt-fuel-factor",
        "1.0",
        "--min-fuel",
        "1000",
    ]));
    let first = run("a.json");
    let stdout = ok(&first);
    let stderr = String::from_utf8_lossy(&first.stderr);
    assert!(stderr.contains("evaluating"), "{stderr}");
    assert!(stdout.contains("4 passing samples on 4 tasks"), "{stdout}");
    assert!(
        stdout.contains("per task (median of its samples)"),
        "{stdout}"
    );
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("a.json")).unwrap()).unwrap();
    let ratio = |task: &str| {
        report["samples"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["task_id"] == task)
            .unwrap()["ratio"]
            .as_f64()
            .unwrap()
    };
    // Demo/0 and Demo/1 are the canonical solutions themselves (near 1: the ground-truth
    // and check runs differ in interpreter state, which shows on calls this cheap); Demo/2
    // is trial division against the canonical sieve.
    assert!((ratio("Demo/0") - 1.0).abs() < 0.1, "{}", ratio("Demo/0"));
    assert!((ratio("Demo/1") - 1.0).abs() < 0.1, "{}", ratio("Demo/1"));
    assert!(ratio("Demo/2") > 5.0);
    assert!(ratio("Demo/3") > 1.1);
    // One sample per task: the per-task medians are the sample ratios.
    assert_eq!(report["task_medians"]["tasks"], 4);
    assert_eq!(
        report["task_medians"]["median"],
        report["overall"]["median"]
    );
    let second = run("b.json");
    ok(&second);
    assert!(String::from_utf8_lossy(&second.stderr).contains("reusing evaluation results"));
    assert_eq!(
        std::fs::read(dir.path().join("a.json")).unwrap(),
        std::fs::read(dir.path().join("b.json")).unwrap()
    );
}
