#!/usr/bin/env python3
"""Compare codefuel's verdicts with evalplus 0.3.1's on the ../shared/reference corpus (or another
corpus in its layout, such as one scripts/evalplus_verdicts.py gave verdicts).

For every <dataset>/<source>.jsonl beside its .verdicts.jsonl, runs `codefuel evaluate` and
compares each sample's (base_status, plus_status) with evalplus's. Prints the agreement per
file and overall, and every disagreement (task, index, evalplus vs codefuel, fail reason).

    python3 scripts/fidelity.py [--codefuel target/release/codefuel] [--reference ../shared/reference]
                                [--datasets ../shared/datasets] [--only SUBSTRING] [--limit N]
                                [--dataset humaneval|mbpp|both] [--min-agreement 0.995] [--jobs N]
                                [--guest rustpython|cpython]

--guest cpython needs a codefuel built with `--features cpython` (guests/cpython/README.md).

Exits 1 when the overall agreement is below --min-agreement.
"""
import json
import os
import subprocess
import sys
import tempfile
import time

import common


def main():
    parser = common.arg_parser(__doc__)
    common.add_dataset_flag(parser)
    parser.add_argument("--only", default="", help="only files whose path contains this")
    parser.add_argument("--limit", type=int, default=0, help="only the first N samples of each file")
    parser.add_argument("--min-agreement", type=float, default=0.995)
    parser.add_argument("--jobs", type=int, default=0)
    parser.add_argument("--keep", default="", help="keep the results JSON files in this directory")
    parser.add_argument("--extra", default="", help="extra arguments for codefuel evaluate")
    parser.add_argument("--guest", choices=["rustpython", "cpython"], default="rustpython",
                        help="the guest the samples run in")
    args = parser.parse_args()

    total = agree = 0
    disagreements = []
    with tempfile.TemporaryDirectory() as tmp:
        for dataset in common.chosen_datasets(args):
            folder = os.path.join(args.reference, dataset)
            if not os.path.isdir(folder):
                continue
            for name in common.reference_files(args.reference, dataset):
                path = os.path.join(folder, name)
                if args.only not in path:
                    continue
                if not os.path.exists(path[: -len(".jsonl")] + ".verdicts.jsonl"):
                    print(f"{dataset:9} {name[:70]:70} skipped: no evalplus verdicts yet "
                          "(scripts/evalplus_verdicts.py)", flush=True)
                    continue
                samples = [json.loads(l) for l in open(path) if l.strip()]
                verdicts = [json.loads(l) for l in open(path[: -len(".jsonl")] + ".verdicts.jsonl") if l.strip()]
                if args.limit:
                    samples, verdicts = samples[: args.limit], verdicts[: args.limit]
                local = os.path.join(tmp, f"{dataset}-{name}")
                with open(local, "w") as f:
                    for s in samples:
                        f.write(json.dumps({"task_id": s["task_id"], "solution": s["solution"]}) + "\n")
                out = local + ".results.json"
                if args.keep:
                    os.makedirs(args.keep, exist_ok=True)
                    out = os.path.join(args.keep, f"{dataset}-{name}.results.json")
                cmd = [args.codefuel, "evaluate", "--quiet", "--dataset", dataset,
                       "--dataset-file", common.dataset_file(args.datasets, dataset),
                       "--samples", local, "--output", out, "--guest", args.guest]
                if args.jobs:
                    cmd += ["--jobs", str(args.jobs)]
                cmd += args.extra.split()
                t0 = time.time()
                subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
                wall = time.time() - t0
                results = json.load(open(out))["eval"]
                # Samples of a task come back in reading order: match them to verdicts in order.
                cursor = {}
                file_agree = 0
                for s, v in zip(samples, verdicts):
                    assert s["task_id"] == v["task_id"] and s["index"] == v["index"]
                    k = cursor.get(s["task_id"], 0)
                    cursor[s["task_id"]] = k + 1
                    row = results[s["task_id"]][k]
                    ours = (row["base_status"], row["plus_status"])
                    theirs = (v["base_status"], v["plus_status"])
                    if ours == theirs:
                        file_agree += 1
                    else:
                        disagreements.append((dataset, name, s["task_id"], s["index"], theirs, ours,
                                              row.get("base_fail_reason"), row.get("plus_fail_reason")))
                total += len(samples)
                agree += file_agree
                print(f"{dataset:9} {name[:70]:70} {file_agree}/{len(samples)} agree  ({wall:.1f} s)", flush=True)
    print()
    for d in disagreements:
        dataset, name, task, index, theirs, ours, br, pr = d
        print(f"DISAGREE {dataset} {name[:40]} {task} index={index} evalplus={theirs} codefuel={ours} reasons={br},{pr}")
    rate = agree / total if total else 1.0
    print(f"\nagreement ({args.guest}): {agree}/{total} = {100 * rate:.2f}%")
    sys.exit(0 if rate >= args.min_agreement else 1)


if __name__ == "__main__":
    main()
