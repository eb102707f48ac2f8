//! `codefuel judge` throughput: judged stdin test cases per second for short contest programs,
//! on all cores (2 here), against the same tests run as one `python3` subprocess each (the way
//! verl's prime_code and rllm run them), also on all cores. The ratio is printed at the end.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Instant;

use codefuel::judge::{IoCase, JudgeTask, Tests};
use codefuel::progress::Silent;
use codefuel::{Engine, EngineConfig, JudgeRequest};
use criterion::{Criterion, Throughput};

const PROGRAM: &str = "a, b = map(int, input().split())\nprint(a + b)\n";
const TASKS: usize = 50;
const TESTS_PER_TASK: usize = 10;

fn request() -> JudgeRequest {
    let tasks = (0..TASKS)
        .map(|t| {
            let cases = (0..TESTS_PER_TASK)
                .map(|i| IoCase {
                    input: format!("{t} {i}\n"),
                    output: format!("{}\n", t + i),
                })
                .collect();
            JudgeTask {
                id: t.to_string(),
                code: PROGRAM.into(),
                tests: Tests::StdinStdout {
                    stdin_stdout: cases,
                },
                prelude: String::new(),
            }
        })
        .collect();
    JudgeRequest::new(tasks)
}

/// The interpreter `python3` runs (a pyenv or asdf shim is a shell script that would be
/// timed too).
fn python3() -> String {
    let out = Command::new("python3")
        .args(["-c", "import sys; print(sys.executable)"])
        .output()
        .expect("python3");
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// Seconds for every test of `request` as a `python3` subprocess, on `jobs` threads.
fn native_seconds(request: &JudgeRequest, jobs: usize) -> f64 {
    let python = python3();
    let inputs: Vec<&str> = request
        .tasks
        .iter()
        .flat_map(|task| match &task.tests {
            Tests::StdinStdout { stdin_stdout } => stdin_stdout.iter().map(|c| c.input.as_str()),
            _ => unreachable!(),
        })
        .collect();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let start = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            scope.spawn(|| {
                while let Some(input) =
                    inputs.get(next.fetch_add(1, std::sync::atomic::Ordering::Relaxed))
                {
                    let mut child = Command::new(&python)
                        .args(["-c", PROGRAM])
                        .stdin(Stdio::piped())
                        .stdout(Stdio::piped())
                        .spawn()
                        .expect("python3");
                    child
                        .stdin
                        .take()
                        .unwrap()
                        .write_all(input.as_bytes())
                        .unwrap();
                    child.wait_with_output().unwrap();
                }
            });
        }
    });
    start.elapsed().as_secs_f64()
}

fn bench(c: &mut Criterion) {
    let engine = Engine::new(&EngineConfig::default()).expect("engine");
    let request = request();
    let tests = (TASKS * TESTS_PER_TASK) as u64;
    let results = engine.judge(&request, &Silent).unwrap();
    assert!(results.iter().all(|r| r.all_passed), "every test passes");

    let mut group = c.benchmark_group("judge");
    group.sample_size(10);
    group.throughput(Throughput::Elements(tests));
    group.bench_function("short stdin programs, all cores", |b| {
        b.iter(|| engine.judge(&request, &Silent).unwrap())
    });
    group.finish();

    let start = Instant::now();
    engine.judge(&request, &Silent).unwrap();
    let ours = start.elapsed().as_secs_f64();
    let native = native_seconds(&request, engine.jobs());
    println!(
        "judge: {:.0} tests/s on {} cores; python3 subprocess per test: {:.0} tests/s ({:.2}x)",
        tests as f64 / ours,
        engine.jobs(),
        tests as f64 / native,
        native / ours
    );
}

fn main() {
    let mut criterion = Criterion::default().configure_from_args();
    bench(&mut criterion);
    criterion.final_summary();
}
