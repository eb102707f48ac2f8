"""Set-up shared by the Python scripts in scripts/ and benchmarks/.

Where things are (the repository root, ../shared beside it, the release `codefuel` binary,
the evalplus datasets and reference samples, the guest driver), the argument parser every
script starts from, and the guest driver's helpers loaded outside the guest.

Importing it: a script in scripts/ runs with scripts/ first on sys.path, so `import common` is
enough. A script elsewhere in the repository (benchmarks/) puts scripts/ there first:

    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts"))
    import common

Standard library only.
"""
import argparse
import gzip
import importlib.util
import json
import os
import subprocess
import sys
import types

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.path.join(ROOT, "..", "shared")
DRIVER = os.path.join(ROOT, "guests", "python", "driver", "codefuel_driver.py")

DATASET_FILES = {
    "humaneval": "HumanEvalPlus-v0.1.10.jsonl.gz",
    "mbpp": "MbppPlus-v0.2.0.jsonl.gz",
}
DATASETS = tuple(DATASET_FILES)

# The path flags every script takes, with their defaults.
PATH_DEFAULTS = {
    "codefuel": os.path.join(ROOT, "target", "release", "codefuel"),
    "reference": os.path.join(SHARED, "reference"),
    "datasets": os.path.join(SHARED, "datasets"),
}


def arg_parser(doc, paths=("codefuel", "reference", "datasets")):
    """A parser showing the script's docstring as written, with --codefuel, --reference and
    --datasets (PATH_DEFAULTS) in the order of `paths`; the script adds its own flags after."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    for name in paths:
        parser.add_argument("--" + name, default=PATH_DEFAULTS[name])
    return parser


def add_dataset_flag(parser):
    """--dataset humaneval|mbpp|both (default both); `chosen_datasets` reads it."""
    parser.add_argument("--dataset", choices=[*DATASETS, "both"], default="both")


def chosen_datasets(args):
    return list(DATASETS) if args.dataset == "both" else [args.dataset]


def dataset_file(datasets_dir, dataset):
    """The evalplus dataset file of `dataset` in `datasets_dir` (--datasets)."""
    return os.path.join(datasets_dir, DATASET_FILES[dataset])


def reference_files(reference_dir, dataset):
    """Names of the samples files in <reference_dir>/<dataset>, sorted; each has its evalplus
    verdicts beside it as <name without .jsonl>.verdicts.jsonl."""
    folder = os.path.join(reference_dir, dataset)
    return [name for name in sorted(os.listdir(folder))
            if name.endswith(".jsonl") and not name.endswith(".verdicts.jsonl")]


def load_driver(path=DRIVER):
    """The guest driver's evalplus helpers (MBPP input deserialization, write-only stdio),
    outside the guest: its `_codefuel` host module is stubbed."""
    sys.modules.setdefault("_codefuel", types.ModuleType("_codefuel"))
    spec = importlib.util.spec_from_file_location("codefuel_driver", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def ensure_evalplus(venv):
    """The Python of `venv`, with evalplus 0.3.1 from PyPI installed into it first if the venv
    does not exist yet (the reference for verdicts and for the sanitizer)."""
    python = os.path.join(venv, "bin", "python")
    if not os.path.exists(python):
        print(f"creating venv {venv} and installing evalplus==0.3.1 ...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", venv], check=True, stdout=subprocess.DEVNULL)
        subprocess.run([python, "-m", "pip", "install", "-q", "evalplus==0.3.1"], check=True)
    return python


# evalplus's environment variables naming a local dataset file, per dataset.
EVALPLUS_OVERRIDE = {"humaneval": "HUMANEVAL_OVERRIDE_PATH", "mbpp": "MBPP_OVERRIDE_PATH"}


def problems(datasets_dir, dataset):
    """The problems of `dataset`'s evalplus file in `datasets_dir`, in file order."""
    with gzip.open(dataset_file(datasets_dir, dataset), "rt") as f:
        return [json.loads(line) for line in f if line.strip()]


def uncompressed_dataset(datasets_dir, dataset, folder):
    """Write `dataset`'s evalplus file, uncompressed, into `folder` (evalplus's override
    variables want a plain .jsonl); returns its path."""
    path = os.path.join(folder, DATASET_FILES[dataset][:-3])
    with gzip.open(dataset_file(datasets_dir, dataset), "rb") as f, open(path, "wb") as out:
        out.write(f.read())
    return path


def with_fillers(samples, task_ids):
    """`samples` plus one empty filler for each task they lack: evalplus refuses a samples
    file without every task (../shared/reference/README.md). Fillers come last."""
    present = {s["task_id"] for s in samples}
    return samples + [{"task_id": t, "solution": ""} for t in task_ids if t not in present]


def run_evalplus(python, dataset, dataset_path, samples_path, jobs, cache_dir):
    """Run evalplus 0.3.1's `evaluate()` (with `python` from ensure_evalplus) on a samples file,
    against the uncompressed dataset file `dataset_path`, ground truth cached in `cache_dir`;
    returns the path of its results file. The process exits as soon as `evaluate()` returns
    (the stock CLI idles up to 20 s on a watchdog thread afterwards)."""
    result = samples_path.replace(".jsonl", "_eval_results.json")
    if os.path.exists(result):
        os.remove(result)
    env = dict(os.environ, **{EVALPLUS_OVERRIDE[dataset]: dataset_path, "XDG_CACHE_HOME": cache_dir})
    code = ("import os\nfrom evalplus.evaluate import evaluate\n"
            f"evaluate(dataset={dataset!r}, samples={samples_path!r}, parallel={jobs})\nos._exit(0)\n")
    subprocess.run([python, "-c", code], env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return result
