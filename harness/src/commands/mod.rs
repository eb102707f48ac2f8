//! The CLI subcommands, one module each.

pub mod evaluate;
pub mod matrix;
pub mod pairs;
pub mod run;
pub mod speedup;
