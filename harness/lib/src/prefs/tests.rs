//! Hand-worked examples of every strategy; the arithmetic is in the comments.

use super::*;
use crate::matrix::{Cell, CodeRow, Judged, MatrixProblem};

const EPS: f64 = 1e-12;

fn status(ch: char) -> CellStatus {
    match ch {
        'P' => CellStatus::Pass,
        'F' => CellStatus::Fail,
        'E' => CellStatus::Error,
        'T' => CellStatus::FuelLimit,
        'M' => CellStatus::Memory,
        'S' => CellStatus::SyntaxError,
        'C' => CellStatus::Crash,
        '.' => CellStatus::Skipped,
        _ => panic!("unknown cell {ch:?}"),
    }
}

fn cell(status: CellStatus, fuel: u64) -> Cell {
    Cell {
        status,
        fuel,
        error: None,
        judged: Judged::Outside,
    }
}

/// A code that loaded; one character per test (`P F E T M S C .`), `fuel[t]` per cell (1 each
/// when `fuel` is empty).
fn ok(cells: &str, fuel: &[u64]) -> CodeRow {
    CodeRow {
        load: cell(CellStatus::Pass, 100),
        cells: cells
            .chars()
            .enumerate()
            .map(|(t, ch)| cell(status(ch), fuel.get(t).copied().unwrap_or(1)))
            .collect(),
    }
}

/// A code whose load failed with `ch`: every cell has that status, with no fuel.
fn broken(ch: char, n_tests: usize) -> CodeRow {
    CodeRow {
        load: cell(status(ch), 100),
        cells: (0..n_tests).map(|_| cell(status(ch), 0)).collect(),
    }
}

/// A problem "p" with codes `code0..` and tests `test0..`.
fn mk(n_tests: usize, rows: Vec<CodeRow>) -> ProblemMatrix {
    ProblemMatrix {
        problem: MatrixProblem {
            id: "p".into(),
            prompt: "prompt".into(),
            codes: (0..rows.len()).map(|c| format!("code{c}")).collect(),
            tests: (0..n_tests).map(|t| format!("test{t}")).collect(),
            entry_point: None,
            reference: None,
        },
        rows,
        reference_passes: None,
    }
}

fn pair_ids(p: &ProblemPairs) -> Vec<(PairKind, usize, usize)> {
    p.pairs
        .iter()
        .map(|p| (p.kind, p.chosen, p.rejected))
        .collect()
}

fn assert_close(got: &[f64], want: &[f64]) {
    assert_eq!(got.len(), want.len(), "{got:?} vs {want:?}");
    for (g, w) in got.iter().zip(want) {
        assert!((g - w).abs() < EPS, "{got:?} vs {want:?}");
    }
}

use PairKind::{Correctness, Efficiency};

#[test]
fn codedpo_scores_by_hand() {
    // c0 PPP, c1 PPF, c2 FFF; d = 0.5, all scores start at 1.
    let passes = vec![
        vec![true, true, true],
        vec![true, true, false],
        vec![false, false, false],
    ];
    // Round 1: codes 0.5+0.5·3 = 2, 0.5+0.5·2 = 1.5, 0.5 → /2 → 1, 0.75, 0.25.
    //          tests 0.5+0.5·2 = 1.5, 1.5, 0.5+0.5·1 = 1 → /1.5 → 1, 1, 2/3.
    let (codes, tests) = codedpo_scores(&passes, 0.5, 1);
    assert_close(&codes, &[1.0, 0.75, 0.25]);
    assert_close(&tests, &[1.0, 1.0, 2.0 / 3.0]);
    // Round 2: codes 0.5+0.5·(8/3) = 11/6, 0.375+0.5·2 = 11/8, 0.125 = 1/8
    //          → /(11/6) → 1, 3/4, 3/44.
    //          tests 0.5+0.5·1.75 = 11/8, 11/8, 1/3+1/2 = 5/6 → /(11/8) → 1, 1, 20/33.
    let (codes, tests) = codedpo_scores(&passes, 0.5, 2);
    assert_close(&codes, &[1.0, 0.75, 3.0 / 44.0]);
    assert_close(&tests, &[1.0, 1.0, 20.0 / 33.0]);
    // Zero rounds: the initial scores.
    assert_eq!(
        codedpo_scores(&passes, 0.5, 0),
        (vec![1.0; 3], vec![1.0; 3])
    );
    // Nothing passes: everything decays equally and is rescaled back to 1.
    let none = vec![vec![false; 2]; 2];
    assert_eq!(codedpo_scores(&none, 0.5, 3), (vec![1.0; 2], vec![1.0; 2]));
}

/// c0 PPF, c1 PPF, c2 FFP, c3 FFF; `c0_fuel` is c0's fuel on t1 (every other cell: 10 on
/// t0/t1 and 5 on t2).
fn trusted_example(c0_fuel: u64) -> ProblemMatrix {
    mk(
        3,
        vec![
            ok("PPF", &[10, c0_fuel, 5]),
            ok("PPF", &[10, 10, 5]),
            ok("FFP", &[10, 10, 5]),
            ok("FFF", &[10, 10, 5]),
        ],
    )
}

#[test]
fn codedpo_trusted_tests_and_pairs() {
    let opts = PairOptions {
        rounds: 1,
        ..PairOptions::default()
    };
    // Round 1: codes 1.5, 1.5, 1, 0.5 → 1, 1, 2/3, 1/3; tests 1.5, 1.5, 1 → 1, 1, 2/3.
    // Top code: c0 (tied with c1, lower index); trusted = what c0 passes = t0, t1.
    let p = pairs(&trusted_example(12), Strategy::Codedpo, &opts);
    let scores: Vec<f64> = p.codes.iter().map(|c| c.score).collect();
    assert_close(&scores, &[1.0, 1.0, 2.0 / 3.0, 1.0 / 3.0]);
    let tests = p.tests.as_ref().unwrap();
    assert_eq!(
        tests.iter().map(|t| t.trusted).collect::<Vec<_>>(),
        [true, true, false]
    );
    assert_close(
        &tests.iter().map(|t| t.score).collect::<Vec<_>>(),
        &[1.0, 1.0, 2.0 / 3.0],
    );
    // Trusted fuel: c0 10+12 = 22, c1 10+10 = 20; c2 and c3 fail the trusted tests.
    assert_eq!(p.codes[0].fuel, Some(22));
    assert_eq!(p.codes[1].fuel, Some(20));
    assert_eq!(p.codes[2].fuel, None);
    assert_eq!(p.codes[2].pass_rate, 0.0);
    // Correctness: c0 and c1 tie at 1, c1 has less trusted fuel → chosen c1; rejected c3
    // (1/3), gap 2/3 ≥ 0.1. Efficiency: 22 / 20 = 1.1 ≥ 1.1 (exactly at the threshold).
    assert_eq!(
        pair_ids(&p),
        [(Correctness, 1, 3), (Efficiency, 1, 0)],
        "{p:?}"
    );
    assert_eq!(p.pairs[1].chosen_fuel, Some(20));
    assert_eq!(p.pairs[1].rejected_fuel, Some(22));
    // 21 / 20 = 1.05 < 1.1: no efficiency pair.
    let p = pairs(&trusted_example(11), Strategy::Codedpo, &opts);
    assert_eq!(pair_ids(&p), [(Correctness, 1, 3)]);
    // A ratio of 1 would take it.
    let loose = PairOptions {
        efficiency_ratio: 1.0,
        ..opts.clone()
    };
    let p = pairs(&trusted_example(11), Strategy::Codedpo, &loose);
    assert_eq!(pair_ids(&p), [(Correctness, 1, 3), (Efficiency, 1, 0)]);
}

#[test]
fn codedpo_min_score_gap() {
    // c0 PP, c1 PF, one round: codes 0.5+0.5·2 = 1.5, 0.5+0.5·1 = 1 → 1, 2/3; gap 1/3.
    let m = mk(2, vec![ok("PP", &[]), ok("PF", &[])]);
    let with_gap = |min_score_gap| PairOptions {
        rounds: 1,
        min_score_gap,
        ..PairOptions::default()
    };
    let p = pairs(&m, Strategy::Codedpo, &with_gap(0.3));
    assert_eq!(pair_ids(&p), [(Correctness, 0, 1)]);
    assert!((p.pairs[0].rejected_score - 2.0 / 3.0).abs() < EPS);
    assert!(
        pairs(&m, Strategy::Codedpo, &with_gap(0.4))
            .pairs
            .is_empty()
    );
    // Equal scores never pair, even with a zero minimum gap.
    let same = mk(2, vec![ok("PF", &[]), ok("PF", &[])]);
    assert!(
        pairs(&same, Strategy::Codedpo, &with_gap(0.0))
            .pairs
            .is_empty()
    );
}

/// Pass counts 5, 4, 3, 2, 0 of 5 tests: rates 1, 0.8, 0.6, 0.4, 0.
fn acecoder_ladder() -> ProblemMatrix {
    mk(
        5,
        vec![
            ok("PPPPP", &[]),
            ok("PPPPF", &[]),
            ok("PPPFF", &[]),
            ok("PPFFF", &[]),
            ok("FFFFF", &[]),
        ],
    )
}

#[test]
fn acecoder_thresholds_at_the_boundary() {
    let m = acecoder_ladder();
    let p = pairs(&m, Strategy::Acecoder, &PairOptions::default());
    // Chosen from the best, rejected from the worst up:
    // c0 (1.0): c4 rate 0 ✗; c3 gap 0.6 ✓; c2 gap 0.4 ✓ (boundary); c1 gap 0.2 ✗.
    // c1 (0.8 ≥ 0.8, boundary): c4 ✗; c3 gap 0.4 ✓; c2 gap 0.2 ✗. c2 (0.6 < 0.8): none.
    assert_eq!(
        pair_ids(&p),
        [
            (Correctness, 0, 3),
            (Correctness, 0, 2),
            (Correctness, 1, 3)
        ]
    );
    assert_eq!(p.pairs[2].chosen_pass_rate, 0.8);
    assert_eq!(p.pairs[2].rejected_pass_rate, 0.4);
    // Rewards: pass rate and all-pass.
    let rates: Vec<f64> = p.codes.iter().map(|c| c.pass_rate).collect();
    assert_eq!(rates, [1.0, 0.8, 0.6, 0.4, 0.0]);
    let all: Vec<bool> = p.codes.iter().map(|c| c.all_pass).collect();
    assert_eq!(all, [true, false, false, false, false]);
    // Test scores: the fraction of codes passing; t0 by c0..c3 (4/5), t4 by c0 (1/5).
    let tests = p.tests.unwrap();
    assert_eq!(tests[0].score, 0.8);
    assert_eq!(tests[4].score, 0.2);
    assert!(tests.iter().all(|t| t.trusted));
    // The cap keeps the first pairs in that order.
    let capped = PairOptions {
        max_pairs: Some(2),
        ..PairOptions::default()
    };
    let p = pairs(&m, Strategy::Acecoder, &capped);
    assert_eq!(pair_ids(&p), [(Correctness, 0, 3), (Correctness, 0, 2)]);
    // Raising the thresholds just past the boundary drops the boundary pairs.
    let strict = PairOptions {
        acecoder_min_high: 0.81,
        acecoder_min_diff: 0.41,
        ..PairOptions::default()
    };
    let p = pairs(&m, Strategy::Acecoder, &strict);
    assert_eq!(pair_ids(&p), [(Correctness, 0, 3)]);
}

#[test]
fn acecoder_keeps_the_tests_the_reference_passes() {
    // c0 PPF, c1 PFP. All tests: both 2/3, no pair.
    let mut m = mk(3, vec![ok("PPF", &[]), ok("PFP", &[])]);
    assert!(
        pairs(&m, Strategy::Acecoder, &PairOptions::default())
            .pairs
            .is_empty()
    );
    // The reference passes t0, t1: c0 2/2 = 1, c1 1/2 = 0.5; gap 0.5, low > 0.
    m.reference_passes = Some(vec![true, true, false]);
    let p = pairs(&m, Strategy::Acecoder, &PairOptions::default());
    assert_eq!(pair_ids(&p), [(Correctness, 0, 1)]);
    assert_eq!((p.codes[0].pass_rate, p.codes[1].pass_rate), (1.0, 0.5));
    let kept: Vec<bool> = p.tests.unwrap().iter().map(|t| t.trusted).collect();
    assert_eq!(kept, [true, true, false]);
    // The reference passes t0 only: c0 1, c1 1: no pair. Passes nothing: no pair.
    m.reference_passes = Some(vec![true, false, false]);
    assert!(
        pairs(&m, Strategy::Acecoder, &PairOptions::default())
            .pairs
            .is_empty()
    );
    m.reference_passes = Some(vec![false; 3]);
    assert!(
        pairs(&m, Strategy::Acecoder, &PairOptions::default())
            .pairs
            .is_empty()
    );
}

#[test]
fn acecoder_drops_pairs_of_identical_texts() {
    // c0 PP "a"; c1, c2 PF, both "b": (c0, c2) is found first, (c0, c1) repeats its texts.
    let mut m = mk(2, vec![ok("PP", &[]), ok("PF", &[]), ok("PF", &[])]);
    m.problem.codes = vec!["a".into(), "b".into(), "b".into()];
    let p = pairs(&m, Strategy::Acecoder, &PairOptions::default());
    assert_eq!(pair_ids(&p), [(Correctness, 0, 2)]);
}

/// One code of every RRTF class, with fuel ties to break.
fn rrtf_example() -> ProblemMatrix {
    mk(
        3,
        vec![
            broken('S', 3),           // c0 syntax error: 0
            broken('E', 3),           // c1 runtime error at load: 1, total fuel 0
            ok("ETC", &[5, 5, 5]),    // c2 every test errored: 1, total fuel 15
            ok("PFF", &[]),           // c3 partial: 2 + 1/3
            ok("FFF", &[]),           // c4 partial, nothing passed: 2
            ok("PPP", &[10, 10, 10]), // c5 all pass: 3, fuel 30
            ok("PPP", &[5, 5, 10]),   // c6 all pass: 3, fuel 20
        ],
    )
}

#[test]
fn rrtf_ranks_by_class_then_fraction_then_fuel() {
    let p = pairs(&rrtf_example(), Strategy::Rrtf, &PairOptions::default());
    let ranks: Vec<usize> = p.codes.iter().map(|c| c.rank.unwrap()).collect();
    // c6 (3, 20 fuel), c5 (3, 30), c3 (2.33), c4 (2), c1 (1, fuel 0), c2 (1, fuel 15), c0.
    assert_eq!(ranks, [7, 5, 6, 3, 4, 2, 1]);
    let scores: Vec<f64> = p.codes.iter().map(|c| c.score).collect();
    assert_close(&scores, &[0.0, 1.0, 1.0, 2.0 + 1.0 / 3.0, 2.0, 3.0, 3.0]);
    use RrtfClass::*;
    let classes: Vec<RrtfClass> = p.codes.iter().map(|c| c.class.unwrap()).collect();
    assert_eq!(
        classes,
        [
            SyntaxError,
            RuntimeError,
            RuntimeError,
            Partial,
            Partial,
            AllPass,
            AllPass
        ]
    );
    // Best (c6) against every strictly lower score, worst first; c5 ties c6's score.
    assert_eq!(
        pair_ids(&p),
        [
            (Correctness, 6, 0),
            (Correctness, 6, 2),
            (Correctness, 6, 1),
            (Correctness, 6, 4),
            (Correctness, 6, 3)
        ]
    );
    assert_eq!(p.pairs[0].chosen_fuel, Some(20));
    let capped = PairOptions {
        max_pairs: Some(2),
        ..PairOptions::default()
    };
    let p = pairs(&rrtf_example(), Strategy::Rrtf, &capped);
    assert_eq!(pair_ids(&p), [(Correctness, 6, 0), (Correctness, 6, 2)]);
    // All codes in one class with equal scores: no pair.
    let flat = mk(2, vec![broken('S', 2), broken('S', 2)]);
    assert!(
        pairs(&flat, Strategy::Rrtf, &PairOptions::default())
            .pairs
            .is_empty()
    );
}

#[test]
fn all_tests_and_pass_count() {
    // c0 PPP 30 fuel, c1 PPP 20 fuel, c2 PFF.
    let m = mk(
        3,
        vec![
            ok("PPP", &[10, 10, 10]),
            ok("PPP", &[5, 5, 10]),
            ok("PFF", &[]),
        ],
    );
    let opts = PairOptions::default();
    // Scores 3, 3, 1; the tie at 3 goes to less fuel (c1). Efficiency: 30 / 20 = 1.5.
    let p = pairs(&m, Strategy::AllTests, &opts);
    assert_eq!(
        p.codes.iter().map(|c| c.score).collect::<Vec<_>>(),
        [3.0, 3.0, 1.0]
    );
    assert_eq!(pair_ids(&p), [(Correctness, 1, 2), (Efficiency, 1, 0)]);
    // PassCount: the same correctness pair, no efficiency pair.
    let p = pairs(&m, Strategy::PassCount, &opts);
    assert_eq!(pair_ids(&p), [(Correctness, 1, 2)]);
    // Every code passes everything: only AllTests' efficiency pair is left.
    let all = mk(2, vec![ok("PP", &[10, 10]), ok("PP", &[5, 5])]);
    assert_eq!(
        pair_ids(&pairs(&all, Strategy::AllTests, &opts)),
        [(Efficiency, 1, 0)]
    );
    assert!(pairs(&all, Strategy::PassCount, &opts).pairs.is_empty());
}

#[test]
fn random_is_seeded_and_pairs_distinct_texts() {
    let m = mk(2, (0..5).map(|_| ok("PF", &[])).collect());
    let mut seen = std::collections::BTreeSet::new();
    for seed in 0..64 {
        let opts = PairOptions {
            seed,
            ..PairOptions::default()
        };
        let a = pairs(&m, Strategy::Random, &opts);
        let b = pairs(&m, Strategy::Random, &opts);
        assert_eq!(a, b);
        assert_eq!(a.pairs.len(), 1);
        let (chosen, rejected) = (a.pairs[0].chosen, a.pairs[0].rejected);
        assert!(chosen != rejected && chosen < 5 && rejected < 5);
        seen.insert((chosen, rejected));
    }
    assert!(seen.len() > 5, "{seen:?}");
    // Identical texts are never paired; with only one distinct text there is no pair.
    let mut repeats = mk(2, (0..3).map(|_| ok("PF", &[])).collect());
    repeats.problem.codes = vec!["a".into(), "a".into(), "b".into()];
    for seed in 0..64 {
        let opts = PairOptions {
            seed,
            ..PairOptions::default()
        };
        let p = pairs(&repeats, Strategy::Random, &opts);
        let (chosen, rejected) = (p.pairs[0].chosen, p.pairs[0].rejected);
        assert!((chosen == 2) != (rejected == 2), "{chosen} {rejected}");
    }
    repeats.problem.codes[2] = "a".into();
    assert!(
        pairs(&repeats, Strategy::Random, &PairOptions::default())
            .pairs
            .is_empty()
    );
    // One code: no pair.
    let one = mk(2, vec![ok("PF", &[])]);
    assert!(
        pairs(&one, Strategy::Random, &PairOptions::default())
            .pairs
            .is_empty()
    );
}

#[test]
fn no_codes_or_no_tests_no_pairs() {
    let strategies = [
        Strategy::Codedpo,
        Strategy::Acecoder,
        Strategy::Rrtf,
        Strategy::AllTests,
        Strategy::PassCount,
        Strategy::Random,
    ];
    let no_tests = mk(0, vec![ok("", &[]), broken('S', 0)]);
    let no_codes = mk(3, vec![]);
    for strategy in strategies {
        for m in [&no_tests, &no_codes] {
            let p = pairs(m, strategy, &PairOptions::default());
            assert!(p.pairs.is_empty(), "{strategy:?}: {p:?}");
            assert_eq!(p.codes.len(), m.rows.len());
        }
    }
}

#[test]
fn trl_and_kto_records() {
    let opts = PairOptions {
        rounds: 1,
        ..PairOptions::default()
    };
    let m = trusted_example(12);
    let p = pairs(&m, Strategy::Codedpo, &opts);
    // Pairs (c1 over c3, correctness) and (c1 over c0, efficiency).
    let trl = trl_records(&m, &p);
    assert_eq!(trl.len(), 2);
    assert_eq!(trl[0]["prompt"], "prompt");
    assert_eq!(trl[0]["chosen"], "code1");
    assert_eq!(trl[0]["rejected"], "code3");
    let meta = &trl[1]["metadata"];
    assert_eq!(meta["id"], "p");
    assert_eq!(meta["strategy"], "codedpo");
    assert_eq!(meta["kind"], "efficiency");
    assert_eq!(
        (meta["chosen_index"].clone(), meta["rejected_index"].clone()),
        (1.into(), 0.into())
    );
    assert_eq!(
        (meta["chosen_fuel"].clone(), meta["rejected_fuel"].clone()),
        (20.into(), 22.into())
    );
    assert_eq!(meta["chosen_pass_rate"], 1.0);
    assert_eq!(trl[0]["metadata"]["rejected_fuel"], Value::Null);
    // KTO: c1 true (once), c3 false, c0 false.
    let kto = kto_records(&m, &p);
    let labels: Vec<(Value, Value)> = kto
        .iter()
        .map(|r| (r["completion"].clone(), r["label"].clone()))
        .collect();
    assert_eq!(
        labels,
        [
            ("code1".into(), true.into()),
            ("code3".into(), false.into()),
            ("code0".into(), false.into())
        ]
    );
    assert_eq!(kto[2]["metadata"]["kind"], "efficiency");
    assert_eq!(kto[2]["metadata"]["fuel"], 22);
}

#[test]
fn score_records() {
    let opts = PairOptions::default();
    let m = rrtf_example();
    let r = score_record(&m, Strategy::Rrtf, &opts);
    assert_eq!(r["id"], "p");
    assert_eq!(r["strategy"], "rrtf");
    assert!(r.get("tests").is_none());
    assert_eq!(r["codes"][6]["rank"], 1);
    assert_eq!(r["codes"][6]["class"], "all_pass");
    assert_eq!(r["codes"][6]["fuel"], 20);
    assert_eq!(r["codes"][0]["fuel"], Value::Null);
    let r = score_record(&trusted_example(12), Strategy::Codedpo, &opts);
    assert_eq!(r["tests"][2]["trusted"], false);
    assert!(r["codes"][0].get("rank").is_none());
    let r = score_record(&acecoder_ladder(), Strategy::Acecoder, &opts);
    assert_eq!(r["strategy"], "acecoder");
    assert_eq!(r["codes"][1]["pass_rate"], 0.8);
    assert_eq!(r["codes"][0]["all_pass"], true);
    assert_eq!(
        serde_json::to_value(Strategy::AllTests).unwrap(),
        Strategy::AllTests.name()
    );
}
