//! `codefuel evaluate`: HumanEval+/MBPP+ evaluation with evalplus 0.3.1 verdicts and fuel.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use crate::dataset::{Dataset, DatasetKind};
use crate::evalplus::FuelPolicy;
use crate::evaluate::{EvalOptions, InputOrder, evaluate};
use crate::groundtruth;
use crate::report::{self, ReportContext};
use crate::samples::{match_samples, read_samples};

/// Options of `codefuel evaluate`.
#[derive(Clone, Debug)]
pub struct EvaluateArgs {
    /// Which benchmark.
    pub dataset: DatasetKind,
    /// Samples: a `.jsonl` file or an evalplus samples directory.
    pub samples: PathBuf,
    /// A local copy of the dataset (`.jsonl` or `.jsonl.gz`).
    pub dataset_file: Option<PathBuf>,
    /// Where to write the results JSON (default: next to the samples, as evalplus).
    pub output: Option<PathBuf>,
    /// Skip the plus inputs.
    pub base_only: bool,
    /// Run every input and record per-input results.
    pub test_details: bool,
    /// Worker threads.
    pub jobs: usize,
    /// Per-input fuel limit policy.
    pub policy: FuelPolicy,
    /// Memory cap per run, in MiB.
    pub memory_mib: u64,
    /// Cache directory (compiled guest, datasets, ground truth).
    pub cache_dir: PathBuf,
    /// The order in which a split's inputs are judged.
    pub input_order: InputOrder,
    /// Print the summary only (no progress bars).
    pub quiet: bool,
}

/// The most memory a wasm32 guest can address, in MiB: every memory cap is clamped to it.
pub const MAX_MEMORY_MIB: u64 = codefuel_runtime::MAX_MEMORY_BYTES >> 20;

/// Default memory cap of an evaluation run, in MiB (all a guest can address, so no canonical
/// solution runs short; the efficiency commands evaluate with it too).
pub const DEFAULT_MEMORY_MIB: u64 = MAX_MEMORY_MIB;

/// evalplus's default results path: `x.jsonl` → `x_eval_results.json`, `dir` → `dir/eval_results.json`.
pub fn default_output(samples: &Path) -> PathBuf {
    if samples.is_dir() {
        return samples.join("eval_results.json");
    }
    let name = samples.file_name().unwrap_or_default().to_string_lossy();
    let stem = name.strip_suffix(".jsonl").unwrap_or(&name);
    samples.with_file_name(format!("{stem}_eval_results.json"))
}

/// Runs the command; returns the process exit status.
pub fn execute(args: &EvaluateArgs) -> Result<i32> {
    let (output, summary) = evaluate_to_file(args)?;
    print!("{summary}");
    println!("results: {}", output.display());
    Ok(0)
}

/// Evaluates and writes the results JSON; returns its path and the printable summary.
pub fn evaluate_to_file(args: &EvaluateArgs) -> Result<(PathBuf, String)> {
    let dataset = Dataset::resolve(args.dataset, args.dataset_file.as_deref(), &args.cache_dir)?;
    let raw = read_samples(&args.samples)?;
    let loaded = match_samples(raw, &dataset);
    for (task, n) in &loaded.unknown_tasks {
        eprintln!(
            "codefuel: warning: {n} sample(s) for {task}, which is not in {} {}; skipped",
            dataset.kind,
            dataset.kind.version()
        );
    }
    if loaded.samples.is_empty() {
        bail!(
            "no sample in {} matches a task of {} {}",
            args.samples.display(),
            dataset.kind,
            dataset.kind.version()
        );
    }
    let covered: std::collections::HashSet<&str> =
        loaded.samples.iter().map(|s| s.task_id.as_str()).collect();
    let missing = dataset.problems.len() - covered.len();
    if missing > 0 {
        eprintln!(
            "codefuel: warning: {missing} of {} tasks have no samples; pass@k covers the {} that do",
            dataset.problems.len(),
            covered.len()
        );
    }

    // Settle where the results go before any work, so a bad path costs nothing.
    let output = args
        .output
        .clone()
        .unwrap_or_else(|| default_output(&args.samples));
    if let Some(parent) = output.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create the results folder {}", parent.display()))?;
    }

    let sandbox = super::sandbox(args.cache_dir.clone(), args.jobs)?;
    let task_ids: Vec<&str> = covered.iter().copied().collect();
    let truth =
        groundtruth::load_or_compute(&dataset, &task_ids, &sandbox, &args.cache_dir, args.jobs)
            .context("computing expected outputs")?;
    let options = EvalOptions {
        base_only: args.base_only,
        test_details: args.test_details,
        jobs: args.jobs,
        policy: args.policy,
        memory_bytes: args.memory_mib.saturating_mul(1 << 20),
        progress: !args.quiet,
        profile: std::env::var_os("CODEFUEL_PROFILE").is_some(),
        input_order: args.input_order,
    };
    let results = evaluate(&dataset, &truth, &loaded.samples, &sandbox, &options)?;

    let ctx = ReportContext {
        dataset: &dataset,
        policy: args.policy,
        memory_mib: args.memory_mib,
        base_only: args.base_only,
        test_details: args.test_details,
        unknown_tasks: &loaded.unknown_tasks,
    };
    let document = report::results_json(&ctx, &results)?;
    let mut text = serde_json::to_string(&document)?;
    text.push('\n');
    std::fs::write(&output, text)
        .with_context(|| format!("cannot write results to {}", output.display()))?;
    Ok((output, report::summary(&ctx, &results)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_path_follows_evalplus() {
        assert_eq!(
            default_output(Path::new("/x/samples.jsonl")),
            PathBuf::from("/x/samples_eval_results.json")
        );
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            default_output(dir.path()),
            dir.path().join("eval_results.json")
        );
    }
}
