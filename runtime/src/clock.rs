//! The guest's virtual clocks: time is a counter, not the host's clock.
//!
//! Every reading advances the shared counter by one microsecond and `time.sleep` advances it
//! by the requested duration without blocking, so `time.time()`, `time.monotonic()` and
//! `datetime.now()` give the same values on every run. Wall time starts at
//! 2024-01-01T00:00:00Z.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use wasmtime_wasi::{HostMonotonicClock, HostWallClock};

/// Unix time (seconds) at which every run's wall clock starts.
pub const VIRTUAL_EPOCH_SECS: u64 = 1_704_067_200;
/// How far one clock reading moves the virtual time, in nanoseconds.
const TICK_NANOS: u64 = 1_000;

/// Shared virtual time of one run, in nanoseconds since the run started.
#[derive(Clone, Default)]
pub(crate) struct VirtualClock {
    nanos: Arc<AtomicU64>,
}

impl VirtualClock {
    fn read(&self) -> u64 {
        self.nanos.fetch_add(TICK_NANOS, Ordering::Relaxed)
    }

    /// Moves time forward without blocking (the guest's `time.sleep`).
    pub(crate) fn advance(&self, nanos: u64) {
        self.nanos.fetch_add(nanos, Ordering::Relaxed);
    }
}

impl HostWallClock for VirtualClock {
    fn resolution(&self) -> Duration {
        Duration::from_nanos(TICK_NANOS)
    }

    fn now(&self) -> Duration {
        Duration::from_secs(VIRTUAL_EPOCH_SECS) + Duration::from_nanos(self.read())
    }
}

impl HostMonotonicClock for VirtualClock {
    fn resolution(&self) -> u64 {
        TICK_NANOS
    }

    fn now(&self) -> u64 {
        self.read()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readings_advance_deterministically() {
        let clock = VirtualClock::default();
        assert_eq!(HostMonotonicClock::now(&clock), 0);
        assert_eq!(HostMonotonicClock::now(&clock), TICK_NANOS);
        clock.advance(5_000_000_000);
        assert_eq!(
            HostWallClock::now(&clock),
            Duration::from_secs(VIRTUAL_EPOCH_SECS + 5) + Duration::from_nanos(2 * TICK_NANOS)
        );
    }
}
