//! `POST /v1/judge` and `POST /v1/evaluate`: the library's judge (the semantics of
//! `codefuel judge`) and evalplus evaluation (of `codefuel evaluate`) over HTTP.
//!
//! `/v1/judge` takes one task (any shape `codefuel judge` reads: codefuel's
//! `{"code", "tests"}`, APPS's `input_output`, CodeContests', LiveCodeBench's) with an
//! optional `"options"` object, or `{"tasks": [...], "options": {...}}`; options are
//! `fuel_per_test` or `time_per_test` (seconds), `memory_mb`, `stop_at_first_failure`,
//! `exact`, `extract`. It answers with the task's result (`tests`, `pass_rate`,
//! `all_passed`, `reward`, `fuel`), or `{"results": [...]}` for a batch; each task of a batch
//! is its own job on the pool.
//!
//! `/v1/evaluate` takes `{"dataset": "humaneval"|"mbpp", "task_id", "solution"|"completion",
//! "sanitize"?}`, or `{"dataset", "samples": [...], "sanitize"?}`, and answers with evalplus's
//! row for the sample (`base_status`, `plus_status`, fuel, failure reasons), or
//! `{"results": [...]}` in sample order.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use codefuel::judge::{JudgeOptions, JudgeTask};
use codefuel::progress::Silent;
use codefuel::samples::{SampleRecord, Samples};
use codefuel::{DatasetKind, EvaluateRequest, JudgeRequest};
use serde_json::{Map, Value, json};

use crate::fields::Fields;
use crate::{ApiError, AppState, parse_body};

/// Handles one `/v1/judge` request.
pub async fn judge(
    State(state): State<Arc<AppState>>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let mut object = parse_body(&body)?;
    let options = match object.remove("options") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(options)) => options,
        Some(_) => return Err(ApiError::bad_request("\"options\" must be an object")),
    };
    let options = judge_options(&state, &options)?;
    let (batch, raw_tasks) = batch_or_one(object, "tasks", state.caps.max_batch)?;
    let mut tasks = Vec::with_capacity(raw_tasks.len());
    for (i, raw) in raw_tasks.iter().enumerate() {
        let task = JudgeTask::from_json(raw, i + 1)?;
        check_task(&state, &task, i)?;
        tasks.push(task);
    }
    let jobs = tasks.into_iter().map(|task| {
        let options = options.clone();
        let state = Arc::clone(&state);
        async move {
            state
                .on_pool(move |engine| {
                    engine.judge(
                        &JudgeRequest {
                            tasks: vec![task],
                            options,
                        },
                        &Silent,
                    )
                })
                .await
        }
    });
    let mut results = Vec::new();
    for answer in futures_join(jobs).await {
        let mut result = answer??;
        let result = result.pop().expect("one result per task");
        state
            .metrics
            .executed(result.tests.len() as u64, result.fuel);
        results.push(result);
    }
    let results = results
        .iter()
        .map(serde_json::to_value)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| ApiError::internal(e.to_string()))?;
    Ok(answer(batch, results))
}

/// A request of one item (the object itself) or a batch (`{key: [...]}` and nothing else):
/// whether it is a batch, and its items (1 to `max_batch`).
fn batch_or_one(
    mut object: Map<String, Value>,
    key: &str,
    max_batch: usize,
) -> Result<(bool, Vec<Value>), ApiError> {
    let (batch, items) = match object.remove(key) {
        Some(Value::Array(items)) => {
            Fields(&object).only(&[])?;
            (true, items)
        }
        Some(_) => return Err(ApiError::bad_request(format!("\"{key}\" must be a list"))),
        None => (false, vec![Value::Object(object)]),
    };
    if items.is_empty() || items.len() > max_batch {
        return Err(ApiError::bad_request(format!(
            "a batch holds 1 to {max_batch} {key}, not {}",
            items.len()
        )));
    }
    Ok((batch, items))
}

/// The answer to a request of [`batch_or_one`]: `{"results": [...]}` for a batch, else the
/// one result.
fn answer(batch: bool, mut results: Vec<Value>) -> Json<Value> {
    Json(if batch {
        json!({ "results": results })
    } else {
        results.pop().unwrap_or(Value::Null)
    })
}

/// Waits for every job, in order (they run concurrently on the pool).
async fn futures_join<F>(jobs: impl Iterator<Item = F>) -> Vec<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    let handles: Vec<_> = jobs.map(tokio::spawn).collect();
    let mut out = Vec::with_capacity(handles.len());
    for handle in handles {
        out.push(handle.await.expect("a judge job's task"));
    }
    out
}

fn judge_options(state: &AppState, options: &Map<String, Value>) -> Result<JudgeOptions, ApiError> {
    let fields = Fields(options);
    fields.only(&[
        "fuel_per_test",
        "time_per_test",
        "memory_mb",
        "stop_at_first_failure",
        "exact",
        "extract",
    ])?;
    let caps = &state.caps;
    let fuel_per_test = match (
        fields.integer("fuel_per_test")?,
        fields.number("time_per_test")?,
    ) {
        (Some(fuel), _) if fuel > 0 => (fuel as u64).min(caps.max_fuel),
        (Some(_), _) => return Err(ApiError::bad_request("\"fuel_per_test\" must be positive")),
        (None, Some(secs)) => caps.fuel_for_secs(secs).ok_or_else(|| {
            ApiError::bad_request("\"time_per_test\" must be a positive number of seconds")
        })?,
        (None, None) => JudgeOptions::default().fuel_per_test.min(caps.max_fuel),
    };
    let memory_mib = caps
        .memory_for(fields.integer("memory_mb")?)
        .ok_or_else(|| ApiError::bad_request("\"memory_mb\" must be a positive number"))?;
    Ok(JudgeOptions {
        fuel_per_test,
        memory_mib,
        stop_at_first_failure: fields.flag("stop_at_first_failure")?,
        exact: fields.flag("exact")?,
        extract: fields.flag("extract")?,
    })
}

fn check_task(state: &AppState, task: &JudgeTask, i: usize) -> Result<(), ApiError> {
    let caps = &state.caps;
    if task.code.len() > caps.max_code_bytes {
        return Err(ApiError::too_large(format!(
            "task {i}: the code is {} bytes; the limit is {}",
            task.code.len(),
            caps.max_code_bytes
        )));
    }
    let tests = task.tests.len();
    if tests > caps.max_tests {
        return Err(ApiError::bad_request(format!(
            "task {i} has {tests} tests; the limit is {}",
            caps.max_tests
        )));
    }
    if let codefuel::judge::Tests::StdinStdout { stdin_stdout } = &task.tests
        && let Some(big) = stdin_stdout
            .iter()
            .find(|case| case.input.len() > caps.max_stdin_bytes)
    {
        return Err(ApiError::too_large(format!(
            "task {i}: a test's input is {} bytes; the limit is {}",
            big.input.len(),
            caps.max_stdin_bytes
        )));
    }
    Ok(())
}

/// Handles one `/v1/evaluate` request.
pub async fn evaluate(
    State(state): State<Arc<AppState>>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let mut object = parse_body(&body)?;
    let dataset: DatasetKind = match object.remove("dataset") {
        Some(value) => serde_json::from_value(value)
            .map_err(|_| ApiError::bad_request("\"dataset\" must be \"humaneval\" or \"mbpp\""))?,
        None => return Err(ApiError::bad_request("\"dataset\" is required")),
    };
    let sanitize = Fields(&object).flag("sanitize")?;
    object.remove("sanitize");
    let (batch, raw) = batch_or_one(object, "samples", state.caps.max_batch)?;
    let mut records = Vec::with_capacity(raw.len());
    for (i, sample) in raw.into_iter().enumerate() {
        let Value::Object(sample) = sample else {
            return Err(ApiError::bad_request(format!(
                "sample {i} must be an object"
            )));
        };
        let fields = Fields(&sample);
        fields.only(&["task_id", "solution", "completion"])?;
        let record = SampleRecord {
            task_id: fields
                .string("task_id")?
                .ok_or_else(|| {
                    ApiError::bad_request(format!("sample {i}: \"task_id\" is required"))
                })?
                .to_owned(),
            solution: fields.string("solution")?.map(str::to_owned),
            completion: fields.string("completion")?.map(str::to_owned),
        };
        let code = record.solution.as_deref().or(record.completion.as_deref());
        if code.is_some_and(|c| c.len() > state.caps.max_code_bytes) {
            return Err(ApiError::too_large(format!(
                "sample {i}: the code is over the limit of {} bytes",
                state.caps.max_code_bytes
            )));
        }
        records.push(record);
    }
    let order: Vec<String> = records.iter().map(|r| r.task_id.clone()).collect();
    let dataset_file = state
        .dataset_files
        .iter()
        .find(|(kind, _)| *kind == dataset)
        .map(|(_, path)| path.clone());
    let request = EvaluateRequest {
        dataset_file,
        sanitize,
        ..EvaluateRequest::new(dataset, Samples::Inline(records))
    };
    let evaluation = state
        .on_pool(move |engine| engine.evaluate(&request, &Silent))
        .await??;
    let mut next: std::collections::HashMap<&str, usize> = Default::default();
    let mut rows = Vec::with_capacity(order.len());
    for task_id in &order {
        let k = next.entry(task_id).or_default();
        let row = evaluation
            .results
            .eval
            .get(task_id)
            .and_then(|rows| rows.get(*k))
            .ok_or_else(|| {
                ApiError::bad_request(format!("\"{task_id}\" is not a task of {dataset:?}"))
            })?;
        *k += 1;
        let mut row = serde_json::to_value(row).map_err(|e| ApiError::internal(e.to_string()))?;
        if let Some(row) = row.as_object_mut() {
            row.insert("task_id".into(), Value::String(task_id.clone()));
        }
        rows.push(row);
    }
    state.metrics.executed(rows.len() as u64, 0);
    Ok(answer(batch, rows))
}
