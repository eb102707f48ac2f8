#!/usr/bin/env python3
"""Agreement of `codefuel judge` with native CPython on real public data (issue 14).

`prepare` turns public repositories, read at pinned commits, into judge tasks (one JSONL per
source, in the dataset's own shape where codefuel reads it, plus all.jsonl and SOURCES.json):

  coderl         salesforce/CodeRL data/APPS: 5 APPS train problems (3 stdin, 2 fn_name), their
                 reference solutions and CodeRL's labelled generations; APPS test 0000 with
                 outputs/codes/0.json and its example tests. Shape: APPS `input_output`.
  kodcode        KodCode-AI/kodcode demo/KodCode_*.json: every trial (a model's solution and its
                 own pytest file, labelled Pass/Fail), and demo/SFT_KodCode_*/cross_verification_*:
                 DeepSeek-R1's solutions with the question's verified pytest file and KodCode's
                 result. Each zero-argument `test_*` function is one assert test: its assert
                 lines when the file has no other set-up, else the file's set-up, the function
                 and a call. Functions that use pytest, take fixtures or are decorated are left
                 out (neither side has pytest). The same program on the same tests counts once.
  sandboxfusion  bytedance/SandboxFusion sandbox/tests/datasets: MBPP canonical solutions with
                 test_list + challenge_test_list (asserts); LiveCodeBench's 3 problems with the
                 passing and failing programs of test_live_code_bench_v1.py (LiveCodeBench shape,
                 decompressed); CodeContests problem 17 with the Python completion of
                 test_code_contests.py (codefuel's stdin_stdout shape).

`compare` runs `codefuel judge` on a task file, runs every test again with python3 subprocesses
(as verl's prime_code and rllm do), and compares the verdicts test by test:

  stdin tests   `python3 main.py` with the input on stdin; stdout compared as codefuel does
                (each line's trailing whitespace, then trailing blank lines dropped; Rust's
                `lines()` and Unicode White_Space, as `outputs_match`);
  call tests    the program codefuel builds (the code, then a call of fn_name or
                Solution().fn_name with stdout captured, the value printed as JSON after a
                marker), the value compared as `call_matches`/`values_match` do;
  assert tests  as `codefuel matrix` runs them: the code executed in a fresh namespace (so
                `__name__` is not "__main__") with write-only stdio, then the snippet in it;
                AssertionError is wrong_answer, any other exception an exception.

Uncaught exception types come from a sys.excepthook installed by a sitecustomize module (the
program itself runs unchanged). PYTHONHASHSEED=0. Each native test gets --native-timeout
seconds; the agreement counts the tests whose native run took under --fast-under seconds
(issue 14's target: 99 % of them). Every pass/fail disagreement is listed, then the tests where
both fail but the verdicts differ (e.g. fuel_limit against a native exception).

    python3 scripts/judge_native.py prepare --sandboxfusion DIR --coderl DIR --kodcode DIR
                                            [--out ../judge-data] [--max-tests 10]
    python3 scripts/judge_native.py compare [--input ../judge-data/all.jsonl]
                                            [--codefuel target/release/codefuel] [--jobs 1]
                                            [--native-timeout 4] [--fast-under 2]
                                            [--judge-args "--time-per-test 2"] [--report FILE]

Each DIR is a clone (or a bare mirror) of the repository; `prepare` reads the pinned commit
(SOURCES) and fails if the clone lacks it. The data stays outside the repository (default
../judge-data). `compare` exits 1 when the agreement is below --min-agreement (default 0.99).
Standard library only.
"""
import ast
import base64
import io
import json
import math
import os
import pickle
import re
import shlex
import subprocess
import sys
import tempfile
import time
import zlib

import common

# Repository, commit and the paths read, per source.
SOURCES = {
    "coderl": {
        "repo": "salesforce/CodeRL",
        "commit": "ec3c526a07e44f56f702f354cbad11187bdf25cc",
        "paths": ["data/APPS/train/*/{input_output,solutions,gen_solutions}.json",
                  "data/APPS_test_example_tests/0000/example_input_output.json",
                  "outputs/codes/0.json"],
    },
    "kodcode": {
        "repo": "KodCode-AI/kodcode",
        "commit": "1d3515baeb1876f369c1ce0c6f6e1ba8950deafa",
        "paths": ["demo/KodCode_algorithm_100_1741212598.json",
                  "demo/KodCode_leetcode_100_1741214688.json",
                  "demo/KodCode_prefill_200_1741214325.json",
                  "demo/SFT_KodCode_*/cross_verification_*/*/trial_r1_*/"
                  "{solution.py,test_solution.py,test_result.txt}"],
    },
    "sandboxfusion": {
        "repo": "bytedance/SandboxFusion",
        "commit": "469de0845cb7d665bc68044d541aa3aa28c5b30a",
        "paths": ["sandbox/tests/datasets/samples/code_eval_mbpp.jsonl",
                  "sandbox/tests/datasets/samples/code_eval_live_code_bench_v1.jsonl",
                  "sandbox/tests/datasets/test_live_code_bench_v1.py",
                  "sandbox/tests/datasets/samples/code_eval_code_contests.jsonl",
                  "sandbox/tests/datasets/test_code_contests.py"],
    },
}
DEFAULT_DATA = os.path.join(common.ROOT, "..", "judge-data")


# ====================================================================================== #
# prepare                                                                                #
# ====================================================================================== #


class Repo:
    """Files of one repository at its pinned commit."""

    def __init__(self, path, commit):
        self.path, self.commit = path, commit
        ok = subprocess.run(["git", "-C", path, "cat-file", "-e", commit + "^{commit}"],
                            capture_output=True)
        if ok.returncode:
            sys.exit(f"{path}: commit {commit} not found (fetch it, or clone the repository)")

    def text(self, path):
        return subprocess.run(["git", "-C", self.path, "show", f"{self.commit}:{path}"],
                              check=True, capture_output=True).stdout.decode("utf-8")

    def json(self, path):
        return json.loads(self.text(path))

    def jsonl(self, path):
        return [json.loads(line) for line in self.text(path).splitlines() if line.strip()]

    def texts(self, paths):
        """Many files at once (git cat-file --batch)."""
        request = "".join(f"{self.commit}:{p}\n" for p in paths).encode()
        out = subprocess.run(["git", "-C", self.path, "cat-file", "--batch"], input=request,
                             check=True, capture_output=True).stdout
        texts, at = [], 0
        for _ in paths:
            header_end = out.index(b"\n", at)
            size = int(out[at:header_end].split()[2])
            texts.append(out[header_end + 1:header_end + 1 + size].decode("utf-8"))
            at = header_end + 1 + size + 1
        return texts

    def files(self, folder):
        out = subprocess.run(["git", "-C", self.path, "ls-tree", "-r", "--name-only", self.commit, folder],
                             check=True, capture_output=True, text=True).stdout
        return out.split()

    def dirs(self, folder):
        out = subprocess.run(["git", "-C", self.path, "ls-tree", "--name-only", f"{self.commit}:{folder}"],
                             check=True, capture_output=True, text=True).stdout
        return sorted(out.split())


def capped_io(io, max_tests):
    """An APPS input_output object (or JSON string) cut to its first max_tests tests, as JSON."""
    io = json.loads(io) if isinstance(io, str) else dict(io)
    io["inputs"], io["outputs"] = io["inputs"][:max_tests], io["outputs"][:max_tests]
    return json.dumps(io)


def code_block(completion):
    """The first ```python block of a completion (else the text)."""
    m = re.search(r"```python\n(.*?)```", completion, re.S)
    return m.group(1) if m else completion


def prepare_coderl(repo, max_tests):
    tasks = []
    for problem in repo.dirs("data/APPS/train"):
        base = f"data/APPS/train/{problem}"
        io = capped_io(repo.text(f"{base}/input_output.json"), max_tests)
        for i, code in enumerate(repo.json(f"{base}/solutions.json")):
            tasks.append({"id": f"coderl/apps-train-{problem}/solution-{i}", "solution": code,
                          "input_output": io, "label": "reference"})
        for i, gen in enumerate(repo.json(f"{base}/gen_solutions.json")):
            # result: True, False (wrong answer), -1 (runtime error) or -2 (compile error).
            tasks.append({"id": f"coderl/apps-train-{problem}/gen-{i}", "solution": gen["code"],
                          "input_output": io, "label": "pass" if gen["result"] is True else "fail",
                          "label_detail": gen.get("error_type")})
    # APPS test problem 0000: CodeRL's sample generations, judged on its example tests.
    io = capped_io(repo.text("data/APPS_test_example_tests/0000/example_input_output.json"), max_tests)
    for i, code in enumerate(repo.json("outputs/codes/0.json")["0"]["code"]):
        tasks.append({"id": f"coderl/apps-test-0000/gen-{i}", "solution": code, "input_output": io})
    return tasks, {}


def _names(node):
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def _is_solution_import(node):
    if isinstance(node, ast.ImportFrom):
        return node.module == "solution"
    return isinstance(node, ast.Import) and any(a.name == "solution" for a in node.names)


def _is_main_guard(node):
    return isinstance(node, ast.If) and "__name__" in _names(node.test)


def kodcode_tests(test_code, max_tests, skipped):
    """Assert snippets from one KodCode pytest file (see the module docstring); counts what
    is left out in `skipped`."""
    try:
        module = ast.parse(test_code)
    except SyntaxError:
        skipped["test file SyntaxError"] += 1
        return []
    tests, setup = [], []
    for node in module.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("test"):
            tests.append(node)
        elif _is_solution_import(node) or _is_main_guard(node):
            continue
        elif isinstance(node, ast.Import) and [a.name for a in node.names] == ["pytest"]:
            continue
        elif isinstance(node, ast.Expr) and (isinstance(node.value, ast.Constant) or "pytest" in _names(node)):
            continue  # a docstring, or pytest.main()
        else:
            setup.append(node)
    setup_text = "\n".join(ast.get_source_segment(test_code, n) for n in setup)
    snippets = []
    for fn in tests:
        if fn.args.args or fn.args.vararg or fn.args.kwonlyargs or fn.decorator_list:
            skipped["test function with fixtures or decorators"] += 1
        elif isinstance(fn, ast.AsyncFunctionDef) or "pytest" in _names(fn) or "pytest" in setup_text:
            skipped["test function using pytest"] += 1
        elif not setup and all(isinstance(s, ast.Assert) for s in fn.body):
            lines = [ast.get_source_segment(test_code, s, padded=True) for s in fn.body]
            snippets.append("\n".join(dedent_block(l) for l in lines))
        else:
            source = ast.get_source_segment(test_code, fn)
            snippets.append((setup_text + "\n\n" if setup_text else "") + source + f"\n\n{fn.name}()\n")
    return snippets[:max_tests]


def dedent_block(text):
    lines = text.split("\n")
    indent = min(len(l) - len(l.lstrip()) for l in lines if l.strip())
    return "\n".join(l[indent:] for l in lines)


def prepare_kodcode(repo, max_tests):
    tasks, skipped = [], {"test file SyntaxError": 0, "test function with fixtures or decorators": 0,
                          "test function using pytest": 0}
    for path in SOURCES["kodcode"]["paths"][:3]:
        for question in repo.json(path):
            for trial, t in sorted(question["trials"].items()):
                asserts = kodcode_tests(t["test_code"], max_tests, skipped)
                if asserts:
                    tasks.append({"id": f"kodcode/{question['question_id']}/{trial}",
                                  "code": t["solution_code"], "tests": {"asserts": asserts},
                                  "label": "pass" if t["test_result"] == "Pass" else "fail",
                                  "label_detail": t["test_result"]})
    # DeepSeek-R1's solutions, each run by KodCode on the question's verified pytest file.
    trials = sorted(p[: -len("/solution.py")] for p in repo.files("demo")
                    if "/cross_verification_" in p and p.endswith("/solution.py"))
    texts = repo.texts([f"{t}/{name}" for t in trials
                        for name in ("solution.py", "test_solution.py", "test_result.txt")])
    for k, trial in enumerate(trials):
        solution, test_code, result = texts[3 * k: 3 * k + 3]
        asserts = kodcode_tests(test_code, max_tests, skipped)
        if asserts:
            question, name = trial.split("/")[-2:]
            result = result.splitlines()[0].strip()
            tasks.append({"id": f"kodcode/{question}/{name}", "code": solution, "tests": {"asserts": asserts},
                          "label": "pass" if result == "Pass" else "fail", "label_detail": result})
    return tasks, skipped


class _NoGlobals(pickle.Unpickler):
    """LiveCodeBench's test field is a pickle of plain data: refuse anything else."""

    def find_class(self, module, name):
        raise pickle.UnpicklingError(f"{module}.{name} refused")


def _literal_assignments(source):
    """Top-level NAME = <literal> assignments of a Python file."""
    out = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            try:
                out[node.targets[0].id] = ast.literal_eval(node.value)
            except ValueError:
                pass
    return out


def prepare_sandboxfusion(repo, max_tests):
    tasks = []
    samples = "sandbox/tests/datasets/samples"
    for row in repo.jsonl(f"{samples}/code_eval_mbpp.jsonl"):
        labels = row["labels"] if isinstance(row["labels"], dict) else json.loads(row["labels"])
        setup = labels.get("test_setup_code") or ""
        code = (setup + "\n" if setup else "") + row["canonical_solution"]
        asserts = (row["test_list"] + (labels.get("challenge_test_list") or []))[:max_tests]
        tasks.append({"id": f"sandboxfusion/mbpp/{row['id']}", "code": code,
                      "tests": {"asserts": asserts}, "label": "reference"})

    # LiveCodeBench: the problems, and the programs SandboxFusion's own test submits.
    programs = _literal_assignments(repo.text("sandbox/tests/datasets/test_live_code_bench_v1.py"))
    problems = {row["id"]: row for row in repo.jsonl(f"{samples}/code_eval_live_code_bench_v1.jsonl")}
    for i, problem_id in enumerate(programs["IDS"]):
        row = problems[problem_id]
        test = _NoGlobals(io.BytesIO(zlib.decompress(base64.b64decode(row["test"])))).load()
        spec = json.loads(test["input_output"])
        fn = spec.get("fn_name")
        cases = [{"input": a, "output": b, "testtype": "functional" if fn else "stdin"}
                 for a, b in zip(spec["inputs"], spec["outputs"])][:max_tests]
        task_id = json.loads(row["labels"])["task_id"]
        for kind, label in (("PASSED_CODE", "pass"), ("FAILED_CODE", "fail")):
            tasks.append({"question_id": f"sandboxfusion/lcb/{task_id}/{kind.split('_')[0].lower()}",
                          "code": code_block(programs[kind][i]),
                          "public_test_cases": json.dumps(cases), "private_test_cases": "",
                          "metadata": json.dumps({"func_name": fn} if fn else {}), "label": label})

    # CodeContests: the Python completion SandboxFusion's test submits (expected to fail).
    contests = {row["id"]: row for row in repo.jsonl(f"{samples}/code_eval_code_contests.jsonl")}
    source = repo.text("sandbox/tests/datasets/test_code_contests.py")
    for call in ast.walk(ast.parse(source)):
        if not (isinstance(call, ast.Call) and getattr(call.func, "id", "") == "SubmitRequest"):
            continue
        kw = {k.arg: k.value for k in call.keywords}
        config = ast.get_source_segment(source, kw["config"])
        if ast.literal_eval(kw["dataset"]) != "code_contests" or "language='python'" not in config:
            continue
        problem_id = ast.literal_eval(kw["id"])
        cases = [{"input": t["input"]["stdin"], "output": t["output"]["stdout"]}
                 for t in json.loads(contests[problem_id]["test"])][:max_tests]
        tasks.append({"id": f"sandboxfusion/code_contests/{problem_id}/python",
                      "code": code_block(ast.literal_eval(kw["completion"])),
                      "tests": {"stdin_stdout": cases}, "label": "fail"})
    return tasks, {}


def prepare(args):
    os.makedirs(args.out, exist_ok=True)
    manifest, everything, seen = {}, [], set()
    for name, prepare_source in (("coderl", prepare_coderl), ("kodcode", prepare_kodcode),
                                 ("sandboxfusion", prepare_sandboxfusion)):
        src = SOURCES[name]
        tasks, skipped = prepare_source(Repo(getattr(args, name), src["commit"]), args.max_tests)
        # The same program on the same tests counts once (KodCode's _I and _C questions share
        # their trials; CodeRL's generations repeat).
        distinct = []
        for t in tasks:
            key = (task_code(t), json.dumps(list(task_tests(t))))
            if key not in seen:
                seen.add(key)
                distinct.append(t)
        skipped["duplicate program and tests"] = len(tasks) - len(distinct)
        tasks = distinct
        with open(os.path.join(args.out, name + ".jsonl"), "w") as f:
            for t in tasks:
                f.write(json.dumps(t) + "\n")
        n_tests = sum(len(task_tests(t)) for t in tasks)
        manifest[name] = {**src, "tasks": len(tasks), "tests": n_tests, "left_out": skipped,
                          "max_tests_per_task": args.max_tests}
        everything += tasks
        print(f"{name:14} {len(tasks):5} tasks {n_tests:6} tests  ({src['repo']}@{src['commit'][:12]})"
              + (f"  left out: {skipped}" if any(skipped.values()) else ""))
    with open(os.path.join(args.out, "all.jsonl"), "w") as f:
        for t in everything:
            f.write(json.dumps(t) + "\n")
    with open(os.path.join(args.out, "SOURCES.json"), "w") as f:
        json.dump(manifest, f, indent=2)
    print(f"wrote {args.out}/{{coderl,kodcode,sandboxfusion,all}}.jsonl and SOURCES.json")


# ====================================================================================== #
# Reading tasks (harness/lib/src/judge.rs JudgeTask::from_json, for the shapes above)    #
# ====================================================================================== #


def task_id(obj, line):
    for key in ("id", "task_id", "problem_id", "question_id", "name"):
        if key in obj:
            return obj[key] if isinstance(obj[key], str) else json.dumps(obj[key])
    return f"line {line}"


def task_code(obj):
    return next(obj[k] for k in ("code", "completion", "solution") if isinstance(obj.get(k), str))


# APPS's harness (testing_util.py; verl's prime_code) puts these imports before every APPS
# program; codefuel's APPS_PRELUDE (judge.rs) is the same with numpy guarded.
APPS_PRELUDE = (
    "import sys\nimport time\nimport itertools\n"
    "from itertools import accumulate, product, permutations, combinations\nimport collections\n"
    "from collections import Counter, OrderedDict, deque, defaultdict, ChainMap\n"
    "from functools import lru_cache\nimport math\n"
    "from math import sqrt, sin, cos, tan, ceil, fabs, floor, gcd, exp, log, log2\n"
    "import fractions\nfrom typing import List, Tuple\n"
    "try:\n    import numpy as np\nexcept ImportError:\n    pass\n"
    "import random\nimport heapq\nfrom heapq import *\n")


# LiveCodeBench's harness (lcb_runner/evaluation/testing_util.py); judge.rs's
# LIVECODEBENCH_PRELUDE.
LIVECODEBENCH_PRELUDE = "".join(f"from {m} import *\n" for m in (
    "string", "re", "datetime", "collections", "heapq", "bisect", "copy", "math", "random",
    "statistics", "itertools", "functools", "operator", "io", "sys", "json", "builtins",
    "typing")) + "".join(f"import {m}\n" for m in (
    "string", "re", "datetime", "collections", "heapq", "bisect", "copy", "math", "random",
    "statistics", "itertools", "functools", "operator", "io", "sys", "json")) \
    + "sys.setrecursionlimit(50000)\n"


def task_program(obj):
    """The program as codefuel judges it: APPS/TACO and LiveCodeBench tasks get their own
    harness's import block first."""
    if "tests" in obj:
        prelude = ""
    elif "input_output" in obj:
        prelude = APPS_PRELUDE
    elif "public_test_cases" in obj:
        prelude = LIVECODEBENCH_PRELUDE
    else:
        prelude = ""
    return prelude + task_code(obj)


def _joined(item):
    return item if isinstance(item, str) else "".join(line + "\n" for line in item)


def task_tests(obj):
    """("stdin", [(input, output)]) | ("call", fn_name, [(args, expected)]) | ("asserts", [...]),
    as a list-like: len() is the number of tests."""
    if "tests" in obj:
        t = obj["tests"]
        if "stdin_stdout" in t:
            return Tests("stdin", [(c["input"], c["output"]) for c in t["stdin_stdout"]])
        if "fn_name" in t:
            return Tests("call", [(c["args"], c["expected"]) for c in t["calls"]], t["fn_name"])
        return Tests("asserts", list(t["asserts"]))
    if "input_output" in obj:
        io = obj["input_output"]
        io = json.loads(io) if isinstance(io, str) else io
        if "fn_name" in io:
            return Tests("call", list(zip(io["inputs"], io["outputs"])), io["fn_name"])
        return Tests("stdin", [(_joined(a), _joined(b)) for a, b in zip(io["inputs"], io["outputs"])])
    if "public_test_cases" in obj:
        cases = []
        for key in ("public_test_cases", "private_test_cases"):
            value = obj.get(key)
            if isinstance(value, str):
                if not value.strip():
                    continue
                value = json.loads(value)
            cases += value or []
        if all(c["testtype"] == "stdin" for c in cases):
            return Tests("stdin", [(c["input"], c["output"]) for c in cases])
        meta = obj.get("metadata")
        meta = json.loads(meta) if isinstance(meta, str) else meta
        calls = [([json.loads(l) for l in c["input"].split("\n") if l.strip()], json.loads(c["output"]))
                 for c in cases]
        return Tests("call", calls, meta["func_name"])
    cases = []
    for key in ("public_tests", "private_tests", "generated_tests"):
        if key in obj:
            cases += [(_joined(a), _joined(b)) for a, b in zip(obj[key]["input"], obj[key]["output"])]
    return Tests("stdin", cases)


class Tests(list):
    def __init__(self, kind, cases, fn_name=None):
        super().__init__(cases)
        self.kind, self.fn_name = kind, fn_name


# ====================================================================================== #
# Comparison rules (harness/lib/src/judge.rs)                                            #
# ====================================================================================== #

# Rust's char::is_whitespace: Unicode White_Space (str.rstrip() would also strip \x1c-\x1f).
WHITE_SPACE = "\t\n\x0b\x0c\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007" \
              "\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"


def normalized(text):
    """`normalized`: Rust `str::lines()` (split at \\n, a \\r before it dropped, no final empty
    line), each line `trim_end`, trailing empty lines dropped."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    lines = [l.rstrip(WHITE_SPACE) for l in lines]
    while lines and not lines[-1]:
        lines.pop()
    return lines


def outputs_match(stdout, expected):
    try:
        text = stdout.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return normalized(text) == normalized(expected)


def _number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _as_i64(v):
    return v if isinstance(v, int) and -2**63 <= v < 2**63 else None


def _as_f64(v):
    try:
        return float(v)
    except OverflowError:
        return math.inf if v > 0 else -math.inf


def values_match(out, expected):
    """`values_match`: Python's == on JSON values, numbers as serde_json compares them (exact
    when both fit i64, else within 1e-6 + 1e-7·|b|), a bool never equal to a number."""
    if _number(out) and _number(expected):
        a, b = _as_i64(out), _as_i64(expected)
        if a is not None and b is not None:
            return a == b
        x, y = _as_f64(out), _as_f64(expected)
        return x == y or abs(x - y) <= 1e-6 + 1e-7 * abs(y)
    if isinstance(out, list) and isinstance(expected, list):
        return len(out) == len(expected) and all(values_match(x, y) for x, y in zip(out, expected))
    if isinstance(out, dict) and isinstance(expected, dict):
        return len(out) == len(expected) and all(k in expected and values_match(v, expected[k])
                                                 for k, v in out.items())
    if type(out) is not type(expected) and not (_number(out) and _number(expected)):
        return False
    return out == expected


def call_matches(out, expected):
    return values_match(out, expected) or (
        isinstance(expected, list) and len(expected) == 1 and values_match(out, expected[0]))


RESULT_MARKER = "\x00codefuel-judge-result\x00"


def _literal(text):
    """serde_json's string literal (also a Python one): only ", \\ and controls escaped."""
    return json.dumps(text, ensure_ascii=False)


def call_program(code, fn_name, args):
    """`call_program`, line for line."""
    harness = [
        "import sys as _cf_sys, json as _cf_json, io as _cf_io",
        f"_cf_name = {_literal(fn_name)}",
        "_cf_solution = globals().get('Solution')",
        "if isinstance(_cf_solution, type) and hasattr(_cf_solution, _cf_name):",
        "    _cf_fn = getattr(_cf_solution(), _cf_name)",
        "else:",
        "    _cf_fn = globals()[_cf_name]",
        "_cf_out, _cf_sys.stdout = _cf_sys.stdout, _cf_io.StringIO()",
        "try:",
        f"    _cf_value = _cf_fn(*_cf_json.loads({_literal(json.dumps(args, ensure_ascii=False, separators=(',', ':')))}))",
        "finally:",
        "    _cf_sys.stdout = _cf_out",
        f"_cf_out.write('\\n' + {_literal(RESULT_MARKER)} + '\\n' + _cf_json.dumps(_cf_value) + '\\n')",
    ]
    return f"{code}\n\n" + "\n".join(harness) + "\n"


def _no_constant(name):
    raise ValueError(name)


def returned_value(stdout):
    """`returned_value`: the JSON after the last marker (serde_json refuses NaN/Infinity)."""
    try:
        text = stdout.decode("utf-8")
    except UnicodeDecodeError:
        return None, False
    at = text.rfind(RESULT_MARKER)
    if at < 0:
        return None, False
    try:
        return json.loads(text[at + len(RESULT_MARKER):].strip(), parse_constant=_no_constant), True
    except ValueError:
        return None, False


# ====================================================================================== #
# Native runs                                                                            #
# ====================================================================================== #

# Records the type of an uncaught exception, "syntax_error:" first when the program did not
# compile (no traceback: nothing ran); the program runs unchanged as __main__.
SITECUSTOMIZE = '''import os, sys
def _judge_native_hook(kind, value, tb, _default=sys.excepthook):
    path = os.environ.get("JUDGE_NATIVE_RESULT")
    if path:
        with open(path, "w") as f:
            compile_error = tb is None and issubclass(kind, SyntaxError)
            f.write(("syntax_error:" if compile_error else "") + kind.__name__)
    _default(kind, value, tb)
sys.excepthook = _judge_native_hook
'''

# `codefuel matrix` for one (code, test): guests/python/driver/codefuel_driver.py matrix_compile,
# matrix_exec (a fresh namespace) and matrix_test, with evalplus's write-only stdio.
ASSERT_RUNNER = '''import io, json, os, sys
code_path, test_path, result_path = sys.argv[1:4]
def done(verdict, error=None):
    with open(result_path, "w") as f:
        json.dump([verdict, error], f)
    os._exit(0)
class WriteOnlyStringIO(io.StringIO):
    def read(self, *a, **k): raise IOError
    def readline(self, *a, **k): raise IOError
    def readlines(self, *a, **k): raise IOError
    def readable(self, *a, **k): return False
def swallow_io():
    sys.stdout = sys.stderr = sys.stdin = WriteOnlyStringIO()
source = open(code_path, encoding="utf-8").read()
test = open(test_path, encoding="utf-8").read()
del code_path, test_path
try:
    compiled = compile(source, "<code>", "exec")
except SyntaxError as e:
    done("syntax_error", type(e).__name__)
swallow_io()
namespace = {}
try:
    exec(compiled, namespace)
except BaseException as e:
    done("exception", type(e).__name__)
try:
    compiled = compile(test, "<test>", "exec")
except SyntaxError as e:
    done("syntax_error", type(e).__name__)
swallow_io()
try:
    exec(compiled, namespace)
except AssertionError:
    done("wrong_answer")
except BaseException as e:
    done("exception", type(e).__name__)
done("pass")
'''


class Native:
    """python3 subprocesses in a scratch directory."""

    def __init__(self, python, timeout, workdir):
        self.python, self.timeout = python, timeout
        hook = os.path.join(workdir, "hook")
        os.makedirs(hook)
        with open(os.path.join(hook, "sitecustomize.py"), "w") as f:
            f.write(SITECUSTOMIZE)
        # Each directory a program sees on sys.path holds nothing else it could import.
        for sub in ("runner", "program", "data", "cwd"):
            os.makedirs(os.path.join(workdir, sub))
        self.runner = os.path.join(workdir, "runner", "assert_runner.py")
        with open(self.runner, "w") as f:
            f.write(ASSERT_RUNNER)
        self.main = os.path.join(workdir, "program", "main.py")
        self.data = os.path.join(workdir, "data")
        self.result = os.path.join(self.data, "result")
        self.env = dict(os.environ, PYTHONPATH=hook, PYTHONHASHSEED="0", JUDGE_NATIVE_RESULT=self.result,
                        PYTHONDONTWRITEBYTECODE="1")
        self.env.pop("PYTHONSTARTUP", None)
        self.run_dir = os.path.join(workdir, "cwd")

    def _exec(self, argv, stdin):
        if os.path.exists(self.result):
            os.remove(self.result)
        start = time.perf_counter()
        proc = subprocess.Popen(argv, cwd=self.run_dir, env=self.env, stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
        try:
            out, err = proc.communicate(stdin, timeout=self.timeout)
            timed_out = False
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
            out, err = proc.communicate()
            timed_out = True
        seconds = time.perf_counter() - start
        recorded = open(self.result, encoding="utf-8").read() if os.path.exists(self.result) else None
        return proc.returncode, out, err, seconds, timed_out, recorded

    def program(self, source, stdin):
        """Runs `source` as main.py; (verdict, error, stdout, seconds)."""
        with open(self.main, "w", encoding="utf-8") as f:
            f.write(source)
        code, out, err, seconds, timed_out, exc = self._exec([self.python, self.main], stdin.encode("utf-8"))
        if timed_out:
            return "timeout", None, out, seconds
        if code < 0:
            return "crash", f"signal {-code}", out, seconds
        if exc is not None and exc.startswith("syntax_error:"):
            return "syntax_error", exc[len("syntax_error:"):], out, seconds
        if exc is not None:
            return "exception", exc, out, seconds
        if code != 0:
            return "exception", f"SystemExit:{code}", out, seconds
        return "completed", None, out, seconds

    def asserts(self, code, test):
        paths = [os.path.join(self.data, "code.py"), os.path.join(self.data, "test.py")]
        for path, text in zip(paths, (code, test)):
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
        rc, out, err, seconds, timed_out, recorded = self._exec([self.python, self.runner, *paths, self.result], b"")
        if timed_out:
            return "timeout", None, seconds
        if recorded is None:
            return ("crash", f"signal {-rc}", seconds) if rc < 0 else ("crash", f"exit {rc}", seconds)
        verdict, error = json.loads(recorded)
        return verdict, error, seconds

    def judge(self, code, tests):
        """Per test: {"verdict", "error", "seconds", "stdout"}."""
        results = []
        for case in tests:
            stdout = b""
            if tests.kind == "asserts":
                verdict, error, seconds = self.asserts(code, case)
            elif tests.kind == "stdin":
                verdict, error, stdout, seconds = self.program(code, case[0])
                if verdict == "completed":
                    verdict = "pass" if outputs_match(stdout, case[1]) else "wrong_answer"
            else:
                args, expected = case
                verdict, error, stdout, seconds = self.program(call_program(code, tests.fn_name, args), "")
                if verdict == "completed":
                    value, ok = returned_value(stdout)
                    verdict = "pass" if ok and call_matches(value, expected) else "wrong_answer"
            results.append({"verdict": verdict, "error": error, "seconds": round(seconds, 4),
                            "stdout": stdout[:400].decode("utf-8", "replace")})
        return results


# ====================================================================================== #
# compare                                                                                #
# ====================================================================================== #


def short(text, n=70):
    text = (text or "").replace("\x00", "\\0")
    return json.dumps(text[:n] + ("…" if len(text) > n else ""), ensure_ascii=False)


def describe(v):
    return v["verdict"] + (f"({v['error']})" if v.get("error") else "")


def same_kind(ours, theirs):
    """The verdicts say the same thing: equal, and for exceptions the same class (its last
    dotted component)."""
    if ours["verdict"] != theirs["verdict"]:
        return False
    if ours["verdict"] == "exception":
        return (ours.get("error") or "").split(".")[-1] == (theirs.get("error") or "").split(".")[-1]
    return True


def compare(args):
    with open(args.input) as f:
        tasks = [(i + 1, json.loads(line)) for i, line in enumerate(f) if line.strip()]
    if args.limit:
        tasks = tasks[: args.limit]
    with tempfile.TemporaryDirectory() as tmp:
        inp, out = os.path.join(tmp, "tasks.jsonl"), os.path.join(tmp, "judged.jsonl")
        with open(inp, "w") as f:
            for _, t in tasks:
                f.write(json.dumps(t) + "\n")
        cmd = [args.codefuel, "judge", "--quiet", "--input", inp, "--output", out, "--jobs", str(args.jobs)]
        cmd += shlex.split(args.judge_args)
        t0 = time.time()
        run = subprocess.run(cmd, capture_output=True, text=True)
        if run.returncode:
            sys.exit(f"{' '.join(cmd)} failed ({run.returncode}):\n{run.stderr}")
        judge_wall = time.time() - t0
        with open(out) as f:
            judged = [json.loads(line) for line in f if line.strip()]
        shown = " ".join(["judge", "--jobs", str(args.jobs)] + shlex.split(args.judge_args))
        print(f"codefuel {shown}: {len(judged)} tasks in {judge_wall:.1f} s", flush=True)

        native = Native(args.python, args.native_timeout, os.path.join(tmp, "native"))
        rows, t0 = [], time.time()
        for (line, task), result in zip(tasks, judged):
            tid = task_id(task, line)
            assert result["id"] == tid, (result["id"], tid)
            tests = task_tests(task)
            theirs = native.judge(task_program(task), tests)
            for index, (ours, mine) in enumerate(zip(result["tests"], theirs)):
                rows.append({"id": tid, "index": index, "kind": tests.kind, "label": task.get("label"),
                             "codefuel": {k: ours.get(k) for k in ("verdict", "error", "fuel", "stdout")},
                             "native": mine})
        native_wall = time.time() - t0
    print(f"native python3: {len(rows)} tests in {native_wall:.1f} s "
          f"(timeout {args.native_timeout} s per test)\n")
    return report(rows, args)


def report(rows, args):
    fast = [r for r in rows if r["native"]["verdict"] != "timeout" and r["native"]["seconds"] < args.fast_under]
    slow = [r for r in rows if r not in fast]
    passfail = [r for r in fast if (r["codefuel"]["verdict"] == "pass") != (r["native"]["verdict"] == "pass")]
    kinds = [r for r in fast if r not in passfail and not same_kind(r["codefuel"], r["native"])]

    def source(r):
        return r["id"].split("/")[0] + "/" + r["kind"]

    print(f"{'source/test kind':24} {'tests':>6} {'fast':>6} {'pass/fail agree':>16} {'verdict agree':>14} "
          f"{'native pass':>11}")
    for name in sorted({source(r) for r in rows}):
        all_ = [r for r in rows if source(r) == name]
        f = [r for r in fast if source(r) == name]
        pf = sum(1 for r in f if r not in passfail)
        vk = sum(1 for r in f if r not in passfail and r not in kinds)
        npass = sum(1 for r in f if r["native"]["verdict"] == "pass")
        print(f"{name:24} {len(all_):6} {len(f):6} {pf:9}/{len(f):<6} {vk:7}/{len(f):<6} {npass:11}")
    agree = len(fast) - len(passfail)
    rate = agree / len(fast) if fast else 1.0
    tasks = {r["id"] for r in rows}
    print(f"\n{len(tasks)} tasks, {len(rows)} tests; {len(fast)} with a native run under {args.fast_under} s "
          f"({len(slow)} slower or timed out)")
    print(f"pass/fail agreement: {agree}/{len(fast)} = {100 * rate:.2f} %  (target >= {100 * args.min_agreement:g} %)")
    vk = len(fast) - len(passfail) - len(kinds)
    print(f"same verdict (and exception class): {vk}/{len(fast)} = {100 * vk / max(1, len(fast)):.2f} %")

    def line(tag, r):
        c, n = r["codefuel"], r["native"]
        detail = ""
        if c["verdict"] != "pass" and c.get("stdout"):
            detail += f" codefuel stdout {short(c['stdout'])}"
        if n["verdict"] != "pass" and n.get("stdout"):
            detail += f" native stdout {short(n['stdout'])}"
        print(f"{tag} {r['id']} test {r['index']} ({r['kind']}): codefuel {describe(c)} fuel {c['fuel']:,} | "
              f"native {describe(n)} {n['seconds']:.2f} s{detail}")

    if passfail:
        print(f"\npass/fail disagreements ({len(passfail)}):")
        for r in passfail:
            line("DISAGREE", r)
    if kinds:
        print(f"\nboth fail, different verdicts ({len(kinds)}):")
        for r in kinds:
            line("VERDICT", r)
    if slow:
        print(f"\nleft out, native {args.fast_under} s or more ({len(slow)}):")
        for r in slow:
            line("SLOW", r)

    # Task level, against the dataset's own label where it has one (pass/fail of the task).
    by_task = {}
    for r in rows:
        by_task.setdefault(r["id"], []).append(r)
    labelled = [(tid, rs) for tid, rs in by_task.items() if rs[0]["label"] in ("pass", "fail")]
    if labelled:
        def agrees(rs, side):
            return all(r[side]["verdict"] == "pass" for r in rs) == (rs[0]["label"] == "pass")
        cf = sum(agrees(rs, "codefuel") for _, rs in labelled)
        nv = sum(agrees(rs, "native") for _, rs in labelled)
        print(f"\ntask all-pass vs the dataset's label ({len(labelled)} labelled tasks): "
              f"codefuel {cf}, native {nv} agree")
    if args.report:
        with open(args.report, "w") as f:
            json.dump({"agreement": rate, "fast_under": args.fast_under, "rows": rows}, f)
        print(f"per-test rows: {args.report}")
    return 0 if rate >= args.min_agreement else 1


def main():
    parser = common.arg_parser(__doc__, paths=())
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("prepare", help="extract judge tasks from the pinned public repositories")
    for name, src in SOURCES.items():
        p.add_argument("--" + name, required=True, help=f"a clone of github.com/{src['repo']}")
    p.add_argument("--out", default=DEFAULT_DATA, help="where the task files go (default ../judge-data)")
    p.add_argument("--max-tests", type=int, default=10, help="first N tests of each task")
    c = sub.add_parser("compare", help="judge a task file with codefuel and with python3; compare")
    c.add_argument("--input", default=os.path.join(DEFAULT_DATA, "all.jsonl"),
                   help="judge tasks (JSONL, any shape codefuel judge reads)")
    c.add_argument("--codefuel", default=common.PATH_DEFAULTS["codefuel"], help="a codefuel binary with judge")
    c.add_argument("--python", default="python3", help="the native interpreter")
    c.add_argument("--jobs", type=int, default=1, help="codefuel judge worker threads")
    c.add_argument("--judge-args", default="", help="extra arguments for codefuel judge")
    c.add_argument("--native-timeout", type=float, default=4.0, help="seconds per native test")
    c.add_argument("--fast-under", type=float, default=2.0,
                   help="the agreement counts tests whose native run took less than this")
    c.add_argument("--min-agreement", type=float, default=0.99, help="exit 1 below this pass/fail agreement")
    c.add_argument("--limit", type=int, default=0, help="only the first N tasks")
    c.add_argument("--report", default="", help="write every test's verdicts here (JSON)")
    args = parser.parse_args()
    if args.command == "prepare":
        prepare(args)
    else:
        sys.exit(compare(args))


if __name__ == "__main__":
    main()
