//! The service's counters and their Prometheus text rendering (`GET /metrics`): requests by
//! endpoint and status, executions, fuel spent, queue depth, runs in progress and a latency
//! histogram per endpoint.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::pool::Gauges;

/// Upper bounds of the latency histogram's buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0, 30.0,
];

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

/// Everything `/metrics` reports, shared by all requests.
#[derive(Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(String, u16), u64>>,
    latency: Mutex<BTreeMap<String, Histogram>>,
    executions: AtomicU64,
    fuel: AtomicU64,
}

impl Metrics {
    /// One request to `endpoint` answered with `status` after `elapsed`.
    pub fn request(&self, endpoint: &str, status: u16, elapsed: Duration) {
        let mut requests = self.requests.lock().unwrap_or_else(|p| p.into_inner());
        *requests.entry((endpoint.to_owned(), status)).or_default() += 1;
        drop(requests);
        let mut latency = self.latency.lock().unwrap_or_else(|p| p.into_inner());
        let histogram = latency.entry(endpoint.to_owned()).or_default();
        let secs = elapsed.as_secs_f64();
        for (count, bound) in histogram.counts.iter_mut().zip(BUCKETS) {
            if secs <= bound {
                *count += 1;
            }
        }
        histogram.count += 1;
        histogram.sum += secs;
    }

    /// `n` sandbox executions that spent `fuel` between them.
    pub fn executed(&self, n: u64, fuel: u64) {
        self.executions.fetch_add(n, Ordering::Relaxed);
        self.fuel.fetch_add(fuel, Ordering::Relaxed);
    }

    /// The Prometheus text exposition of every metric, with the pool's gauges.
    pub fn render(&self, gauges: &Gauges) -> String {
        let mut out = String::new();
        let requests = self.requests.lock().unwrap_or_else(|p| p.into_inner());
        out.push_str("# HELP codefuel_requests_total HTTP requests by endpoint and status.\n");
        out.push_str("# TYPE codefuel_requests_total counter\n");
        for ((endpoint, status), n) in requests.iter() {
            let _ = writeln!(
                out,
                "codefuel_requests_total{{endpoint=\"{endpoint}\",status=\"{status}\"}} {n}"
            );
        }
        drop(requests);
        let counter = |out: &mut String, name: &str, help: &str, value: u64| {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {value}"
            );
        };
        counter(
            &mut out,
            "codefuel_executions_total",
            "Programs run in a sandbox (one per run, test or sample).",
            self.executions.load(Ordering::Relaxed),
        );
        counter(
            &mut out,
            "codefuel_fuel_total",
            "Fuel spent by all executions.",
            self.fuel.load(Ordering::Relaxed),
        );
        let gauge = |out: &mut String, name: &str, help: &str, value: usize| {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}"
            );
        };
        gauge(
            &mut out,
            "codefuel_queue_depth",
            "Jobs waiting for a runner thread.",
            gauges.queued.load(Ordering::Relaxed),
        );
        gauge(
            &mut out,
            "codefuel_in_flight",
            "Jobs running on a runner thread.",
            gauges.running.load(Ordering::Relaxed),
        );
        let latency = self.latency.lock().unwrap_or_else(|p| p.into_inner());
        out.push_str("# HELP codefuel_request_duration_seconds Request latency by endpoint.\n");
        out.push_str("# TYPE codefuel_request_duration_seconds histogram\n");
        for (endpoint, histogram) in latency.iter() {
            let name = "codefuel_request_duration_seconds";
            for (bound, count) in BUCKETS.iter().zip(histogram.counts) {
                let _ = writeln!(
                    out,
                    "{name}_bucket{{endpoint=\"{endpoint}\",le=\"{bound}\"}} {count}"
                );
            }
            let _ = writeln!(
                out,
                "{name}_bucket{{endpoint=\"{endpoint}\",le=\"+Inf\"}} {}\n\
                 {name}_sum{{endpoint=\"{endpoint}\"}} {}\n\
                 {name}_count{{endpoint=\"{endpoint}\"}} {}",
                histogram.count, histogram.sum, histogram.count
            );
        }
        out
    }
}
