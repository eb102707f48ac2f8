//! `codefuel`: deterministic, sandboxed evaluation of model-written Python.
//!
//! Where things live:
//! - [`commands`]: one module per CLI subcommand (`run`, ...); the binary in `main.rs` only
//!   parses flags and dispatches here.
//! - The sandbox itself is the `codefuel-runtime` crate, re-exported as [`runtime`].
//!
//! Data flows one way: programs → sandbox runs → verdicts + fuel → reports.

pub mod commands;
pub mod dataset;
pub mod driver;
pub mod evalplus;
pub mod groundtruth;
pub mod jsonl;
pub mod parallel;
pub mod samples;

pub use codefuel_runtime as runtime;
