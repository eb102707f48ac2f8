#!/usr/bin/env python3
"""Wall time of codefuel vs evalplus 0.3.1 on the same samples, same machine, same workers.

Installs evalplus 0.3.1 from PyPI into a throwaway venv (or reuses --venv), then for each
samples file (default: every ../shared/reference file, plus each dataset's canonical
solutions) times both tools:

- warm: ground truth cached on both sides (each tool has run the dataset once before);
- cold: evalplus's ground-truth pickle and codefuel's ground-truth cache removed first.

evalplus refuses a samples file that lacks a task, so it gets one empty filler per missing
task, as in ../shared/reference/README.md; codefuel gets the same file. evalplus is run via its
`evaluate()` function and the process exits as soon as it returns (the stock CLI idles up to
20 s on a watchdog thread afterwards). Prints the wall times and evalplus's time over
codefuel's per file, for each guest: both when the codefuel binary embeds the CPython guest
(`--features cpython`), else RustPython only (or the ones --guests names).

    python3 benchmarks/compare_evalplus.py [--jobs 2] [--only SUBSTRING] [--venv DIR] [--cold]
                                           [--guests rustpython,cpython]
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts"))
import common  # noqa: E402  (scripts/common.py: paths, datasets, argument parser)


def sh(cmd, env=None):
    return subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def time_evalplus(python, dataset, dataset_path, samples_path, jobs, cache_dir):
    t0 = time.time()
    common.run_evalplus(python, dataset, dataset_path, samples_path, jobs, cache_dir)
    return time.time() - t0


def time_codefuel(codefuel, guest, dataset, dataset_path, samples_path, jobs, cache_dir):
    out = samples_path + f".codefuel-{guest}.json"
    env = dict(os.environ, CODEFUEL_CACHE_DIR=cache_dir)
    t0 = time.time()
    sh([codefuel, "evaluate", "-q", "--dataset", dataset, "--dataset-file", dataset_path,
        "--samples", samples_path, "--output", out, "--jobs", str(jobs), "--guest", guest], env=env)
    return time.time() - t0


def embedded_guests(codefuel):
    """The guests this codefuel binary can run: CPython only in a `--features cpython` build."""
    probe = subprocess.run([codefuel, "run", "--guest", "cpython", "-"], input=b"pass\n",
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return ["rustpython", "cpython"] if probe.returncode == 0 else ["rustpython"]


def main():
    p = common.arg_parser(__doc__)
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--only", default="")
    p.add_argument("--venv", default="")
    p.add_argument("--cold", action="store_true", help="also time cold runs (ground truth not cached)")
    p.add_argument("--guests", default="", help="comma-separated guests [default: all embedded]")
    args = p.parse_args()
    guests = args.guests.split(",") if args.guests else embedded_guests(args.codefuel)

    work = tempfile.mkdtemp(prefix="codefuel-vs-evalplus-")
    python = common.ensure_evalplus(args.venv or os.path.join(work, "venv"))
    evalplus_cache = os.path.join(work, "evalplus-cache")
    # The compiled guest is a once-per-machine cost: share the user's; ground truth goes here.
    codefuel_cache = os.path.join(work, "codefuel-cache")
    os.makedirs(codefuel_cache, exist_ok=True)
    user_cache = os.environ.get("CODEFUEL_CACHE_DIR") or os.path.expanduser("~/.cache/codefuel")
    for entry in os.listdir(user_cache) if os.path.isdir(user_cache) else []:
        if entry.endswith(".cwasm"):
            shutil.copy(os.path.join(user_cache, entry), codefuel_cache)

    jobs = []
    for dataset in common.DATASETS:
        probs = common.problems(args.datasets, dataset)
        task_ids = [p["task_id"] for p in probs]
        dataset_path = common.uncompressed_dataset(args.datasets, dataset, work)
        canonical = [{"task_id": p["task_id"], "solution": p["prompt"] + p["canonical_solution"]} for p in probs]
        jobs.append((dataset, "canonical-solutions", dataset_path, canonical, task_ids))
        folder = os.path.join(args.reference, dataset)
        for name in common.reference_files(args.reference, dataset):
            samples = [{"task_id": s["task_id"], "solution": s["solution"]}
                       for s in map(json.loads, open(os.path.join(folder, name)))]
            jobs.append((dataset, name[:-6], dataset_path, samples, task_ids))

    header = f"{'dataset':9} {'samples':62} {'mode':5} {'evalplus s':>10}"
    for guest in guests:
        header += f" {guest + ' s':>12} {'ratio':>6}"
    print(header)
    warmed = set()
    for dataset, name, dataset_path, samples, task_ids in jobs:
        if args.only not in f"{dataset}/{name}":
            continue
        path = os.path.join(work, f"{dataset}-{name}.jsonl")
        with open(path, "w") as f:
            for s in common.with_fillers(samples, task_ids):
                f.write(json.dumps(s) + "\n")
        modes = ["cold", "warm"] if args.cold else ["warm"]
        for mode in modes:
            if mode == "cold" or dataset not in warmed:
                # Cold: drop both ground-truth caches. Warm: make sure both are filled.
                shutil.rmtree(os.path.join(evalplus_cache, "evalplus"), ignore_errors=True)
                shutil.rmtree(os.path.join(codefuel_cache, "groundtruth"), ignore_errors=True)
            if mode == "warm" and dataset not in warmed:
                time_evalplus(python, dataset, dataset_path, path, args.jobs, evalplus_cache)
                for guest in guests:
                    time_codefuel(args.codefuel, guest, dataset, dataset_path, path, args.jobs,
                                  codefuel_cache)
            e = time_evalplus(python, dataset, dataset_path, path, args.jobs, evalplus_cache)
            line = f"{dataset:9} {name[:62]:62} {mode:5} {e:10.1f}"
            for guest in guests:
                if mode == "cold":
                    shutil.rmtree(os.path.join(codefuel_cache, "groundtruth"), ignore_errors=True)
                c = time_codefuel(args.codefuel, guest, dataset, dataset_path, path, args.jobs,
                                  codefuel_cache)
                line += f" {c:12.1f} {e / c:5.2f}x"
            warmed.add(dataset)
            print(line, flush=True)
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
