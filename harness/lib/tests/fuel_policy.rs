//! evalplus's time limits as fuel limits (harness/lib/src/evalplus.rs, docs/evalplus-compat.md):
//! here, the budget of a sample's module-level code.

mod common;

use codefuel::evalplus::{FuelPolicy, Status};
use common::{base_reason, demo, evaluate_with, solution};

const G: u64 = 1_000_000_000;

#[test]
fn module_level_code_may_use_the_whole_split_budget() {
    // evalplus runs the sample's module-level code in the split's process, under the split's
    // `min(60 s, Σ limits) + 2 s`: a sample that runs its own checks at module level passes
    // if they end in time. Demo/0 has 3 base and 3 plus inputs with tiny ground truth, so
    // with 1 s ≙ 1 G each split's module-level code gets 3 G + 2 G = 5 G.
    let policy = FuelPolicy {
        min_fuel: G,
        gt_factor: 4.0,
    };
    let add = "def add(a, b):\n    return a + b\n";
    // About 4 G of module-level work (6.4 k fuel an iteration): over 3 G, under 5 G.
    let checks = format!("{add}t = 0\nfor i in range(640000):\n    t += add(i, 1) % 7\nprint(t)\n");
    let endless = format!("{add}while True:\n    pass\n");
    let rows = evaluate_with(
        demo(),
        vec![solution("Demo/0", &checks), solution("Demo/0", &endless)],
        true,
        policy,
    );
    let exec = rows[0]
        .base_exec_fuel
        .expect("--test-details reports module-level fuel");
    assert!(exec > 3 * G && exec < 5 * G, "the checks cost {exec}");
    assert_eq!(rows[0].base_status, Some(Status::Pass), "{:?}", rows[0]);
    assert_eq!(rows[0].plus_status, Some(Status::Pass));
    // Code that never ends is a timeout, after exactly the module-level budget.
    assert_eq!(rows[1].base_status, Some(Status::Timeout));
    assert_eq!(base_reason(&rows[1]), Some("timeout"));
    assert_eq!(rows[1].base_exec_fuel, Some(5 * G));
    assert_eq!(rows[1].plus_status, Some(Status::Timeout));
}
