//! What a run returns (the verdict, captured output, fuel and wall time), and what one
//! session call returns ([`CallOutcome`]).

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// How a run ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum Verdict {
    /// The program ran to its end (or called `sys.exit`) with this exit code.
    Completed {
        /// Process-style exit code: 0 on success, the `sys.exit` argument otherwise.
        exit_code: i32,
    },
    /// An uncaught Python exception ended the program.
    Exception {
        /// The exception's class name, e.g. `ZeroDivisionError`.
        #[serde(rename = "type")]
        type_name: String,
        /// `str()` of the exception.
        message: String,
        /// The traceback as Python would print it.
        traceback: String,
    },
    /// The fuel budget ran out (the deterministic time limit).
    FuelExhausted,
    /// The guest tried to grow its memory past the memory limit.
    MemoryLimit,
    /// The wall-clock backstop interrupted the run.
    Timeout,
    /// The guest exhausted its call stack.
    StackOverflow,
    /// The guest trapped or aborted for another reason.
    Crash {
        /// What the trap or the guest said.
        message: String,
    },
}

impl Verdict {
    /// Short stable name of the verdict, as used in summaries and JSON.
    pub fn name(&self) -> &'static str {
        match self {
            Verdict::Completed { .. } => "completed",
            Verdict::Exception { .. } => "exception",
            Verdict::FuelExhausted => "fuel_exhausted",
            Verdict::MemoryLimit => "memory_limit",
            Verdict::Timeout => "timeout",
            Verdict::StackOverflow => "stack_overflow",
            Verdict::Crash { .. } => "crash",
        }
    }

    /// True when the program completed with exit code 0.
    pub fn is_success(&self) -> bool {
        matches!(self, Verdict::Completed { exit_code: 0 })
    }
}

/// Everything a run produced.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunOutcome {
    /// How the run ended.
    #[serde(flatten)]
    pub verdict: Verdict,
    /// Captured stdout (at most the limit's `stdout_bytes`).
    #[serde(with = "lossy_string")]
    pub stdout: Vec<u8>,
    /// Captured stderr (at most the limit's `stderr_bytes`).
    #[serde(with = "lossy_string")]
    pub stderr: Vec<u8>,
    /// True when stdout went past its cap and was cut.
    pub stdout_truncated: bool,
    /// True when stderr went past its cap and was cut.
    pub stderr_truncated: bool,
    /// Fuel consumed by the whole run, sandbox start-up included. Deterministic.
    pub fuel: u64,
    /// Wall time of the run on this machine. Not deterministic.
    #[serde(with = "duration_secs")]
    pub wall: Duration,
    /// The files of the run's [`Workspace`](crate::Workspace) it asked for (`fetch`) that
    /// existed when the program was over, path -> contents; serialized as base64.
    #[serde(
        default,
        skip_serializing_if = "BTreeMap::is_empty",
        with = "base64_files"
    )]
    pub files: BTreeMap<String, Vec<u8>>,
}

mod lossy_string {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&String::from_utf8_lossy(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        Ok(String::deserialize(d)?.into_bytes())
    }
}

/// File contents as base64 strings (standard alphabet, padded), as SandboxFusion sends them.
pub mod base64_files {
    use std::collections::BTreeMap;

    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;
    use serde::{Deserialize, Deserializer, Serializer};

    /// Serializes each file's contents as base64.
    pub fn serialize<S: Serializer>(
        files: &BTreeMap<String, Vec<u8>>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        s.collect_map(
            files
                .iter()
                .map(|(name, data)| (name, STANDARD.encode(data))),
        )
    }

    /// Reads base64 contents back.
    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<BTreeMap<String, Vec<u8>>, D::Error> {
        BTreeMap::<String, String>::deserialize(d)?
            .into_iter()
            .map(|(name, data)| {
                let bytes = STANDARD.decode(data.as_bytes()).map_err(|e| {
                    serde::de::Error::custom(format!("file {name:?}: invalid base64: {e}"))
                })?;
                Ok((name, bytes))
            })
            .collect()
    }
}

mod duration_secs {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(d.as_secs_f64())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        Ok(Duration::from_secs_f64(f64::deserialize(d)?))
    }
}

/// What one session call returned (see [`crate::Session::call`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallOutcome {
    /// The guest's response, or how the call ended without one (a trap, an exit, a crash).
    /// After an `Err` the session is over: later calls fail at once.
    pub result: Result<Vec<u8>, Verdict>,
    /// Fuel the call consumed, measured by the host (its budget, when it ran out).
    pub fuel: u64,
}
