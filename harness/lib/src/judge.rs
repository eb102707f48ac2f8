//! Judging programs the way RL and contest datasets test them: standard input in and standard
//! output compared, or a named function called with JSON arguments and its return value
//! compared.
//!
//! Each test runs the program in a fresh sandbox with its own fuel limit; the expected output
//! never enters the sandbox, and the comparison happens here ([`outputs_match`],
//! [`values_match`]). Task lines come in codefuel's own shape or in the datasets' native ones
//! ([`JudgeTask`]). Assert-shaped tests are judged as `codefuel matrix` judges them: the
//! assert's expressions are evaluated in the code's session and compared outside its reach
//! ([`crate::matrix`]); a test of another shape runs in process and says so.

use std::time::Duration;

use codefuel_runtime::{DEFAULT_TIMEOUT, Limits, Program, RunOutcome, Sandbox, Verdict};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::driver::Worker;
use crate::error::{Error, Result};
use crate::matrix::{CellStatus, Judged, MatrixOptions, MatrixProblem, problem_matrix_with};
use crate::sanitize::extract_code;

/// Fuel that stands for one second of CPython time on typical code: the first evalplus
/// calibration (docs/evalplus-compat.md). Tight integer loops cost more, up to ~50 G per
/// CPython second, which is why evalplus's minimum input limit
/// ([`crate::evalplus::DEFAULT_MIN_FUEL`]) is higher than this.
pub const FUEL_PER_SECOND: u64 = 20_000_000_000;

/// Default fuel limit of one test: one second of CPython time ([`FUEL_PER_SECOND`]).
pub const DEFAULT_FUEL_PER_TEST: u64 = FUEL_PER_SECOND;

/// The imports APPS's harness puts before every program (`testing_util.py` of
/// hendrycks/apps, copied by CodeRL, TACO, SandboxFusion and verl's prime_code), so that
/// solutions that use `List`, `math.sqrt`, `Counter` or `heappush` without importing them
/// run as they do there. APPS/TACO tasks (`input_output`) get it. Its `import numpy as np`
/// is guarded: the guest has no numpy, and a program that uses `np` fails at that use.
pub const APPS_PRELUDE: &str = "import sys\nimport time\nimport itertools\n\
from itertools import accumulate, product, permutations, combinations\nimport collections\n\
from collections import Counter, OrderedDict, deque, defaultdict, ChainMap\n\
from functools import lru_cache\nimport math\n\
from math import sqrt, sin, cos, tan, ceil, fabs, floor, gcd, exp, log, log2\n\
import fractions\nfrom typing import List, Tuple\n\
try:\n    import numpy as np\nexcept ImportError:\n    pass\n\
import random\nimport heapq\nfrom heapq import *\n";

/// The imports LiveCodeBench's harness puts before every program (`import_string` in
/// `lcb_runner/evaluation/testing_util.py` of LiveCodeBench/LiveCodeBench): LiveCodeBench
/// tasks (`public_test_cases`) get it, so they run as they do there.
pub const LIVECODEBENCH_PRELUDE: &str = "from string import *\nfrom re import *\n\
from datetime import *\nfrom collections import *\nfrom heapq import *\nfrom bisect import *\n\
from copy import *\nfrom math import *\nfrom random import *\nfrom statistics import *\n\
from itertools import *\nfrom functools import *\nfrom operator import *\nfrom io import *\n\
from sys import *\nfrom json import *\nfrom builtins import *\nfrom typing import *\n\
import string\nimport re\nimport datetime\nimport collections\nimport heapq\nimport bisect\n\
import copy\nimport math\nimport random\nimport statistics\nimport itertools\n\
import functools\nimport operator\nimport io\nimport sys\nimport json\n\
sys.setrecursionlimit(50000)\n";

/// Bytes of a failing test's stdout kept in its result (the rest is cut).
pub const KEPT_STDOUT_BYTES: usize = 4 << 10;

/// A task's tests: all of one kind. In JSON, `{"stdin_stdout": [..]}` or
/// `{"fn_name": "f", "calls": [..]}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Tests {
    /// Run the program with each input on stdin; compare its stdout.
    StdinStdout {
        /// The tests.
        stdin_stdout: Vec<IoCase>,
    },
    /// Call `fn_name` (a function, or a method of `Solution()` when the program defines
    /// `class Solution`) with each call's arguments; compare the return value.
    Calls {
        /// The function's name.
        fn_name: String,
        /// The calls.
        calls: Vec<Call>,
    },
    /// Run each snippet (usually `assert` lines) after the program, in its namespace.
    Asserts {
        /// The snippets.
        asserts: Vec<String>,
    },
}

impl Tests {
    /// How many tests.
    pub fn len(&self) -> usize {
        match self {
            Tests::StdinStdout { stdin_stdout } => stdin_stdout.len(),
            Tests::Calls { calls, .. } => calls.len(),
            Tests::Asserts { asserts } => asserts.len(),
        }
    }

    /// No tests at all.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// One function-call test.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Call {
    /// Positional arguments, as JSON.
    pub args: Vec<Value>,
    /// The value it must return, as JSON ([`values_match`]).
    pub expected: Value,
}

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
/// - codefuel's: `{"id", "code", "tests": {"stdin_stdout": [{"input", "output"}, ..]}}` or
///   `{"id", "code", "tests": {"fn_name", "calls": [{"args": [..], "expected"}, ..]}}`;
/// - APPS / TACO: `"input_output"`, a JSON string (or object) with `inputs` and `outputs`
///   lists; with `fn_name`, each input is a call's argument list;
/// - LiveCodeBench: `public_test_cases` / `private_test_cases` (`testtype` `stdin` or
///   `functional`, with `metadata.func_name`);
/// - CodeContests: `public_tests`, `private_tests`, `generated_tests`, each
///   `{"input": [..], "output": [..]}`, judged in that order.
///
/// Serialized, a task is codefuel's shape above.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JudgeTask {
    /// The task's id (`id`, `task_id`, `problem_id`, `question_id` or `name`; else its line
    /// number).
    pub id: String,
    /// The program.
    pub code: String,
    /// Its tests.
    pub tests: Tests,
    /// Code run before the program, in its namespace, as the dataset's own harness does:
    /// [`APPS_PRELUDE`] for APPS/TACO tasks, [`LIVECODEBENCH_PRELUDE`] for LiveCodeBench's;
    /// empty otherwise.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub prelude: String,
}

impl JudgeTask {
    /// Reads one task from a JSON object in any accepted shape; `line` names it in errors
    /// and is its id when it has none.
    pub fn from_json(value: &Value, line: usize) -> Result<Self> {
        let bad = |why: String| Error::Input(format!("task on line {line}: {why}"));
        let object = value
            .as_object()
            .ok_or_else(|| bad("not a JSON object".into()))?;
        let id = ["id", "task_id", "problem_id", "question_id", "name"]
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
        let mut prelude = String::new();
        let tests = if let Some(tests) = object.get("tests") {
            own_tests(tests).map_err(bad)?
        } else if let Some(io) = object.get("input_output") {
            prelude = APPS_PRELUDE.to_owned();
            apps_tests(io).map_err(bad)?
        } else if object.contains_key("public_test_cases") {
            prelude = LIVECODEBENCH_PRELUDE.to_owned();
            livecodebench_tests(object).map_err(bad)?
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
            Tests::StdinStdout { stdin_stdout: all }
        } else {
            return Err(bad(
                "no tests: expected \"tests\", \"input_output\" (APPS/TACO), \
                 \"public_tests\"/\"private_tests\"/\"generated_tests\" (CodeContests) or \
                 \"public_test_cases\" (LiveCodeBench)"
                    .into(),
            ));
        };
        Ok(JudgeTask {
            id,
            code,
            tests,
            prelude,
        })
    }
}

/// `{"stdin_stdout": [{"input", "output"}, ..]}` or `{"fn_name", "calls": [..]}`.
fn own_tests(tests: &Value) -> std::result::Result<Tests, String> {
    if let Some(cases) = tests.get("stdin_stdout") {
        let stdin_stdout = serde_json::from_value(cases.clone()).map_err(|e| {
            format!("\"stdin_stdout\" must be a list of {{\"input\", \"output\"}} strings ({e})")
        })?;
        return Ok(Tests::StdinStdout { stdin_stdout });
    }
    if tests.get("fn_name").is_some() || tests.get("calls").is_some() {
        let shape_ok = tests.get("fn_name").is_some_and(Value::is_string)
            && tests.get("calls").is_some_and(Value::is_array);
        let parsed = if shape_ok {
            serde_json::from_value(tests.clone()).map_err(|e| e.to_string())
        } else {
            Err("no \"fn_name\" string or no \"calls\" list".to_owned())
        };
        return parsed.map_err(|e| {
            format!(
                "function-call tests must be {{\"fn_name\": str, \"calls\": [{{\"args\": [..], \"expected\": ..}}]}} ({e})"
            )
        });
    }
    if let Some(asserts) = tests.get("asserts") {
        let asserts = serde_json::from_value(asserts.clone())
            .map_err(|e| format!("\"asserts\" must be a list of strings ({e})"))?;
        return Ok(Tests::Asserts { asserts });
    }
    Err("\"tests\" must hold \"stdin_stdout\", \"fn_name\" and \"calls\", or \"asserts\"".into())
}

/// LiveCodeBench (`code_generation_lite`): `public_test_cases` and `private_test_cases`, each a
/// JSON string (or list) of `{"input", "output", "testtype"}`. `stdin` tests are stdin/stdout
/// tests; `functional` ones call `metadata.func_name` (a method of `Solution`), one argument per
/// input line as JSON, the output a JSON value. The release's compressed private cases
/// (base64 of zlib of a pickle) are not read: decompress them first.
fn livecodebench_tests(
    object: &serde_json::Map<String, Value>,
) -> std::result::Result<Tests, String> {
    #[derive(Deserialize)]
    struct Case {
        input: String,
        output: String,
        testtype: String,
    }
    let mut cases: Vec<Case> = Vec::new();
    for key in ["public_test_cases", "private_test_cases"] {
        let Some(value) = object.get(key) else {
            continue;
        };
        let parsed;
        let list = match value {
            Value::String(text) if text.trim().is_empty() => continue,
            Value::String(text) => {
                parsed = serde_json::from_str::<Value>(text).map_err(|_| {
                    format!(
                        "\"{key}\" is not JSON (LiveCodeBench's compressed private cases must be \
                         decompressed first: base64, zlib, pickle)"
                    )
                })?;
                &parsed
            }
            other => other,
        };
        cases.extend(
            serde_json::from_value::<Vec<Case>>(list.clone()).map_err(|e| {
                format!("\"{key}\" must list {{\"input\", \"output\", \"testtype\"}} ({e})")
            })?,
        );
    }
    if cases.iter().all(|c| c.testtype == "stdin") {
        let stdin_stdout = cases
            .into_iter()
            .map(|c| IoCase {
                input: c.input,
                output: c.output,
            })
            .collect();
        return Ok(Tests::StdinStdout { stdin_stdout });
    }
    if !cases.iter().all(|c| c.testtype == "functional") {
        return Err(
            "mixes \"stdin\" and \"functional\" test cases, or has another testtype".into(),
        );
    }
    let metadata = match object.get("metadata") {
        Some(Value::String(text)) => serde_json::from_str(text).unwrap_or(Value::Null),
        Some(other) => other.clone(),
        None => Value::Null,
    };
    let fn_name = metadata
        .get("func_name")
        .and_then(Value::as_str)
        .ok_or("functional test cases need \"metadata\" with a \"func_name\"")?
        .to_owned();
    let calls = cases
        .iter()
        .map(|c| {
            let args = c
                .input
                .lines()
                .filter(|l| !l.trim().is_empty())
                .map(|l| {
                    serde_json::from_str(l)
                        .map_err(|e| format!("an argument line is not JSON ({e})"))
                })
                .collect::<std::result::Result<Vec<Value>, String>>()?;
            let expected = serde_json::from_str(&c.output)
                .map_err(|e| format!("an expected output is not JSON ({e})"))?;
            Ok(Call { args, expected })
        })
        .collect::<std::result::Result<_, String>>()?;
    Ok(Tests::Calls { fn_name, calls })
}

/// APPS / TACO `input_output`: a JSON string (or object) of parallel `inputs`/`outputs`; with
/// `fn_name`, each input is a call's argument list and each output its expected value.
fn apps_tests(io: &Value) -> std::result::Result<Tests, String> {
    let parsed;
    let io = match io {
        Value::String(text) => {
            parsed = serde_json::from_str::<Value>(text)
                .map_err(|e| format!("\"input_output\" is not JSON ({e})"))?;
            &parsed
        }
        other => other,
    };
    if let Some(fn_name) = io.get("fn_name") {
        let fn_name = fn_name
            .as_str()
            .ok_or("\"input_output\": \"fn_name\" is not a string")?
            .to_owned();
        let list = |key: &str| {
            io.get(key)
                .and_then(Value::as_array)
                .ok_or(format!("\"input_output\": no \"{key}\" list"))
        };
        let (inputs, outputs) = (list("inputs")?, list("outputs")?);
        if inputs.len() != outputs.len() {
            return Err(format!(
                "\"input_output\": {} \"inputs\" but {} \"outputs\"",
                inputs.len(),
                outputs.len()
            ));
        }
        let calls = inputs
            .iter()
            .zip(outputs)
            .map(|(args, expected)| {
                let args = args
                    .as_array()
                    .ok_or("\"input_output\": a call's \"inputs\" entry is not an argument list")?;
                Ok(Call {
                    args: args.clone(),
                    expected: expected.clone(),
                })
            })
            .collect::<std::result::Result<_, String>>()?;
        return Ok(Tests::Calls { fn_name, calls });
    }
    let stdin_stdout = parallel_lists(io, "inputs", "outputs")
        .map_err(|why| format!("\"input_output\": {why}"))?;
    Ok(Tests::StdinStdout { stdin_stdout })
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
    /// The programs are raw model answers: judge the code [`extract_code`] finds in each
    /// (fenced block or longest valid span) and report it in [`JudgeResult::extracted`].
    pub extract: bool,
}

impl Default for JudgeOptions {
    fn default() -> Self {
        JudgeOptions {
            fuel_per_test: DEFAULT_FUEL_PER_TEST,
            memory_mib: crate::api::DEFAULT_RUN_MEMORY_MIB,
            stop_at_first_failure: false,
            exact: false,
            extract: false,
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
    /// An uncaught exception, or a non-zero `sys.exit`.
    Exception,
    /// The program does not compile (`SyntaxError`, `IndentationError` or `TabError` before
    /// it ran; one raised by `eval` or `compile` at run time is an `exception`).
    SyntaxError,
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
    /// An assert test of a shape that ran inside the program's interpreter, where code written
    /// to forge a pass could have (`codefuel matrix`'s `"judged": "in_process"`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub in_process: bool,
}

impl TestResult {
    /// A test not run.
    fn skipped() -> Self {
        TestResult {
            verdict: TestVerdict::Skipped,
            error: None,
            fuel: 0,
            stdout: None,
            in_process: false,
        }
    }
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
    /// With [`JudgeOptions::extract`]: the program found in the answer and judged ("" when
    /// it held no code).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extracted: Option<String>,
}

/// Runs `task`'s program on each test and judges its stdout, the value its function
/// returned, or its asserts, outside the program's reach. Stdin and call tests run in fresh
/// sandboxes of `sandbox`; assert tests in `worker`'s sessions, as `codefuel matrix` runs them.
pub fn judge_task(
    sandbox: &Sandbox,
    worker: &mut Worker<'_>,
    task: &JudgeTask,
    options: &JudgeOptions,
) -> Result<JudgeResult> {
    let limits = Limits::default()
        .with_fuel(options.fuel_per_test)
        .with_memory_bytes(options.memory_mib.min(crate::api::MAX_MEMORY_MIB) << 20)
        .with_timeout(backstop(options.fuel_per_test));
    let extracted = options.extract.then(|| extract_code(&task.code));
    let program = extracted.as_deref().unwrap_or(&task.code);
    let with_prelude;
    let code = if task.prelude.is_empty() {
        program
    } else {
        with_prelude = format!("{}{program}", task.prelude);
        &with_prelude
    };
    let mut tests = match &task.tests {
        Tests::Asserts { asserts } => assert_results(worker, code, asserts, options)?,
        _ => Vec::with_capacity(task.tests.len()),
    };
    let mut failed = false;
    for i in 0..task.tests.len() {
        let result = match &task.tests {
            _ if failed && options.stop_at_first_failure => TestResult::skipped(),
            Tests::StdinStdout { stdin_stdout } => {
                let case = &stdin_stdout[i];
                let program = Program::new(code).with_stdin(case.input.as_bytes());
                let outcome = sandbox.run(program, &limits)?;
                test_result(&outcome, |stdout| {
                    outputs_match(stdout, &case.output, options.exact)
                })
            }
            Tests::Calls { fn_name, calls } => {
                let call = &calls[i];
                let program = Program::new(call_program(code, fn_name, &call.args));
                let outcome = sandbox.run(program, &limits)?;
                test_result(&outcome, |stdout| {
                    returned_value(stdout).is_some_and(|out| call_matches(&out, &call.expected))
                })
            }
            // Already run (all of them, in one session); only the skipping applies.
            Tests::Asserts { .. } => tests[i].clone(),
        };
        failed |= result.verdict != TestVerdict::Pass;
        match &task.tests {
            Tests::Asserts { .. } => tests[i] = result,
            _ => tests.push(result),
        }
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
        extracted,
    })
}

/// Assert tests, judged by the matrix machinery: the code loads once, each snippet runs in a
/// fresh module namespace with its own fuel limit, and assert-shaped snippets are compared
/// outside the code's reach (the rest are marked `in_process`).
fn assert_results(
    worker: &mut Worker<'_>,
    code: &str,
    asserts: &[String],
    options: &JudgeOptions,
) -> Result<Vec<TestResult>> {
    let problem = MatrixProblem {
        id: String::new(),
        prompt: String::new(),
        codes: vec![code.to_owned()],
        tests: asserts.to_vec(),
        entry_point: None,
        reference: None,
    };
    let matrix_options = MatrixOptions {
        test_fuel: options.fuel_per_test,
        problem_fuel: u64::MAX,
        memory_bytes: options.memory_mib.min(crate::api::MAX_MEMORY_MIB) << 20,
        ..MatrixOptions::default()
    };
    let matrix = problem_matrix_with(worker, &problem, &matrix_options).map_err(Error::from)?;
    let row = matrix
        .rows
        .into_iter()
        .next()
        .ok_or_else(|| Error::Internal("the matrix of one code has no row".into()))?;
    Ok(row
        .cells
        .into_iter()
        .map(|cell| {
            let (verdict, error) = match cell.status {
                CellStatus::Pass => (TestVerdict::Pass, None),
                CellStatus::Fail => (TestVerdict::WrongAnswer, None),
                CellStatus::Error => (TestVerdict::Exception, cell.error),
                CellStatus::SyntaxError => (TestVerdict::SyntaxError, cell.error),
                CellStatus::FuelLimit => (TestVerdict::FuelLimit, None),
                CellStatus::Memory => (TestVerdict::Memory, None),
                CellStatus::Crash => (TestVerdict::Crash, None),
                CellStatus::Skipped => (TestVerdict::Skipped, None),
            };
            TestResult {
                verdict,
                error,
                fuel: cell.fuel,
                stdout: None,
                in_process: cell.judged == Judged::InProcess,
            }
        })
        .collect())
}

/// The line that precedes a call's return value on stdout.
const RESULT_MARKER: &str = "\u{0}codefuel-judge-result\u{0}";

/// The program of one function-call test: the task's code, then a few lines that call
/// `fn_name` (or `Solution().fn_name`) on `args` with stdout captured, and print the marker and
/// the return value as JSON. Arguments may be seen by the code; the expected value is not in
/// the program.
fn call_program(code: &str, fn_name: &str, args: &[Value]) -> String {
    let args = Value::Array(args.to_vec()).to_string();
    // A JSON string literal is also a Python one (serde_json escapes only `"`, `\\` and
    // control characters, with escapes Python reads the same way).
    let literal = |text: &str| Value::String(text.to_owned()).to_string();
    let harness = [
        "import sys as _cf_sys, json as _cf_json, io as _cf_io".to_owned(),
        format!("_cf_name = {}", literal(fn_name)),
        "_cf_solution = globals().get('Solution')".to_owned(),
        "if isinstance(_cf_solution, type) and hasattr(_cf_solution, _cf_name):".to_owned(),
        "    _cf_fn = getattr(_cf_solution(), _cf_name)".to_owned(),
        "else:".to_owned(),
        "    _cf_fn = globals()[_cf_name]".to_owned(),
        "_cf_out, _cf_sys.stdout = _cf_sys.stdout, _cf_io.StringIO()".to_owned(),
        "try:".to_owned(),
        format!(
            "    _cf_value = _cf_fn(*_cf_json.loads({}))",
            literal(&args)
        ),
        "finally:".to_owned(),
        "    _cf_sys.stdout = _cf_out".to_owned(),
        format!(
            "_cf_out.write('\\n' + {} + '\\n' + _cf_json.dumps(_cf_value) + '\\n')",
            literal(RESULT_MARKER)
        ),
    ];
    format!("{code}\n\n{}\n", harness.join("\n"))
}

/// The JSON value after the last result marker on `stdout`, if any.
fn returned_value(stdout: &[u8]) -> Option<Value> {
    let text = std::str::from_utf8(stdout).ok()?;
    let at = text.rfind(RESULT_MARKER)?;
    serde_json::from_str(text[at + RESULT_MARKER.len()..].trim()).ok()
}

/// Whether a call's return value `out` passes for `expected`: [`values_match`], or, as APPS's
/// checker also accepts, `expected` is a one-element-wrapped list of it (`[out]`).
pub fn call_matches(out: &Value, expected: &Value) -> bool {
    values_match(out, expected)
        || matches!(expected, Value::Array(items) if items.len() == 1 && values_match(out, &items[0]))
}

/// Python's `==` on JSON values (tuples arrive as lists), with numbers equal when an integer
/// pair is equal or, with a float on either side, within evalplus's tolerance
/// (`|a - b| <= 1e-6 + 1e-7 * |b|`, `np.allclose` with evalplus's atol).
pub fn values_match(out: &Value, expected: &Value) -> bool {
    match (out, expected) {
        (Value::Number(a), Value::Number(b)) => match (a.as_i64(), b.as_i64()) {
            (Some(x), Some(y)) => x == y,
            _ => match (a.as_f64(), b.as_f64()) {
                (Some(x), Some(y)) => x == y || (x - y).abs() <= 1e-6 + 1e-7 * y.abs(),
                _ => false,
            },
        },
        (Value::Array(a), Value::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| values_match(x, y))
        }
        (Value::Object(a), Value::Object(b)) => {
            a.len() == b.len()
                && a.iter()
                    .all(|(k, x)| b.get(k).is_some_and(|y| values_match(x, y)))
        }
        // `True == 1` in Python, but a bool answer for a number is what a checker rejects.
        _ => out == expected,
    }
}

/// The wall-clock backstop behind a fuel limit: generous (a second per G of fuel, at least
/// the runtime's default), so fuel, not the clock, decides every verdict.
pub fn backstop(fuel: u64) -> Duration {
    DEFAULT_TIMEOUT.max(Duration::from_secs(fuel / 1_000_000_000))
}

fn test_result(outcome: &RunOutcome, passes: impl Fn(&[u8]) -> bool) -> TestResult {
    let (verdict, error) = match &outcome.verdict {
        Verdict::Completed { exit_code: 0 } if passes(&outcome.stdout) => (TestVerdict::Pass, None),
        Verdict::Completed { exit_code: 0 } => (TestVerdict::WrongAnswer, None),
        Verdict::Completed { exit_code } => (
            TestVerdict::Exception,
            Some(format!("SystemExit:{exit_code}")),
        ),
        // A compile error of the program itself has no "Traceback" (nothing ran).
        Verdict::Exception {
            type_name,
            traceback,
            ..
        } if matches!(
            type_name.as_str(),
            "SyntaxError" | "IndentationError" | "TabError"
        ) && !traceback.starts_with("Traceback") =>
        {
            (TestVerdict::SyntaxError, Some(type_name.clone()))
        }
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
        in_process: false,
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
        let stdin = |task: &JudgeTask| match &task.tests {
            Tests::StdinStdout { stdin_stdout } => stdin_stdout.clone(),
            _ => panic!("not stdin tests"),
        };

        let apps = json!({"problem_id": 7, "solution": "x",
            "input_output": "{\"inputs\": [\"1\\n\", \"2\\n\"], \"outputs\": [\"1\\n\", [\"2\"]]}"});
        let task = JudgeTask::from_json(&apps, 2).unwrap();
        assert_eq!(task.id, "7");
        assert_eq!(
            stdin(&task)[1].output,
            "2\n",
            "a list of lines is their join"
        );

        let contests = json!({"name": "c", "completion": "x",
            "public_tests": {"input": ["a"], "output": ["b"]},
            "private_tests": {"input": ["c", "d"], "output": ["e", "f"]}});
        let task = JudgeTask::from_json(&contests, 3).unwrap();
        assert_eq!(task.tests.len(), 3);
        assert_eq!(stdin(&task)[2].input, "d");

        let calls = json!({"code": "x", "tests": {"fn_name": "f", "calls": [{"args": [1, [2]], "expected": 3}]}});
        let task = JudgeTask::from_json(&calls, 4).unwrap();
        assert_eq!(
            task.tests,
            Tests::Calls {
                fn_name: "f".into(),
                calls: vec![Call {
                    args: vec![json!(1), json!([2])],
                    expected: json!(3)
                }],
            }
        );
        let apps_calls = json!({"code": "x",
            "input_output": "{\"fn_name\": \"g\", \"inputs\": [[1, 2]], \"outputs\": [[3]]}"});
        let lcb = json!({"question_id": "q1", "code": "x",
            "public_test_cases": "[{\"input\": \"[1, 2]\\n3\", \"output\": \"[0, 1]\", \"testtype\": \"functional\"}]",
            "private_test_cases": "",
            "metadata": "{\"func_name\": \"twoSum\"}"});
        let task = JudgeTask::from_json(&lcb, 6).unwrap();
        assert_eq!(
            task.tests,
            Tests::Calls {
                fn_name: "twoSum".into(),
                calls: vec![Call {
                    args: vec![json!([1, 2]), json!(3)],
                    expected: json!([0, 1])
                }],
            }
        );
        let lcb_stdin = json!({"code": "x",
            "public_test_cases": [{"input": "1\n", "output": "2\n", "testtype": "stdin"}]});
        assert_eq!(JudgeTask::from_json(&lcb_stdin, 7).unwrap().tests.len(), 1);
        let task = JudgeTask::from_json(&apps_calls, 5).unwrap();
        assert!(
            matches!(&task.tests, Tests::Calls { fn_name, calls } if fn_name == "g" && calls[0].expected == json!([3]))
        );
    }

    #[test]
    fn bad_tasks_are_input_errors_that_say_why() {
        for (value, why) in [
            (json!([1]), "not a JSON object"),
            (json!({"tests": {}}), "no \"code\""),
            (json!({"code": "x"}), "no tests"),
            (
                json!({"code": "x", "public_test_cases": "[]", "private_test_cases": "eJz="}),
                "decompressed first",
            ),
            (
                json!({"code": "x", "input_output": "{\"fn_name\": \"f\", \"inputs\": [1], \"outputs\": [1]}"}),
                "not an argument list",
            ),
            (
                json!({"code": "x", "tests": {"fn_name": "f"}}),
                "function-call tests must be",
            ),
            (
                json!({"code": "x", "tests": {"asserts": [1]}}),
                "\"asserts\" must be a list of strings",
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

    #[test]
    fn values_compare_as_python_with_evalplus_float_tolerance() {
        assert!(values_match(&json!(1), &json!(1.0)));
        assert!(values_match(&json!([0.1, 2]), &json!([0.1000000001, 2])));
        assert!(!values_match(&json!(0.1), &json!(0.1001)));
        assert!(
            !values_match(&json!(true), &json!(1)),
            "a bool is not a number answer"
        );
        assert!(!values_match(&json!([1, 2]), &json!([1, 2, 3])));
        assert!(values_match(&json!({"a": [1]}), &json!({"a": [1.0]})));
        assert!(
            call_matches(&json!(5), &json!([5])),
            "APPS wraps outputs in a list"
        );
        assert!(call_matches(&json!([5]), &json!([5])));
        assert!(!call_matches(&json!(5), &json!([5, 5])));
    }

    #[test]
    fn the_call_program_reads_back_only_after_the_last_marker() {
        let program = call_program(
            "def f(a):\n    print('noise')\n    return a",
            "f",
            &[json!("x\"\n")],
        );
        assert!(program.contains("_cf_name = \"f\""), "{program}");
        let stdout = format!("printed\n{RESULT_MARKER}\n[1]\n{RESULT_MARKER}\n{{\"a\": 2}}\n");
        assert_eq!(returned_value(stdout.as_bytes()), Some(json!({"a": 2})));
        assert_eq!(returned_value(b"no marker"), None);
    }
}
