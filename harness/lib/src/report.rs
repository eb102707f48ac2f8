//! Evaluation reports: the evalplus-compatible results file ([`ResultsFile`], written and
//! read through the same types), pass@k and the summary text.
//!
//! Reads [`SampleResult`]s; never runs code.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use codefuel_runtime::GuestKind;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::dataset::{Dataset, DatasetKind, Problem};
use crate::error::bad_input;
use crate::evalplus::{FuelPolicy, Status, never_passing_fail_tests, oracle_never_passes};
use crate::evaluate::{FailReason, InputResult, SampleResult, SplitResult};
use crate::groundtruth::Split;
use crate::jsonl::{array_items, lenient_value};

/// evalplus's default results path: `x.jsonl` → `x_eval_results.json`, a samples directory
/// `dir` → `dir/eval_results.json`.
pub fn default_results_path(samples: &Path) -> PathBuf {
    if samples.is_dir() {
        return samples.join("eval_results.json");
    }
    let name = samples.file_name().unwrap_or_default().to_string_lossy();
    let stem = name.strip_suffix(".jsonl").unwrap_or(&name);
    samples.with_file_name(format!("{stem}_eval_results.json"))
}

/// The ks evalplus reports pass@k for.
pub const PASS_AT_KS: [usize; 3] = [1, 10, 100];

/// The unbiased pass@k estimator of one task: 1 - C(n-c, k) / C(n, k).
pub fn pass_at_k_estimate(n: usize, c: usize, k: usize) -> f64 {
    if n - c < k {
        return 1.0;
    }
    1.0 - ((n - c + 1)..=n)
        .map(|i| 1.0 - k as f64 / i as f64)
        .product::<f64>()
}

/// Mean pass@k over tasks, for each k that every task has enough samples for (as evalplus).
pub fn pass_at_k(per_task: &[(usize, usize)]) -> BTreeMap<String, f64> {
    let mut out = BTreeMap::new();
    let Some(min_n) = per_task.iter().map(|&(n, _)| n).min() else {
        return out;
    };
    for k in PASS_AT_KS {
        if min_n >= k {
            let mean = per_task
                .iter()
                .map(|&(n, c)| pass_at_k_estimate(n, c, k))
                .sum::<f64>()
                / per_task.len() as f64;
            out.insert(format!("pass@{k}"), mean);
        }
    }
    out
}

/// Everything a report needs besides the results.
pub struct ReportContext<'a> {
    /// The problem set.
    pub dataset: &'a Dataset,
    /// The interpreter the samples ran in.
    pub guest: GuestKind,
    /// SHA-256 of its module (fuel depends on it).
    pub guest_sha256: &'a str,
    /// The fuel-limit policy used.
    pub policy: FuelPolicy,
    /// The memory cap of each run, in MiB.
    pub memory_mib: u64,
    /// Whether plus inputs were skipped.
    pub base_only: bool,
    /// Whether per-input details were collected.
    pub test_details: bool,
    /// Task ids in the samples that the dataset does not have, with counts.
    pub unknown_tasks: &'a [(String, usize)],
}

/// Per-task pass counts: (samples, base passes, plus passes).
fn per_task_counts<'a>(
    dataset: &Dataset,
    results: &'a [SampleResult],
) -> Vec<(&'a str, usize, usize, usize)> {
    let mut by_task: BTreeMap<usize, (&str, usize, usize, usize)> = BTreeMap::new();
    for r in results {
        let pos = dataset.position(&r.sample.task_id).unwrap_or(usize::MAX);
        let entry = by_task
            .entry(pos)
            .or_insert((r.sample.task_id.as_str(), 0, 0, 0));
        entry.1 += 1;
        let base_pass = r.base.status == Status::Pass;
        entry.2 += base_pass as usize;
        let plus_pass = r.plus.as_ref().is_some_and(|p| p.status == Status::Pass);
        entry.3 += (base_pass && plus_pass) as usize;
    }
    by_task.into_values().collect()
}

/// pass@k for base and (unless base-only) plus.
pub fn pass_at_k_table(
    dataset: &Dataset,
    results: &[SampleResult],
    base_only: bool,
) -> BTreeMap<&'static str, BTreeMap<String, f64>> {
    let counts = per_task_counts(dataset, results);
    let mut table = BTreeMap::new();
    table.insert(
        "base",
        pass_at_k(
            &counts
                .iter()
                .map(|&(_, n, b, _)| (n, b))
                .collect::<Vec<_>>(),
        ),
    );
    if !base_only {
        table.insert(
            "plus",
            pass_at_k(
                &counts
                    .iter()
                    .map(|&(_, n, _, p)| (n, p))
                    .collect::<Vec<_>>(),
            ),
        );
    }
    table
}

/// One input's figures in a results file written with `--test-details`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InputDetail {
    /// The output matched.
    pub passed: bool,
    /// Fuel the sample used on the input.
    pub fuel: u64,
    /// Fuel the canonical solution used on it.
    pub gt_fuel: u64,
    /// The input's fuel limit.
    pub limit: u64,
    /// Why it failed ([`FailReason::label`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// One sample's row in the results file: evalplus's fields, then codefuel's per split
/// (`*_fuel`, `*_fail_reason`, with `--test-details` `*_details`). A split that was not run
/// (plus under `--base-only`) has status `null`, no fail tests and no fuel.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResultRow {
    /// The task.
    pub task_id: String,
    /// The full program that ran.
    pub solution: String,
    /// The base split's status.
    pub base_status: Option<Status>,
    /// The failing base inputs, as evalplus lists them.
    pub base_fail_tests: Vec<Value>,
    /// The plus split's status (`null` when not run).
    pub plus_status: Option<Status>,
    /// The failing plus inputs.
    pub plus_fail_tests: Vec<Value>,
    /// Fuel over the base inputs run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_fuel: Option<u64>,
    /// Why the base split failed ([`FailReason::label`]).
    /// (Outer `None`: the split did not run, and the field is absent.)
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "present_or_null"
    )]
    pub base_fail_reason: Option<Option<String>>,
    /// Per-input figures of the base split (`--test-details`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_details: Option<Vec<InputDetail>>,
    /// Fuel of the module-level code in the base split (`--test-details`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_exec_fuel: Option<u64>,
    /// Fuel over the plus inputs run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plus_fuel: Option<u64>,
    /// Why the plus split failed.
    /// (Outer `None`: the split did not run, and the field is absent.)
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "present_or_null"
    )]
    pub plus_fail_reason: Option<Option<String>>,
    /// Per-input figures of the plus split (`--test-details`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plus_details: Option<Vec<InputDetail>>,
    /// Fuel of the module-level code in the plus split (`--test-details`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plus_exec_fuel: Option<u64>,
}

impl ResultRow {
    /// Passed base and plus (what evalplus's "plus" pass@k counts).
    pub fn passed(&self) -> bool {
        self.base_status == Some(Status::Pass) && self.plus_status == Some(Status::Pass)
    }
}

/// A field that is absent (`None`), `null` (`Some(None)`) or a value (`Some(Some(v))`).
mod present_or_null {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<T: Serialize, S: Serializer>(
        value: &Option<Option<T>>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        // `None` is skipped by `skip_serializing_if`.
        value
            .as_ref()
            .and_then(Option::as_ref)
            .serialize(serializer)
    }

    pub fn deserialize<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Option<T>>, D::Error> {
        Option::<T>::deserialize(deserializer).map(Some)
    }
}

/// A task id the samples name that the dataset does not have.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UnknownTask {
    /// The task id.
    pub task_id: String,
    /// How many samples named it.
    pub samples: usize,
}

/// How the results were made: codefuel's block of the results file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunInfo {
    /// codefuel's version.
    pub version: String,
    /// The interpreter the samples ran in (`rustpython` in files written before it was
    /// recorded, when RustPython was the only guest).
    #[serde(default)]
    pub guest: GuestKind,
    /// SHA-256 of the guest build (fuel depends on it).
    pub guest_sha256: String,
    /// `humaneval` or `mbpp`.
    pub dataset: DatasetKind,
    /// The dataset release.
    pub dataset_version: String,
    /// Per-input fuel limits.
    pub fuel_policy: FuelPolicy,
    /// Memory cap of each run, in MiB.
    pub memory_mib: u64,
    /// Stopped each split at its first failure (evalplus's default).
    pub fast_check: bool,
    /// Tasks in the dataset.
    pub tasks_total: usize,
    /// Tasks with at least one sample.
    pub tasks_with_samples: usize,
    /// Tasks without samples.
    pub tasks_without_samples: Vec<String>,
    /// Task ids in the samples that the dataset does not have.
    pub unknown_tasks: Vec<UnknownTask>,
}

/// The results file of `evaluate`: evalplus's `date`, `hash` and `eval` (read by evalplus's
/// tools), plus `pass_at_k` and `codefuel`. Written and read through this one type.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResultsFile {
    /// When it was written, `YYYY-MM-DD HH:MM` UTC (evalplus's format).
    pub date: String,
    /// MD5 of the dataset file (evalplus's `hash`).
    pub hash: String,
    /// Rows per task (sorted by task id), samples in reading order.
    pub eval: BTreeMap<String, Vec<ResultRow>>,
    /// `base` (and `plus`) → `pass@k` → value.
    pub pass_at_k: BTreeMap<String, BTreeMap<String, f64>>,
    /// How the results were made.
    pub codefuel: RunInfo,
}

impl ResultsFile {
    /// Reads a results file.
    pub fn read(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        serde_json::from_str(&text).map_err(|e| {
            bad_input(format!(
                "{} is not a codefuel results file: {e}",
                path.display()
            ))
        })
    }

    /// Writes it (one line of JSON), creating the folder if needed; atomically, so a reader
    /// never sees half a file.
    pub fn write(&self, path: &Path) -> Result<()> {
        let mut text = serde_json::to_vec(self)?;
        text.push(b'\n');
        crate::files::write_file(path, &text)
    }
}

/// The failing inputs as evalplus lists them: all of them with `--test-details`, else the
/// one that failed (or, for a split that never finished, the highest input reached).
fn fail_tests(
    kind: DatasetKind,
    problem: &Problem,
    split: Split,
    result: &SplitResult,
    details: bool,
) -> Vec<Value> {
    if result.status == Status::Pass || result.inputs.is_empty() {
        return Vec::new();
    }
    let raw = match split {
        Split::Base => &problem.base_input,
        Split::Plus => &problem.plus_input,
    };
    let Ok(items) = array_items(raw) else {
        return Vec::new();
    };
    let indices: Vec<usize> = if oracle_never_passes(kind, &problem.entry_point) {
        never_passing_fail_tests(result.failing_inputs().count(), details).collect()
    } else if details {
        result.failing_inputs().collect()
    } else {
        let failing = result.failing_inputs().next();
        vec![failing.unwrap_or(result.inputs.last().unwrap().index)]
    };
    indices
        .into_iter()
        .filter_map(|i| items.get(i))
        .map(|item| lenient_value(item).unwrap_or_else(|_| Value::String((*item).to_owned())))
        .collect()
}

/// One split's fields of a [`ResultRow`].
#[derive(Default)]
struct SplitFields {
    status: Option<Status>,
    fail_tests: Vec<Value>,
    fuel: Option<u64>,
    fail_reason: Option<Option<String>>,
    details: Option<Vec<InputDetail>>,
    exec_fuel: Option<u64>,
}

fn split_fields(
    kind: DatasetKind,
    problem: &Problem,
    split: Split,
    result: Option<&SplitResult>,
    details: bool,
) -> SplitFields {
    let Some(result) = result else {
        return SplitFields::default();
    };
    let rows = details.then(|| {
        result
            .inputs
            .iter()
            .map(|i: &InputResult| InputDetail {
                passed: i.passed,
                fuel: i.fuel,
                gt_fuel: i.gt_fuel,
                limit: i.limit,
                reason: i.reason.as_ref().map(FailReason::label),
            })
            .collect()
    });
    SplitFields {
        status: Some(result.status),
        fail_tests: fail_tests(kind, problem, split, result, details),
        fuel: Some(result.fuel()),
        fail_reason: Some(result.reason.as_ref().map(FailReason::label)),
        details: rows,
        exec_fuel: details.then_some(result.exec_fuel),
    }
}

/// The results file of an evaluation.
pub fn results_file(ctx: &ReportContext<'_>, results: &[SampleResult]) -> ResultsFile {
    let mut eval: BTreeMap<String, Vec<ResultRow>> = BTreeMap::new();
    for r in results {
        let Some(problem) = ctx.dataset.get(&r.sample.task_id) else {
            continue; // samples are matched to the dataset before they run
        };
        let base = split_fields(
            ctx.dataset.kind,
            problem,
            Split::Base,
            Some(&r.base),
            ctx.test_details,
        );
        let plus = split_fields(
            ctx.dataset.kind,
            problem,
            Split::Plus,
            r.plus.as_ref(),
            ctx.test_details,
        );
        eval.entry(r.sample.task_id.clone())
            .or_default()
            .push(ResultRow {
                task_id: r.sample.task_id.clone(),
                solution: r.sample.solution.clone(),
                base_status: base.status,
                base_fail_tests: base.fail_tests,
                plus_status: plus.status,
                plus_fail_tests: plus.fail_tests,
                base_fuel: base.fuel,
                base_fail_reason: base.fail_reason,
                base_details: base.details,
                base_exec_fuel: base.exec_fuel,
                plus_fuel: plus.fuel,
                plus_fail_reason: plus.fail_reason,
                plus_details: plus.details,
                plus_exec_fuel: plus.exec_fuel,
            });
    }
    let tasks_without_samples = ctx
        .dataset
        .problems
        .iter()
        .filter(|p| !eval.contains_key(&p.task_id))
        .map(|p| p.task_id.clone())
        .collect();
    ResultsFile {
        date: utc_minutes_now(),
        hash: ctx.dataset.evalplus_hash.clone(),
        pass_at_k: pass_at_k_table(ctx.dataset, results, ctx.base_only)
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect(),
        codefuel: RunInfo {
            version: env!("CARGO_PKG_VERSION").to_owned(),
            guest: ctx.guest,
            guest_sha256: ctx.guest_sha256.to_owned(),
            dataset: ctx.dataset.kind,
            dataset_version: ctx.dataset.kind.version().to_owned(),
            fuel_policy: ctx.policy,
            memory_mib: ctx.memory_mib,
            fast_check: !ctx.test_details,
            tasks_total: ctx.dataset.problems.len(),
            tasks_with_samples: eval.len(),
            tasks_without_samples,
            unknown_tasks: ctx
                .unknown_tasks
                .iter()
                .map(|(task_id, samples)| UnknownTask {
                    task_id: task_id.clone(),
                    samples: *samples,
                })
                .collect(),
        },
        eval,
    }
}

/// The printed summary: coverage, pass@k, statuses and fuel.
pub fn summary(ctx: &ReportContext<'_>, results: &[SampleResult]) -> String {
    let mut out = String::new();
    let counts = per_task_counts(ctx.dataset, results);
    let _ = writeln!(
        out,
        "{} {}: {} samples for {} of {} tasks",
        ctx.dataset.kind,
        ctx.dataset.kind.version(),
        results.len(),
        counts.len(),
        ctx.dataset.problems.len()
    );
    let repeats = crate::evaluate::first_occurrences(results.iter().map(|r| &r.sample))
        .iter()
        .enumerate()
        .filter(|&(i, &j)| i != j)
        .count();
    if repeats > 0 {
        let _ = writeln!(
            out,
            "  {repeats} samples repeat an earlier sample of their task: judged once, same results"
        );
    }
    let table = pass_at_k_table(ctx.dataset, results, ctx.base_only);
    for (split, ks) in &table {
        let label = if *split == "base" {
            format!("{} (base tests)", ctx.dataset.kind)
        } else {
            format!("{}+ (base + extra tests)", ctx.dataset.kind)
        };
        let cells: Vec<String> = ks.iter().map(|(k, v)| format!("{k} {v:.3}")).collect();
        let _ = writeln!(out, "  {label:<34} {}", cells.join("   "));
    }
    for split in [Split::Base, Split::Plus] {
        let name = split.name();
        let splits: Vec<&SplitResult> = results.iter().filter_map(|r| r.split(split)).collect();
        if splits.is_empty() {
            continue;
        }
        let count = |s: Status| splits.iter().filter(|r| r.status == s).count();
        let fuel: u64 = splits.iter().map(|r| r.fuel()).sum();
        let _ = writeln!(
            out,
            "  {name}: pass {} / fail {} / timeout {}   fuel {}",
            count(Status::Pass),
            count(Status::Fail),
            count(Status::Timeout),
            crate::stats::group_thousands(fuel)
        );
    }
    out
}

/// UTC now as `YYYY-MM-DD HH:MM` (evalplus's `date` format).
fn utc_minutes_now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + (month <= 2) as i64;
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn estimator_matches_the_closed_form() {
        // 1 - C(n-c, k) / C(n, k) for n=10, c=3, k=2: 1 - 21/45.
        assert!((pass_at_k_estimate(10, 3, 2) - (1.0 - 21.0 / 45.0)).abs() < 1e-12);
        assert_eq!(pass_at_k_estimate(5, 0, 1), 0.0);
        assert_eq!(pass_at_k_estimate(5, 5, 1), 1.0);
        assert_eq!(pass_at_k_estimate(5, 1, 5), 1.0);
        assert!((pass_at_k_estimate(4, 1, 1) - 0.25).abs() < 1e-12);
    }

    #[test]
    fn pass_at_k_only_where_every_task_has_k_samples() {
        let table = pass_at_k(&[(10, 5), (12, 0)]);
        assert_eq!(table.keys().collect::<Vec<_>>(), ["pass@1", "pass@10"]);
        assert!((table["pass@1"] - 0.25).abs() < 1e-12);
        assert!(pass_at_k(&[(1, 1), (20, 0)]).contains_key("pass@1"));
        assert!(!pass_at_k(&[(1, 1), (20, 0)]).contains_key("pass@10"));
    }

    #[test]
    fn output_path_follows_evalplus() {
        assert_eq!(
            default_results_path(Path::new("/x/samples.jsonl")),
            PathBuf::from("/x/samples_eval_results.json")
        );
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            default_results_path(dir.path()),
            dir.path().join("eval_results.json")
        );
    }

    #[test]
    fn date_format() {
        let date = utc_minutes_now();
        assert_eq!(date.len(), 16, "{date}");
        assert_eq!(&date[4..5], "-");
        assert_eq!(&date[13..14], ":");
    }

    #[test]
    fn rows_round_trip_with_absent_and_null_reasons() {
        let row = ResultRow {
            task_id: "T/0".into(),
            solution: "pass".into(),
            base_status: Some(Status::Pass),
            base_fail_tests: Vec::new(),
            plus_status: None,
            plus_fail_tests: Vec::new(),
            base_fuel: Some(7),
            base_fail_reason: Some(None),
            base_details: None,
            base_exec_fuel: None,
            plus_fuel: None,
            plus_fail_reason: None,
            plus_details: None,
            plus_exec_fuel: None,
        };
        let json = serde_json::to_value(&row).unwrap();
        assert_eq!(json["base_fail_reason"], Value::Null);
        assert!(json.get("plus_fail_reason").is_none(), "{json}");
        assert!(json.get("plus_fuel").is_none(), "{json}");
        let back: ResultRow = serde_json::from_value(json).unwrap();
        assert_eq!(back, row);
        let failed = ResultRow {
            base_fail_reason: Some(Some("wrong_answer".into())),
            ..row
        };
        let back: ResultRow =
            serde_json::from_value(serde_json::to_value(&failed).unwrap()).unwrap();
        assert_eq!(back, failed);
    }

    #[test]
    fn run_info_records_the_guest_and_reads_files_from_before_it() {
        let old = serde_json::json!({
            "version": "0.1.0",
            "guest_sha256": "ab".repeat(32),
            "dataset": "humaneval",
            "dataset_version": "v0.1.10",
            "fuel_policy": {"min_fuel": 1, "gt_factor": 4.0},
            "memory_mib": 4096,
            "fast_check": true,
            "tasks_total": 1,
            "tasks_with_samples": 1,
            "tasks_without_samples": [],
            "unknown_tasks": []
        });
        let info: RunInfo = serde_json::from_value(old).unwrap();
        assert_eq!(info.guest, GuestKind::RustPython);
        let cpython = RunInfo {
            guest: GuestKind::CPython,
            ..info
        };
        let json = serde_json::to_value(&cpython).unwrap();
        assert_eq!(json["guest"], "cpython");
        assert_eq!(serde_json::from_value::<RunInfo>(json).unwrap(), cpython);
    }
}
