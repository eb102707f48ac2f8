//! Every cap and default of the service, defined once, with where it comes from. The
//! `codefuel serve` flags override the maximums; a request over a cap is refused with 400 or
//! 413 and a message, never run.

use codefuel::api::{DEFAULT_RUN_MEMORY_MIB, MAX_MEMORY_MIB};
use codefuel::judge::FUEL_PER_SECOND;

/// SandboxFusion's default `run_timeout` (its `RunCodeRequest`), in seconds.
pub const DEFAULT_RUN_TIMEOUT_SECS: f64 = 10.0;

/// Fuel per second of `run_timeout` / `time_per_test`: judge's fixed factor, evalplus's
/// calibration of one CPython second (20 G). The same request always gets the same budget.
pub const FUEL_PER_TIMEOUT_SECOND: u64 = FUEL_PER_SECOND;

/// Queue in front of the runner threads, beyond the runs in progress: verl keeps 64 requests
/// in flight per trainer by default, so 256 holds a few trainers' bursts.
pub const DEFAULT_MAX_QUEUE: usize = 256;

/// Seconds a client is told to wait (`Retry-After`) when the queue is full.
pub const RETRY_AFTER_SECS: u64 = 1;

/// The request caps, each with its default; `codefuel serve` flags change them.
#[derive(Clone, Debug)]
pub struct Caps {
    /// Largest request body, in bytes (413 above).
    pub max_body_bytes: usize,
    /// Largest program, in bytes (413 above).
    pub max_code_bytes: usize,
    /// Largest stdin of one run or test, in bytes (413 above).
    pub max_stdin_bytes: usize,
    /// Most tests in one judged task (400 above).
    pub max_tests: usize,
    /// Most tasks (or samples) in one batch request (400 above).
    pub max_batch: usize,
    /// Most fuel one run or test may be given; larger budgets are cut to it (400 for a
    /// budget that is not a positive number).
    pub max_fuel: u64,
    /// Memory of a run when the request does not say (SandboxFusion's `-1`), in MiB.
    pub default_memory_mib: u64,
    /// Most memory a request may ask for, in MiB; larger requests are cut to it.
    pub max_memory_mib: u64,
}

impl Default for Caps {
    fn default() -> Self {
        Caps {
            // 64 MiB: a batch of long programs with their tests, far below memory trouble.
            max_body_bytes: 64 << 20,
            // 1 MiB of source: no model writes more for one answer.
            max_code_bytes: 1 << 20,
            // 16 MiB: the largest CodeContests inputs are a few MiB.
            max_stdin_bytes: 16 << 20,
            // 1,000: CodeContests' generated tests run to a few hundred per problem.
            max_tests: 1_000,
            // 256 codes per request: a GRPO group is 8-64.
            max_batch: 256,
            // 60 CPython-seconds of work: 3x SandboxFusion's own default (10 s wall).
            max_fuel: 60 * FUEL_PER_TIMEOUT_SECOND,
            default_memory_mib: DEFAULT_RUN_MEMORY_MIB,
            max_memory_mib: MAX_MEMORY_MIB,
        }
    }
}

impl Caps {
    /// The fuel for a time limit of `secs` seconds: [`FUEL_PER_TIMEOUT_SECOND`] per second,
    /// cut to [`Caps::max_fuel`]. `None` for a limit that is not a positive number.
    pub fn fuel_for_secs(&self, secs: f64) -> Option<u64> {
        (secs.is_finite() && secs > 0.0)
            .then(|| ((secs * FUEL_PER_TIMEOUT_SECOND as f64) as u64).clamp(1, self.max_fuel))
    }

    /// The memory for a request's figure in MiB (`-1` or none: the default), cut to the
    /// maximum. `None` for 0 or a negative figure other than -1.
    pub fn memory_for(&self, mib: Option<i64>) -> Option<u64> {
        match mib {
            None | Some(-1) => Some(self.default_memory_mib),
            Some(mib) if mib > 0 => Some((mib as u64).min(self.max_memory_mib)),
            Some(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_and_memory_map_to_budgets_by_fixed_rules() {
        let caps = Caps::default();
        assert_eq!(caps.fuel_for_secs(10.0), Some(200_000_000_000));
        assert_eq!(caps.fuel_for_secs(1e9), Some(caps.max_fuel));
        assert_eq!(caps.fuel_for_secs(0.0), None);
        assert_eq!(caps.fuel_for_secs(f64::NAN), None);
        assert_eq!(caps.memory_for(Some(-1)), Some(DEFAULT_RUN_MEMORY_MIB));
        assert_eq!(caps.memory_for(Some(1 << 40)), Some(MAX_MEMORY_MIB));
        assert_eq!(caps.memory_for(Some(0)), None);
    }
}
