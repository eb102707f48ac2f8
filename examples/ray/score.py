"""Score a JSONL of completions with codefuel on a Ray cluster.

Each input line is a judge task in any shape ``codefuel judge`` reads (``{"id", "code",
"tests"}``, an APPS/TACO row, a CodeContests row, ...). Each output line is the task's id
with its verdicts: ``pass_rate``, ``all_passed``, ``reward``, ``fuel`` and the per-test
verdicts. Ray Data reads the file in blocks and hands them to a pool of actors; each actor
holds one codefuel engine (a compiled guest and a sandbox pool using its CPUs) for its whole
life, so the guest is loaded once per actor, not once per batch.

    python examples/ray/score.py tasks.jsonl scores.jsonl            # this machine
    python examples/ray/score.py tasks.jsonl scores.jsonl --address auto   # a running cluster

On a cluster: ``pip install ./harness/python`` on every node (or in the runtime
environment's image), ``ray start --head`` on one node, ``ray start --address HEAD:6379`` on
the others, then run this with ``--address auto`` from any node. ``--actors`` defaults to one
per node-sized share of the cluster's CPUs divided by ``--cpus-per-actor``.
"""

import argparse
import json
import sys

import ray

import codefuel


class Scorer:
    """One Ray actor: an engine with ``jobs`` sandboxes, judging one batch of rows at a time."""

    def __init__(self, jobs, options):
        self.engine = codefuel.Engine(jobs=jobs)
        self.options = options

    def __call__(self, batch):
        # Ray Data gives a batch as columns; rebuild the rows (tasks) from the "task" column.
        tasks = [json.loads(line) for line in batch["task"]]
        results = self.engine.judge_many(tasks, **self.options)
        return {
            "result": [json.dumps({
                "id": r.id,
                "pass_rate": r.pass_rate,
                "all_passed": r.all_passed,
                "reward": r.reward,
                "fuel": r.fuel,
                "verdicts": [t.verdict for t in r.tests],
            }) for r in results],
        }


def score(input_path, output_path, *, actors=None, cpus_per_actor=2, batch_size=64,
          options=None, address=None):
    """Scores every task of ``input_path`` into ``output_path`` (JSONL, in input order);
    returns the number of tasks."""
    ray.init(address=address, ignore_reinit_error=True, log_to_driver=False)
    try:
        if actors is None:
            actors = max(1, int(ray.cluster_resources().get("CPU", 1)) // cpus_per_actor)
        with open(input_path) as f:
            lines = [line for line in f if line.strip()]
        # Rows travel as JSON text: task fields differ between datasets (and between rows),
        # which Arrow's typed columns would not hold.
        # Results in the input's order (Ray Data may reorder blocks otherwise).
        ray.data.DataContext.get_current().execution_options.preserve_order = True
        dataset = ray.data.from_items([{"task": line} for line in lines])
        scored = dataset.map_batches(
            Scorer,
            fn_constructor_args=(cpus_per_actor, options or {}),
            batch_size=batch_size,
            concurrency=actors,
            num_cpus=cpus_per_actor,
        )
        with open(output_path, "w") as out:
            for row in scored.iter_rows():
                out.write(row["result"] + "\n")
        return len(lines)
    finally:
        ray.shutdown()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("input", help="JSONL of judge tasks")
    parser.add_argument("output", help="where to write one JSON result per task")
    parser.add_argument("--address", default=None,
                        help="Ray cluster address ('auto' for a running cluster; default: "
                             "start a local one)")
    parser.add_argument("--actors", type=int, default=None, help="scoring actors")
    parser.add_argument("--cpus-per-actor", type=int, default=2,
                        help="CPUs (sandboxes) per actor (default 2)")
    parser.add_argument("--batch-size", type=int, default=64, help="tasks per batch")
    parser.add_argument("--time-per-test", type=float, default=None,
                        help="seconds of fuel per test (default: codefuel's, 1 s)")
    parser.add_argument("--extract", action="store_true",
                        help="the code fields are raw model answers: judge the code in them")
    args = parser.parse_args(argv)
    options = {"extract": args.extract}
    if args.time_per_test is not None:
        options["time_per_test"] = args.time_per_test
    n = score(args.input, args.output, actors=args.actors, cpus_per_actor=args.cpus_per_actor,
              batch_size=args.batch_size, options=options, address=args.address)
    print("scored %d tasks into %s" % (n, args.output), file=sys.stderr)


if __name__ == "__main__":
    main()
