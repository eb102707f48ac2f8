//! `codefuel speedup` and `codefuel profile`: efficiency in fuel, from evaluation results.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde_json::json;

use crate::commands::RunnerArgs;
use crate::commands::evaluate::{DEFAULT_MEMORY_MIB, EvaluateArgs};
use crate::dataset::{Dataset, DatasetKind};
use crate::efficiency::{
    RatioSummary, SampleFuel, sample_fuels, speedup_svg, summarize, task_speedups,
};
use crate::evalplus::FuelPolicy;
use crate::evaluate::InputOrder;
use crate::groundtruth;
use crate::stats::quantile;

/// Flags shared by the efficiency commands: which dataset and how to evaluate.
#[derive(Clone, Debug, clap::Args)]
pub struct DatasetArgs {
    /// The benchmark.
    #[arg(long, value_enum, default_value_t = DatasetKind::Humaneval)]
    pub dataset: DatasetKind,
    /// A local copy of the problem set (.jsonl or .jsonl.gz) instead of the download.
    #[arg(long, value_name = "FILE")]
    pub dataset_file: Option<PathBuf>,
    /// Workers for any evaluation still needed, cache and progress.
    #[command(flatten)]
    pub runner: RunnerArgs,
}

impl DatasetArgs {
    /// The evaluation of `samples` with default limits, results next to the samples.
    fn evaluate_args(&self, samples: &Path) -> EvaluateArgs {
        EvaluateArgs {
            dataset: self.dataset,
            samples: samples.to_path_buf(),
            dataset_file: self.dataset_file.clone(),
            output: None,
            base_only: false,
            test_details: false,
            jobs: self.runner.jobs(),
            policy: FuelPolicy::default(),
            memory_mib: DEFAULT_MEMORY_MIB,
            cache_dir: self.runner.cache_dir(),
            input_order: InputOrder::CheapestFirst,
            quiet: self.runner.quiet,
        }
    }

    fn fuels(&self, dataset: &Dataset, samples: &Path) -> Result<Vec<SampleFuel>> {
        let (fuels, _) = sample_fuels(&self.evaluate_args(samples), dataset, &mut |line| {
            eprintln!("codefuel: {line}")
        })?;
        Ok(fuels)
    }
}

/// Flags of `codefuel speedup`.
#[derive(Clone, Debug, clap::Args)]
pub struct SpeedupArgs {
    /// Dataset, workers and cache.
    #[command(flatten)]
    pub data: DatasetArgs,
    /// The baseline samples (evalplus format).
    #[arg(long, value_name = "PATH")]
    pub baseline: PathBuf,
    /// The candidate samples, compared with the baseline.
    #[arg(long, value_name = "PATH")]
    pub candidate: PathBuf,
    /// Write the report (summary and per-task figures) as JSON here.
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Write an SVG plot of the per-task speedups here.
    #[arg(long, value_name = "FILE")]
    pub plot: Option<PathBuf>,
}

/// Runs `codefuel speedup`; returns the process exit status.
pub fn speedup(args: &SpeedupArgs) -> Result<i32> {
    let dataset = Dataset::resolve(
        args.data.dataset,
        args.data.dataset_file.as_deref(),
        &args.data.runner.cache_dir(),
    )?;
    let baseline = args.data.fuels(&dataset, &args.baseline)?;
    let candidate = args.data.fuels(&dataset, &args.candidate)?;
    let tasks = task_speedups(&baseline, &candidate);
    let speedups: Vec<f64> = tasks.iter().map(|t| t.speedup).collect();
    let Some(summary) = summarize(&speedups) else {
        bail!(
            "no task has a passing sample in both {} and {}: nothing to compare",
            args.baseline.display(),
            args.candidate.display()
        );
    };
    let several = tasks
        .iter()
        .any(|t| t.baseline_samples > 1 || t.candidate_samples > 1);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} tasks passed (base and plus) by both sides; speedup = baseline fuel / candidate fuel over all plus inputs{}",
        summary.tasks,
        if several {
            " (per-task means over passing samples)"
        } else {
            ""
        }
    );
    let _ = writeln!(
        out,
        "  mean {:.3}× (bootstrap 95 % CI {:.3}–{:.3})   geometric mean {:.3}×   median {:.3}×",
        summary.mean,
        summary.mean_ci95[0],
        summary.mean_ci95[1],
        summary.geometric_mean,
        summary.median
    );
    let _ = writeln!(
        out,
        "  candidate ≥ 10 % faster on {:.1} % of tasks, ≥ 10 % slower on {:.1} %",
        100.0 * summary.share_faster_10pct,
        100.0 * summary.share_slower_10pct
    );
    print!("{out}");
    if let Some(path) = &args.output {
        let report = json!({
            "dataset": dataset.kind.name(),
            "dataset_version": dataset.kind.version(),
            "baseline": args.baseline.display().to_string(),
            "candidate": args.candidate.display().to_string(),
            "guest_sha256": codefuel_runtime::GUEST_SHA256,
            "per_task_means": several,
            "summary": summary,
            "tasks": tasks,
        });
        write_text(
            path,
            &format!("{}\n", serde_json::to_string_pretty(&report)?),
        )?;
        println!("report: {}", path.display());
    }
    if let Some(path) = &args.plot {
        let title = format!(
            "codefuel speedup on {} {}: {} vs {}",
            dataset.kind,
            dataset.kind.version(),
            file_label(&args.candidate),
            file_label(&args.baseline)
        );
        write_text(path, &speedup_svg(&tasks, &summary, &title))?;
        println!("plot: {}", path.display());
    }
    Ok(0)
}

/// Flags of `codefuel profile`.
#[derive(Clone, Debug, clap::Args)]
pub struct ProfileArgs {
    /// Dataset, workers and cache.
    #[command(flatten)]
    pub data: DatasetArgs,
    /// The samples to profile (evalplus format).
    #[arg(long, value_name = "PATH")]
    pub samples: PathBuf,
    /// Write the profile (every passing sample's ratio, per-task figures) as JSON here.
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Rows in the table of the slowest solutions.
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub top: usize,
}

/// Runs `codefuel profile`; returns the process exit status.
pub fn profile(args: &ProfileArgs) -> Result<i32> {
    let cache_dir = args.data.runner.cache_dir();
    let dataset = Dataset::resolve(
        args.data.dataset,
        args.data.dataset_file.as_deref(),
        &cache_dir,
    )?;
    let fuels = args.data.fuels(&dataset, &args.samples)?;
    let passing: Vec<&SampleFuel> = fuels.iter().filter(|s| s.passed).collect();
    if passing.is_empty() {
        bail!(
            "no sample in {} passes base and plus: nothing to profile",
            args.samples.display()
        );
    }
    // The canonical solution's fuel on the same plus inputs (cached by `evaluate`).
    let jobs = args.data.runner.jobs();
    let sandbox = super::sandbox(cache_dir.clone(), jobs)?;
    let mut task_ids: Vec<&str> = passing.iter().map(|s| s.task_id.as_str()).collect();
    task_ids.dedup();
    let truth = groundtruth::load_or_compute(&dataset, &task_ids, &sandbox, &cache_dir, jobs)
        .context("loading the canonical solutions' fuel")?;
    let mut rows: Vec<(&SampleFuel, u64, f64)> = passing
        .iter()
        .map(|s| {
            let gt: u64 = truth.tasks[&s.task_id].plus.fuel.iter().sum();
            (*s, gt, s.plus_fuel as f64 / gt.max(1) as f64)
        })
        .collect();
    let ratios: Vec<f64> = rows.iter().map(|r| r.2).collect();
    let overall = RatioSummary::of(&ratios, task_ids.len());
    let mut per_task = Vec::new();
    let mut task_medians = Vec::new();
    for task in &task_ids {
        let r: Vec<f64> = rows
            .iter()
            .filter(|x| x.0.task_id == *task)
            .map(|x| x.2)
            .collect();
        task_medians.push(quantile(&r, 0.5));
        per_task.push(json!({
            "task_id": task,
            "samples": r.len(),
            "canonical_fuel": truth.tasks[*task].plus.fuel.iter().sum::<u64>(),
            "min": quantile(&r, 0.0),
            "median": quantile(&r, 0.5),
            "max": quantile(&r, 1.0),
        }));
    }
    let failing = fuels.len() - passing.len();
    println!(
        "{} passing samples on {} tasks ({failing} failing samples left out); fuel ratio = sample / canonical solution on all plus inputs (> 1: slower)",
        rows.len(),
        task_ids.len()
    );
    println!(
        "  median {:.3}×   mean {:.3}×   geometric mean {:.3}×   p10 {:.3}×   p90 {:.3}×",
        overall.median, overall.mean, overall.geometric_mean, overall.p10, overall.p90
    );
    println!(
        "  ≥ 10 % slower than the canonical solution: {:.1} %   ≥ 10 % faster: {:.1} %",
        100.0 * overall.share_slower_10pct,
        100.0 * overall.share_faster_10pct
    );
    let tasks = RatioSummary::of(&task_medians, task_ids.len());
    println!(
        "  per task (median of its samples): median {:.3}×   p10 {:.3}×   p90 {:.3}×   \
         tasks ≥ 10 % slower {:.1} %   ≥ 10 % faster {:.1} %",
        tasks.median,
        tasks.p10,
        tasks.p90,
        100.0 * tasks.share_slower_10pct,
        100.0 * tasks.share_faster_10pct
    );
    // Slowest first; ties in task and sample order.
    rows.sort_by(|a, b| b.2.total_cmp(&a.2));
    println!("slowest solutions:");
    println!(
        "  {:<16} {:>6} {:>10} {:>18} {:>18}",
        "task", "sample", "ratio", "fuel", "canonical fuel"
    );
    for (s, gt, ratio) in rows.iter().take(args.top) {
        println!(
            "  {:<16} {:>6} {:>9.2}× {:>18} {:>18}",
            s.task_id,
            s.completion_id,
            ratio,
            crate::commands::run::group_thousands(s.plus_fuel),
            crate::commands::run::group_thousands(*gt)
        );
    }
    if let Some(path) = &args.output {
        rows.sort_by(|a, b| {
            (&a.0.task_id, a.0.completion_id).cmp(&(&b.0.task_id, b.0.completion_id))
        });
        let samples: Vec<_> = rows
            .iter()
            .map(|(s, gt, ratio)| json!({"task_id": s.task_id, "completion_id": s.completion_id, "fuel": s.plus_fuel, "canonical_fuel": gt, "ratio": ratio}))
            .collect();
        let report = json!({
            "dataset": dataset.kind.name(),
            "dataset_version": dataset.kind.version(),
            "samples_file": args.samples.display().to_string(),
            "guest_sha256": codefuel_runtime::GUEST_SHA256,
            "overall": overall,
            "task_medians": tasks,
            "tasks": per_task,
            "samples": samples,
        });
        write_text(
            path,
            &format!("{}\n", serde_json::to_string_pretty(&report)?),
        )?;
        println!("profile: {}", path.display());
    }
    Ok(0)
}

fn write_text(path: &Path, text: &str) -> Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
}

fn file_label(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}
