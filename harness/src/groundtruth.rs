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

/// The item data of one task, loaded from its cache file on first use.
#[derive(Debug)]
pub struct TaskData {
    path: Option<PathBuf>,
    data: std::sync::OnceLock<TaskItems>,
}

/// Inputs and expected outputs of both splits of one task.
#[derive(Debug, Default, Serialize, Deserialize)]
struct TaskItems {
    base_inputs: Items,
    base_expected: Items,
    plus_inputs: Items,
    plus_expected: Items,
}

impl TaskData {
    fn loaded(items: TaskItems) -> Self {
        let data = std::sync::OnceLock::new();
        let _ = data.set(items);
        TaskData { path: None, data }
    }

    fn lazy(path: PathBuf) -> Self {
        TaskData {
            path: Some(path),
            data: std::sync::OnceLock::new(),
        }
    }

    fn items(&self) -> &TaskItems {
        self.data.get_or_init(|| {
            let path = self.path.as_ref().expect("unloaded data has a path");
            std::fs::read(path)
                .ok()
                .and_then(|bytes| bincode::deserialize(&bytes).ok())
                .unwrap_or_else(|| {
                    panic!(
                        "ground-truth cache {} is unreadable; delete it",
                        path.display()
                    )
                })
        })
    }
}

/// One column (inputs or expected outputs) of one split, served to runs as a [`Table`].
struct Column {
    data: Arc<TaskData>,
    split: Split,
    expected: bool,
    len: usize,
}

impl Table for Column {
    fn len(&self) -> usize {
        self.len
    }

    fn item(&self, index: usize) -> Option<&[u8]> {
        let items = self.data.items();
        let column = match (self.split, self.expected) {
            (Split::Base, false) => &items.base_inputs,
            (Split::Base, true) => &items.base_expected,
            (Split::Plus, false) => &items.plus_inputs,
            (Split::Plus, true) => &items.plus_expected,
        };
        column.item(index)
    }
}

/// Expected results of one split (base or plus) of one task.
#[derive(Clone, Debug)]
pub struct SplitTruth {
    /// Fuel the canonical solution used on each input.
    pub fuel: Vec<u64>,
    split: Split,
    data: Arc<TaskData>,
}

impl SplitTruth {
    /// The tables a check run reads: inputs (table 0) and expected outputs (table 1), each
    /// input marshalled by the guest. The task's data is read from disk on first access.
    pub fn tables(&self) -> [Arc<dyn Table>; 2] {
        let column = |expected| -> Arc<dyn Table> {
            Arc::new(Column {
                data: self.data.clone(),
                split: self.split,
                expected,
                len: self.fuel.len(),
            })
        };
        [column(false), column(true)]
    }
}

/// Per-task fuel, kept apart from the (large) data so loading it is cheap.
#[derive(Serialize, Deserialize)]
struct TaskFuel {
    base: Vec<u64>,
    plus: Vec<u64>,
}

/// Expected results of one task.
#[derive(Clone, Debug)]
pub struct TaskTruth {
    /// The base inputs.
    pub base: SplitTruth,
    /// The plus inputs.
    pub plus: SplitTruth,
}

/// Expected results of a whole dataset, by task id.
#[derive(Clone, Debug, Default)]
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

fn task_file(dir: &Path, task_id: &str, part: &str) -> PathBuf {
    dir.join(format!("{}.{part}.bin", task_id.replace('/', "_")))
}

fn write_atomically(dir: &Path, path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = dir.join(format!(
        ".{}.{}.tmp",
        path.file_name().unwrap().to_string_lossy(),
        std::process::id()
    ));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))
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
        let data_path = task_file(&dir, task_id, "data");
        let cached = std::fs::read(task_file(&dir, task_id, "fuel"))
            .ok()
            .and_then(|bytes| bincode::deserialize::<TaskFuel>(&bytes).ok())
            .filter(|_| data_path.exists());
        match cached {
            Some(fuel) => {
                let data = Arc::new(TaskData::lazy(data_path));
                truth
                    .tasks
                    .insert((*task_id).to_owned(), TaskTruth::new(fuel, data));
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
        let fuel = TaskFuel {
            base: task.base.fuel.clone(),
            plus: task.plus.fuel.clone(),
        };
        // Data first: a fuel file is the mark of a complete entry.
        let data = bincode::serialize(task.base.data.items())?;
        write_atomically(&dir, &task_file(&dir, &task_id, "data"), &data)?;
        write_atomically(
            &dir,
            &task_file(&dir, &task_id, "fuel"),
            &bincode::serialize(&fuel)?,
        )?;
        truth.tasks.insert(task_id, task);
    }
    Ok(truth)
}

impl TaskTruth {
    fn new(fuel: TaskFuel, data: Arc<TaskData>) -> Self {
        TaskTruth {
            base: SplitTruth {
                fuel: fuel.base,
                split: Split::Base,
                data: data.clone(),
            },
            plus: SplitTruth {
                fuel: fuel.plus,
                split: Split::Plus,
                data,
            },
        }
    }
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
            (
                Ok((base_fuel, base_inputs, base_expected)),
                Ok((plus_fuel, plus_inputs, plus_expected)),
            ) => {
                let data = Arc::new(TaskData::loaded(TaskItems {
                    base_inputs,
                    base_expected,
                    plus_inputs,
                    plus_expected,
                }));
                let fuel = TaskFuel {
                    base: base_fuel,
                    plus: plus_fuel,
                };
                truth
                    .tasks
                    .insert(problem.task_id.clone(), TaskTruth::new(fuel, data));
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
) -> Result<(Vec<u64>, Items, Items)> {
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
    Ok((fuel, inputs, expected))
}
