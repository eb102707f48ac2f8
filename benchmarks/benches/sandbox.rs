//! Sandbox benchmarks: fresh-sandbox latency, `pass` end to end, fuel metering overhead on a
//! tight loop, and the same loop under CPython for scale (the ratio is printed at the end).

use std::time::{Duration, Instant};

use codefuel_benchmarks::{TIGHT_LOOP, cpython_time};
use codefuel_runtime::{Limits, Program, Sandbox, SandboxConfig};
use criterion::Criterion;

fn sandboxes() -> (Sandbox, Sandbox) {
    let metered = Sandbox::new().expect("sandbox");
    let unmetered = Sandbox::with_config(&SandboxConfig {
        metering: false,
        ..SandboxConfig::default()
    })
    .expect("unmetered sandbox");
    (metered, unmetered)
}

fn bench(c: &mut Criterion) {
    let (metered, unmetered) = sandboxes();
    let limits = Limits::default();

    let pass = metered.run(Program::new("pass"), &limits).unwrap();
    println!("fuel of a fresh sandbox running `pass`: {}", pass.fuel);

    c.bench_function("fresh sandbox: `pass` end to end", |b| {
        b.iter(|| metered.run(Program::new("pass"), &limits).unwrap())
    });
    c.bench_function("fresh sandbox: print a line", |b| {
        b.iter(|| {
            metered
                .run(Program::new("print('hello')"), &limits)
                .unwrap()
        })
    });

    let mut group = c.benchmark_group("tight loop");
    group.sample_size(10);
    group.bench_function("fuel metering on", |b| {
        b.iter(|| metered.run(Program::new(TIGHT_LOOP), &limits).unwrap())
    });
    group.bench_function("fuel metering off", |b| {
        b.iter(|| unmetered.run(Program::new(TIGHT_LOOP), &limits).unwrap())
    });
    group.finish();

    // Summary ratios (best of 5), printed for the README and closing notes.
    let best = |sandbox: &Sandbox, source: &str| -> Duration {
        (0..5)
            .map(|_| {
                let t = Instant::now();
                sandbox.run(Program::new(source), &limits).unwrap();
                t.elapsed()
            })
            .min()
            .unwrap()
    };
    let on = best(&metered, TIGHT_LOOP);
    let off = best(&unmetered, TIGHT_LOOP);
    let fuel = metered.run(Program::new(TIGHT_LOOP), &limits).unwrap().fuel;
    println!(
        "tight loop: metering on {on:?}, off {off:?}, overhead {:.2}x, {fuel} fuel",
        on.as_secs_f64() / off.as_secs_f64()
    );
    match cpython_time(TIGHT_LOOP) {
        Some(cpython) => println!(
            "tight loop: CPython {cpython:?}; codefuel (metered) / CPython = {:.1}x",
            on.as_secs_f64() / cpython.as_secs_f64()
        ),
        None => println!("tight loop: python3 not found, no CPython comparison"),
    }
}

/// Runs [`bench`] (criterion's generated entry point).
fn benches() {
    let mut criterion = Criterion::default().configure_from_args();
    bench(&mut criterion);
}

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
}
