//! Expected outputs: every canonical solution run in the sandbox on every input.
//!
//! As evalplus's `get_groundtruth`, but the outputs stay in the guest's own encoding
//! (marshal, or pickle where marshal cannot) and each input also gets its ground-truth fuel,
//! which sets its fuel limit. Results are cached per task in `<cache>/groundtruth/`, keyed by
//! the dataset content and the guest build: each task is computed once, when first needed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use codefuel_runtime::{Limits, Program, Sandbox, Table};
use serde::{Deserialize, Serialize};
use serde_bytes::ByteBuf;

use crate::dataset::{Dataset, Problem};
use crate::driver::{self, DRIVER_PROGRAM, Records};
use crate::parallel;

/// Per-input byte strings (marshalled by the guest), served to runs as a [`Table`].
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Items(pub Vec<ByteBuf>);

impl Table for Items {
    fn len(&self) -> usize {
        self.0.len()
    }

    fn item(&self, index: usize) -> Option<&[u8]> {
        self.0.get(index).map(|b| b.as_slice())
    }
}

/// Expected results of one split (base or plus) of one task.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SplitTruth {
    /// Each input after evalplus's deserialization, marshalled by the guest.
    pub inputs: Arc<Items>,
    /// Each canonical output, marshalled by the guest.
    pub expected: Arc<Items>,
    /// Fuel the canonical solution used on each input.
    pub fuel: Vec<u64>,
}

impl SplitTruth {
    /// The tables a check run reads: inputs (table 0) and expected outputs (table 1).
    pub fn tables(&self) -> [Arc<dyn Table>; 2] {
        [self.inputs.clone(), self.expected.clone()]
    }
}

/// Expected results of one task.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TaskTruth {
    /// The base inputs.
    pub base: SplitTruth,
    /// The plus inputs.
    pub plus: SplitTruth,
}

/// Expected results of a whole dataset, by task id.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct GroundTruth {
    /// Task id → its expected results.
    pub tasks: BTreeMap<String, TaskTruth>,
}

/// Which split of a task's inputs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Split {
    /// The original benchmark's inputs.
    Base = 0,
    /// evalplus's extra inputs.
    Plus = 1,
}

impl Split {
    /// `base` / `plus`.
    pub fn name(self) -> &'static str {
        match self {
            Split::Base => "base",
            Split::Plus => "plus",
        }
    }
}

impl TaskTruth {
    /// The expected results of `split`.
    pub fn split(&self, split: Split) -> &SplitTruth {
        match split {
            Split::Base => &self.base,
            Split::Plus => &self.plus,
        }
    }
}

/// Limits of a ground-truth run: generous, since canonical solutions are trusted.
fn ground_truth_limits() -> Limits {
    Limits::default()
        .with_fuel(2_000_000_000_000)
        .with_memory_bytes(4 << 30)
        .with_timeout(std::time::Duration::from_secs(1800))
}

/// The cache directory for this dataset content and guest build: one file per task.
pub fn cache_path(dataset: &Dataset, cache_dir: &Path) -> PathBuf {
    cache_dir.join("groundtruth").join(format!(
        "{}-{}-{}",
        dataset.kind,
        &dataset.content_sha256[..16],
        &codefuel_runtime::GUEST_SHA256[..16]
    ))
}

fn task_file(dir: &Path, task_id: &str) -> PathBuf {
    dir.join(format!("{}.bin", task_id.replace('/', "_")))
}

/// Loads the ground truth of `task_ids`, computing (and caching) the tasks not cached yet.
pub fn load_or_compute(
    dataset: &Dataset,
    task_ids: &[&str],
    sandbox: &Sandbox,
    cache_dir: &Path,
    jobs: usize,
) -> Result<GroundTruth> {
    let dir = cache_path(dataset, cache_dir);
    let mut truth = GroundTruth::default();
    let mut missing = Vec::new();
    for task_id in task_ids {
        let path = task_file(&dir, task_id);
        let cached = std::fs::read(&path)
            .ok()
            .and_then(|bytes| bincode::deserialize::<TaskTruth>(&bytes).ok());
        match cached {
            Some(task) => {
                truth.tasks.insert((*task_id).to_owned(), task);
            }
            None => missing.push(dataset.get(task_id).context("unknown task")?),
        }
    }
    if missing.is_empty() {
        return Ok(truth);
    }
    let computed = compute(dataset, &missing, sandbox, jobs)?;
    std::fs::create_dir_all(&dir)
        .with_context(|| format!("creating the ground-truth cache {}", dir.display()))?;
    for (task_id, task) in computed.tasks {
        let path = task_file(&dir, &task_id);
        let tmp = dir.join(format!(
            ".{}.{}.tmp",
            task_id.replace('/', "_"),
            std::process::id()
        ));
        std::fs::write(&tmp, bincode::serialize(&task)?)?;
        std::fs::rename(&tmp, &path).with_context(|| format!("writing {}", path.display()))?;
        truth.tasks.insert(task_id, task);
    }
    Ok(truth)
}

/// Runs the canonical solutions of `problems` on both splits.
pub fn compute(
    dataset: &Dataset,
    problems: &[&Problem],
    sandbox: &Sandbox,
    jobs: usize,
) -> Result<GroundTruth> {
    let work: Vec<(&Problem, Split)> = problems
        .iter()
        .flat_map(|p| [(*p, Split::Base), (*p, Split::Plus)])
        .collect();
    let bar = parallel::progress_bar(work.len(), "computing expected outputs");
    let results = parallel::map(&work, jobs, &bar, |(problem, split)| {
        run_split(dataset, sandbox, problem, *split)
    });
    bar.finish_and_clear();
    let mut truth = GroundTruth::default();
    let mut failures = Vec::new();
    let mut results = results.into_iter();
    for problem in problems {
        let (base, plus) = (results.next().unwrap(), results.next().unwrap());
        match (base, plus) {
            (Ok(base), Ok(plus)) => {
                truth
                    .tasks
                    .insert(problem.task_id.clone(), TaskTruth { base, plus });
            }
            (Err(e), _) | (_, Err(e)) => failures.push(format!("{}: {e:#}", problem.task_id)),
        }
    }
    if !failures.is_empty() {
        bail!(
            "the canonical solution failed in the sandbox for {} task(s):\n  {}",
            failures.len(),
            failures.join("\n  ")
        );
    }
    Ok(truth)
}

#[derive(Serialize)]
struct GroundTruthHeader<'a> {
    mode: &'static str,
    dataset: &'static str,
    task_id: &'a str,
    entry_point: &'a str,
    code: String,
}

fn run_split(
    dataset: &Dataset,
    sandbox: &Sandbox,
    problem: &Problem,
    split: Split,
) -> Result<SplitTruth> {
    let inputs_json = match split {
        Split::Base => &problem.base_input,
        Split::Plus => &problem.plus_input,
    };
    let header = GroundTruthHeader {
        mode: "ground_truth",
        dataset: dataset.kind.name(),
        task_id: &problem.task_id,
        entry_point: &problem.entry_point,
        code: problem.canonical_program(),
    };
    let payload = driver::payload(&header, &[("inputs_json", inputs_json.as_bytes())])?;
    let outcome = sandbox.run(
        Program::new(DRIVER_PROGRAM).with_payload(&payload),
        &ground_truth_limits(),
    )?;
    let records = Records(&outcome.records);
    if !outcome.verdict.is_success() || !records.done() {
        bail!(
            "{} split: {:?}\n{}",
            split.name(),
            outcome.verdict,
            String::from_utf8_lossy(&outcome.stderr)
        );
    }
    let items = |kind: &str| Items(records.all(kind).map(ByteBuf::from).collect());
    let (inputs, expected) = (items("input"), items("output"));
    let fuel: Vec<u64> = records.json("fuel")?;
    if inputs.0.len() != fuel.len() || expected.0.len() != fuel.len() {
        bail!(
            "{} split: the driver reported incomplete results",
            split.name()
        );
    }
    Ok(SplitTruth {
        inputs: Arc::new(inputs),
        expected: Arc::new(expected),
        fuel,
    })
}
