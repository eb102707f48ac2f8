"""The `codefuel` Python API: run, judge, judge_many, evaluate, extract_code; their errors,
determinism and thread safety. Run by harness/python/test.sh (and so by .ci/run)."""

import json
import pathlib
import threading

import pytest

import codefuel

ROOT = pathlib.Path(__file__).resolve().parents[3]
DEMO = ROOT / "examples" / "demo"
SUM = "a, b = map(int, input().split())\nprint(a + b)\n"


def test_run_reports_output_fuel_and_exit():
    result = codefuel.run("import sys\nprint(sum(range(10)))\nsys.stderr.write('e')")
    assert result.verdict == "completed" and result.exit_code == 0 and result.ok
    assert result.stdout == "45\n" and result.stderr == "e"
    assert result.fuel > 0 and result.exception is None


def test_run_reads_stdin_as_str_or_bytes():
    assert codefuel.run(SUM, stdin="20 22\n").stdout == "42\n"
    assert codefuel.run(SUM, stdin=b"1 2\n").stdout == "3\n"


def test_program_failures_are_verdicts_not_exceptions():
    raised = codefuel.run("print('x')\nraise KeyError('k')")
    assert raised.verdict == "exception" and raised.exit_code == 1 and not raised.ok
    assert raised.exception.type == "KeyError" and "KeyError" in raised.exception.traceback
    assert raised.stdout == "x\n"
    assert codefuel.run("import sys\nsys.exit(3)").exit_code == 3
    syntax = codefuel.run("def f(:\n")
    assert syntax.verdict == "exception" and syntax.exception.type == "SyntaxError"
    spin = codefuel.run("while True:\n    pass", fuel=50_000_000)
    assert spin.verdict == "fuel_exhausted" and spin.exit_code is None
    assert spin.fuel >= 50_000_000
    # 160 MiB: above the ~95 MiB the guest starts with (a smaller cap is refused outright).
    big = codefuel.run("x = bytearray(300 << 20)", memory_mb=160)
    assert big.verdict == "memory_limit"


def test_run_is_deterministic():
    code = "import random\nd = {str(i): random.random() for i in range(500)}\nprint(hash('a'), len(d))"
    first, second = codefuel.run(code), codefuel.run(code)
    assert (first.stdout, first.fuel) == (second.stdout, second.fuel)


def test_run_files_are_an_in_memory_directory():
    code = "data = open('in.txt').read()\nopen('out.txt', 'w').write(data.upper())"
    result = codefuel.run(code, files={"in.txt": "hello"}, fetch_files=["out.txt", "nope"])
    assert result.ok, result
    assert result.files == {"out.txt": b"HELLO"}


@pytest.mark.parametrize("kwargs, message", [
    ({"fuel": 0}, "fuel must be a positive integer"),
    ({"fuel": -5}, "fuel must be a positive integer"),
    ({"fuel": 1.5}, "fuel must be a positive integer"),
    ({"memory_mb": 0}, "memory_mb must be a positive integer"),
    ({"memory_mb": 10 ** 9}, "memory_mb must be at most"),
    ({"timeout": float("nan")}, "timeout must be a positive number"),
    ({"timeout": -1}, "timeout must be a positive number"),
    ({"stdin": 12}, "stdin must be str or bytes"),
    ({"files": {"": "x"}}, "is not a path"),
    ({"files": ["a"]}, "files must be a dict"),
])
def test_run_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        codefuel.run("print(1)", **kwargs)
    with pytest.raises(ValueError, match="code must be a str"):
        codefuel.run(b"print(1)")


def test_judge_every_test_shape():
    io = codefuel.judge(SUM, {"stdin_stdout": [{"input": "1 2\n", "output": "3\n"},
                                               {"input": "2 2\n", "output": "5\n"}]})
    assert [t.verdict for t in io.tests] == ["pass", "wrong_answer"]
    assert io.pass_rate == 0.5 and not io.all_passed and io.reward == 0.0
    assert io.fuel == sum(t.fuel for t in io.tests) > 0
    calls = codefuel.judge("def add(a, b):\n    return a + b",
                           {"fn_name": "add", "calls": [{"args": [1, 2], "expected": 3}]})
    assert calls.all_passed and calls.reward == 1.0
    asserts = codefuel.judge("def sq(x):\n    return x * x", ["assert sq(3) == 9", "assert sq(2) == 5"])
    assert [t.verdict for t in asserts.tests] == ["pass", "wrong_answer"]
    # APPS's input_output, as a dict or as the JSON string the dataset stores.
    apps = {"inputs": ["3\n"], "outputs": ["9\n"]}
    assert codefuel.judge("print(int(input()) ** 2)", apps).all_passed
    assert codefuel.judge("print(int(input()) ** 2)", json.dumps(apps)).all_passed


def test_judge_limits_and_extraction():
    slow = codefuel.judge("while True:\n    pass", {"stdin_stdout": [{"input": "", "output": ""}]},
                          fuel_per_test=10_000_000)
    assert slow.tests[0].verdict == "fuel_limit"
    answer = "Here it is:\n```python\nprint(int(input()) + 1)\n```\nDone."
    result = codefuel.judge(answer, {"stdin_stdout": [{"input": "1", "output": "2"}]}, extract=True)
    assert result.all_passed and result.extracted == "print(int(input()) + 1)"
    stopped = codefuel.judge(SUM, {"stdin_stdout": [{"input": "1 1", "output": "0"},
                                                    {"input": "1 1", "output": "2"}]},
                             stop_at_first_failure=True)
    assert [t.verdict for t in stopped.tests] == ["wrong_answer", "skipped"]


@pytest.mark.parametrize("call, message", [
    (lambda: codefuel.judge(SUM, 42), "tests must be a dict"),
    (lambda: codefuel.judge(SUM, "{not json"), "must be JSON"),
    (lambda: codefuel.judge(SUM, {"nope": []}), "task on line 1"),
    (lambda: codefuel.judge(SUM, ["assert 1"], fuel_per_test=0), "fuel_per_test"),
    (lambda: codefuel.judge(SUM, ["assert 1"], time_per_test=0), "time_per_test"),
    (lambda: codefuel.judge(SUM, ["assert 1"], fuel_per_test=1, time_per_test=1), "not both"),
    (lambda: codefuel.judge(SUM, ["assert 1"], exact="yes"), "exact must be True or False"),
    (lambda: codefuel.judge_many([42]), "item 0"),
    (lambda: codefuel.judge_many([], jobs=0), "jobs must be a positive integer"),
])
def test_judge_rejects_bad_input(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_judge_many_reads_dataset_rows_and_pairs_in_order():
    rows = [json.loads(line) for line in (ROOT / "examples/judge/tasks.jsonl").read_text().splitlines()
            if line.strip()]
    results = codefuel.judge_many(rows)
    assert len(results) == len(rows)
    # Each row's id comes back in its place.
    ids = [next(r[k] for k in ("id", "task_id", "problem_id", "question_id", "name") if k in r)
           for r in rows]
    assert [r.id for r in results] == [str(i) for i in ids]
    pairs = codefuel.judge_many([(SUM, {"stdin_stdout": [{"input": f"{i} {i}", "output": str(2 * i)}]})
                                 for i in range(20)], jobs=2)
    assert [r.id for r in pairs] == [str(i) for i in range(20)]
    assert all(r.all_passed for r in pairs)
    assert codefuel.judge_many([]) == []


def test_judge_many_is_deterministic_and_thread_safe():
    items = [(f"n = int(input())\nprint(sum(i * i for i in range(n + {i})))",
              {"stdin_stdout": [{"input": "100", "output": str(sum(k * k for k in range(100 + i)))}]})
             for i in range(12)]
    expected = [(r.all_passed, r.fuel) for r in codefuel.judge_many(items)]
    assert all(passed for passed, _ in expected)
    outcomes = [None] * 6
    errors = []

    def work(slot):
        try:
            outcomes[slot] = [(r.all_passed, r.fuel) for r in codefuel.judge_many(items)]
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert outcomes == [expected] * 6


def test_evaluate_gives_evalplus_rows():
    evaluation = codefuel.evaluate("humaneval", DEMO / "samples.jsonl",
                                   dataset_file=DEMO / "problems.jsonl")
    rows = evaluation.rows
    assert sorted(rows) == ["Demo/0", "Demo/1", "Demo/2", "Demo/3"]
    statuses = [(row["base_status"], row["plus_status"]) for row in rows["Demo/0"]]
    assert statuses == [("pass", "pass"), ("fail", "fail")]
    assert 0 < evaluation.pass_at_k["base"]["pass@1"] <= 1
    assert "pass@1" in evaluation.summary
    inline = codefuel.evaluate("humaneval", [{"task_id": "Demo/0", "completion": "    return a - b\n"}],
                               dataset_file=DEMO / "problems.jsonl")
    assert inline.rows["Demo/0"][0]["base_status"] == "fail"


def test_evaluate_errors():
    with pytest.raises(ValueError, match="unknown dataset"):
        codefuel.evaluate("apps", [])
    with pytest.raises(ValueError, match="no sample .* matches a task"):
        codefuel.evaluate("humaneval", [{"task_id": "Demo/9", "solution": "x"}],
                          dataset_file=DEMO / "problems.jsonl")
    with pytest.raises(ValueError, match="no-such-file"):
        codefuel.evaluate("humaneval", "no-such-file.jsonl", dataset_file=DEMO / "problems.jsonl")
    with pytest.raises(ValueError, match="sample 0"):
        codefuel.evaluate("humaneval", [{"solution": "x"}], dataset_file=DEMO / "problems.jsonl")


def test_extract_code():
    answer = "<think>```python\nprint('draft')\n```</think>\n```python\nprint('final')\n```"
    assert codefuel.extract_code(answer) == "print('final')"
    completion = "def add(a, b):\n    return a + b\n\nprint(add(1, 2))\nassert add(1, 1) == 2\n"
    assert codefuel.extract_code(completion, entry_point="add") == "def add(a, b):\n    return a + b"
    assert codefuel.extract_code("no code here at all, sorry.") == ""
    with pytest.raises(ValueError, match="entry_point"):
        codefuel.extract_code(completion, entry_point="not a name")


def test_engine_objects_and_errors():
    engine = codefuel.Engine(jobs=1)
    assert engine.jobs == 1
    assert engine.run("print(2)").stdout == "2\n"
    assert codefuel.engine() is codefuel.engine()
    assert issubclass(codefuel.SandboxError, Exception)
    with pytest.raises(ValueError, match="jobs"):
        codefuel.Engine(jobs=0)


def test_engine_guest():
    engine = codefuel.Engine(jobs=1, guest="rustpython")
    assert engine.guest == "rustpython" and codefuel.Engine(jobs=1).guest == "rustpython"
    assert engine.run("import sys\nprint(sys.implementation.name)").stdout == "rustpython\n"
    for bad in ["pypy", "CPython", "", 3]:
        with pytest.raises(ValueError, match='guest must be "rustpython" or "cpython"'):
            codefuel.Engine(guest=bad)
    # CPython is there only in a build with the `cpython` feature; else the error says so.
    try:
        cpython = codefuel.Engine(jobs=1, guest="cpython")
    except codefuel.SandboxError as e:
        assert "built without the cpython guest" in str(e)
    else:
        assert cpython.guest == "cpython"
        assert cpython.run("import sys\nprint(sys.implementation.name)").stdout == "cpython\n"


def test_codefuel_failures_are_sandbox_errors(tmp_path):
    # A cache directory others can write is refused: codefuel would run native code from it.
    shared = tmp_path / "cache"
    shared.mkdir()
    shared.chmod(0o777)
    with pytest.raises(codefuel.SandboxError, match="cache"):
        codefuel.Engine(cache_dir=shared)
