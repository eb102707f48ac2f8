//! Model samples in evalplus's formats.
//!
//! - A `.jsonl` file, one object per line with `task_id` and either `solution` (the full
//!   program) or `completion` (appended to the task's prompt). Other fields are ignored.
//! - A directory `TASK_ID_WITH_UNDERSCORES/N.py` (e.g. `HumanEval_0/3.py`), full programs.
//!
//! Several samples per task are allowed; their order (file order, or `N`) is their
//! completion id.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use crate::bail_input;
use crate::error::bad_input;

use crate::dataset::Dataset;

/// One sample as read, before it is matched to a problem.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawSample {
    /// The task it answers.
    pub task_id: String,
    /// Its code.
    pub code: SampleCode,
    /// Where it came from (`file:line` or a path), for messages.
    pub origin: String,
}

/// The code of a sample: the whole program, or a completion of the task's prompt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SampleCode {
    /// The full program (`solution`).
    Solution(String),
    /// Code appended to the prompt (`completion`).
    Completion(String),
}

/// A sample matched to its problem, with its full program.
#[derive(Clone, Debug)]
pub struct Sample {
    /// The task it answers.
    pub task_id: String,
    /// Its position among the task's samples (0-based, reading order).
    pub completion_id: usize,
    /// The full program that is executed.
    pub solution: String,
    /// Where it came from.
    pub origin: String,
}

/// What reading and matching samples found.
#[derive(Debug, Default)]
pub struct LoadedSamples {
    /// Samples whose task is in the dataset, in reading order.
    pub samples: Vec<Sample>,
    /// Task ids found in the samples but not in the dataset (each once), with a count.
    pub unknown_tasks: Vec<(String, usize)>,
}

#[derive(Deserialize)]
struct JsonSample {
    task_id: Option<String>,
    solution: Option<serde_json::Value>,
    completion: Option<serde_json::Value>,
}

/// Where an evaluation's samples come from: a path (as evalplus takes them) or the
/// samples themselves (for embedders: the server, Python). In JSON, a string or a list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Samples {
    /// A `.jsonl` of `{"task_id", "solution"|"completion"}` or a directory `TASK_ID/N.py`.
    Path(PathBuf),
    /// The samples, in order.
    Inline(Vec<SampleRecord>),
}

/// One sample given directly: the full program (`solution`) or a completion of the prompt.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SampleRecord {
    /// The task it answers.
    pub task_id: String,
    /// The full program.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub solution: Option<String>,
    /// Code appended to the prompt (used when there is no `solution`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completion: Option<String>,
}

impl Samples {
    /// For messages: the path, or how many samples were given.
    pub fn describe(&self) -> String {
        match self {
            Samples::Path(path) => path.display().to_string(),
            Samples::Inline(records) => format!("the {} samples given", records.len()),
        }
    }

    /// The samples, read from the path if need be.
    pub fn load(&self) -> Result<Vec<RawSample>> {
        match self {
            Samples::Path(path) => read_samples(path),
            Samples::Inline(records) => records
                .iter()
                .enumerate()
                .map(|(i, r)| {
                    let code = match (&r.solution, &r.completion) {
                        (Some(solution), _) => SampleCode::Solution(solution.clone()),
                        (None, Some(completion)) => SampleCode::Completion(completion.clone()),
                        (None, None) => bail_input!(
                            "sample {i} ({}) has neither \"solution\" nor \"completion\"",
                            r.task_id
                        ),
                    };
                    Ok(RawSample {
                        task_id: r.task_id.clone(),
                        code,
                        origin: format!("sample {i}"),
                    })
                })
                .collect(),
        }
    }
}

impl<T: Into<PathBuf>> From<T> for Samples {
    fn from(path: T) -> Self {
        Samples::Path(path.into())
    }
}

/// Reads samples from a `.jsonl` file or an evalplus samples directory.
pub fn read_samples(path: &Path) -> Result<Vec<RawSample>> {
    if path.is_dir() {
        read_directory(path)
    } else if path.exists() {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read samples file {}", path.display()))?;
        parse_jsonl(&text, &path.display().to_string())
    } else {
        bail_input!("samples path {} does not exist", path.display())
    }
}

/// Parses JSONL sample text; `name` is used in error messages.
pub fn parse_jsonl(text: &str, name: &str) -> Result<Vec<RawSample>> {
    let mut samples = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line_no = i + 1;
        if line.trim().is_empty() {
            continue;
        }
        let parsed: JsonSample = serde_json::from_str(line)
            .map_err(|e| bad_input(format!("{name}:{line_no}: malformed JSON ({e})")))?;
        let Some(task_id) = parsed.task_id else {
            bail_input!("{name}:{line_no}: no \"task_id\"");
        };
        let text_field = |field: &str, value: serde_json::Value| -> Result<String> {
            match value {
                serde_json::Value::String(s) => Ok(s),
                _ => bail_input!(
                    "{name}:{line_no}: \"{field}\" must be a string (one sample per line)"
                ),
            }
        };
        let code = match (parsed.solution, parsed.completion) {
            (Some(solution), _) => SampleCode::Solution(text_field("solution", solution)?),
            (None, Some(completion)) => {
                SampleCode::Completion(text_field("completion", completion)?)
            }
            (None, None) => {
                bail_input!("{name}:{line_no}: neither \"solution\" nor \"completion\"")
            }
        };
        samples.push(RawSample {
            task_id,
            code,
            origin: format!("{name}:{line_no}"),
        });
    }
    Ok(samples)
}

fn read_directory(dir: &Path) -> Result<Vec<RawSample>> {
    let mut task_dirs: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot list {}", dir.display()))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    task_dirs.sort();
    let mut samples = Vec::new();
    for task_dir in task_dirs {
        let task_id = task_dir
            .file_name()
            .unwrap()
            .to_string_lossy()
            .replace('_', "/");
        let mut files: Vec<(u64, PathBuf)> = Vec::new();
        for entry in std::fs::read_dir(&task_dir)? {
            let path = entry?.path();
            if path.extension().is_some_and(|e| e == "py") && path.is_file() {
                let stem = path.file_stem().unwrap().to_string_lossy();
                let n = stem.parse().unwrap_or(u64::MAX);
                files.push((n, path));
            }
        }
        files.sort();
        for (_, path) in files {
            let code = std::fs::read_to_string(&path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            samples.push(RawSample {
                task_id: task_id.clone(),
                code: SampleCode::Solution(code),
                origin: path.display().to_string(),
            });
        }
    }
    Ok(samples)
}

/// Matches raw samples to the dataset: full programs, completion ids, unknown tasks.
pub fn match_samples(raw: Vec<RawSample>, dataset: &Dataset) -> LoadedSamples {
    let mut loaded = LoadedSamples::default();
    let mut per_task: std::collections::HashMap<String, usize> = Default::default();
    for sample in raw {
        let Some(problem) = dataset.get(&sample.task_id) else {
            match loaded
                .unknown_tasks
                .iter_mut()
                .find(|(id, _)| *id == sample.task_id)
            {
                Some((_, n)) => *n += 1,
                None => loaded.unknown_tasks.push((sample.task_id, 1)),
            }
            continue;
        };
        let solution = match sample.code {
            SampleCode::Solution(code) => code,
            SampleCode::Completion(code) => format!("{}{}", problem.prompt, code),
        };
        let counter = per_task.entry(sample.task_id.clone()).or_default();
        loaded.samples.push(Sample {
            task_id: sample.task_id,
            completion_id: *counter,
            solution,
            origin: sample.origin,
        });
        *counter += 1;
    }
    loaded
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_solution_and_completion_lines() {
        let text = "{\"task_id\": \"T/0\", \"solution\": \"x = 1\"}\n\n{\"task_id\": \"T/1\", \"completion\": \"  return 1\", \"extra\": 5}\n";
        let samples = parse_jsonl(text, "s.jsonl").unwrap();
        assert_eq!(samples.len(), 2);
        assert_eq!(samples[0].code, SampleCode::Solution("x = 1".into()));
        assert_eq!(samples[1].code, SampleCode::Completion("  return 1".into()));
        assert_eq!(samples[1].origin, "s.jsonl:3");
    }

    #[test]
    fn malformed_lines_name_file_and_line() {
        let err = parse_jsonl(
            "{\"task_id\": \"T/0\", \"solution\": \"\"}\n{oops\n",
            "s.jsonl",
        )
        .unwrap_err();
        assert!(
            format!("{err:#}").starts_with("s.jsonl:2: malformed JSON"),
            "{err:#}"
        );
        let err = parse_jsonl("{\"task_id\": \"T/0\"}\n", "s.jsonl").unwrap_err();
        assert!(format!("{err:#}").contains("s.jsonl:1: neither"), "{err:#}");
        let err = parse_jsonl("{\"solution\": \"x\"}\n", "s.jsonl").unwrap_err();
        assert!(
            format!("{err:#}").contains("s.jsonl:1: no \"task_id\""),
            "{err:#}"
        );
        let err =
            parse_jsonl("{\"task_id\": \"T\", \"solution\": [\"a\"]}\n", "s.jsonl").unwrap_err();
        assert!(format!("{err:#}").contains("must be a string"), "{err:#}");
    }

    #[test]
    fn reads_evalplus_directory_layout() {
        let dir = tempfile::tempdir().unwrap();
        for (task, n, code) in [
            ("HumanEval_0", 1, "b"),
            ("HumanEval_0", 0, "a"),
            ("HumanEval_10", 0, "c"),
        ] {
            let task_dir = dir.path().join(task);
            std::fs::create_dir_all(&task_dir).unwrap();
            std::fs::write(task_dir.join(format!("{n}.py")), code).unwrap();
        }
        std::fs::write(dir.path().join("HumanEval_0").join("notes.txt"), "x").unwrap();
        let samples = read_samples(dir.path()).unwrap();
        let got: Vec<_> = samples
            .iter()
            .map(|s| (s.task_id.as_str(), s.code.clone()))
            .collect();
        assert_eq!(
            got,
            [
                ("HumanEval/0", SampleCode::Solution("a".into())),
                ("HumanEval/0", SampleCode::Solution("b".into())),
                ("HumanEval/10", SampleCode::Solution("c".into())),
            ]
        );
    }
}
