//! The `codefuel` command line. Flags are defined here, each with its help text; the work is
//! done by `codefuel::commands`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use codefuel::commands::run::{self, RunArgs, exit_status};
use codefuel::runtime::DEFAULT_FUEL;

#[derive(Parser)]
#[command(
    name = "codefuel",
    version,
    about = "Deterministic, sandboxed execution and evaluation of model-written Python.",
    long_about = "Deterministic, sandboxed execution and evaluation of model-written Python.\n\n\
        Programs run in RustPython compiled to WebAssembly under wasmtime: no host files, \
        network or environment; capped memory; and fuel metering, an exact and repeatable \
        count of the work a program did, which is also its time limit."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run one Python program in the sandbox and print its output, verdict, fuel and wall time.
    #[command(after_help = "Exit status: 0 the program completed with exit code 0; \
        1 it exited non-zero (sys.exit); 2 codefuel itself failed (bad arguments, unreadable \
        file); 3 uncaught Python exception; 4 fuel exhausted; 5 memory limit; 6 wall-clock \
        timeout; 7 stack overflow; 8 guest crash.")]
    Run {
        /// The Python file to run (`-` reads the program from stdin).
        file: PathBuf,
        /// File whose contents the program reads as its standard input.
        #[arg(long, value_name = "FILE")]
        stdin: Option<PathBuf>,
        /// Fuel budget: the deterministic time limit (default 100 G, tens of seconds of work).
        #[arg(long, value_name = "N", default_value_t = DEFAULT_FUEL)]
        fuel: u64,
        /// Memory cap in MiB; the guest can never take more.
        #[arg(long, value_name = "MB", default_value_t = 1024)]
        memory: u64,
        /// Wall-clock backstop in seconds (fuel is the real limit).
        #[arg(long, value_name = "S", default_value_t = 60.0)]
        timeout: f64,
        /// Print one JSON object (verdict, stdout, stderr, fuel, wall) instead of the output.
        #[arg(long)]
        json: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run {
            file,
            stdin,
            fuel,
            memory,
            timeout,
            json,
        } => run::execute(&RunArgs {
            file,
            stdin,
            fuel,
            memory_mib: memory,
            timeout_secs: timeout,
            json,
        }),
    };
    match result {
        Ok(status) => ExitCode::from(status as u8),
        Err(error) => {
            eprintln!("codefuel: error: {error:#}");
            ExitCode::from(exit_status::USAGE_OR_HOST_ERROR as u8)
        }
    }
}
