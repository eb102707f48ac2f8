//! `codefuel speedup` and `codefuel profile`: efficiency in fuel, from evaluation results.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Result;
use codefuel::efficiency::speedup_svg;
use codefuel::files::{write_file, write_json_pretty};
use codefuel::stats::group_thousands;
use codefuel::{ProfileRequest, SpeedupRequest};

use super::{DatasetChoice, GuestArgs, RunnerArgs};

/// Flags shared by the efficiency commands: which dataset and how to evaluate (guest, workers).
#[derive(Clone, Debug, clap::Args)]
pub struct DatasetArgs {
    /// The benchmark.
    #[arg(long, value_enum, default_value_t = DatasetChoice::Humaneval)]
    pub dataset: DatasetChoice,
    /// A local copy of the problem set (.jsonl or .jsonl.gz) instead of the download.
    #[arg(long, value_name = "FILE")]
    pub dataset_file: Option<PathBuf>,
    /// The interpreter any evaluation still needed runs in (results of another guest are
    /// not reused).
    #[command(flatten)]
    pub guest: GuestArgs,
    /// Workers for any evaluation still needed, cache and progress.
    #[command(flatten)]
    pub runner: RunnerArgs,
}

/// Flags of `codefuel speedup`.
#[derive(Clone, Debug, clap::Args)]
pub struct SpeedupArgs {
    /// Dataset, guest, workers and cache.
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
    let request = SpeedupRequest {
        dataset: args.data.dataset.into(),
        dataset_file: args.data.dataset_file.clone(),
        baseline: args.baseline.clone(),
        candidate: args.candidate.clone(),
    };
    let engine = args.data.runner.engine(args.data.guest)?;
    let report = engine.speedup(&request, &args.data.runner.progress())?;
    let summary = &report.summary;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} tasks passed (base and plus) by both sides; speedup = baseline fuel / candidate fuel over all plus inputs{}",
        summary.tasks,
        if report.per_task_means {
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
        write_json_pretty(path, &report)?;
        println!("report: {}", path.display());
    }
    if let Some(path) = &args.plot {
        let title = format!(
            "codefuel speedup on {} {}: {} vs {}",
            report.dataset,
            report.dataset_version,
            file_label(&args.candidate),
            file_label(&args.baseline)
        );
        write_file(path, speedup_svg(&report.tasks, summary, &title).as_bytes())?;
        println!("plot: {}", path.display());
    }
    Ok(0)
}

/// Flags of `codefuel profile`.
#[derive(Clone, Debug, clap::Args)]
pub struct ProfileArgs {
    /// Dataset, guest, workers and cache.
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
    let request = ProfileRequest {
        dataset: args.data.dataset.into(),
        dataset_file: args.data.dataset_file.clone(),
        samples: args.samples.clone(),
    };
    let engine = args.data.runner.engine(args.data.guest)?;
    let report = engine.profile(&request, &args.data.runner.progress())?;
    let overall = &report.overall;
    println!(
        "{} passing samples on {} tasks ({} failing samples left out); fuel ratio = sample / canonical solution on all plus inputs (> 1: slower)",
        report.samples.len(),
        report.tasks.len(),
        report.failing_samples
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
    let tasks = &report.task_medians;
    println!(
        "  per task (median of its samples): median {:.3}×   p10 {:.3}×   p90 {:.3}×   \
         tasks ≥ 10 % slower {:.1} %   ≥ 10 % faster {:.1} %",
        tasks.median,
        tasks.p10,
        tasks.p90,
        100.0 * tasks.share_slower_10pct,
        100.0 * tasks.share_faster_10pct
    );
    println!("slowest solutions:");
    println!(
        "  {:<16} {:>6} {:>10} {:>18} {:>18}",
        "task", "sample", "ratio", "fuel", "canonical fuel"
    );
    for s in report.slowest(args.top) {
        println!(
            "  {:<16} {:>6} {:>9.2}× {:>18} {:>18}",
            s.task_id,
            s.completion_id,
            s.ratio,
            group_thousands(s.fuel),
            group_thousands(s.canonical_fuel)
        );
    }
    if let Some(path) = &args.output {
        write_json_pretty(path, &report)?;
        println!("profile: {}", path.display());
    }
    Ok(0)
}

fn file_label(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}
