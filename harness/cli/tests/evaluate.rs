//! `codefuel evaluate` end to end on the shipped demo problem set (examples/demo).

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::repo;

/// `codefuel evaluate` of `samples` on the demo problems, writing `output`.
fn evaluate_command(samples: &Path, output: &Path, extra: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_codefuel"));
    command
        .args([
            "evaluate",
            "--quiet",
            "--dataset",
            "humaneval",
            "--dataset-file",
        ])
        .arg(repo().join("examples/demo/problems.jsonl"))
        .arg("--samples")
        .arg(samples)
        .arg("--output")
        .arg(output)
        .args(extra);
    command
}

fn evaluate(samples: &Path, output: &Path, extra: &[&str]) -> Output {
    evaluate_command(samples, output, extra).output().unwrap()
}

fn statuses(results: &serde_json::Value, task: &str) -> Vec<(String, String)> {
    results["eval"][task]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| {
            (
                row["base_status"].as_str().unwrap().to_owned(),
                row["plus_status"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
    expected
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

#[test]
fn demo_verdicts_fuel_and_determinism() {
    let dir = tempfile::tempdir().unwrap();
    let samples = repo().join("examples/demo/samples.jsonl");
    let first = dir.path().join("first.json");
    let out = evaluate(&samples, &first, &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("pass@1"), "{stdout}");

    let results: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&first).unwrap()).unwrap();
    assert_eq!(
        statuses(&results, "Demo/0"),
        pairs(&[("pass", "pass"), ("fail", "fail")])
    );
    assert_eq!(
        statuses(&results, "Demo/1"),
        pairs(&[("pass", "pass"), ("fail", "fail")])
    );
    assert_eq!(
        statuses(&results, "Demo/2"),
        pairs(&[("pass", "pass"), ("pass", "pass"), ("pass", "fail")])
    );
    assert_eq!(
        statuses(&results, "Demo/3"),
        pairs(&[("pass", "pass"), ("fail", "fail"), ("timeout", "timeout")])
    );
    // Failure reasons and the failing input, as evalplus lists it.
    let demo2 = &results["eval"]["Demo/2"];
    assert_eq!(demo2[2]["plus_fail_reason"], "fuel_limit");
    // Both n = 0 and n = 1 loop forever; the first one judged (cheapest first) is listed.
    let failing = &demo2[2]["plus_fail_tests"];
    assert!(
        *failing == serde_json::json!([[0]]) || *failing == serde_json::json!([[1]]),
        "{failing}"
    );
    assert_eq!(
        results["eval"]["Demo/1"][1]["base_fail_reason"],
        "wrong_answer"
    );
    // The slower correct solution costs more fuel than the sieve, deterministically.
    let fuel = |row: &serde_json::Value| row["plus_fuel"].as_u64().unwrap();
    assert!(fuel(&demo2[1]) > 5 * fuel(&demo2[0]));
    // pass@1: Demo/0 1/2, Demo/1 1/2, Demo/2 3/3 (base), Demo/3 1/3.
    let base = results["pass_at_k"]["base"]["pass@1"].as_f64().unwrap();
    assert!(
        (base - (0.5 + 0.5 + 1.0 + 1.0 / 3.0) / 4.0).abs() < 1e-9,
        "{base}"
    );
    assert_eq!(results["hash"].as_str().unwrap().len(), 32);

    // A second evaluation gives byte-identical verdicts and fuel.
    let second = dir.path().join("second.json");
    assert!(evaluate(&samples, &second, &[]).status.success());
    let again: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&second).unwrap()).unwrap();
    assert_eq!(again["eval"], results["eval"]);
    assert_eq!(again["pass_at_k"], results["pass_at_k"]);
}

#[test]
fn test_details_record_every_input() {
    let dir = tempfile::tempdir().unwrap();
    let samples = dir.path().join("s.jsonl");
    std::fs::write(
        &samples,
        "{\"task_id\": \"Demo/0\", \"completion\": \"    return a + b if a >= 0 else b - a\\n\"}\n",
    )
    .unwrap();
    let output = dir.path().join("r.json");
    let out = evaluate(&samples, &output, &["--test-details"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let results: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&output).unwrap()).unwrap();
    let row = &results["eval"]["Demo/0"][0];
    let details = row["base_details"].as_array().unwrap();
    assert_eq!(details.len(), 3);
    let passed: Vec<bool> = details
        .iter()
        .map(|d| d["passed"].as_bool().unwrap())
        .collect();
    assert_eq!(passed, [true, false, true]);
    assert!(details.iter().all(|d| d["fuel"].as_u64().unwrap() > 0));
    assert_eq!(row["base_fail_tests"], serde_json::json!([[-1, 1]]));
}

#[test]
fn bad_input_is_reported_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("r.json");

    let malformed = dir.path().join("bad.jsonl");
    std::fs::write(
        &malformed,
        "{\"task_id\": \"Demo/0\", \"solution\": \"\"}\nnot json\n",
    )
    .unwrap();
    let out = evaluate(&malformed, &output, &[]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("bad.jsonl:2: malformed JSON"), "{stderr}");

    let unknown = dir.path().join("unknown.jsonl");
    std::fs::write(
        &unknown,
        "{\"task_id\": \"Nope/1\", \"solution\": \"\"}\n{\"task_id\": \"Demo/0\", \"completion\": \"    return a + b\\n\"}\n",
    )
    .unwrap();
    let out = evaluate(&unknown, &output, &[]);
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("Nope/1"), "{stderr}");
    assert!(stderr.contains("3 of 4 tasks have no samples"), "{stderr}");

    let out = evaluate(&dir.path().join("missing.jsonl"), &output, &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("does not exist"));

    let out = Command::new(env!("CARGO_BIN_EXE_codefuel"))
        .args(["evaluate", "--dataset", "mbpp", "--samples"])
        .arg(&unknown)
        .args(["--dataset-file", "/no/such/MbppPlus.jsonl"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read dataset file"));
}

#[test]
fn identical_samples_are_judged_once_with_the_same_results() {
    let dir = tempfile::tempdir().unwrap();
    let samples = dir.path().join("s.jsonl");
    let prompt = "def add(a: int, b: int) -> int:\n    \"\"\"Return the sum of a and b.\n    >>> add(2, 3)\n    5\n    \"\"\"\n";
    let wrong = serde_json::json!({"task_id": "Demo/0", "completion": "    return a + b if a >= 0 else b - a\n"});
    // The same code as a completion and as a full solution; and a repeat of the wrong one.
    let lines = [
        serde_json::json!({"task_id": "Demo/0", "completion": "    return a + b\n"}),
        wrong.clone(),
        serde_json::json!({"task_id": "Demo/0", "solution": format!("{prompt}    return a + b\n")}),
        wrong,
    ];
    let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    std::fs::write(&samples, text).unwrap();
    let output = dir.path().join("r.json");
    let out = evaluate_command(&samples, &output, &[])
        .env("CODEFUEL_PROFILE", "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    // Two distinct samples, two splits each: four sandbox runs.
    assert_eq!(stderr.matches("profile:").count(), 4, "{stderr}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("2 samples repeat an earlier sample of their task"),
        "{stdout}"
    );
    let results: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&output).unwrap()).unwrap();
    let rows = results["eval"]["Demo/0"].as_array().unwrap();
    assert_eq!(
        statuses(&results, "Demo/0"),
        pairs(&[
            ("pass", "pass"),
            ("fail", "fail"),
            ("pass", "pass"),
            ("fail", "fail")
        ])
    );
    for (a, b) in [(0, 2), (1, 3)] {
        for field in [
            "base_fuel",
            "plus_fuel",
            "base_fail_tests",
            "plus_fail_reason",
        ] {
            assert_eq!(rows[a][field], rows[b][field], "{field}");
        }
    }
    assert!(rows[0]["plus_fuel"].as_u64().unwrap() > 0);
}

#[test]
fn a_damaged_ground_truth_cache_file_is_recomputed() {
    let dir = tempfile::tempdir().unwrap();
    let samples = repo().join("examples/demo/samples.jsonl");
    let first = dir.path().join("first.json");
    assert!(evaluate(&samples, &first, &[]).status.success());
    // The demo's cache entry for Demo/2, of this guest build.
    let guest = &codefuel::runtime::GUEST_SHA256[..16];
    let root = codefuel::runtime::default_cache_dir().join("groundtruth");
    let data = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().contains(guest))
        .map(|p| p.join("Demo_2.data.bin"))
        .find(|p| p.exists())
        .expect("the demo's ground truth is cached");
    let whole = std::fs::read(&data).unwrap();
    for damage in [whole[..whole.len() / 2].to_vec(), {
        let mut flipped = whole.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 1;
        flipped
    }] {
        std::fs::write(&data, &damage).unwrap();
        let again = dir.path().join("again.json");
        let out = evaluate(&samples, &again, &[]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let read = |p: &Path| -> serde_json::Value {
            serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
        };
        assert_eq!(read(&again)["eval"], read(&first)["eval"]);
        assert_eq!(
            std::fs::read(&data).unwrap(),
            whole,
            "the file was written back whole"
        );
    }
}

#[test]
fn without_home_the_cache_is_a_directory_of_this_user() {
    let out = Command::new(env!("CARGO_BIN_EXE_codefuel"))
        .arg("cache")
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    let uid = std::fs::metadata("/proc/self").map(|m| std::os::unix::fs::MetadataExt::uid(&m));
    assert!(
        stdout.contains(&format!("codefuel-cache-{}", uid.unwrap())),
        "{stdout}"
    );
}
