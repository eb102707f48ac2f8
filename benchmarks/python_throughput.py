"""judge_many from Python against `codefuel judge` from the CLI, on the same tasks.

Both judge N short stdin/stdout programs (read two ints, print their sum; one test each)
with the same number of workers; the script prints executions per second for each and
their ratio. The issue's target: Python within 10 % of the CLI.

    cargo build --release -p codefuel-cli
    pip install ./harness/python                  # or: maturin develop --release
    python benchmarks/python_throughput.py [--tasks 10000] [--jobs 2]
"""

import argparse
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import time

import codefuel

ROOT = pathlib.Path(__file__).resolve().parents[1]


def tasks(n):
    return [{"id": str(i),
             "code": "a, b = map(int, input().split())\nprint(a + b)\n",
             "tests": {"stdin_stdout": [{"input": "%d %d\n" % (i, 7 * i), "output": "%d\n" % (8 * i)}]}}
            for i in range(n)]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", type=int, default=10_000)
    parser.add_argument("--jobs", type=int, default=os.cpu_count())
    parser.add_argument("--cli", default=str(ROOT / "target/release/codefuel"))
    args = parser.parse_args()
    work = tasks(args.tasks)

    with tempfile.TemporaryDirectory() as tmp:
        source = pathlib.Path(tmp) / "tasks.jsonl"
        source.write_text("".join(json.dumps(t) + "\n" for t in work))
        out = pathlib.Path(tmp) / "results.jsonl"
        # Warm the cache (the compiled guest) so neither side pays for compiling it.
        subprocess.run([args.cli, "run", "-"], input=b"pass", check=True, capture_output=True)
        started = time.perf_counter()
        subprocess.run([args.cli, "judge", "--input", str(source), "--output", str(out),
                        "--jobs", str(args.jobs), "--quiet"], check=True)
        cli_seconds = time.perf_counter() - started
        cli_passed = sum(json.loads(line)["all_passed"] for line in out.read_text().splitlines())

    engine = codefuel.Engine(jobs=args.jobs)
    engine.run("pass")
    started = time.perf_counter()
    results = engine.judge_many(work)
    py_seconds = time.perf_counter() - started
    py_passed = sum(r.all_passed for r in results)

    assert cli_passed == py_passed == args.tasks, (cli_passed, py_passed)
    cli_rate, py_rate = args.tasks / cli_seconds, args.tasks / py_seconds
    print("tasks %d, jobs %d" % (args.tasks, args.jobs))
    print("cli     %8.0f executions/s  (%.2f s, process start included)" % (cli_rate, cli_seconds))
    print("python  %8.0f executions/s  (%.2f s)" % (py_rate, py_seconds))
    print("python / cli: %.3f" % (py_rate / cli_rate))


if __name__ == "__main__":
    sys.exit(main())
