//! The CLI subcommands, one module each, and the flags several of them share.

use std::path::PathBuf;

use anyhow::Result;
use codefuel_runtime::{KEEP_RESIDENT, Sandbox, SandboxConfig, default_cache_dir};

use crate::parallel::default_jobs;

pub mod cache;
pub mod evaluate;
pub mod matrix;
pub mod pairs;
pub mod run;
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
    /// `--cache-dir`, or the default cache directory.
    pub fn cache_dir(&self) -> PathBuf {
        self.cache_dir.clone().unwrap_or_else(default_cache_dir)
    }

    /// `--jobs`, or all cores; at least 1.
    pub fn jobs(&self) -> usize {
        self.jobs.unwrap_or_else(default_jobs).max(1)
    }
}

/// The sandbox of a command: compiled guest cached in `cache_dir`, and an instance slot for
/// each of `jobs` workers (whose memory is reset in place only when runs overlap).
pub fn sandbox(cache_dir: PathBuf, jobs: usize) -> Result<Sandbox> {
    let defaults = SandboxConfig::default();
    Sandbox::with_config(&SandboxConfig {
        cache_dir: Some(cache_dir),
        max_concurrent_runs: u32::try_from(jobs)
            .unwrap_or(u32::MAX)
            .max(defaults.max_concurrent_runs),
        keep_resident_bytes: if jobs > 1 { KEEP_RESIDENT } else { 0 },
        ..defaults
    })
}
