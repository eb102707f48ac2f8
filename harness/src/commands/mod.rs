//! The CLI subcommands, one module each.

pub mod evaluate;
pub mod run;
