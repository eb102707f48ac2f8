//! Embedding the codefuel library: run one program, then judge one sample on the demo
//! problem set, with no CLI in between.
//!
//! ```sh
//! cargo run --release -p codefuel --example embed
//! ```

use codefuel::progress::Silent;
use codefuel::samples::{SampleRecord, Samples};
use codefuel::{DatasetKind, Engine, EngineConfig, EvaluateRequest, RunRequest, Verdict};

fn main() -> Result<(), codefuel::Error> {
    let engine = Engine::new(&EngineConfig::default())?;

    // 1. Run a program: its output, verdict and fuel (the same on every run and machine).
    let program = "import sys\nprint(sum(int(x) for x in sys.stdin.read().split()))";
    let run = RunRequest::new(program)
        .with_stdin("1 2 3 4")
        .with_fuel(1_000_000_000);
    let outcome = engine.run(&run)?;
    println!(
        "run: {:?} -> stdout {:?}, {} fuel",
        outcome.verdict,
        String::from_utf8_lossy(&outcome.stdout),
        outcome.fuel
    );
    // A program's failure is a verdict, not an error.
    let outcome = engine.run(&RunRequest::new("while True: pass").with_fuel(10_000_000))?;
    assert_eq!(outcome.verdict, Verdict::FuelExhausted);
    println!("run: an endless loop -> {}", outcome.verdict.name());

    // 2. Judge one sample of Demo/0 (`add`) with evalplus's verdicts, expected outputs from
    //    the canonical solution, computed in a sandbox the sample never touches.
    let demo = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/demo/problems.jsonl"
    );
    let mut request = EvaluateRequest::new(
        DatasetKind::Humaneval,
        Samples::Inline(vec![SampleRecord {
            task_id: "Demo/0".into(),
            solution: None,
            completion: Some("    return a + b\n".into()),
        }]),
    );
    request.dataset_file = Some(demo.into());
    let evaluation = engine.evaluate(&request, &Silent)?;
    let row = &evaluation.results.eval["Demo/0"][0];
    println!(
        "judge: Demo/0 base {:?}, plus {:?}, {} fuel on the plus inputs",
        row.base_status,
        row.plus_status,
        row.plus_fuel.unwrap_or(0)
    );
    Ok(())
}
