//! `codefuel`: deterministic, sandboxed evaluation of model-written Python, as a library.
//!
//! Three layers, data flowing one way: the sandbox (the `codefuel-runtime` crate, re-exported
//! as [`runtime`]) → this library (typed requests and results; no terminal, no flags, no
//! printing) → front ends (the `codefuel` CLI in `harness/cli`; the HTTP server and Python
//! bindings to come). Start at [`api`]: an [`Engine`] runs programs, evaluations and
//! matrices; [`pairs`] and [`score`] turn matrices into preference data.
//!
//! ```
//! use codefuel::{Engine, EngineConfig, RunRequest};
//! let engine = Engine::new(&EngineConfig::default())?;
//! let outcome = engine.run(&RunRequest::new("print(sum(range(10)))"))?;
//! println!("{} fuel, stdout {:?}", outcome.fuel, String::from_utf8_lossy(&outcome.stdout));
//! # Ok::<(), codefuel::Error>(())
//! ```
//!
//! Where things live:
//! - The boundary: [`api`] (entry points, requests, results), [`error`] (what went wrong and
//!   whose fault it is), [`progress`] (how long operations report).
//! - Evaluation, in data-flow order: [`dataset`] (HumanEval+/MBPP+ problems) and [`samples`]
//!   (model outputs) → [`groundtruth`] (canonical outputs and fuel, cached, from trusted
//!   sessions) → [`evaluate`] (untrusted sessions for the samples, a trusted one that judges;
//!   the session protocol is in [`driver`], the typed values in [`value`]) → [`report`]
//!   (the results file, pass@k) → [`efficiency`] (speedup and profile from results).
//! - Preference data: [`matrix`] (codes × tests) → [`prefs`] (CodeDPO, AceCoder, RRTF).
//! - RL-style judging: [`judge`] (stdin/stdout, call and assert tests from codefuel's and
//!   the datasets' task shapes, compared on the host); [`sanitize`] (the program in a raw
//!   model answer: evalplus's sanitizer, fenced-block extraction).
//! - [`evalplus`]: the host half of the evalplus 0.3.1 compatibility rules (fuel limits,
//!   statuses); the guest half is `guests/python/driver/codefuel_driver.py`.
//! - Helpers: [`files`] (JSONL and atomic writes), [`jsonl`] (Python-flavoured JSON),
//!   [`parallel`] (worker threads), [`stats`] (quantiles, seeded generator).

pub mod api;
pub mod dataset;
pub mod driver;
pub mod efficiency;
pub mod error;
pub mod evalplus;
pub mod evaluate;
pub mod files;
pub mod groundtruth;
pub mod jsonl;
pub mod judge;
pub mod matrix;
pub mod parallel;
pub mod prefs;
pub mod progress;
pub mod report;
pub mod samples;
pub mod sanitize;
pub mod stats;
pub mod value;

pub use api::{
    Engine, EngineConfig, EvaluateRequest, Evaluation, JudgeRequest, MatrixReport, MatrixRequest,
    PairFormat, PairsReport, PairsRequest, ProfileRequest, RunRequest, SpeedupRequest, pairs,
    score,
};
pub use codefuel_runtime as runtime;
pub use codefuel_runtime::{RunOutcome, Verdict};
pub use dataset::DatasetKind;
pub use error::{Error, Result};
pub use progress::Progress;
