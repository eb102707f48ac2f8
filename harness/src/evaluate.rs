//! Running samples against HumanEval+/MBPP+ inputs: one sandbox run per sample and split.
//!
//! The guest driver loads the sample, calls it on each input under that input's fuel limit and
//! judges the output as evalplus 0.3.1 does; this module turns its records and the run's
//! verdict into evalplus's statuses ([`Status`]), with per-input fuel. It never formats
//! reports (see [`crate::report`]).

use anyhow::{Context, Result};
use codefuel_runtime::{Limits, Program, Sandbox, Verdict};
use serde::{Deserialize, Serialize};

use crate::dataset::{Dataset, Problem};
use crate::driver::{self, DRIVER_PROGRAM, Records};
use crate::evalplus::{EXEC_BUDGET, FuelPolicy, Status};
use crate::groundtruth::{GroundTruth, Split, SplitTruth};
use crate::parallel;
use crate::samples::Sample;

/// How an evaluation runs.
#[derive(Clone, Debug)]
pub struct EvalOptions {
    /// Skip the plus inputs.
    pub base_only: bool,
    /// Run every input (not stopping at the first failure) and keep per-input results.
    pub test_details: bool,
    /// Worker threads.
    pub jobs: usize,
    /// Per-input fuel limits.
    pub policy: FuelPolicy,
    /// Memory cap of each run, in bytes.
    pub memory_bytes: u64,
    /// Show a progress bar.
    pub progress: bool,
    /// Print each split's wall time and fuel to stderr (`CODEFUEL_PROFILE=1`).
    pub profile: bool,
    /// The order in which a split's inputs are judged.
    pub input_order: InputOrder,
}

/// The order in which a split's inputs are judged.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum InputOrder {
    /// The dataset's order, as evalplus.
    Evalplus,
    /// Cheapest first (by the canonical solution's fuel): a failing sample usually fails on
    /// a cheap input, so fast check stops sooner. Verdicts differ from evalplus only when
    /// inputs share state or evalplus's whole-split budget runs out first.
    CheapestFirst,
}

/// Why an input (or the whole split) failed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum FailReason {
    /// The output did not match.
    WrongAnswer,
    /// The code raised (while loading, or on an input).
    Exception {
        /// The exception's class name.
        #[serde(rename = "type")]
        type_name: String,
    },
    /// An input went over its fuel limit (evalplus: its time limit).
    FuelLimit,
    /// The memory cap was hit.
    Memory,
    /// The call stack overflowed.
    StackOverflow,
    /// The guest crashed.
    Crash,
    /// The split's whole budget ran out outside any input, or the program ended the process.
    Timeout,
}

impl FailReason {
    fn from_driver(reason: &str) -> Self {
        match reason.strip_prefix("exception:") {
            Some(type_name) => FailReason::Exception {
                type_name: type_name.to_owned(),
            },
            None => FailReason::WrongAnswer,
        }
    }

    fn from_verdict(verdict: &Verdict) -> Self {
        match verdict {
            Verdict::MemoryLimit => FailReason::Memory,
            Verdict::StackOverflow => FailReason::StackOverflow,
            Verdict::Exception { type_name, .. } => FailReason::Exception {
                type_name: type_name.clone(),
            },
            _ => FailReason::Crash,
        }
    }

    /// A short label: `wrong_answer`, `exception:TypeError`, `fuel_limit`, ...
    pub fn label(&self) -> String {
        match self {
            FailReason::WrongAnswer => "wrong_answer".into(),
            FailReason::Exception { type_name } => format!("exception:{type_name}"),
            FailReason::FuelLimit => "fuel_limit".into(),
            FailReason::Memory => "memory".into(),
            FailReason::StackOverflow => "stack_overflow".into(),
            FailReason::Crash => "crash".into(),
            FailReason::Timeout => "timeout".into(),
        }
    }
}

/// The result of one judged input.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputResult {
    /// Position of the input in its split.
    pub index: usize,
    /// Whether the output was judged correct.
    pub passed: bool,
    /// Fuel of the call (its limit, when it went over).
    pub fuel: u64,
    /// Fuel the canonical solution used on this input.
    #[serde(default)]
    pub gt_fuel: u64,
    /// This input's fuel limit.
    #[serde(default)]
    pub limit: u64,
    /// Why it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<FailReason>,
}

/// The result of one sample on one split.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SplitResult {
    /// evalplus's status.
    pub status: Status,
    /// Judged inputs, in order (up to the first failure unless `test_details`).
    pub inputs: Vec<InputResult>,
    /// Why the split did not pass (the first failure).
    pub reason: Option<FailReason>,
}

impl SplitResult {
    /// Fuel summed over the judged inputs.
    pub fn fuel(&self) -> u64 {
        self.inputs.iter().map(|i| i.fuel).sum()
    }

    /// Indices of the failing inputs.
    pub fn failing_inputs(&self) -> impl Iterator<Item = usize> + '_ {
        self.inputs.iter().filter(|i| !i.passed).map(|i| i.index)
    }
}

/// The result of one sample.
#[derive(Clone, Debug)]
pub struct SampleResult {
    /// The sample.
    pub sample: Sample,
    /// Its base-split result.
    pub base: SplitResult,
    /// Its plus-split result (absent with `base_only`).
    pub plus: Option<SplitResult>,
}

impl SampleResult {
    /// The result of `split`, if it was run.
    pub fn split(&self, split: Split) -> Option<&SplitResult> {
        match split {
            Split::Base => Some(&self.base),
            Split::Plus => self.plus.as_ref(),
        }
    }
}

/// For each sample, the index of the first sample with the same task and code. Runs are
/// deterministic, so identical samples (common when many are drawn per task) get identical
/// results: [`evaluate`] judges each distinct one once.
pub fn first_occurrences<'a>(samples: impl IntoIterator<Item = &'a Sample>) -> Vec<usize> {
    let mut first = std::collections::HashMap::new();
    samples
        .into_iter()
        .enumerate()
        .map(|(i, s)| *first.entry((&s.task_id, &s.solution)).or_insert(i))
        .collect()
}

/// Evaluates every sample, judging identical samples of a task once; results come back in
/// sample order.
pub fn evaluate(
    dataset: &Dataset,
    truth: &GroundTruth,
    samples: &[Sample],
    sandbox: &Sandbox,
    options: &EvalOptions,
) -> Result<Vec<SampleResult>> {
    let splits: &[Split] = if options.base_only {
        &[Split::Base]
    } else {
        &[Split::Base, Split::Plus]
    };
    let first = first_occurrences(samples);
    // Longest splits first (by the canonical solution's fuel), so a long split does not end
    // up running alone at the end while other cores idle.
    let mut work: Vec<(usize, Split)> = (0..samples.len())
        .filter(|&i| first[i] == i)
        .flat_map(|i| splits.iter().map(move |&s| (i, s)))
        .collect();
    let cost = |&(i, split): &(usize, Split)| -> u64 {
        truth.tasks[&samples[i].task_id]
            .split(split)
            .fuel
            .iter()
            .sum()
    };
    work.sort_by_key(|item| std::cmp::Reverse(cost(item)));
    let bar = if options.progress {
        parallel::progress_bar(work.len(), "evaluating")
    } else {
        indicatif::ProgressBar::hidden()
    };
    let outcomes = parallel::map(&work, options.jobs, &bar, |&(i, split)| {
        let sample = &samples[i];
        let problem = dataset.get(&sample.task_id).expect("samples are matched");
        let split_truth = truth.tasks[&sample.task_id].split(split);
        let started = std::time::Instant::now();
        let result = check_split(
            dataset,
            problem,
            split_truth,
            &sample.solution,
            sandbox,
            options,
        )
        .with_context(|| format!("{} ({})", sample.origin, split.name()));
        if options.profile
            && let Ok(r) = &result
        {
            eprintln!(
                "profile: {:8.3} s  {} {} #{}  {}  {} inputs  {} fuel",
                started.elapsed().as_secs_f64(),
                sample.task_id,
                split.name(),
                sample.completion_id,
                r.status.name(),
                r.inputs.len(),
                r.fuel()
            );
        }
        result
    });
    bar.finish_and_clear();
    let mut by_sample: Vec<[Option<SplitResult>; 2]> = vec![[None, None]; samples.len()];
    for (&(i, split), outcome) in work.iter().zip(outcomes) {
        by_sample[i][split as usize] = Some(outcome?);
    }
    let results = samples
        .iter()
        .zip(&first)
        .map(|(sample, &j)| {
            let [base, plus] = by_sample[j].clone();
            SampleResult {
                sample: sample.clone(),
                base: base.expect("every distinct sample has a base result"),
                plus,
            }
        })
        .collect();
    Ok(results)
}

#[derive(Serialize)]
struct CheckHeader<'a> {
    mode: &'static str,
    dataset: &'static str,
    task_id: &'a str,
    entry_point: &'a str,
    code: &'a str,
    atol: f64,
    fast_check: bool,
    order: &'a [usize],
    limits: &'a [u64],
    exec_budget: u64,
}

/// The deadline tag the driver gives the sample's module-level code.
const EXEC_DEADLINE_TAG: u64 = 1 << 63;

/// Runs one sample on one split, restarting after a fatal input when all inputs must run.
pub fn check_split(
    dataset: &Dataset,
    problem: &Problem,
    truth: &SplitTruth,
    solution: &str,
    sandbox: &Sandbox,
    options: &EvalOptions,
) -> Result<SplitResult> {
    let limits: Vec<u64> = truth
        .fuel
        .iter()
        .map(|&f| options.policy.input_limit(f))
        .collect();
    let n = limits.len();
    let fast_check = !options.test_details;
    let tables = truth.tables();
    let mut order: Vec<usize> = (0..n).collect();
    if options.input_order == InputOrder::CheapestFirst {
        order.sort_by_key(|&i| (truth.fuel[i], i));
    }
    let mut inputs: Vec<InputResult> = Vec::new();
    // Position in `order` of the next input to judge.
    let mut start = 0;
    loop {
        let header = CheckHeader {
            mode: "check",
            dataset: dataset.kind.name(),
            task_id: &problem.task_id,
            entry_point: &problem.entry_point,
            code: solution,
            atol: problem.atol,
            fast_check,
            order: &order[start..],
            limits: &limits,
            exec_budget: EXEC_BUDGET,
        };
        let payload = driver::payload(&header, &[])?;
        let run_limits = Limits::default()
            .with_fuel(options.policy.split_budget())
            .with_memory_bytes(options.memory_bytes)
            .with_timeout(std::time::Duration::from_secs(600))
            .with_output_bytes(64 << 10);
        let outcome = sandbox.run(
            Program::new(DRIVER_PROGRAM)
                .with_payload(&payload)
                .with_tables(&tables),
            &run_limits,
        )?;
        let records = Records(&outcome.records);
        if let Some(data) = records.first("exec_error") {
            let type_name: String = serde_json::from_slice(data)?;
            return Ok(finish(
                Status::Fail,
                inputs,
                Some(FailReason::Exception { type_name }),
            ));
        }
        for data in records.all("result") {
            let mut result = parse_result(data).context("bad result record")?;
            let i = result.index;
            (result.gt_fuel, result.limit) = (truth.fuel[i], limits[i]);
            inputs.push(result);
        }
        let loaded = records.first("loaded").is_some();
        let judged = inputs.len();
        // The input that was running when the run ended, if any.
        let next = order.get(judged).copied();
        // How the run ended decides what happened to the input after the last result.
        let fatal = match (&outcome.verdict, outcome.deadline_exceeded) {
            _ if records.done() => None,
            (Verdict::FuelExhausted, Some(EXEC_DEADLINE_TAG)) => {
                // Module-level code that never finishes: evalplus's process never reports.
                return Ok(finish(Status::Timeout, inputs, Some(FailReason::Timeout)));
            }
            (Verdict::FuelExhausted, Some(index)) => Some((index as usize, FailReason::FuelLimit)),
            (Verdict::FuelExhausted | Verdict::Timeout | Verdict::Completed { .. }, _) => {
                // evalplus: the process never reported, so the split is a timeout.
                return Ok(finish(Status::Timeout, inputs, Some(FailReason::Timeout)));
            }
            (verdict, _) if !loaded => {
                return Ok(finish(
                    Status::Fail,
                    inputs,
                    Some(FailReason::from_verdict(verdict)),
                ));
            }
            (verdict, _) => next.map(|i| (i, FailReason::from_verdict(verdict))),
        };
        match fatal {
            None => break,
            Some((index, reason)) => {
                let fuel = if reason == FailReason::FuelLimit {
                    limits[index]
                } else {
                    0
                };
                inputs.push(InputResult {
                    index,
                    passed: false,
                    fuel,
                    gt_fuel: truth.fuel[index],
                    limit: limits[index],
                    reason: Some(reason),
                });
                start = inputs.len();
                if fast_check || start >= n {
                    break;
                }
            }
        }
    }
    let reason = inputs
        .iter()
        .find(|i| !i.passed)
        .and_then(|i| i.reason.clone());
    let all_judged = inputs.len() == n;
    let status = if reason.is_none() && all_judged {
        Status::Pass
    } else {
        Status::Fail
    };
    Ok(finish(status, inputs, reason))
}

/// Parses the driver's `"<index> <passed 0|1> <fuel> <reason>"` record.
fn parse_result(data: &[u8]) -> Result<InputResult> {
    let text = std::str::from_utf8(data)?;
    let mut parts = text.splitn(4, ' ');
    let mut next = || parts.next().context("missing field");
    let index = next()?.parse()?;
    let passed = next()? == "1";
    let fuel = next()?.parse()?;
    let reason = next().unwrap_or("");
    Ok(InputResult {
        index,
        passed,
        fuel,
        gt_fuel: 0,
        limit: 0,
        reason: (!reason.is_empty()).then(|| FailReason::from_driver(reason)),
    })
}

fn finish(status: Status, mut inputs: Vec<InputResult>, reason: Option<FailReason>) -> SplitResult {
    inputs.sort_by_key(|i| i.index);
    SplitResult {
        status,
        inputs,
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_result_records() {
        assert_eq!(
            parse_result(b"3 1 1200 ").unwrap(),
            InputResult {
                index: 3,
                passed: true,
                fuel: 1200,
                gt_fuel: 0,
                limit: 0,
                reason: None
            }
        );
        assert_eq!(
            parse_result(b"4 0 99 exception:KeyError").unwrap().reason,
            Some(FailReason::Exception {
                type_name: "KeyError".into()
            })
        );
        assert_eq!(
            parse_result(b"5 0 7 wrong_answer").unwrap().reason,
            Some(FailReason::WrongAnswer)
        );
        assert!(parse_result(b"x 1 2 ").is_err());
    }
}
