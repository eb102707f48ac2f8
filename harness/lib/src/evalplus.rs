//! evalplus 0.3.1 rules that live on the host: time limits as fuel, and verdict names.
//!
//! The rules that live in the guest (input deserialization, output comparison, special
//! oracles, the reliability guard) are in `guests/python/driver/codefuel_driver.py`, section
//! "evalplus 0.3.1 quirks". docs/evalplus-compat.md lists both halves.
//!
//! | evalplus 0.3.1 (wall clock)                         | codefuel (fuel)                         |
//! |-----------------------------------------------------|-----------------------------------------|
//! | per-input limit `max(1.0 s, 4 × gt_time)`           | `max(min_fuel, 4 × gt_fuel)`, min 40 G  |
//! | split budget `min(60 s, Σ limits) + 1 s` (+1 s join) | `6 T + 40 G` + the module-level budget  |
//! | module-level code: the split budget, before any input | `min(Σ limits + 2 × min_fuel, 100 G)` |
//! | input over its limit → `fail`                       | input's fuel deadline hit → `fail`      |
//! | process never reports (module-level loop, `os._exit`) → `timeout` | split or module budget, wall backstop, no "done" → `timeout` |
//!
//! The constants were calibrated on the samples evalplus passed (`scripts/calibrate.py`), in
//! ../shared/reference and in 11,608 HumanEval+ samples from other sources: the most any
//! passing input needs above 4 × ground truth is 37.1 G fuel (HumanEval/96, a naive prime
//! loop), the largest passing split totals 2.7 T (Mbpp/599, a sample about 4× slower than the
//! canonical solution on every input) and the costliest module-level code 43.7 G
//! (HumanEval/147). The defaults keep a margin over each while an endless loop costs a
//! bounded amount of fuel.

use serde::Serialize;

use crate::dataset::DatasetKind;

/// Smallest per-input fuel limit (evalplus's 1 s `DEFAULT_MIN_TIME_LIMIT`). One CPython
/// second is about 20 G fuel on typical code but up to ~50 G on tight integer loops: correct
/// naive prime loops of HumanEval/96 run 0.6-0.7 s in CPython (evalplus passes them) and cost
/// 28-37 G here (`scripts/calibrate.py`, docs/fidelity.md "Code never seen").
pub const DEFAULT_MIN_FUEL: u64 = 40_000_000_000;
/// evalplus `DEFAULT_GT_TIME_LIMIT_FACTOR`.
pub const DEFAULT_GT_FUEL_FACTOR: f64 = 4.0;
/// Cap of a split's input budget (evalplus's 60 s `EVALPLUS_TIMEOUT_PER_TASK`).
pub const SPLIT_BUDGET_CAP: u64 = 6_000_000_000_000;
/// Fuel added to a split's budget (evalplus's extra second, plus its `join` grace).
pub const SPLIT_BUDGET_SLACK: u64 = 40_000_000_000;
/// Cap of the module-level code's budget (the sample's `exec`). evalplus lets module-level
/// code use the whole split budget, up to 62 s; the guest takes about 5 × CPython's time, so a
/// module-level loop that never ends would cost minutes per split. The cap covers the costliest
/// module-level code of any sample evalplus passed with a 2× margin: 43.7 G, a HumanEval/147
/// sample printing its own O(n³) checks up to n = 150 (docs/fidelity.md "Code never seen").
pub const EXEC_BUDGET_CAP: u64 = 100_000_000_000;

/// How per-input fuel limits are set from ground-truth fuel.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, serde::Deserialize)]
pub struct FuelPolicy {
    /// No input's limit is below this.
    pub min_fuel: u64,
    /// An input's limit is at least this many times its ground-truth fuel.
    pub gt_factor: f64,
}

impl Default for FuelPolicy {
    fn default() -> Self {
        FuelPolicy {
            min_fuel: DEFAULT_MIN_FUEL,
            gt_factor: DEFAULT_GT_FUEL_FACTOR,
        }
    }
}

impl FuelPolicy {
    /// The fuel limit of one input whose canonical solution used `gt_fuel`.
    pub fn input_limit(&self, gt_fuel: u64) -> u64 {
        self.min_fuel
            .max((gt_fuel as f64 * self.gt_factor).ceil() as u64)
    }

    /// The fuel budget of the module-level code of a split whose inputs have `limits`.
    ///
    /// evalplus runs the sample's `exec` in the split's process, before any input, so it may
    /// use the split's whole `min(60 s, Σ limits) + 2 s` (a sample running its own checks at
    /// module level passes if they end in time). With 1 s ≙ `min_fuel`, that is
    /// `Σ limits + 2 × min_fuel`, capped at [`EXEC_BUDGET_CAP`]. Over it, the split is a timeout.
    pub fn exec_budget(&self, limits: &[u64]) -> u64 {
        let sum = limits.iter().fold(0u64, |a, &l| a.saturating_add(l));
        sum.saturating_add(self.min_fuel.saturating_mul(2))
            .min(EXEC_BUDGET_CAP)
    }

    /// The fuel budget of a whole split run, module-level code included.
    ///
    /// evalplus's `min(60 s, Σ limits)`: every input is bounded by its own limit, so `Σ limits`
    /// could only bind through module-level code (which has [`Self::exec_budget`]) and the
    /// driver's own work; tying the budget to it timed out correct samples running close to
    /// 4 × ground truth on every input (Mbpp/599). The inputs' share is therefore the cap.
    pub fn split_budget(&self, limits: &[u64]) -> u64 {
        SPLIT_BUDGET_CAP + SPLIT_BUDGET_SLACK + self.exec_budget(limits)
    }
}

/// Whether evalplus's special oracle for this task reads the input after the call
/// (`eval/__init__.py`: HumanEval/32 `find_zero` evaluates the polynomial at the output;
/// Mbpp/581 `surface_Area` recomputes the answer). The input the function may have mutated
/// then travels back with the output.
pub fn oracle_reads_input(dataset: DatasetKind, entry_point: &str) -> bool {
    matches!(
        (dataset, entry_point),
        (DatasetKind::Humaneval, "find_zero") | (DatasetKind::Mbpp, "surface_Area")
    )
}

/// Whether evalplus 0.3.1 can never pass this task: HumanEval/32 (`find_zero`). Its special
/// oracle (`eval/__init__.py` unsafe_execute) checks the polynomial and then `continue`s past
/// `details[i] = True; progress.value += 1`, so `untrusted_check` sees fewer details than
/// inputs and turns every split that passed into `fail` (canonical solution included); a
/// failing input still counts. codefuel gives the same verdicts (reason `oracle_never_passes`)
/// and the same `fail_tests` ([`never_passing_fail_tests`]); per-input details stay honest.
pub fn oracle_never_passes(dataset: DatasetKind, entry_point: &str) -> bool {
    dataset == DatasetKind::Humaneval && entry_point == "find_zero"
}

/// The inputs evalplus lists as failed for a task of [`oracle_never_passes`]: only failing
/// inputs advance its progress counter, so `details[:progress]` covers the first `failing`
/// inputs (dataset order), none of them marked passed; all of those are listed with
/// `--test-details`, the last of them without (`get_failed_tests`), and none when no input
/// failed.
pub fn never_passing_fail_tests(failing: usize, test_details: bool) -> std::ops::Range<usize> {
    match (failing, test_details) {
        (0, _) => 0..0,
        (n, true) => 0..n,
        (n, false) => n - 1..n,
    }
}

/// Entry points with a special oracle in evalplus 0.3.1 (`eval/_special_oracle.py` and
/// `unsafe_execute`), mirrored from `special_oracle` in `codefuel_driver.py`, which applies
/// them (a test keeps the two lists in step). For other tasks an output is right exactly when
/// it is `==` the expected one (or close, with a non-zero atol), so the host may decide plain
/// values itself.
pub const SPECIAL_ORACLES: &[(DatasetKind, &str)] = &[
    (DatasetKind::Humaneval, "find_zero"),
    (DatasetKind::Mbpp, "are_equivalent"),
    (DatasetKind::Mbpp, "sum_div"),
    (DatasetKind::Mbpp, "surface_Area"),
    (DatasetKind::Mbpp, "digit_distance_nums"),
    (DatasetKind::Mbpp, "similar_elements"),
    (DatasetKind::Mbpp, "find_char_long"),
    (DatasetKind::Mbpp, "common_in_nested_lists"),
    (DatasetKind::Mbpp, "extract_singly"),
    (DatasetKind::Mbpp, "larg_nnum"),
    (DatasetKind::Mbpp, "intersection_array"),
    (DatasetKind::Mbpp, "find_dissimilar"),
    (DatasetKind::Mbpp, "Diff"),
    (DatasetKind::Mbpp, "check_str"),
    (DatasetKind::Mbpp, "text_match_three"),
    (DatasetKind::Mbpp, "text_starta_endb"),
];

/// Whether the task's outputs are judged by a special oracle rather than `==` alone.
pub fn has_special_oracle(dataset: DatasetKind, entry_point: &str) -> bool {
    SPECIAL_ORACLES.contains(&(dataset, entry_point))
}

/// evalplus's atol after an input whose output equals the expected one exactly
/// (`eval/__init__.py` unsafe_execute: `if atol == 0 and is_floats(exp): atol = 1e-6`, which
/// sticks for later inputs; HumanEval/32 skips it, its oracle decides first). The trusted
/// judge applies the same rule to the inputs it judges (`codefuel_driver.py`, `judge`).
pub fn atol_after_exact_match(
    dataset: DatasetKind,
    entry_point: &str,
    atol: f64,
    expected_is_floats: bool,
) -> f64 {
    let decided_by_oracle = dataset == DatasetKind::Humaneval && entry_point == "find_zero";
    if !decided_by_oracle && atol == 0.0 && expected_is_floats {
        1e-6
    } else {
        atol
    }
}

/// A split's status, with evalplus's names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Every input's output matched.
    Pass,
    /// The code did not load, an output was wrong, an input raised or went over its limit.
    Fail,
    /// The run never reported: budget exhausted outside any input, or the process died.
    Timeout,
}

impl Status {
    /// `pass` / `fail` / `timeout`.
    pub fn name(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::Timeout => "timeout",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_special_oracle_list_matches_the_drivers() {
        let driver = include_str!("../../../guests/python/driver/codefuel_driver.py");
        let start = driver.find("def special_oracle").unwrap();
        let oracle = &driver[start..start + driver[start..].find("\ndef ").unwrap()];
        let lists = &driver[driver.find("MBPP_OUTPUT_NOT_NONE_TASKS = ").unwrap()..start];
        let mut named: Vec<&str> = Vec::new();
        for text in [oracle, lists] {
            for part in text.split('"').skip(1).step_by(2) {
                if !part.is_empty()
                    && part.chars().all(|c| c.is_alphanumeric() || c == '_')
                    && !["mbpp", "humaneval"].contains(&part)
                {
                    named.push(part);
                }
            }
        }
        named.sort();
        named.dedup();
        let mut ours: Vec<&str> = SPECIAL_ORACLES.iter().map(|(_, e)| *e).collect();
        ours.sort();
        assert_eq!(ours, named);
    }

    #[test]
    fn limits_follow_evalplus_shape() {
        let policy = FuelPolicy {
            min_fuel: 1000,
            gt_factor: 4.0,
        };
        assert_eq!(policy.input_limit(10), 1000);
        assert_eq!(policy.input_limit(1000), 4000);
        // Module-level code: Σ limits + 2 s, capped.
        assert_eq!(policy.exec_budget(&[1000, 4000]), 7000);
        assert_eq!(policy.exec_budget(&[]), 2000);
        assert_eq!(policy.exec_budget(&[u64::MAX, 1]), EXEC_BUDGET_CAP);
        assert_eq!(
            policy.split_budget(&[1000, 4000]),
            SPLIT_BUDGET_CAP + SPLIT_BUDGET_SLACK + 7000
        );
    }
}
