//! Deterministic efficiency from evaluation results: `codefuel speedup` and `codefuel profile`.
//!
//! Owns reading (or producing) a samples file's evaluation results, the per-sample fuel over
//! the plus inputs, and the statistics and plot built on it. A sample that passes runs every
//! plus input even under evalplus's fast check, so its `plus_fuel` is always the fuel of all
//! plus inputs; failing samples are left out of every efficiency figure.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use anyhow::{Result, bail};
use codefuel_runtime::GuestKind;
use serde::{Deserialize, Serialize};

use crate::api::{EvaluateRequest, ProfileRequest, SpeedupRequest};
use crate::dataset::{Dataset, DatasetKind};
use crate::evalplus::Status;
use crate::report::ResultsFile;
use crate::stats::{SplitMix64, quantile};

/// One evaluated sample, as far as efficiency goes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
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

/// The per-sample fuel in `file`, if it was made from exactly these samples (`expected`:
/// each task's solutions in order), this dataset, the guest build whose module has
/// `guest_sha256` (fuel depends on it) and the limits `request` asks for (they decide which
/// samples pass).
pub fn reusable(
    file: &ResultsFile,
    request: &EvaluateRequest,
    dataset: &Dataset,
    guest_sha256: &str,
    expected: &BTreeMap<&str, Vec<&str>>,
) -> Option<Vec<SampleFuel>> {
    let info = &file.codefuel;
    if file.hash != dataset.evalplus_hash
        || info.guest_sha256 != guest_sha256
        || info.fuel_policy != request.policy
        || info.memory_mib != request.memory_mib
        || file.eval.len() != expected.len()
    {
        return None;
    }
    let mut out = Vec::new();
    for (task_id, solutions) in expected {
        let rows = file.eval.get(*task_id)?;
        if rows.len() != solutions.len() {
            return None;
        }
        for (completion_id, (row, solution)) in rows.iter().zip(solutions).enumerate() {
            if row.solution != *solution || row.plus_status.is_none() {
                return None;
            }
            out.push(SampleFuel {
                task_id: (*task_id).to_owned(),
                completion_id,
                passed: row.base_status == Some(Status::Pass)
                    && row.plus_status == Some(Status::Pass),
                plus_fuel: row.plus_fuel?,
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
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
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
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
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
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
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

/// What [`RatioSummary`] and [`SpeedupSummary`] share, over non-empty `values`: mean,
/// geometric mean, the share ≥ 1.1 and the share ≤ 1/1.1.
fn center_and_shares(values: &[f64]) -> (f64, f64, f64, f64) {
    let n = values.len() as f64;
    let share = |f: &dyn Fn(f64) -> bool| values.iter().filter(|&&r| f(r)).count() as f64 / n;
    (
        values.iter().sum::<f64>() / n,
        (values.iter().map(|r| r.ln()).sum::<f64>() / n).exp(),
        share(&|r| r >= 1.1),
        share(&|r| r <= 1.0 / 1.1),
    )
}

impl RatioSummary {
    /// The summary of non-empty `ratios` from `tasks` tasks.
    pub fn of(ratios: &[f64], tasks: usize) -> Self {
        let (mean, geometric_mean, slower, faster) = center_and_shares(ratios);
        RatioSummary {
            samples: ratios.len(),
            tasks,
            mean,
            geometric_mean,
            p10: quantile(ratios, 0.1),
            p25: quantile(ratios, 0.25),
            median: quantile(ratios, 0.5),
            p75: quantile(ratios, 0.75),
            p90: quantile(ratios, 0.9),
            share_slower_10pct: slower,
            share_faster_10pct: faster,
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
    let (mean, geometric_mean, faster, slower) = center_and_shares(speedups);
    Some(SpeedupSummary {
        tasks: speedups.len(),
        mean,
        geometric_mean,
        median: quantile(speedups, 0.5),
        share_faster_10pct: faster,
        share_slower_10pct: slower,
        mean_ci95: bootstrap_mean_ci(speedups, BOOTSTRAP_RESAMPLES, BOOTSTRAP_SEED),
        bootstrap_resamples: BOOTSTRAP_RESAMPLES,
        bootstrap_seed: BOOTSTRAP_SEED,
    })
}

/// The result of [`crate::Engine::speedup`] (also the JSON report of `codefuel speedup`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SpeedupReport {
    /// The benchmark.
    pub dataset: DatasetKind,
    /// Its release.
    pub dataset_version: String,
    /// The baseline samples' path.
    pub baseline: String,
    /// The candidate samples' path.
    pub candidate: String,
    /// The interpreter the fuel comes from (`rustpython` in reports that predate it).
    #[serde(default)]
    pub guest: GuestKind,
    /// The guest build the fuel comes from.
    pub guest_sha256: String,
    /// Some task has several passing samples on a side: per-task figures are means.
    pub per_task_means: bool,
    /// The summary figures.
    pub summary: SpeedupSummary,
    /// Per-task figures, in task order.
    pub tasks: Vec<TaskSpeedup>,
}

/// The speedup report of two sides' sample fuel, measured in `guest` (module `guest_sha256`);
/// an input error when no task has a passing sample on both sides.
pub fn speedup_report(
    dataset: &Dataset,
    request: &SpeedupRequest,
    guest: GuestKind,
    guest_sha256: &str,
    baseline: &[SampleFuel],
    candidate: &[SampleFuel],
) -> Result<SpeedupReport> {
    let tasks = task_speedups(baseline, candidate);
    let speedups: Vec<f64> = tasks.iter().map(|t| t.speedup).collect();
    let Some(summary) = summarize(&speedups) else {
        bail!(crate::error::BadInput(format!(
            "no task has a passing sample in both {} and {}: nothing to compare",
            request.baseline.display(),
            request.candidate.display()
        )));
    };
    Ok(SpeedupReport {
        dataset: dataset.kind,
        dataset_version: dataset.kind.version().to_owned(),
        baseline: request.baseline.display().to_string(),
        candidate: request.candidate.display().to_string(),
        guest,
        guest_sha256: guest_sha256.to_owned(),
        per_task_means: tasks
            .iter()
            .any(|t| t.baseline_samples > 1 || t.candidate_samples > 1),
        summary,
        tasks,
    })
}

/// One task of a profile.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TaskProfile {
    /// The task.
    pub task_id: String,
    /// Its passing samples.
    pub samples: usize,
    /// The canonical solution's fuel over all plus inputs.
    pub canonical_fuel: u64,
    /// Smallest ratio.
    pub min: f64,
    /// Median ratio.
    pub median: f64,
    /// Largest ratio.
    pub max: f64,
}

/// One passing sample of a profile.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SampleRatio {
    /// Its task.
    pub task_id: String,
    /// Its position among the task's samples.
    pub completion_id: usize,
    /// Its fuel over all plus inputs.
    pub fuel: u64,
    /// The canonical solution's.
    pub canonical_fuel: u64,
    /// fuel / canonical fuel (> 1: slower).
    pub ratio: f64,
}

/// The result of [`crate::Engine::profile`] (also the JSON of `codefuel profile --output`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProfileReport {
    /// The benchmark.
    pub dataset: DatasetKind,
    /// Its release.
    pub dataset_version: String,
    /// The samples' path.
    pub samples_file: String,
    /// The interpreter the fuel comes from (`rustpython` in reports that predate it).
    #[serde(default)]
    pub guest: GuestKind,
    /// The guest build the fuel comes from.
    pub guest_sha256: String,
    /// Samples that failed base or plus (left out of every figure).
    pub failing_samples: usize,
    /// Distribution over all passing samples.
    pub overall: RatioSummary,
    /// Distribution of the per-task medians.
    pub task_medians: RatioSummary,
    /// Per-task figures, in task order.
    pub tasks: Vec<TaskProfile>,
    /// Every passing sample, by task and position.
    pub samples: Vec<SampleRatio>,
}

impl ProfileReport {
    /// The `n` slowest samples, slowest first (ties in task and sample order).
    pub fn slowest(&self, n: usize) -> Vec<&SampleRatio> {
        let mut rows: Vec<&SampleRatio> = self.samples.iter().collect();
        rows.sort_by(|a, b| b.ratio.total_cmp(&a.ratio));
        rows.truncate(n);
        rows
    }
}

/// The profile of `fuels` (at least one passing), measured in `guest` (module
/// `guest_sha256`), with each task's canonical plus fuel from `canonical`.
pub fn profile_report(
    dataset: &Dataset,
    request: &ProfileRequest,
    guest: GuestKind,
    guest_sha256: &str,
    fuels: &[SampleFuel],
    canonical: &dyn Fn(&str) -> u64,
) -> ProfileReport {
    let samples: Vec<SampleRatio> = fuels
        .iter()
        .filter(|s| s.passed)
        .map(|s| {
            let gt = canonical(&s.task_id);
            SampleRatio {
                task_id: s.task_id.clone(),
                completion_id: s.completion_id,
                fuel: s.plus_fuel,
                canonical_fuel: gt,
                ratio: s.plus_fuel as f64 / gt.max(1) as f64,
            }
        })
        .collect();
    let mut by_task: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
    for s in &samples {
        by_task.entry(&s.task_id).or_default().push(s.ratio);
    }
    let ratios: Vec<f64> = samples.iter().map(|s| s.ratio).collect();
    let tasks: Vec<TaskProfile> = by_task
        .iter()
        .map(|(task, r)| TaskProfile {
            task_id: (*task).to_owned(),
            samples: r.len(),
            canonical_fuel: canonical(task),
            min: quantile(r, 0.0),
            median: quantile(r, 0.5),
            max: quantile(r, 1.0),
        })
        .collect();
    let medians: Vec<f64> = tasks.iter().map(|t| t.median).collect();
    ProfileReport {
        dataset: dataset.kind,
        dataset_version: dataset.kind.version().to_owned(),
        samples_file: request.samples.display().to_string(),
        guest,
        guest_sha256: guest_sha256.to_owned(),
        failing_samples: fuels.len() - samples.len(),
        overall: RatioSummary::of(&ratios, tasks.len()),
        task_medians: RatioSummary::of(&medians, tasks.len()),
        tasks,
        samples,
    }
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
