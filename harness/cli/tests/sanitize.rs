//! `codefuel sanitize`, `evaluate --sanitize` and `judge --extract` end to end, on raw chat
//! answers to the demo problems (examples/demo) and to stdin tasks.

mod common;

use serde_json::json;

use common::{codefuel, codefuel_io, lines, ok, repo};

/// A chat answer to Demo/0 (`add`): prose, a fenced solution with a helper, a test run.
const CHAT_ANSWER: &str = "Sure! Here is the function:\n\n```python\nimport math\n\n\
def helper(x):\n    return x\n\ndef add(a: int, b: int) -> int:\n    return helper(a) + b\n\n\
print(add(2, 3))\nassert add(1, 1) == 2\n```\n\nIt adds the two numbers.";

fn write_samples(dir: &std::path::Path, samples: &[serde_json::Value]) -> std::path::PathBuf {
    let path = dir.join("raw.jsonl");
    let text: String = samples.iter().map(|s| format!("{s}\n")).collect();
    std::fs::write(&path, text).unwrap();
    path
}

/// `codefuel sanitize` of `samples` on the demo problems, output beside the samples.
fn sanitize(samples: &std::path::Path) -> std::process::Output {
    let problems = repo().join("examples/demo/problems.jsonl");
    codefuel(&[
        "sanitize",
        "-q",
        "--dataset-file",
        problems.to_str().unwrap(),
        "--samples",
        samples.to_str().unwrap(),
    ])
}

#[test]
fn sanitize_keeps_the_function_and_what_it_needs() {
    let dir = tempfile::tempdir().unwrap();
    let samples = write_samples(
        dir.path(),
        &[
            json!({"task_id": "Demo/0", "solution": CHAT_ANSWER, "model": "m1"}),
            json!({"task_id": "Demo/0", "completion": "    return a + b\n\nprint(add(1, 2))\n"}),
            json!({"task_id": "Demo/0", "solution": "I do not know."}),
            json!({"task_id": "Nope/1", "solution": "x = 1"}),
        ],
    );
    let out = sanitize(&samples);
    let stdout = ok(&out);
    assert!(
        stdout.contains("sanitized 3 of 4 samples; 1 without code"),
        "{stdout}"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("raw.jsonl:3 has no code"), "{stderr}");
    assert!(stderr.contains("Nope/1"), "{stderr}");
    // evalplus's name for the output, beside the samples.
    let clean = lines(&dir.path().join("raw-sanitized.jsonl"));
    assert_eq!(clean.len(), 4, "nothing is lost");
    assert_eq!(
        clean[0]["solution"],
        "import math\ndef helper(x):\n    return x\n\
         def add(a: int, b: int) -> int:\n    return helper(a) + b"
    );
    assert_eq!(clean[0]["model"], "m1", "other fields are kept");
    // A completion comes after the prompt; the prompt's docstring stays, the print goes.
    let second = clean[1]["solution"].as_str().unwrap();
    assert!(second.starts_with("def add(a: int, b: int) -> int:\n    \"\"\"Return the sum"));
    assert!(second.ends_with("    return a + b") && clean[1].get("completion").is_none());
    assert_eq!(clean[2]["solution"], "");
    assert_eq!(clean[3], json!({"task_id": "Nope/1", "solution": "x = 1"}));
}

#[test]
fn evaluate_sanitize_judges_the_code_inside_a_chat_answer() {
    let dir = tempfile::tempdir().unwrap();
    let samples = write_samples(
        dir.path(),
        &[json!({"task_id": "Demo/0", "solution": CHAT_ANSWER})],
    );
    let problems = repo().join("examples/demo/problems.jsonl");
    let status = |extra: &[&str]| {
        let output = dir.path().join("results.json");
        let mut args = vec![
            "evaluate",
            "-q",
            "--dataset-file",
            problems.to_str().unwrap(),
            "--samples",
            samples.to_str().unwrap(),
            "--output",
            output.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        ok(&codefuel(&args));
        let results: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&output).unwrap()).unwrap();
        let row = results["eval"]["Demo/0"][0].clone();
        (row["base_status"].clone(), row["solution"].clone())
    };
    // The raw answer is prose around code: a syntax error.
    assert_eq!(status(&[]).0, "fail");
    let (verdict, solution) = status(&["--sanitize"]);
    assert_eq!(verdict, "pass");
    assert!(!solution.as_str().unwrap().contains("Sure!"), "{solution}");
}

#[test]
fn judge_extract_runs_the_code_of_the_answer() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("tasks.jsonl");
    let answer = "<think>\nMaybe:\n```python\nprint(0)\n```\n</think>\nRead two numbers:\n\n\
                  ```python\na, b = map(int, input().split())\nprint(a + b)\n```\nDone.";
    let task = json!({"id": "chat", "completion": answer,
        "tests": {"stdin_stdout": [{"input": "1 2\n", "output": "3\n"}]}});
    std::fs::write(&input, format!("{task}\n")).unwrap();
    let output = dir.path().join("out.jsonl");

    ok(&codefuel_io("judge", &input, &output, &[]));
    let raw = &lines(&output)[0];
    assert_eq!(raw["tests"][0]["verdict"], "syntax_error", "{raw}");
    assert_eq!(raw["tests"][0]["error"], "SyntaxError");
    assert!(raw.get("extracted").is_none());

    ok(&codefuel_io("judge", &input, &output, &["--extract"]));
    let extracted = &lines(&output)[0];
    assert_eq!(extracted["tests"][0]["verdict"], "pass", "{extracted}");
    assert_eq!(
        extracted["extracted"],
        "a, b = map(int, input().split())\nprint(a + b)"
    );
}

#[test]
fn bad_samples_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let run = |text: &str| {
        let path = dir.path().join("bad.jsonl");
        std::fs::write(&path, text).unwrap();
        let out = sanitize(&path);
        assert_eq!(out.status.code(), Some(2));
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    assert!(run("{\"task_id\": \"Demo/0\", \"solution\": \"x\"}\n{oops\n").contains("bad.jsonl:2"));
    assert!(run("{\"task_id\": \"Demo/0\"}\n").contains("neither a \"solution\" nor"));
    assert!(run("{\"solution\": \"x\"}\n").contains("no \"task_id\""));
    let missing = codefuel(&["sanitize", "--samples", "/nonexistent/x.jsonl"]);
    assert!(String::from_utf8_lossy(&missing.stderr).contains("does not exist"));
}
