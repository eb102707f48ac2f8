//! The library's error type: what a front end shows a user when an operation cannot be done.
//!
//! Three kinds, because a front end treats them differently:
//! - [`Error::Input`]: the caller's request or files are wrong (a missing file, malformed
//!   JSONL, an unknown task id, a flag out of range). The message says what and where; an
//!   HTTP front end answers 400, the CLI exits with status 2.
//! - [`Error::Sandbox`]: the sandbox itself could not be set up (the guest would not compile,
//!   the cache directory is unusable).
//! - [`Error::Internal`]: anything else; a bug or the host failing (disk full).
//!
//! What a *program* does is never an error: exceptions, fuel exhaustion, memory, crashes are
//! verdicts inside the results. Inside the library, code uses `anyhow` with context; an input
//! problem is marked with [`bad_input`] where it is found, and [`Error::from_anyhow`] sorts
//! the chain at the boundary.

use std::fmt;

/// The error of every library entry point.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The request or its files are wrong; the message says how to fix it.
    #[error("{0}")]
    Input(String),
    /// The sandbox could not be set up (its message says what failed).
    #[error(transparent)]
    Sandbox(codefuel_runtime::Error),
    /// Anything else (a bug, or the host failing); the message carries the context chain.
    #[error("{0}")]
    Internal(String),
}

/// A runtime error is [`Error::Sandbox`], except the ones the caller causes and can fix by
/// changing the request (a memory limit below what the guest itself starts with) are
/// [`Error::Input`]: an HTTP 400, not a 500. A guest the binary was built without stays a
/// sandbox error: it is how codefuel was installed, not what was asked.
impl From<codefuel_runtime::Error> for Error {
    fn from(error: codefuel_runtime::Error) -> Self {
        match error {
            codefuel_runtime::Error::MemoryBelowGuest { .. } => Error::Input(error.to_string()),
            other => Error::Sandbox(other),
        }
    }
}

/// `Result` with the library's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Marks an `anyhow` chain as the caller's fault (see [`bad_input`]).
#[derive(Debug)]
pub struct BadInput(pub String);

impl fmt::Display for BadInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for BadInput {}

/// An `anyhow` error that [`Error::from_anyhow`] reports as [`Error::Input`].
pub fn bad_input(message: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(BadInput(message.into()))
}

/// `bail!` for input errors: returns `Err(bad_input(format!(...)))`.
#[macro_export]
#[doc(hidden)]
macro_rules! bail_input {
    ($($arg:tt)*) => {
        return Err($crate::error::bad_input(format!($($arg)*)))
    };
}

impl Error {
    /// Sorts an internal `anyhow` error: [`Error::Input`] when any link of its chain is a
    /// [`BadInput`] or a file that could not be found or read; [`Error::Sandbox`] when it is
    /// a runtime error; else [`Error::Internal`]. The message keeps the whole chain.
    pub fn from_anyhow(error: anyhow::Error) -> Self {
        let message = format!("{error:#}");
        if error.chain().any(|e| e.is::<BadInput>() || is_user_io(e)) {
            return Error::Input(message);
        }
        match error.downcast::<codefuel_runtime::Error>() {
            Ok(runtime) => Error::from(runtime),
            Err(_) => Error::Internal(message),
        }
    }

    /// Whether the caller can fix this by changing the request.
    pub fn is_input(&self) -> bool {
        matches!(self, Error::Input(_))
    }
}

impl From<anyhow::Error> for Error {
    fn from(error: anyhow::Error) -> Self {
        Error::from_anyhow(error)
    }
}

/// File errors a user causes: a path that does not exist, is not allowed, or is a directory.
fn is_user_io(e: &(dyn std::error::Error + 'static)) -> bool {
    e.downcast_ref::<std::io::Error>().is_some_and(|io| {
        matches!(
            io.kind(),
            std::io::ErrorKind::NotFound
                | std::io::ErrorKind::PermissionDenied
                | std::io::ErrorKind::IsADirectory
                | std::io::ErrorKind::NotADirectory
                | std::io::ErrorKind::InvalidData
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::Context;

    #[test]
    fn sorts_input_from_internal() {
        let missing = std::fs::read("/nonexistent/codefuel/file")
            .context("cannot read samples")
            .unwrap_err();
        let e = Error::from_anyhow(missing);
        assert!(e.is_input(), "{e:?}");
        assert!(e.to_string().starts_with("cannot read samples: "), "{e}");

        let marked = Error::from_anyhow(bad_input("--damping must be in (0, 1]").context("pairs"));
        assert!(marked.is_input());
        assert_eq!(marked.to_string(), "pairs: --damping must be in (0, 1]");

        let other = Error::from_anyhow(anyhow::anyhow!("disk full"));
        assert!(matches!(other, Error::Internal(_)), "{other:?}");
    }
}
