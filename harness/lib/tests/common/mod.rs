//! Helpers shared by the library's integration tests: evaluating samples given inline.

#![allow(dead_code)] // Each test binary uses its own subset.

use std::path::{Path, PathBuf};

use codefuel::evalplus::FuelPolicy;
use codefuel::progress::Silent;
use codefuel::report::ResultRow;
use codefuel::samples::{SampleRecord, Samples};
use codefuel::{DatasetKind, Engine, EngineConfig, EvaluateRequest};

/// The demo problem set (`examples/demo`).
pub fn demo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/demo/problems.jsonl")
}

/// HumanEval+ v0.1.10 from ../shared.
pub fn humaneval() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/datasets/HumanEvalPlus-v0.1.10.jsonl.gz")
}

/// A full-program sample.
pub fn solution(task_id: &str, code: &str) -> SampleRecord {
    SampleRecord {
        task_id: task_id.into(),
        solution: Some(code.into()),
        completion: None,
    }
}

/// A sample completing the task's prompt.
pub fn completion(task_id: &str, code: &str) -> SampleRecord {
    SampleRecord {
        task_id: task_id.into(),
        solution: None,
        completion: Some(code.into()),
    }
}

/// Evaluates `samples` (all of one task) on the HumanEval-format `dataset_file`; their
/// result rows, in order.
pub fn evaluate(
    dataset_file: PathBuf,
    samples: Vec<SampleRecord>,
    test_details: bool,
) -> Vec<ResultRow> {
    evaluate_with(dataset_file, samples, test_details, FuelPolicy::default())
}

/// [`evaluate`] under fuel `policy`.
pub fn evaluate_with(
    dataset_file: PathBuf,
    samples: Vec<SampleRecord>,
    test_details: bool,
    policy: FuelPolicy,
) -> Vec<ResultRow> {
    let task_id = samples[0].task_id.clone();
    let engine = Engine::new(&EngineConfig {
        jobs: Some(2),
        ..EngineConfig::default()
    })
    .unwrap();
    let mut request = EvaluateRequest::new(DatasetKind::Humaneval, Samples::Inline(samples));
    request.dataset_file = Some(dataset_file);
    request.test_details = test_details;
    request.policy = policy;
    let evaluation = engine.evaluate(&request, &Silent).unwrap();
    evaluation.results.eval[&task_id].clone()
}

/// The base split's failure reason.
pub fn base_reason(row: &ResultRow) -> Option<&str> {
    row.base_fail_reason.as_ref()?.as_deref()
}
