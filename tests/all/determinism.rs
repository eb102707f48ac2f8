//! Same program, same everything: output, fuel and verdict.

use codefuel_tests::{run, stdout};

const NONDETERMINISM_PROBE: &str = r#"
import random, time, os, datetime
print(list({"b": 1, "a": 2, "zeta": 3, "x": 4}))
print(list({"apple", "banana", "cherry", "date", 1, 2.5, (3, 4)}))
print(hash("x"), hash(("a", 1)), hash(3.25))
print(random.random(), random.randint(0, 10**9))
r = random.Random(); print(r.random())
print(os.urandom(8).hex())
print(time.time(), time.monotonic(), time.perf_counter())
print(datetime.datetime.now().isoformat())
print(id(object()) == id(object()))
"#;

#[test]
fn three_runs_are_identical() {
    let first = run(NONDETERMINISM_PROBE);
    assert!(first.verdict.is_success(), "{first:?}");
    for _ in 0..2 {
        let again = run(NONDETERMINISM_PROBE);
        assert_eq!(stdout(&again), stdout(&first));
        assert_eq!(again.fuel, first.fuel);
        assert_eq!(again.verdict, first.verdict);
    }
}

#[test]
fn clock_starts_at_the_virtual_epoch_and_sleep_does_not_block() {
    let outcome = run(
        "import time\nt = time.time()\ntime.sleep(1000)\nprint(int(t), round(time.time() - t))",
    );
    assert!(outcome.verdict.is_success(), "{outcome:?}");
    assert_eq!(
        stdout(&outcome).trim(),
        format!("{} 1000", codefuel_runtime::VIRTUAL_EPOCH_SECS)
    );
    assert!(outcome.wall.as_secs() < 10);
}

#[test]
fn fuel_grows_with_work() {
    let small = run("s = 0\nfor i in range(1000): s += i\n");
    let large = run("s = 0\nfor i in range(100000): s += i\n");
    assert!(small.verdict.is_success() && large.verdict.is_success());
    assert!(
        large.fuel > small.fuel * 10,
        "{} vs {}",
        large.fuel,
        small.fuel
    );
}
