//! Attacks on the verdicts, as a sample written to forge one would try them.
//!
//! Every sample here is one real attack on HumanEval/0 (`has_close_elements`, whose outputs
//! are bools) through `codefuel evaluate`, or on assert-shaped tests through `codefuel matrix`.
//! For each, the verdict must be the honest one (a pass only when the code really computes the
//! right outputs), the run must complete, and the honest samples in the same file must get
//! exactly the results they get alone. Before the trusted sessions, the first four attacks
//! passed (or panicked the host).

mod common;

use std::path::Path;

use common::{codefuel, codefuel_io, guest, lines, ok, repo};

/// The honest, correct solution.
const CORRECT: &str = "def has_close_elements(numbers, threshold):\n    s = sorted(numbers)\n    return any(b - a < threshold for a, b in zip(s, s[1:]))\n";
/// An honest, wrong one (right on some inputs).
const WRONG: &str = "def has_close_elements(numbers, threshold):\n    return False\n";

/// (name, program, expected base status, expected plus status, expected base reason or "").
const ATTACKS: &[(&str, &str, &str, &str, &str)] = &[
    (
        "patch the driver's special oracle",
        "import codefuel_driver\ncodefuel_driver.special_oracle = lambda *a: (True, True)\ndef has_close_elements(n, t):\n    return None\n",
        "fail",
        "fail",
        "missing_module:codefuel_driver",
    ),
    (
        "a missing module with a 100 kB name: the reason is cut, not the verdict",
        "raise ModuleNotFoundError('no', name='m' * 100_000)\n",
        "fail",
        "fail",
        "missing_module:mmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmm",
    ),
    (
        "a 100 kB exception class name",
        "raise type('E' * 100_000, (Exception,), {})()\n",
        "fail",
        "fail",
        "exception:EEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEE",
    ),
    (
        "forge result records for every input, then end the process",
        "import _codefuel, json, os\nheader = _codefuel.payload()\nfor i in range(1000):\n    _codefuel.emit('result', b'%d 1 0 ' % i)\n_codefuel.emit('done', b'')\nos._exit(0)\n",
        "fail",
        "fail",
        "exception:AttributeError",
    ),
    (
        "return an object that equals everything",
        "class Eq:\n    def __eq__(self, other):\n        return True\n    __hash__ = object.__hash__\ndef has_close_elements(n, t):\n    return Eq()\n",
        "fail",
        "fail",
        "unjudgeable_output:Eq",
    ),
    (
        "an out-of-range record at module level (panicked the host)",
        "import _codefuel\n_codefuel.emit('result', b'99999 1 0 ')\ndef has_close_elements(n, t):\n    return True\n",
        "fail",
        "fail",
        "exception:AttributeError",
    ),
    (
        "hide the fuel with the deadline functions",
        "import _codefuel\ndef has_close_elements(n, t):\n    _codefuel.deadline_end()\n    _codefuel.deadline_begin(0, 0)\n    return False\n",
        "fail",
        "fail",
        "exception:AttributeError",
    ),
    (
        "read the expected outputs from the tables",
        "import _codefuel\ndef has_close_elements(n, t):\n    return _codefuel.table_item(1, 0)\n",
        "fail",
        "fail",
        "exception:AttributeError",
    ),
    (
        "patch builtins the judge might use",
        "import builtins\nbuiltins.type = lambda *a: bool\nbuiltins.isinstance = lambda *a: True\nbuiltins.len = lambda x: 0\nbuiltins.abs = lambda x: 0\ndef has_close_elements(n, t):\n    return None\n",
        "fail",
        "fail",
        "wrong_answer",
    ),
    (
        "trace and profile hooks that rewrite frames",
        "import sys\ndef hook(frame, event, arg):\n    try:\n        frame.f_locals.update(out=True, exact_match=True, reason=None)\n    except Exception:\n        pass\n    return hook\nsys.settrace(hook)\nsys.setprofile(hook)\ndef has_close_elements(n, t):\n    return None\n",
        "fail",
        "fail",
        "wrong_answer",
    ),
    (
        "__del__, atexit and weakref.finalize hooks that fire after the call",
        "import atexit, os, weakref\nclass Late:\n    def __del__(self):\n        print('late')\natexit.register(os._exit, 0)\ndef has_close_elements(n, t):\n    keep = Late()\n    weakref.finalize(keep, print, 'finalized')\n    return None\n",
        "fail",
        "fail",
        "wrong_answer",
    ),
    (
        "os._exit at module level (evalplus: the process never reports)",
        "import os\nos._exit(0)\n",
        "timeout",
        "timeout",
        "timeout",
    ),
    (
        "sys.exit at module level",
        "import sys\nsys.exit(0)\ndef has_close_elements(n, t):\n    return True\n",
        "fail",
        "fail",
        "exception:SystemExit",
    ),
    (
        "os._exit inside the function",
        "import os\ndef has_close_elements(n, t):\n    os._exit(0)\n",
        "timeout",
        "timeout",
        "timeout",
    ),
    (
        "sys.exit inside the function",
        "import sys\ndef has_close_elements(n, t):\n    sys.exit(0)\n",
        "fail",
        "fail",
        "exception:SystemExit",
    ),
    (
        "KeyboardInterrupt inside the function",
        "def has_close_elements(n, t):\n    raise KeyboardInterrupt\n",
        "fail",
        "fail",
        "exception:KeyboardInterrupt",
    ),
    (
        "a custom BaseException inside the function",
        "class Escape(BaseException):\n    pass\ndef has_close_elements(n, t):\n    raise Escape()\n",
        "fail",
        "fail",
        "exception:Escape",
    ),
    (
        "walk the frames and a traceback for expected values",
        "import sys\ndef has_close_elements(n, t):\n    found = None\n    try:\n        raise ValueError\n    except ValueError as e:\n        tb = e.__traceback__\n    frames = [tb.tb_frame]\n    f = sys._getframe()\n    while f is not None:\n        frames.append(f)\n        f = f.f_back\n    for f in frames:\n        for name in ('exp', 'expected', 'out'):\n            if name in f.f_locals and isinstance(f.f_locals[name], bool):\n                found = f.f_locals[name]\n    return found\n",
        "fail",
        "fail",
        "wrong_answer",
    ),
    (
        "recursion to the limit in __eq__, __repr__ and __hash__ of the output",
        "class Deep:\n    def __eq__(self, other):\n        return self == other\n    def __repr__(self):\n        return repr(self)\n    def __hash__(self):\n        return hash(self)\ndef has_close_elements(n, t):\n    return Deep()\n",
        "fail",
        "fail",
        "unjudgeable_output:Deep",
    ),
    (
        "a subclass of int with a patched __eq__",
        "class Liar(int):\n    def __eq__(self, other):\n        return True\n    __hash__ = int.__hash__\ndef has_close_elements(n, t):\n    return Liar(7)\n",
        "fail",
        "fail",
        "wrong_answer",
    ),
    (
        "a subclass of list with a patched __eq__",
        "class Liar(list):\n    def __eq__(self, other):\n        return True\ndef has_close_elements(n, t):\n    return Liar([1])\n",
        "fail",
        "fail",
        "wrong_answer",
    ),
    (
        "an output larger than the output cap",
        "def has_close_elements(n, t):\n    return 'x' * (100 << 20)\n",
        "fail",
        "fail",
        "unjudgeable_output:too large",
    ),
    (
        "an output nested past the depth cap",
        "def has_close_elements(n, t):\n    x = []\n    for _ in range(1000):\n        x = [x]\n    return x\n",
        "fail",
        "fail",
        "unjudgeable_output:nested deeper than 256",
    ),
];

fn write_samples(path: &Path, solutions: &[&str]) {
    let text: String = solutions
        .iter()
        .map(|s| {
            format!(
                "{}\n",
                serde_json::json!({"task_id": "HumanEval/0", "solution": s})
            )
        })
        .collect();
    std::fs::write(path, text).unwrap();
}

fn evaluate(dir: &Path, name: &str, solutions: &[&str]) -> Vec<serde_json::Value> {
    let samples = dir.join(format!("{name}.jsonl"));
    write_samples(&samples, solutions);
    let output = dir.join(format!("{name}.json"));
    let dataset = repo().join("../shared/datasets/HumanEvalPlus-v0.1.10.jsonl.gz");
    let out = codefuel(&[
        "evaluate",
        "--quiet",
        "--dataset",
        "humaneval",
        "--dataset-file",
        dataset.to_str().unwrap(),
        "--samples",
        samples.to_str().unwrap(),
        "--output",
        output.to_str().unwrap(),
        "--guest",
        guest(),
    ]);
    ok(&out);
    let results: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&output).unwrap()).unwrap();
    results["eval"]["HumanEval/0"].as_array().unwrap().clone()
}

#[test]
fn evaluate_gives_every_attack_its_honest_verdict() {
    let dir = tempfile::tempdir().unwrap();
    let mut solutions: Vec<&str> = ATTACKS.iter().map(|a| a.1).collect();
    solutions.push(CORRECT);
    solutions.push(WRONG);
    let rows = evaluate(dir.path(), "attacks", &solutions);
    assert_eq!(rows.len(), solutions.len());
    let mut wrong = Vec::new();
    for ((name, _, base, plus, reason), row) in ATTACKS.iter().zip(&rows) {
        let got = (
            row["base_status"].as_str().unwrap(),
            row["plus_status"].as_str().unwrap(),
            row["base_fail_reason"].as_str().unwrap_or(""),
        );
        if got != (*base, *plus, *reason) {
            wrong.push(format!(
                "{name}: got {got:?}, want {:?}",
                (base, plus, reason)
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));

    // The honest samples in the same file get exactly what they get alone.
    let alone = evaluate(dir.path(), "alone", &[CORRECT, WRONG]);
    let n = ATTACKS.len();
    for i in 0..2 {
        for field in [
            "base_status",
            "plus_status",
            "base_fuel",
            "plus_fuel",
            "base_fail_tests",
            "plus_fail_tests",
            "base_fail_reason",
        ] {
            assert_eq!(rows[n + i][field], alone[i][field], "sample {i}, {field}");
        }
    }
    assert_eq!(alone[0]["plus_status"], "pass");
    assert_eq!(alone[1]["base_status"], "fail");
}

/// `codefuel matrix` on one problem; returns each row's cell statuses and the matrix line.
fn matrix(dir: &Path, problem: serde_json::Value) -> serde_json::Value {
    matrix_with(dir, problem, &[])
}

/// `matrix` with more options.
fn matrix_with(dir: &Path, problem: serde_json::Value, options: &[&str]) -> serde_json::Value {
    let input = dir.join("p.jsonl");
    std::fs::write(&input, format!("{problem}\n")).unwrap();
    let output = dir.join("m.jsonl");
    let mut args = vec!["--guest", guest()];
    args.extend_from_slice(options);
    ok(&codefuel_io("matrix", &input, &output, &args));
    lines(&output).remove(0)
}

fn statuses(row: &serde_json::Value) -> Vec<String> {
    row["cells"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["status"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn matrix_asserts_cannot_be_forged() {
    let dir = tempfile::tempdir().unwrap();
    let tests = [
        "assert f(1) == 2",
        "assert f(2) != 5",
        "assert f(3) == 4 and f(4) == 5",
        "assert not f(0) == 0",
        "assert isinstance(f(1), int)",
        "assert f(1) in [2, 3]",
        "assert f(1) is not None",
    ];
    let codes = [
        // Honest and right: passes everything.
        "def f(x):\n    return x + 1\n",
        // An object equal to everything (and unequal to everything).
        "class Eq:\n    def __eq__(self, o):\n        return True\n    def __ne__(self, o):\n        return False\n    def __bool__(self):\n        return True\n    __hash__ = object.__hash__\ndef f(x):\n    return Eq()\n",
        // A subclass of int that lies about equality.
        "class Liar(int):\n    def __eq__(self, o):\n        return True\n    def __ne__(self, o):\n        return False\n    __hash__ = int.__hash__\ndef f(x):\n    return Liar(-7)\n",
        // Patch the builtins the tests call, and the driver.
        "import builtins\nbuiltins.isinstance = lambda *a: True\ndef f(x):\n    return 'no'\n",
        "import codefuel_driver\ncodefuel_driver.exec = lambda *a, **k: None\ndef f(x):\n    return 0\n",
        // Forge the driver's records, or end the process inside a test.
        "import _codefuel\n_codefuel.emit('cell', b'0 pass 0 ')\ndef f(x):\n    return 0\n",
        "import os\ndef f(x):\n    os._exit(0)\n",
        // Find the pristine builtins the tests' expressions get through the collector.
        "import gc\nfor d in getattr(gc, 'get_objects', list)():\n    if type(d) is dict and d.get('isinstance') is isinstance:\n        d['isinstance'] = lambda *a: True\ndef f(x):\n    return 'no'\n",
    ];
    let m = matrix(
        dir.path(),
        serde_json::json!({"id": "forge", "prompt": "f", "codes": codes, "tests": tests}),
    );
    let rows = m["rows"].as_array().unwrap();
    assert_eq!(statuses(&rows[0]), ["pass"; 7]);
    // Nothing forged passes: the liars' values are judged as what they are.
    let eq = statuses(&rows[1]);
    assert!(eq.iter().all(|s| s == "fail"), "{eq:?}");
    assert_eq!(rows[1]["cells"][0]["error"], "unjudgeable_output:Eq");
    assert_eq!(
        statuses(&rows[2]),
        ["fail", "pass", "fail", "pass", "pass", "fail", "pass"],
        "Liar(-7) is -7: only the tests true of -7 pass"
    );
    assert_eq!(
        statuses(&rows[3]),
        ["fail", "pass", "fail", "pass", "fail", "fail", "pass"],
        "'no' is no int, whatever builtins.isinstance says"
    );
    for (r, error) in [(4, "ModuleNotFoundError"), (5, "AttributeError")] {
        assert_eq!(rows[r]["load"]["status"], "error");
        assert_eq!(rows[r]["load"]["error"], error);
        assert!(statuses(&rows[r]).iter().all(|s| s == "error"));
    }
    assert!(statuses(&rows[6]).iter().all(|s| s == "crash"));
    assert_eq!(
        statuses(&rows[7]),
        statuses(&rows[3]),
        "no builtins dict the collector lists is the pristine one"
    );
    // Every test here is assert-shaped: judged outside the code's reach, except the one whose
    // value cannot cross as data (the Eq object `isinstance` is applied to): it was evaluated
    // in the code's session, and it says so (and fails).
    assert_eq!(rows[1]["cells"][4]["judged"], "in_process");
    assert_eq!(m.to_string().matches("in_process").count(), 1, "{m}");
}

#[test]
fn builtins_around_a_call_are_applied_outside_the_code() {
    // `len(f(x))`, `isinstance(f(x), int)`: the code's session evaluates `f(x)`, the trusted
    // session the builtins around it. Before, the whole expression ran in the code's session,
    // and `f` could rewrite the builtins its caller had not looked up yet through its frame.
    let dir = tempfile::tempdir().unwrap();
    let tests = [
        "assert isinstance(f(1), int)",
        "assert len(f(1)) == 3",
        "assert sorted(f(1)) == [1, 2, 3]",
        "assert all(x > 0 for x in f(1))",
    ];
    let codes = [
        "def f(x):\n    return [3, 1, 2]\n",
        // Rewrites its caller's builtins, then returns a value no test should pass on.
        "import sys\ndef f(x):\n    b = sys._getframe(1).f_globals['__builtins__']\n    b = b if isinstance(b, dict) else vars(b)\n    b['int'] = str\n    b['len'] = lambda o: 3\n    b['sorted'] = lambda o: [1, 2, 3]\n    b['all'] = lambda o: True\n    return 'no'\n",
        // A generator cannot cross as data: its operands are evaluated in the code's session.
        "def f(x):\n    yield from [3, 1, 2]\n",
    ];
    let m = matrix(
        dir.path(),
        serde_json::json!({"id": "around", "prompt": "f", "codes": codes, "tests": tests}),
    );
    let rows = m["rows"].as_array().unwrap();
    let judged = |row: &serde_json::Value| -> Vec<String> {
        row["cells"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.get("judged").map_or("outside".into(), |j| j.to_string()))
            .collect()
    };
    assert_eq!(statuses(&rows[0]), ["fail", "pass", "pass", "pass"]);
    assert_eq!(judged(&rows[0])[..3], ["outside"; 3]);
    // The comprehension runs in the code's session: forgeable, and marked so.
    assert_eq!(statuses(&rows[1])[..3], ["fail"; 3], "{}", rows[1]);
    assert_eq!(
        judged(&rows[1]),
        ["outside", "outside", "outside", "\"in_process\""]
    );
    assert_eq!(statuses(&rows[2]), ["fail", "error", "pass", "pass"]);
    assert_eq!(judged(&rows[2]), ["\"in_process\""; 4]);
}

#[test]
fn a_test_has_the_codes_memory_cap_in_the_trusted_session() {
    // The builtins around a call into the code (the template) run in the worker's trusted
    // session, which may address 4 GiB. The test's text is as untrusted as the code, so there
    // it gets the code's memory cap (128 MiB here); before, this 400 MB list was built and the
    // worker kept the memory.
    let dir = tempfile::tempdir().unwrap();
    let tests = [
        "assert len(f(1)) + len([0] * (100 * 10**6)) > 0",
        "assert len(f(1)) == 3",
    ];
    let m = matrix_with(
        dir.path(),
        serde_json::json!({"id": "big", "prompt": "f", "codes": ["def f(x):\n    return [1, 2, 3]\n"], "tests": tests}),
        &["--memory", "128"],
    );
    // The worker goes on with a fresh trusted session.
    assert_eq!(statuses(&m["rows"][0]), ["memory", "pass"], "{m}");
    assert!(m["rows"][0]["cells"][0].get("judged").is_none(), "{m}");
}

#[test]
fn matrix_marks_tests_of_other_shapes_as_in_process() {
    let dir = tempfile::tempdir().unwrap();
    let m = matrix(
        dir.path(),
        serde_json::json!({
            "id": "shapes",
            "prompt": "f",
            "codes": ["def f(x):\n    return x\n"],
            "tests": ["assert f(1) == 1", "y = f(2)\nassert y == 2", "import math\nassert math.isclose(f(1.0), 1.0)"],
        }),
    );
    let cells = &m["rows"][0]["cells"];
    assert_eq!(statuses(&m["rows"][0]), ["pass"; 3]);
    assert!(cells[0].get("judged").is_none(), "{cells}");
    assert_eq!(cells[1]["judged"], "in_process");
    assert_eq!(cells[2]["judged"], "in_process");
}

#[test]
fn a_test_that_breaks_the_parser_costs_only_its_own_cell() {
    let dir = tempfile::tempdir().unwrap();
    let deep = format!(
        "assert f(1) == {}{}",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    let m = matrix(
        dir.path(),
        serde_json::json!({
            "id": "parser",
            "prompt": "f",
            "codes": ["def f(x):\n    return x\n"],
            "tests": ["assert f(1) == 1", deep, "assert f(2) == 2"],
        }),
    );
    let cells = statuses(&m["rows"][0]);
    assert_eq!(
        (cells[0].as_str(), cells[2].as_str()),
        ("pass", "pass"),
        "{cells:?}"
    );
    assert_ne!(cells[1], "pass");
}
