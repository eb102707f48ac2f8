//! The CLI subcommands, one module each; the flags several of them share; the terminal
//! [`Progress`] (bars and notes on stderr); and the flag spellings of the library's choices.

use std::path::PathBuf;
use std::sync::Mutex;

use codefuel::progress::Progress;
use codefuel::{Engine, EngineConfig};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

pub mod cache;
pub mod evaluate;
pub mod judge;
pub mod matrix;
pub mod pairs;
pub mod run;
pub mod sanitize;
pub mod serve;
pub mod speedup;

/// Flags of every command that runs code in parallel: workers, cache and progress display.
#[derive(Clone, Debug, clap::Args)]
pub struct RunnerArgs {
    /// Worker threads [default: all cores].
    #[arg(long, short = 'j', value_name = "N")]
    pub jobs: Option<usize>,
    /// Cache directory for the compiled guest, datasets and expected outputs
    /// [default: $CODEFUEL_CACHE_DIR or ~/.cache/codefuel].
    #[arg(long, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
    /// No progress bars.
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

impl RunnerArgs {
    /// The library engine these flags ask for, running programs in `guest`'s interpreter.
    pub fn engine(&self, guest: GuestArgs) -> codefuel::Result<Engine> {
        Engine::new(&EngineConfig {
            cache_dir: self.cache_dir.clone(),
            jobs: self.jobs,
            guest: guest.guest.into(),
        })
    }

    /// Progress bars on stderr, unless `--quiet`.
    pub fn progress(&self) -> Bars {
        Bars::new(!self.quiet)
    }
}

/// The `--guest` flag of every command that runs code (not of `sanitize`, `pairs`, `score`
/// and `cache`, which run none).
#[derive(Clone, Copy, Debug, clap::Args)]
pub struct GuestArgs {
    /// The interpreter programs run in: rustpython, or cpython (CPython 3.11 for WASI) in a
    /// build with `--features cpython` (docs/guests.md). Fuel is not comparable across
    /// guests.
    #[arg(long, value_enum, value_name = "GUEST", default_value_t = GuestChoice::RustPython)]
    pub guest: GuestChoice,
}

/// The CLI's [`Progress`]: a bar with rate and ETA per stage on stderr (hidden when stderr is
/// not a terminal, or with `--quiet`), and each note as a `codefuel: ` line on stderr.
pub struct Bars {
    show: bool,
    bar: Mutex<Option<ProgressBar>>,
}

impl Bars {
    /// Bars drawn when `show`; notes are printed either way.
    pub fn new(show: bool) -> Self {
        Bars {
            show,
            bar: Mutex::new(None),
        }
    }

    fn current(&self) -> Option<ProgressBar> {
        self.bar.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

impl Progress for Bars {
    fn begin(&self, stage: &str, total: u64) {
        if !self.show {
            return;
        }
        let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
        if let Ok(style) =
            ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} ({per_sec}, ETA {eta})")
        {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_message(stage.to_owned());
        if let Some(old) = self
            .bar
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .replace(bar)
        {
            old.finish_and_clear();
        }
    }

    fn advance(&self, n: u64) {
        if let Some(bar) = self.current() {
            bar.inc(n);
        }
    }

    fn end(&self) {
        if let Some(bar) = self.bar.lock().unwrap_or_else(|e| e.into_inner()).take() {
            bar.finish_and_clear();
        }
    }

    fn note(&self, message: &str) {
        match self.current() {
            Some(bar) => bar.suspend(|| eprintln!("codefuel: {message}")),
            None => eprintln!("codefuel: {message}"),
        }
    }
}

/// A command-line spelling of a library enum: a `clap::ValueEnum` mirror whose variants
/// convert one to one (the library itself does not depend on clap).
macro_rules! choice {
    ($(#[$meta:meta])* $name:ident => $lib:path { $($(#[$vmeta:meta])* $variant:ident),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
        pub enum $name {
            $($(#[$vmeta])* $variant),+
        }

        impl From<$name> for $lib {
            fn from(choice: $name) -> Self {
                match choice {
                    $($name::$variant => <$lib>::$variant),+
                }
            }
        }
    };
}

choice! {
    /// `--dataset`: which benchmark.
    DatasetChoice => codefuel::DatasetKind {
        /// HumanEval+ (evalplus v0.1.10): 164 problems.
        Humaneval,
        /// MBPP+ (evalplus v0.2.0): 378 problems.
        Mbpp,
    }
}

choice! {
    /// `--guest`: the interpreter the program runs in.
    GuestChoice => codefuel::runtime::GuestKind {
        /// RustPython 0.6 with codefuel's patches (the default).
        #[value(name = "rustpython")]
        RustPython,
        /// CPython 3.11 for WASI: CPython's own semantics and speed (2.3-4.8x native); needs
        /// a build with `--features cpython`.
        #[value(name = "cpython")]
        CPython,
    }
}

choice! {
    /// `--input-order`: the order in which a split's inputs are judged.
    InputOrderChoice => codefuel::evaluate::InputOrder {
        /// The dataset's order, as evalplus.
        Evalplus,
        /// Cheapest first (by the canonical solution's fuel): a failing sample usually fails
        /// on a cheap input, so fast check stops sooner. Verdicts differ from evalplus only
        /// when inputs share state or evalplus's whole-split budget runs out first.
        CheapestFirst,
    }
}

choice! {
    /// `--isolation`: how the tests of one code are kept apart.
    IsolationChoice => codefuel::matrix::Isolation {
        /// One sandbox per code: the code is parsed and compiled once, and its module body is
        /// executed again in a fresh namespace before each test. Changes a test makes to
        /// interpreter-wide state (an imported module's attributes, `builtins`, `sys`) are
        /// seen by the tests after it.
        Module,
        /// A fresh sandbox per (code, test): nothing at all is shared; slower.
        Fresh,
    }
}

choice! {
    /// `--strategy`: how codes are scored and paired.
    StrategyChoice => codefuel::prefs::Strategy {
        /// CodeDPO (arXiv 2410.05605): PageRank-like mutual scoring of codes and tests; a
        /// correctness pair (best vs worst) and an efficiency pair over the trusted tests.
        Codedpo,
        /// AceCoder (arXiv 2502.01718): pass rate over the tests the reference passes; every
        /// pair with high rate ≥ 0.8, gap ≥ 0.4 and low rate > 0.
        Acecoder,
        /// RRTF (PanGu-Coder2): rank by outcome class (syntax < runtime < partial < all
        /// pass), then fuel; the best code against each strictly worse one.
        Rrtf,
        /// CodeDPO ablation baseline: every test is trusted; score = tests passed;
        /// correctness pair plus an efficiency pair among the codes passing every test.
        AllTests,
        /// CodeDPO ablation baseline: most vs fewest tests passed; correctness pair only (the
        /// same pair as `all-tests`, without its efficiency pair).
        PassCount,
        /// Baseline: two distinct codes drawn at random (seeded, deterministic per problem).
        Random,
    }
}

choice! {
    /// `--format`: the record format of `codefuel pairs`.
    PairFormatChoice => codefuel::PairFormat {
        /// TRL DPO: {"prompt", "chosen", "rejected", "metadata"}.
        Dpo,
        /// TRL KTO: {"prompt", "completion", "label", "metadata"}, each paired code once.
        Kto,
    }
}
