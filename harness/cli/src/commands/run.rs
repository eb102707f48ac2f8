//! `codefuel run FILE.py`: run one Python program in the sandbox and report its verdict.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};
use codefuel::runtime::GuestKind;
use codefuel::stats::group_thousands;
use codefuel::{Engine, EngineConfig, RunOutcome, RunRequest, Verdict};

/// Exit status of `codefuel run` for each verdict (documented in `--help` and the README).
pub mod exit_status {
    /// The program completed with exit code 0.
    pub const SUCCESS: i32 = 0;
    /// The program completed with a non-zero exit code (`sys.exit(n)`).
    pub const PROGRAM_FAILED: i32 = 1;
    /// codefuel itself failed: bad arguments, unreadable files, host errors.
    pub const USAGE_OR_HOST_ERROR: i32 = 2;
    /// An uncaught Python exception.
    pub const EXCEPTION: i32 = 3;
    /// The fuel budget ran out.
    pub const FUEL_EXHAUSTED: i32 = 4;
    /// The memory limit was hit.
    pub const MEMORY_LIMIT: i32 = 5;
    /// The wall-clock backstop fired.
    pub const TIMEOUT: i32 = 6;
    /// The guest's call stack overflowed.
    pub const STACK_OVERFLOW: i32 = 7;
    /// The guest crashed (trap or abort).
    pub const CRASH: i32 = 8;
}

/// The exit status that stands for `verdict`.
pub fn status_for(verdict: &Verdict) -> i32 {
    match verdict {
        Verdict::Completed { exit_code: 0 } => exit_status::SUCCESS,
        Verdict::Completed { .. } => exit_status::PROGRAM_FAILED,
        Verdict::Exception { .. } => exit_status::EXCEPTION,
        Verdict::FuelExhausted => exit_status::FUEL_EXHAUSTED,
        Verdict::MemoryLimit => exit_status::MEMORY_LIMIT,
        Verdict::Timeout => exit_status::TIMEOUT,
        Verdict::StackOverflow => exit_status::STACK_OVERFLOW,
        Verdict::Crash { .. } => exit_status::CRASH,
    }
}

/// Runs the command: `file` (`-`: stdin) with `stdin_file`'s bytes as its input; prints
/// the program's output and a summary line, or one JSON object with `json`. Returns the
/// process exit status.
pub fn execute(
    file: &Path,
    stdin_file: Option<&Path>,
    guest: GuestKind,
    limits: RunRequest,
    json: bool,
) -> Result<i32> {
    let source = read_source(file)?;
    let stdin = match stdin_file {
        Some(path) => std::fs::read(path)
            .with_context(|| format!("cannot read stdin file {}", path.display()))?,
        None => Vec::new(),
    };
    let request = RunRequest {
        source,
        stdin,
        ..limits
    };
    request.limits()?; // a bad limit is reported before the guest is loaded
    let engine = Engine::new(&EngineConfig {
        jobs: Some(1),
        guest,
        ..EngineConfig::default()
    })?;
    let outcome = engine.run(&request)?;
    if json {
        let mut out = std::io::stdout().lock();
        serde_json::to_writer(&mut out, &outcome)?;
        writeln!(out)?;
    } else {
        std::io::stdout().write_all(&outcome.stdout)?;
        std::io::stdout().flush()?;
        std::io::stderr().write_all(&outcome.stderr)?;
        eprintln!("{}", summary_line(&outcome));
    }
    Ok(status_for(&outcome.verdict))
}

fn read_source(file: &Path) -> Result<String> {
    let bytes = if file.as_os_str() == "-" {
        let mut buf = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin(), &mut buf)
            .context("cannot read the program from stdin")?;
        buf
    } else {
        std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?
    };
    String::from_utf8(bytes).with_context(|| format!("{} is not UTF-8 text", file.display()))
}

/// One line: verdict, fuel and wall time (plus truncation notes).
pub fn summary_line(outcome: &RunOutcome) -> String {
    let verdict = match &outcome.verdict {
        Verdict::Completed { exit_code } => format!("completed (exit {exit_code})"),
        Verdict::Exception {
            type_name, message, ..
        } if message.is_empty() => format!("exception {type_name}"),
        Verdict::Exception {
            type_name, message, ..
        } => format!("exception {type_name}: {}", first_line(message)),
        Verdict::Crash { message } => format!("crash: {message}"),
        other => other.name().replace('_', " "),
    };
    let mut line = format!(
        "codefuel: {verdict} | fuel {} | wall {:.1} ms",
        group_thousands(outcome.fuel),
        outcome.wall.as_secs_f64() * 1e3
    );
    if outcome.stdout_truncated {
        line.push_str(" | stdout truncated");
    }
    if outcome.stderr_truncated {
        line.push_str(" | stderr truncated");
    }
    line
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_verdict_has_its_own_status() {
        let verdicts = [
            Verdict::Completed { exit_code: 0 },
            Verdict::Completed { exit_code: 3 },
            Verdict::Exception {
                type_name: "E".into(),
                message: String::new(),
                traceback: String::new(),
            },
            Verdict::FuelExhausted,
            Verdict::MemoryLimit,
            Verdict::Timeout,
            Verdict::StackOverflow,
            Verdict::Crash {
                message: String::new(),
            },
        ];
        let mut statuses: Vec<i32> = verdicts.iter().map(status_for).collect();
        statuses.push(exit_status::USAGE_OR_HOST_ERROR);
        let mut unique = statuses.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), statuses.len());
        assert_eq!(status_for(&Verdict::Completed { exit_code: 0 }), 0);
    }
}
