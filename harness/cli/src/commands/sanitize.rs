//! `codefuel sanitize`: evalplus's sanitizer over a samples file (no code runs).

use std::path::{Path, PathBuf};

use anyhow::Result;
use codefuel::dataset::Dataset;
use codefuel::parallel::default_jobs;
use codefuel::samples::{SampleCode, read_samples};
use codefuel::sanitize::sanitize_records;
use serde_json::{Value, json};

use super::{DatasetChoice, RunnerArgs};

/// Flags of `codefuel sanitize`.
#[derive(Clone, Debug, clap::Args)]
pub struct SanitizeArgs {
    /// Raw samples: a .jsonl of {"task_id", "solution"|"completion", ...} or a directory
    /// TASK_ID/N.py.
    #[arg(long, value_name = "PATH")]
    pub samples: PathBuf,
    /// The benchmark whose prompts and entry points the samples answer.
    #[arg(long, value_enum, default_value_t = DatasetChoice::Humaneval)]
    pub dataset: DatasetChoice,
    /// A local copy of the problem set (.jsonl or .jsonl.gz) instead of the download.
    #[arg(long, value_name = "FILE")]
    pub dataset_file: Option<PathBuf>,
    /// Where to write the sanitized samples (JSONL) [default: SAMPLES-sanitized.jsonl, as
    /// evalplus names it].
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Workers, cache (where the dataset is kept) and progress.
    #[command(flatten)]
    pub runner: RunnerArgs,
}

/// evalplus's name for the sanitized copy: `x.jsonl` → `x-sanitized.jsonl`, a directory
/// `d` → `d-sanitized.jsonl` (codefuel always writes JSONL).
fn default_output(samples: &Path) -> PathBuf {
    let name = samples
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "samples".into());
    let stem = name.strip_suffix(".jsonl").unwrap_or(&name);
    samples.with_file_name(format!("{stem}-sanitized.jsonl"))
}

/// Runs the command; returns the process exit status.
pub fn execute(args: &SanitizeArgs) -> Result<i32> {
    let records: Vec<(String, Value)> = if args.samples.is_dir() {
        read_samples(&args.samples)?
            .into_iter()
            .map(|sample| {
                let code = match sample.code {
                    SampleCode::Solution(code) | SampleCode::Completion(code) => code,
                };
                let record = json!({"task_id": sample.task_id, "solution": code});
                (sample.origin, record)
            })
            .collect()
    } else if args.samples.exists() {
        codefuel::files::read_jsonl::<Value>(&args.samples, "not JSON")?
            .into_iter()
            .map(|(line, value)| (format!("{}:{line}", args.samples.display()), value))
            .collect()
    } else {
        return Err(codefuel::Error::Input(format!(
            "samples path {} does not exist",
            args.samples.display()
        ))
        .into());
    };
    let progress = args.runner.progress();
    let cache_dir = args
        .runner
        .cache_dir
        .clone()
        .unwrap_or_else(codefuel::runtime::default_cache_dir);
    let dataset = Dataset::resolve(
        args.dataset.into(),
        args.dataset_file.as_deref(),
        &cache_dir,
        &progress,
    )?;
    let jobs = args.runner.jobs.unwrap_or_else(default_jobs);
    let report = sanitize_records(&dataset, records, jobs, &progress)?;

    let name = format!("{} {}", dataset.kind, dataset.kind.version());
    for (task, n) in &report.unknown_tasks {
        eprintln!(
            "codefuel: warning: {n} sample(s) for {task}, which is not in {name}; kept as they are"
        );
    }
    for origin in &report.empty {
        eprintln!("codefuel: warning: {origin} has no code; its solution is empty");
    }
    let output = args
        .output
        .clone()
        .unwrap_or_else(|| default_output(&args.samples));
    codefuel::files::write_jsonl(&output, &report.records)?;
    println!(
        "sanitized {} of {} samples; {} without code",
        report.changed,
        report.records.len(),
        report.empty.len()
    );
    println!("sanitized samples: {}", output.display());
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_output_is_named_as_evalplus_names_it() {
        assert_eq!(
            default_output(Path::new("out/samples.jsonl")),
            Path::new("out/samples-sanitized.jsonl")
        );
        assert_eq!(
            default_output(Path::new("out/dir")),
            Path::new("out/dir-sanitized.jsonl")
        );
    }
}
