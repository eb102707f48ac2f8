//! `codefuel serve`: the HTTP service (crate `codefuel-server`) with its flags.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{Context, Result};
use codefuel::DatasetKind;
use codefuel::parallel::default_jobs;
use codefuel::runtime::GuestKind;
use codefuel_server::ServerConfig;
use codefuel_server::limits::{Caps, DEFAULT_MAX_QUEUE};

use super::GuestArgs;

/// Flags of `codefuel serve`.
#[derive(Clone, Debug, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on (loopback by default; port 0 picks a free port).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    pub bind: SocketAddr,
    /// Runner threads: programs run at once [default: all cores].
    #[arg(long, short = 'j', value_name = "N")]
    pub jobs: Option<usize>,
    /// Jobs that may wait for a runner thread; when the queue is full, requests get 504
    /// with Retry-After (verl and the sandbox-fusion client retry).
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MAX_QUEUE)]
    pub max_queue: usize,
    /// A file holding the token every request must bring as `Authorization: Bearer TOKEN`
    /// (/health stays open for probes).
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<PathBuf>,
    /// Cache directory for the compiled guest, datasets and expected outputs
    /// [default: $CODEFUEL_CACHE_DIR or ~/.cache/codefuel].
    #[arg(long, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
    /// HumanEval+ file for /v1/evaluate (else HUMANEVAL_OVERRIDE_PATH, the cache, a download).
    #[arg(long, value_name = "FILE")]
    pub humaneval_file: Option<PathBuf>,
    /// MBPP+ file for /v1/evaluate (else MBPP_OVERRIDE_PATH, the cache, a download).
    #[arg(long, value_name = "FILE")]
    pub mbpp_file: Option<PathBuf>,
    /// Most fuel one run or test may get; larger budgets are cut [default: 1.2 T, 60 s at
    /// 20 G per second].
    #[arg(long, value_name = "N")]
    pub max_fuel: Option<u64>,
    /// Most memory a run may ask for, in MiB [default: the sandbox's maximum].
    #[arg(long, value_name = "MB")]
    pub max_memory: Option<u64>,
    /// Largest request body in bytes (413 above) [default: 64 MiB].
    #[arg(long, value_name = "BYTES")]
    pub max_body_bytes: Option<usize>,
    /// Most tests in one judged task [default: 1000].
    #[arg(long, value_name = "N")]
    pub max_tests: Option<usize>,
    /// Most tasks or samples in one batch request [default: 256].
    #[arg(long, value_name = "N")]
    pub max_batch: Option<usize>,
    /// The interpreter every request's programs run in (one per server; /health says which).
    #[command(flatten)]
    pub guest: GuestArgs,
}

/// Runs the service until SIGINT or SIGTERM; returns the exit status (0 after a graceful
/// shutdown).
pub fn execute(args: &ServeArgs) -> Result<i32> {
    let token = match &args.token_file {
        Some(path) => {
            let token = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read the token file {}", path.display()))?;
            let token = token.trim().to_owned();
            if token.is_empty() {
                return Err(codefuel::Error::Input(format!(
                    "the token file {} is empty",
                    path.display()
                ))
                .into());
            }
            Some(token)
        }
        None => None,
    };
    let defaults = Caps::default();
    let caps = Caps {
        max_fuel: args.max_fuel.unwrap_or(defaults.max_fuel).max(1),
        max_memory_mib: args.max_memory.unwrap_or(defaults.max_memory_mib).max(1),
        max_body_bytes: args.max_body_bytes.unwrap_or(defaults.max_body_bytes),
        max_tests: args.max_tests.unwrap_or(defaults.max_tests),
        max_batch: args.max_batch.unwrap_or(defaults.max_batch),
        ..defaults
    };
    let mut dataset_files = Vec::new();
    if let Some(path) = &args.humaneval_file {
        dataset_files.push((DatasetKind::Humaneval, path.clone()));
    }
    if let Some(path) = &args.mbpp_file {
        dataset_files.push((DatasetKind::Mbpp, path.clone()));
    }
    let jobs = args.jobs.unwrap_or_else(default_jobs).max(1);
    let guest: GuestKind = args.guest.guest.into();
    let config = ServerConfig {
        bind: args.bind,
        guest,
        jobs,
        max_queue: args.max_queue,
        token,
        cache_dir: args.cache_dir.clone(),
        dataset_files,
        caps,
    };
    let max_queue = args.max_queue;
    codefuel_server::run(config, |addr| {
        println!(
            "codefuel serve: listening on http://{addr} ({jobs} runner threads, queue {max_queue}, guest {})",
            guest.name()
        );
        let _ = std::io::stdout().flush();
    })?;
    eprintln!("codefuel serve: stopped");
    Ok(0)
}
