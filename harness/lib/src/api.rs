//! The library's entry points: owned, serde-serializable requests in, typed results out.
//!
//! Every front end calls these and nothing below them: the `codefuel` CLI (which adds flags,
//! progress bars and printing), and the HTTP server and Python bindings to come. An
//! [`Engine`] holds what is expensive to make once (the compiled guest, its instance pool)
//! and runs [`run`](Engine::run), [`evaluate`](Engine::evaluate),
//! [`matrix`](Engine::matrix), [`speedup`](Engine::speedup) and
//! [`profile`](Engine::profile); [`pairs`] and [`score`] only read a matrix and need no
//! sandbox. Long operations report through a [`Progress`]; failures are an [`Error`] that
//! says whether the request was at fault. What a program does is never an error: it is a
//! verdict inside the result.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context;
use codefuel_runtime::{
    DEFAULT_FUEL, DEFAULT_MEMORY_BYTES, DEFAULT_TIMEOUT, GuestKind, Limits, MAX_MEMORY_BYTES,
    Program, RunOutcome, Sandbox, SandboxConfig, Workspace, default_cache_dir,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::dataset::{Dataset, DatasetKind};
use crate::efficiency::{self, ProfileReport, SampleFuel, SpeedupReport};
use crate::error::{Error, Result, bad_input};
use crate::evalplus::FuelPolicy;
use crate::evaluate::{EvalOptions, InputOrder, SampleResult};
use crate::judge::{self, JudgeOptions, JudgeResult, JudgeTask};
use crate::matrix::{MatrixOptions, MatrixProblem, ProblemMatrix, problem_matrix_with};
use crate::prefs::{PairKind, PairOptions, Strategy};
use crate::progress::Progress;
use crate::report::{ReportContext, ResultsFile};
use crate::samples::{Samples, match_samples};
use crate::sanitize::sanitize_raw;
use crate::{driver, groundtruth, parallel, prefs, report};

/// Default memory cap of `run` and `matrix`, in MiB (the runtime's default).
pub const DEFAULT_RUN_MEMORY_MIB: u64 = DEFAULT_MEMORY_BYTES >> 20;

/// The most memory a wasm32 guest can address, in MiB: every memory cap is clamped to it.
pub const MAX_MEMORY_MIB: u64 = MAX_MEMORY_BYTES >> 20;

/// Default memory cap of an evaluation run, in MiB: all a guest can address, so no canonical
/// solution runs short (evalplus sets no memory limit of its own that a sample could hit
/// first). The efficiency commands evaluate with it too.
pub const DEFAULT_EVAL_MEMORY_MIB: u64 = MAX_MEMORY_MIB;

/// How an [`Engine`] is set up.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct EngineConfig {
    /// Cache of the compiled guest, datasets and expected outputs [default:
    /// `$CODEFUEL_CACHE_DIR`, else `~/.cache/codefuel`].
    pub cache_dir: Option<PathBuf>,
    /// Worker threads of parallel operations [default: all cores].
    pub jobs: Option<usize>,
    /// The interpreter programs run in, for every entry point [default: RustPython]. Results
    /// record it and its build ([`Engine::guest`], [`Engine::guest_sha256`]).
    pub guest: GuestKind,
}

/// The sandbox and settings every entry point runs with. Make one and keep it: creating it
/// loads (the first time on a machine: compiles) the guest.
pub struct Engine {
    sandbox: Sandbox,
    guest_sha256: &'static str,
    cache_dir: PathBuf,
    jobs: usize,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("guest", &self.guest())
            .field("cache_dir", &self.cache_dir)
            .field("jobs", &self.jobs)
            .finish_non_exhaustive()
    }
}

impl Engine {
    /// An engine with `config`: the compiled guest cached in its cache directory and an
    /// instance slot for each worker, whose memory is reset in place after each run.
    ///
    /// ```no_run
    /// let engine = codefuel::Engine::new(&codefuel::EngineConfig::default())?;
    /// # Ok::<(), codefuel::Error>(())
    /// ```
    pub fn new(config: &EngineConfig) -> Result<Self> {
        let cache_dir = config.cache_dir.clone().unwrap_or_else(default_cache_dir);
        let jobs = config.jobs.unwrap_or_else(parallel::default_jobs).max(1);
        let defaults = SandboxConfig::default();
        let sandbox = Sandbox::with_config(&SandboxConfig {
            guest: config.guest,
            cache_dir: Some(cache_dir.clone()),
            max_concurrent_runs: u32::try_from(jobs)
                .unwrap_or(u32::MAX)
                .max(defaults.max_concurrent_runs),
            ..defaults
        })?;
        // The sandbox was built from the guest's module, so this build embeds it.
        let guest_sha256 = sandbox.guest().sha256().ok_or_else(|| {
            Error::Internal(format!(
                "no module for the {} guest",
                sandbox.guest().name()
            ))
        })?;
        Ok(Engine {
            sandbox,
            guest_sha256,
            cache_dir,
            jobs,
        })
    }

    /// The interpreter programs run in.
    pub fn guest(&self) -> GuestKind {
        self.sandbox.guest()
    }

    /// SHA-256 of the guest's module: the build that results (and their fuel) come from.
    pub fn guest_sha256(&self) -> &'static str {
        self.guest_sha256
    }

    /// The cache directory.
    pub fn cache_dir(&self) -> &Path {
        &self.cache_dir
    }

    /// Worker threads of parallel operations.
    pub fn jobs(&self) -> usize {
        self.jobs
    }

    /// The sandbox underneath, for callers that drive sessions themselves.
    pub fn sandbox(&self) -> &Sandbox {
        &self.sandbox
    }

    /// Runs one program; its verdict (exception, fuel exhausted, ...) is in the outcome.
    ///
    /// ```
    /// # let engine = codefuel::Engine::new(&Default::default())?;
    /// let outcome = engine.run(&codefuel::RunRequest::new("print(6 * 7)"))?;
    /// assert_eq!(outcome.stdout, b"42\n");
    /// assert!(outcome.verdict.is_success());
    /// # Ok::<(), codefuel::Error>(())
    /// ```
    pub fn run(&self, request: &RunRequest) -> Result<RunOutcome> {
        let limits = request.limits()?;
        let mut program =
            Program::new(request.source.as_str()).with_stdin(request.stdin.as_slice());
        program.workspace = request.workspace.clone();
        Ok(self.sandbox.run(program, &limits)?)
    }

    /// Loads a problem set: `file`, else the evalplus override variable, else the cache, else
    /// a download (announced through `progress`).
    pub fn dataset(
        &self,
        kind: DatasetKind,
        file: Option<&Path>,
        progress: &dyn Progress,
    ) -> Result<Dataset> {
        Ok(Dataset::resolve(kind, file, &self.cache_dir, progress)?)
    }

    /// Evaluates samples on HumanEval+ or MBPP+ with evalplus 0.3.1's verdicts, plus fuel.
    /// Warnings (samples of unknown tasks, tasks without samples) go to `progress`.
    ///
    /// ```
    /// use codefuel::samples::{SampleRecord, Samples};
    /// use codefuel::{DatasetKind, Engine, EvaluateRequest, evalplus::Status, progress::Silent};
    /// let engine = Engine::new(&Default::default())?;
    /// // Samples from a file (`EvaluateRequest::new(kind, "samples.jsonl")`) or given directly:
    /// let sample = SampleRecord {
    ///     task_id: "Demo/0".into(),
    ///     solution: None,
    ///     completion: Some("    return a - b\n".into()), // wrong: Demo/0 adds
    /// };
    /// let mut request = EvaluateRequest::new(DatasetKind::Humaneval, Samples::Inline(vec![sample]));
    /// request.dataset_file = Some("../../examples/demo/problems.jsonl".into());
    /// let evaluation = engine.evaluate(&request, &Silent)?;
    /// assert_eq!(evaluation.results.eval["Demo/0"][0].base_status, Some(Status::Fail));
    /// print!("{}", evaluation.summary);
    /// # Ok::<(), codefuel::Error>(())
    /// ```
    pub fn evaluate(
        &self,
        request: &EvaluateRequest,
        progress: &dyn Progress,
    ) -> Result<Evaluation> {
        Ok(self.evaluate_inner(request, progress)?)
    }

    fn evaluate_inner(
        &self,
        request: &EvaluateRequest,
        progress: &dyn Progress,
    ) -> anyhow::Result<Evaluation> {
        let dataset = Dataset::resolve(
            request.dataset,
            request.dataset_file.as_deref(),
            &self.cache_dir,
            progress,
        )?;
        let mut raw = request.samples.load()?;
        if request.sanitize {
            sanitize_raw(&mut raw, &dataset, self.jobs, progress)?;
        }
        let loaded = match_samples(raw, &dataset);
        let name = format!("{} {}", dataset.kind, dataset.kind.version());
        for (task, n) in &loaded.unknown_tasks {
            progress.note(&format!(
                "warning: {n} sample(s) for {task}, which is not in {name}; skipped"
            ));
        }
        if loaded.samples.is_empty() {
            return Err(bad_input(format!(
                "no sample in {} matches a task of {name}",
                request.samples.describe()
            )));
        }
        let covered: std::collections::HashSet<&str> =
            loaded.samples.iter().map(|s| s.task_id.as_str()).collect();
        let missing = dataset.problems.len() - covered.len();
        if missing > 0 {
            progress.note(&format!(
                "warning: {missing} of {} tasks have no samples; pass@k covers the {} that do",
                dataset.problems.len(),
                covered.len()
            ));
        }
        let memory_mib = request.memory_mib.min(MAX_MEMORY_MIB);
        let task_ids: Vec<&str> = covered.iter().copied().collect();
        let truth = self
            .ground_truth(&dataset, &task_ids, progress)
            .context("computing expected outputs")?;
        let options = EvalOptions {
            base_only: request.base_only,
            test_details: request.test_details,
            jobs: self.jobs,
            policy: request.policy,
            memory_bytes: memory_mib << 20,
            profile: request.profile,
            input_order: request.input_order,
        };
        let results = crate::evaluate::evaluate(
            &dataset,
            &truth,
            &loaded.samples,
            &self.sandbox,
            &options,
            progress,
        )?;
        let ctx = ReportContext {
            dataset: &dataset,
            guest: self.guest(),
            guest_sha256: self.guest_sha256,
            policy: request.policy,
            memory_mib,
            base_only: request.base_only,
            test_details: request.test_details,
            unknown_tasks: &loaded.unknown_tasks,
        };
        Ok(Evaluation {
            results: report::results_file(&ctx, &results),
            summary: report::summary(&ctx, &results),
            samples: results,
        })
    }

    /// The canonical solutions' outputs and fuel for `task_ids`: from this engine's cache,
    /// computed (and cached) for the tasks not there yet.
    fn ground_truth(
        &self,
        dataset: &Dataset,
        task_ids: &[&str],
        progress: &dyn Progress,
    ) -> anyhow::Result<groundtruth::GroundTruth> {
        groundtruth::load_or_compute(
            dataset,
            task_ids,
            &self.sandbox,
            &self.cache_dir,
            self.jobs,
            progress,
        )
    }

    /// The per-sample fuel of `samples` (evaluated with default limits, base and plus): from
    /// the results file at `results` when it was made from exactly these samples, dataset,
    /// guest and limits, else evaluated now and written there. Says which through `progress`.
    pub fn sample_fuels(
        &self,
        dataset: &Dataset,
        request: &EvaluateRequest,
        results: &Path,
        progress: &dyn Progress,
    ) -> Result<Vec<SampleFuel>> {
        Ok(self.sample_fuels_inner(dataset, request, results, progress)?)
    }

    fn sample_fuels_inner(
        &self,
        dataset: &Dataset,
        request: &EvaluateRequest,
        path: &Path,
        progress: &dyn Progress,
    ) -> anyhow::Result<Vec<SampleFuel>> {
        let raw = request.samples.load()?;
        let loaded = match_samples(raw, dataset);
        let mut expected: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for s in &loaded.samples {
            expected
                .entry(s.task_id.as_str())
                .or_default()
                .push(s.solution.as_str());
        }
        let name = request.samples.describe();
        if let Some(fuels) = ResultsFile::read(path).ok().and_then(|file| {
            efficiency::reusable(&file, request, dataset, self.guest_sha256, &expected)
        }) {
            progress.note(&format!(
                "{name}: reusing evaluation results {}",
                path.display()
            ));
            return Ok(fuels);
        }
        progress.note(&format!("{name}: evaluating"));
        let request = EvaluateRequest {
            base_only: false,
            ..request.clone()
        };
        let evaluation = self.evaluate_inner(&request, progress)?;
        evaluation.results.write(path)?;
        let fuels = efficiency::reusable(
            &evaluation.results,
            &request,
            dataset,
            self.guest_sha256,
            &expected,
        )
        .with_context(|| {
            format!(
                "the results just written to {} do not match the samples",
                path.display()
            )
        })?;
        progress.note(&format!("results: {}", path.display()));
        Ok(fuels)
    }

    /// Runs every code of each problem against every test (the execution matrix that
    /// [`pairs`] and [`score`] read). Problems are spread over the workers.
    ///
    /// ```
    /// use codefuel::{Engine, MatrixRequest, matrix::MatrixProblem, progress::Silent};
    /// let engine = Engine::new(&Default::default())?;
    /// let problem: MatrixProblem = serde_json::from_str(
    ///     r#"{"id": "add", "prompt": "", "codes": ["def add(a, b): return a + b"],
    ///         "tests": ["assert add(1, 2) == 3"]}"#,
    /// ).unwrap();
    /// let report = engine.matrix(&MatrixRequest::new(vec![problem]), &Silent)?;
    /// assert!(report.matrices[0].rows[0].cells[0].status.passed());
    /// # Ok::<(), codefuel::Error>(())
    /// ```
    pub fn matrix(&self, request: &MatrixRequest, progress: &dyn Progress) -> Result<MatrixReport> {
        if request.problems.is_empty() {
            return Err(Error::Input("no problems to run".into()));
        }
        for p in &request.problems {
            if p.codes.is_empty() || p.tests.is_empty() {
                progress.note(&format!(
                    "warning: problem {:?} has {} codes and {} tests; it gives no pairs",
                    p.id,
                    p.codes.len(),
                    p.tests.len()
                ));
            }
        }
        let mut options = request.options.clone();
        options.memory_bytes = options.memory_bytes.min(MAX_MEMORY_BYTES);
        let started = Instant::now();
        let worker = || driver::Worker::new(&self.sandbox);
        let matrices = crate::progress::stage(progress, "matrix", request.problems.len(), || {
            parallel::map_init(
                &request.problems,
                self.jobs,
                progress,
                worker,
                |worker, p| {
                    problem_matrix_with(worker, p, &options)
                        .with_context(|| format!("problem {:?}", p.id))
                },
            )
        });
        let matrices = matrices.into_iter().collect::<anyhow::Result<Vec<_>>>()?;
        Ok(MatrixReport {
            wall: started.elapsed(),
            jobs: self.jobs,
            matrices,
        })
    }

    /// Judges each task's program on its stdin/stdout, function-call or assert tests, outputs
    /// and return values compared on the host ([`crate::judge`]). Tasks are spread over the
    /// workers; results come back in order.
    ///
    /// ```
    /// use codefuel::judge::{Call, IoCase, JudgeTask, Tests};
    /// use codefuel::{Engine, JudgeRequest, progress::Silent};
    /// use serde_json::json;
    /// let engine = Engine::new(&Default::default())?;
    /// let stdin = JudgeTask {
    ///     id: "sum".into(),
    ///     code: "a, b = map(int, input().split())\nprint(a + b)".into(),
    ///     tests: Tests::StdinStdout {
    ///         stdin_stdout: vec![IoCase { input: "1 2\n".into(), output: "3\n".into() }],
    ///     },
    ///     prelude: String::new(),
    /// };
    /// let call = JudgeTask {
    ///     id: "add".into(),
    ///     code: "def add(a, b):\n    return a - b".into(),
    ///     tests: Tests::Calls {
    ///         fn_name: "add".into(),
    ///         calls: vec![Call { args: vec![json!(1), json!(2)], expected: json!(3) }],
    ///     },
    ///     prelude: String::new(),
    /// };
    /// let results = engine.judge(&JudgeRequest::new(vec![stdin, call]), &Silent)?;
    /// assert!(results[0].all_passed);
    /// assert_eq!(results[1].reward, 0.0);
    /// # Ok::<(), codefuel::Error>(())
    /// ```
    pub fn judge(
        &self,
        request: &JudgeRequest,
        progress: &dyn Progress,
    ) -> Result<Vec<JudgeResult>> {
        let worker = || driver::Worker::new(&self.sandbox);
        let results = crate::progress::stage(progress, "judging", request.tasks.len(), || {
            parallel::map_init(
                &request.tasks,
                self.jobs,
                progress,
                worker,
                |worker, task| {
                    judge::judge_task(&self.sandbox, worker, task, &request.options)
                        .map_err(|e| anyhow::anyhow!("task {:?}: {e}", task.id))
                },
            )
        });
        Ok(results.into_iter().collect::<anyhow::Result<Vec<_>>>()?)
    }

    /// Compares two sample sets' efficiency in fuel on the tasks both pass. Evaluation results
    /// next to the samples are reused when they match (see [`Engine::sample_fuels`]).
    ///
    /// ```no_run
    /// use codefuel::{DatasetKind, Engine, SpeedupRequest, progress::Silent};
    /// let engine = Engine::new(&Default::default())?;
    /// let report = engine.speedup(
    ///     &SpeedupRequest {
    ///         dataset: DatasetKind::Humaneval,
    ///         dataset_file: None,
    ///         baseline: "baseline.jsonl".into(),
    ///         candidate: "candidate.jsonl".into(),
    ///     },
    ///     &Silent,
    /// )?;
    /// println!("{} tasks, mean speedup {:.2}×", report.summary.tasks, report.summary.mean);
    /// # Ok::<(), codefuel::Error>(())
    /// ```
    pub fn speedup(
        &self,
        request: &SpeedupRequest,
        progress: &dyn Progress,
    ) -> Result<SpeedupReport> {
        let dataset = self.dataset(request.dataset, request.dataset_file.as_deref(), progress)?;
        let fuels = |samples: &Path| {
            let evaluate = EvaluateRequest {
                dataset_file: request.dataset_file.clone(),
                ..EvaluateRequest::new(request.dataset, samples.to_path_buf())
            };
            self.sample_fuels(
                &dataset,
                &evaluate,
                &report::default_results_path(samples),
                progress,
            )
        };
        let baseline = fuels(&request.baseline)?;
        let candidate = fuels(&request.candidate)?;
        efficiency::speedup_report(
            &dataset,
            request,
            self.guest(),
            self.guest_sha256,
            &baseline,
            &candidate,
        )
        .map_err(Error::from_anyhow)
    }

    /// Each passing sample's fuel relative to the canonical solution on the same inputs.
    ///
    /// ```no_run
    /// use codefuel::{DatasetKind, Engine, ProfileRequest, progress::Silent};
    /// let engine = Engine::new(&Default::default())?;
    /// let request = ProfileRequest {
    ///     dataset: DatasetKind::Mbpp,
    ///     dataset_file: None,
    ///     samples: "samples.jsonl".into(),
    /// };
    /// let report = engine.profile(&request, &Silent)?;
    /// for s in report.slowest(3) {
    ///     println!("{} #{}: {:.1}× the canonical fuel", s.task_id, s.completion_id, s.ratio);
    /// }
    /// # Ok::<(), codefuel::Error>(())
    /// ```
    pub fn profile(
        &self,
        request: &ProfileRequest,
        progress: &dyn Progress,
    ) -> Result<ProfileReport> {
        let dataset = self.dataset(request.dataset, request.dataset_file.as_deref(), progress)?;
        let evaluate = EvaluateRequest {
            dataset_file: request.dataset_file.clone(),
            ..EvaluateRequest::new(request.dataset, request.samples.clone())
        };
        let fuels = self.sample_fuels(
            &dataset,
            &evaluate,
            &report::default_results_path(&request.samples),
            progress,
        )?;
        let mut task_ids: Vec<&str> = fuels
            .iter()
            .filter(|s| s.passed)
            .map(|s| s.task_id.as_str())
            .collect();
        task_ids.dedup();
        if task_ids.is_empty() {
            return Err(Error::Input(format!(
                "no sample in {} passes base and plus: nothing to profile",
                request.samples.display()
            )));
        }
        // The canonical solution's fuel on the same plus inputs (cached by `evaluate`).
        let truth = self
            .ground_truth(&dataset, &task_ids, progress)
            .context("loading the canonical solutions' fuel")?;
        let canonical = |task: &str| -> u64 { truth.tasks[task].plus.fuel.iter().sum() };
        Ok(efficiency::profile_report(
            &dataset,
            request,
            self.guest(),
            self.guest_sha256,
            &fuels,
            &canonical,
        ))
    }
}

/// One program to run, with its limits.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RunRequest {
    /// The Python source.
    pub source: String,
    /// Bytes the program reads as its standard input.
    pub stdin: Vec<u8>,
    /// Fuel budget: the deterministic time limit.
    pub fuel: u64,
    /// Memory cap in MiB (clamped to [`MAX_MEMORY_MIB`]).
    pub memory_mib: u64,
    /// Wall-clock backstop in seconds (fuel is the real limit).
    pub timeout_secs: f64,
    /// An in-memory working directory for the program (files in, files back out in
    /// [`RunOutcome::files`]); `None`: no files at all.
    pub workspace: Option<Workspace>,
}

impl Default for RunRequest {
    fn default() -> Self {
        RunRequest {
            source: String::new(),
            stdin: Vec::new(),
            fuel: DEFAULT_FUEL,
            memory_mib: DEFAULT_RUN_MEMORY_MIB,
            timeout_secs: DEFAULT_TIMEOUT.as_secs_f64(),
            workspace: None,
        }
    }
}

impl RunRequest {
    /// `source` with the default limits and no stdin.
    pub fn new(source: impl Into<String>) -> Self {
        RunRequest {
            source: source.into(),
            ..RunRequest::default()
        }
    }

    /// This request with `stdin` as the program's standard input.
    pub fn with_stdin(mut self, stdin: impl Into<Vec<u8>>) -> Self {
        self.stdin = stdin.into();
        self
    }

    /// This request with a fuel budget of `fuel`.
    pub fn with_fuel(mut self, fuel: u64) -> Self {
        self.fuel = fuel;
        self
    }

    /// The sandbox limits this request asks for; an input error when they make no sense.
    pub fn limits(&self) -> Result<Limits> {
        if !(self.timeout_secs.is_finite() && self.timeout_secs > 0.0) {
            return Err(Error::Input(format!(
                "the timeout must be a positive number of seconds, got {}",
                self.timeout_secs
            )));
        }
        let timeout = Duration::try_from_secs_f64(self.timeout_secs)
            .map_err(|e| Error::Input(format!("timeout {}: {e}", self.timeout_secs)))?;
        Ok(Limits::default()
            .with_fuel(self.fuel)
            .with_memory_bytes(self.memory_mib.min(MAX_MEMORY_MIB) << 20)
            .with_timeout(timeout))
    }
}

/// An evaluation of samples on HumanEval+ or MBPP+.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EvaluateRequest {
    /// The benchmark.
    pub dataset: DatasetKind,
    /// A local copy of the problem set (`.jsonl` or `.jsonl.gz`) instead of the download.
    #[serde(default)]
    pub dataset_file: Option<PathBuf>,
    /// The samples: a path (a `.jsonl` of `{"task_id", "solution"|"completion"}` or a
    /// directory `TASK_ID/N.py`) or the samples themselves.
    pub samples: Samples,
    /// Run the base inputs only.
    #[serde(default)]
    pub base_only: bool,
    /// Run every input (not stopping at the first failure) and keep per-input figures.
    #[serde(default)]
    pub test_details: bool,
    /// Per-input fuel limits.
    #[serde(default)]
    pub policy: FuelPolicy,
    /// Memory cap of each run, in MiB (clamped to [`MAX_MEMORY_MIB`]).
    #[serde(default = "default_eval_memory")]
    pub memory_mib: u64,
    /// The order in which a split's inputs are judged.
    #[serde(default)]
    pub input_order: InputOrder,
    /// Note each split's wall time and fuel through the progress.
    #[serde(default)]
    pub profile: bool,
    /// Run evalplus's sanitizer on each sample first ([`crate::sanitize::sanitize_sample`]),
    /// as `evalplus.sanitize` before `evalplus.evaluate`.
    #[serde(default)]
    pub sanitize: bool,
}

fn default_eval_memory() -> u64 {
    DEFAULT_EVAL_MEMORY_MIB
}

impl EvaluateRequest {
    /// An evaluation of `samples` with the defaults (evalplus's limits, cheapest input first).
    pub fn new(dataset: DatasetKind, samples: impl Into<Samples>) -> Self {
        EvaluateRequest {
            dataset,
            dataset_file: None,
            samples: samples.into(),
            base_only: false,
            test_details: false,
            policy: FuelPolicy::default(),
            memory_mib: DEFAULT_EVAL_MEMORY_MIB,
            input_order: InputOrder::default(),
            profile: false,
            sanitize: false,
        }
    }
}

/// What an evaluation found.
#[derive(Clone, Debug)]
pub struct Evaluation {
    /// The results file (evalplus's format plus fuel).
    pub results: ResultsFile,
    /// The summary a person reads: coverage, pass@k, statuses and fuel.
    pub summary: String,
    /// Every sample's results, in sample order.
    pub samples: Vec<SampleResult>,
}

/// A matrix run: problems with their codes and tests, and the limits.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MatrixRequest {
    /// The problems.
    pub problems: Vec<MatrixProblem>,
    /// Limits and isolation.
    #[serde(default)]
    pub options: MatrixOptions,
}

impl MatrixRequest {
    /// `problems` with the default limits.
    pub fn new(problems: Vec<MatrixProblem>) -> Self {
        MatrixRequest {
            problems,
            options: MatrixOptions::default(),
        }
    }
}

/// The matrices of a run, with its wall time.
#[derive(Clone, Debug)]
pub struct MatrixReport {
    /// One matrix per problem, in request order.
    pub matrices: Vec<ProblemMatrix>,
    /// Wall time of the run.
    pub wall: Duration,
    /// Worker threads it ran on.
    pub jobs: usize,
}

/// Programs to judge on their tests, and how.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct JudgeRequest {
    /// The tasks.
    pub tasks: Vec<JudgeTask>,
    /// Limits and comparison.
    #[serde(default)]
    pub options: JudgeOptions,
}

impl JudgeRequest {
    /// `tasks` with the default options.
    pub fn new(tasks: Vec<JudgeTask>) -> Self {
        JudgeRequest {
            tasks,
            options: JudgeOptions::default(),
        }
    }
}

/// Efficiency comparison of two sample sets.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SpeedupRequest {
    /// The benchmark.
    pub dataset: DatasetKind,
    /// A local copy of the problem set.
    #[serde(default)]
    pub dataset_file: Option<PathBuf>,
    /// The baseline samples.
    pub baseline: PathBuf,
    /// The candidate samples.
    pub candidate: PathBuf,
}

/// Fuel profile of one sample set against the canonical solutions.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProfileRequest {
    /// The benchmark.
    pub dataset: DatasetKind,
    /// A local copy of the problem set.
    #[serde(default)]
    pub dataset_file: Option<PathBuf>,
    /// The samples.
    pub samples: PathBuf,
}

/// Output format of [`pairs`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PairFormat {
    /// TRL DPO: `{"prompt", "chosen", "rejected", "metadata"}`.
    #[default]
    Dpo,
    /// TRL KTO: `{"prompt", "completion", "label", "metadata"}`, each paired code once.
    Kto,
}

/// Preference pairs from matrices with one strategy.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PairsRequest {
    /// How codes are scored and paired.
    pub strategy: Strategy,
    /// The strategies' knobs.
    #[serde(default)]
    pub options: PairOptions,
    /// Record format.
    #[serde(default)]
    pub format: PairFormat,
}

/// The records [`pairs`] made, with counts.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PairsReport {
    /// The records (TRL DPO or KTO), in problem order.
    pub records: Vec<Value>,
    /// Problems read.
    pub problems: usize,
    /// Problems that gave at least one pair.
    pub with_pairs: usize,
    /// Problems without codes or tests (skipped).
    pub empty: usize,
    /// Correctness pairs.
    pub correctness: usize,
    /// Efficiency pairs.
    pub efficiency: usize,
}

/// Builds preference pairs from `matrices` (written by [`Engine::matrix`]).
///
/// ```
/// use codefuel::{PairsRequest, pairs, prefs::Strategy};
/// let request = PairsRequest {
///     strategy: Strategy::Codedpo,
///     options: Default::default(),
///     format: Default::default(),
/// };
/// let report = pairs(&[], &request)?;
/// assert_eq!(report.records.len(), 0);
/// # Ok::<(), codefuel::Error>(())
/// ```
pub fn pairs(matrices: &[ProblemMatrix], request: &PairsRequest) -> Result<PairsReport> {
    request.options.validate()?;
    let mut report = PairsReport {
        records: Vec::new(),
        problems: matrices.len(),
        with_pairs: 0,
        empty: 0,
        correctness: 0,
        efficiency: 0,
    };
    for m in matrices {
        if m.problem.codes.is_empty() || m.problem.tests.is_empty() {
            report.empty += 1;
            continue;
        }
        let scored = prefs::pairs(m, request.strategy, &request.options);
        let c = scored
            .pairs
            .iter()
            .filter(|p| p.kind == PairKind::Correctness)
            .count();
        report.correctness += c;
        report.efficiency += scored.pairs.len() - c;
        report.with_pairs += usize::from(!scored.pairs.is_empty());
        report.records.extend(match request.format {
            PairFormat::Dpo => prefs::trl_records(m, &scored),
            PairFormat::Kto => prefs::kto_records(m, &scored),
        });
    }
    Ok(report)
}

/// Scores every code (and, for CodeDPO and AceCoder, every test) of each problem: one
/// record per matrix.
///
/// ```
/// use codefuel::prefs::{PairOptions, Strategy};
/// let options = PairOptions { damping: 2.0, ..PairOptions::default() };
/// let error = codefuel::score(&[], Strategy::Acecoder, &options).unwrap_err();
/// assert!(error.is_input(), "a knob out of range is the caller's to fix");
/// ```
pub fn score(
    matrices: &[ProblemMatrix],
    strategy: Strategy,
    options: &PairOptions,
) -> Result<Vec<Value>> {
    options.validate()?;
    Ok(matrices
        .iter()
        .map(|m| prefs::score_record(m, strategy, options))
        .collect())
}
