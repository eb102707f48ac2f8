//! Shared pieces of the codefuel benchmarks (the benchmarks themselves are in `benches/`).

use std::process::Command;
use std::time::Duration;

/// The tight loop used to compare metering on/off and the guest against CPython.
pub const TIGHT_LOOP: &str = "s = 0\nfor i in range(300000):\n    s += i * i % 7\n";

/// Best-of-5 time of `source` under the host's CPython (`python3`), measured inside Python so
/// interpreter start-up is excluded. `None` when no `python3` is available.
pub fn cpython_time(source: &str) -> Option<Duration> {
    let script = format!(
        "import time\nsrc = {source:?}\ncode = compile(src, 'loop', 'exec')\nbest = 1e9\n\
         for _ in range(5):\n    t = time.perf_counter(); exec(code, {{}}); best = min(best, time.perf_counter() - t)\n\
         print(best)\n"
    );
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let secs: f64 = String::from_utf8_lossy(&out.stdout).trim().parse().ok()?;
    Some(Duration::from_secs_f64(secs))
}
