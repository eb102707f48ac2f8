//! `codefuel evaluate`: HumanEval+/MBPP+ evaluation with evalplus 0.3.1 verdicts and fuel.

use std::path::PathBuf;

use anyhow::{Context, Result};
use codefuel::EvaluateRequest;
use codefuel::report::default_results_path;
use codefuel::samples::Samples;

use super::{GuestArgs, RunnerArgs};

/// Runs the command: evaluates in `guest`, writes the results file and prints the summary;
/// returns the process exit status.
pub fn execute(
    request: &EvaluateRequest,
    output: Option<PathBuf>,
    guest: GuestArgs,
    runner: &RunnerArgs,
) -> Result<i32> {
    // Settle where the results go before any work, so a bad path costs nothing.
    let output = match (output, &request.samples) {
        (Some(output), _) => output,
        (None, Samples::Path(path)) => default_results_path(path),
        (None, Samples::Inline(_)) => anyhow::bail!("--output is needed for inline samples"),
    };
    if let Some(parent) = output.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create the results folder {}", parent.display()))?;
    }
    let engine = runner.engine(guest)?;
    let evaluation = engine.evaluate(request, &runner.progress())?;
    evaluation.results.write(&output)?;
    print!("{}", evaluation.summary);
    println!("results: {}", output.display());
    Ok(0)
}
