//! The `codefuel` binary: exit statuses, output, JSON and determinism across processes.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output};

fn codefuel() -> Command {
    Command::new(env!("CARGO_BIN_EXE_codefuel"))
}

fn program(name: &str, source: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::File::create(&path)
        .unwrap()
        .write_all(source.as_bytes())
        .unwrap();
    (dir, path)
}

fn run_file(source: &str, extra: &[&str]) -> Output {
    let (_dir, path) = program("prog.py", source);
    codefuel()
        .arg("run")
        .arg(&path)
        .args(extra)
        .output()
        .unwrap()
}

#[test]
fn prints_output_and_summary() {
    let out = run_file("print('hello')", &[]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "hello\n");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("codefuel: completed (exit 0) | fuel "),
        "{stderr}"
    );
}

#[test]
fn exit_status_follows_the_verdict() {
    assert_eq!(
        run_file("import sys; sys.exit(3)", &[]).status.code(),
        Some(1)
    );
    assert_eq!(run_file("1/0", &[]).status.code(), Some(3));
    assert_eq!(
        run_file("while True: pass", &["--fuel", "100000000"])
            .status
            .code(),
        Some(4)
    );
    assert_eq!(
        run_file("x = bytearray(300 * 1024 * 1024)", &["--memory", "128"])
            .status
            .code(),
        Some(5)
    );
    assert_eq!(
        run_file("while True: pass", &["--timeout", "0.2"])
            .status
            .code(),
        Some(6)
    );
}

#[test]
fn json_output_is_one_object() {
    let out = run_file("print('hi')\nraise ValueError('bad')", &["--json"]);
    assert_eq!(out.status.code(), Some(3));
    let value: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(value["verdict"], "exception");
    assert_eq!(value["type"], "ValueError");
    assert_eq!(value["message"], "bad");
    assert_eq!(value["stdout"], "hi\n");
    assert!(value["fuel"].as_u64().unwrap() > 0);
}

#[test]
fn stdin_file_is_the_programs_stdin() {
    let (_dir, input) = program("in.txt", "3 4\n");
    let out = run_file(
        "a, b = map(int, input().split())\nprint(a * b)",
        &["--stdin", input.to_str().unwrap()],
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), "12\n");
}

#[test]
fn missing_file_is_a_clear_error() {
    let out = codefuel()
        .args(["run", "/no/such/file.py"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("cannot read /no/such/file.py"), "{stderr}");
    assert!(!stderr.contains("panicked"));
}

#[test]
fn bad_arguments_are_a_clear_error() {
    let out = codefuel()
        .args(["run", "x.py", "--fuel", "lots"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("invalid value 'lots'"));
    let out = run_file("pass", &["--timeout", "-1"]);
    assert_eq!(out.status.code(), Some(2));
}

/// Without the `cpython` feature, `--guest cpython` says how to get the guest.
#[cfg(not(feature = "cpython"))]
#[test]
fn a_guest_not_built_is_a_clear_error() {
    let out = run_file("print(1)", &["--guest", "cpython"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("built without the cpython guest")
            && stderr.contains("guests/cpython/install-deps.sh"),
        "{stderr}"
    );
}

/// With it, the same flags run the program in CPython 3.11.
#[cfg(feature = "cpython")]
#[test]
fn the_cpython_guest_runs_programs() {
    let out = run_file(
        "import sys\nprint(sys.implementation.name, input())\nsys.exit(1 // 0)\n",
        &["--guest", "cpython", "--json", "--stdin", "/dev/null"],
    );
    let result: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(3), "{result}");
    assert_eq!(result["verdict"], "exception");
    assert_eq!(result["type"], "EOFError", "{result}");
    let out = run_file("print(sum(range(10**6)))", &["--guest", "cpython"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "499999500000\n");
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn two_processes_agree_exactly() {
    let source = "import random, time\nprint({'b': 1, 'a': 2}, {'x', 'y', 'z'}, hash('x'))\n\
                  print(random.random(), time.time())\n";
    let runs: Vec<serde_json::Value> = (0..2)
        .map(|_| serde_json::from_slice(&run_file(source, &["--json"]).stdout).unwrap())
        .collect();
    assert_eq!(runs[0]["stdout"], runs[1]["stdout"]);
    assert_eq!(runs[0]["fuel"], runs[1]["fuel"]);
    assert_eq!(runs[0]["verdict"], "completed");
    // And the in-process library gives the same answer.
    let sandbox = codefuel::runtime::Sandbox::new().unwrap();
    let local = sandbox
        .run(
            codefuel::runtime::Program::new(source),
            &codefuel::runtime::Limits::default(),
        )
        .unwrap();
    assert_eq!(
        runs[0]["stdout"],
        String::from_utf8_lossy(&local.stdout).as_ref()
    );
    assert_eq!(runs[0]["fuel"], local.fuel);
}

#[test]
fn cache_prune_deletes_only_other_guest_builds() {
    let dir = tempfile::tempdir().unwrap();
    let guest = &codefuel::runtime::GUEST_SHA256[..16];
    let other = "0123456789abcdef";
    let write = |rel: &str, bytes: usize| {
        let path = dir.path().join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, vec![0u8; bytes]).unwrap();
    };
    write(&format!("python-{guest}-wasmtime50.0.1-1.cwasm"), 10);
    write(&format!("python-{other}-wasmtime50.0.1-1.cwasm"), 20);
    write(
        &format!("groundtruth/humaneval-aaaa-{guest}/HumanEval_0.data.bin"),
        30,
    );
    write(
        &format!("groundtruth/mbpp-bbbb-{other}/Mbpp_2.data.bin"),
        2000,
    );
    write("datasets/HumanEvalPlus-v0.1.10.jsonl.gz", 50);
    let cache = |extra: &[&str]| {
        let out = codefuel()
            .args(["cache", "--cache-dir", dir.path().to_str().unwrap()])
            .args(extra)
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        String::from_utf8(out.stdout).unwrap()
    };
    let listing = cache(&[]);
    assert!(listing.contains(guest), "{listing}");
    assert!(
        listing.contains("kept 90 B; stale 2.0 kB in 2 entries"),
        "{listing}"
    );
    let stale: Vec<&str> = listing.lines().filter(|l| l.contains("stale (")).collect();
    assert_eq!(stale.len(), 2, "{listing}");
    assert!(stale.iter().all(|l| l.contains(other)), "{listing}");

    let pruned = cache(&["--prune"]);
    assert!(
        pruned.contains("deleted 2 stale entries (2.0 kB); kept 90 B"),
        "{pruned}"
    );
    let mut left: Vec<String> = walk(dir.path());
    left.sort();
    assert_eq!(
        left,
        [
            "datasets/HumanEvalPlus-v0.1.10.jsonl.gz".to_owned(),
            format!("groundtruth/humaneval-aaaa-{guest}/HumanEval_0.data.bin"),
            format!("python-{guest}-wasmtime50.0.1-1.cwasm"),
        ]
    );
    assert!(cache(&[]).contains("stale 0 B in 0 entries"));
}

/// A build with the CPython guest keeps that guest's compiled module too.
#[cfg(feature = "cpython")]
#[test]
fn cache_prune_keeps_every_guest_this_build_embeds() {
    use codefuel::runtime::GuestKind;
    let dir = tempfile::tempdir().unwrap();
    let mut names: Vec<String> = [GuestKind::RustPython, GuestKind::CPython]
        .into_iter()
        .map(|guest| {
            let sha256 = guest.sha256().expect("both guests are built");
            format!("python-{}-wasmtime50.0.1-1.cwasm", &sha256[..16])
        })
        .collect();
    names.push("python-0123456789abcdef-wasmtime50.0.1-1.cwasm".to_owned());
    for name in &names {
        std::fs::write(dir.path().join(name), b"x").unwrap();
    }
    let out = codefuel()
        .args([
            "cache",
            "--prune",
            "--cache-dir",
            dir.path().to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let mut left = walk(dir.path());
    left.sort();
    let mut kept = names[..2].to_vec();
    kept.sort();
    assert_eq!(left, kept);
}

/// Files under `root`, as paths relative to it.
fn walk(root: &std::path::Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path.strip_prefix(root).unwrap().display().to_string());
            }
        }
    }
    out
}
