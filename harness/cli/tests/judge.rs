//! `codefuel judge` end to end on examples/judge/tasks.jsonl (all three task shapes).

mod common;

use common::{codefuel, lines, ok, repo};

fn judge(extra: &[&str]) -> (Vec<serde_json::Value>, String) {
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("results.jsonl");
    let input = repo().join("examples/judge/tasks.jsonl");
    let mut args = vec![
        "judge",
        "-q",
        "--input",
        input.to_str().unwrap(),
        "--output",
        output.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let stdout = ok(&codefuel(&args));
    (lines(&output), stdout)
}

fn verdicts(result: &serde_json::Value) -> Vec<&str> {
    result["tests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["verdict"].as_str().unwrap())
        .collect()
}

#[test]
fn judges_each_task_shape_on_the_host() {
    let (results, stdout) = judge(&[]);
    let ids: Vec<&str> = results.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(
        ids,
        ["sum-ok", "sum-wrong", "4000", "loop-forever", "crash"]
    );
    assert_eq!(
        verdicts(&results[0]),
        ["pass", "pass"],
        "a missing final newline is fine"
    );
    assert_eq!(verdicts(&results[1]), ["pass", "wrong_answer"]);
    assert_eq!(
        results[1]["tests"][1]["stdout"], "-1\n",
        "a failing test keeps its stdout"
    );
    assert_eq!(results[1]["pass_rate"], 0.5);
    assert_eq!(results[1]["reward"], 0.0);
    assert_eq!(
        verdicts(&results[2]),
        ["pass", "pass"],
        "APPS: trailing spaces ignored, a list of lines is their join"
    );
    assert_eq!(results[2]["all_passed"], true);
    assert_eq!(results[2]["reward"], 1.0);
    assert_eq!(
        verdicts(&results[3]),
        ["fuel_limit", "fuel_limit"],
        "CodeContests: public then private tests"
    );
    assert_eq!(
        results[3]["fuel"], 40_000_000_000u64,
        "20 G per test by default"
    );
    assert_eq!(verdicts(&results[4]), ["pass", "exception"]);
    assert_eq!(results[4]["tests"][1]["error"], "ZeroDivisionError");
    assert!(
        stdout.contains("5 tasks: 2 passed every test (40.0 %)"),
        "{stdout}"
    );
    // Deterministic: the same fuel again.
    let (again, _) = judge(&[]);
    assert_eq!(again, results);
}

#[test]
fn limits_and_comparison_flags() {
    let (results, _) = judge(&[
        "--stop-at-first-failure",
        "--time-per-test",
        "0.05",
        "--exact",
    ]);
    // 0.05 s at 20 G per second: 1 G of fuel.
    assert_eq!(results[3]["fuel"], 1_000_000_000u64);
    assert_eq!(verdicts(&results[3]), ["fuel_limit", "skipped"]);
    // --exact: "6" was expected without the newline print adds.
    assert_eq!(verdicts(&results[0]), ["pass", "wrong_answer"]);
    assert_eq!(verdicts(&results[2]), ["wrong_answer", "skipped"]);
}

#[test]
fn bad_tasks_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("tasks.jsonl");
    let output = dir.path().join("out.jsonl");
    for (text, why) in [
        ("{\"id\": 1, \"code\": \"x\"}\n", "task on line 1: no tests"),
        (
            "\n{\"code\": \"x\", \"tests\": {\"asserts\": [\"assert 1\"]}}\n",
            "task on line 2: \"asserts\" tests are not judged yet",
        ),
        ("{oops\n", "tasks.jsonl:1: not JSON"),
        ("", "holds no tasks"),
    ] {
        std::fs::write(&input, text).unwrap();
        let out = codefuel(&[
            "judge",
            "--input",
            input.to_str().unwrap(),
            "--output",
            output.to_str().unwrap(),
        ]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains(why), "{why}: {stderr}");
        assert!(!output.exists(), "nothing written on bad input");
    }
}
