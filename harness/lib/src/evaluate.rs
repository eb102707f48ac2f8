//! Running samples against HumanEval+/MBPP+ inputs: one untrusted session per sample and
//! split, and a trusted one beside it that judges.
//!
//! The host loads the sample into a session, calls its function once per input under that
//! input's fuel limit (measured by the host), and gets each output back as a typed value
//! ([`crate::value`]). Expected outputs never enter the sample's session: an output is
//! judged on the host when it is identical to the expected one, otherwise with evalplus 0.3.1's
//! rules in a trusted session that never runs the sample. This module turns the answers into
//! evalplus's statuses ([`Status`]), with per-input fuel. It never formats reports (see
//! [`crate::report`]).

use anyhow::{Context, Result, bail};
use codefuel_runtime::{Limits, Sandbox, Verdict};
use serde::{Deserialize, Serialize};

use crate::dataset::{Dataset, Problem};
use crate::driver::{self, Worker};
use crate::evalplus::{
    FuelPolicy, Status, atol_after_exact_match, has_special_oracle, oracle_never_passes,
    oracle_reads_input,
};
use crate::groundtruth::{GroundTruth, Split, SplitTruth};
use crate::parallel;
use crate::progress::Progress;
use crate::samples::Sample;
use crate::value::{self, DEFAULT_MAX_OUTPUT_BYTES};

/// Wall-clock backstop of a sample's session: 10 min, above the largest split budget's
/// fuel at the guest's slowest rate (fuel, not this, is what ends a slow sample).
pub const SAMPLE_BACKSTOP: std::time::Duration = std::time::Duration::from_secs(600);

/// Bytes of a sample's stdout and stderr kept (each): 64 KiB. evalplus swallows a sample's
/// output, so it only ever shows up in crash messages.
pub const SAMPLE_OUTPUT_BYTES: usize = 64 << 10;

/// The longest exception class or module name a failure reason keeps, in characters (real
/// ones are far shorter; the code under test chooses them).
pub const MAX_NAME_CHARS: usize = 128;

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
    /// Note each split's wall time and fuel ([`Progress::note`]; the CLI's
    /// `CODEFUEL_PROFILE=1`).
    pub profile: bool,
    /// The order in which a split's inputs are judged.
    pub input_order: InputOrder,
}

/// The order in which a split's inputs are judged.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum InputOrder {
    /// The dataset's order, as evalplus.
    Evalplus,
    /// Cheapest first (by the canonical solution's fuel): a failing sample usually fails on
    /// a cheap input, so fast check stops sooner. Verdicts differ from evalplus only when
    /// inputs share state or evalplus's whole-split budget runs out first.
    #[default]
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
    /// The guest crashed, or answered what no honest run does.
    Crash {
        /// What happened.
        #[serde(default)]
        message: String,
    },
    /// The output is not a value the host can judge: not made of None, bool, int, float,
    /// complex, str, bytes, list, tuple, dict, set and frozenset (or too deep, or too large).
    Unjudgeable {
        /// The output's type, or why it cannot be encoded.
        #[serde(rename = "type")]
        type_name: String,
    },
    /// The split's whole budget ran out outside any input, or the program ended the process.
    Timeout,
    /// Every input passed, but evalplus 0.3.1 fails every split of this task
    /// ([`crate::evalplus::oracle_never_passes`]: HumanEval/32).
    OracleNeverPasses,
    /// The code imports a module the guest does not have (`ModuleNotFoundError`), such as
    /// numpy, which evalplus's environment has (docs/fidelity.md).
    MissingModule {
        /// The module's name.
        module: String,
    },
}

impl FailReason {
    /// The reason of an exception the guest reported as its class name (the `E` response of
    /// a session), with `:module` after `ModuleNotFoundError`. The code under test chooses
    /// both (a class name, a `name=` argument), so each is cut to [`MAX_NAME_CHARS`].
    pub fn from_exception(name: &[u8]) -> Self {
        let name = String::from_utf8_lossy(name);
        let name: String = name.chars().take(2 * MAX_NAME_CHARS + 1).collect();
        let cut = |s: &str| s.chars().take(MAX_NAME_CHARS).collect::<String>();
        match name.split_once(':') {
            Some(("ModuleNotFoundError", module)) => FailReason::MissingModule {
                module: cut(module),
            },
            Some((type_name, _)) => FailReason::Exception {
                type_name: cut(type_name),
            },
            None => FailReason::Exception {
                type_name: cut(&name),
            },
        }
    }

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
            Verdict::Crash { message } => FailReason::Crash {
                message: message.clone(),
            },
            other => FailReason::Crash {
                message: other.name().to_owned(),
            },
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
            FailReason::Crash { .. } => "crash".into(),
            FailReason::Unjudgeable { type_name } => format!("unjudgeable_output:{type_name}"),
            FailReason::Timeout => "timeout".into(),
            FailReason::MissingModule { module } => format!("missing_module:{module}"),
            FailReason::OracleNeverPasses => "oracle_never_passes".into(),
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
    /// Fuel of the sample's module-level code (its `exec`), not counted in [`Self::fuel`].
    pub exec_fuel: u64,
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
    progress: &dyn Progress,
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
    progress.begin("evaluating", work.len() as u64);
    let outcomes = parallel::map_init(
        &work,
        options.jobs,
        progress,
        || Worker::new(sandbox),
        |worker, &(i, split)| {
            let sample = &samples[i];
            let problem = dataset.get(&sample.task_id).expect("samples are matched");
            let split_truth = truth.tasks[&sample.task_id].split(split);
            let started = std::time::Instant::now();
            let run = SplitRun {
                dataset,
                problem,
                truth: split_truth,
                solution: &sample.solution,
                options,
            };
            let result = check_split(&run, worker)
                .with_context(|| format!("{} ({})", sample.origin, split.name()));
            if options.profile
                && let Ok(r) = &result
            {
                progress.note(&format!(
                    "profile: {:8.3} s  {} {} #{}  {}  {} inputs  {} fuel",
                    started.elapsed().as_secs_f64(),
                    sample.task_id,
                    split.name(),
                    sample.completion_id,
                    r.status.name(),
                    r.inputs.len(),
                    r.fuel()
                ));
            }
            result
        },
    );
    progress.end();
    let mut by_sample: Vec<[Option<SplitResult>; 2]> = vec![[None, None]; samples.len()];
    let mut host_failures = Vec::new();
    for (&(i, split), outcome) in work.iter().zip(outcomes) {
        // A host-side failure on one sample is that sample's crash, never the evaluation's.
        let result = outcome.unwrap_or_else(|error| {
            host_failures.push(format!("{error:#}"));
            finish(
                Status::Fail,
                Vec::new(),
                Some(FailReason::Crash {
                    message: format!("{error:#}"),
                }),
            )
        });
        by_sample[i][split as usize] = Some(result);
    }
    if let Some(first) = host_failures.first() {
        progress.note(&format!(
            "warning: {} split(s) could not be judged and are marked crash; the first: {first}",
            host_failures.len()
        ));
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

/// The load request of a sample's untrusted session.
#[derive(Serialize)]
struct LoadHeader<'a> {
    mode: &'static str,
    dataset: &'static str,
    task_id: &'a str,
    entry_point: &'a str,
    code: &'a str,
    /// Hand back the arguments after the call (a special oracle reads them).
    return_args: bool,
}

/// How a sample's untrusted session answered one call, as the host judges it.
enum CallResult {
    /// The function returned: its output (with what its validation found), and its
    /// arguments after the call if asked for.
    Returned {
        out: Vec<u8>,
        summary: value::Summary,
        args: Option<Vec<u8>>,
    },
    /// The input fails for this reason without judging.
    Failed(FailReason),
}

/// Parses the untrusted session's answer to a call. Anything but a well-formed answer is the
/// code's own doing (its interpreter is its to break), so it fails the input as a crash.
fn parse_call(response: &[u8], return_args: bool, max_bytes: usize) -> CallResult {
    let crash = |why: &str| {
        CallResult::Failed(FailReason::Crash {
            message: why.to_owned(),
        })
    };
    match response.split_first() {
        Some((b'R', mut rest)) => {
            let mut blobs = Vec::new();
            while !rest.is_empty() {
                match driver::take_blob(&mut rest) {
                    Some(blob) => blobs.push(blob.to_vec()),
                    None => return crash("a truncated response"),
                }
            }
            if blobs.len() != 1 + usize::from(return_args) {
                return crash("a response with the wrong number of values");
            }
            let mut summaries = Vec::with_capacity(blobs.len());
            for blob in &blobs {
                if blob.len() > max_bytes.saturating_add(1) {
                    return CallResult::Failed(FailReason::Unjudgeable {
                        type_name: "too large".into(),
                    });
                }
                match value::check_blob(blob, false) {
                    Ok(summary) => summaries.push(summary),
                    Err(e) => return crash(&e.to_string()),
                }
            }
            let args = return_args.then(|| blobs.pop()).flatten();
            let out = blobs.pop().expect("one value");
            CallResult::Returned {
                out,
                summary: summaries[0],
                args,
            }
        }
        Some((b'E', name)) => CallResult::Failed(FailReason::from_exception(name)),
        Some((b'U', why)) => CallResult::Failed(FailReason::Unjudgeable {
            type_name: String::from_utf8_lossy(why).into_owned(),
        }),
        _ => crash("an unreadable response"),
    }
}

impl Worker<'_> {
    /// Judges `out` against `exp` (both blobs) with evalplus's rules; returns the reason it
    /// fails, if it does, and the atol for later inputs.
    fn judge(
        &mut self,
        header: &JudgeHeader<'_>,
        inp: &[u8],
        out: &[u8],
        exp: &[u8],
    ) -> Result<(Option<FailReason>, f64)> {
        let session = self.trusted()?;
        let mut request = vec![b'J'];
        driver::put_blob(&mut request, &serde_json::to_vec(header)?);
        for blob in [inp, out, exp] {
            driver::put_blob(&mut request, blob);
        }
        let answer = session.call(&request, driver::TRUSTED_FUEL);
        let response = match answer.result {
            Ok(response) => response,
            Err(verdict) => {
                // The judge is trusted code; only a hostile output can make it fail.
                return Ok((
                    Some(FailReason::Crash {
                        message: format!("judging the output failed: {}", verdict.name()),
                    }),
                    header.atol,
                ));
            }
        };
        let Some((b'R', json)) = response.split_first() else {
            bail!(
                "the judge answered {:?}",
                String::from_utf8_lossy(&response)
            );
        };
        #[derive(Deserialize)]
        struct Verdict {
            reason: Option<String>,
            atol: f64,
        }
        let verdict: Verdict = serde_json::from_slice(json).context("the judge's answer")?;
        Ok((
            verdict.reason.as_deref().map(FailReason::from_driver),
            verdict.atol,
        ))
    }
}

/// What the judge needs besides the values.
#[derive(Serialize)]
struct JudgeHeader<'a> {
    dataset: &'static str,
    entry_point: &'a str,
    atol: f64,
}

/// One sample on one split, with what judging it needs besides a worker.
#[derive(Clone, Copy)]
pub struct SplitRun<'a> {
    /// The dataset the problem is from (its quirks decide some verdicts).
    pub dataset: &'a Dataset,
    /// The task.
    pub problem: &'a Problem,
    /// The split's ground truth: fuel per input and the expected outputs.
    pub truth: &'a SplitTruth,
    /// The sample's code.
    pub solution: &'a str,
    /// Limits and checking options.
    pub options: &'a EvalOptions,
}

/// Runs one sample on one split.
///
/// The sample runs in an untrusted session that never sees an expected output: the host
/// calls its function once per input, with that input's fuel limit, and gets the output back
/// as a typed value. Outputs identical to the expected ones pass on the host; the others are
/// judged with evalplus's rules in a trusted session that never runs the sample. A call that
/// traps ends the session; with `test_details` a new one continues from the next input.
pub fn check_split(run: &SplitRun<'_>, worker: &mut Worker<'_>) -> Result<SplitResult> {
    let mut exec_fuel = 0;
    let mut result = judge_split(run, worker, &mut exec_fuel)?;
    result.exec_fuel = exec_fuel;
    Ok(result)
}

/// [`check_split`]'s work; `exec_fuel` gets the most fuel the module-level code used in one
/// session (a new session runs it again).
fn judge_split(
    run: &SplitRun<'_>,
    worker: &mut Worker<'_>,
    exec_fuel: &mut u64,
) -> Result<SplitResult> {
    let SplitRun {
        dataset,
        problem,
        truth,
        solution,
        options,
    } = *run;
    let limits: Vec<u64> = truth
        .fuel
        .iter()
        .map(|&f| options.policy.input_limit(f))
        .collect();
    let n = limits.len();
    let fast_check = !options.test_details;
    // Read (from the cache) only once the sample has loaded: most failing samples never need
    // the expected outputs of a whole split.
    let mut items = None;
    let mut order: Vec<usize> = (0..n).collect();
    if options.input_order == InputOrder::CheapestFirst {
        order.sort_by_key(|&i| (truth.fuel[i], i));
    }
    let return_args = oracle_reads_input(dataset.kind, &problem.entry_point);
    let load = serde_json::to_vec(&LoadHeader {
        mode: "check",
        dataset: dataset.kind.name(),
        task_id: &problem.task_id,
        entry_point: &problem.entry_point,
        code: solution,
        return_args,
    })?;
    let load_request = [b"L".as_slice(), &load].concat();
    let session_limits = Limits::default()
        .with_memory_bytes(options.memory_bytes)
        .with_timeout(SAMPLE_BACKSTOP)
        .with_output_bytes(SAMPLE_OUTPUT_BYTES);
    let mut atol = problem.atol;
    let mut budget_left = options.policy.split_budget(&limits);
    let exec_budget = options.policy.exec_budget(&limits);
    let mut inputs: Vec<InputResult> = Vec::new();
    // Position in `order` of the next input to judge.
    let mut start = 0;
    'sessions: while start < n || inputs.is_empty() {
        let mut session = worker.lease().session(&session_limits)?;
        let loaded = session.call(&load_request, exec_budget.min(budget_left));
        *exec_fuel = (*exec_fuel).max(loaded.fuel);
        budget_left = budget_left.saturating_sub(loaded.fuel);
        match loaded.result {
            Ok(response) if response == b"O" => {}
            Ok(response) => {
                // evalplus: the code raised while loading (or the entry point is missing).
                let reason = match response.split_first() {
                    Some((b'E', name)) => FailReason::from_exception(name),
                    _ => FailReason::Crash {
                        message: "an unreadable load response".into(),
                    },
                };
                return Ok(finish(Status::Fail, inputs, Some(reason)));
            }
            // Module-level code that never finishes, or that ends the process: evalplus's
            // process never reports.
            Err(Verdict::FuelExhausted | Verdict::Timeout | Verdict::Completed { .. }) => {
                return Ok(finish(Status::Timeout, inputs, Some(FailReason::Timeout)));
            }
            Err(verdict) => {
                return Ok(finish(
                    Status::Fail,
                    inputs,
                    Some(FailReason::from_verdict(&verdict)),
                ));
            }
        }
        if n == 0 {
            break;
        }
        while start < n {
            let i = order[start];
            start += 1;
            if budget_left == 0 {
                return Ok(finish(Status::Timeout, inputs, Some(FailReason::Timeout)));
            }
            let call_fuel = limits[i].min(budget_left);
            if items.is_none() {
                items = Some(truth.items(dataset, problem, worker.lease())?);
            }
            let items = items.as_ref().expect("read above");
            let exp = items.expected(i)?;
            let max_bytes = DEFAULT_MAX_OUTPUT_BYTES.max(exp.len().saturating_mul(2));
            let mut request = vec![b'C'];
            request.extend_from_slice(&u32::try_from(max_bytes).unwrap_or(u32::MAX).to_le_bytes());
            request.extend_from_slice(items.input(i)?);
            let answer = session.call(&request, call_fuel);
            budget_left = budget_left.saturating_sub(answer.fuel);
            let mut result = InputResult {
                index: i,
                passed: false,
                fuel: answer.fuel,
                gt_fuel: truth.fuel[i],
                limit: limits[i],
                reason: None,
            };
            match answer.result {
                Ok(response) => match parse_call(&response, return_args, max_bytes) {
                    CallResult::Returned {
                        out,
                        summary: out_summary,
                        args,
                    } => {
                        let exp_summary = value::check_blob(exp, true)
                            .with_context(|| format!("expected output {i} in the cache"))?;
                        if value::identical(&out, exp, &exp_summary) {
                            result.passed = true;
                            atol = atol_after_exact_match(
                                dataset.kind,
                                &problem.entry_point,
                                atol,
                                exp_summary.is_floats,
                            );
                        } else if atol == 0.0
                            && !has_special_oracle(dataset.kind, &problem.entry_point)
                            && value::plainly_different(&out, &out_summary, exp, &exp_summary)
                        {
                            // `out == exp` is False, no tolerance applies: wrong, and the
                            // atol stays (a plain expected value holds no float).
                            result.reason = Some(FailReason::WrongAnswer);
                        } else {
                            let header = JudgeHeader {
                                dataset: dataset.kind.name(),
                                entry_point: &problem.entry_point,
                                atol,
                            };
                            let inp = args.as_deref().unwrap_or(items.input(i)?);
                            let (reason, new_atol) = worker.judge(&header, inp, &out, exp)?;
                            atol = new_atol;
                            result.passed = reason.is_none();
                            result.reason = reason;
                        }
                    }
                    CallResult::Failed(reason) => result.reason = Some(reason),
                },
                Err(Verdict::FuelExhausted) if call_fuel < limits[i] => {
                    // The split's whole budget ran out: evalplus's process never reports.
                    return Ok(finish(Status::Timeout, inputs, Some(FailReason::Timeout)));
                }
                Err(Verdict::FuelExhausted) => {
                    result.fuel = limits[i];
                    result.reason = Some(FailReason::FuelLimit);
                }
                Err(Verdict::Timeout | Verdict::Completed { .. }) => {
                    // The process ended itself (os._exit) or hit the wall clock.
                    return Ok(finish(Status::Timeout, inputs, Some(FailReason::Timeout)));
                }
                Err(verdict) => {
                    result.fuel = 0;
                    result.reason = Some(FailReason::from_verdict(&verdict));
                }
            }
            let failed = !result.passed;
            inputs.push(result);
            if failed && fast_check {
                break 'sessions;
            }
            if !session.is_alive() {
                continue 'sessions;
            }
        }
        break;
    }
    let reason = inputs
        .iter()
        .find(|i| !i.passed)
        .and_then(|i| i.reason.clone());
    let all_judged = inputs.len() == n;
    if reason.is_none() && all_judged {
        if oracle_never_passes(dataset.kind, &problem.entry_point) {
            return Ok(finish(
                Status::Fail,
                inputs,
                Some(FailReason::OracleNeverPasses),
            ));
        }
        return Ok(finish(Status::Pass, inputs, None));
    }
    Ok(finish(Status::Fail, inputs, reason))
}

fn finish(status: Status, mut inputs: Vec<InputResult>, reason: Option<FailReason>) -> SplitResult {
    inputs.sort_by_key(|i| i.index);
    SplitResult {
        status,
        inputs,
        reason,
        exec_fuel: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blob(value: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        driver::put_blob(&mut out, value);
        out
    }

    #[test]
    fn parses_call_responses() {
        let none = blob(b"VN");
        match parse_call(&[b"R".as_slice(), &none].concat(), false, 100) {
            CallResult::Returned { out, args, .. } => {
                assert_eq!((out, args), (b"VN".to_vec(), None))
            }
            CallResult::Failed(r) => panic!("{r:?}"),
        }
        let two = [b"R".as_slice(), &none, &blob(b"VT")].concat();
        match parse_call(&two, true, 100) {
            CallResult::Returned { args, .. } => assert_eq!(args, Some(b"VT".to_vec())),
            CallResult::Failed(r) => panic!("{r:?}"),
        }
        let failed = |response: &[u8], return_args| match parse_call(response, return_args, 100) {
            CallResult::Failed(reason) => reason,
            CallResult::Returned { .. } => panic!("accepted {response:?}"),
        };
        assert_eq!(
            failed(b"EKeyError", false),
            FailReason::Exception {
                type_name: "KeyError".into()
            }
        );
        assert_eq!(
            failed(b"UDeque", false),
            FailReason::Unjudgeable {
                type_name: "Deque".into()
            }
        );
        assert!(
            matches!(failed(&two, false), FailReason::Crash { .. }),
            "extra value"
        );
        assert!(matches!(
            failed(b"R\x05\0\0\0VN", false),
            FailReason::Crash { .. }
        ));
        let pickle = [b"R".as_slice(), &blob(b"Pxx")].concat();
        assert!(
            matches!(failed(&pickle, false), FailReason::Crash { .. }),
            "no pickles"
        );
        assert!(matches!(failed(b"", false), FailReason::Crash { .. }));
    }
}
