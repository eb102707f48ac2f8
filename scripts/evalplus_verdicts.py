#!/usr/bin/env python3
"""Give a corpus of samples evalplus 0.3.1's verdicts, in ../shared/reference's layout.

A corpus is a folder with <dataset>/<stem>.jsonl files (dataset humaneval or mbpp), one
{"task_id", "solution", "index"} per line, the full program in `solution`. For each file
without a <stem>.verdicts.jsonl beside it, this runs evalplus 0.3.1 (installed from PyPI into
--venv) exactly as ../shared/reference/README.md describes: the local dataset file through
evalplus's override variables, default limits, `--parallel 2`, one empty filler per missing
task (left out of the verdicts). Verdicts are mapped back by reading order and every one is
checked against the solution text evalplus echoes. It writes

    <stem>.verdicts.jsonl   {"task_id", "index", "base_status", "plus_status"} per sample, in order
    timings.tsv             one line per file: split, dataset, stem, samples, evalplus wall seconds

Then `python3 scripts/fidelity.py --reference CORPUS` compares codefuel with those verdicts.

evalplus's verdicts depend on wall time, so they drift under CPU load: before each file the
script measures how busy the CPUs are for two seconds and waits while another program uses more
than --max-busy of them.

    python3 scripts/evalplus_verdicts.py CORPUS [--venv DIR] [--dataset humaneval|mbpp|both] [--jobs 2]
"""
import json
import os
import sys
import tempfile
import time

import common


def busy_fraction(seconds=2.0):
    """The fraction of all CPUs' time spent busy over the next `seconds` (/proc/stat)."""
    def sample():
        fields = [int(x) for x in open("/proc/stat").readline().split()[1:]]
        idle = fields[3] + fields[4]  # idle + iowait
        return sum(fields), idle
    total0, idle0 = sample()
    time.sleep(seconds)
    total1, idle1 = sample()
    return 1 - (idle1 - idle0) / max(1, total1 - total0)


def wait_until_quiet(limit):
    busy = busy_fraction()
    while busy > limit:
        print(f"  CPUs {busy:.0%} busy (> {limit:.0%}): waiting, evalplus's verdicts drift under load",
              flush=True)
        time.sleep(30)
        busy = busy_fraction()


def verdicts_for(results, samples):
    """evalplus's per-task results, in reading order, as verdict lines for `samples`."""
    seen = {}
    lines = []
    for s in samples:
        k = seen.get(s["task_id"], 0)
        seen[s["task_id"]] = k + 1
        row = results["eval"][s["task_id"]][k]
        if row["solution"] != s["solution"]:
            sys.exit(f"evalplus's result {k} of {s['task_id']} is not sample {s['index']}'s solution")
        lines.append({"task_id": s["task_id"], "index": s["index"],
                      "base_status": row["base_status"], "plus_status": row["plus_status"]})
    return lines


def main():
    p = common.arg_parser(__doc__, paths=("datasets",))
    p.add_argument("corpus", help="folder with <dataset>/<stem>.jsonl samples files")
    common.add_dataset_flag(p)
    p.add_argument("--venv", default=os.path.join(common.ROOT, "target", "evalplus-venv"))
    p.add_argument("--jobs", type=int, default=2, help="evalplus --parallel (the reference used 2)")
    p.add_argument("--split", default="unseen", help="first column of timings.tsv")
    p.add_argument("--max-busy", type=float, default=0.15,
                   help="wait while the CPUs are busier than this fraction (verdicts drift under load)")
    args = p.parse_args()

    todo = []
    for dataset in common.chosen_datasets(args):
        folder = os.path.join(args.corpus, dataset)
        if not os.path.isdir(folder):
            continue
        for name in common.reference_files(args.corpus, dataset):
            if not os.path.exists(os.path.join(folder, name[:-6] + ".verdicts.jsonl")):
                todo.append((dataset, name))
    if not todo:
        print("every samples file already has its verdicts")
        return
    python = common.ensure_evalplus(args.venv)
    cache = os.path.join(args.venv, "evalplus-cache")  # evalplus's ground truth, per dataset hash
    with tempfile.TemporaryDirectory() as work:
        for n, (dataset, name) in enumerate(todo, 1):
            folder = os.path.join(args.corpus, dataset)
            samples = [json.loads(line) for line in open(os.path.join(folder, name)) if line.strip()]
            problems = common.problems(args.datasets, dataset)
            dataset_path = os.path.join(work, common.DATASET_FILES[dataset][:-3])
            if not os.path.exists(dataset_path):
                common.uncompressed_dataset(args.datasets, dataset, work)
            path = os.path.join(work, name)
            with open(path, "w") as f:
                for s in common.with_fillers([{"task_id": s["task_id"], "solution": s["solution"]}
                                              for s in samples], [p["task_id"] for p in problems]):
                    f.write(json.dumps(s) + "\n")
            wait_until_quiet(args.max_busy)
            t0 = time.time()
            result = common.run_evalplus(python, dataset, dataset_path, path, args.jobs, cache)
            wall = time.time() - t0
            lines = verdicts_for(json.load(open(result)), samples)
            with open(os.path.join(folder, name[:-6] + ".verdicts.jsonl"), "w") as f:
                for line in lines:
                    f.write(json.dumps(line) + "\n")
            with open(os.path.join(args.corpus, "timings.tsv"), "a") as f:
                f.write(f"{args.split}\t{dataset}\t{name[:-6]}\t{len(samples)}\t{wall:.2f}\n")
            passed = sum(v["base_status"] == v["plus_status"] == "pass" for v in lines)
            print(f"[{n}/{len(todo)}] {dataset}/{name[:-6]}: {len(lines)} samples, {passed} pass/pass, "
                  f"{wall:.1f} s", flush=True)


if __name__ == "__main__":
    main()
