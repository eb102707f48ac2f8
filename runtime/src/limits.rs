//! Per-run resource limits and their defaults.

use std::time::Duration;

/// Default fuel budget: 100 G units, a round figure for one arbitrary program (tens of
/// seconds of guest work; evalplus-style judging sets its own, per input). The default of
/// `codefuel run --fuel`.
pub const DEFAULT_FUEL: u64 = 100_000_000_000;
/// The largest memory cap there is, 4 GiB: a wasm32 guest addresses at most 2^32 bytes of
/// linear memory. Each instance slot of the pool reserves this much address space; the
/// runtime's one source of this figure (callers clamp their caps to it).
pub const MAX_MEMORY_BYTES: u64 = 4 << 30;
/// Default guest memory cap, 1 GiB: a round quarter of [`MAX_MEMORY_BYTES`] for one
/// arbitrary program. The default of `codefuel run --memory` and `matrix`; evaluation uses
/// [`MAX_MEMORY_BYTES`].
pub const DEFAULT_MEMORY_BYTES: u64 = 1 << 30;
/// Default wall-clock backstop, 60 s: a round minute, the same as evalplus's per-task
/// timeout. Fuel ends runs first; this only catches work fuel does not count.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);
/// Default cap on captured stdout and on captured stderr, each: 1 MiB, far more than a
/// program's answer and little enough that an output flood costs the host nothing.
pub const DEFAULT_OUTPUT_BYTES: usize = 1 << 20;
/// Default cap on one response a session call hands back (and on a run's outcome report):
/// 256 MiB, above the largest expected output of HumanEval+/MBPP+ (a few MB); a guest that
/// hands back more traps, and the call ends in a crash verdict.
pub const DEFAULT_RESPONSE_BYTES: usize = 256 << 20;

/// What one run may consume. Fuel is the deterministic limit; the wall clock only backstops it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Fuel units the run may consume (ignored by a sandbox built without metering).
    pub fuel: u64,
    /// Largest linear memory the guest may grow to, in bytes.
    pub memory_bytes: u64,
    /// Wall-clock time after which the run is interrupted.
    pub timeout: Duration,
    /// Bytes of stdout kept; the rest is dropped and the outcome marked truncated.
    pub stdout_bytes: usize,
    /// Bytes of stderr kept; the rest is dropped and the outcome marked truncated.
    pub stderr_bytes: usize,
    /// Largest response (or outcome report) the guest may hand back, in bytes.
    pub response_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            fuel: DEFAULT_FUEL,
            memory_bytes: DEFAULT_MEMORY_BYTES,
            timeout: DEFAULT_TIMEOUT,
            stdout_bytes: DEFAULT_OUTPUT_BYTES,
            stderr_bytes: DEFAULT_OUTPUT_BYTES,
            response_bytes: DEFAULT_RESPONSE_BYTES,
        }
    }
}

impl Limits {
    /// These limits with a different fuel budget.
    pub fn with_fuel(mut self, fuel: u64) -> Self {
        self.fuel = fuel;
        self
    }

    /// These limits with a different memory cap, in bytes.
    pub fn with_memory_bytes(mut self, bytes: u64) -> Self {
        self.memory_bytes = bytes;
        self
    }

    /// These limits with a different wall-clock backstop.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// These limits with the same output cap for stdout and stderr.
    pub fn with_output_bytes(mut self, bytes: usize) -> Self {
        self.stdout_bytes = bytes;
        self.stderr_bytes = bytes;
        self
    }
}
