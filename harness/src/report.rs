//! Evaluation reports: the evalplus-compatible results JSON, pass@k and the printed summary.
//!
//! Reads [`SampleResult`]s; never runs code.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use anyhow::Result;
use serde::Serialize;
use serde_json::{Value, json};

use crate::dataset::{Dataset, Problem};
use crate::evalplus::{FuelPolicy, Status};
use crate::evaluate::{FailReason, InputResult, SampleResult, SplitResult};
use crate::groundtruth::Split;
use crate::jsonl::{array_items, lenient_value};

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

#[derive(Serialize)]
struct InputDetail {
    passed: bool,
    fuel: u64,
    gt_fuel: u64,
    limit: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
}

/// The failing inputs as evalplus lists them: all of them with `--test-details`, else the
/// one that failed (or, for a split that never finished, the highest input reached).
fn fail_tests(problem: &Problem, split: Split, result: &SplitResult, details: bool) -> Vec<Value> {
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
    let indices: Vec<usize> = if details {
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

fn split_fields(
    out: &mut serde_json::Map<String, Value>,
    problem: &Problem,
    split: Split,
    result: Option<&SplitResult>,
    details: bool,
) {
    let name = split.name();
    let Some(result) = result else {
        out.insert(format!("{name}_status"), Value::Null);
        out.insert(format!("{name}_fail_tests"), json!([]));
        return;
    };
    out.insert(format!("{name}_status"), json!(result.status.name()));
    out.insert(
        format!("{name}_fail_tests"),
        Value::Array(fail_tests(problem, split, result, details)),
    );
    out.insert(format!("{name}_fuel"), json!(result.fuel()));
    out.insert(
        format!("{name}_fail_reason"),
        json!(result.reason.as_ref().map(FailReason::label)),
    );
    if details {
        let rows: Vec<InputDetail> = result
            .inputs
            .iter()
            .map(|i: &InputResult| InputDetail {
                passed: i.passed,
                fuel: i.fuel,
                gt_fuel: i.gt_fuel,
                limit: i.limit,
                reason: i.reason.as_ref().map(FailReason::label),
            })
            .collect();
        out.insert(
            format!("{name}_details"),
            serde_json::to_value(rows).unwrap(),
        );
    }
}

/// The results document: evalplus's `date`, `hash`, `eval`, plus `pass_at_k` and `codefuel`.
pub fn results_json(ctx: &ReportContext<'_>, results: &[SampleResult]) -> Result<Value> {
    let mut eval: BTreeMap<usize, (String, Vec<Value>)> = BTreeMap::new();
    for r in results {
        let problem = ctx.dataset.get(&r.sample.task_id).expect("matched sample");
        let mut row = serde_json::Map::new();
        row.insert("task_id".into(), json!(r.sample.task_id));
        row.insert("solution".into(), json!(r.sample.solution));
        split_fields(
            &mut row,
            problem,
            Split::Base,
            Some(&r.base),
            ctx.test_details,
        );
        split_fields(
            &mut row,
            problem,
            Split::Plus,
            r.plus.as_ref(),
            ctx.test_details,
        );
        let pos = ctx.dataset.position(&r.sample.task_id).unwrap();
        eval.entry(pos)
            .or_insert_with(|| (r.sample.task_id.clone(), Vec::new()))
            .1
            .push(Value::Object(row));
    }
    let covered = eval.len();
    let missing: Vec<&str> = ctx
        .dataset
        .problems
        .iter()
        .filter(|p| !eval.contains_key(&ctx.dataset.position(&p.task_id).unwrap()))
        .map(|p| p.task_id.as_str())
        .collect();
    let eval: serde_json::Map<String, Value> = eval
        .into_values()
        .map(|(task, rows)| (task, Value::Array(rows)))
        .collect();
    Ok(json!({
        "date": utc_minutes_now(),
        "hash": ctx.dataset.evalplus_hash,
        "eval": eval,
        "pass_at_k": pass_at_k_table(ctx.dataset, results, ctx.base_only),
        "codefuel": {
            "version": env!("CARGO_PKG_VERSION"),
            "guest_sha256": codefuel_runtime::GUEST_SHA256,
            "dataset": ctx.dataset.kind.name(),
            "dataset_version": ctx.dataset.kind.version(),
            "fuel_policy": ctx.policy,
            "memory_mib": ctx.memory_mib,
            "fast_check": !ctx.test_details,
            "tasks_total": ctx.dataset.problems.len(),
            "tasks_with_samples": covered,
            "tasks_without_samples": missing,
            "unknown_tasks": ctx.unknown_tasks.iter().map(|(t, n)| json!({"task_id": t, "samples": n})).collect::<Vec<_>>(),
        }
    }))
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
            crate::commands::run::group_thousands(fuel)
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
    fn date_format() {
        let date = utc_minutes_now();
        assert_eq!(date.len(), 16, "{date}");
        assert_eq!(&date[4..5], "-");
        assert_eq!(&date[13..14], ":");
    }
}
