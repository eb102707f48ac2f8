//! The Python that HumanEval/MBPP solutions use behaves as CPython's does.

use codefuel_tests::{run, stdout};

#[test]
fn common_features_match_cpython_output() {
    let outcome = run(include_str!("../programs/features.py"));
    assert!(
        outcome.verdict.is_success(),
        "{:?}\n{}",
        outcome.verdict,
        String::from_utf8_lossy(&outcome.stderr)
    );
    let expected = include_str!("../programs/features.expected");
    for (got, want) in stdout(&outcome).lines().zip(expected.lines()) {
        assert_eq!(got, want);
    }
    assert_eq!(stdout(&outcome), expected);
}

#[test]
fn program_runs_as_main() {
    let outcome = run("print(__name__, __file__)\nif __name__ == '__main__':\n    print('main')\n");
    assert_eq!(stdout(&outcome), "__main__ main.py\nmain\n");
}

#[test]
fn fresh_sandbox_costs_little_fuel_before_user_code() {
    let outcome = run("pass");
    assert!(outcome.verdict.is_success(), "{outcome:?}");
    assert!(outcome.fuel < 5_000_000, "start-up fuel {}", outcome.fuel);
}

#[test]
fn preloaded_modules_import_cheaply() {
    let bare = run("pass");
    let imports = run(
        "import typing, math, collections, itertools, functools, re, heapq, bisect, string, \
         hashlib, json, copy, random, statistics, fractions, decimal",
    );
    assert!(imports.verdict.is_success(), "{imports:?}");
    assert!(
        imports.fuel - bare.fuel < 1_000_000,
        "imports cost {} fuel",
        imports.fuel - bare.fuel
    );
}

#[test]
fn fuel_counter_is_visible_to_the_program() {
    let outcome = run(
        "import _codefuel\na = _codefuel.fuel()\nsum(range(100000))\nb = _codefuel.fuel()\nprint(b > a > 0)\n",
    );
    assert_eq!(stdout(&outcome), "True\n");
}

#[test]
fn large_lists_work() {
    // RustPython 0.5 aborted on wasm32 past 32767 references to one object.
    let outcome = run("x = [0] * 40000\ny = [x] * 40000\nprint(len(x), len(y), sum(x))\n");
    assert_eq!(stdout(&outcome), "40000 40000 0\n");
}

#[test]
fn marshal_round_trips_big_integers_in_linear_time() {
    // The driver moves inputs and expected outputs between runs with marshal. RustPython's
    // own reader was quadratic in the digits (seconds for one HumanEval+ output); the guest
    // carries a patched copy (guests/python/vendor/rustpython-compiler-core).
    let outcome = run("import _codefuel, marshal\n\
         ok = True\n\
         for bits in [31, 32, 44, 45, 60, 64, 100, 105, 106, 1000, 99999]:\n\
         \x20   for x in [2**bits - 1, 2**bits, 2**bits + 1, -(2**bits), -(3**bits), 0, -1]:\n\
         \x20       ok = ok and marshal.loads(marshal.dumps(x)) == x\n\
         print(ok)\n\
         x = 7**200000\n\
         data = marshal.dumps(x)\n\
         a = _codefuel.fuel()\n\
         y = marshal.loads(data)\n\
         b = _codefuel.fuel()\n\
         print(y == x, len(data), b - a < 50_000_000)\n");
    assert_eq!(stdout(&outcome), "True\nTrue 74869 True\n", "{outcome:?}");
}
