//! The CPython 3.11 guest (`--features cpython`): runs keep the sandbox's guarantees (fuel,
//! memory, recursion, no host access, determinism), and sessions answer exactly as the
//! RustPython guest's do. (The whole suite also runs on this guest: `CODEFUEL_TEST_GUEST`.)

use std::collections::BTreeMap;
use std::sync::OnceLock;

use codefuel_runtime::{
    GuestKind, Limits, Program, RunOutcome, Sandbox, SandboxConfig, Verdict, Workspace, on_runner,
};
use codefuel_tests::stdout;

fn cpython() -> &'static Sandbox {
    static SANDBOX: OnceLock<Sandbox> = OnceLock::new();
    SANDBOX.get_or_init(|| {
        Sandbox::with_config(&SandboxConfig {
            guest: GuestKind::CPython,
            ..SandboxConfig::default()
        })
        .expect("building the CPython sandbox")
    })
}

fn run_with(source: &str, limits: &Limits) -> RunOutcome {
    cpython()
        .run(Program::new(source), limits)
        .expect("host-side failure")
}

fn run(source: &str) -> RunOutcome {
    run_with(source, &Limits::default())
}

fn exception_type(outcome: &RunOutcome) -> &str {
    match &outcome.verdict {
        Verdict::Exception { type_name, .. } => type_name,
        other => panic!("expected an exception, got {other:?}"),
    }
}

#[test]
fn runs_programs_in_cpython_3_11() {
    let outcome = run("import sys, json, re, collections\n\
         print(sys.implementation.name, sys.version_info[:2])\n\
         print(json.dumps(collections.Counter(re.findall(r'\\w', 'abca'))))\n");
    assert_eq!(outcome.verdict, Verdict::Completed { exit_code: 0 });
    assert_eq!(
        stdout(&outcome),
        "cpython (3, 11)\n{\"a\": 2, \"b\": 1, \"c\": 1}\n"
    );
    assert_eq!(cpython().guest(), GuestKind::CPython);
}

#[test]
fn stdin_exit_codes_and_errors_are_verdicts() {
    let program = Program::new("import sys\nprint(input()[::-1])\nsys.exit(int(input()))\n")
        .with_stdin(b"abc\n3\n".to_vec());
    let outcome = cpython().run(program, &Limits::default()).unwrap();
    assert_eq!(stdout(&outcome), "cba\n");
    assert_eq!(outcome.verdict, Verdict::Completed { exit_code: 3 });
    assert_eq!(exception_type(&run("1 / 0\n")), "ZeroDivisionError");
    assert_eq!(exception_type(&run("def f(:\n")), "SyntaxError");
    // A NUL byte is refused as CPython does, not the end of the program.
    let nul = run("print(1)\n\0print(2)\n");
    assert_eq!(exception_type(&nul), "SyntaxError");
    assert_eq!(stdout(&nul), "");
}

#[test]
fn fuel_is_the_deterministic_time_limit() {
    let fib = "def fib(n):\n    return n if n < 2 else fib(n - 1) + fib(n - 2)\nprint(fib(20))\n";
    let (a, b) = (run(fib), run(fib));
    assert_eq!(stdout(&a), "6765\n");
    assert!(a.fuel > 0);
    assert_eq!(a.fuel, b.fuel);
    let endless = run_with(
        "while True:\n    pass\n",
        &Limits::default().with_fuel(500_000_000),
    );
    assert_eq!(endless.verdict, Verdict::FuelExhausted);
}

#[test]
fn time_randomness_and_hashes_are_the_same_every_run() {
    let source = "import time, random, os\n\
         t = time.time(); time.sleep(5)\n\
         print(round(time.time() - t), random.random(), os.urandom(4).hex(), hash('codefuel'))\n";
    let first = stdout(&run(source));
    assert!(first.starts_with("5 "), "{first}");
    assert_eq!(first, stdout(&run(source)));
    // The only host call a program reaches: bad lengths are refused, not passed on.
    let bad = run("import time, _codefuel\n\
         for n in (-1, float('nan'), 1e300):\n\
         \x20   try:\n\
         \x20       _codefuel.sleep(n); print('slept')\n\
         \x20   except ValueError:\n\
         \x20       print('ValueError')\n\
         print(time.sleep is _codefuel.sleep)\n");
    assert_eq!(stdout(&bad), "ValueError\nValueError\nValueError\nTrue\n");
}

#[test]
fn memory_and_recursion_end_in_verdicts() {
    let limits = Limits::default().with_memory_bytes(64 << 20);
    let hog = run_with("x = bytearray(200 * 2**20)\n", &limits);
    assert_eq!(hog.verdict, Verdict::MemoryLimit);
    let deep = run("def f(n):\n    return f(n - 1) + 1 if n else 0\nprint(f(900))\n");
    assert_eq!(stdout(&deep), "900\n");
    let endless = run("def f(n):\n    return f(n + 1)\nf(0)\n");
    assert_eq!(exception_type(&endless), "RecursionError");
}

#[test]
fn the_host_is_out_of_reach() {
    let outcome = run("import os\n\
         for attempt in (lambda: open('/etc/passwd').read(), lambda: os.listdir('/'),\n\
                         lambda: open('out.txt', 'w').write('x')):\n\
         \x20   try:\n\
         \x20       attempt(); print('reached')\n\
         \x20   except OSError as e:\n\
         \x20       print(type(e).__name__)\n");
    assert_eq!(outcome.verdict, Verdict::Completed { exit_code: 0 });
    assert!(
        !stdout(&outcome).contains("reached"),
        "{}",
        stdout(&outcome)
    );
    assert_eq!(stdout(&outcome).lines().count(), 3);
}

fn rustpython() -> &'static Sandbox {
    static SANDBOX: OnceLock<Sandbox> = OnceLock::new();
    SANDBOX.get_or_init(|| Sandbox::new().expect("building the RustPython sandbox"))
}

/// The responses of one session of `sandbox` to `requests`.
fn session_responses(sandbox: &Sandbox, requests: &[Vec<u8>]) -> Vec<Vec<u8>> {
    on_runner(|| {
        let lease = sandbox.lease();
        let mut session = lease.session(&Limits::default()).expect("a session");
        requests
            .iter()
            .map(
                |request| match session.call(request, 20_000_000_000).result {
                    Ok(response) => response,
                    Err(verdict) => format!("{verdict:?}").into_bytes(),
                },
            )
            .collect()
    })
    .expect("on a runner")
}

/// A check-mode session that loads `code` and calls `f()` with an output cap of `cap` bytes.
fn check_and_call(code: &str, cap: u32) -> Vec<Vec<u8>> {
    let header = serde_json::json!({"mode": "check", "code": code, "entry_point": "f"});
    let load = [b"L".as_slice(), header.to_string().as_bytes()].concat();
    let mut call = vec![b'C'];
    call.extend_from_slice(&cap.to_le_bytes());
    call.extend_from_slice(b"Vl\x00");
    session_responses(cpython(), &[load.clone(), call.clone()])
        .into_iter()
        .chain(session_responses(rustpython(), &[load, call]))
        .collect()
}

#[test]
fn sessions_answer_byte_for_byte_as_the_rustpython_guest_does() {
    // Every kind of value the encoding has, its edges (i64 bounds, minimal big ints, lone
    // surrogates, the string table, subclasses) and each failure answer.
    let values = [
        "None",
        "True",
        "False",
        "0",
        "-1",
        "2**63 - 1",
        "-2**63",
        "2**63",
        "-2**63 - 1",
        "2**64",
        "-2**64",
        "2**127",
        "-2**127",
        "-(2**200) + 12345",
        "255",
        "-129",
        "1.5",
        "-0.0",
        "float('inf')",
        "float('nan')",
        "1e-310",
        "complex(1, -2)",
        "''",
        "'héllo \\U0001F600'",
        "'\\ud800x'",
        "'x' * 300",
        "['ab', 'ab', 'cd', 'ab', 'x' * 300, 'x' * 300]",
        "b'\\x00\\xff'",
        "[1, (2, 3), [], ()]",
        "{'a': [1], 2: {}, (1, 'b'): None}",
        "{7}",
        "frozenset({'q'})",
        "type('S', (str,), {})('sub')",
        "type('I', (int,), {})(5)",
        "__import__('enum').IntEnum('E', 'A B').B",
        "type('D', (dict,), {})(k=1)",
        "object()",
        "lambda: 0",
        "range(3)",
        "[[[[1]]]]",
        "__import__('functools').reduce(lambda a, _: [a], range(300), 0)",
        "1 / 0",
        "__import__('numpy')",
        "undefined_name",
    ];
    for value in values {
        let code = format!("def f():\n    return {value}\n");
        let responses = check_and_call(&code, u32::MAX);
        assert_eq!(responses[0], b"O", "{value}");
        assert_eq!(
            responses[1],
            responses[3],
            "{value}: CPython {:?}, RustPython {:?}",
            String::from_utf8_lossy(&responses[1]),
            String::from_utf8_lossy(&responses[3])
        );
    }
    // The output cap, and a load that fails.
    let capped = check_and_call("def f():\n    return 'x' * 100\n", 50);
    assert_eq!(capped[1], b"Utoo large");
    assert_eq!(capped[1], capped[3]);
    let broken = check_and_call("def f(:\n", u32::MAX);
    assert_eq!(broken[0], b"ESyntaxError");
    assert_eq!(broken[0], broken[2]);
}

#[test]
fn runs_with_files_work_as_in_the_rustpython_guest() {
    let files = Workspace {
        files: BTreeMap::from([("in.txt".to_owned(), b"3 4\n".to_vec())]),
        fetch: vec!["out.txt".to_owned()],
    };
    let source = "a, b = map(int, open('in.txt').read().split())\n\
                  with open('out.txt', 'w') as f:\n    f.write(str(a * b))\n";
    let outcome = cpython()
        .run(
            Program::new(source).with_workspace(files),
            &Limits::default(),
        )
        .unwrap();
    assert_eq!(outcome.verdict, Verdict::Completed { exit_code: 0 });
    assert_eq!(
        outcome.files.get("out.txt").map(Vec::as_slice),
        Some(b"12".as_slice())
    );
}
