//! A run's in-memory working directory (`Workspace`): files in, files back, nothing shared
//! with the host or the next run, and nothing the program does to it harms the host.

use std::collections::BTreeMap;

use codefuel_runtime::{Limits, Program, RunOutcome, Verdict, Workspace};
use codefuel_tests::{run, sandbox, stdout};

fn run_in(source: &str, files: &[(&str, &[u8])], fetch: &[&str], limits: &Limits) -> RunOutcome {
    let workspace = Workspace {
        files: files
            .iter()
            .map(|(name, data)| (name.to_string(), data.to_vec()))
            .collect(),
        fetch: fetch.iter().map(|name| name.to_string()).collect(),
    };
    sandbox()
        .run(Program::new(source).with_workspace(workspace), limits)
        .expect("host-side failure")
}

fn completed(outcome: &RunOutcome) {
    assert!(
        matches!(outcome.verdict, Verdict::Completed { exit_code: 0 }),
        "{outcome:?}"
    );
}

#[test]
fn files_go_in_and_come_back() {
    let all_bytes: Vec<u8> = (0..=255).collect();
    let source = "\
import os, pathlib, shutil
data = open('in/bytes.bin', 'rb').read()
print(len(data), data[:3], os.path.getsize('in/bytes.bin'), os.path.isdir('in'))
with open('notes.txt', 'w') as f:
    print('line 1', file=f)
with open('notes.txt', 'a') as f:
    f.write('line 2\\n')
print(open('notes.txt').read().splitlines())
os.makedirs('a/b', exist_ok=True)
pathlib.Path('a/b/c.txt').write_text('deep')
shutil.copy('notes.txt', 'a/copy.txt')
os.rename('a/copy.txt', 'a/b/moved.txt')
os.remove('notes.txt')
print([(d, sorted(ds), sorted(fs)) for d, ds, fs in os.walk('.')])
open('left-open.txt', 'w').write('unflushed')
try:
    open('missing.txt')
except FileNotFoundError as e:
    print('missing', e.filename)
os.chdir('a/b')  # what is handed back was named relative to where the run started
";
    let outcome = run_in(
        source,
        &[("in/bytes.bin", &all_bytes)],
        &[
            "in/bytes.bin",
            "a/b/c.txt",
            "a/b/moved.txt",
            "notes.txt",
            "left-open.txt",
        ],
        &Limits::default(),
    );
    completed(&outcome);
    assert_eq!(
        stdout(&outcome),
        "256 b'\\x00\\x01\\x02' 256 True\n\
         ['line 1', 'line 2']\n\
         [('.', ['a', 'in'], []), ('./a', ['b'], []), ('./a/b', [], ['c.txt', 'moved.txt']), ('./in', [], ['bytes.bin'])]\n\
         missing missing.txt\n"
    );
    let expected: BTreeMap<String, Vec<u8>> = [
        ("in/bytes.bin", all_bytes.clone()),
        ("a/b/c.txt", b"deep".to_vec()),
        ("a/b/moved.txt", b"line 1\nline 2\n".to_vec()),
        ("left-open.txt", b"unflushed".to_vec()),
    ]
    .into_iter()
    .map(|(name, data)| (name.to_owned(), data))
    .collect();
    // notes.txt was removed, so it is not handed back.
    assert_eq!(outcome.files, expected);
}

#[test]
fn each_run_starts_with_only_its_own_files() {
    let first = run_in(
        "open('mine.txt', 'w').write('x')",
        &[],
        &[],
        &Limits::default(),
    );
    completed(&first);
    let second = run_in(
        "import os\nprint(os.listdir('.'))",
        &[("other.txt", b"y")],
        &["mine.txt"],
        &Limits::default(),
    );
    assert_eq!(stdout(&second), "['other.txt']\n");
    assert!(second.files.is_empty());
    // Without a workspace there is no file system at all, as before.
    let plain =
        run("try:\n    open('a.txt', 'w')\nexcept OSError as e:\n    print(type(e).__name__)");
    let error = match codefuel_tests::guest() {
        codefuel_runtime::GuestKind::RustPython => "FileNotFoundError\n",
        // WASI without a preopened directory: the open is not permitted.
        codefuel_runtime::GuestKind::CPython => "PermissionError\n",
    };
    assert_eq!(stdout(&plain), error);
}

#[test]
fn a_program_that_tampers_with_the_workspace_spoils_only_its_own_files() {
    // The replaced `open` is a Python function: its globals are the driver's. Whatever the
    // program puts there, the host gets well-formed results or none, never a failure.
    for sabotage in [
        "open.__globals__['workspace_collect'] = lambda: 5",
        "open.__globals__['workspace_collect'] = lambda: [('x', 'not bytes')]",
        "open.__globals__['workspace_collect'] = lambda: [(1, b'')] * 3",
        "def boom():\n    raise SystemExit(9)\nopen.__globals__['workspace_collect'] = boom",
        "open.__globals__['_WORKSPACE'] = None",
    ] {
        let source = format!("open('out.txt', 'w').write('ok')\n{sabotage}\nprint('done')");
        let outcome = run_in(&source, &[], &["out.txt"], &Limits::default());
        completed(&outcome);
        assert_eq!(stdout(&outcome), "done\n", "{sabotage}");
        assert!(outcome.files.is_empty(), "{sabotage}: {:?}", outcome.files);
    }
    // A collect that never ends runs on the program's own fuel.
    let source = "open.__globals__['workspace_collect'] = lambda: [0 for _ in iter(int, 1)]";
    let outcome = run_in(
        source,
        &[],
        &["x"],
        &Limits::default().with_fuel(2_000_000_000),
    );
    assert_eq!(outcome.verdict, Verdict::FuelExhausted);
}

#[test]
fn files_count_against_the_memory_cap() {
    // 300 MiB of file under a 160 MiB cap (above the ~95 MiB the guest starts with: a cap
    // below that refuses the run, `limits.rs`).
    let source = "f = open('big.bin', 'wb')\nchunk = b'x' * (1 << 20)\nfor _ in range(300):\n    f.write(chunk)\n";
    let limits = Limits::default().with_memory_bytes(160 << 20);
    let outcome = run_in(source, &[], &["big.bin"], &limits);
    assert_eq!(outcome.verdict, Verdict::MemoryLimit, "{outcome:?}");
    assert!(outcome.files.is_empty());
}
