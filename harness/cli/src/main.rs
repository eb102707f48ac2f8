//! The `codefuel` command line. Flags are defined here, each with its help text; the work is
//! done by [`commands`] over the `codefuel` library.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use codefuel::EvaluateRequest;
use codefuel::api::{DEFAULT_EVAL_MEMORY_MIB, DEFAULT_RUN_MEMORY_MIB};
use codefuel::evalplus::{DEFAULT_GT_FUEL_FACTOR, DEFAULT_MIN_FUEL, FuelPolicy};
use codefuel::runtime::{DEFAULT_FUEL, DEFAULT_TIMEOUT};
use commands::cache::{self, CacheArgs};
use commands::judge::{self, JudgeArgs};
use commands::matrix::{self, MatrixArgs};
use commands::pairs::{self, PairsArgs, ScoreArgs};
use commands::run::{self, exit_status};
use commands::sanitize::{self, SanitizeArgs};
use commands::serve::{self, ServeArgs};
use commands::speedup::{self, ProfileArgs, SpeedupArgs};
use commands::{DatasetChoice, GuestArgs, InputOrderChoice, RunnerArgs, evaluate};

mod commands;

#[derive(Parser)]
#[command(
    name = "codefuel",
    version,
    about = "Deterministic, sandboxed execution and evaluation of model-written Python.",
    long_about = "Deterministic, sandboxed execution and evaluation of model-written Python.\n\n\
        Programs run in RustPython (or, with --guest cpython, CPython 3.11) compiled to \
        WebAssembly under wasmtime: no host files, \
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
        #[arg(long, value_name = "MB", default_value_t = DEFAULT_RUN_MEMORY_MIB)]
        memory: u64,
        /// Wall-clock backstop in seconds (fuel is the real limit).
        #[arg(long, value_name = "S", default_value_t = DEFAULT_TIMEOUT.as_secs_f64())]
        timeout: f64,
        /// Print one JSON object (verdict, stdout, stderr, fuel, wall) instead of the output.
        #[arg(long)]
        json: bool,
        /// The interpreter.
        #[command(flatten)]
        guest: GuestArgs,
    },
    /// Evaluate samples on HumanEval+ or MBPP+ with evalplus 0.3.1's verdicts, plus fuel.
    #[command(
        long_about = "Evaluate samples on HumanEval+ (v0.1.10) or MBPP+ (v0.2.0).\n\n\
        Verdicts (pass/fail/timeout per base and plus split) follow evalplus 0.3.1; its \
        wall-clock time limits become fuel limits, so every run gives the same verdicts. \
        Results go to an evalplus-compatible JSON file next to the samples (or --output), \
        with fuel per sample and failure reasons added.\n\n\
        The dataset is read from --dataset-file, else HUMANEVAL_OVERRIDE_PATH / \
        MBPP_OVERRIDE_PATH, else the cache, else downloaded from the evalplus release."
    )]
    Evaluate {
        /// The benchmark.
        #[arg(long, value_enum, default_value_t = DatasetChoice::Humaneval)]
        dataset: DatasetChoice,
        /// Samples: a .jsonl of {"task_id", "solution"|"completion"} or a directory TASK_ID/N.py.
        #[arg(long, value_name = "PATH")]
        samples: PathBuf,
        /// A local copy of the problem set (.jsonl or .jsonl.gz) instead of the download.
        #[arg(long, value_name = "FILE")]
        dataset_file: Option<PathBuf>,
        /// Where to write the results JSON [default: SAMPLES_eval_results.json, as evalplus].
        #[arg(long, value_name = "FILE")]
        output: Option<PathBuf>,
        /// Run the base inputs only.
        #[arg(long)]
        base_only: bool,
        /// Run every input instead of stopping at the first failure; record each input's
        /// result and fuel in the output.
        #[arg(long)]
        test_details: bool,
        /// Smallest per-input fuel limit (evalplus's 1 s minimum time limit).
        #[arg(long, value_name = "N", default_value_t = DEFAULT_MIN_FUEL)]
        min_fuel: u64,
        /// Per-input fuel limit as a multiple of the canonical solution's fuel.
        #[arg(long, value_name = "F", default_value_t = DEFAULT_GT_FUEL_FACTOR)]
        gt_fuel_factor: f64,
        /// Memory cap of each run, in MiB.
        #[arg(long, value_name = "MB", default_value_t = DEFAULT_EVAL_MEMORY_MIB)]
        memory: u64,
        /// The order in which each split's inputs are judged.
        #[arg(long, value_enum, default_value_t = InputOrderChoice::CheapestFirst)]
        input_order: InputOrderChoice,
        /// Run evalplus's sanitizer on every sample first (as `codefuel sanitize`), for raw
        /// model outputs with prose, tests or a main block around the function.
        #[arg(long)]
        sanitize: bool,
        /// The interpreter.
        #[command(flatten)]
        guest: GuestArgs,
        /// Workers, cache and progress.
        #[command(flatten)]
        runner: RunnerArgs,
    },
    /// Judge programs on stdin/stdout, function-call or assert tests (RL and contest datasets),
    /// outside the programs' reach.
    #[command(
        long_about = "Judge programs on stdin/stdout, function-call or assert tests, as RL and \
        contest datasets test them.\n\n\
        Input: JSONL, one task per line, in any of these shapes (the program is \"code\", else \
        \"completion\", else \"solution\"):\n\
        - codefuel's: {\"id\", \"code\", \"tests\": {\"stdin_stdout\": [{\"input\", \"output\"}]}} \
        or {\"id\", \"code\", \"tests\": {\"fn_name\", \"calls\": [{\"args\": [..], \"expected\"}]}} \
        or {\"id\", \"code\", \"tests\": {\"asserts\": [\"assert f(1) == 2\", ..]}}\n\
        - APPS / TACO: \"input_output\", a JSON string with \"inputs\" and \"outputs\" lists \
        (with \"fn_name\": argument lists and return values)\n\
        - CodeContests: \"public_tests\", \"private_tests\", \"generated_tests\", each \
        {\"input\": [..], \"output\": [..]}\n\
        - LiveCodeBench: \"public_test_cases\", \"private_test_cases\" (decompressed), with \
        testtype stdin, or functional and \"metadata\": {\"func_name\"}\n\n\
        Each test runs the program in a fresh sandbox with its own fuel limit; the expected \
        output never enters the sandbox. stdout passes when it equals the expected output after \
        trailing whitespace on each line and trailing blank lines are dropped (--exact: byte \
        for byte). A call runs fn_name (or Solution().fn_name) on the arguments; its return \
        value travels back as JSON and passes when it equals the expected value as Python's == \
        would say (floats within 1e-6 + 1e-7 relative, as evalplus), or the only element of an \
        expected one-element list (APPS). Assert snippets run after the program in its \
        namespace, as codefuel matrix runs them: an assert's expressions are evaluated in the \
        program's session and compared outside it; a snippet of another shape runs in process \
        and its result says \"in_process\". Output: one line per task with each test's verdict \
        (pass, wrong_answer, exception, syntax_error, fuel_limit, memory, stack_overflow, crash, \
        skipped), \
        fuel and, on failure, the start of its stdout; pass_rate, all_passed, reward (1 when \
        all pass) and total fuel."
    )]
    Judge(JudgeArgs),
    /// Take the code out of raw model outputs as evalplus's sanitizer does (no code runs).
    #[command(
        long_about = "Take the code out of raw model outputs, as evalplus 0.3.1's \
        sanitizer (evalplus.sanitize) does; no code runs.\n\n\
        For each sample (a \"completion\" is put after the task's prompt and a newline, as \
        evalplus's script does): keep the longest span of lines that parses as Python 3.11 \
        (so prose and markdown fences around the code drop out); then keep only its imports \
        and the functions, classes and assignments the task's entry point reaches through \
        the names they use. Tests, prints, `if __name__ == \"__main__\"` blocks, decorated \
        definitions and functions without a return go, as in evalplus. A sample with no \
        code gets an empty solution and a warning. Output: the samples in order, each with \
        its sanitized \"solution\" and its other fields kept; `evaluate --sanitize` does the \
        same before judging."
    )]
    Sanitize(SanitizeArgs),
    /// Serve runs and rewards over HTTP: SandboxFusion's /run_code, /v1/judge, /v1/evaluate.
    #[command(long_about = "Serve sandboxed runs and rewards over HTTP.\n\n\
        Endpoints: POST /run_code (SandboxFusion's request and response: point verl's \
        reward_model.sandbox_fusion.url or the sandbox-fusion client at \
        http://HOST:PORT/run_code); POST /v1/judge (a task or {\"tasks\": [..]} in any shape \
        `codefuel judge` reads, with \"options\"); POST /v1/evaluate ({\"dataset\", \
        \"task_id\", \"solution\"|\"completion\"} or {\"dataset\", \"samples\": [..]}: \
        evalplus verdicts and fuel); GET /health; GET /metrics (Prometheus).\n\n\
        run_timeout seconds become fuel at 20 G per second, so a request always gets the same \
        verdict. Work runs on --jobs runner threads behind a queue of --max-queue; when it is \
        full, requests get 504 with Retry-After at once. Prints one line with the address \
        when ready; SIGINT or SIGTERM stops accepting, finishes the requests in flight and \
        exits 0.")]
    Serve(ServeArgs),
    /// Run every generated code against every generated test of each problem (the execution
    /// matrix that `pairs` and `score` read).
    #[command(
        long_about = "Run every generated code against every generated test of each problem.\n\n\
        Input: JSONL, one problem per line: {\"id\", \"prompt\", \"codes\": [..], \"tests\": \
        [..], \"entry_point\"?, \"reference\"?}. A test is a Python snippet (usually asserts) \
        run after the code, in its namespace. Each cell records pass / fail (AssertionError) \
        / error (exception type) / fuel_limit / memory / syntax_error / crash / skipped, and \
        the fuel the test used. Output: the problem plus its rows, one line per problem."
    )]
    Matrix(MatrixArgs),
    /// Build preference pairs (TRL DPO or KTO JSONL) from a matrix with one strategy.
    Pairs(PairsArgs),
    /// Score every code (and, for CodeDPO and AceCoder, every test) of each problem in a matrix.
    Score(ScoreArgs),
    /// Compare two sample sets' efficiency in fuel on the tasks both pass (deterministic).
    #[command(long_about = "Compare the efficiency of two sample sets in fuel.\n\n\
        On the tasks where both sets have a sample passing base and plus, each sample's fuel \
        over all plus inputs is compared: per-task speedup = baseline fuel / candidate fuel \
        (per-task means when a task has several passing samples). Prints the mean (with a \
        seeded bootstrap 95 % interval), geometric mean and median speedup and the share of \
        tasks at least 10 % faster or slower. Evaluation results next to the samples \
        (SAMPLES_eval_results.json) are reused when they match the samples, dataset, guest \
        and default limits; otherwise the samples are evaluated and the results written there.")]
    Speedup(SpeedupArgs),
    /// Each passing sample's fuel relative to the canonical solution on the same inputs.
    #[command(
        long_about = "Each passing sample's fuel relative to the canonical solution.\n\n\
        For every sample that passes base and plus, ratio = its fuel over all plus inputs / \
        the canonical solution's fuel on the same inputs (> 1: slower). Prints the overall \
        distribution, the distribution of per-task medians and a table of the slowest \
        solutions; --output writes every sample's and every task's figures as JSON. \
        Evaluation results next to the samples (SAMPLES_eval_results.json) are reused when \
        they match the samples, dataset, guest and default limits; otherwise the samples are \
        evaluated and the results written there."
    )]
    Profile(ProfileArgs),
    /// Show what the cache holds; with --prune, delete what this build cannot use.
    #[command(
        long_about = "Show what the cache directory holds and how big it is.\n\n\
        Compiled guests and ground-truth outputs belong to one guest build (the first 16 hex \
        digits of its SHA-256 are in their names); those of other builds are stale, since this \
        build never reads them. --prune deletes the stale entries. Downloaded datasets and \
        anything else are kept."
    )]
    Cache(CacheArgs),
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
            guest,
        } => run::execute(
            &file,
            stdin.as_deref(),
            guest.guest.into(),
            codefuel::RunRequest {
                fuel,
                memory_mib: memory,
                timeout_secs: timeout,
                ..Default::default()
            },
            json,
        ),
        Command::Evaluate {
            dataset,
            samples,
            dataset_file,
            output,
            base_only,
            test_details,
            min_fuel,
            gt_fuel_factor,
            memory,
            input_order,
            sanitize,
            guest,
            runner,
        } => evaluate::execute(
            &EvaluateRequest {
                dataset_file,
                base_only,
                test_details,
                policy: FuelPolicy {
                    min_fuel,
                    gt_factor: gt_fuel_factor,
                },
                memory_mib: memory,
                input_order: input_order.into(),
                profile: std::env::var_os("CODEFUEL_PROFILE").is_some(),
                sanitize,
                ..EvaluateRequest::new(dataset.into(), samples)
            },
            output,
            guest,
            &runner,
        ),
        Command::Judge(args) => judge::execute(&args),
        Command::Sanitize(args) => sanitize::execute(&args),
        Command::Serve(args) => serve::execute(&args),
        Command::Matrix(args) => matrix::execute(&args),
        Command::Pairs(args) => pairs::pairs(&args),
        Command::Score(args) => pairs::score(&args),
        Command::Speedup(args) => speedup::speedup(&args),
        Command::Profile(args) => speedup::profile(&args),
        Command::Cache(args) => cache::execute(&args),
    };
    match result {
        Ok(status) => ExitCode::from(status as u8),
        Err(error) => {
            eprintln!("codefuel: error: {error:#}");
            ExitCode::from(exit_status::USAGE_OR_HOST_ERROR as u8)
        }
    }
}
