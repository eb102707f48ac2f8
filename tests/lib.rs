//! Shared helpers for the integration tests: one sandbox per test process, of the guest
//! `CODEFUEL_TEST_GUEST` names (`rustpython`, the default, or `cpython`, which needs
//! `--features cpython`), so that both guests pass the same suite.

use std::sync::OnceLock;

use codefuel_runtime::{GuestKind, Limits, Program, RunOutcome, Sandbox, SandboxConfig};

/// The guest under test: `CODEFUEL_TEST_GUEST`, else RustPython.
pub fn guest() -> GuestKind {
    match std::env::var("CODEFUEL_TEST_GUEST").as_deref() {
        Ok("cpython") => GuestKind::CPython,
        Ok("rustpython") | Ok("") | Err(_) => GuestKind::RustPython,
        Ok(other) => panic!("CODEFUEL_TEST_GUEST={other}: expected rustpython or cpython"),
    }
}

/// The process-wide sandbox of [`guest`] (compiled once, or loaded from the disk cache).
pub fn sandbox() -> &'static Sandbox {
    static SANDBOX: OnceLock<Sandbox> = OnceLock::new();
    SANDBOX.get_or_init(|| {
        Sandbox::with_config(&SandboxConfig {
            guest: guest(),
            ..SandboxConfig::default()
        })
        .expect("building the sandbox")
    })
}

/// Runs `source` under `limits`.
pub fn run_with(source: &str, limits: &Limits) -> RunOutcome {
    sandbox()
        .run(Program::new(source), limits)
        .expect("host-side failure")
}

/// Runs `source` under the default limits.
pub fn run(source: &str) -> RunOutcome {
    run_with(source, &Limits::default())
}

/// The captured stdout as text.
pub fn stdout(outcome: &RunOutcome) -> String {
    String::from_utf8_lossy(&outcome.stdout).into_owned()
}

/// Limits with a small fuel budget, for tests that are meant to run out of it.
pub fn small_fuel() -> Limits {
    Limits::default().with_fuel(2_000_000_000)
}
