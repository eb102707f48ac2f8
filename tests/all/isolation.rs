//! Everything that would reach the host fails inside the guest with a Python exception.

use codefuel_runtime::Verdict;
use codefuel_tests::{run, stdout};

/// Runs `attempt` inside `try`; the program prints `contained <ExceptionType>` if it raised.
fn contained(attempt: &str) -> String {
    let source = format!(
        "try:\n    {attempt}\n    print('escaped')\nexcept BaseException as e:\n    print('contained', type(e).__name__)\n"
    );
    let outcome = run(&source);
    assert!(
        matches!(outcome.verdict, Verdict::Completed { exit_code: 0 }),
        "{attempt}: {outcome:?}"
    );
    stdout(&outcome)
}

#[test]
fn host_files_cannot_be_read() {
    for attempt in [
        "open('/etc/passwd').read()",
        "open('/proc/self/environ', 'rb').read()",
        "open('Cargo.toml').read()",
        "open('../shared/STYLE.md').read()",
    ] {
        assert!(contained(attempt).starts_with("contained"), "{attempt}");
    }
}

#[test]
fn files_cannot_be_written() {
    assert!(contained("open('/tmp/codefuel-escape', 'w').write('x')").starts_with("contained"));
}

#[test]
fn directories_cannot_be_listed() {
    for attempt in [
        "__import__('os').listdir('/')",
        "__import__('os').listdir('.')",
        "__import__('os').scandir('/')",
    ] {
        assert!(contained(attempt).starts_with("contained"), "{attempt}");
    }
}

#[test]
fn sockets_cannot_be_opened() {
    for attempt in [
        "__import__('socket').create_connection(('127.0.0.1', 22))",
        "__import__('socket').socket().connect(('127.0.0.1', 22))",
        "__import__('urllib.request').request.urlopen('http://127.0.0.1/')",
    ] {
        assert!(contained(attempt).starts_with("contained"), "{attempt}");
    }
}

#[test]
fn processes_cannot_be_spawned() {
    for attempt in [
        "__import__('subprocess').run(['ls'])",
        "__import__('os').system('ls')",
        "__import__('os').fork()",
        "__import__('os').execv('/bin/sh', ['sh'])",
    ] {
        assert!(contained(attempt).starts_with("contained"), "{attempt}");
    }
}

#[test]
fn native_code_cannot_be_loaded() {
    for attempt in [
        "__import__('ctypes').CDLL('libc.so.6')",
        "__import__('_ctypes')",
        "__import__('numpy')",
    ] {
        assert!(contained(attempt).starts_with("contained"), "{attempt}");
    }
}

#[test]
fn environment_is_empty() {
    let outcome = run(
        "import os, sys\nprint(dict(os.environ), os.getenv('HOME'), os.getenv('PATH'), sys.argv)\n",
    );
    assert!(outcome.verdict.is_success(), "{outcome:?}");
    assert_eq!(stdout(&outcome), "{} None None ['main.py']\n");
}

#[test]
fn stdin_is_what_the_host_gives() {
    let sandbox = codefuel_tests::sandbox();
    let program = codefuel_runtime::Program::new("import sys\nprint(sys.stdin.read().upper())")
        .with_stdin(b"hello");
    let outcome = sandbox
        .run(program, &codefuel_runtime::Limits::default())
        .unwrap();
    assert_eq!(stdout(&outcome), "HELLO\n");
    let empty = run("print(repr(input.__name__)); import sys; print(repr(sys.stdin.read()))");
    assert_eq!(stdout(&empty), "'input'\n''\n");
}
