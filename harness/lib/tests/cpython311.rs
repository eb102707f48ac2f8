//! evalplus runs CPython 3.11, the guest's RustPython follows 3.14: where model-written code
//! behaves differently, verdicts follow 3.11 (docs/fidelity.md, "Python 3.11 semantics").

mod common;

use codefuel::evalplus::Status;
use common::{base_reason, demo, evaluate, solution};

#[test]
fn a_signature_naming_an_unimported_type_fails_when_the_def_runs() {
    // CPython 3.11 evaluates `List[int]` as the `def` runs: NameError, the sample fails
    // (as in evalplus); 3.14's lazy annotations would let it pass.
    let body = "def unique_sorted(xs: List[int]) -> List[int]:\n    return sorted(set(xs))\n";
    let with_import = format!("from typing import List\n{body}");
    let rows = evaluate(
        demo(),
        vec![solution("Demo/3", body), solution("Demo/3", &with_import)],
        false,
    );
    assert_eq!(rows[0].base_status, Some(Status::Fail));
    assert_eq!(base_reason(&rows[0]), Some("exception:NameError"));
    assert_eq!(rows[1].base_status, Some(Status::Pass), "{:?}", rows[1]);
    assert_eq!(rows[1].plus_status, Some(Status::Pass));
}

#[test]
fn a_missing_module_is_named_in_the_reason() {
    let rows = evaluate(
        demo(),
        vec![
            solution(
                "Demo/0",
                "import numpy as np\ndef add(a, b):\n    return int(np.add(a, b))\n",
            ),
            solution(
                "Demo/0",
                "def add(a, b):\n    import scipy.special\n    return a + b\n",
            ),
        ],
        false,
    );
    assert_eq!(rows[0].base_status, Some(Status::Fail));
    assert_eq!(base_reason(&rows[0]), Some("missing_module:numpy"));
    assert_eq!(base_reason(&rows[1]), Some("missing_module:scipy"));
}
