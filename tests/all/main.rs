//! Integration tests of the sandbox: one binary, one module per concern.

#[cfg(feature = "cpython")]
mod cpython;
mod determinism;
mod isolation;
mod limits;
mod python;
mod sessions;
mod workspace;
