#!/usr/bin/env python3
"""Compare `codefuel sanitize` with evalplus 0.3.1's sanitizer on real raw model outputs.

For every samples file of the reference corpus (../shared/reference: raw, unsanitized
generations), runs `codefuel sanitize` and evalplus's `evalplus.sanitize.sanitize` (from PyPI,
in a venv made on first use, as benchmarks/compare_evalplus.py does) on the same samples with
the same entry points, and compares the outputs byte for byte. A `completion` is put after the
prompt and a newline in both, as evalplus's script does. Prints identical / total per file and
overall, and the first differences as unified diffs.

    python3 scripts/sanitize_agreement.py [--codefuel target/release/codefuel]
        [--reference ../shared/reference] [--datasets ../shared/datasets] [--dataset both]
        [--venv DIR] [--show 5] [--min-agreement 0.98]

Exits 1 when the overall agreement is below --min-agreement.
"""
import difflib
import json
import os
import subprocess
import sys
import tempfile
import time

import common

# Runs in the evalplus venv: reads {"task_id", "solution", "entry_point"} lines on stdin,
# writes evalplus's sanitized solution of each as one JSON string per line.
EVALPLUS_SIDE = r"""
import json, sys
from evalplus.sanitize import sanitize
for line in sys.stdin:
    s = json.loads(line)
    print(json.dumps(sanitize(code=s["solution"], entrypoint=s["entry_point"])), flush=True)
"""


def entry_points(datasets_dir, dataset):
    import gzip
    with gzip.open(common.dataset_file(datasets_dir, dataset), "rt") as f:
        return {p["task_id"]: p["entry_point"] for p in map(json.loads, filter(str.strip, f))}


def main():
    parser = common.arg_parser(__doc__)
    common.add_dataset_flag(parser)
    parser.add_argument("--venv", default=os.path.join(tempfile.gettempdir(), "evalplus-venv"))
    parser.add_argument("--show", type=int, default=5, help="differences shown as diffs")
    parser.add_argument("--min-agreement", type=float, default=0.98)
    args = parser.parse_args()
    python = common.ensure_evalplus(args.venv)

    same = total = 0
    shown = 0
    codefuel_secs = evalplus_secs = 0.0
    with tempfile.TemporaryDirectory() as work:
        for dataset in common.chosen_datasets(args):
            entries = entry_points(args.datasets, dataset)
            for name in common.reference_files(args.reference, dataset):
                path = os.path.join(args.reference, dataset, name)
                with open(path) as f:
                    samples = [json.loads(line) for line in f if line.strip()]
                out = os.path.join(work, name.replace(".jsonl", "-sanitized.jsonl"))
                t = time.time()
                subprocess.run([args.codefuel, "sanitize", "-q", "--dataset", dataset,
                                "--dataset-file", common.dataset_file(args.datasets, dataset),
                                "--samples", path, "--output", out],
                               check=True, stdout=subprocess.DEVNULL)
                codefuel_secs += time.time() - t
                with open(out) as f:
                    ours = [json.loads(line)["solution"] for line in f if line.strip()]
                feed = "".join(json.dumps({"solution": s["solution"],
                                           "entry_point": entries[s["task_id"]]}) + "\n"
                               for s in samples)
                t = time.time()
                done = subprocess.run([python, "-c", EVALPLUS_SIDE], input=feed, text=True,
                                      capture_output=True, check=True)
                evalplus_secs += time.time() - t
                theirs = [json.loads(line) for line in done.stdout.splitlines()]
                assert len(ours) == len(theirs) == len(samples), (name, len(ours), len(theirs))
                file_same = sum(a == b for a, b in zip(ours, theirs))
                same += file_same
                total += len(samples)
                print(f"{dataset}/{name}: {file_same}/{len(samples)} identical", flush=True)
                for sample, a, b in zip(samples, ours, theirs):
                    if a != b and shown < args.show:
                        shown += 1
                        print(f"--- {sample['task_id']} index {sample.get('index')}")
                        print("".join(difflib.unified_diff(
                            b.splitlines(True), a.splitlines(True), "evalplus", "codefuel")))
    rate = same / max(total, 1)
    print(f"overall: {same}/{total} identical = {100 * rate:.2f} %  "
          f"(codefuel {codefuel_secs:.1f} s, evalplus {evalplus_secs:.1f} s)")
    return 0 if rate >= args.min_agreement else 1


if __name__ == "__main__":
    sys.exit(main())
