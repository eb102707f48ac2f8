//! Deterministic efficiency from evaluation results: `codefuel speedup` and `codefuel profile`.
//!
//! Owns reading (or producing) a samples file's evaluation results, the per-sample fuel over
//! the plus inputs, and the statistics and plot built on it. A sample that passes runs every
//! plus input even under evalplus's fast check, so its `plus_fuel` is always the fuel of all
//! plus inputs; failing samples are left out of every efficiency figure.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::Serialize;
use serde_json::Value;

use crate::commands::evaluate::{EvaluateArgs, default_output, evaluate_to_file};
use crate::dataset::Dataset;
use crate::samples::{match_samples, read_samples};
use crate::stats::{SplitMix64, quantile};

/// One evaluated sample, as far as efficiency goes.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SampleFuel {
    /// Its task.
    pub task_id: String,
    /// Its position among the task's samples (reading order).
    pub completion_id: usize,
    /// Passed base and plus.
    pub passed: bool,
    /// Fuel over all plus inputs (meaningful only when `passed`).
    pub plus_fuel: u64,
}

/// The evaluation results of `args.samples`: reused from the results file when it matches
/// the samples, the dataset and this guest, else evaluated now (and written there).
/// Returns the per-sample fuel and the results path.
pub fn sample_fuels(
    args: &EvaluateArgs,
    dataset: &Dataset,
    log: &mut dyn FnMut(&str),
) -> Result<(Vec<SampleFuel>, PathBuf)> {
    let path = args
        .output
        .clone()
        .unwrap_or_else(|| default_output(&args.samples));
    let raw = read_samples(&args.samples)?;
    let loaded = match_samples(raw, dataset);
    let mut expected: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for s in &loaded.samples {
        expected
            .entry(s.task_id.as_str())
            .or_default()
            .push(s.solution.as_str());
    }
    if let Some(fuels) = reusable(&path, args, dataset, &expected) {
        log(&format!(
            "{}: reusing evaluation results {}",
            args.samples.display(),
            path.display()
        ));
        return Ok((fuels, path));
    }
    log(&format!("{}: evaluating", args.samples.display()));
    let (path, _) = evaluate_to_file(&EvaluateArgs {
        output: Some(path),
        base_only: false,
        ..args.clone()
    })?;
    let fuels = reusable(&path, args, dataset, &expected).with_context(|| {
        format!(
            "the results just written to {} do not match the samples",
            path.display()
        )
    })?;
    log(&format!("results: {}", path.display()));
    Ok((fuels, path))
}

/// The results at `path`, if they exist and were made from exactly these samples, this
/// dataset, this guest (fuel depends on the guest build) and the limits `args` asks for
/// (they decide which samples pass).
fn reusable(
    path: &Path,
    args: &EvaluateArgs,
    dataset: &Dataset,
    expected: &BTreeMap<&str, Vec<&str>>,
) -> Option<Vec<SampleFuel>> {
    let text = std::fs::read_to_string(path).ok()?;
    let doc: Value = serde_json::from_str(&text).ok()?;
    if doc["hash"].as_str()? != dataset.evalplus_hash
        || doc["codefuel"]["guest_sha256"].as_str()? != codefuel_runtime::GUEST_SHA256
        || doc["codefuel"]["fuel_policy"] != serde_json::to_value(args.policy).ok()?
        || doc["codefuel"]["memory_mib"].as_u64()? != args.memory_mib
    {
        return None;
    }
    let eval = doc["eval"].as_object()?;
    if eval.len() != expected.len() {
        return None;
    }
    let mut out = Vec::new();
    for (task_id, solutions) in expected {
        let rows = eval.get(*task_id)?.as_array()?;
        if rows.len() != solutions.len() {
            return None;
        }
        for (completion_id, (row, solution)) in rows.iter().zip(solutions).enumerate() {
            if row["solution"].as_str()? != *solution {
                return None;
            }
            let plus = row["plus_status"].as_str()?;
            out.push(SampleFuel {
                task_id: (*task_id).to_owned(),
                completion_id,
                passed: row["base_status"].as_str()? == "pass" && plus == "pass",
                plus_fuel: row["plus_fuel"].as_u64()?,
            });
        }
    }
    Some(out)
}

/// Mean fuel of each task's passing samples, with how many there were.
pub fn task_means(samples: &[SampleFuel]) -> BTreeMap<String, (f64, usize)> {
    let mut sums: BTreeMap<String, (f64, usize)> = BTreeMap::new();
    for s in samples.iter().filter(|s| s.passed) {
        let entry = sums.entry(s.task_id.clone()).or_insert((0.0, 0));
        entry.0 += s.plus_fuel as f64;
        entry.1 += 1;
    }
    sums.into_iter()
        .map(|(task, (sum, n))| (task, (sum / n as f64, n)))
        .collect()
}

/// One task of a speedup comparison.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TaskSpeedup {
    /// The task.
    pub task_id: String,
    /// Mean plus fuel of the baseline's passing samples.
    pub baseline_fuel: f64,
    /// How many baseline samples passed.
    pub baseline_samples: usize,
    /// Mean plus fuel of the candidate's passing samples.
    pub candidate_fuel: f64,
    /// How many candidate samples passed.
    pub candidate_samples: usize,
    /// baseline fuel / candidate fuel (> 1: the candidate is faster).
    pub speedup: f64,
}

/// Summary figures of a set of per-task speedups.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SpeedupSummary {
    /// Tasks where both sides have a passing sample.
    pub tasks: usize,
    /// Arithmetic mean of the per-task speedups.
    pub mean: f64,
    /// Geometric mean.
    pub geometric_mean: f64,
    /// Median.
    pub median: f64,
    /// Share of tasks where the candidate is at least 10 % faster (speedup ≥ 1.1).
    pub share_faster_10pct: f64,
    /// Share of tasks where the candidate is at least 10 % slower (speedup ≤ 1/1.1).
    pub share_slower_10pct: f64,
    /// Bootstrap 95 % interval of the mean: [low, high].
    pub mean_ci95: [f64; 2],
    /// Bootstrap resamples behind `mean_ci95`.
    pub bootstrap_resamples: usize,
    /// Seed of the bootstrap.
    pub bootstrap_seed: u64,
}

/// The distribution of `profile`'s ratios (sample fuel / canonical fuel; > 1 is slower).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RatioSummary {
    /// Passing samples.
    pub samples: usize,
    /// Tasks they cover.
    pub tasks: usize,
    /// Arithmetic mean.
    pub mean: f64,
    /// Geometric mean.
    pub geometric_mean: f64,
    /// 10th percentile.
    pub p10: f64,
    /// First quartile.
    pub p25: f64,
    /// Median.
    pub median: f64,
    /// Third quartile.
    pub p75: f64,
    /// 90th percentile.
    pub p90: f64,
    /// Share of samples at least 10 % slower than the canonical solution (ratio ≥ 1.1).
    pub share_slower_10pct: f64,
    /// Share of samples at least 10 % faster (ratio ≤ 1/1.1).
    pub share_faster_10pct: f64,
}

impl RatioSummary {
    /// The summary of non-empty `ratios` from `tasks` tasks.
    pub fn of(ratios: &[f64], tasks: usize) -> Self {
        let n = ratios.len() as f64;
        let share = |f: &dyn Fn(f64) -> bool| ratios.iter().filter(|&&r| f(r)).count() as f64 / n;
        RatioSummary {
            samples: ratios.len(),
            tasks,
            mean: ratios.iter().sum::<f64>() / n,
            geometric_mean: (ratios.iter().map(|r| r.ln()).sum::<f64>() / n).exp(),
            p10: quantile(ratios, 0.1),
            p25: quantile(ratios, 0.25),
            median: quantile(ratios, 0.5),
            p75: quantile(ratios, 0.75),
            p90: quantile(ratios, 0.9),
            share_slower_10pct: share(&|r| r >= 1.1),
            share_faster_10pct: share(&|r| r <= 1.0 / 1.1),
        }
    }
}

/// Resamples of the bootstrap interval.
pub const BOOTSTRAP_RESAMPLES: usize = 10_000;
/// The fixed seed of the bootstrap, so a report is the same on every run.
pub const BOOTSTRAP_SEED: u64 = 0x00c0_defe_u64;

/// Per-task speedups on the tasks both sides pass (task order).
pub fn task_speedups(baseline: &[SampleFuel], candidate: &[SampleFuel]) -> Vec<TaskSpeedup> {
    let base = task_means(baseline);
    let cand = task_means(candidate);
    base.iter()
        .filter_map(|(task, &(b, bn))| {
            let &(c, cn) = cand.get(task)?;
            Some(TaskSpeedup {
                task_id: task.clone(),
                baseline_fuel: b,
                baseline_samples: bn,
                candidate_fuel: c,
                candidate_samples: cn,
                speedup: b / c.max(1.0),
            })
        })
        .collect()
}

/// The summary of per-task speedups; `None` when there are none.
pub fn summarize(speedups: &[f64]) -> Option<SpeedupSummary> {
    if speedups.is_empty() {
        return None;
    }
    let n = speedups.len() as f64;
    let mean = speedups.iter().sum::<f64>() / n;
    let geometric_mean = (speedups.iter().map(|s| s.ln()).sum::<f64>() / n).exp();
    let share = |f: &dyn Fn(f64) -> bool| speedups.iter().filter(|&&s| f(s)).count() as f64 / n;
    Some(SpeedupSummary {
        tasks: speedups.len(),
        mean,
        geometric_mean,
        median: quantile(speedups, 0.5),
        share_faster_10pct: share(&|s| s >= 1.1),
        share_slower_10pct: share(&|s| s <= 1.0 / 1.1),
        mean_ci95: bootstrap_mean_ci(speedups, BOOTSTRAP_RESAMPLES, BOOTSTRAP_SEED),
        bootstrap_resamples: BOOTSTRAP_RESAMPLES,
        bootstrap_seed: BOOTSTRAP_SEED,
    })
}

/// Percentile bootstrap 95 % interval of the mean, from `resamples` draws with `seed`.
pub fn bootstrap_mean_ci(values: &[f64], resamples: usize, seed: u64) -> [f64; 2] {
    let mut rng = SplitMix64(seed);
    let n = values.len();
    let means: Vec<f64> = (0..resamples)
        .map(|_| (0..n).map(|_| values[rng.below(n)]).sum::<f64>() / n as f64)
        .collect();
    [quantile(&means, 0.025), quantile(&means, 0.975)]
}

/// An SVG of the per-task speedups: one bar per task, sorted, on a log scale around 1×, with
/// the ±10 % lines of the "optimized" definition.
pub fn speedup_svg(tasks: &[TaskSpeedup], summary: &SpeedupSummary, title: &str) -> String {
    let (width, height) = (760.0_f64, 400.0_f64);
    let (left, right, top, bottom) = (60.0, 20.0, 50.0, 40.0);
    let plot_w = width - left - right;
    let plot_h = height - top - bottom;
    let mut speedups: Vec<f64> = tasks.iter().map(|t| t.speedup).collect();
    speedups.sort_by(f64::total_cmp);
    let max_log = speedups
        .iter()
        .map(|s| s.log2().abs())
        .fold(0.25_f64, f64::max)
        .ceil();
    let y = |s: f64| top + plot_h / 2.0 - (s.log2() / max_log) * (plot_h / 2.0);
    let mut svg = String::new();
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(
        svg,
        r#"<rect width="{width}" height="{height}" fill="white"/>"#
    );
    let _ = writeln!(
        svg,
        r#"<text x="{left}" y="20" font-size="14">{}</text>"#,
        xml_escape(title)
    );
    let _ = writeln!(
        svg,
        r#"<text x="{left}" y="38">{} tasks · mean {:.3}× (95 % CI {:.3}–{:.3}) · geomean {:.3}× · median {:.3}× · ≥10 % faster {:.1} % · ≥10 % slower {:.1} %</text>"#,
        summary.tasks,
        summary.mean,
        summary.mean_ci95[0],
        summary.mean_ci95[1],
        summary.geometric_mean,
        summary.median,
        100.0 * summary.share_faster_10pct,
        100.0 * summary.share_slower_10pct
    );
    // Axis ticks at powers of two, at most about a dozen.
    let step = (max_log / 6.0).ceil().max(1.0);
    let mut k = -max_log;
    while k <= max_log {
        let s = 2f64.powf(k);
        let yy = y(s);
        let _ = writeln!(
            svg,
            r##"<line x1="{left}" x2="{}" y1="{yy:.2}" y2="{yy:.2}" stroke="#ddd"/><text x="{}" y="{:.2}" text-anchor="end">{}×</text>"##,
            left + plot_w,
            left - 6.0,
            yy + 4.0,
            format_ratio(s)
        );
        k += step;
    }
    for (s, color) in [(1.1, "#2a7"), (1.0 / 1.1, "#c44")] {
        let yy = y(s);
        let _ = writeln!(
            svg,
            r#"<line x1="{left}" x2="{}" y1="{yy:.2}" y2="{yy:.2}" stroke="{color}" stroke-dasharray="4 3"/>"#,
            left + plot_w
        );
    }
    let bar_w = plot_w / speedups.len().max(1) as f64;
    let base = y(1.0);
    for (i, s) in speedups.iter().enumerate() {
        let yy = y(*s);
        let (y0, h) = if yy < base {
            (yy, base - yy)
        } else {
            (base, yy - base)
        };
        let color = if *s >= 1.1 {
            "#2a7"
        } else if *s <= 1.0 / 1.1 {
            "#c44"
        } else {
            "#888"
        };
        let _ = writeln!(
            svg,
            r#"<rect x="{:.2}" y="{y0:.2}" width="{:.2}" height="{:.2}" fill="{color}"/>"#,
            left + i as f64 * bar_w + bar_w * 0.1,
            bar_w * 0.8,
            h.max(0.5)
        );
    }
    let _ = writeln!(
        svg,
        r##"<line x1="{left}" x2="{}" y1="{base:.2}" y2="{base:.2}" stroke="#000"/>"##,
        left + plot_w
    );
    let _ = writeln!(
        svg,
        r#"<text x="{}" y="{}" text-anchor="middle">tasks, sorted by speedup (baseline fuel / candidate fuel)</text>"#,
        left + plot_w / 2.0,
        height - 12.0
    );
    svg.push_str("</svg>\n");
    svg
}

fn format_ratio(s: f64) -> String {
    if s >= 1.0 {
        format!("{s:.0}")
    } else {
        format!("1/{:.0}", 1.0 / s)
    }
}

fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(task: &str, passed: bool, fuel: u64) -> SampleFuel {
        SampleFuel {
            task_id: task.into(),
            completion_id: 0,
            passed,
            plus_fuel: fuel,
        }
    }

    #[test]
    fn speedups_use_the_intersection_and_task_means() {
        let baseline = [
            sample("A", true, 100),
            sample("A", true, 300),
            sample("B", true, 50),
            sample("C", false, 10),
        ];
        let candidate = [
            sample("A", true, 100),
            sample("B", false, 1),
            sample("C", true, 10),
        ];
        let s = task_speedups(&baseline, &candidate);
        // Only A is passed on both sides; baseline mean (100 + 300) / 2 = 200.
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].task_id, "A");
        assert_eq!((s[0].baseline_fuel, s[0].baseline_samples), (200.0, 2));
        assert_eq!(s[0].speedup, 2.0);
    }

    #[test]
    fn ratio_summary() {
        // Ratios 0.5, 1, 2, 4: shares 2/4 slower (2, 4) and 1/4 faster (0.5).
        let s = RatioSummary::of(&[4.0, 1.0, 0.5, 2.0], 3);
        assert_eq!((s.samples, s.tasks), (4, 3));
        assert_eq!(s.median, 1.5);
        assert!((s.geometric_mean - 2f64.sqrt()).abs() < 1e-12);
        assert_eq!((s.share_slower_10pct, s.share_faster_10pct), (0.5, 0.25));
    }

    #[test]
    fn summary_figures() {
        // Speedups 1, 2, 4, 0.5: mean 7.5/4, geomean (1·2·4·0.5)^(1/4) = 4^(1/4) = √2.
        let s = summarize(&[1.0, 2.0, 4.0, 0.5]).unwrap();
        assert_eq!(s.mean, 1.875);
        assert!((s.geometric_mean - 2f64.sqrt()).abs() < 1e-12);
        assert_eq!(s.median, 1.5);
        assert_eq!(s.share_faster_10pct, 0.5);
        assert_eq!(s.share_slower_10pct, 0.25);
        assert!(s.mean_ci95[0] <= s.mean && s.mean <= s.mean_ci95[1]);
        assert!(s.mean_ci95[0] >= 0.5 && s.mean_ci95[1] <= 4.0);
        assert_eq!(
            summarize(&[1.0, 2.0, 4.0, 0.5]),
            Some(s),
            "the same seed, the same interval"
        );
        assert_eq!(summarize(&[]), None);
    }
}
