//! The sanitizer against evalplus's own sanitizer tests: every case of evalplus's
//! `tests/test_treesitter_sanitizer.py` (copied into `data/`, each checked against evalplus
//! 0.3.1), through the library and through `codefuel::sanitize`'s public functions.

use codefuel::sanitize::{longest_valid_span, sanitize};
use serde::Deserialize;

#[derive(Deserialize)]
struct Cases {
    source: String,
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    name: String,
    function: String,
    text: String,
    entry_point: Option<String>,
    expected: String,
}

#[test]
fn evalplus_sanitizer_test_cases_give_evalplus_outputs() {
    let text = include_str!("data/evalplus_sanitizer_cases.json");
    let cases: Cases = serde_json::from_str(text).unwrap();
    assert!(cases.source.contains("test_treesitter_sanitizer.py"));
    assert_eq!(cases.cases.len(), 8, "every case of the file");
    for case in &cases.cases {
        let got = match case.function.as_str() {
            "code_extract" => longest_valid_span(&case.text),
            "sanitize" => sanitize(&case.text, case.entry_point.as_deref()),
            other => panic!("unknown function {other}"),
        };
        assert_eq!(got, case.expected, "{}", case.name);
    }
}
