//! `codefuel._codefuel`: the native half of the `codefuel` Python package, a thin front end
//! over the library (`harness/lib`), as the CLI and the HTTP server are.
//!
//! It owns only what Python needs and the library cannot give: an [`Engine`] Python can hold,
//! the library's errors as Python exceptions (`ValueError` for the caller's mistakes,
//! `codefuel.SandboxError` for codefuel's own failures), and the GIL released while sandboxes
//! run, so Python threads run programs in parallel. Requests and results cross as JSON text:
//! the library's own serde shapes, parsed by its own functions (`JudgeTask::from_json` reads
//! every dataset shape with the same messages as `codefuel judge`); the pure-Python half
//! (`python/codefuel/__init__.py`) builds the typed objects users see.

use std::collections::BTreeMap;
use std::path::PathBuf;

use codefuel::judge::{JudgeOptions, JudgeTask};
use codefuel::progress::Silent;
use codefuel::runtime::{GuestKind, Workspace};
use codefuel::{EngineConfig, EvaluateRequest, JudgeRequest, RunRequest};
use pyo3::create_exception;
use pyo3::exceptions::{PyException, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use serde_json::Value;

create_exception!(
    codefuel,
    SandboxError,
    PyException,
    "codefuel itself failed (the guest would not compile, the cache directory is unusable, \
     a bug). What a program does is never an exception: it is a verdict in the result."
);

/// The library's error as the Python exception a caller expects.
fn to_py(error: codefuel::Error) -> PyErr {
    if error.is_input() {
        PyValueError::new_err(error.to_string())
    } else {
        SandboxError::new_err(error.to_string())
    }
}

/// The guest named `name`; any other name is the caller's mistake.
fn guest_kind(name: &str) -> PyResult<GuestKind> {
    [GuestKind::RustPython, GuestKind::CPython]
        .into_iter()
        .find(|guest| guest.name() == name)
        .ok_or_else(|| {
            PyValueError::new_err(format!(
                "guest must be \"rustpython\" or \"cpython\", got {name:?}"
            ))
        })
}

/// A request that does not parse: the caller's mistake.
fn bad_json(what: &str, error: serde_json::Error) -> PyErr {
    PyValueError::new_err(format!("{what}: {error}"))
}

/// A result as JSON text; serializing the library's own types cannot fail short of a bug.
fn to_json(value: &impl serde::Serialize) -> PyResult<String> {
    serde_json::to_string(value).map_err(|e| SandboxError::new_err(format!("result: {e}")))
}

/// A compiled guest and a pool of sandboxes, shared by every call on it; safe to use from
/// many Python threads at once (each call releases the GIL while it runs).
#[pyclass(frozen, module = "codefuel._codefuel")]
struct Engine {
    inner: codefuel::Engine,
}

#[pymethods]
impl Engine {
    /// Compiles `guest` (`"rustpython"`, the default, or `"cpython"`) or loads it from the
    /// cache (the CLI's cache, by default) and sets up `jobs` workers (default: every core).
    #[new]
    #[pyo3(signature = (jobs=None, cache_dir=None, guest=None))]
    fn new(
        py: Python<'_>,
        jobs: Option<usize>,
        cache_dir: Option<PathBuf>,
        guest: Option<&str>,
    ) -> PyResult<Self> {
        if jobs == Some(0) {
            return Err(PyValueError::new_err("jobs must be at least 1"));
        }
        let config = EngineConfig {
            cache_dir,
            jobs,
            guest: guest.map_or(Ok(GuestKind::default()), guest_kind)?,
        };
        let inner = py
            .detach(|| codefuel::Engine::new(&config))
            .map_err(to_py)?;
        Ok(Engine { inner })
    }

    /// The interpreter programs run in: `"rustpython"` or `"cpython"`.
    #[getter]
    fn guest(&self) -> &'static str {
        self.inner.guest().name()
    }

    /// Worker threads of `judge` and `evaluate`.
    #[getter]
    fn jobs(&self) -> usize {
        self.inner.jobs()
    }

    /// The cache directory (compiled guest, datasets, ground truth).
    #[getter]
    fn cache_dir(&self) -> PathBuf {
        self.inner.cache_dir().to_path_buf()
    }

    /// Runs one program; the `RunOutcome` as JSON (`verdict` and its fields, `stdout`,
    /// `stderr`, `fuel`, `wall`, `files` as base64).
    #[allow(clippy::too_many_arguments)]
    #[pyo3(signature = (source, stdin, fuel, memory_mib, timeout_secs, files=None, fetch=None))]
    fn run(
        &self,
        py: Python<'_>,
        source: String,
        stdin: &Bound<'_, PyBytes>,
        fuel: u64,
        memory_mib: u64,
        timeout_secs: f64,
        files: Option<BTreeMap<String, Bound<'_, PyBytes>>>,
        fetch: Option<Vec<String>>,
    ) -> PyResult<String> {
        let workspace = (files.is_some() || fetch.is_some()).then(|| Workspace {
            files: files
                .unwrap_or_default()
                .into_iter()
                .map(|(path, data)| (path, data.as_bytes().to_vec()))
                .collect(),
            fetch: fetch.unwrap_or_default(),
        });
        let request = RunRequest {
            fuel,
            memory_mib,
            timeout_secs,
            workspace,
            ..RunRequest::new(source).with_stdin(stdin.as_bytes())
        };
        let outcome = py.detach(|| self.inner.run(&request)).map_err(to_py)?;
        to_json(&outcome)
    }

    /// Judges tasks (a JSON list of objects in any shape `codefuel judge` reads) with
    /// `options` (JSON `JudgeOptions`), in parallel on the engine's workers; the
    /// `JudgeResult`s as a JSON list, in the tasks' order.
    fn judge(&self, py: Python<'_>, tasks: &str, options: &str) -> PyResult<String> {
        let values: Vec<Value> =
            serde_json::from_str(tasks).map_err(|e| bad_json("tasks must be a list", e))?;
        let tasks = values
            .iter()
            .enumerate()
            .map(|(i, value)| JudgeTask::from_json(value, i + 1))
            .collect::<codefuel::Result<Vec<_>>>()
            .map_err(to_py)?;
        let options: JudgeOptions =
            serde_json::from_str(options).map_err(|e| bad_json("options", e))?;
        let request = JudgeRequest { tasks, options };
        let results = py
            .detach(|| self.inner.judge(&request, &Silent))
            .map_err(to_py)?;
        to_json(&results)
    }

    /// Evaluates samples on HumanEval+ or MBPP+ (a JSON `EvaluateRequest`); JSON
    /// `{"results": <evalplus's results file>, "summary": <the CLI's summary text>}`.
    fn evaluate(&self, py: Python<'_>, request: &str) -> PyResult<String> {
        let request: EvaluateRequest =
            serde_json::from_str(request).map_err(|e| bad_json("evaluate request", e))?;
        let evaluation = py
            .detach(|| self.inner.evaluate(&request, &Silent))
            .map_err(to_py)?;
        to_json(&serde_json::json!({
            "results": evaluation.results,
            "summary": evaluation.summary,
        }))
    }
}

/// The program in a model's answer, as `codefuel judge --extract` finds it: text after the
/// last `</think>`, the last fenced Python block, else the longest valid span of lines.
#[pyfunction]
fn extract_code(py: Python<'_>, answer: &str) -> String {
    py.detach(|| codefuel::sanitize::extract_code(answer))
}

/// evalplus 0.3.1's sanitizer (`codefuel sanitize`): the code `entry_point` needs, without
/// the rest (tests, prints, `__main__` blocks).
#[pyfunction]
fn sanitize(py: Python<'_>, code: &str, entry_point: &str) -> String {
    py.detach(|| codefuel::sanitize::sanitize(code, Some(entry_point)))
}

/// The native module: [`Engine`], the two extraction functions, `SandboxError` and the
/// library's defaults, each defined once in the library.
#[pymodule]
fn _codefuel(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Engine>()?;
    m.add_function(wrap_pyfunction!(extract_code, m)?)?;
    m.add_function(wrap_pyfunction!(sanitize, m)?)?;
    m.add("SandboxError", m.py().get_type::<SandboxError>())?;
    m.add("DEFAULT_FUEL", codefuel::runtime::DEFAULT_FUEL)?;
    m.add("FUEL_PER_SECOND", codefuel::judge::FUEL_PER_SECOND)?;
    m.add(
        "DEFAULT_FUEL_PER_TEST",
        codefuel::judge::DEFAULT_FUEL_PER_TEST,
    )?;
    m.add(
        "DEFAULT_RUN_MEMORY_MIB",
        codefuel::api::DEFAULT_RUN_MEMORY_MIB,
    )?;
    m.add(
        "DEFAULT_EVAL_MEMORY_MIB",
        codefuel::api::DEFAULT_EVAL_MEMORY_MIB,
    )?;
    m.add("MAX_MEMORY_MIB", codefuel::api::MAX_MEMORY_MIB)?;
    m.add(
        "DEFAULT_TIMEOUT_SECS",
        codefuel::runtime::DEFAULT_TIMEOUT.as_secs_f64(),
    )?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
