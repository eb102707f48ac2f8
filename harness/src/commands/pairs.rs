//! `codefuel pairs` and `codefuel score`: preference data and scores from a matrix file.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use crate::matrix::{ProblemMatrix, read_matrices};
use crate::prefs::{
    self, DEFAULT_ACECODER_MIN_DIFF, DEFAULT_ACECODER_MIN_HIGH, DEFAULT_DAMPING,
    DEFAULT_EFFICIENCY_RATIO, DEFAULT_MIN_SCORE_GAP, DEFAULT_ROUNDS, PairKind, PairOptions,
    Strategy,
};

/// Scoring knobs shared by `pairs` and `score`.
#[derive(Clone, Debug, clap::Args)]
pub struct ScoringArgs {
    /// The matrix written by `codefuel matrix`.
    #[arg(long, value_name = "FILE")]
    pub matrix: PathBuf,
    /// How codes are scored and paired.
    #[arg(long, value_enum, default_value_t = Strategy::Codedpo)]
    pub strategy: Strategy,
    /// CodeDPO damping factor d.
    #[arg(long, value_name = "D", default_value_t = DEFAULT_DAMPING)]
    pub damping: f64,
    /// CodeDPO rounds of score updates.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_ROUNDS)]
    pub rounds: usize,
    /// CodeDPO: minimum score gap of a correctness pair (scores are rescaled to max 1).
    #[arg(long, value_name = "G", default_value_t = DEFAULT_MIN_SCORE_GAP)]
    pub min_score_gap: f64,
    /// Efficiency pairs: minimum ratio of the slower code's fuel to the faster one's.
    #[arg(long, value_name = "R", default_value_t = DEFAULT_EFFICIENCY_RATIO)]
    pub efficiency_ratio: f64,
    /// AceCoder: minimum pass rate of the chosen code.
    #[arg(long, value_name = "P", default_value_t = DEFAULT_ACECODER_MIN_HIGH)]
    pub acecoder_min_high: f64,
    /// AceCoder: minimum pass-rate gap between chosen and rejected.
    #[arg(long, value_name = "P", default_value_t = DEFAULT_ACECODER_MIN_DIFF)]
    pub acecoder_min_diff: f64,
    /// AceCoder and RRTF: at most this many correctness pairs per problem, taken in pairing
    /// order (AceCoder: best code first, each against the worst codes first; RRTF: the best
    /// code against the worst first).
    #[arg(long, value_name = "N")]
    pub max_pairs: Option<usize>,
    /// Seed of the `random` baseline.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub seed: u64,
}

impl ScoringArgs {
    fn options(&self) -> Result<PairOptions> {
        if !(self.damping > 0.0 && self.damping <= 1.0) {
            bail!("--damping must be in (0, 1], got {}", self.damping);
        }
        if self.efficiency_ratio.is_nan() || self.efficiency_ratio < 1.0 {
            bail!(
                "--efficiency-ratio must be at least 1, got {}",
                self.efficiency_ratio
            );
        }
        for (flag, value) in [
            ("--min-score-gap", self.min_score_gap),
            ("--acecoder-min-high", self.acecoder_min_high),
            ("--acecoder-min-diff", self.acecoder_min_diff),
        ] {
            if !(0.0..=1.0).contains(&value) {
                bail!("{flag} must be in [0, 1], got {value}");
            }
        }
        Ok(PairOptions {
            damping: self.damping,
            rounds: self.rounds,
            min_score_gap: self.min_score_gap,
            efficiency_ratio: self.efficiency_ratio,
            acecoder_min_high: self.acecoder_min_high,
            acecoder_min_diff: self.acecoder_min_diff,
            max_pairs: self.max_pairs,
            seed: self.seed,
        })
    }
}

/// Output format of `codefuel pairs`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum PairFormat {
    /// TRL DPO: {"prompt", "chosen", "rejected", "metadata"}.
    Dpo,
    /// TRL KTO: {"prompt", "completion", "label", "metadata"}, each paired code once.
    Kto,
}

/// Flags of `codefuel pairs`.
#[derive(Clone, Debug, clap::Args)]
pub struct PairsArgs {
    /// Matrix and scoring knobs.
    #[command(flatten)]
    pub scoring: ScoringArgs,
    /// Where to write the records (JSONL).
    #[arg(long, value_name = "FILE")]
    pub output: PathBuf,
    /// Record format.
    #[arg(long, value_enum, default_value_t = PairFormat::Dpo)]
    pub format: PairFormat,
}

/// Flags of `codefuel score`.
#[derive(Clone, Debug, clap::Args)]
pub struct ScoreArgs {
    /// Matrix and scoring knobs.
    #[command(flatten)]
    pub scoring: ScoringArgs,
    /// Where to write one score record per problem (JSONL).
    #[arg(long, value_name = "FILE")]
    pub output: PathBuf,
}

fn load(path: &Path) -> Result<Vec<ProblemMatrix>> {
    let matrices = read_matrices(path)?;
    if matrices.is_empty() {
        bail!("{} holds no matrix lines", path.display());
    }
    Ok(matrices)
}

fn write_jsonl(path: &Path, records: &[serde_json::Value]) -> Result<()> {
    let file =
        std::fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    let mut out = std::io::BufWriter::new(file);
    for r in records {
        serde_json::to_writer(&mut out, r)?;
        out.write_all(b"\n")?;
    }
    out.flush()
        .with_context(|| format!("cannot write {}", path.display()))
}

/// Runs `codefuel pairs`; returns the process exit status.
pub fn pairs(args: &PairsArgs) -> Result<i32> {
    let options = args.scoring.options()?;
    let matrices = load(&args.scoring.matrix)?;
    let strategy = args.scoring.strategy;
    let mut records = Vec::new();
    let (mut correctness, mut efficiency, mut with_pairs, mut empty) = (0, 0, 0, 0);
    for m in &matrices {
        if m.problem.codes.is_empty() || m.problem.tests.is_empty() {
            empty += 1;
            continue;
        }
        let scored = prefs::pairs(m, strategy, &options);
        let c = scored
            .pairs
            .iter()
            .filter(|p| p.kind == PairKind::Correctness)
            .count();
        correctness += c;
        efficiency += scored.pairs.len() - c;
        with_pairs += usize::from(!scored.pairs.is_empty());
        records.extend(match args.format {
            PairFormat::Dpo => prefs::trl_records(m, &scored),
            PairFormat::Kto => prefs::kto_records(m, &scored),
        });
    }
    write_jsonl(&args.output, &records)?;
    let n = matrices.len();
    println!(
        "{} ({}): {n} problems, {with_pairs} with pairs ({:.1} %); pairs: {correctness} correctness, {efficiency} efficiency ({:.2} per problem)",
        strategy.name(),
        match args.format {
            PairFormat::Dpo => "DPO",
            PairFormat::Kto => "KTO",
        },
        100.0 * with_pairs as f64 / n as f64,
        (correctness + efficiency) as f64 / n as f64
    );
    if empty > 0 {
        println!("  {empty} problems without codes or tests were skipped");
    }
    println!("{} records: {}", records.len(), args.output.display());
    Ok(0)
}

/// Runs `codefuel score`; returns the process exit status.
pub fn score(args: &ScoreArgs) -> Result<i32> {
    let options = args.scoring.options()?;
    let matrices = load(&args.scoring.matrix)?;
    let records: Vec<serde_json::Value> = matrices
        .iter()
        .map(|m| prefs::score_record(m, args.scoring.strategy, &options))
        .collect();
    write_jsonl(&args.output, &records)?;
    println!(
        "{}: scores for {} problems: {}",
        args.scoring.strategy.name(),
        records.len(),
        args.output.display()
    );
    Ok(0)
}
