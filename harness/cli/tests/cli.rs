//! The `codefuel` binary: exit statuses, output, JSON and determinism across processes.

mod common;

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output};

use common::{ok, repo};

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

/// The commands that run code: each takes `--guest`.
const GUEST_COMMANDS: [&str; 7] = [
    "run", "evaluate", "judge", "matrix", "speedup", "profile", "serve",
];

#[test]
fn every_command_that_runs_code_takes_a_guest() {
    for command in GUEST_COMMANDS {
        let out = codefuel().args([command, "--help"]).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{command}");
        let help = String::from_utf8_lossy(&out.stdout);
        assert!(
            help.contains("--guest <GUEST>")
                && help.contains("- rustpython:")
                && help.contains("- cpython:")
                && help.contains("--features cpython")
                && help.contains("[default: rustpython]"),
            "{command} --help:\n{help}"
        );
    }
    // The commands that run no code have no such flag.
    for command in ["sanitize", "pairs", "score", "cache"] {
        let out = codefuel().args([command, "--help"]).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{command}");
        assert!(!String::from_utf8_lossy(&out.stdout).contains("--guest"));
    }
    // A guest that does not exist is a usage error, before anything runs.
    let out = run_file("print(1)", &["--guest", "pypy"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("invalid value 'pypy'"), "{stderr}");
    assert!(out.stdout.is_empty());
}

/// `command`'s output, or a failure when it has not exited within `secs` (a server that
/// starts instead of failing would never exit).
#[cfg(not(feature = "cpython"))]
fn output_within(mut command: Command, secs: u64) -> Output {
    let mut child = command
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    while child.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("{command:?} still running after {secs} s");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    child.wait_with_output().unwrap()
}

/// Without the `cpython` feature, every command that runs code refuses `--guest cpython`
/// with the same clear message as `run` (a_guest_not_built_is_a_clear_error), and writes
/// nothing.
#[cfg(not(feature = "cpython"))]
#[test]
fn a_guest_not_built_fails_every_command_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name).to_str().unwrap().to_owned();
    let example = |name: &str| repo().join("examples").join(name);
    // Copies, so that nothing can be written next to the shipped samples.
    for name in ["baseline.jsonl", "candidate.jsonl"] {
        std::fs::copy(example("speedup").join(name), dir.path().join(name)).unwrap();
    }
    let problems = example("demo/problems.jsonl");
    let problems = problems.to_str().unwrap();
    let demo = example("demo/samples.jsonl");
    let judge = example("judge/tasks.jsonl");
    let prefs = example("prefs/problems.jsonl");
    let commands: Vec<Vec<String>> = vec![
        vec![
            "evaluate".into(),
            "--dataset-file".into(),
            problems.into(),
            "--samples".into(),
            demo.to_str().unwrap().into(),
            "--output".into(),
            path("results.json"),
        ],
        vec![
            "judge".into(),
            "--input".into(),
            judge.to_str().unwrap().into(),
            "--output".into(),
            path("judged.jsonl"),
        ],
        vec![
            "matrix".into(),
            "--input".into(),
            prefs.to_str().unwrap().into(),
            "--output".into(),
            path("matrix.jsonl"),
        ],
        vec![
            "speedup".into(),
            "--dataset-file".into(),
            problems.into(),
            "--baseline".into(),
            path("baseline.jsonl"),
            "--candidate".into(),
            path("candidate.jsonl"),
            "--output".into(),
            path("speedup.json"),
        ],
        vec![
            "profile".into(),
            "--dataset-file".into(),
            problems.into(),
            "--samples".into(),
            path("baseline.jsonl"),
            "--output".into(),
            path("profile.json"),
        ],
        vec!["serve".into(), "--bind".into(), "127.0.0.1:0".into()],
    ];
    for args in &commands {
        let mut command = codefuel();
        command.args(args).args(["--guest", "cpython"]);
        if args[0] != "serve" {
            command.arg("-q"); // serve draws no progress bars
        }
        let out = output_within(command, 120);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{}: {stderr}", args[0]);
        assert!(
            stderr.contains("built without the cpython guest")
                && stderr.contains("guests/cpython/install-deps.sh"),
            "{}: {stderr}",
            args[0]
        );
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
    let mut left: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(
        left,
        ["baseline.jsonl", "candidate.jsonl"],
        "nothing written"
    );
}

/// Results say which guest made them: `guest` and its module's SHA-256, in evaluate's
/// results file and the efficiency reports; results of another guest build are not reused.
#[test]
fn results_record_the_guest_that_made_them() {
    let dir = tempfile::tempdir().unwrap();
    let problems = repo().join("examples/demo/problems.jsonl");
    let samples = dir.path().join("samples.jsonl");
    std::fs::copy(repo().join("examples/speedup/baseline.jsonl"), &samples).unwrap();
    let read = |path: &std::path::Path| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    };
    let rustpython_sha = codefuel::runtime::GUEST_SHA256;
    assert_eq!(rustpython_sha.len(), 64);

    let results = dir.path().join("samples_eval_results.json");
    ok(&common::codefuel(&[
        "evaluate",
        "-q",
        "--guest",
        "rustpython",
        "--dataset-file",
        problems.to_str().unwrap(),
        "--samples",
        samples.to_str().unwrap(),
    ]));
    let info = &read(&results)["codefuel"];
    assert_eq!(info["guest"], "rustpython", "{info}");
    assert_eq!(info["guest_sha256"], rustpython_sha, "{info}");

    let profile = |out: &str| {
        common::codefuel(&[
            "profile",
            "-q",
            "--dataset-file",
            problems.to_str().unwrap(),
            "--samples",
            samples.to_str().unwrap(),
            "--output",
            dir.path().join(out).to_str().unwrap(),
        ])
    };
    let first = profile("a.json");
    ok(&first);
    assert!(String::from_utf8_lossy(&first.stderr).contains("reusing evaluation results"));
    let report = read(&dir.path().join("a.json"));
    assert_eq!(report["guest"], "rustpython");
    assert_eq!(report["guest_sha256"], rustpython_sha);

    // The same results claiming another guest build are stale: evaluated again, rewritten.
    let mut other = read(&results);
    other["codefuel"]["guest_sha256"] = "0".repeat(64).into();
    std::fs::write(&results, other.to_string()).unwrap();
    let second = profile("b.json");
    ok(&second);
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(
        stderr.contains("evaluating") && !stderr.contains("reusing"),
        "{stderr}"
    );
    assert_eq!(read(&results)["codefuel"]["guest_sha256"], rustpython_sha);
    assert_eq!(
        std::fs::read(dir.path().join("a.json")).unwrap(),
        std::fs::read(dir.path().join("b.json")).unwrap()
    );
}

/// With the CPython guest built, `evaluate --guest cpython` runs the samples in it and says
/// so: the results name `cpython` and its module's SHA-256, and the expected outputs are
/// cached under that build, apart from RustPython's.
#[cfg(feature = "cpython")]
#[test]
fn the_cpython_guest_evaluates_and_its_results_name_it() {
    use codefuel::runtime::GuestKind;
    let dir = tempfile::tempdir().unwrap();
    let results = dir.path().join("results.json");
    let problems = repo().join("examples/demo/problems.jsonl");
    let samples = repo().join("examples/demo/samples.jsonl");
    ok(&common::codefuel(&[
        "evaluate",
        "-q",
        "--guest",
        "cpython",
        "--dataset-file",
        problems.to_str().unwrap(),
        "--samples",
        samples.to_str().unwrap(),
        "--output",
        results.to_str().unwrap(),
    ]));
    let results: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&results).unwrap()).unwrap();
    let sha256 = GuestKind::CPython
        .sha256()
        .expect("built with the cpython guest");
    assert_ne!(sha256, codefuel::runtime::GUEST_SHA256);
    assert_eq!(results["codefuel"]["guest"], "cpython");
    assert_eq!(results["codefuel"]["guest_sha256"], sha256);
    // Demo/0: the right solution passes, the wrong one fails, as in RustPython.
    let demo0: Vec<&str> = results["eval"]["Demo/0"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row["plus_status"].as_str().unwrap())
        .collect();
    assert_eq!(demo0, ["pass", "fail"]);
    let groundtruth = codefuel::runtime::default_cache_dir().join("groundtruth");
    let entries: Vec<String> = std::fs::read_dir(groundtruth)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        entries
            .iter()
            .any(|name| name.starts_with("humaneval-") && name.contains(&sha256[..16])),
        "{entries:?}"
    );
}

#[cfg(feature = "cpython")]
#[test]
fn both_guests_give_the_same_verdicts_on_the_examples() {
    let dir = tempfile::tempdir().unwrap();
    // The verdicts of `command` on `input`: judge's per test, matrix's per load and cell.
    let verdicts = |command: &str, input: &str, guest: &str| -> Vec<String> {
        let output = dir.path().join(format!("{command}-{guest}.jsonl"));
        ok(&common::codefuel_io(
            command,
            &repo().join(input),
            &output,
            &["--guest", guest],
        ));
        let mut verdicts = Vec::new();
        for row in common::lines(&output) {
            if command == "judge" {
                for test in row["tests"].as_array().unwrap() {
                    verdicts.push(test["verdict"].to_string());
                }
            } else {
                for code in row["rows"].as_array().unwrap() {
                    verdicts.push(code["load"]["status"].to_string());
                    for cell in code["cells"].as_array().unwrap() {
                        verdicts.push(cell["status"].to_string());
                    }
                }
            }
        }
        verdicts
    };
    for (command, input) in [
        ("judge", "examples/judge/tasks.jsonl"),
        ("matrix", "examples/prefs/problems.jsonl"),
    ] {
        let rustpython = verdicts(command, input, "rustpython");
        let cpython = verdicts(command, input, "cpython");
        assert!(rustpython.len() >= 6, "{command}: {rustpython:?}");
        assert_eq!(rustpython, cpython, "{command}");
    }
}
