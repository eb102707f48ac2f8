//! `POST /run_code`, SandboxFusion's endpoint (`sandbox/server/sandbox_api.py` in
//! bytedance/SandboxFusion is the specification), so verl's `sandbox_fusion` reward and the
//! `sandbox-fusion` client work by pointing them here.
//!
//! Request: `code`, `language`, `stdin`, `compile_timeout`, `run_timeout` (default 10 s),
//! `memory_limit_MB` (-1: the default), `files` (path -> base64), `fetch_files`; other fields
//! are ignored, as SandboxFusion's pydantic model ignores them. Response: `status` (`Success` | `Failed` |
//! `SandboxError`), `message`, `compile_result` (null: Python is not compiled), `run_result`
//! `{status: Finished | TimeLimitExceeded, execution_time, return_code, stdout, stderr}`,
//! `files`, `executor_pod_name`; and codefuel's own `fuel` and `verdict`.
//!
//! Mapping: `run_timeout` seconds become fuel at [`FUEL_PER_TIMEOUT_SECOND`] (so the same
//! request always gets the same verdict), with the judge's wall-clock backstop behind it.
//! Out of fuel (or the backstop) is `TimeLimitExceeded`; an uncaught exception is return
//! code 1 with the traceback on stderr, as CPython; the memory cap, a stack overflow or a
//! guest crash also end with return code 1 and a line on stderr saying which.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use codefuel::runtime::{RunOutcome, Verdict, Workspace};
use serde_json::{Value, json};

use crate::fields::{Fields, wrong};
use crate::limits::{DEFAULT_RUN_TIMEOUT_SECS, FUEL_PER_TIMEOUT_SECOND};
use crate::{ApiError, AppState, parse_body};

/// The languages this endpoint runs (SandboxFusion's names).
const LANGUAGES: [&str; 2] = ["python", "python3"];

/// Handles one `/run_code` request.
pub async fn handle(
    State(state): State<Arc<AppState>>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let object = parse_body(&body)?;
    let fields = Fields(&object);
    let caps = &state.caps;
    let Some(code) = fields.string("code")? else {
        return Err(ApiError::bad_request("\"code\" is required"));
    };
    let Some(language) = fields.string("language")? else {
        return Err(ApiError::bad_request("\"language\" is required"));
    };
    let stdin = fields.string("stdin")?.unwrap_or("");
    fields.number("compile_timeout")?; // nothing is compiled
    let timeout = fields
        .number("run_timeout")?
        .unwrap_or(DEFAULT_RUN_TIMEOUT_SECS);
    let Some(fuel) = caps.fuel_for_secs(timeout) else {
        return Err(ApiError::bad_request(format!(
            "\"run_timeout\" must be a positive number of seconds, not {timeout}"
        )));
    };
    let memory = fields.integer("memory_limit_MB")?;
    let Some(memory_mib) = caps.memory_for(memory) else {
        return Err(ApiError::bad_request(
            "\"memory_limit_MB\" must be a positive number of MB, or -1 for the default",
        ));
    };
    if code.len() > caps.max_code_bytes {
        return Err(ApiError::too_large(format!(
            "\"code\" is {} bytes; the limit is {}",
            code.len(),
            caps.max_code_bytes
        )));
    }
    if stdin.len() > caps.max_stdin_bytes {
        return Err(ApiError::too_large(format!(
            "\"stdin\" is {} bytes; the limit is {}",
            stdin.len(),
            caps.max_stdin_bytes
        )));
    }
    if !LANGUAGES.contains(&language) {
        return Ok(Json(sandbox_error(format!(
            "language \"{language}\" is not supported: codefuel runs Python \
             (language \"python\" or \"python3\")"
        ))));
    }
    let workspace = workspace(&object)?;

    let request = codefuel::RunRequest {
        fuel,
        memory_mib,
        timeout_secs: codefuel::judge::backstop(fuel).as_secs_f64(),
        workspace: Some(workspace),
        ..codefuel::RunRequest::new(code).with_stdin(stdin)
    };
    let outcome = state.on_pool(move |engine| engine.run(&request)).await??;
    state.metrics.executed(1, outcome.fuel);
    Ok(Json(response(&outcome, memory_mib)))
}

/// The run's in-memory working directory: `files` (path -> base64 contents; a null entry is
/// skipped) and `fetch_files` (paths handed back in the response's `files`). Every run gets
/// one, as every SandboxFusion run gets a fresh directory; it lives in the sandbox's memory.
fn workspace(object: &serde_json::Map<String, Value>) -> Result<Workspace, ApiError> {
    let mut workspace = Workspace::default();
    match object.get("files") {
        None | Some(Value::Null) => {}
        Some(Value::Object(files)) => {
            for (path, data) in files {
                let field = format!("files[{path:?}]");
                check_path(&field, path)?;
                let data = match data {
                    Value::Null => continue,
                    Value::String(data) => data,
                    other => return Err(wrong(&field, "a base64 string", other)),
                };
                let bytes = BASE64.decode(data.as_bytes()).map_err(|e| {
                    ApiError::bad_request(format!("\"{field}\" is not base64: {e}"))
                })?;
                workspace.files.insert(path.clone(), bytes);
            }
        }
        Some(other) => {
            return Err(wrong(
                "files",
                "an object of path -> base64 contents",
                other,
            ));
        }
    }
    match object.get("fetch_files") {
        None | Some(Value::Null) => {}
        Some(Value::Array(paths)) => {
            for path in paths {
                let Value::String(path) = path else {
                    return Err(wrong("fetch_files[]", "a path (a string)", path));
                };
                check_path("fetch_files[]", path)?;
                workspace.fetch.push(path.clone());
            }
        }
        Some(other) => return Err(wrong("fetch_files", "a list of paths", other)),
    }
    Ok(workspace)
}

/// A path of `files` or `fetch_files`: not empty, no NUL byte.
fn check_path(field: &str, path: &str) -> Result<(), ApiError> {
    if path.is_empty() || path.contains('\0') {
        return Err(ApiError::bad_request(format!(
            "\"{field}\": the path {path:?} is empty or holds a NUL byte"
        )));
    }
    Ok(())
}

/// SandboxFusion's answer when the request cannot be run as asked.
fn sandbox_error(message: String) -> Value {
    json!({
        "status": "SandboxError",
        "message": message,
        "compile_result": null,
        "run_result": null,
        "executor_pod_name": null,
        "files": {},
    })
}

/// SandboxFusion's response for a finished run, with codefuel's `fuel` and `verdict`.
fn response(outcome: &RunOutcome, memory_mib: u64) -> Value {
    let mut stderr = String::from_utf8_lossy(&outcome.stderr).into_owned();
    let note = |stderr: &mut String, line: &str| {
        if !stderr.is_empty() && !stderr.ends_with('\n') {
            stderr.push('\n');
        }
        stderr.push_str(line);
    };
    let (run_status, return_code) = match &outcome.verdict {
        Verdict::Completed { exit_code } => ("Finished", Some(*exit_code)),
        Verdict::Exception { traceback, .. } => {
            if !stderr.contains(traceback.trim_end()) {
                note(&mut stderr, traceback);
            }
            ("Finished", Some(1))
        }
        Verdict::FuelExhausted | Verdict::Timeout => ("TimeLimitExceeded", None),
        Verdict::MemoryLimit => {
            note(
                &mut stderr,
                &format!("MemoryError: the memory limit of {memory_mib} MB was reached\n"),
            );
            ("Finished", Some(1))
        }
        Verdict::StackOverflow => {
            note(
                &mut stderr,
                "RecursionError: the sandbox's stack overflowed\n",
            );
            ("Finished", Some(1))
        }
        Verdict::Crash { message } => {
            note(
                &mut stderr,
                &format!("the program crashed the interpreter: {message}\n"),
            );
            ("Finished", Some(1))
        }
    };
    let files: serde_json::Map<String, Value> = outcome
        .files
        .iter()
        .map(|(path, data)| (path.clone(), Value::String(BASE64.encode(data))))
        .collect();
    let status = if outcome.verdict.is_success() {
        "Success"
    } else {
        "Failed"
    };
    json!({
        "status": status,
        "message": "",
        "compile_result": null,
        "run_result": {
            "status": run_status,
            "execution_time": outcome.wall.as_secs_f64(),
            "return_code": return_code,
            "stdout": String::from_utf8_lossy(&outcome.stdout),
            "stderr": stderr,
        },
        "executor_pod_name": null,
        "files": files,
        "fuel": outcome.fuel,
        "fuel_per_second": FUEL_PER_TIMEOUT_SECOND,
        "verdict": outcome.verdict.name(),
    })
}
