#!/usr/bin/env python3
"""How well does codefuel's fuel rank correct solutions by cost, compared with CPython wall time?

Material: the EvalPerf reference samples in ../shared/reference/{humaneval,mbpp}/
(`evalplus+evalplus.github.io__evalperf-*.jsonl`, 4 models, up to 3 solutions per task each).
The 4 files of a dataset are pooled per task (up to 12 solutions); a solution is kept when
evalplus 0.3.1 gave it base_status == plus_status == "pass" (the .verdicts.jsonl beside it),
identical solution texts are kept once, and codefuel must pass it too.

Fuel: `codefuel evaluate --test-details --input-order evalplus` on the pooled file; a solution's
fuel is `plus_fuel`, the fuel of its entry-point calls summed over every plus input (module-level
code is not included). codefuel is run twice to check that fuel is deterministic.

Native time: each solution runs in a fresh `python3` subprocess (this interpreter), stdout,
stderr and stdin swallowed. The worker deserializes the task's plus inputs as evalplus does
(MBPP: `mbpp_deserialize_inputs` from guests/python/driver/codefuel_driver.py, loaded with a
stub `_codefuel` module), then R times (--repeats): execs the solution in a fresh globals dict
(so memoization caches do not carry over between repeats, as in codefuel's one run per split),
and times `fn(*copy.deepcopy(inp))` on every plus input in dataset order with
time.perf_counter_ns, the deepcopy outside the timed region. The solution's time is the minimum
over the R repeats of the per-repeat total. Solutions that raise, time out (--timeout per
subprocess) or die are skipped and counted. Two independent timing passes are made over all
solutions of a dataset, one after the other; within each pass the solutions of a task are
visited in a seeded random order (a different one per pass).

Metric: per task with >= 3 kept solutions, Spearman's rank correlation (average ranks for
ties) between fuel and time of pass 1 (pass 2 is reported too); then the median, quartiles
and mean over tasks. A task where fuel or time is the same for every solution has no Spearman
and is skipped and counted. Noise ceiling: per-task Spearman between the two timing passes,
summarised the same way; fuel vs fuel across the two codefuel runs must be exactly 1.
Many tasks have several solutions of nearly equal cost, where no ranking is stable, so the
script also reports pairwise agreement: over pairs of solutions of a task whose native times
differ by >= 1.25x (and >= 2x) in the same direction in both passes, the share that fuel orders
the same way; and the converse for pairs whose fuel differs by that factor.

    python3 benchmarks/efficiency_study.py [--codefuel PATH] [--datasets DIR] [--reference DIR]
        [--dataset humaneval|mbpp|both] [--repeats 5] [--timeout 60] [--limit-tasks N]
        [--json out.json]

Standard library only.
"""
import copy
import gzip
import json
import math
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts"))
import common  # noqa: E402  (scripts/common.py: paths, datasets, argument parser)

PREFIX = "evalplus+evalplus.github.io__evalperf-"
SEED = 20240101
# Pairwise agreement is reported for pairs separated by at least these factors.
PAIR_FACTORS = (1.25, 2.0)


# ---------------------------------------------------------------------------------------- #
# Statistics                                                                               #
# ---------------------------------------------------------------------------------------- #


def average_ranks(xs):
    """1-based ranks; tied values get the mean of the ranks they span."""
    order = sorted(range(len(xs)), key=lambda i: xs[i])
    ranks = [0.0] * len(xs)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and xs[order[j + 1]] == xs[order[i]]:
            j += 1
        mean_rank = (i + j) / 2 + 1
        for k in range(i, j + 1):
            ranks[order[k]] = mean_rank
        i = j + 1
    return ranks


def spearman(xs, ys):
    """Spearman's rho (Pearson on average ranks); None when either side is all tied."""
    if len(xs) != len(ys) or len(xs) < 2:
        return None
    rx, ry = average_ranks(xs), average_ranks(ys)
    mx, my = sum(rx) / len(rx), sum(ry) / len(ry)
    sxy = sum((a - mx) * (b - my) for a, b in zip(rx, ry))
    sxx = sum((a - mx) ** 2 for a in rx)
    syy = sum((b - my) ** 2 for b in ry)
    if sxx == 0 or syy == 0:
        return None
    return sxy / math.sqrt(sxx * syy)


def summarise(values):
    """n, median, quartiles (inclusive method) and mean of a list of numbers."""
    values = sorted(values)
    if not values:
        return {"n": 0, "median": None, "q1": None, "q3": None, "mean": None}
    if len(values) == 1:
        q1 = q3 = values[0]
    else:
        q1, _, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return {
        "n": len(values),
        "median": statistics.median(values),
        "q1": q1,
        "q3": q3,
        "mean": statistics.fmean(values),
    }


def fmt_summary(s):
    if not s["n"]:
        return "n=0"
    return (f"median {s['median']:+.3f}  IQR [{s['q1']:+.3f}, {s['q3']:+.3f}]  "
            f"mean {s['mean']:+.3f}  (n={s['n']} tasks)")


# ---------------------------------------------------------------------------------------- #
# Native timing worker (runs in its own python3 process)                                   #
# ---------------------------------------------------------------------------------------- #


def worker(job_path, result_path):
    with open(job_path) as f:
        job = json.load(f)
    with open(job["inputs_path"]) as f:
        inputs = json.load(f)  # accepts NaN / Infinity
    try:
        import resource

        cap = 4 << 30  # evalplus's 4 GiB memory cap
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    except (ImportError, ValueError, OSError):
        pass
    # The guest driver, outside the guest: its evalplus input deserialization and stdio sink.
    driver = common.load_driver(job["driver"])
    if job["dataset"] == "mbpp":
        inputs = driver.mbpp_deserialize_inputs(job["task_id"], inputs)

    class _NullIO(driver.WriteOnlyStringIO):
        """evalplus's write-only stdio, keeping nothing (output would skew the timings)."""

        def write(self, s):
            return len(s)

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 1000))
    real = (sys.stdout, sys.stderr, sys.stdin)
    sink = _NullIO()
    clock = time.perf_counter_ns
    try:
        sys.stdout = sys.stderr = sys.stdin = sink
        totals = []
        for _ in range(job["repeats"]):
            exec_globals = {}
            exec(job["solution"], exec_globals)
            fn = exec_globals[job["entry_point"]]
            total = 0
            for inp in inputs:
                args = copy.deepcopy(inp)
                t0 = clock()
                fn(*args)
                total += clock() - t0
            totals.append(total)
        result = {"ok": True, "totals_ns": totals}
    except BaseException as e:  # noqa: BLE001 - any failure means "skip this solution"
        result = {"ok": False, "error": type(e).__name__}
    finally:
        sys.stdout, sys.stderr, sys.stdin = real
    with open(result_path, "w") as f:
        json.dump(result, f)


# ---------------------------------------------------------------------------------------- #
# Material                                                                                 #
# ---------------------------------------------------------------------------------------- #


def task_number(task_id):
    return int(task_id.split("/")[-1])


def load_problems(path):
    problems = {}
    with gzip.open(path, "rt") as f:
        for line in f:
            if line.strip():
                row = json.loads(line)
                problems[row["task_id"]] = row
    return problems


def load_pool(reference, dataset):
    """Pooled EvalPerf solutions per task: evalplus pass/pass, distinct texts, file order."""
    folder = os.path.join(reference, dataset)
    names = [n for n in common.reference_files(reference, dataset) if n.startswith(PREFIX)]
    pool = {}
    counts = {"files": len(names), "samples": 0, "not_pass": 0, "duplicate": 0}
    for name in names:
        model = name[len(PREFIX):-len(".jsonl")]
        path = os.path.join(folder, name)
        with open(path) as f:
            samples = [json.loads(l) for l in f if l.strip()]
        with open(path[: -len(".jsonl")] + ".verdicts.jsonl") as f:
            verdicts = {(v["task_id"], v["index"]): v for v in (json.loads(l) for l in f if l.strip())}
        for s in samples:
            counts["samples"] += 1
            v = verdicts[(s["task_id"], s["index"])]
            if not (v["base_status"] == v["plus_status"] == "pass"):
                counts["not_pass"] += 1
                continue
            entries = pool.setdefault(s["task_id"], [])
            if any(e["solution"] == s["solution"] for e in entries):
                counts["duplicate"] += 1
                continue
            entries.append({"solution": s["solution"], "origin": f"{model}#{s['index']}"})
    return pool, counts


# ---------------------------------------------------------------------------------------- #
# codefuel                                                                                 #
# ---------------------------------------------------------------------------------------- #


def run_codefuel(args, dataset, dataset_file, samples_path, out_path):
    cmd = [args.codefuel, "evaluate", "--dataset", dataset, "--dataset-file", dataset_file,
           "--samples", samples_path, "--test-details", "--input-order", "evalplus",
           "--output", out_path, "--quiet"]
    t0 = time.monotonic()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    wall = time.monotonic() - t0
    with open(out_path) as f:
        return json.load(f)["eval"], wall, cmd


def fuel_rows(results, pool, tasks, n_inputs):
    """(task, k) -> {"pass", "plus_fuel", "per_input"} from one codefuel results file."""
    rows = {}
    for task in tasks:
        got = results.get(task, [])
        if len(got) != len(pool[task]):
            raise SystemExit(f"{task}: codefuel returned {len(got)} samples, expected {len(pool[task])}")
        for k, (entry, row) in enumerate(zip(pool[task], got)):
            if row["solution"] != entry["solution"]:
                raise SystemExit(f"{task}: sample {k} does not match the samples file order")
            ok = row["base_status"] == row["plus_status"] == "pass"
            per_input = [d["fuel"] for d in (row.get("plus_details") or [])]
            if ok:
                assert len(per_input) == n_inputs[task], (task, k, len(per_input))
                assert sum(per_input) == row["plus_fuel"], (task, k)
            rows[(task, k)] = {"pass": ok, "plus_fuel": row.get("plus_fuel"), "per_input": per_input,
                               "status": (row["base_status"], row["plus_status"])}
    return rows


# ---------------------------------------------------------------------------------------- #
# Native timing (parent side)                                                              #
# ---------------------------------------------------------------------------------------- #


def time_solution(args, dataset, problem, solution, inputs_path, tmp):
    job_path = os.path.join(tmp, "job.json")
    result_path = os.path.join(tmp, "result.json")
    if os.path.exists(result_path):
        os.remove(result_path)
    with open(job_path, "w") as f:
        json.dump({"dataset": dataset, "task_id": problem["task_id"], "entry_point": problem["entry_point"],
                   "solution": solution, "inputs_path": inputs_path, "repeats": args.repeats,
                   "driver": common.DRIVER}, f)
    try:
        subprocess.run([sys.executable, os.path.abspath(__file__), "--worker", job_path, result_path],
                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       timeout=args.timeout)
    except subprocess.TimeoutExpired:
        return None, "timeout"
    if not os.path.exists(result_path):
        return None, "died"
    with open(result_path) as f:
        result = json.load(f)
    if not result["ok"]:
        return None, "exception:" + result["error"]
    return min(result["totals_ns"]), None


def timing_pass(args, dataset, problems, pool, tasks, keys, inputs_paths, tmp, pass_no):
    """One native timing pass over every key; returns ({key: ns}, {key: failure})."""
    times, failures = {}, {}
    rng = random.Random(SEED + pass_no)
    load_before = os.getloadavg()[0]
    t0 = time.monotonic()
    done = 0
    for task in tasks:
        task_keys = [key for key in keys if key[0] == task]
        rng.shuffle(task_keys)
        for key in task_keys:
            ns, failure = time_solution(args, dataset, problems[task], pool[task][key[1]]["solution"],
                                        inputs_paths[task], tmp)
            if failure:
                failures[key] = failure
            else:
                times[key] = ns
            done += 1
        if args.progress:
            print(f"  [{dataset} pass {pass_no}] {task}: {done}/{len(keys)} solutions, "
                  f"{time.monotonic() - t0:.0f} s, load {os.getloadavg()[0]:.2f}", file=sys.stderr, flush=True)
    info = {"wall_s": time.monotonic() - t0, "load1_before": load_before, "load1_after": os.getloadavg()[0]}
    return times, failures, info


# ---------------------------------------------------------------------------------------- #
# Study                                                                                    #
# ---------------------------------------------------------------------------------------- #


def pair_agreement(task_rows, factor):
    """Pairs of solutions of one task that one measure separates by >= factor; does the other agree?

    "time-separated": both timing passes say b took >= factor x a's time; fuel agrees when
    fuel(a) < fuel(b) (ties counted apart). "fuel-separated": fuel(b) >= factor x fuel(a); time
    agrees when both passes have time(a) < time(b). Each unordered pair counts at most once.
    """
    out = {"time_separated": 0, "fuel_agrees": 0, "fuel_disagrees": 0, "fuel_ties": 0,
           "fuel_separated": 0, "time_agrees": 0, "disagreeing_tasks": {}}
    for r in task_rows:
        sols = r["solutions"]
        for a in sols:
            for b in sols:
                if b["time1_ns"] >= factor * a["time1_ns"] and b["time2_ns"] >= factor * a["time2_ns"]:
                    out["time_separated"] += 1
                    if a["plus_fuel"] < b["plus_fuel"]:
                        out["fuel_agrees"] += 1
                    elif a["plus_fuel"] > b["plus_fuel"]:
                        out["fuel_disagrees"] += 1
                        tasks = out["disagreeing_tasks"]
                        tasks[r["task_id"]] = tasks.get(r["task_id"], 0) + 1
                    else:
                        out["fuel_ties"] += 1
                if b["plus_fuel"] >= factor * a["plus_fuel"]:
                    out["fuel_separated"] += 1
                    if a["time1_ns"] < b["time1_ns"] and a["time2_ns"] < b["time2_ns"]:
                        out["time_agrees"] += 1
    return out


def spread(values):
    lo = min(values)
    return max(values) / lo if lo > 0 else float("inf")


def study(args, dataset, tmp):
    dataset_file = common.dataset_file(args.datasets, dataset)
    problems = load_problems(dataset_file)
    pool, counts = load_pool(args.reference, dataset)
    tasks = sorted(pool, key=task_number)
    if args.limit_tasks:
        tasks = tasks[: args.limit_tasks]
    pool = {t: pool[t] for t in tasks}
    n_inputs = {t: len(problems[t]["plus_input"]) for t in tasks}

    samples_path = os.path.join(tmp, f"{dataset}-pooled.jsonl")
    with open(samples_path, "w") as f:
        for task in tasks:
            for entry in pool[task]:
                f.write(json.dumps({"task_id": task, "solution": entry["solution"]}) + "\n")

    print(f"[{dataset}] codefuel run 1 ...", file=sys.stderr, flush=True)
    res1, wall1, cmd = run_codefuel(args, dataset, dataset_file, samples_path,
                                    os.path.join(tmp, f"{dataset}-fuel1.json"))
    print(f"[{dataset}] codefuel run 2 ...", file=sys.stderr, flush=True)
    res2, wall2, _ = run_codefuel(args, dataset, dataset_file, samples_path,
                                  os.path.join(tmp, f"{dataset}-fuel2.json"))
    fuel1 = fuel_rows(res1, pool, tasks, n_inputs)
    fuel2 = fuel_rows(res2, pool, tasks, n_inputs)

    all_keys = [(t, k) for t in tasks for k in range(len(pool[t]))]
    codefuel_fail = [key for key in all_keys if not fuel1[key]["pass"]]
    keys = [key for key in all_keys if fuel1[key]["pass"]]
    fuel_identical = sum(
        1 for key in all_keys
        if fuel1[key]["plus_fuel"] == fuel2[key]["plus_fuel"]
        and fuel1[key]["per_input"] == fuel2[key]["per_input"]
        and fuel1[key]["status"] == fuel2[key]["status"]
    )

    inputs_paths = {}
    for task in tasks:
        path = os.path.join(tmp, f"inputs-{dataset}-{task_number(task)}.json")
        with open(path, "w") as f:
            json.dump(problems[task]["plus_input"], f)
        inputs_paths[task] = path

    print(f"[{dataset}] native timing pass 1 ({len(keys)} solutions) ...", file=sys.stderr, flush=True)
    t1, fail1, info1 = timing_pass(args, dataset, problems, pool, tasks, keys, inputs_paths, tmp, 1)
    print(f"[{dataset}] native timing pass 2 ...", file=sys.stderr, flush=True)
    t2, fail2, info2 = timing_pass(args, dataset, problems, pool, tasks, keys, inputs_paths, tmp, 2)
    native_fail = sorted(set(fail1) | set(fail2), key=lambda key: (task_number(key[0]), key[1]))
    kept = [key for key in keys if key in t1 and key in t2]

    task_rows = []
    skipped_small = 0
    tied = {"fuel": 0, "time": 0}
    for task in tasks:
        ks = [key for key in kept if key[0] == task]
        if len(ks) < 3:
            skipped_small += 1
            continue
        fuel = [fuel1[key]["plus_fuel"] for key in ks]
        time1 = [t1[key] for key in ks]
        time2 = [t2[key] for key in ks]
        row = {
            "task_id": task,
            "n": len(ks),
            "rho_fuel_time1": spearman(fuel, time1),
            "rho_fuel_time2": spearman(fuel, time2),
            "rho_time1_time2": spearman(time1, time2),
            "rho_fuel1_fuel2": spearman(fuel, [fuel2[key]["plus_fuel"] for key in ks]),
            "fuel_spread": spread(fuel),
            "time_spread": spread(time1),
            "solutions": [
                {"origin": pool[task][key[1]]["origin"], "plus_fuel": fuel1[key]["plus_fuel"],
                 "time1_ns": t1[key], "time2_ns": t2[key]}
                for key in ks
            ],
        }
        if len(set(fuel)) == 1:
            tied["fuel"] += 1
        if len(set(time1)) == 1 or len(set(time2)) == 1:
            tied["time"] += 1
        task_rows.append(row)

    def collect(field, rows=None):
        return [r[field] for r in (task_rows if rows is None else rows) if r[field] is not None]

    defined = [r for r in task_rows if r["rho_fuel_time1"] is not None and r["rho_time1_time2"] is not None]
    steady = [r for r in defined if r["rho_time1_time2"] >= 0.8]
    summary = {
        "reference_samples": counts["samples"],
        "evalplus_not_pass": counts["not_pass"],
        "duplicates": counts["duplicate"],
        "tasks_in_pool": len(tasks),
        "solutions_pooled": len(all_keys),
        "codefuel_not_pass": len(codefuel_fail),
        "native_failed": len(native_fail),
        "native_failures": {f"{k[0]}#{k[1]}": fail1.get(k) or fail2.get(k) for k in native_fail},
        "solutions_kept": len(kept),
        "tasks_lt3": skipped_small,
        "tasks_used": len(task_rows),
        "solutions_in_used_tasks": sum(r["n"] for r in task_rows),
        "tasks_all_tied_fuel": tied["fuel"],
        "tasks_all_tied_time": tied["time"],
        "rho_fuel_time1": summarise(collect("rho_fuel_time1", defined)),
        "rho_fuel_time2": summarise(collect("rho_fuel_time2", defined)),
        "rho_time1_time2": summarise(collect("rho_time1_time2", defined)),
        "rho_fuel_time1_steady": summarise(collect("rho_fuel_time1", steady)),
        "pairs": {str(f): pair_agreement(task_rows, f) for f in PAIR_FACTORS},
        "median_fuel_spread": statistics.median([r["fuel_spread"] for r in task_rows]) if task_rows else None,
        "median_time_spread": statistics.median([r["time_spread"] for r in task_rows]) if task_rows else None,
        "fuel_identical": fuel_identical,
        "fuel_rho_not_1": sum(1 for r in task_rows if r["rho_fuel1_fuel2"] is not None
                              and abs(r["rho_fuel1_fuel2"] - 1) > 1e-12),
        "codefuel_wall_s": [round(wall1, 1), round(wall2, 1)],
        "timing_pass1": info1,
        "timing_pass2": info2,
        "codefuel_command": cmd[:1] + [os.path.basename(c) if c.startswith(tmp) else c for c in cmd[1:]],
    }
    return summary, task_rows


def report(dataset, s, task_rows, repeats):
    print(f"== {dataset} ==")
    print(f"reference: {s['reference_samples']} EvalPerf samples; {s['evalplus_not_pass']} not evalplus "
          f"pass/pass, {s['duplicates']} duplicate texts -> {s['solutions_pooled']} solutions "
          f"in {s['tasks_in_pool']} tasks")
    print(f"codefuel not pass/pass: {s['codefuel_not_pass']}; failed natively: {s['native_failed']}"
          + (f" ({', '.join(f'{k} {v}' for k, v in s['native_failures'].items())})" if s["native_failures"] else ""))
    print(f"kept: {s['solutions_kept']} solutions; tasks with >= 3 kept: {s['tasks_used']} "
          f"({s['solutions_in_used_tasks']} solutions); tasks with < 3: {s['tasks_lt3']}")
    print(f"Spearman undefined: all-tied fuel in {s['tasks_all_tied_fuel']} tasks, "
          f"all-tied time in {s['tasks_all_tied_time']} tasks")
    print(f"Spearman(fuel, time pass 1):            {fmt_summary(s['rho_fuel_time1'])}")
    print(f"Spearman(fuel, time pass 2):            {fmt_summary(s['rho_fuel_time2'])}")
    print(f"noise ceiling Spearman(time 1, time 2): {fmt_summary(s['rho_time1_time2'])}")
    print(f"Spearman(fuel, time 1), tasks with ceiling >= 0.8: {fmt_summary(s['rho_fuel_time1_steady'])}")
    if task_rows:
        print(f"within-task spread (max/min), median over tasks: fuel {s['median_fuel_spread']:.2f}x, "
              f"time (pass 1) {s['median_time_spread']:.2f}x")
    for factor, p in s["pairs"].items():
        share = p["fuel_agrees"] / p["time_separated"] if p["time_separated"] else float("nan")
        back = p["time_agrees"] / p["fuel_separated"] if p["fuel_separated"] else float("nan")
        worst = ", ".join(f"{t} {n}" for t, n in sorted(p["disagreeing_tasks"].items(),
                                                        key=lambda x: (-x[1], task_number(x[0])))[:4])
        print(f"pairs with time ratio >= {factor}x in both passes: {p['time_separated']}; fuel orders "
              f"{p['fuel_agrees']} the same way ({share:.1%}), {p['fuel_disagrees']} the other way"
              + (f" ({worst})" if worst else "") + f", {p['fuel_ties']} tied")
        print(f"pairs with fuel ratio >= {factor}x: {p['fuel_separated']}; both timing passes agree on "
              f"{p['time_agrees']} ({back:.1%})")
    print(f"fuel determinism: {s['fuel_identical']}/{s['solutions_pooled']} solutions with identical "
          f"statuses, plus_fuel and per-input fuel in both codefuel runs; tasks with "
          f"Spearman(fuel 1, fuel 2) != 1: {s['fuel_rho_not_1']}")
    p1, p2 = s["timing_pass1"], s["timing_pass2"]
    print(f"timing: repeats {repeats}; pass 1 {p1['wall_s']:.0f} s (load {p1['load1_before']:.2f} -> "
          f"{p1['load1_after']:.2f}), pass 2 {p2['wall_s']:.0f} s (load {p2['load1_before']:.2f} -> "
          f"{p2['load1_after']:.2f}); codefuel runs {s['codefuel_wall_s'][0]} s, {s['codefuel_wall_s'][1]} s")
    lowest = sorted((r for r in task_rows if r["rho_fuel_time1"] is not None),
                    key=lambda r: (r["rho_fuel_time1"], task_number(r["task_id"])))[:5]
    if lowest:
        print("lowest Spearman(fuel, time 1):")
        print(f"  {'task':12} {'n':>3} {'rho(f,t1)':>9} {'rho(f,t2)':>9} {'rho(t1,t2)':>10} "
              f"{'fuel max/min':>12} {'time max/min':>12}")
        for r in lowest:
            def f3(x):
                return "-" if x is None else f"{x:+.3f}"
            print(f"  {r['task_id']:12} {r['n']:>3} {f3(r['rho_fuel_time1']):>9} {f3(r['rho_fuel_time2']):>9} "
                  f"{f3(r['rho_time1_time2']):>10} {r['fuel_spread']:>12.2f} {r['time_spread']:>12.2f}")
    print()


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "--worker":
        worker(sys.argv[2], sys.argv[3])
        return
    parser = common.arg_parser(__doc__, paths=("codefuel", "datasets", "reference"))
    common.add_dataset_flag(parser)
    parser.add_argument("--repeats", type=int, default=5, help="native repeats per solution (min is taken)")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per native subprocess")
    parser.add_argument("--limit-tasks", type=int, default=0, help="only the first N tasks of each dataset")
    parser.add_argument("--json", default="", help="write per-task and per-solution results here")
    parser.add_argument("--progress", action="store_true", help="per-task progress on stderr")
    args = parser.parse_args()

    datasets = common.chosen_datasets(args)
    print(f"python {sys.version.split()[0]} ({sys.executable}), {os.cpu_count()} CPUs, "
          f"load {os.getloadavg()[0]:.2f}, repeats {args.repeats}, codefuel {args.codefuel}")
    print()
    out = {"config": {"repeats": args.repeats, "timeout_s": args.timeout, "limit_tasks": args.limit_tasks,
                      "python": sys.version, "cpus": os.cpu_count(), "seed": SEED},
           "datasets": {}}
    with tempfile.TemporaryDirectory(prefix="efficiency-study-") as tmp:
        for dataset in datasets:
            summary, task_rows = study(args, dataset, tmp)
            report(dataset, summary, task_rows, args.repeats)
            out["datasets"][dataset] = {"summary": summary, "tasks": task_rows}
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
