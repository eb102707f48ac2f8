//! `codefuel judge` end to end on examples/judge/tasks.jsonl (every task shape) and on
//! tasks written to attack it.

mod common;

use std::path::Path;

use common::{codefuel_io, lines, ok, repo};
use serde_json::json;

/// Judges the tasks in `input` with `extra` flags; the result lines and the printed summary.
fn judge_file(input: &Path, extra: &[&str]) -> (Vec<serde_json::Value>, String) {
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("results.jsonl");
    let stdout = ok(&codefuel_io("judge", input, &output, extra));
    (lines(&output), stdout)
}

/// The example tasks (examples/judge/tasks.jsonl), judged with `extra` flags.
fn judge(extra: &[&str]) -> (Vec<serde_json::Value>, String) {
    judge_file(&repo().join("examples/judge/tasks.jsonl"), extra)
}

/// Judges the tasks in `jsonl` (written to a temporary file); the result lines.
fn judge_text(jsonl: &str) -> Vec<serde_json::Value> {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("tasks.jsonl");
    std::fs::write(&input, jsonl).unwrap();
    judge_file(&input, &[]).0
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
        [
            "sum-ok",
            "sum-wrong",
            "4000",
            "loop-forever",
            "crash",
            "two-sum",
            "4001",
            "asserts",
            "lcb-1"
        ]
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
    assert_eq!(
        verdicts(&results[5]),
        ["pass", "pass"],
        "Solution().twoSum; what it prints is not its answer"
    );
    assert_eq!(
        verdicts(&results[6]),
        ["pass", "pass", "exception"],
        "APPS fn_name: [1.5] wraps 1.5, float tolerance, mean([]) raises"
    );
    assert_eq!(
        verdicts(&results[7]),
        ["pass", "pass", "wrong_answer", "pass"],
        "asserts: is_prime(1) is False"
    );
    assert_eq!(
        verdicts(&results[8]),
        ["pass", "pass"],
        "LiveCodeBench functional: one JSON argument per input line"
    );
    assert!(
        stdout.contains("9 tasks: 4 passed every test (44.4 %)"),
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
fn a_call_cannot_pass_with_a_value_that_only_claims_equality() {
    // The return value is judged as data on the host, never by its own `__eq__`.
    let tests = r#""tests": {"fn_name": "f", "calls": [{"args": [], "expected": [1, 2]}]}"#;
    let tasks = [
        "class L(list):\n    def __eq__(self, other):\n        return True\ndef f():\n    return L([9])\n",
        "class A:\n    def __eq__(self, other):\n        return True\ndef f():\n    return A()\n",
        "import json\njson.dumps = lambda v: '[1, 2]'\ndef f():\n    return 0\n",
        "def f():\n    return [1, 2]\n",
    ];
    let text: String = tasks
        .iter()
        .map(|code| format!("{{\"code\": {}, {tests}}}\n", serde_json::json!(code)))
        .collect();
    let results = judge_text(&text);
    assert_eq!(
        verdicts(&results[0]),
        ["wrong_answer"],
        "a list subclass is its contents"
    );
    assert_eq!(verdicts(&results[1]), ["exception"], "not a JSON value");
    assert_eq!(results[1]["tests"][0]["error"], "TypeError");
    assert_eq!(verdicts(&results[3]), ["pass"]);
    // Patching json.dumps changes how the program prints its own answer, nothing else: the
    // program always controls what it answers, never the expected value or the comparison.
    assert_eq!(verdicts(&results[2]), ["pass"]);
}

#[test]
fn assert_tests_are_judged_outside_the_code_unless_their_shape_needs_it() {
    // The code returns an object that equals everything, which fools a comparison made
    // inside its interpreter; an assert-shaped test is compared outside, so it fails.
    let code = "class Yes:\n    def __eq__(self, o):\n        return True\n\
        def f(x):\n    return Yes()\n";
    let task = serde_json::json!({"id": "forger", "code": code, "tests": {"asserts": [
        "assert f(1) == 2",
        "for i in range(3):\n    assert f(i) == i + 1",
    ]}});
    let result = &judge_text(&format!("{task}\n"))[0];
    assert_ne!(result["tests"][0]["verdict"], "pass", "{result}");
    assert!(result["tests"][0].get("in_process").is_none());
    assert_eq!(result["tests"][1]["in_process"], true, "{result}");
}

#[test]
fn bad_tasks_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("tasks.jsonl");
    let output = dir.path().join("out.jsonl");
    for (text, why) in [
        ("{\"id\": 1, \"code\": \"x\"}\n", "task on line 1: no tests"),
        (
            "\n{\"code\": \"x\", \"tests\": {\"asserts\": \"assert 1\"}}\n",
            "task on line 2: \"asserts\" must be a list of strings",
        ),
        ("{oops\n", "tasks.jsonl:1: not JSON"),
        ("", "holds no tasks"),
    ] {
        std::fs::write(&input, text).unwrap();
        let out = codefuel_io("judge", &input, &output, &[]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains(why), "{why}: {stderr}");
        assert!(!output.exists(), "nothing written on bad input");
    }
}

/// Contest programs' ways of using stdin and stdout, each judged as CPython would run it.
const STDIN_PROGRAMS: &str = r#"{"id": "read-all", "code": "import sys\ndata = sys.stdin.read().split()\nprint(sum(map(int, data)))\n", "tests": {"stdin_stdout": [{"input": "1 2\n3\n", "output": "6\n"}]}}
{"id": "line-by-line", "code": "import sys\nfor line in sys.stdin:\n    print(line.strip().upper())\n", "tests": {"stdin_stdout": [{"input": "a\nb\n", "output": "A\nB\n"}]}}
{"id": "end-empty", "code": "print(1, end='')\n", "tests": {"stdin_stdout": [{"input": "", "output": "1"}, {"input": "", "output": "1\n"}]}}
{"id": "silent", "code": "pass\n", "tests": {"stdin_stdout": [{"input": "", "output": ""}, {"input": "", "output": "x"}]}}
{"id": "eof", "code": "input()\ninput()\n", "tests": {"stdin_stdout": [{"input": "1\n", "output": ""}]}}
{"id": "exit0", "code": "import sys\nprint(1)\nsys.exit(0)\nprint(2)\n", "tests": {"stdin_stdout": [{"input": "", "output": "1\n"}]}}
{"id": "exit1", "code": "import sys\nprint(1)\nsys.exit(1)\n", "tests": {"stdin_stdout": [{"input": "", "output": "1\n"}]}}
{"id": "open0", "code": "print(open(0).read().strip()[::-1])\n", "tests": {"stdin_stdout": [{"input": "abc\n", "output": "cba\n"}]}}
{"id": "fileinput", "code": "import fileinput\nprint(sum(int(l) for l in fileinput.input()))\n", "tests": {"stdin_stdout": [{"input": "4\n5\n", "output": "9\n"}]}}
{"id": "buffer", "code": "import sys\nprint(sys.stdin.buffer.read().decode().count('x'))\n", "tests": {"stdin_stdout": [{"input": "xax\n", "output": "2\n"}]}}
{"id": "recursion", "code": "import sys\nsys.setrecursionlimit(10**6)\ndef f(n):\n    return 0 if n == 0 else 1 + f(n - 1)\nprint(f(int(input())))\n", "tests": {"stdin_stdout": [{"input": "20000\n", "output": "20000\n"}, {"input": "100000\n", "output": "100000\n"}, {"input": "10000000\n", "output": "10000000\n"}]}}
{"id": "flush-then-crash", "code": "print('partial', flush=True)\nraise ValueError('boom')\n", "tests": {"stdin_stdout": [{"input": "", "output": "partial\n"}]}}
"#;

#[test]
fn stdin_programs_behave_as_under_cpython() {
    let results = judge_text(STDIN_PROGRAMS);
    let by_id = |id: &str| {
        let result = results.iter().find(|r| r["id"] == id).unwrap();
        let tests = result["tests"].as_array().unwrap();
        tests
            .iter()
            .map(|t| {
                let verdict = t["verdict"].as_str().unwrap();
                match t["error"].as_str() {
                    Some(error) => format!("{verdict}:{error}"),
                    None => verdict.to_owned(),
                }
            })
            .collect::<Vec<_>>()
    };
    for id in [
        "read-all",
        "line-by-line",
        "open0",
        "fileinput",
        "buffer",
        "exit0",
    ] {
        assert_eq!(by_id(id), ["pass"], "{id}");
    }
    // print(end=''): the missing final newline is only trailing whitespace.
    assert_eq!(by_id("end-empty"), ["pass", "pass"]);
    assert_eq!(by_id("silent"), ["pass", "wrong_answer"]);
    // Reading past the input is CPython's EOFError; a non-zero exit is a failure.
    assert_eq!(by_id("eof"), ["exception:EOFError"]);
    assert_eq!(by_id("exit1"), ["exception:SystemExit:1"]);
    // Output flushed before a crash is still the program's, but the crash decides.
    assert_eq!(by_id("flush-then-crash"), ["exception:ValueError"]);
    // A raised recursion limit works to depth 100 000; deeper ends at the fuel limit, not in
    // a crash of the sandbox or the host.
    assert_eq!(by_id("recursion"), ["pass", "pass", "fuel_limit"]);
}

#[test]
fn apps_tasks_get_the_imports_apps_own_harness_gives_them() {
    // APPS solutions often use List, Counter or heappush without importing them: APPS's
    // testing_util (and verl's prime_code) put an import block before every program.
    let code = "def most(xs: List[int]) -> int:\n    return Counter(xs).most_common(1)[0][0]\n";
    let apps = json!({"problem_id": 1, "solution": code,
        "input_output": json!({"fn_name": "most", "inputs": [[[1, 2, 2]]], "outputs": [2]}).to_string()});
    let own = json!({"id": "own", "code": code,
        "tests": {"fn_name": "most", "calls": [{"args": [[1, 2, 2]], "expected": 2}]}});
    let results = judge_text(&format!("{apps}\n{own}\n"));
    assert_eq!(verdicts(&results[0]), ["pass"], "{}", results[0]);
    assert_eq!(verdicts(&results[1]), ["exception"]);
    assert_eq!(results[1]["tests"][0]["error"], "NameError");
}

#[test]
fn a_program_that_does_not_compile_is_a_syntax_error() {
    let tests = r#""tests": {"stdin_stdout": [{"input": "", "output": "1"}]}"#;
    let tasks: String = ["print(1", "def f():\nreturn 1", "eval('x = (')"]
        .iter()
        .map(|code| format!("{{\"code\": {}, {tests}}}\n", json!(code)))
        .collect();
    let results = judge_text(&tasks);
    let got: Vec<(&str, &str)> = results
        .iter()
        .map(|r| {
            let test = &r["tests"][0];
            (
                test["verdict"].as_str().unwrap(),
                test["error"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("syntax_error", "SyntaxError"),
            ("syntax_error", "IndentationError"),
            ("exception", "SyntaxError"),
        ]
    );
}
