#!/usr/bin/env python3
"""Calibrate codefuel's fuel limits on samples evalplus 0.3.1 passed (../shared/reference).

evalplus fails an input that runs longer than max(1 s, 4 x ground-truth time). codefuel uses
max(min_fuel, 4 x ground-truth fuel). This script runs every sample evalplus passed (pass/pass)
with limits effectively off and --test-details, then reports the smallest min_fuel that keeps
all of them passing, the largest whole-split fuel (for the split budget cap) and the largest
module-level fuel (for the module-level budget cap, harness/lib/src/evalplus.rs
EXEC_BUDGET_CAP: samples that run their own checks at module level).

--also CORPUS (repeatable) adds another corpus in the same layout, such as one
scripts/evalplus_verdicts.py gave verdicts.

    python3 scripts/calibrate.py [--codefuel target/release/codefuel] [--factor 4] [--also DIR]
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
    p.add_argument("--also", action="append", default=[], help="another corpus (repeatable)")
    common.add_dataset_flag(p)
    args = p.parse_args()
    for dataset in common.chosen_datasets(args):
        passing = []
        for corpus in [args.reference, *args.also]:
            folder = os.path.join(corpus, dataset)
            if not os.path.isdir(folder):
                continue
            for name in common.reference_files(corpus, dataset):
                verdicts_path = os.path.join(folder, name[:-6] + ".verdicts.jsonl")
                if not os.path.exists(verdicts_path):
                    continue
                samples = [json.loads(l) for l in open(os.path.join(folder, name))]
                verdicts = [json.loads(l) for l in open(verdicts_path)]
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
        exec_fuel = []  # module-level code: EXEC_BUDGET_CAP must cover it
        not_passing = 0
        for task, rows in results.items():
            for row in rows:
                for split in ["base", "plus"]:
                    if row[f"{split}_status"] != "pass":
                        not_passing += 1
                    exec_fuel.append((row.get(f"{split}_exec_fuel") or 0, task, split))
                    details = row.get(f"{split}_details") or []
                    split_totals.append((sum(d["fuel"] for d in details), task, split))
                    for i, d in enumerate(details):
                        if d["fuel"] > args.factor * d["gt_fuel"]:
                            needed.append((d["fuel"], task, split, i, d["gt_fuel"]))
        needed.sort(reverse=True)
        split_totals.sort(reverse=True)
        exec_fuel.sort(reverse=True)
        print(f"== {dataset}: {len(passing)} samples evalplus passed; {not_passing} splits not passing here even without limits")
        print(f"   min_fuel must be >= {needed[0][0] if needed else 0:,} (inputs above {args.factor}x ground truth: {len(needed)})")
        for n in needed[:8]:
            print(f"     {n[0]:>16,} fuel  {n[1]} {n[2]} input {n[3]}  (ground truth {n[4]:,})")
        print(f"   largest split total: {split_totals[0][0]:,} fuel ({split_totals[0][1]} {split_totals[0][2]})")
        for t in split_totals[1:5]:
            print(f"     {t[0]:>16,} fuel  {t[1]} {t[2]}")
        print(f"   largest module-level fuel: {exec_fuel[0][0]:,} ({exec_fuel[0][1]} {exec_fuel[0][2]})")
        for t in exec_fuel[1:5]:
            print(f"     {t[0]:>16,} fuel  {t[1]} {t[2]}")


if __name__ == "__main__":
    main()
