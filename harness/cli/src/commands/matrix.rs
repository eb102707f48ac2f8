//! `codefuel matrix`: run every generated code against every generated test of each problem.

use std::path::PathBuf;

use anyhow::{Context, Result};
use codefuel::MatrixRequest;
use codefuel::api::DEFAULT_RUN_MEMORY_MIB;
use codefuel::matrix::{
    CellStatus, DEFAULT_LOAD_FUEL, DEFAULT_PROBLEM_FUEL, DEFAULT_TEST_FUEL, Judged, MatrixOptions,
    ProblemMatrix, read_problems, status_counts,
};

use super::{GuestArgs, IsolationChoice, RunnerArgs};

/// Flags of `codefuel matrix`.
#[derive(Clone, Debug, clap::Args)]
pub struct MatrixArgs {
    /// Problems: JSONL of {"id", "prompt", "codes": [..], "tests": [..], "entry_point"?,
    /// "reference"?}.
    #[arg(long, value_name = "FILE")]
    pub input: PathBuf,
    /// Where to write the matrix JSONL (one line per problem: the problem plus its rows).
    #[arg(long, value_name = "FILE")]
    pub output: PathBuf,
    /// Fuel limit of each test (about 10 G per second of guest work).
    #[arg(long, value_name = "N", default_value_t = DEFAULT_TEST_FUEL)]
    pub test_fuel: u64,
    /// Fuel budget for loading each code (its module-level statements).
    #[arg(long, value_name = "N", default_value_t = DEFAULT_LOAD_FUEL)]
    pub load_fuel: u64,
    /// Fuel budget of each problem, checked before each sandbox run (so the run in progress
    /// may overshoot it by up to one load and its tests' limits); cells after it is spent are
    /// marked "skipped".
    #[arg(long, value_name = "N", default_value_t = DEFAULT_PROBLEM_FUEL)]
    pub problem_fuel: u64,
    /// module: one sandbox per code, its module body re-run in a fresh namespace before each
    /// test (interpreter-wide state such as imported modules is shared); fresh: a new
    /// sandbox per (code, test), nothing shared.
    #[arg(long, value_enum, default_value_t = IsolationChoice::Module)]
    pub isolation: IsolationChoice,
    /// Memory cap of each run, in MiB.
    #[arg(long, value_name = "MB", default_value_t = DEFAULT_RUN_MEMORY_MIB)]
    pub memory: u64,
    /// The interpreter.
    #[command(flatten)]
    pub guest: GuestArgs,
    /// Workers (problems are spread over them), cache and progress.
    #[command(flatten)]
    pub runner: RunnerArgs,
}

/// Runs the command; returns the process exit status.
pub fn execute(args: &MatrixArgs) -> Result<i32> {
    let problems = read_problems(&args.input)?;
    if problems.is_empty() {
        return Err(
            codefuel::Error::Input(format!("{} holds no problems", args.input.display())).into(),
        );
    }
    // Fail before the long run if the output cannot be written, without truncating it yet.
    let output_existed = args.output.exists();
    std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(&args.output)
        .with_context(|| format!("cannot write {}", args.output.display()))?;
    let request = MatrixRequest {
        problems,
        options: MatrixOptions {
            test_fuel: args.test_fuel,
            load_fuel: args.load_fuel,
            problem_fuel: args.problem_fuel,
            memory_bytes: args.memory.saturating_mul(1 << 20),
            isolation: args.isolation.into(),
        },
    };
    let report = args
        .runner
        .engine(args.guest)
        .and_then(|engine| engine.matrix(&request, &args.runner.progress()));
    let report = match report {
        Ok(report) => report,
        Err(e) => {
            if !output_existed {
                let _ = std::fs::remove_file(&args.output);
            }
            return Err(e.into());
        }
    };
    codefuel::files::write_jsonl(&args.output, &report.matrices)?;
    let matrices = &report.matrices;
    let (wall, jobs) = (report.wall.as_secs_f64(), report.jobs);
    let cells: usize = matrices
        .iter()
        .map(|m| m.problem.codes.len() * m.problem.tests.len())
        .sum();
    let executed = executed_tests(matrices);
    let codes: usize = matrices.iter().map(|m| m.problem.codes.len()).sum();
    println!(
        "{} problems, {codes} codes, {cells} cells ({executed} test executions) in {wall:.2} s \
         on {jobs} thread(s): {:.0} test executions/s",
        matrices.len(),
        executed as f64 / wall.max(1e-9)
    );
    let counts = status_counts(matrices);
    let parts: Vec<String> = counts
        .iter()
        .map(|(status, n)| {
            format!(
                "{} {n}",
                serde_json::to_value(status).unwrap().as_str().unwrap()
            )
        })
        .collect();
    println!("cells: {}", parts.join(", "));
    let in_process = matrices
        .iter()
        .flat_map(|m| &m.rows)
        .flat_map(|row| &row.cells)
        .filter(|cell| cell.judged == Judged::InProcess)
        .count();
    println!(
        "judged outside the code's reach: {} cells; in process (tests of other shapes): {in_process}",
        cells - in_process
    );
    println!("matrix: {}", args.output.display());
    Ok(0)
}

/// Tests that actually ran: cells of codes that loaded, without the skipped ones.
fn executed_tests(matrices: &[ProblemMatrix]) -> usize {
    matrices
        .iter()
        .flat_map(|m| &m.rows)
        .filter(|row| row.load.status == CellStatus::Pass)
        .flat_map(|row| &row.cells)
        .filter(|cell| cell.status != CellStatus::Skipped)
        .count()
}
