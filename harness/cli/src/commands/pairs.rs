//! `codefuel pairs` and `codefuel score`: preference data and scores from a matrix file.

use std::path::{Path, PathBuf};

use anyhow::Result;
use codefuel::matrix::{ProblemMatrix, read_matrices};
use codefuel::prefs::{
    DEFAULT_ACECODER_MIN_DIFF, DEFAULT_ACECODER_MIN_HIGH, DEFAULT_DAMPING,
    DEFAULT_EFFICIENCY_RATIO, DEFAULT_MIN_SCORE_GAP, DEFAULT_ROUNDS, PairOptions, Strategy,
};
use codefuel::{PairFormat, PairsRequest};

use super::{PairFormatChoice, StrategyChoice};

/// Scoring knobs shared by `pairs` and `score`.
#[derive(Clone, Debug, clap::Args)]
pub struct ScoringArgs {
    /// The matrix written by `codefuel matrix`.
    #[arg(long, value_name = "FILE")]
    pub matrix: PathBuf,
    /// How codes are scored and paired.
    #[arg(long, value_enum, default_value_t = StrategyChoice::Codedpo)]
    pub strategy: StrategyChoice,
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
    fn strategy(&self) -> Strategy {
        self.strategy.into()
    }

    fn options(&self) -> PairOptions {
        PairOptions {
            damping: self.damping,
            rounds: self.rounds,
            min_score_gap: self.min_score_gap,
            efficiency_ratio: self.efficiency_ratio,
            acecoder_min_high: self.acecoder_min_high,
            acecoder_min_diff: self.acecoder_min_diff,
            max_pairs: self.max_pairs,
            seed: self.seed,
        }
    }
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
    #[arg(long, value_enum, default_value_t = PairFormatChoice::Dpo)]
    pub format: PairFormatChoice,
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
        return Err(
            codefuel::Error::Input(format!("{} holds no matrix lines", path.display())).into(),
        );
    }
    Ok(matrices)
}

/// Runs `codefuel pairs`; returns the process exit status.
pub fn pairs(args: &PairsArgs) -> Result<i32> {
    let options = args.scoring.options();
    options.validate()?;
    let matrices = load(&args.scoring.matrix)?;
    let strategy = args.scoring.strategy();
    let format: PairFormat = args.format.into();
    let report = codefuel::pairs(
        &matrices,
        &PairsRequest {
            strategy,
            options,
            format,
        },
    )?;
    codefuel::files::write_jsonl(&args.output, &report.records)?;
    let n = report.problems;
    println!(
        "{} ({}): {n} problems, {} with pairs ({:.1} %); pairs: {} correctness, {} efficiency ({:.2} per problem)",
        strategy.name(),
        match format {
            PairFormat::Dpo => "DPO",
            PairFormat::Kto => "KTO",
        },
        report.with_pairs,
        100.0 * report.with_pairs as f64 / n as f64,
        report.correctness,
        report.efficiency,
        (report.correctness + report.efficiency) as f64 / n as f64
    );
    if report.empty > 0 {
        println!(
            "  {} problems without codes or tests were skipped",
            report.empty
        );
    }
    println!(
        "{} records: {}",
        report.records.len(),
        args.output.display()
    );
    Ok(0)
}

/// Runs `codefuel score`; returns the process exit status.
pub fn score(args: &ScoreArgs) -> Result<i32> {
    let options = args.scoring.options();
    options.validate()?;
    let matrices = load(&args.scoring.matrix)?;
    let records = codefuel::score(&matrices, args.scoring.strategy(), &options)?;
    codefuel::files::write_jsonl(&args.output, &records)?;
    println!(
        "{}: scores for {} problems: {}",
        args.scoring.strategy().name(),
        records.len(),
        args.output.display()
    );
    Ok(0)
}
