//! evalplus 0.3.1 behaviour codefuel reproduces although it is a bug, so verdicts match
//! (docs/evalplus-compat.md). Needs ../shared/datasets beside the repository.

mod common;

use codefuel::evalplus::Status;
use common::{completion, evaluate, humaneval};

/// HumanEval/32's canonical solution (Newton's method).
const NEWTON: &str = "    dxs = [xs[i] * i for i in range(1, len(xs))]
    def func(x):
        return poly(xs, x)
    def derivative(x):
        return poly(dxs, x)
    x, tol = 0, 1e-5
    for _ in range(1000):
        fx = func(x)
        dfx = derivative(x)
        if abs(fx) < tol: break
        x = x - fx / dfx
    return x
";

#[test]
fn find_zero_never_passes_as_in_evalplus_0_3_1() {
    // evalplus's oracle `continue`s past the lines that record a passing input, so every
    // HumanEval/32 split fails, the canonical solution's included, with no failing input
    // listed; a sample that fails an input lists the first input (evalplus's
    // `details[:progress]`, whose progress only failures advance).
    let rows = evaluate(
        humaneval(),
        vec![
            completion("HumanEval/32", NEWTON),
            completion("HumanEval/32", "    return 0.123\n"),
        ],
        false,
    );
    let canonical = &rows[0];
    assert_eq!(canonical.base_status, Some(Status::Fail));
    assert_eq!(canonical.plus_status, Some(Status::Fail));
    assert_eq!(
        canonical.base_fail_reason,
        Some(Some("oracle_never_passes".into()))
    );
    assert!(canonical.base_fail_tests.is_empty() && canonical.plus_fail_tests.is_empty());
    let wrong = &rows[1];
    assert_eq!(wrong.base_status, Some(Status::Fail));
    assert_eq!(wrong.base_fail_reason, Some(Some("wrong_answer".into())));
    assert_eq!(
        wrong.base_fail_tests,
        [serde_json::json!([[-10, -2]])],
        "the first base input, whichever input failed"
    );
}

#[test]
fn with_test_details_find_zero_lists_as_many_inputs_as_failed() {
    // A few Newton steps from 0: right on some inputs, not on others.
    let few_steps = NEWTON.replace("range(1000)", "range(3)");
    let rows = evaluate(
        humaneval(),
        vec![completion("HumanEval/32", &few_steps)],
        true,
    );
    let details = rows[0].base_details.as_ref().unwrap();
    let failed = details.iter().filter(|d| !d.passed).count();
    assert!(
        failed > 0 && failed < details.len(),
        "{failed} of {}",
        details.len()
    );
    assert_eq!(rows[0].base_fail_tests.len(), failed);
}
