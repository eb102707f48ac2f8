//! Judging programs the way RL and contest datasets test them: standard input in, standard
//! output compared on the host.
//!
//! Each test runs the program in a fresh sandbox with the test's input on stdin and its own
//! fuel limit; the expected output never enters the sandbox, and the comparison happens here
//! ([`outputs_match`]). Task lines come in codefuel's own shape or in the datasets' native
//! ones ([`JudgeTask`]). Function-call and assert-shaped tests are not judged yet: a task
//! with them is an input error that says so.

use std::time::Duration;

use codefuel_runtime::{DEFAULT_TIMEOUT, Limits, Program, RunOutcome, Sandbox, Verdict};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Error, Result};

/// Fuel that stands for one second of CPython time: the evalplus calibration, whose 1 s
/// minimum time limit became 20 G fuel (`evalplus::DEFAULT_MIN_FUEL`; docs/evalplus-compat.md).
pub const FUEL_PER_SECOND: u64 = crate::evalplus::DEFAULT_MIN_FUEL;

/// Default fuel limit of one test: one second of CPython time ([`FUEL_PER_SECOND`]).
pub const DEFAULT_FUEL_PER_TEST: u64 = FUEL_PER_SECOND;

/// Bytes of a failing test's stdout kept in its result (the rest is cut).
pub const KEPT_STDOUT_BYTES: usize = 4 << 10;

/// One stdin/stdout test.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IoCase {
    /// The program's standard input.
    pub input: String,
    /// The standard output it must print.
    pub output: String,
}

/// A task to judge: one program and its tests, read from one JSONL line. Accepted shapes
/// (the code is `code`, else `completion`, else `solution`):
/// - codefuel's: `{"id", "code", "tests": {"stdin_stdout": [{"input", "output"}, ..]}}`;
/// - APPS / TACO: `"input_output"`, a JSON string (or object) with `inputs` and `outputs`
///   lists (an `fn_name` makes it a call-based problem, not judged yet);
/// - CodeContests: `public_tests`, `private_tests`, `generated_tests`, each
///   `{"input": [..], "output": [..]}`, judged in that order.
///
/// Serialized, a task is `{"id", "code", "tests": [{"input", "output"}, ..]}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JudgeTask {
    /// The task's id (`id`, `task_id`, `problem_id` or `name`; else its line number).
    pub id: String,
    /// The program.
    pub code: String,
    /// Its tests.
    pub tests: Vec<IoCase>,
}

impl JudgeTask {
    /// Reads one task from a JSON object in any accepted shape; `line` names it in errors
    /// and is its id when it has none.
    pub fn from_json(value: &Value, line: usize) -> Result<Self> {
        let bad = |why: String| Error::Input(format!("task on line {line}: {why}"));
        let object = value
            .as_object()
            .ok_or_else(|| bad("not a JSON object".into()))?;
        let id = ["id", "task_id", "problem_id", "name"]
            .iter()
            .find_map(|k| object.get(*k))
            .map(|v| match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .unwrap_or_else(|| format!("line {line}"));
        let code = ["code", "completion", "solution"]
            .iter()
            .find_map(|k| object.get(*k).and_then(Value::as_str))
            .ok_or_else(|| bad("no \"code\" (or \"completion\") string".into()))?
            .to_owned();
        let tests = if let Some(tests) = object.get("tests") {
            own_tests(tests).map_err(bad)?
        } else if let Some(io) = object.get("input_output") {
            apps_tests(io).map_err(bad)?
        } else if ["public_tests", "private_tests", "generated_tests"]
            .iter()
            .any(|k| object.contains_key(*k))
        {
            let mut all = Vec::new();
            for key in ["public_tests", "private_tests", "generated_tests"] {
                if let Some(tests) = object.get(key) {
                    all.extend(
                        parallel_lists(tests, "input", "output")
                            .map_err(|why| bad(format!("\"{key}\": {why}")))?,
                    );
                }
            }
            all
        } else {
            return Err(bad(
                "no tests: expected \"tests\", \"input_output\" (APPS/TACO) or \
                 \"public_tests\"/\"private_tests\"/\"generated_tests\" (CodeContests)"
                    .into(),
            ));
        };
        Ok(JudgeTask { id, code, tests })
    }
}

/// `{"stdin_stdout": [{"input", "output"}, ..]}`.
fn own_tests(tests: &Value) -> std::result::Result<Vec<IoCase>, String> {
    if let Some(cases) = tests.get("stdin_stdout") {
        return serde_json::from_value(cases.clone()).map_err(|e| {
            format!("\"stdin_stdout\" must be a list of {{\"input\", \"output\"}} strings ({e})")
        });
    }
    for shape in ["fn_name", "calls", "asserts"] {
        if tests.get(shape).is_some() {
            return Err(format!(
                "\"{shape}\" tests are not judged yet; this version judges \"stdin_stdout\" tests"
            ));
        }
    }
    Err("\"tests\" must hold \"stdin_stdout\"".into())
}

/// APPS / TACO `input_output`: a JSON string (or object) of parallel `inputs`/`outputs`.
fn apps_tests(io: &Value) -> std::result::Result<Vec<IoCase>, String> {
    let parsed;
    let io = match io {
        Value::String(text) => {
            parsed = serde_json::from_str::<Value>(text)
                .map_err(|e| format!("\"input_output\" is not JSON ({e})"))?;
            &parsed
        }
        other => other,
    };
    if io.get("fn_name").is_some() {
        return Err(
            "a call-based problem (\"fn_name\"): not judged yet; this version judges stdin/stdout problems"
                .into(),
        );
    }
    parallel_lists(io, "inputs", "outputs").map_err(|why| format!("\"input_output\": {why}"))
}

/// Tests from two parallel lists of strings (a list of lines counts as their join).
fn parallel_lists(
    value: &Value,
    inputs: &str,
    outputs: &str,
) -> std::result::Result<Vec<IoCase>, String> {
    let list = |key: &str| -> std::result::Result<Vec<String>, String> {
        let items = value
            .get(key)
            .and_then(Value::as_array)
            .ok_or_else(|| format!("no \"{key}\" list"))?;
        items
            .iter()
            .map(|item| match item {
                Value::String(s) => Ok(s.clone()),
                Value::Array(lines) => lines
                    .iter()
                    .map(|l| l.as_str().map(|s| format!("{s}\n")))
                    .collect::<Option<String>>()
                    .ok_or_else(|| format!("\"{key}\" holds a list that is not all strings")),
                other => Err(format!("\"{key}\" holds {other}, not a string")),
            })
            .collect()
    };
    let (ins, outs) = (list(inputs)?, list(outputs)?);
    if ins.len() != outs.len() {
        return Err(format!(
            "{} \"{inputs}\" but {} \"{outputs}\"",
            ins.len(),
            outs.len()
        ));
    }
    Ok(ins
        .into_iter()
        .zip(outs)
        .map(|(input, output)| IoCase { input, output })
        .collect())
}

/// How programs are judged.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct JudgeOptions {
    /// Fuel limit of each test.
    pub fuel_per_test: u64,
    /// Memory cap of each test, in MiB.
    pub memory_mib: u64,
    /// Stop a task at its first failing test (the rest are `skipped`).
    pub stop_at_first_failure: bool,
    /// Compare stdout byte for byte instead of [`outputs_match`]'s normalization.
    pub exact: bool,
}

impl Default for JudgeOptions {
    fn default() -> Self {
        JudgeOptions {
            fuel_per_test: DEFAULT_FUEL_PER_TEST,
            memory_mib: crate::api::DEFAULT_RUN_MEMORY_MIB,
            stop_at_first_failure: false,
            exact: false,
        }
    }
}

/// Whether `stdout` passes for `expected`: equal after dropping trailing whitespace on every
/// line and trailing blank lines, on both sides (what APPS's and verl's checkers accept:
/// `print` adds a newline, judges ignore trailing spaces); with `exact`, byte for byte.
pub fn outputs_match(stdout: &[u8], expected: &str, exact: bool) -> bool {
    if exact {
        return stdout == expected.as_bytes();
    }
    let Ok(stdout) = std::str::from_utf8(stdout) else {
        return false;
    };
    normalized(stdout).eq(normalized(expected))
}

/// Lines with trailing whitespace removed, without the trailing blank ones.
fn normalized(text: &str) -> impl Iterator<Item = &str> {
    let lines: Vec<&str> = text.lines().map(str::trim_end).collect();
    let end = lines
        .iter()
        .rposition(|l| !l.is_empty())
        .map_or(0, |i| i + 1);
    lines.into_iter().take(end)
}

/// How one test went.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TestVerdict {
    /// The output matched.
    Pass,
    /// The program ended normally with different output.
    WrongAnswer,
    /// An uncaught exception (`SyntaxError` included), or a non-zero `sys.exit`.
    Exception,
    /// Over the test's fuel limit.
    FuelLimit,
    /// Over the memory cap.
    Memory,
    /// The guest's stack overflowed.
    StackOverflow,
    /// The wall-clock backstop fired, or the guest crashed.
    Crash,
    /// Not run: an earlier test failed under `stop_at_first_failure`.
    Skipped,
}

/// One test's result.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TestResult {
    /// The verdict.
    pub verdict: TestVerdict,
    /// The exception's class (`exception`), or the exit status (`SystemExit:<n>`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Fuel the test used.
    pub fuel: u64,
    /// The start of its stdout, when it failed ([`KEPT_STDOUT_BYTES`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stdout: Option<String>,
}

/// One task's results.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct JudgeResult {
    /// The task's id.
    pub id: String,
    /// Per test, in order.
    pub tests: Vec<TestResult>,
    /// Passed tests / tests (0 without tests).
    pub pass_rate: f64,
    /// Every test passed (and there was at least one).
    pub all_passed: bool,
    /// The reward: 1.0 when all passed, else 0.0.
    pub reward: f64,
    /// Fuel over all tests run.
    pub fuel: u64,
}

/// Runs `task`'s program on each test in `sandbox` and judges its stdout on the host.
pub fn judge_task(
    sandbox: &Sandbox,
    task: &JudgeTask,
    options: &JudgeOptions,
) -> Result<JudgeResult> {
    let limits = Limits::default()
        .with_fuel(options.fuel_per_test)
        .with_memory_bytes(options.memory_mib.min(crate::api::MAX_MEMORY_MIB) << 20)
        .with_timeout(backstop(options.fuel_per_test));
    let mut tests = Vec::with_capacity(task.tests.len());
    let mut failed = false;
    for case in &task.tests {
        if failed && options.stop_at_first_failure {
            tests.push(TestResult {
                verdict: TestVerdict::Skipped,
                error: None,
                fuel: 0,
                stdout: None,
            });
            continue;
        }
        let program = Program::new(task.code.as_str()).with_stdin(case.input.as_bytes());
        let outcome = sandbox.run(program, &limits)?;
        let result = test_result(&outcome, &case.output, options.exact);
        failed |= result.verdict != TestVerdict::Pass;
        tests.push(result);
    }
    let passed = tests
        .iter()
        .filter(|t| t.verdict == TestVerdict::Pass)
        .count();
    let all_passed = !tests.is_empty() && passed == tests.len();
    Ok(JudgeResult {
        id: task.id.clone(),
        pass_rate: if tests.is_empty() {
            0.0
        } else {
            passed as f64 / tests.len() as f64
        },
        all_passed,
        reward: if all_passed { 1.0 } else { 0.0 },
        fuel: tests.iter().map(|t| t.fuel).sum(),
        tests,
    })
}

/// The wall-clock backstop of a test: the runtime's default, or more for a large fuel limit
/// (a second per 1 G of fuel, far slower than the guest ever runs).
fn backstop(fuel: u64) -> Duration {
    DEFAULT_TIMEOUT.max(Duration::from_secs(fuel / 1_000_000_000))
}

fn test_result(outcome: &RunOutcome, expected: &str, exact: bool) -> TestResult {
    let (verdict, error) = match &outcome.verdict {
        Verdict::Completed { exit_code: 0 } if outputs_match(&outcome.stdout, expected, exact) => {
            (TestVerdict::Pass, None)
        }
        Verdict::Completed { exit_code: 0 } => (TestVerdict::WrongAnswer, None),
        Verdict::Completed { exit_code } => (
            TestVerdict::Exception,
            Some(format!("SystemExit:{exit_code}")),
        ),
        Verdict::Exception { type_name, .. } => (TestVerdict::Exception, Some(type_name.clone())),
        Verdict::FuelExhausted => (TestVerdict::FuelLimit, None),
        Verdict::MemoryLimit => (TestVerdict::Memory, None),
        Verdict::StackOverflow => (TestVerdict::StackOverflow, None),
        Verdict::Timeout | Verdict::Crash { .. } => (TestVerdict::Crash, None),
    };
    let stdout = (verdict != TestVerdict::Pass).then(|| {
        let kept = &outcome.stdout[..outcome.stdout.len().min(KEPT_STDOUT_BYTES)];
        String::from_utf8_lossy(kept).into_owned()
    });
    TestResult {
        verdict,
        error,
        fuel: outcome.fuel,
        stdout,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn normalization_ignores_trailing_space_and_blank_lines_only() {
        assert!(outputs_match(b"1 2  \n3\n\n\n", "1 2\n3", false));
        assert!(outputs_match(b"1 2\r\n3\r\n", "1 2\n3\n", false));
        assert!(
            !outputs_match(b"1  2\n3\n", "1 2\n3\n", false),
            "inner spaces count"
        );
        assert!(
            !outputs_match(b"\n1\n", "1\n", false),
            "leading blank lines count"
        );
        assert!(!outputs_match(b"1\n", "1", true), "exact is byte for byte");
        assert!(outputs_match(b"", "\n\n", false));
        assert!(!outputs_match(&[0xff], "x", false));
    }

    #[test]
    fn reads_every_dataset_shape() {
        let own = json!({"id": "a", "code": "print(1)",
            "tests": {"stdin_stdout": [{"input": "", "output": "1\n"}]}});
        let task = JudgeTask::from_json(&own, 1).unwrap();
        assert_eq!((task.id.as_str(), task.tests.len()), ("a", 1));

        let apps = json!({"problem_id": 7, "solution": "x",
            "input_output": "{\"inputs\": [\"1\\n\", \"2\\n\"], \"outputs\": [\"1\\n\", [\"2\"]]}"});
        let task = JudgeTask::from_json(&apps, 2).unwrap();
        assert_eq!(task.id, "7");
        assert_eq!(task.tests[1].output, "2\n", "a list of lines is their join");

        let contests = json!({"name": "c", "completion": "x",
            "public_tests": {"input": ["a"], "output": ["b"]},
            "private_tests": {"input": ["c", "d"], "output": ["e", "f"]}});
        let task = JudgeTask::from_json(&contests, 3).unwrap();
        assert_eq!(task.tests.len(), 3);
        assert_eq!(task.tests[2].input, "d");
    }

    #[test]
    fn bad_tasks_are_input_errors_that_say_why() {
        for (value, why) in [
            (json!([1]), "not a JSON object"),
            (json!({"tests": {}}), "no \"code\""),
            (json!({"code": "x"}), "no tests"),
            (
                json!({"code": "x", "input_output": "{\"fn_name\": \"f\", \"inputs\": [], \"outputs\": []}"}),
                "call-based",
            ),
            (
                json!({"code": "x", "tests": {"asserts": ["assert 1"]}}),
                "not judged yet",
            ),
            (
                json!({"code": "x", "public_tests": {"input": ["a"], "output": []}}),
                "1 \"input\" but 0",
            ),
        ] {
            let e = JudgeTask::from_json(&value, 9).unwrap_err();
            assert!(e.is_input() && e.to_string().contains(why), "{e}");
            assert!(e.to_string().starts_with("task on line 9: "), "{e}");
        }
    }
}
