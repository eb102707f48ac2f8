//! The CLI subcommands, one module each.

pub mod run;
