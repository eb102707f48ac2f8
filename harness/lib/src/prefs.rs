//! Scoring strategies and preference pairs, built from a [`ProblemMatrix`] alone.
//!
//! Owns the scoring of a problem's codes (and, for some strategies, its tests) and the
//! preference pairs and records built from those scores: TRL DPO records
//! (`prompt`/`chosen`/`rejected`), KTO records (`prompt`/`completion`/`label`) and the
//! per-problem score records of `codefuel score`. Everything here is a pure function of the
//! matrix and [`PairOptions`]: no I/O, no clock, no global randomness (the [`Strategy::Random`]
//! baseline uses a built-in PRNG seeded from [`PairOptions::seed`] and the problem id).
//!
//! Conventions shared by every strategy:
//! - Each strategy scores codes against its *test set*: CodeDPO's trusted tests, AceCoder's
//!   kept tests, all tests otherwise. A code's `pass_rate`, `all_pass`, `total_fuel` (raw sum
//!   of cell fuel, failed cells included) and `fuel` (= `total_fuel`, only when the code
//!   passed every test of a non-empty set, so that fuel compares complete correct runs) are
//!   over that set.
//! - Codes are ordered best first by score (higher), then `total_fuel` (lower), then index
//!   (lower). A correctness pair takes the first code as chosen and the last as rejected, and
//!   only when their scores differ.
//! - An efficiency pair is taken among the codes with `fuel` (passing the whole set): least
//!   fuel chosen, most fuel rejected (ties: lower index first), when most / least ≥
//!   [`PairOptions::efficiency_ratio`].
//! - A problem with no codes or no tests yields no pairs (the caller warns).

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::matrix::{CellStatus, ProblemMatrix};
use crate::stats::SplitMix64;

#[cfg(test)]
mod tests;

/// How codes are scored and paired.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Strategy {
    /// CodeDPO (arXiv 2410.05605): PageRank-like mutual scoring of codes and tests; a
    /// correctness pair (best vs worst) and an efficiency pair over the trusted tests.
    Codedpo,
    /// AceCoder (arXiv 2502.01718): pass rate over the tests the reference passes; every pair
    /// with high rate ≥ 0.8, gap ≥ 0.4 and low rate > 0.
    Acecoder,
    /// RRTF (PanGu-Coder2): rank by outcome class (syntax < runtime < partial < all pass),
    /// then fuel; the best code against each strictly worse one.
    Rrtf,
    /// CodeDPO ablation baseline: every test is trusted; score = tests passed; correctness
    /// pair plus an efficiency pair among the codes passing every test.
    AllTests,
    /// CodeDPO ablation baseline: most vs fewest tests passed; correctness pair only (the
    /// same pair as `all-tests`, without its efficiency pair).
    PassCount,
    /// Baseline: two distinct codes drawn at random (seeded, deterministic per problem).
    Random,
}

impl Strategy {
    /// The strategy's name as on the command line and in records (kebab-case).
    pub fn name(self) -> &'static str {
        match self {
            Strategy::Codedpo => "codedpo",
            Strategy::Acecoder => "acecoder",
            Strategy::Rrtf => "rrtf",
            Strategy::AllTests => "all-tests",
            Strategy::PassCount => "pass-count",
            Strategy::Random => "random",
        }
    }
}

/// CodeDPO's damping factor d. Our choice: the paper's value could not be checked here.
pub const DEFAULT_DAMPING: f64 = 0.5;
/// CodeDPO's rounds of score updates. Our choice: the paper's count could not be checked here.
pub const DEFAULT_ROUNDS: usize = 10;
/// Minimum rescaled-score gap of a CodeDPO correctness pair (our choice).
pub const DEFAULT_MIN_SCORE_GAP: f64 = 0.1;
/// Minimum most/least fuel ratio of an efficiency pair.
pub const DEFAULT_EFFICIENCY_RATIO: f64 = 1.1;
/// AceCoder: minimum pass rate of the chosen code (AceCoder's released pair script).
pub const DEFAULT_ACECODER_MIN_HIGH: f64 = 0.8;
/// AceCoder: minimum pass-rate gap between chosen and rejected (AceCoder's pair script).
pub const DEFAULT_ACECODER_MIN_DIFF: f64 = 0.4;

/// Knobs of scoring and pairing; [`Default`] gives the documented defaults.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PairOptions {
    /// CodeDPO damping factor d (weight of the new evidence each round); default
    /// [`DEFAULT_DAMPING`] = 0.5, our choice.
    pub damping: f64,
    /// CodeDPO rounds of score updates; default [`DEFAULT_ROUNDS`] = 10, our choice.
    pub rounds: usize,
    /// CodeDPO correctness pairs need chosen − rejected ≥ this, on the rescaled scores (and
    /// always > 0); default [`DEFAULT_MIN_SCORE_GAP`] = 0.1, our choice.
    pub min_score_gap: f64,
    /// Efficiency pairs need most fuel / least fuel ≥ this; default 1.1.
    pub efficiency_ratio: f64,
    /// AceCoder: the chosen code's pass rate must be ≥ this; default 0.8. (The rejected
    /// code's rate must be > 0, a fixed rule.)
    pub acecoder_min_high: f64,
    /// AceCoder: chosen rate − rejected rate must be ≥ this; default 0.4.
    pub acecoder_min_diff: f64,
    /// At most this many correctness pairs per problem for AceCoder and RRTF (the widest
    /// pairs are kept first); default `None`, all pairs, as AceCoder's released script does.
    pub max_pairs: Option<usize>,
    /// Seed of [`Strategy::Random`]; default 0.
    pub seed: u64,
}

impl Default for PairOptions {
    fn default() -> Self {
        PairOptions {
            damping: DEFAULT_DAMPING,
            rounds: DEFAULT_ROUNDS,
            min_score_gap: DEFAULT_MIN_SCORE_GAP,
            efficiency_ratio: DEFAULT_EFFICIENCY_RATIO,
            acecoder_min_high: DEFAULT_ACECODER_MIN_HIGH,
            acecoder_min_diff: DEFAULT_ACECODER_MIN_DIFF,
            max_pairs: None,
            seed: 0,
        }
    }
}

impl PairOptions {
    /// An input error when a knob is out of its range (named by its field).
    pub fn validate(&self) -> crate::Result<()> {
        let bad = |message: String| Err(crate::Error::Input(message));
        if !(self.damping > 0.0 && self.damping <= 1.0) {
            return bad(format!("damping must be in (0, 1], got {}", self.damping));
        }
        if self.efficiency_ratio.is_nan() || self.efficiency_ratio < 1.0 {
            return bad(format!(
                "efficiency_ratio must be at least 1, got {}",
                self.efficiency_ratio
            ));
        }
        for (name, value) in [
            ("min_score_gap", self.min_score_gap),
            ("acecoder_min_high", self.acecoder_min_high),
            ("acecoder_min_diff", self.acecoder_min_diff),
        ] {
            if !(0.0..=1.0).contains(&value) {
                return bad(format!("{name} must be in [0, 1], got {value}"));
            }
        }
        Ok(())
    }
}

/// What a pair teaches.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PairKind {
    /// The chosen code is judged more correct than the rejected one.
    Correctness,
    /// Both codes pass the strategy's test set; the chosen one uses less fuel.
    Efficiency,
}

/// One preference pair of a problem; `chosen` and `rejected` index the problem's codes.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Pair {
    /// What the pair teaches.
    pub kind: PairKind,
    /// Index of the preferred code.
    pub chosen: usize,
    /// Index of the dispreferred code.
    pub rejected: usize,
    /// The chosen code's score under the strategy.
    pub chosen_score: f64,
    /// The rejected code's score under the strategy.
    pub rejected_score: f64,
    /// The chosen code's pass rate over the strategy's test set.
    pub chosen_pass_rate: f64,
    /// The rejected code's pass rate over the strategy's test set.
    pub rejected_pass_rate: f64,
    /// The chosen code's fuel over the test set, when it passed all of it.
    pub chosen_fuel: Option<u64>,
    /// The rejected code's fuel over the test set, when it passed all of it.
    pub rejected_fuel: Option<u64>,
}

/// RRTF outcome class of a code, worst first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RrtfClass {
    /// The code does not parse (load status `syntax_error`).
    SyntaxError,
    /// Loading failed otherwise (error, fuel, memory, crash), or no test ran to a verdict
    /// (no cell is `pass` or `fail`).
    RuntimeError,
    /// Loaded, some test ran to a verdict, not every test passed.
    Partial,
    /// Every test passed.
    AllPass,
}

/// One code's score under a strategy.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CodeScore {
    /// Index of the code in the problem.
    pub index: usize,
    /// The strategy's score (higher is better); see [`pairs`] for each formula.
    pub score: f64,
    /// Fraction of the strategy's test set passed (0 when the set is empty).
    pub pass_rate: f64,
    /// Passed every test of a non-empty test set (AceCoder's binary RL reward).
    pub all_pass: bool,
    /// Total fuel over the test set, present only when `all_pass`.
    pub fuel: Option<u64>,
    /// Raw sum of cell fuel over the test set, failed cells included (the tie-break).
    pub total_fuel: u64,
    /// RRTF only: 1-based rank, 1 = best.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rank: Option<usize>,
    /// RRTF only: outcome class.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub class: Option<RrtfClass>,
}

/// One test's score under a strategy (CodeDPO and AceCoder only).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TestScore {
    /// Index of the test in the problem.
    pub index: usize,
    /// CodeDPO: rescaled test score; AceCoder: fraction of codes passing the test.
    pub score: f64,
    /// CodeDPO: passed by the top code; AceCoder: passed by the reference (kept).
    pub trusted: bool,
}

/// A problem's scores and pairs under one strategy.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ProblemPairs {
    /// The problem's id.
    pub id: String,
    /// The strategy used.
    pub strategy: Strategy,
    /// One score per code, in code order.
    pub codes: Vec<CodeScore>,
    /// Per-test scores, for CodeDPO and AceCoder.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tests: Option<Vec<TestScore>>,
    /// The pairs, correctness pairs first.
    pub pairs: Vec<Pair>,
}

/// CodeDPO self-validation scores of `passes[code][test]`: `(code scores, test scores)`.
///
/// All scores start at 1. Each round, from the previous round's values,
/// code(c) ← (1−d)·code(c) + d·Σ_t pass(c,t)·test(t) and
/// test(t) ← (1−d)·test(t) + d·Σ_c pass(c,t)·code(c); then each vector is divided by its
/// maximum (when positive). Rows shorter than the longest count their missing cells as fails.
pub fn codedpo_scores(passes: &[Vec<bool>], damping: f64, rounds: usize) -> (Vec<f64>, Vec<f64>) {
    let n_codes = passes.len();
    let n_tests = passes.iter().map(Vec::len).max().unwrap_or(0);
    let pass = |c: usize, t: usize| passes[c].get(t).copied().unwrap_or(false);
    let mut code = vec![1.0f64; n_codes];
    let mut test = vec![1.0f64; n_tests];
    for _ in 0..rounds {
        let next_code: Vec<f64> = (0..n_codes)
            .map(|c| {
                let support: f64 = (0..n_tests).filter(|&t| pass(c, t)).map(|t| test[t]).sum();
                (1.0 - damping) * code[c] + damping * support
            })
            .collect();
        let next_test: Vec<f64> = (0..n_tests)
            .map(|t| {
                let support: f64 = (0..n_codes).filter(|&c| pass(c, t)).map(|c| code[c]).sum();
                (1.0 - damping) * test[t] + damping * support
            })
            .collect();
        code = rescaled(next_code);
        test = rescaled(next_test);
    }
    (code, test)
}

/// Divides by the maximum when it is positive.
fn rescaled(mut v: Vec<f64>) -> Vec<f64> {
    let max = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if max > 0.0 {
        for x in &mut v {
            *x /= max;
        }
    }
    v
}

/// Scores and pairs of one problem under `strategy`.
///
/// Scores: CodeDPO, [`codedpo_scores`] (trusted tests = those the top code passes, top =
/// highest score, then lowest index); AceCoder, the pass rate; RRTF, 0 syntax error,
/// 1 runtime error, 2 + pass fraction for partial, 3 all pass; AllTests and PassCount, the
/// number of tests passed; Random, the pass rate (for information only).
/// Pairs: see [`Strategy`] and the module docs.
pub fn pairs(matrix: &ProblemMatrix, strategy: Strategy, opts: &PairOptions) -> ProblemPairs {
    let m = View::new(matrix);
    let all_tests: Vec<usize> = (0..m.n_tests).collect();
    let (codes, tests, pairs) = match strategy {
        Strategy::Codedpo => codedpo(&m, opts),
        Strategy::Acecoder => acecoder(&m, opts),
        Strategy::Rrtf => rrtf(&m, opts),
        Strategy::AllTests | Strategy::PassCount => {
            let passed = m.passed_counts(&all_tests);
            let scores: Vec<f64> = passed.iter().map(|&p| p as f64).collect();
            let codes = m.code_scores(&all_tests, &scores);
            let mut pairs: Vec<Pair> = correctness_pair(&codes, 0.0).into_iter().collect();
            if strategy == Strategy::AllTests {
                pairs.extend(efficiency_pair(&codes, opts.efficiency_ratio));
            }
            (codes, None, pairs)
        }
        Strategy::Random => {
            let rates: Vec<f64> = m
                .passed_counts(&all_tests)
                .iter()
                .map(|&p| rate(p, m.n_tests))
                .collect();
            let codes = m.code_scores(&all_tests, &rates);
            let pairs = random_pair(&codes, &matrix.problem.codes, opts.seed, &matrix.problem.id)
                .into_iter()
                .collect();
            (codes, None, pairs)
        }
    };
    let pairs = if m.n_codes == 0 || m.n_tests == 0 {
        Vec::new()
    } else {
        pairs
    };
    ProblemPairs {
        id: matrix.problem.id.clone(),
        strategy,
        codes,
        tests,
        pairs,
    }
}

/// TRL DPO records of a problem's pairs: `{"prompt", "chosen", "rejected", "metadata"}`, the
/// chosen and rejected fields being code texts.
pub fn trl_records(matrix: &ProblemMatrix, pairs: &ProblemPairs) -> Vec<Value> {
    let codes = &matrix.problem.codes;
    pairs
        .pairs
        .iter()
        .map(|p| {
            json!({
                "prompt": matrix.problem.prompt,
                "chosen": codes[p.chosen],
                "rejected": codes[p.rejected],
                "metadata": {
                    "id": pairs.id,
                    "strategy": pairs.strategy.name(),
                    "kind": p.kind,
                    "chosen_index": p.chosen,
                    "rejected_index": p.rejected,
                    "chosen_score": p.chosen_score,
                    "rejected_score": p.rejected_score,
                    "chosen_pass_rate": p.chosen_pass_rate,
                    "rejected_pass_rate": p.rejected_pass_rate,
                    "chosen_fuel": p.chosen_fuel,
                    "rejected_fuel": p.rejected_fuel,
                },
            })
        })
        .collect()
}

/// KTO records of a problem's pairs: `{"prompt", "completion", "label", "metadata"}`.
///
/// Chosen codes get `label: true`, rejected ones `false`; each code appears once per
/// problem, labelled by its first pair (correctness pairs come before efficiency pairs, so a
/// correct but slow code stays `true`).
pub fn kto_records(matrix: &ProblemMatrix, pairs: &ProblemPairs) -> Vec<Value> {
    let mut seen = vec![false; matrix.problem.codes.len()];
    let mut records = Vec::new();
    for p in &pairs.pairs {
        for (index, label) in [(p.chosen, true), (p.rejected, false)] {
            if std::mem::replace(&mut seen[index], true) {
                continue;
            }
            let code = &pairs.codes[index];
            records.push(json!({
                "prompt": matrix.problem.prompt,
                "completion": matrix.problem.codes[index],
                "label": label,
                "metadata": {
                    "id": pairs.id,
                    "strategy": pairs.strategy.name(),
                    "kind": p.kind,
                    "index": index,
                    "score": code.score,
                    "pass_rate": code.pass_rate,
                    "fuel": code.fuel,
                },
            }));
        }
    }
    records
}

/// The per-problem record of `codefuel score`: `{"id", "strategy", "codes": [...]}`, plus
/// `"tests"` (score, trusted) for CodeDPO and AceCoder; RRTF codes carry `rank` and `class`.
pub fn score_record(matrix: &ProblemMatrix, strategy: Strategy, opts: &PairOptions) -> Value {
    let scored = pairs(matrix, strategy, opts);
    let mut record = json!({
        "id": scored.id,
        "strategy": strategy.name(),
        "codes": scored.codes,
    });
    if let Some(tests) = scored.tests {
        record["tests"] = json!(tests);
    }
    record
}

/// The matrix as the strategies see it: `n_codes` codes (rows that have a text) and
/// `n_tests` tests; a missing cell counts as skipped.
struct View<'a> {
    matrix: &'a ProblemMatrix,
    n_codes: usize,
    n_tests: usize,
}

impl<'a> View<'a> {
    fn new(matrix: &'a ProblemMatrix) -> Self {
        View {
            matrix,
            n_codes: matrix.rows.len().min(matrix.problem.codes.len()),
            n_tests: matrix.problem.tests.len(),
        }
    }

    fn status(&self, c: usize, t: usize) -> CellStatus {
        self.matrix.rows[c]
            .cells
            .get(t)
            .map_or(CellStatus::Skipped, |cell| cell.status)
    }

    fn pass(&self, c: usize, t: usize) -> bool {
        self.status(c, t).passed()
    }

    fn fuel(&self, c: usize, t: usize) -> u64 {
        self.matrix.rows[c].cells.get(t).map_or(0, |cell| cell.fuel)
    }

    /// `[code][test]` passes over all tests.
    fn passes(&self) -> Vec<Vec<bool>> {
        (0..self.n_codes)
            .map(|c| (0..self.n_tests).map(|t| self.pass(c, t)).collect())
            .collect()
    }

    /// Tests of `set` each code passes.
    fn passed_counts(&self, set: &[usize]) -> Vec<usize> {
        (0..self.n_codes)
            .map(|c| set.iter().filter(|&&t| self.pass(c, t)).count())
            .collect()
    }

    /// Code scores over the test set `set`, with the given per-code `scores`.
    fn code_scores(&self, set: &[usize], scores: &[f64]) -> Vec<CodeScore> {
        let passed = self.passed_counts(set);
        (0..self.n_codes)
            .map(|c| {
                let total_fuel = set
                    .iter()
                    .fold(0u64, |sum, &t| sum.saturating_add(self.fuel(c, t)));
                let all_pass = !set.is_empty() && passed[c] == set.len();
                CodeScore {
                    index: c,
                    score: scores[c],
                    pass_rate: rate(passed[c], set.len()),
                    all_pass,
                    fuel: all_pass.then_some(total_fuel),
                    total_fuel,
                    rank: None,
                    class: None,
                }
            })
            .collect()
    }
}

/// `passed / total`, 0 when `total` is 0. Division is correctly rounded, so a rate equal to
/// a decimal threshold (4/5 vs 0.8) compares equal to it.
fn rate(passed: usize, total: usize) -> f64 {
    if total == 0 {
        0.0
    } else {
        passed as f64 / total as f64
    }
}

/// Code indices best first: score (higher), total fuel (lower), index (lower).
fn ranked(codes: &[CodeScore]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..codes.len()).collect();
    order.sort_by(|&a, &b| {
        let (a, b) = (&codes[a], &codes[b]);
        b.score
            .total_cmp(&a.score)
            .then(a.total_fuel.cmp(&b.total_fuel))
            .then(a.index.cmp(&b.index))
    });
    order
}

fn make_pair(kind: PairKind, chosen: &CodeScore, rejected: &CodeScore) -> Pair {
    Pair {
        kind,
        chosen: chosen.index,
        rejected: rejected.index,
        chosen_score: chosen.score,
        rejected_score: rejected.score,
        chosen_pass_rate: chosen.pass_rate,
        rejected_pass_rate: rejected.pass_rate,
        chosen_fuel: chosen.fuel,
        rejected_fuel: rejected.fuel,
    }
}

/// Best vs worst in [`ranked`] order, when the score gap is positive and ≥ `min_gap`.
fn correctness_pair(codes: &[CodeScore], min_gap: f64) -> Option<Pair> {
    let order = ranked(codes);
    let (best, worst) = (&codes[*order.first()?], &codes[*order.last()?]);
    let gap = best.score - worst.score;
    (gap > 0.0 && gap >= min_gap).then(|| make_pair(PairKind::Correctness, best, worst))
}

/// Least vs most fuel among the codes passing the whole test set, when most / least ≥
/// `ratio` (and most > least).
fn efficiency_pair(codes: &[CodeScore], ratio: f64) -> Option<Pair> {
    let mut eligible: Vec<(u64, usize)> = codes
        .iter()
        .filter_map(|c| c.fuel.map(|f| (f, c.index)))
        .collect();
    eligible.sort_unstable();
    let (&(least, chosen), &(most, rejected)) = (eligible.first()?, eligible.last()?);
    let wide = most > least && most as f64 / least as f64 >= ratio;
    wide.then(|| make_pair(PairKind::Efficiency, &codes[chosen], &codes[rejected]))
}

fn codedpo(m: &View, opts: &PairOptions) -> (Vec<CodeScore>, Option<Vec<TestScore>>, Vec<Pair>) {
    let (code_scores, test_scores) = codedpo_scores(&m.passes(), opts.damping, opts.rounds);
    // The top code for trust: highest score, then lowest index (fuel on the trusted tests
    // cannot break this tie: they are not known yet).
    let top = (0..m.n_codes).reduce(|best, c| {
        if code_scores[c] > code_scores[best] {
            c
        } else {
            best
        }
    });
    let trusted: Vec<usize> = match top {
        Some(top) => (0..m.n_tests).filter(|&t| m.pass(top, t)).collect(),
        None => Vec::new(),
    };
    let codes = m.code_scores(&trusted, &code_scores);
    let tests = (0..m.n_tests)
        .map(|t| TestScore {
            index: t,
            score: test_scores.get(t).copied().unwrap_or(1.0),
            trusted: trusted.contains(&t),
        })
        .collect();
    let mut pairs: Vec<Pair> = correctness_pair(&codes, opts.min_score_gap)
        .into_iter()
        .collect();
    if !trusted.is_empty() {
        pairs.extend(efficiency_pair(&codes, opts.efficiency_ratio));
    }
    (codes, Some(tests), pairs)
}

fn acecoder(m: &View, opts: &PairOptions) -> (Vec<CodeScore>, Option<Vec<TestScore>>, Vec<Pair>) {
    let reference = m.matrix.reference_passes.as_deref();
    let kept: Vec<usize> = (0..m.n_tests)
        .filter(|&t| reference.is_none_or(|r| r.get(t).copied().unwrap_or(false)))
        .collect();
    let passed = m.passed_counts(&kept);
    let rates: Vec<f64> = passed.iter().map(|&p| rate(p, kept.len())).collect();
    let codes = m.code_scores(&kept, &rates);
    let tests = (0..m.n_tests)
        .map(|t| TestScore {
            index: t,
            score: rate((0..m.n_codes).filter(|&c| m.pass(c, t)).count(), m.n_codes),
            trusted: kept.contains(&t),
        })
        .collect();
    // As AceCoder's released script: codes by rate, best first; for each candidate chosen,
    // rejected candidates from the worst up; pairs of identical texts dropped. Rates share
    // the denominator, so the gap is (passed_a − passed_b) / kept, correctly rounded.
    let order = ranked(&codes);
    let texts = &m.matrix.problem.codes;
    let cap = opts.max_pairs.unwrap_or(usize::MAX);
    let mut seen = std::collections::HashSet::new();
    let mut pairs = Vec::new();
    'outer: for (j, &a) in order.iter().enumerate() {
        for &b in order[j + 1..].iter().rev() {
            if pairs.len() >= cap {
                break 'outer;
            }
            let gap = rate(passed[a].saturating_sub(passed[b]), kept.len());
            let keep = rates[a] >= opts.acecoder_min_high
                && passed[a] > passed[b]
                && gap >= opts.acecoder_min_diff
                && rates[b] > 0.0;
            if keep && seen.insert((&texts[a], &texts[b])) {
                pairs.push(make_pair(PairKind::Correctness, &codes[a], &codes[b]));
            }
        }
    }
    (codes, Some(tests), pairs)
}

fn rrtf_class(m: &View, c: usize, passed: usize) -> RrtfClass {
    let load = m.matrix.rows[c].load.status;
    let verdicts = (0..m.n_tests)
        .filter(|&t| matches!(m.status(c, t), CellStatus::Pass | CellStatus::Fail))
        .count();
    if load == CellStatus::SyntaxError {
        RrtfClass::SyntaxError
    } else if load != CellStatus::Pass || verdicts == 0 {
        RrtfClass::RuntimeError
    } else if passed == m.n_tests {
        RrtfClass::AllPass
    } else {
        RrtfClass::Partial
    }
}

fn rrtf(m: &View, opts: &PairOptions) -> (Vec<CodeScore>, Option<Vec<TestScore>>, Vec<Pair>) {
    let all: Vec<usize> = (0..m.n_tests).collect();
    let passed = m.passed_counts(&all);
    let classes: Vec<RrtfClass> = (0..m.n_codes)
        .map(|c| rrtf_class(m, c, passed[c]))
        .collect();
    let scores: Vec<f64> = (0..m.n_codes)
        .map(|c| match classes[c] {
            RrtfClass::SyntaxError => 0.0,
            RrtfClass::RuntimeError => 1.0,
            RrtfClass::Partial => 2.0 + rate(passed[c], m.n_tests),
            RrtfClass::AllPass => 3.0,
        })
        .collect();
    let mut codes = m.code_scores(&all, &scores);
    let order = ranked(&codes);
    for (position, &c) in order.iter().enumerate() {
        codes[c].rank = Some(position + 1);
        codes[c].class = Some(classes[c]);
    }
    // The best code against every code scored strictly lower, worst first.
    let mut pairs = Vec::new();
    if let Some(&best) = order.first() {
        let worse = order
            .iter()
            .rev()
            .take_while(|&&c| codes[c].score < codes[best].score);
        for &c in worse.take(opts.max_pairs.unwrap_or(usize::MAX)) {
            pairs.push(make_pair(PairKind::Correctness, &codes[best], &codes[c]));
        }
    }
    (codes, None, pairs)
}

fn fnv1a64(text: &str) -> u64 {
    text.bytes().fold(0xCBF2_9CE4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01B3)
    })
}

/// Two codes with different texts, drawn by splitmix64 seeded with `seed ^ fnv1a64(id)`.
fn random_pair(codes: &[CodeScore], texts: &[String], seed: u64, id: &str) -> Option<Pair> {
    let n = codes.len();
    if n < 2 {
        return None;
    }
    let mut rng = SplitMix64(seed ^ fnv1a64(id));
    let chosen = rng.below(n);
    // Any other code whose text differs: a pair of identical texts teaches nothing.
    let others: Vec<usize> = (1..n)
        .map(|k| (chosen + k) % n)
        .filter(|&c| texts[c] != texts[chosen])
        .collect();
    if others.is_empty() {
        return None;
    }
    let rejected = others[rng.below(others.len())];
    Some(make_pair(
        PairKind::Correctness,
        &codes[chosen],
        &codes[rejected],
    ))
}
