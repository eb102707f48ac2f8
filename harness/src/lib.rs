//! `codefuel`: deterministic, sandboxed evaluation of model-written Python.
//!
//! Where things live:
//! - [`commands`]: one module per CLI subcommand (`run`, `evaluate`); the binary in `main.rs`
//!   only parses flags and dispatches here.
//! - Evaluation, in data-flow order: [`dataset`] (HumanEval+/MBPP+ problems) and [`samples`]
//!   (model outputs) → [`groundtruth`] (canonical outputs and fuel, cached, from trusted
//!   sessions) → [`evaluate`] (untrusted sessions for the samples, a trusted one that judges;
//!   the session protocol is in [`driver`], the typed values in [`value`]) → [`report`]
//!   (results JSON, pass@k).
//! - [`evalplus`]: the host half of the evalplus 0.3.1 compatibility rules (fuel limits,
//!   statuses); the guest half is `guests/python/driver/codefuel_driver.py`.
//! - Helpers: [`jsonl`] (Python-flavoured JSON), [`parallel`] (worker threads + progress).
//! - The sandbox itself is the `codefuel-runtime` crate, re-exported as [`runtime`].
//!
//! Data flows one way: programs → sandbox runs → verdicts + fuel → reports.

pub mod commands;
pub mod dataset;
pub mod driver;
pub mod efficiency;
pub mod evalplus;
pub mod evaluate;
pub mod groundtruth;
pub mod jsonl;
pub mod matrix;
pub mod parallel;
pub mod prefs;
pub mod report;
pub mod samples;
pub mod stats;
pub mod value;

pub use codefuel_runtime as runtime;
