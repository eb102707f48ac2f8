//! Expected outputs: every canonical solution run in the sandbox on every input.
//!
//! As evalplus's `get_groundtruth`, in a trusted session (it runs only the canonical
//! solution): inputs and outputs are kept as blobs of the typed encoding ([`crate::value`];
//! a pickle for the rare output outside it) and each input also gets its ground-truth fuel,
//! which sets its fuel limit. Results are cached per task in `<cache>/groundtruth/`, keyed by
//! the dataset content, the guest build and the cache format: each task is computed once, when
//! first needed. A data file whose SHA-256 is not the one recorded beside it is recomputed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use codefuel_runtime::{Lease, Sandbox};
use serde::{Deserialize, Serialize};
use serde_bytes::ByteBuf;
use sha2::{Digest, Sha256};

use crate::dataset::{Dataset, Problem};
use crate::driver::{self, trusted_call};
use crate::parallel;
use crate::progress::Progress;

/// Per-input blobs (typed values; pickles for outputs outside the encoding).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Items(pub Vec<ByteBuf>);

/// The item data of one task, loaded from its cache file on first use.
#[derive(Debug)]
pub struct TaskData {
    /// The data file and the SHA-256 recorded for it when it was written.
    path: Option<(PathBuf, String)>,
    data: std::sync::OnceLock<TaskItems>,
}

/// Inputs and expected outputs of both splits of one task.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
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

    fn lazy(path: PathBuf, sha256: String) -> Self {
        TaskData {
            path: Some((path, sha256)),
            data: std::sync::OnceLock::new(),
        }
    }

    /// The data, read from the cache on first use; when the file is unreadable, truncated or
    /// not the one recorded, `rebuild` computes it again and it is written back.
    fn items(&self, rebuild: impl FnOnce() -> Result<TaskItems>) -> Result<&TaskItems> {
        if let Some(items) = self.data.get() {
            return Ok(items);
        }
        let (path, sha256) = self.path.as_ref().context("ground truth without data")?;
        let cached = std::fs::read(path)
            .ok()
            .filter(|bytes| hex::encode(Sha256::digest(bytes)) == *sha256)
            .and_then(|bytes| bincode::deserialize::<TaskItems>(&bytes).ok());
        let items = match cached {
            Some(items) => items,
            None => {
                let items = rebuild()?;
                let bytes = bincode::serialize(&items)?;
                if hex::encode(Sha256::digest(&bytes)) == *sha256 {
                    crate::files::write_file(path, &bytes)?;
                }
                items
            }
        };
        Ok(self.data.get_or_init(|| items))
    }
}

/// The inputs and expected outputs of one split, loaded.
pub struct SplitItems<'a> {
    inputs: &'a Items,
    expected: &'a Items,
}

impl SplitItems<'_> {
    /// Input `index`: a blob of the argument list.
    pub fn input(&self, index: usize) -> Result<&[u8]> {
        self.inputs
            .0
            .get(index)
            .map(|b| b.as_slice())
            .with_context(|| format!("no input {index} in the ground truth"))
    }

    /// The expected output of input `index`: a blob.
    pub fn expected(&self, index: usize) -> Result<&[u8]> {
        self.expected
            .0
            .get(index)
            .map(|b| b.as_slice())
            .with_context(|| format!("no expected output {index} in the ground truth"))
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
    /// The split's inputs and expected outputs, read from the cache on first use (and
    /// recomputed for `problem` with `lease`, on this thread, when the cached file is damaged).
    pub fn items(
        &self,
        dataset: &Dataset,
        problem: &Problem,
        lease: &Lease<'_>,
    ) -> Result<SplitItems<'_>> {
        let items = self.data.items(|| {
            let computed = compute_quietly(dataset, problem, lease)?;
            computed.data.get().cloned().context("recomputed data")
        })?;
        Ok(match self.split {
            Split::Base => SplitItems {
                inputs: &items.base_inputs,
                expected: &items.base_expected,
            },
            Split::Plus => SplitItems {
                inputs: &items.plus_inputs,
                expected: &items.plus_expected,
            },
        })
    }
}

/// Per-task fuel, kept apart from the (large) data so loading it is cheap, with the SHA-256
/// of the data file it goes with.
#[derive(Serialize, Deserialize)]
struct TaskFuel {
    base: Vec<u64>,
    plus: Vec<u64>,
    data_sha256: String,
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

/// The version of the cache layout (part of the directory name): 2 = typed-value blobs.
const CACHE_FORMAT: u32 = 2;

/// The cache directory for this dataset content and the guest build whose module has
/// `guest_sha256`: one file per task.
pub fn cache_path(dataset: &Dataset, guest_sha256: &str, cache_dir: &Path) -> PathBuf {
    cache_dir.join("groundtruth").join(format!(
        "{}-{}-{}-v{CACHE_FORMAT}",
        dataset.kind,
        &dataset.content_sha256[..16],
        guest_sha256.get(..16).unwrap_or(guest_sha256)
    ))
}

fn task_file(dir: &Path, task_id: &str, part: &str) -> PathBuf {
    dir.join(format!("{}.{part}.bin", task_id.replace('/', "_")))
}

/// Loads the ground truth of `task_ids`, computing (and caching) the tasks not cached yet.
/// The cache entry is that of `sandbox`'s guest, the one that computes what is missing.
pub fn load_or_compute(
    dataset: &Dataset,
    task_ids: &[&str],
    sandbox: &Sandbox,
    cache_dir: &Path,
    jobs: usize,
    progress: &dyn Progress,
) -> Result<GroundTruth> {
    let guest = sandbox.guest();
    let guest_sha256 = guest
        .sha256()
        .with_context(|| format!("no module for the {} guest", guest.name()))?;
    let dir = cache_path(dataset, guest_sha256, cache_dir);
    let mut truth = GroundTruth::default();
    let mut missing = Vec::new();
    for task_id in task_ids {
        let data_path = task_file(&dir, task_id, "data");
        let cached = std::fs::read(task_file(&dir, task_id, "fuel"))
            .ok()
            .and_then(|bytes| bincode::deserialize::<TaskFuel>(&bytes).ok())
            .filter(|_| data_path.exists());
        match cached {
            Some(mut fuel) => {
                let sha256 = std::mem::take(&mut fuel.data_sha256);
                let data = Arc::new(TaskData::lazy(data_path, sha256));
                truth
                    .tasks
                    .insert((*task_id).to_owned(), TaskTruth::new(fuel, data));
            }
            None => missing.push(
                dataset
                    .get(task_id)
                    .ok_or_else(|| crate::error::bad_input(format!("unknown task {task_id:?}")))?,
            ),
        }
    }
    if missing.is_empty() {
        return Ok(truth);
    }
    let computed = compute(dataset, &missing, sandbox, jobs, progress)?;
    codefuel_runtime::prepare_cache_dir(&dir)
        .with_context(|| format!("the ground-truth cache {}", dir.display()))?;
    for (task_id, task) in computed.tasks {
        let items = task.base.data.data.get().context("computed data")?;
        let data = bincode::serialize(items)?;
        let fuel = TaskFuel {
            base: task.base.fuel.clone(),
            plus: task.plus.fuel.clone(),
            data_sha256: hex::encode(Sha256::digest(&data)),
        };
        // Data first: a fuel file is the mark of a complete entry.
        crate::files::write_file(&task_file(&dir, &task_id, "data"), &data)?;
        crate::files::write_file(
            &task_file(&dir, &task_id, "fuel"),
            &bincode::serialize(&fuel)?,
        )?;
        truth.tasks.insert(task_id, task);
    }
    Ok(truth)
}

/// One split's ground truth: per-input fuel, inputs, expected outputs.
type SplitData = (Vec<u64>, Items, Items);

/// Runs the canonical solutions of `problems` on both splits, one `progress` item per split.
pub fn compute(
    dataset: &Dataset,
    problems: &[&Problem],
    sandbox: &Sandbox,
    jobs: usize,
    progress: &dyn Progress,
) -> Result<GroundTruth> {
    let work: Vec<(&Problem, Split)> = problems
        .iter()
        .flat_map(|p| [(*p, Split::Base), (*p, Split::Plus)])
        .collect();
    let lease = || sandbox.lease();
    let results =
        crate::progress::stage(progress, "computing expected outputs", work.len(), || {
            parallel::map_init(&work, jobs, progress, lease, |lease, (problem, split)| {
                run_split(dataset, lease, problem, *split)
            })
        });
    let mut truth = GroundTruth::default();
    let mut failures = Vec::new();
    let mut results = results.into_iter();
    for problem in problems {
        let (base, plus) = (results.next().unwrap(), results.next().unwrap());
        match task_data(base, plus) {
            Ok((fuel, data)) => {
                truth.tasks.insert(
                    problem.task_id.clone(),
                    TaskTruth::new(fuel, Arc::new(data)),
                );
            }
            Err(e) => failures.push(format!("{}: {e:#}", problem.task_id)),
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

/// One task's data again, on this thread and without a progress bar (a damaged cache entry).
fn compute_quietly(dataset: &Dataset, problem: &Problem, lease: &Lease<'_>) -> Result<TaskData> {
    let run = |split| run_split(dataset, lease, problem, split);
    let (_, data) = task_data(run(Split::Base), run(Split::Plus))?;
    Ok(data)
}

/// A task's fuel and data from its two splits' results.
fn task_data(base: Result<SplitData>, plus: Result<SplitData>) -> Result<(TaskFuel, TaskData)> {
    let ((base_fuel, base_inputs, base_expected), (plus_fuel, plus_inputs, plus_expected)) =
        (base?, plus?);
    let data = TaskData::loaded(TaskItems {
        base_inputs,
        base_expected,
        plus_inputs,
        plus_expected,
    });
    let fuel = TaskFuel {
        base: base_fuel,
        plus: plus_fuel,
        data_sha256: String::new(),
    };
    Ok((fuel, data))
}

/// The load request of a ground-truth session.
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
    lease: &Lease<'_>,
    problem: &Problem,
    split: Split,
) -> Result<SplitData> {
    let inputs_json = match split {
        Split::Base => &problem.base_input,
        Split::Plus => &problem.plus_input,
    };
    let header = GroundTruthHeader {
        mode: "trusted",
        dataset: dataset.kind.name(),
        task_id: &problem.task_id,
        entry_point: &problem.entry_point,
        code: problem.canonical_program(),
    };
    let context = || format!("{} split", split.name());
    let mut session = lease.session(&driver::trusted_limits())?;
    let load = [b"L".as_slice(), &serde_json::to_vec(&header)?].concat();
    trusted_call(&mut session, &load, driver::TRUSTED_FUEL).with_context(context)?;
    let request = [b"I".as_slice(), inputs_json.as_bytes()].concat();
    let (data, _) =
        trusted_call(&mut session, &request, driver::TRUSTED_FUEL).with_context(context)?;
    let blobs = match driver::take_blobs(&data) {
        Some((blobs, [])) => blobs,
        _ => bail!("{}: an unreadable input list", context()),
    };
    let inputs = Items(blobs.iter().map(|b| ByteBuf::from(b.to_vec())).collect());
    let mut expected = Vec::with_capacity(blobs.len());
    let mut fuel = Vec::with_capacity(blobs.len());
    for (i, input) in blobs.iter().enumerate() {
        let context = || format!("{} split, input {i}", split.name());
        let mut request = vec![b'C'];
        request.extend_from_slice(&u32::MAX.to_le_bytes());
        request.extend_from_slice(input);
        let (data, used) =
            trusted_call(&mut session, &request, driver::TRUSTED_FUEL).with_context(context)?;
        let mut rest = data.as_slice();
        let output = match driver::take_blob(&mut rest) {
            Some(output) if rest.is_empty() => output,
            _ => bail!("{}: {}", context(), String::from_utf8_lossy(&data)),
        };
        crate::value::check_blob(output, true).with_context(context)?;
        expected.push(ByteBuf::from(output.to_vec()));
        fuel.push(used);
    }
    Ok((fuel, inputs, Items(expected)))
}
