//! The CPython 3.11 guest (`--features cpython`): plain runs keep the sandbox's guarantees
//! (fuel, memory, recursion, no host access, determinism), and what it cannot do yet
//! (sessions, workspaces with files) is a clear error, not a crash.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use codefuel_runtime::{
    Error, GuestKind, Limits, Program, RunOutcome, Sandbox, SandboxConfig, Verdict, Workspace,
    on_runner,
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

fn assert_unsupported(error: &Error) {
    assert!(
        matches!(
            error,
            Error::Unsupported {
                guest: "cpython",
                ..
            }
        ),
        "{error}"
    );
}

#[test]
fn sessions_and_files_are_refused_clearly() {
    let files = Workspace {
        files: BTreeMap::from([("in.txt".to_owned(), b"x".to_vec())]),
        fetch: Vec::new(),
    };
    let error = cpython()
        .run(
            Program::new("pass").with_workspace(files),
            &Limits::default(),
        )
        .unwrap_err();
    assert_unsupported(&error);
    // An empty workspace is a plain run.
    let empty = cpython()
        .run(
            Program::new("print(1)").with_workspace(Workspace::default()),
            &Limits::default(),
        )
        .unwrap();
    assert_eq!(stdout(&empty), "1\n");
    let error = on_runner(|| cpython().lease().session(&Limits::default()).err())
        .unwrap()
        .expect("a session on the CPython guest is refused");
    assert_unsupported(&error);
}
