#!/usr/bin/env python3
"""Calibrate codefuel's fuel limits on samples evalplus 0.3.1 passed (../shared/reference).

evalplus fails an input that runs longer than max(1 s, 4 x ground-truth time). codefuel uses
max(min_fuel, 4 x ground-truth fuel). This script runs every sample evalplus passed (pass/pass)
with limits effectively off and --test-details, then reports the smallest min_fuel that keeps
all of them passing, and the largest whole-split fuel (for the split budget cap).

    python3 scripts/calibrate.py [--codefuel target/release/codefuel] [--factor 4]
"""
import json
import os
import subprocess
import tempfile

import common


def main():
    p = common.arg_parser(__doc__)
    p.add_argument("--factor", type=float, default=4.0)
    p.add_argument("--keep", default="")
    args = p.parse_args()
    for dataset in common.DATASETS:
        folder = os.path.join(args.reference, dataset)
        passing = []
        for name in common.reference_files(args.reference, dataset):
            samples = [json.loads(l) for l in open(os.path.join(folder, name))]
            verdicts = [json.loads(l) for l in open(os.path.join(folder, name[:-6] + ".verdicts.jsonl"))]
            for s, v in zip(samples, verdicts):
                if v["base_status"] == v["plus_status"] == "pass":
                    passing.append((name, s))
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "passing.jsonl")
            with open(path, "w") as f:
                for _, s in passing:
                    f.write(json.dumps({"task_id": s["task_id"], "solution": s["solution"]}) + "\n")
            out = os.path.join(args.keep or tmp, f"calibrate-{dataset}.json")
            subprocess.run([args.codefuel, "evaluate", "-q", "--dataset", dataset,
                            "--dataset-file", common.dataset_file(args.datasets, dataset),
                            "--samples", path, "--output", out, "--test-details",
                            "--min-fuel", str(10**13)], check=True, stdout=subprocess.DEVNULL)
            # Note: the split budget (harness/lib/src/evalplus.rs SPLIT_BUDGET_CAP) still applies;
            # a split reported "not passing" here may have hit it: raise the cap to measure it.
            results = json.load(open(out))["eval"]
        needed = []  # fuel of inputs above factor x ground truth: min_fuel must cover them
        split_totals = []
        not_passing = 0
        for task, rows in results.items():
            for row in rows:
                for split in ["base", "plus"]:
                    if row[f"{split}_status"] != "pass":
                        not_passing += 1
                    details = row.get(f"{split}_details") or []
                    split_totals.append((sum(d["fuel"] for d in details), task, split))
                    for i, d in enumerate(details):
                        if d["fuel"] > args.factor * d["gt_fuel"]:
                            needed.append((d["fuel"], task, split, i, d["gt_fuel"]))
        needed.sort(reverse=True)
        split_totals.sort(reverse=True)
        print(f"== {dataset}: {len(passing)} samples evalplus passed; {not_passing} splits not passing here even without limits")
        print(f"   min_fuel must be >= {needed[0][0] if needed else 0:,} (inputs above {args.factor}x ground truth: {len(needed)})")
        for n in needed[:8]:
            print(f"     {n[0]:>16,} fuel  {n[1]} {n[2]} input {n[3]}  (ground truth {n[4]:,})")
        print(f"   largest split total: {split_totals[0][0]:,} fuel ({split_totals[0][1]} {split_totals[0][2]})")
        for t in split_totals[1:5]:
            print(f"     {t[0]:>16,} fuel  {t[1]} {t[2]}")


if __name__ == "__main__":
    main()
