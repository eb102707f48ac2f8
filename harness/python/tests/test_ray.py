"""examples/ray/score.py on a local Ray cluster (ray.init() on this machine): every task
scored once, in order, with the same verdicts and fuel as judge_many in this process.
Skipped where Ray is not installed (harness/python/test.sh installs it)."""

import importlib.util
import json
import pathlib

import pytest

import codefuel

ray = pytest.importorskip("ray")

ROOT = pathlib.Path(__file__).resolve().parents[3]


def test_ray_example_scores_a_jsonl_like_judge_many(tmp_path):
    tasks = [{"id": "t%d" % i,
              "code": "a, b = map(int, input().split())\nprint(a + b%s)\n" % (" + 1" if i % 3 == 0 else ""),
              "tests": {"stdin_stdout": [{"input": "%d %d" % (i, i), "output": str(2 * i)}]}}
             for i in range(40)]
    source = tmp_path / "tasks.jsonl"
    source.write_text("".join(json.dumps(t) + "\n" for t in tasks))
    spec = importlib.util.spec_from_file_location("score", ROOT / "examples/ray/score.py")
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    out = tmp_path / "scores.jsonl"
    n = example.score(str(source), str(out), actors=1, cpus_per_actor=1, batch_size=8)
    assert n == 40
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    expected = codefuel.judge_many(tasks)
    assert [(r["id"], r["all_passed"], r["fuel"]) for r in rows] == \
        [(e.id, e.all_passed, e.fuel) for e in expected]
    assert [r["all_passed"] for r in rows] == [i % 3 != 0 for i in range(40)]
