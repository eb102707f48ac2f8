#!/usr/bin/env python3
"""End-to-end check of the preference pipeline on real model outputs.

Builds a problem set from ../shared/reference (per task: the models' distinct solutions as
codes; as tests, asserts made from the task's base inputs and the canonical solution's
outputs, a share of them deliberately wrong to imitate unreliable generated tests), runs
`codefuel matrix` on it, then `codefuel pairs` with every strategy, and reports how often each
strategy's chosen code is correct by evalplus 0.3.1's verdict (base and plus pass), against the
`random` and `all-tests` baselines.

    python3 scripts/prefs_e2e.py [--codefuel target/release/codefuel] [--dataset humaneval|mbpp|both]
                                 [--tests-per-task 8] [--wrong-share 0.3] [--seed 0]
                                 [--isolation module|fresh] [--with-reference] [--workdir DIR]

With --with-reference each problem carries the canonical solution as its `reference`, which
only AceCoder uses (it keeps the tests the reference passes, as in its paper).

Expected outputs are computed natively with this python3 (the canonical solutions are
trusted). Deterministic: the wrong asserts are chosen with a seeded generator.
"""
import gzip
import json
import math
import os
import random
import subprocess
import sys
import tempfile

import common

STRATEGIES = ["codedpo", "acecoder", "rrtf", "all-tests", "pass-count", "random"]


def literal(value):
    """A Python literal for value that evaluates back to an equal value, or None."""
    text = repr(value)
    try:
        back = eval(text, {"inf": math.inf, "nan": math.nan})
    except Exception:
        return None
    if back != value or type(back) is not type(value):
        return None
    return text


def wrong(value, rng):
    """A plausible but wrong expected output."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + rng.choice([-1, 1, 2])
    if isinstance(value, float):
        return value + 1.0
    if isinstance(value, str):
        return value + "x" if value else "x"
    if isinstance(value, list):
        return value[::-1] if len(value) > 1 and value[::-1] != value else value + [0]
    if isinstance(value, tuple):
        return value + (0,)
    if value is None:
        return 0
    return None


def build(dataset, args, driver, rng):
    """The problems and, per problem, which codes evalplus passed."""
    problems = {}
    with gzip.open(common.dataset_file(args.datasets, dataset), "rt") as f:
        for line in f:
            p = json.loads(line)
            problems[p["task_id"]] = p
    codes = {}
    ref_dir = os.path.join(args.reference, dataset)
    for name in sorted(os.listdir(ref_dir)):
        if not name.endswith(".verdicts.jsonl"):
            continue
        samples = [json.loads(l) for l in open(os.path.join(ref_dir, name.replace(".verdicts", "")))]
        verdicts = [json.loads(l) for l in open(os.path.join(ref_dir, name))]
        for s, v in zip(samples, verdicts):
            assert (s["task_id"], s["index"]) == (v["task_id"], v["index"])
            correct = v["base_status"] == "pass" and v["plus_status"] == "pass"
            codes.setdefault(s["task_id"], {}).setdefault(s["solution"], correct)
    out, truth = [], {}
    for task_id, by_code in codes.items():
        p = problems[task_id]
        inputs = p["base_input"]
        if dataset == "mbpp":
            inputs = driver.mbpp_deserialize_inputs(task_id, inputs)
        namespace = {}
        exec(p["prompt"] + p["canonical_solution"], namespace)
        fn = namespace[p["entry_point"]]
        tests = []
        for inp in inputs[: args.tests_per_task]:
            call_args = literal(tuple(inp))
            if call_args is None:
                continue
            import copy

            expected = fn(*copy.deepcopy(inp))
            if rng.random() < args.wrong_share:
                expected = wrong(expected, rng)
            exp_text = literal(expected) if expected is not None else "None"
            if exp_text is None:
                continue
            call = "%s(*%s)" % (p["entry_point"], call_args)
            if isinstance(expected, float):
                tests.append(
                    "import math\nassert math.isclose(%s, %s, rel_tol=1e-6, abs_tol=1e-6)\n"
                    % (call, exp_text)
                )
            else:
                tests.append("assert %s == %s\n" % (call, exp_text))
        code_list = list(by_code)
        problem = {
            "id": task_id,
            "prompt": p["prompt"],
            "codes": code_list,
            "tests": tests,
            "entry_point": p["entry_point"],
        }
        if args.with_reference:
            problem["reference"] = p["prompt"] + p["canonical_solution"]
        out.append(problem)
        truth[task_id] = [by_code[c] for c in code_list]
    return out, truth


def run(cmd):
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit("failed: %s\n%s" % (" ".join(cmd), result.stderr))
    return result.stdout


def main():
    parser = common.arg_parser(__doc__)
    common.add_dataset_flag(parser)
    parser.add_argument("--tests-per-task", type=int, default=8)
    parser.add_argument("--wrong-share", type=float, default=0.3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--isolation", default="module")
    parser.add_argument("--with-reference", action="store_true")
    parser.add_argument("--workdir", default="")
    args = parser.parse_args()
    workdir = args.workdir or tempfile.mkdtemp(prefix="codefuel-prefs-")
    os.makedirs(workdir, exist_ok=True)
    driver = common.load_driver()
    for dataset in common.chosen_datasets(args):
        rng = random.Random(args.seed)
        problems, truth = build(dataset, args, driver, rng)
        problems_path = os.path.join(workdir, dataset + ".problems.jsonl")
        with open(problems_path, "w") as f:
            for p in problems:
                f.write(json.dumps(p) + "\n")
        n_codes = sum(len(p["codes"]) for p in problems)
        n_correct = sum(sum(v) for v in truth.values())
        mixed = {t for t, v in truth.items() if any(v) and not all(v)}
        print("%s: %d problems (%d with both correct and wrong codes), %d codes (%d correct by "
              "evalplus), %d tests" % (dataset, len(problems), len(mixed), n_codes, n_correct,
                                       sum(len(p["tests"]) for p in problems)))
        matrix_path = os.path.join(workdir, dataset + ".matrix.jsonl")
        print("  " + run([args.codefuel, "matrix", "-q", "--input", problems_path, "--output",
                           matrix_path, "--isolation", args.isolation]).splitlines()[0])
        # Throughput on ordinary asserts: the same set without the codes that hit a fuel
        # limit (each such cell burns its whole limit, ~1 s of guest work).
        with open(matrix_path) as f:
            rows = [json.loads(l) for l in f]
        ordinary_path = os.path.join(workdir, dataset + ".ordinary.jsonl")
        with open(ordinary_path, "w") as f:
            for m in rows:
                keep = [c for c, r in zip(m["codes"], m["rows"])
                        if not any(x["status"] == "fuel_limit" for x in r["cells"])]
                p = {k: m[k] for k in ("id", "prompt", "tests")}
                p["codes"] = keep
                f.write(json.dumps(p) + "\n")
        line = run([args.codefuel, "matrix", "-q", "--input", ordinary_path, "--output",
                    os.path.join(workdir, dataset + ".ordinary.matrix.jsonl"), "--isolation",
                    args.isolation]).splitlines()[0]
        print("  without the codes that hit a fuel limit: " + line)
        print("  %-11s %7s %9s %16s %18s %14s %22s" % (
            "strategy", "pairs", "problems", "chosen correct", "rejected incorrect", "pair correct",
            "chosen correct (mixed)"))
        for strategy in STRATEGIES:
            pairs_path = os.path.join(workdir, "%s.%s.pairs.jsonl" % (dataset, strategy))
            run([args.codefuel, "pairs", "--matrix", matrix_path, "--strategy", strategy,
                 "--output", pairs_path])
            records = [json.loads(l) for l in open(pairs_path)]
            corr = [r["metadata"] for r in records if r["metadata"]["kind"] == "correctness"]
            eff = [r["metadata"] for r in records if r["metadata"]["kind"] == "efficiency"]
            good = lambda m, k: truth[m["id"]][m[k]]
            n = len(corr)
            if n:
                chosen = sum(good(m, "chosen_index") for m in corr) / n
                rejected = sum(not good(m, "rejected_index") for m in corr) / n
                both = sum(good(m, "chosen_index") and not good(m, "rejected_index") for m in corr) / n
            else:
                chosen = rejected = both = float("nan")
            on_mixed = [m for m in corr if m["id"] in mixed]
            chosen_mixed = (sum(good(m, "chosen_index") for m in on_mixed) / len(on_mixed)
                            if on_mixed else float("nan"))
            print("  %-11s %7d %9d %15.1f%% %17.1f%% %13.1f%% %15.1f%% of %d"
                  % (strategy, n, len({m["id"] for m in corr}), 100 * chosen, 100 * rejected,
                     100 * both, 100 * chosen_mixed, len(on_mixed)))
            if eff:
                ok = sum(good(m, "chosen_index") and good(m, "rejected_index") for m in eff) / len(eff)
                ratio = [m["rejected_fuel"] / max(1, m["chosen_fuel"]) for m in eff]
                print("  %-11s %7d efficiency pairs: both correct %.1f%%, median fuel ratio %.2f×"
                      % ("", len(eff), 100 * ok, sorted(ratio)[len(ratio) // 2]))
    print("files: " + workdir)


if __name__ == "__main__":
    main()
