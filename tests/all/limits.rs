//! Each limit produces its own verdict, and nothing a program does harms the host.

use std::time::Duration;

use codefuel_runtime::{Limits, Verdict};
use codefuel_tests::{run, run_with, sandbox, small_fuel, stdout};

#[test]
fn infinite_loop_exhausts_fuel() {
    let outcome = run_with("while True:\n    pass\n", &small_fuel());
    assert_eq!(outcome.verdict, Verdict::FuelExhausted);
    assert_eq!(outcome.fuel, small_fuel().fuel);
}

#[test]
fn a_native_fast_path_is_charged_the_fuel_of_the_work_it_skips() {
    // `sum(range(n))` is added in closed form but charged ~1 000 fuel per element, as the
    // generic path would spend: 10^15 elements run out of fuel at once instead of for days.
    let outcome = run_with("print(sum(range(10**15)))\n", &small_fuel());
    assert_eq!(outcome.verdict, Verdict::FuelExhausted);
    assert_eq!(outcome.fuel, small_fuel().fuel);
    assert!(outcome.wall < Duration::from_secs(5), "{:?}", outcome.wall);
}

#[test]
fn catching_base_exception_does_not_escape_the_fuel_limit() {
    let source = "while True:\n    try:\n        while True:\n            pass\n    except BaseException:\n        pass\n";
    let outcome = run_with(source, &small_fuel());
    assert_eq!(outcome.verdict, Verdict::FuelExhausted);
}

#[test]
fn output_before_fuel_runs_out_is_kept() {
    let outcome = run_with(
        "print('started', flush=True)\nwhile True: pass\n",
        &small_fuel(),
    );
    assert_eq!(outcome.verdict, Verdict::FuelExhausted);
    assert_eq!(stdout(&outcome), "started\n");
}

#[test]
fn memory_bomb_hits_the_memory_limit() {
    let limits = Limits::default().with_memory_bytes(256 << 20);
    let outcome = run_with(
        "x = []\nwhile True:\n    x.append(bytearray(1 << 20))\n",
        &limits,
    );
    assert_eq!(outcome.verdict, Verdict::MemoryLimit, "{outcome:?}");
}

#[test]
fn impossible_allocation_raises_memory_error_like_cpython() {
    let limits = Limits::default().with_memory_bytes(256 << 20);
    let source = "try:\n    x = [0] * (10 ** 9)\nexcept MemoryError:\n    print('caught')\n";
    let outcome = run_with(source, &limits);
    assert!(outcome.verdict.is_success(), "{outcome:?}");
    assert_eq!(stdout(&outcome), "caught\n");
}

#[test]
fn a_memory_limit_below_the_guests_own_memory_is_a_clear_error() {
    // The snapshot starts with its interpreter's memory (~95 MiB for RustPython): a smaller
    // cap could never run anything. Before, wasmtime's "minimum size exceeds memory limits".
    let limits = Limits::default().with_memory_bytes(16 << 20);
    let error = sandbox()
        .run(codefuel_runtime::Program::new("print(1)\n"), &limits)
        .unwrap_err();
    assert!(
        matches!(
            error,
            codefuel_runtime::Error::MemoryBelowGuest { limit_mib: 16, .. }
        ),
        "{error}"
    );
    assert!(error.to_string().contains("give it at least"), "{error}");
    let lease = sandbox().lease();
    assert!(matches!(
        lease.session(&limits),
        Err(codefuel_runtime::Error::MemoryBelowGuest { .. })
    ));
}

#[test]
fn allocation_past_the_cap_hits_the_memory_limit() {
    let limits = Limits::default().with_memory_bytes(256 << 20);
    let outcome = run_with("x = bytearray(300 * 1024 * 1024)\n", &limits);
    assert_eq!(outcome.verdict, Verdict::MemoryLimit, "{outcome:?}");
}

#[test]
fn recursion_depth_900_succeeds() {
    let source = "def f(n):\n    return 0 if n == 0 else 1 + f(n - 1)\nprint(f(900))\n";
    let outcome = run(source);
    assert!(outcome.verdict.is_success(), "{outcome:?}");
    assert_eq!(stdout(&outcome), "900\n");
}

#[test]
fn unbounded_recursion_raises_recursion_error() {
    let outcome = run("def f(n):\n    return f(n + 1)\nf(0)\n");
    match &outcome.verdict {
        Verdict::Exception { type_name, .. } => assert_eq!(type_name, "RecursionError"),
        other => panic!("expected RecursionError, got {other:?}"),
    }
}

#[test]
fn recursion_error_can_be_caught() {
    let source = "import sys\ndef f(n):\n    return f(n + 1)\ntry:\n    f(0)\nexcept RecursionError:\n    print('caught')\n";
    let outcome = run(source);
    assert!(outcome.verdict.is_success(), "{outcome:?}");
    assert_eq!(stdout(&outcome), "caught\n");
}

#[test]
fn deep_native_recursion_is_contained() {
    // Nesting 10^5 lists recurses in native code (repr), below Python's recursion counter.
    let source = "x = []\nfor _ in range(100000):\n    x = [x]\nprint(len(repr(x)))\n";
    let outcome = run(source);
    assert!(
        matches!(
            outcome.verdict,
            Verdict::StackOverflow | Verdict::Exception { .. } | Verdict::Completed { .. }
        ),
        "{outcome:?}"
    );
}

#[test]
fn a_thread_with_a_small_stack_runs_deep_programs() {
    // `Sandbox::run` switches the calling thread onto a deep stack of its own for the run.
    let source = "x = []\nfor _ in range(100000):\n    x = [x]\nprint(len(repr(x)))\n";
    let expected = run(source).verdict;
    let outcome = std::thread::Builder::new()
        .stack_size(256 << 10)
        .spawn(move || run(source))
        .unwrap()
        .join()
        .unwrap();
    assert_eq!(outcome.verdict, expected);
    assert!(
        !matches!(outcome.verdict, Verdict::Crash { .. }),
        "{outcome:?}"
    );
}

#[test]
fn output_flood_is_truncated_not_fatal() {
    let limits = small_fuel().with_output_bytes(64 << 10);
    let outcome = run_with("while True:\n    print('x' * 1000)\n", &limits);
    assert_eq!(outcome.verdict, Verdict::FuelExhausted);
    assert!(outcome.stdout_truncated);
    assert_eq!(outcome.stdout.len(), 64 << 10);
}

#[test]
fn sys_exit_code_is_reported() {
    let outcome = run("import sys\nprint('bye')\nsys.exit(3)\n");
    assert_eq!(outcome.verdict, Verdict::Completed { exit_code: 3 });
    assert_eq!(stdout(&outcome), "bye\n");
}

#[test]
fn sys_exit_with_message_prints_it_and_exits_1() {
    let outcome = run("import sys\nsys.exit('fatal: no input')\n");
    assert_eq!(outcome.verdict, Verdict::Completed { exit_code: 1 });
    assert!(String::from_utf8_lossy(&outcome.stderr).contains("fatal: no input"));
}

#[test]
fn uncaught_exception_reports_type_message_and_traceback() {
    let outcome = run("def f():\n    return 1 / 0\nf()\n");
    match &outcome.verdict {
        Verdict::Exception {
            type_name,
            message,
            traceback,
        } => {
            assert_eq!(type_name, "ZeroDivisionError");
            assert_eq!(message, "division by zero");
            assert!(traceback.contains("line 2"), "{traceback}");
            assert!(traceback.contains("ZeroDivisionError"), "{traceback}");
        }
        other => panic!("expected an exception, got {other:?}"),
    }
    assert!(String::from_utf8_lossy(&outcome.stderr).contains("Traceback"));
}

#[test]
fn the_reported_traceback_is_the_one_on_stderr() {
    // Its last line is `str(exc)`, as CPython prints it: OSError's errno form and a class's
    // own `__str__`, not the exception's args.
    for (source, last) in [
        (
            "raise FileNotFoundError(2, 'No such file', 'x.txt')",
            "FileNotFoundError: [Errno 2] No such file: 'x.txt'",
        ),
        (
            "class Oops(Exception):\n    def __str__(self):\n        return 'custom'\nraise Oops(1, 2)",
            "Oops: custom",
        ),
    ] {
        let outcome = run(source);
        let Verdict::Exception { traceback, .. } = &outcome.verdict else {
            panic!("{source}: {outcome:?}");
        };
        assert_eq!(
            traceback.trim_end().lines().last(),
            Some(last),
            "{traceback}"
        );
        let stderr = String::from_utf8_lossy(&outcome.stderr);
        assert_eq!(stderr.trim_end(), traceback.trim_end());
    }
}

#[test]
fn syntax_error_is_an_exception() {
    let outcome = run("def f(:\n");
    assert!(
        matches!(&outcome.verdict, Verdict::Exception { type_name, .. } if type_name == "SyntaxError"),
        "{outcome:?}"
    );
}

#[test]
fn wall_clock_backstop_interrupts() {
    let limits = Limits::default().with_timeout(Duration::from_millis(300));
    let outcome = run_with("while True:\n    pass\n", &limits);
    assert_eq!(outcome.verdict, Verdict::Timeout);
    assert!(outcome.wall < Duration::from_secs(5), "{:?}", outcome.wall);
}

#[test]
fn sandboxes_run_in_parallel_threads() {
    let source = "print(sum(i * i for i in range(20000)))";
    let expected = run(source);
    let outcomes: Vec<_> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..4).map(|_| scope.spawn(|| run(source))).collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for outcome in outcomes {
        assert_eq!(stdout(&outcome), stdout(&expected));
        assert_eq!(outcome.fuel, expected.fuel);
    }
}

#[test]
fn more_parallel_runs_than_instance_slots_wait_and_leave_nothing_behind() {
    // Each run checks for, then leaves behind, interpreter state and dirty memory; instance
    // slots are reused, so a leak would show in a later run. 8 threads share 2 slots.
    let sandbox = codefuel_runtime::Sandbox::with_config(&codefuel_runtime::SandboxConfig {
        max_concurrent_runs: 2,
        ..Default::default()
    })
    .unwrap();
    let run = || {
        let source = "import sys\nprint(hasattr(sys, 'leak'))\nsys.leak = [7] * 200000\n\
                      print(sum(i * i for i in range(200000)))";
        sandbox
            .run(codefuel_runtime::Program::new(source), &Limits::default())
            .unwrap()
    };
    let expected = run();
    assert_eq!(stdout(&expected), "False\n2666646666700000\n");
    let barrier = std::sync::Barrier::new(8);
    let outcomes: Vec<_> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..8)
            .map(|_| {
                scope.spawn(|| {
                    barrier.wait();
                    run()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    // Runs on a runner thread happen in place, with the same results.
    let in_place = std::thread::scope(|scope| {
        codefuel_runtime::spawn_runner(scope, || [run(), run()])
            .unwrap()
            .join()
            .unwrap()
    });
    for outcome in outcomes.iter().chain(&in_place) {
        assert_eq!(stdout(outcome), stdout(&expected));
        assert_eq!(outcome.fuel, expected.fuel);
    }
}
