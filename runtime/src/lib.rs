//! `codefuel-runtime`: run untrusted Python in a deterministic, fuel-metered sandbox.
//!
//! A Python interpreter (RustPython 0.6, compiled to wasm32-wasip1 and pre-initialized with
//! wasmtime-wizer) runs under wasmtime with no host filesystem, network or environment, a
//! memory cap, a wall-clock backstop and fuel metering. The same program and input give the
//! same fuel, output and verdict on every run.
//!
//! ```no_run
//! use codefuel_runtime::{Limits, Program, Sandbox};
//! let sandbox = Sandbox::new()?;
//! let outcome = sandbox.run(Program::new("print(2 ** 100)"), &Limits::default())?;
//! assert!(outcome.verdict.is_success());
//! println!("{} fuel", outcome.fuel);
//! # Ok::<(), codefuel_runtime::Error>(())
//! ```
//!
//! What a program does is a [`Verdict`]; an [`Error`] is a host-side failure (the cache
//! directory, the guest, misuse of the API).
//!
//! Modules: [`sandbox`](Sandbox) (engine, runs, [sessions](Session), verdict
//! classification), `runner` (a deep enough native stack: [`on_runner`], [`spawn_runner`]),
//! `error`, `limits`, `outcome`, `host` (WASI context and the `codefuel` imports), `clock`
//! (virtual time), `pipe` (capped output capture), `snapshot` (wizer pre-initialization) and
//! `cache` (compiled-guest cache).

mod cache;
mod clock;
mod error;
mod host;
mod limits;
mod outcome;
mod pipe;
mod residency;
mod runner;
mod sandbox;
mod snapshot;

pub use cache::{default_cache_dir, prepare_cache_dir, write_atomically};
pub use clock::VIRTUAL_EPOCH_SECS;
pub use error::{BoxedSource, Error, Result};
pub use limits::{
    DEFAULT_FUEL, DEFAULT_MEMORY_BYTES, DEFAULT_OUTPUT_BYTES, DEFAULT_RESPONSE_BYTES,
    DEFAULT_TIMEOUT, Limits, MAX_MEMORY_BYTES,
};
pub use outcome::{CallOutcome, RunOutcome, Verdict};
pub use runner::{on_runner, spawn_runner};
pub use sandbox::{
    GUEST_SHA256, GUEST_WASM, GuestKind, KEEP_RESIDENT, Lease, Program, SESSIONS_PER_LEASE,
    Sandbox, SandboxConfig, Session, Workspace, default_max_concurrent_runs,
};
