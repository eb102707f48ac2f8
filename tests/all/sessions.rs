//! Sessions: one instance, many host calls, fuel set and measured by the host; and what a
//! program can no longer reach (the old record, deadline and table functions).

use codefuel::value::build::{int, seq};
use codefuel_runtime::{Limits, Verdict, on_runner};

use codefuel_tests::{guest, run, sandbox, stdout};

/// A load request for a trusted session running `code` (a function `f`).
fn load(code: &str) -> Vec<u8> {
    let header = serde_json::json!({"mode": "trusted", "code": code, "entry_point": "f"});
    [b"L".as_slice(), header.to_string().as_bytes()].concat()
}

/// A call request with `args` (an encoded list of ints).
fn call(args: &[i64]) -> Vec<u8> {
    let mut request = vec![b'C'];
    request.extend_from_slice(&u32::MAX.to_le_bytes());
    request.push(b'V');
    let items: Vec<Vec<u8>> = args.iter().map(|&a| int(a)).collect();
    request.extend_from_slice(&seq(b'l', &items));
    request
}

/// The encoded value of an `R` response with one blob.
fn returned(response: &[u8]) -> Vec<u8> {
    assert_eq!(response[0], b'R', "{}", String::from_utf8_lossy(response));
    let len = u32::from_le_bytes(response[1..5].try_into().unwrap()) as usize;
    assert_eq!(response.len(), 5 + len);
    response[5..].to_vec()
}

#[test]
fn a_session_keeps_state_and_the_host_measures_every_call() {
    on_runner(|| {
        let lease = sandbox().lease();
        let mut session = lease.session(&Limits::default()).unwrap();
        let code = "calls = []\ndef f(n):\n    calls.append(n)\n    return sum(i * i for i in range(n)) + len(calls)\n";
        assert_eq!(session.call(&load(code), 10_000_000_000).result.unwrap(), b"O");
        let small = session.call(&call(&[10]), 10_000_000_000);
        let big = session.call(&call(&[20_000]), 10_000_000_000);
        // State persists between calls (len(calls) is 1, then 2).
        assert_eq!(returned(&small.result.unwrap()), [b"V".as_slice(), &int(286)].concat());
        let expected = (0..20_000i64).map(|i| i * i).sum::<i64>() + 2;
        assert_eq!(returned(&big.result.unwrap()), [b"V".as_slice(), &int(expected)].concat());
        assert!(big.fuel > 100 * small.fuel, "{} vs {}", big.fuel, small.fuel);
        // Over its budget, a call ends with the budget as its fuel, and the session ends.
        let over = session.call(&call(&[10_000_000]), 50_000_000);
        assert_eq!(over.result, Err(Verdict::FuelExhausted));
        assert_eq!(over.fuel, 50_000_000);
        assert!(!session.is_alive());
        assert!(matches!(session.call(&call(&[1]), 1 << 30).result, Err(Verdict::Crash { .. })));
    })
    .unwrap();
}

#[test]
fn calls_are_deterministic_across_sessions() {
    on_runner(|| {
        let lease = sandbox().lease();
        let answers: Vec<(Vec<u8>, u64)> = (0..2)
            .map(|_| {
                let mut session = lease.session(&Limits::default()).unwrap();
                session.call(
                    &load("def f(n):\n    return [str(i) for i in range(n)]\n"),
                    1 << 34,
                );
                let answer = session.call(&call(&[500]), 1 << 34);
                (answer.result.unwrap(), answer.fuel)
            })
            .collect();
        assert_eq!(answers[0], answers[1]);
    })
    .unwrap();
}

#[test]
fn a_lease_holds_two_sessions_and_needs_a_runner_thread() {
    on_runner(|| {
        let lease = sandbox().lease();
        let a = lease.session(&Limits::default()).unwrap();
        let b = lease.session(&Limits::default()).unwrap();
        assert!(
            lease.session(&Limits::default()).is_err(),
            "a third session"
        );
        drop(a);
        assert!(
            lease.session(&Limits::default()).is_ok(),
            "a slot was freed"
        );
        drop(b);
    })
    .unwrap();
    // Off a runner thread the native stack is too shallow for the guest: refused, not run.
    let lease = sandbox().lease();
    let error = lease.session(&Limits::default()).err().unwrap();
    assert!(error.to_string().contains("spawn_runner"), "{error}");
}

#[test]
fn a_response_over_its_cap_is_a_crash_not_a_host_allocation() {
    on_runner(|| {
        let lease = sandbox().lease();
        let limits = Limits {
            response_bytes: 1000,
            ..Limits::default()
        };
        let mut session = lease.session(&limits).unwrap();
        session.call(&load("def f(n):\n    return 'x' * n\n"), 1 << 34);
        assert!(session.call(&call(&[100]), 1 << 34).result.is_ok());
        let over = session.call(&call(&[100_000]), 1 << 34);
        let Err(Verdict::Crash { message }) = over.result else {
            panic!("{over:?}");
        };
        assert!(message.contains("cap"), "{message}");
    })
    .unwrap();
}

#[test]
fn garbage_requests_get_an_error_answer() {
    on_runner(|| {
        let lease = sandbox().lease();
        let mut session = lease.session(&Limits::default()).unwrap();
        for request in [
            &b""[..],
            b"Z",
            b"C",
            b"C\xff\xff\xff\xffVQ",
            b"L{not json",
            b"J\x05",
        ] {
            let answer = session.call(request, 1 << 32);
            let response = answer.result.unwrap();
            assert_eq!(
                response[0],
                b'E',
                "{request:?}: {}",
                String::from_utf8_lossy(&response)
            );
        }
        assert!(session.is_alive());
    })
    .unwrap();
}

#[test]
fn programs_reach_no_record_deadline_table_or_driver() {
    let outcome = run("import _codefuel\n\
         print(sorted(n for n in dir(_codefuel) if not n.startswith('__')))\n\
         try:\n\
         \x20   import codefuel_driver\n\
         except ImportError as e:\n\
         \x20   print(type(e).__name__)\n");
    let functions = match guest() {
        codefuel_runtime::GuestKind::RustPython => "['fuel', 'sleep', 'sum']",
        codefuel_runtime::GuestKind::CPython => "['fuel', 'sleep']",
    };
    assert_eq!(
        stdout(&outcome),
        format!("{functions}\nModuleNotFoundError\n"),
        "{outcome:?}"
    );
}
