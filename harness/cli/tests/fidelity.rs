//! Verdict fidelity against evalplus 0.3.1 on a subset of ../shared/reference that runs in a
//! few minutes. `scripts/fidelity.py` checks every file and prints the percentage.
//!
//! Each sample's (base_status, plus_status) must equal the verdict evalplus gave it, except
//! for the disagreements docs/fidelity.md lists and explains (KNOWN_DISAGREEMENTS).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// (dataset, file stem prefix, how many samples from the start of the file).
const SUBSET: &[(&str, &str, usize)] = &[
    (
        "humaneval",
        "Adam-Torek+ExploringLLMCodeQuality__Mistral-7B-Instruct-v0.2",
        70,
    ),
    (
        "humaneval",
        "evalplus+evalplus.github.io__evalperf-meta-llama",
        36,
    ),
    (
        "mbpp",
        "Adam-Torek+ExploringLLMCodeQuality__Mistral-7B-Instruct-v0.2",
        80,
    ),
    ("mbpp", "evalplus+evalplus.github.io__evalperf-Qwen", 36),
];

/// (dataset, task_id, index) of samples whose codefuel verdict knowingly differs.
const KNOWN_DISAGREEMENTS: &[(&str, &str, u64)] = &[
    // `list(set(l))`: RustPython iterates sets in insertion order, CPython in hash order.
    ("humaneval", "HumanEval/34", 34),
    // A truncated, hundreds-deep dict literal: CPython's parser never reports (timeout),
    // RustPython raises SyntaxError.
    ("mbpp", "Mbpp/301", 165),
    // 3^n-element lists at module level: CPython hits MemoryError first, the guest fuel.
    ("mbpp", "Mbpp/255", 126),
];

fn shared() -> PathBuf {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared");
    assert!(
        path.join("reference").is_dir(),
        "the fidelity test needs ../shared (reference samples and datasets) beside the repository"
    );
    path
}

fn reference_file(dataset: &str, prefix: &str) -> PathBuf {
    let dir = shared().join("reference").join(dataset);
    let mut matches: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            name.starts_with(prefix)
                && name.ends_with(".jsonl")
                && !name.ends_with(".verdicts.jsonl")
        })
        .collect();
    assert_eq!(matches.len(), 1, "{prefix} in {}", dir.display());
    matches.pop().unwrap()
}

fn read_jsonl(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn verdicts_match_evalplus_on_reference_subset() {
    let dir = tempfile::tempdir().unwrap();
    let mut total = 0;
    let mut disagreements = Vec::new();
    for &(dataset, prefix, count) in SUBSET {
        let path = reference_file(dataset, prefix);
        let samples: Vec<_> = read_jsonl(&path).into_iter().take(count).collect();
        let verdicts_path =
            PathBuf::from(path.to_string_lossy().replace(".jsonl", ".verdicts.jsonl"));
        let verdicts: Vec<_> = read_jsonl(&verdicts_path).into_iter().take(count).collect();
        let samples_path = dir.path().join(format!("{dataset}-{count}.jsonl"));
        let lines: Vec<String> = samples
            .iter()
            .map(|s| {
                serde_json::json!({"task_id": s["task_id"], "solution": s["solution"]}).to_string()
            })
            .collect();
        std::fs::write(&samples_path, lines.join("\n") + "\n").unwrap();
        let output = dir.path().join(format!("{dataset}-{count}.results.json"));
        let dataset_file = shared().join("datasets").join(match dataset {
            "humaneval" => "HumanEvalPlus-v0.1.10.jsonl.gz",
            _ => "MbppPlus-v0.2.0.jsonl.gz",
        });
        let out = Command::new(env!("CARGO_BIN_EXE_codefuel"))
            .args([
                "evaluate",
                "--quiet",
                "--dataset",
                dataset,
                "--dataset-file",
            ])
            .arg(&dataset_file)
            .arg("--samples")
            .arg(&samples_path)
            .arg("--output")
            .arg(&output)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let results: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&output).unwrap()).unwrap();
        let mut seen: HashMap<String, usize> = HashMap::new();
        for (sample, verdict) in samples.iter().zip(&verdicts) {
            let task = sample["task_id"].as_str().unwrap();
            let k = seen.entry(task.to_owned()).or_default();
            let row = &results["eval"][task][*k];
            *k += 1;
            total += 1;
            let ours = (row["base_status"].clone(), row["plus_status"].clone());
            let theirs = (
                verdict["base_status"].clone(),
                verdict["plus_status"].clone(),
            );
            let index = sample["index"].as_u64().unwrap();
            let known = KNOWN_DISAGREEMENTS.contains(&(dataset, task, index));
            if ours != theirs && !known {
                disagreements.push(format!(
                    "{dataset} {task} index {index}: evalplus {theirs:?}, codefuel {ours:?} ({}, {})",
                    row["base_fail_reason"], row["plus_fail_reason"]
                ));
            }
        }
    }
    assert!(total > 200, "subset too small: {total}");
    assert!(
        disagreements.is_empty(),
        "{} of {total} samples disagree with evalplus:\n{}",
        disagreements.len(),
        disagreements.join("\n")
    );
}
