//! `codefuel judge`: programs judged on stdin/stdout, function-call or assert tests, from RL
//! and contest datasets.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::Result;
use codefuel::JudgeRequest;
use codefuel::judge::{DEFAULT_FUEL_PER_TEST, FUEL_PER_SECOND, JudgeOptions, JudgeTask};
use codefuel::stats::group_thousands;
use serde_json::Value;

use super::{GuestArgs, RunnerArgs};

/// Flags of `codefuel judge`.
#[derive(Clone, Debug, clap::Args)]
pub struct JudgeArgs {
    /// Tasks: JSONL, one program and its tests per line (codefuel's, APPS/TACO's or
    /// CodeContests' shape; see --help).
    #[arg(long, value_name = "FILE")]
    pub input: PathBuf,
    /// Where to write one result per task (JSONL, input order).
    #[arg(long, value_name = "FILE")]
    pub output: PathBuf,
    /// Fuel limit of each test [default: 20 G, one second of CPython].
    #[arg(long, value_name = "N", conflicts_with = "time_per_test")]
    pub fuel_per_test: Option<u64>,
    /// Time limit of each test in CPython seconds, turned into fuel at 20 G per second (the
    /// evalplus calibration), so the same program always gets the same verdict.
    #[arg(long, value_name = "S")]
    pub time_per_test: Option<f64>,
    /// Memory cap of each test, in MiB.
    #[arg(long, value_name = "MB", default_value_t = codefuel::api::DEFAULT_RUN_MEMORY_MIB)]
    pub memory: u64,
    /// Stop a task at its first failing test (the rest are "skipped").
    #[arg(long)]
    pub stop_at_first_failure: bool,
    /// Compare stdout byte for byte (default: trailing whitespace on each line and trailing
    /// blank lines are ignored, as APPS's and verl's checkers do).
    #[arg(long)]
    pub exact: bool,
    /// The programs are raw model answers (markdown, chat): judge the code found in each,
    /// the last Python code fence after any </think>, else the longest valid span of lines;
    /// the code judged is written to "extracted".
    #[arg(long)]
    pub extract: bool,
    /// The interpreter.
    #[command(flatten)]
    pub guest: GuestArgs,
    /// Workers (tasks are spread over them), cache and progress.
    #[command(flatten)]
    pub runner: RunnerArgs,
}

impl JudgeArgs {
    fn fuel_per_test(&self) -> Result<u64> {
        match (self.fuel_per_test, self.time_per_test) {
            (Some(fuel), _) => Ok(fuel),
            (None, Some(secs)) if secs.is_finite() && secs > 0.0 => {
                Ok((secs * FUEL_PER_SECOND as f64).min(u64::MAX as f64) as u64)
            }
            (None, Some(secs)) => Err(codefuel::Error::Input(format!(
                "--time-per-test must be a positive number of seconds, got {secs}"
            ))
            .into()),
            (None, None) => Ok(DEFAULT_FUEL_PER_TEST),
        }
    }
}

/// Runs the command; returns the process exit status.
pub fn execute(args: &JudgeArgs) -> Result<i32> {
    let options = JudgeOptions {
        fuel_per_test: args.fuel_per_test()?,
        memory_mib: args.memory,
        stop_at_first_failure: args.stop_at_first_failure,
        exact: args.exact,
        extract: args.extract,
    };
    let lines: Vec<(usize, Value)> = codefuel::files::read_jsonl(&args.input, "not JSON")?;
    let tasks = lines
        .iter()
        .map(|(n, value)| JudgeTask::from_json(value, *n))
        .collect::<codefuel::Result<Vec<_>>>()?;
    if tasks.is_empty() {
        return Err(
            codefuel::Error::Input(format!("{} holds no tasks", args.input.display())).into(),
        );
    }
    let engine = args.runner.engine(args.guest)?;
    let results = engine.judge(&JudgeRequest { tasks, options }, &args.runner.progress())?;
    codefuel::files::write_jsonl(&args.output, &results)?;

    let all = results.iter().filter(|r| r.all_passed).count();
    let mean_rate = results.iter().map(|r| r.pass_rate).sum::<f64>() / results.len() as f64;
    let mut verdicts: BTreeMap<String, usize> = BTreeMap::new();
    for test in results.iter().flat_map(|r| &r.tests) {
        let name = serde_json::to_value(&test.verdict)?
            .as_str()
            .unwrap_or("?")
            .to_owned();
        *verdicts.entry(name).or_default() += 1;
    }
    let fuel: u64 = results.iter().map(|r| r.fuel).sum();
    println!(
        "{} tasks: {all} passed every test ({:.1} %), mean pass rate {:.3}",
        results.len(),
        100.0 * all as f64 / results.len() as f64,
        mean_rate
    );
    let parts: Vec<String> = verdicts.iter().map(|(v, n)| format!("{v} {n}")).collect();
    println!(
        "tests: {}   fuel {}",
        parts.join(", "),
        group_thousands(fuel)
    );
    println!("results: {}", args.output.display());
    Ok(0)
}
