//! HumanEval+ and MBPP+ problem sets: where they come from and what a problem holds.
//!
//! Resolution order (as evalplus): `--dataset-file`, then `HUMANEVAL_OVERRIDE_PATH` /
//! `MBPP_OVERRIDE_PATH`, then the cached download in `<cache>/datasets/`, then a download from
//! the official evalplus release URL. Files may be `.jsonl` or `.jsonl.gz`.

use std::collections::HashMap;
use std::fmt;
use std::io::Read;
use std::path::Path;

use anyhow::{Context, Result};
use md5::{Digest as _, Md5};
use sha2::Sha256;

use crate::jsonl::object_fields;
use crate::progress::Progress;

/// Which benchmark a problem set is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DatasetKind {
    /// HumanEval+ (evalplus v0.1.10): 164 problems.
    Humaneval,
    /// MBPP+ (evalplus v0.2.0): 378 problems.
    Mbpp,
}

impl DatasetKind {
    /// The name evalplus uses (`humaneval` / `mbpp`).
    pub fn name(self) -> &'static str {
        match self {
            DatasetKind::Humaneval => "humaneval",
            DatasetKind::Mbpp => "mbpp",
        }
    }

    /// The release evalplus 0.3.1 uses by default.
    pub fn version(self) -> &'static str {
        match self {
            DatasetKind::Humaneval => "v0.1.10",
            DatasetKind::Mbpp => "v0.2.0",
        }
    }

    /// The environment variable evalplus reads for a local copy.
    pub fn override_var(self) -> &'static str {
        match self {
            DatasetKind::Humaneval => "HUMANEVAL_OVERRIDE_PATH",
            DatasetKind::Mbpp => "MBPP_OVERRIDE_PATH",
        }
    }

    /// The prefix of this benchmark's task ids (`HumanEval/0`, `Mbpp/2`).
    fn task_prefix(self) -> &'static str {
        match self {
            DatasetKind::Humaneval => "HumanEval/",
            DatasetKind::Mbpp => "Mbpp/",
        }
    }

    fn release_name(self) -> &'static str {
        match self {
            DatasetKind::Humaneval => "HumanEvalPlus",
            DatasetKind::Mbpp => "MbppPlus",
        }
    }

    /// The official download URL of the gzipped JSONL.
    pub fn url(self) -> String {
        format!(
            "https://github.com/evalplus/{}_release/releases/download/{}/{}.jsonl.gz",
            self.release_name().to_lowercase(),
            self.version(),
            self.release_name()
        )
    }

    /// File name of the cached, decompressed download.
    pub fn cache_file_name(self) -> String {
        format!("{}-{}.jsonl", self.release_name(), self.version())
    }
}

impl fmt::Display for DatasetKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One benchmark problem, with its test inputs kept as raw JSON text.
#[derive(Clone, Debug)]
pub struct Problem {
    /// `HumanEval/0`, `Mbpp/2`, ...
    pub task_id: String,
    /// The prompt a `completion` is appended to.
    pub prompt: String,
    /// Name of the function under test.
    pub entry_point: String,
    /// The reference solution body (appended to the prompt).
    pub canonical_solution: String,
    /// Absolute tolerance for float outputs (0 for most tasks).
    pub atol: f64,
    /// The base test inputs: a JSON list of argument lists (may hold Infinity/NaN).
    pub base_input: String,
    /// The plus test inputs, in the same form.
    pub plus_input: String,
}

impl Problem {
    /// The canonical program: prompt + canonical solution.
    pub fn canonical_program(&self) -> String {
        format!("{}{}", self.prompt, self.canonical_solution)
    }
}

/// A loaded problem set.
#[derive(Clone, Debug)]
pub struct Dataset {
    /// Which benchmark.
    pub kind: DatasetKind,
    /// Problems in file order.
    pub problems: Vec<Problem>,
    /// MD5 of the file as read (what evalplus reports as `hash`).
    pub evalplus_hash: String,
    /// SHA-256 of the decompressed content (keys codefuel's ground-truth cache).
    pub content_sha256: String,
    index: HashMap<String, usize>,
}

impl Dataset {
    /// Finds and loads the problem set as the module docs describe; a download is announced
    /// through `progress`.
    pub fn resolve(
        kind: DatasetKind,
        explicit: Option<&Path>,
        cache_dir: &Path,
        progress: &dyn Progress,
    ) -> Result<Self> {
        if let Some(path) = explicit {
            return Self::load(kind, path);
        }
        if let Some(path) = std::env::var_os(kind.override_var()) {
            return Self::load(kind, Path::new(&path))
                .with_context(|| format!("reading {} (from {})", kind, kind.override_var()));
        }
        let cached = cache_dir.join("datasets").join(kind.cache_file_name());
        if !cached.exists() {
            download(kind, &cached, progress)?;
        }
        Self::load(kind, &cached)
    }

    /// Loads a `.jsonl` or `.jsonl.gz` problem file.
    pub fn load(kind: DatasetKind, path: &Path) -> Result<Self> {
        let raw = std::fs::read(path)
            .with_context(|| format!("cannot read dataset file {}", path.display()))?;
        let evalplus_hash = hex::encode(Md5::digest(&raw));
        let text = if raw.starts_with(&[0x1f, 0x8b]) {
            let mut text = String::new();
            flate2::read::GzDecoder::new(&raw[..])
                .read_to_string(&mut text)
                .with_context(|| format!("cannot decompress {}", path.display()))?;
            text
        } else {
            String::from_utf8(raw).with_context(|| format!("{} is not UTF-8", path.display()))?
        };
        let content_sha256 = hex::encode(Sha256::digest(text.as_bytes()));
        let mut problems = Vec::new();
        for (number, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let problem = parse_problem(line).map_err(|e| {
                crate::error::bad_input(format!(
                    "{}:{}: not a problem: {e:#}",
                    path.display(),
                    number + 1
                ))
            })?;
            problems.push(problem);
        }
        if problems.is_empty() {
            crate::bail_input!("{} holds no problems", path.display());
        }
        check_kind(kind, &problems, path)?;
        let index = problems
            .iter()
            .enumerate()
            .map(|(i, p)| (p.task_id.clone(), i))
            .collect();
        Ok(Dataset {
            kind,
            problems,
            evalplus_hash,
            content_sha256,
            index,
        })
    }

    /// The problem with this task id.
    pub fn get(&self, task_id: &str) -> Option<&Problem> {
        self.index.get(task_id).map(|&i| &self.problems[i])
    }

    /// Position of the task in file order.
    pub fn position(&self, task_id: &str) -> Option<usize> {
        self.index.get(task_id).copied()
    }
}

/// Refuses a file that is plainly the other benchmark (its tasks would be run with the wrong
/// evalplus rules, e.g. MBPP+'s input conversions); files with other task ids are accepted.
fn check_kind(kind: DatasetKind, problems: &[Problem], path: &Path) -> Result<()> {
    for other in [DatasetKind::Humaneval, DatasetKind::Mbpp] {
        if other != kind
            && problems
                .iter()
                .all(|p| p.task_id.starts_with(other.task_prefix()))
        {
            crate::bail_input!(
                "{} holds {} tasks ({}...) but the dataset is {}; pass --dataset {}",
                path.display(),
                other,
                problems[0].task_id,
                kind.name(),
                other.name()
            );
        }
    }
    Ok(())
}

fn parse_problem(line: &str) -> Result<Problem> {
    let fields = object_fields(line)?;
    let field = |name: &str| -> Result<&str> {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| *v)
            .with_context(|| format!("missing field {name:?}"))
    };
    let string = |name: &str| -> Result<String> {
        serde_json::from_str(field(name)?).with_context(|| format!("field {name:?}"))
    };
    let atol = match fields.iter().find(|(k, _)| k == "atol") {
        Some((_, raw)) => serde_json::from_str::<Option<f64>>(raw)
            .context("field \"atol\"")?
            .unwrap_or(0.0),
        None => 0.0,
    };
    Ok(Problem {
        task_id: string("task_id")?,
        prompt: string("prompt")?,
        entry_point: string("entry_point")?,
        canonical_solution: string("canonical_solution")?,
        atol,
        base_input: field("base_input")?.to_owned(),
        plus_input: field("plus_input")?.to_owned(),
    })
}

fn download(kind: DatasetKind, dest: &Path, progress: &dyn Progress) -> Result<()> {
    let url = kind.url();
    progress.note(&format!("downloading {kind} {} from {url}", kind.version()));
    let fetched = (|| -> Result<Vec<u8>> {
        let mut body = ureq::get(&url).call()?.into_body();
        Ok(body.read_to_vec()?)
    })();
    let gz = fetched.with_context(|| {
        format!(
            "cannot download the {kind} dataset ({url}); when offline, point codefuel at a \
             local copy with --dataset-file FILE or {}=FILE (.jsonl or .jsonl.gz)",
            kind.override_var()
        )
    })?;
    let mut text = Vec::new();
    flate2::read::GzDecoder::new(&gz[..])
        .read_to_end(&mut text)
        .context("the downloaded dataset is not gzip")?;
    crate::files::write_file(dest, &text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn release_urls_match_evalplus() {
        assert_eq!(
            DatasetKind::Humaneval.url(),
            "https://github.com/evalplus/humanevalplus_release/releases/download/v0.1.10/HumanEvalPlus.jsonl.gz"
        );
        assert_eq!(
            DatasetKind::Mbpp.url(),
            "https://github.com/evalplus/mbppplus_release/releases/download/v0.2.0/MbppPlus.jsonl.gz"
        );
    }

    #[test]
    fn parses_a_problem_line() {
        let line = r#"{"task_id": "T/1", "prompt": "def f(x):\n", "entry_point": "f", "canonical_solution": "    return x\n", "base_input": [[1], [-Infinity]], "atol": 1e-06, "plus_input": []}"#;
        let p = parse_problem(line).unwrap();
        assert_eq!(p.task_id, "T/1");
        assert_eq!(p.canonical_program(), "def f(x):\n    return x\n");
        assert_eq!(p.atol, 1e-6);
        assert_eq!(p.base_input, "[[1], [-Infinity]]");
        assert_eq!(p.plus_input, "[]");
    }

    #[test]
    fn the_other_benchmark_is_refused_with_the_flag_to_use() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mbpp.jsonl");
        let line = r#"{"task_id": "Mbpp/2", "prompt": "", "entry_point": "f", "canonical_solution": "def f(x):\n    return x\n", "base_input": [[1]], "atol": 0, "plus_input": []}"#;
        std::fs::write(&path, format!("{line}\n")).unwrap();
        let err = Dataset::load(DatasetKind::Humaneval, &path).unwrap_err();
        assert!(
            format!("{err:#}").contains("pass --dataset mbpp"),
            "{err:#}"
        );
        assert_eq!(
            Dataset::load(DatasetKind::Mbpp, &path)
                .unwrap()
                .problems
                .len(),
            1
        );
    }

    #[test]
    fn missing_field_is_an_error() {
        let err = parse_problem(r#"{"task_id": "T/1"}"#).unwrap_err();
        assert!(format!("{err:#}").contains("missing field"));
    }
}
