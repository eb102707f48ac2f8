"""codefuel: run untrusted, model-written Python in a WebAssembly sandbox with fuel metering.

Every program runs in a fresh sandbox (RustPython for wasm32-wasip1 under wasmtime) with no
file, socket, clock or environment of the host, a memory cap, and a *fuel* budget: an exact,
repeatable count of the work it did, which is both its time limit and its cost. The same call
always gives the same verdict and the same fuel.

    >>> import codefuel
    >>> codefuel.run("print(sum(range(10)))").stdout
    '45\\n'
    >>> codefuel.judge("print(int(input()) * 2)", {"stdin_stdout": [{"input": "21", "output": "42"}]}).reward
    1.0

The functions here share one :class:`Engine` per process (made on first use; the compiled
guest is cached on disk, shared with the ``codefuel`` CLI). They release the GIL while
sandboxes run, so they are safe and parallel from many threads. What a program does (an
exception, running out of fuel or memory) is a verdict in the result, never an exception;
``ValueError`` means the call itself is wrong, :class:`SandboxError` that codefuel failed.

Reward functions for TRL, verl and OpenRLHF are in :mod:`codefuel.rewards`.
"""

from __future__ import annotations

import base64
import json
import math
import os
import threading
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

from . import _codefuel
from ._codefuel import (
    DEFAULT_EVAL_MEMORY_MIB,
    DEFAULT_FUEL,
    DEFAULT_FUEL_PER_TEST,
    DEFAULT_RUN_MEMORY_MIB,
    DEFAULT_TIMEOUT_SECS,
    FUEL_PER_SECOND,
    MAX_MEMORY_MIB,
    SandboxError,
    __version__,
)

__all__ = [
    "DEFAULT_EVAL_MEMORY_MIB",
    "DEFAULT_FUEL",
    "DEFAULT_FUEL_PER_TEST",
    "DEFAULT_RUN_MEMORY_MIB",
    "DEFAULT_TIMEOUT_SECS",
    "FUEL_PER_SECOND",
    "MAX_MEMORY_MIB",
    "Engine",
    "Evaluation",
    "ExceptionInfo",
    "JudgeResult",
    "RunResult",
    "SandboxError",
    "TestResult",
    "__version__",
    "engine",
    "evaluate",
    "extract_code",
    "judge",
    "judge_many",
    "run",
]

PathLike = Union[str, "os.PathLike[str]"]
Tests = Union[Mapping[str, Any], Sequence[str], str]
"""A task's tests: codefuel's shapes (``{"stdin_stdout": [{"input", "output"}, ...]}``,
``{"fn_name", "calls": [{"args", "expected"}, ...]}``, ``{"asserts": [...]}`` or a list of
assert lines), APPS/TACO's ``input_output`` (``{"inputs", "outputs"[, "fn_name"]}``, as an
object or a JSON string), or a dataset row's test fields (CodeContests' ``public_tests`` /
``private_tests`` / ``generated_tests``, LiveCodeBench's ``public_test_cases`` /
``private_test_cases``, APPS's ``input_output``)."""


# --------------------------------------------------------------------------------------- #
# Results                                                                                 #
# --------------------------------------------------------------------------------------- #


@dataclass(frozen=True)
class ExceptionInfo:
    """The uncaught exception a program ended with."""

    type: str
    """Its class name, e.g. ``"ValueError"``."""
    message: str
    """``str(exception)``."""
    traceback: str
    """The traceback, as CPython prints it."""


@dataclass(frozen=True)
class RunResult:
    """What one program did."""

    verdict: str
    """How it ended: ``completed`` (see :attr:`exit_code`), ``exception``,
    ``fuel_exhausted``, ``memory_limit``, ``timeout`` (the wall-clock backstop),
    ``stack_overflow`` or ``crash``."""
    stdout: str
    """Its standard output (invalid UTF-8 replaced)."""
    stderr: str
    """Its standard error."""
    fuel: int
    """Fuel it used: deterministic, the same on every run and machine."""
    exit_code: Optional[int]
    """Its exit status (1 after an uncaught exception, as CPython); ``None`` when it was
    stopped (fuel, memory, stack, timeout, crash)."""
    exception: Optional[ExceptionInfo]
    """The uncaught exception, for verdict ``exception``."""
    message: Optional[str]
    """What happened, for verdict ``crash``."""
    stdout_truncated: bool
    """The output went over its cap and was cut."""
    stderr_truncated: bool
    """Standard error went over its cap and was cut."""
    wall_seconds: float
    """Wall time on this machine (not deterministic)."""
    files: Dict[str, bytes] = field(default_factory=dict)
    """The files of ``fetch_files`` that existed when the program was over."""

    @property
    def ok(self) -> bool:
        """It ran to the end and exited with status 0."""
        return self.verdict == "completed" and self.exit_code == 0

    @classmethod
    def _from_json(cls, data: Mapping[str, Any]) -> "RunResult":
        verdict = data["verdict"]
        exception = None
        exit_code = None
        if verdict == "completed":
            exit_code = data["exit_code"]
        elif verdict == "exception":
            exit_code = 1
            exception = ExceptionInfo(data["type"], data["message"], data["traceback"])
        return cls(
            verdict=verdict,
            stdout=data["stdout"],
            stderr=data["stderr"],
            fuel=data["fuel"],
            exit_code=exit_code,
            exception=exception,
            message=data.get("message") if verdict == "crash" else None,
            stdout_truncated=data.get("stdout_truncated", False),
            stderr_truncated=data.get("stderr_truncated", False),
            wall_seconds=data["wall"],
            files={name: base64.b64decode(body) for name, body in data.get("files", {}).items()},
        )


@dataclass(frozen=True)
class TestResult:
    """One test of a judged task."""

    __test__ = False  # not a pytest class

    verdict: str
    """``pass``, ``wrong_answer``, ``exception``, ``syntax_error``, ``fuel_limit``,
    ``memory``, ``stack_overflow``, ``crash`` or ``skipped``."""
    fuel: int
    """Fuel the test used."""
    error: Optional[str] = None
    """Why it failed (the exception, the mismatch)."""
    stdout: Optional[str] = None
    """The program's output, for a failing stdin/stdout test (first 4 KiB)."""
    in_process: bool = False
    """The test ran inside the program's own interpreter (a test shape whose check is code)."""


@dataclass(frozen=True)
class JudgeResult:
    """A judged task: every test's verdict and fuel, and the summary RL rewards use."""

    id: str
    """The task's id (given, or its position)."""
    tests: List[TestResult]
    """One result per test, in order."""
    pass_rate: float
    """Passed tests / tests."""
    all_passed: bool
    """Every test passed."""
    reward: float
    """1.0 when every test passed, else 0.0."""
    fuel: int
    """Fuel of all tests together."""
    extracted: Optional[str] = None
    """The code judged, when it was extracted from a model's answer (``extract=True``)."""

    @classmethod
    def _from_json(cls, data: Mapping[str, Any]) -> "JudgeResult":
        tests = [
            TestResult(
                verdict=t["verdict"],
                fuel=t["fuel"],
                error=t.get("error"),
                stdout=t.get("stdout"),
                in_process=t.get("in_process", False),
            )
            for t in data["tests"]
        ]
        return cls(
            id=data["id"],
            tests=tests,
            pass_rate=data["pass_rate"],
            all_passed=data["all_passed"],
            reward=data["reward"],
            fuel=data["fuel"],
            extracted=data.get("extracted"),
        )


@dataclass(frozen=True)
class Evaluation:
    """An evalplus evaluation: ``results`` is evalplus 0.3.1's results file, as a dict."""

    results: Dict[str, Any]
    """``{"date", "hash", "eval": {task_id: [row, ...]}, "pass_at_k", "codefuel"}``; each row
    has evalplus's ``task_id``, ``solution``, ``base_status``, ``plus_status``, ``base``,
    ``plus`` and codefuel's fuel figures."""
    summary: str
    """The summary ``codefuel evaluate`` prints (pass@k per split)."""

    @property
    def pass_at_k(self) -> Dict[str, Dict[str, float]]:
        """``{"base": {"pass@1": ...}, "plus": {...}}``."""
        return self.results["pass_at_k"]

    @property
    def rows(self) -> Dict[str, List[Dict[str, Any]]]:
        """Each task's rows, one per sample, in the samples' order."""
        return self.results["eval"]


# --------------------------------------------------------------------------------------- #
# Argument checks: each limit's default lives in the library (the constants above)       #
# --------------------------------------------------------------------------------------- #


def _positive_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError("%s must be a positive integer, got %r" % (name, value))
    return value


def _positive_seconds(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError("%s must be a positive number of seconds, got %r" % (name, value))
    if not (math.isfinite(value) and value > 0):
        raise ValueError("%s must be a positive number of seconds, got %r" % (name, value))
    return float(value)


def _memory_mib(memory_mb: Any, default: int) -> int:
    if memory_mb is None:
        return default
    memory_mb = _positive_int("memory_mb", memory_mb)
    if memory_mb > MAX_MEMORY_MIB:
        raise ValueError("memory_mb must be at most %d, got %d" % (MAX_MEMORY_MIB, memory_mb))
    return memory_mb


def _as_bytes(name: str, value: Any) -> bytes:
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    raise ValueError("%s must be str or bytes, got %s" % (name, type(value).__name__))


def _judge_options(
    fuel_per_test: Optional[int],
    time_per_test: Optional[float],
    memory_mb: Optional[int],
    stop_at_first_failure: bool,
    exact: bool,
    extract: bool,
) -> Dict[str, Any]:
    if fuel_per_test is not None and time_per_test is not None:
        raise ValueError("give fuel_per_test or time_per_test, not both")
    if fuel_per_test is not None:
        fuel = _positive_int("fuel_per_test", fuel_per_test)
    elif time_per_test is not None:
        fuel = max(1, int(_positive_seconds("time_per_test", time_per_test) * FUEL_PER_SECOND))
    else:
        fuel = DEFAULT_FUEL_PER_TEST
    for name, flag in [("stop_at_first_failure", stop_at_first_failure), ("exact", exact),
                       ("extract", extract)]:
        if not isinstance(flag, bool):
            raise ValueError("%s must be True or False, got %r" % (name, flag))
    return {
        "fuel_per_test": fuel,
        "memory_mib": _memory_mib(memory_mb, DEFAULT_RUN_MEMORY_MIB),
        "stop_at_first_failure": stop_at_first_failure,
        "exact": exact,
        "extract": extract,
    }


_ROW_TEST_FIELDS = ("input_output", "public_tests", "private_tests", "generated_tests",
                    "public_test_cases", "private_test_cases")


def _task(code: Any, tests: Any, task_id: Optional[str] = None) -> Dict[str, Any]:
    """A judge task (the JSON ``codefuel judge`` reads) from code and tests in any shape."""
    if not isinstance(code, str):
        raise ValueError("code must be a str, got %s" % type(code).__name__)
    if isinstance(tests, (str, bytes)):
        try:
            tests = json.loads(tests)
        except ValueError as e:
            raise ValueError("tests given as a string must be JSON: %s" % e) from None
    task: Dict[str, Any] = {"code": code}
    if task_id is not None:
        task["id"] = str(task_id)
    if isinstance(tests, (list, tuple)) and all(isinstance(t, str) for t in tests):
        task["tests"] = {"asserts": list(tests)}
    elif isinstance(tests, Mapping) and "inputs" in tests and "outputs" in tests:
        task["input_output"] = dict(tests)
    elif isinstance(tests, Mapping) and any(k in tests for k in _ROW_TEST_FIELDS):
        for key, value in tests.items():
            if key not in ("code", "id"):
                task[key] = value
    elif isinstance(tests, Mapping):
        task["tests"] = dict(tests)
    else:
        raise ValueError("tests must be a dict, a list of assert lines or a JSON string, got %s"
                         % type(tests).__name__)
    return task


def _item_task(item: Any, index: int) -> Dict[str, Any]:
    """One item of ``judge_many``: a task dict (any shape ``codefuel judge`` reads) or a
    ``(code, tests)`` pair."""
    if isinstance(item, Mapping):
        return dict(item)
    if isinstance(item, (tuple, list)) and len(item) == 2:
        return _task(item[0], item[1], task_id=str(index))
    raise ValueError("item %d: give a task dict or a (code, tests) pair, got %s"
                     % (index, type(item).__name__))


def _dumps(value: Any, what: str) -> str:
    try:
        return json.dumps(value)
    except (TypeError, ValueError) as e:
        raise ValueError("%s must be JSON-serializable: %s" % (what, e)) from None


# --------------------------------------------------------------------------------------- #
# The engine                                                                              #
# --------------------------------------------------------------------------------------- #


class Engine:
    """A compiled guest and a pool of sandboxes. Creating one compiles the guest once per
    machine (about 15 s; then it is loaded from the cache in well under a second). Every
    method is safe to call from many threads; each releases the GIL while it runs.

    ``jobs``: worker threads of :meth:`judge_many` and :meth:`evaluate` (default: every
    core). ``cache_dir``: where the compiled guest, datasets and ground truth are kept
    (default: the CLI's, ``$CODEFUEL_CACHE_DIR`` or ``~/.cache/codefuel``). ``guest``: the
    interpreter programs run in, ``"rustpython"`` (the default) or ``"cpython"`` (CPython
    3.11, in a build with the ``cpython`` feature; :class:`SandboxError` otherwise); any
    other value is a ``ValueError``. Fuel differs between the guests.
    """

    def __init__(self, jobs: Optional[int] = None, cache_dir: Optional[PathLike] = None,
                 guest: str = "rustpython"):
        if jobs is not None:
            jobs = _positive_int("jobs", jobs)
        if not isinstance(guest, str):
            raise ValueError('guest must be "rustpython" or "cpython", got %r' % (guest,))
        self._native = _codefuel.Engine(jobs, None if cache_dir is None else os.fspath(cache_dir),
                                        guest)

    @property
    def guest(self) -> str:
        """The interpreter programs run in: ``"rustpython"`` or ``"cpython"``."""
        return self._native.guest

    @property
    def jobs(self) -> int:
        """Worker threads."""
        return self._native.jobs

    @property
    def cache_dir(self) -> str:
        """The cache directory."""
        return os.fspath(self._native.cache_dir)

    def run(
        self,
        code: str,
        *,
        stdin: Union[str, bytes, None] = None,
        fuel: Optional[int] = None,
        memory_mb: Optional[int] = None,
        timeout: Optional[float] = None,
        files: Optional[Mapping[str, Union[str, bytes]]] = None,
        fetch_files: Optional[Iterable[str]] = None,
    ) -> RunResult:
        """Runs ``code`` as ``__main__``. See :func:`codefuel.run`."""
        if not isinstance(code, str):
            raise ValueError("code must be a str, got %s" % type(code).__name__)
        stdin_bytes = b"" if stdin is None else _as_bytes("stdin", stdin)
        fuel = DEFAULT_FUEL if fuel is None else _positive_int("fuel", fuel)
        timeout = DEFAULT_TIMEOUT_SECS if timeout is None else _positive_seconds("timeout", timeout)
        file_bytes = None
        if files is not None:
            if not isinstance(files, Mapping):
                raise ValueError("files must be a dict of path -> str or bytes")
            file_bytes = {}
            for path, data in files.items():
                if not isinstance(path, str) or not path or "\0" in path:
                    raise ValueError("files: %r is not a path" % (path,))
                file_bytes[path] = _as_bytes("files[%r]" % path, data)
        fetch = None
        if fetch_files is not None:
            fetch = list(fetch_files) if not isinstance(fetch_files, str) else [fetch_files]
            for path in fetch:
                if not isinstance(path, str) or not path or "\0" in path:
                    raise ValueError("fetch_files: %r is not a path" % (path,))
        out = self._native.run(code, stdin_bytes, fuel,
                               _memory_mib(memory_mb, DEFAULT_RUN_MEMORY_MIB), timeout,
                               file_bytes, fetch)
        return RunResult._from_json(json.loads(out))

    def judge(
        self,
        code: str,
        tests: Tests,
        *,
        id: Optional[str] = None,
        fuel_per_test: Optional[int] = None,
        time_per_test: Optional[float] = None,
        memory_mb: Optional[int] = None,
        stop_at_first_failure: bool = False,
        exact: bool = False,
        extract: bool = False,
    ) -> JudgeResult:
        """Judges ``code`` against ``tests``. See :func:`codefuel.judge`."""
        options = _judge_options(fuel_per_test, time_per_test, memory_mb,
                                 stop_at_first_failure, exact, extract)
        return self._judge([_task(code, tests, "0" if id is None else id)], options)[0]

    def judge_many(
        self,
        items: Iterable[Union[Mapping[str, Any], Tuple[str, Tests]]],
        *,
        fuel_per_test: Optional[int] = None,
        time_per_test: Optional[float] = None,
        memory_mb: Optional[int] = None,
        stop_at_first_failure: bool = False,
        exact: bool = False,
        extract: bool = False,
    ) -> List[JudgeResult]:
        """Judges many tasks in parallel on this engine's workers. See
        :func:`codefuel.judge_many`."""
        options = _judge_options(fuel_per_test, time_per_test, memory_mb,
                                 stop_at_first_failure, exact, extract)
        tasks = [_item_task(item, i) for i, item in enumerate(items)]
        return self._judge(tasks, options) if tasks else []

    def _judge(self, tasks: List[Dict[str, Any]], options: Dict[str, Any]) -> List[JudgeResult]:
        out = self._native.judge(_dumps(tasks, "tasks"), json.dumps(options))
        return [JudgeResult._from_json(r) for r in json.loads(out)]

    def evaluate(
        self,
        dataset: str,
        samples: Union[PathLike, Iterable[Mapping[str, Any]]],
        *,
        dataset_file: Optional[PathLike] = None,
        base_only: bool = False,
        test_details: bool = False,
        sanitize: bool = False,
        memory_mb: Optional[int] = None,
    ) -> Evaluation:
        """Evaluates samples on HumanEval+ or MBPP+. See :func:`codefuel.evaluate`."""
        if dataset not in ("humaneval", "mbpp"):
            raise ValueError("unknown dataset %r: codefuel evaluates \"humaneval\" (HumanEval+) "
                             "and \"mbpp\" (MBPP+)" % (dataset,))
        if isinstance(samples, (str, os.PathLike)):
            samples_value: Any = os.fspath(samples)
        else:
            samples_value = []
            for i, sample in enumerate(samples):
                if not isinstance(sample, Mapping) or not isinstance(sample.get("task_id"), str):
                    raise ValueError("sample %d: give a dict with \"task_id\" and \"solution\" "
                                     "or \"completion\"" % i)
                samples_value.append(dict(sample))
        request = {
            "dataset": dataset,
            "dataset_file": None if dataset_file is None else os.fspath(dataset_file),
            "samples": samples_value,
            "base_only": bool(base_only),
            "test_details": bool(test_details),
            "sanitize": bool(sanitize),
            "memory_mib": _memory_mib(memory_mb, DEFAULT_EVAL_MEMORY_MIB),
        }
        out = json.loads(self._native.evaluate(_dumps(request, "samples")))
        return Evaluation(results=out["results"], summary=out["summary"])


_engines: Dict[Tuple[int, Optional[int]], Engine] = {}
_engines_lock = threading.Lock()


def engine(jobs: Optional[int] = None) -> Engine:
    """This process's shared engine with ``jobs`` workers (default: every core), made on
    first use. A forked child (Ray, multiprocessing) makes its own."""
    key = (os.getpid(), jobs)
    with _engines_lock:
        found = _engines.get(key)
        if found is None:
            found = _engines[key] = Engine(jobs=jobs)
        return found


# --------------------------------------------------------------------------------------- #
# Module-level API                                                                        #
# --------------------------------------------------------------------------------------- #


def run(
    code: str,
    *,
    stdin: Union[str, bytes, None] = None,
    fuel: Optional[int] = None,
    memory_mb: Optional[int] = None,
    timeout: Optional[float] = None,
    files: Optional[Mapping[str, Union[str, bytes]]] = None,
    fetch_files: Optional[Iterable[str]] = None,
) -> RunResult:
    """Runs ``code`` as ``__main__`` in a fresh sandbox and reports what it did.

    ``stdin``: its standard input. ``fuel``: its budget (default :data:`DEFAULT_FUEL`;
    :data:`FUEL_PER_SECOND` is about a second of CPython). ``memory_mb``: its memory cap
    (default :data:`DEFAULT_RUN_MEMORY_MIB`). ``timeout``: the wall-clock backstop in seconds
    behind the fuel limit. ``files`` (path -> contents) make an in-memory working directory
    only this run sees; ``fetch_files`` names the files handed back in
    :attr:`RunResult.files`.
    """
    return engine().run(code, stdin=stdin, fuel=fuel, memory_mb=memory_mb, timeout=timeout,
                        files=files, fetch_files=fetch_files)


def judge(
    code: str,
    tests: Tests,
    *,
    id: Optional[str] = None,
    fuel_per_test: Optional[int] = None,
    time_per_test: Optional[float] = None,
    memory_mb: Optional[int] = None,
    stop_at_first_failure: bool = False,
    exact: bool = False,
    extract: bool = False,
) -> JudgeResult:
    """Judges ``code`` against ``tests`` (any shape of :data:`Tests`), each test in a fresh
    sandbox, as ``codefuel judge`` does. ``id`` names the result (default ``"0"``).

    Limits: ``fuel_per_test`` or ``time_per_test`` (seconds, at :data:`FUEL_PER_SECOND`;
    default a second), ``memory_mb``. ``stop_at_first_failure`` skips the rest after a
    failure (faster for binary rewards). ``exact`` compares stdout byte for byte instead of
    ignoring trailing whitespace per line. ``extract`` judges the code found in a raw model
    answer (:func:`extract_code`).
    """
    return engine().judge(code, tests, id=id, fuel_per_test=fuel_per_test,
                          time_per_test=time_per_test, memory_mb=memory_mb,
                          stop_at_first_failure=stop_at_first_failure, exact=exact,
                          extract=extract)


def judge_many(
    items: Iterable[Union[Mapping[str, Any], Tuple[str, Tests]]],
    *,
    jobs: Optional[int] = None,
    fuel_per_test: Optional[int] = None,
    time_per_test: Optional[float] = None,
    memory_mb: Optional[int] = None,
    stop_at_first_failure: bool = False,
    exact: bool = False,
    extract: bool = False,
) -> List[JudgeResult]:
    """Judges many tasks in parallel on ``jobs`` worker threads (default: every core), with
    the GIL released; results come back in the items' order.

    Each item is a task dict in any shape ``codefuel judge`` reads (a JSONL row of
    codefuel's, APPS/TACO, CodeContests or LiveCodeBench shape; the code under ``code``,
    ``completion`` or ``solution``) or a ``(code, tests)`` pair. Options as :func:`judge`.
    """
    return engine(jobs).judge_many(items, fuel_per_test=fuel_per_test,
                                   time_per_test=time_per_test, memory_mb=memory_mb,
                                   stop_at_first_failure=stop_at_first_failure, exact=exact,
                                   extract=extract)


def evaluate(
    dataset: str,
    samples: Union[PathLike, Iterable[Mapping[str, Any]]],
    *,
    dataset_file: Optional[PathLike] = None,
    base_only: bool = False,
    test_details: bool = False,
    sanitize: bool = False,
    memory_mb: Optional[int] = None,
    jobs: Optional[int] = None,
) -> Evaluation:
    """evalplus 0.3.1's verdicts for samples on ``"humaneval"`` (HumanEval+) or ``"mbpp"``
    (MBPP+), as ``codefuel evaluate`` gives them (99.87 % agreement with evalplus).

    ``samples``: a path (a ``.jsonl`` of ``{"task_id", "solution"|"completion"}`` or a
    directory ``TASK_ID/N.py``) or the sample dicts themselves. ``dataset_file``: a local
    copy of the problems instead of the download. ``sanitize`` runs evalplus's sanitizer on
    each sample first. ``base_only``, ``test_details`` as the CLI's flags.
    """
    return engine(jobs).evaluate(dataset, samples, dataset_file=dataset_file,
                                 base_only=base_only, test_details=test_details,
                                 sanitize=sanitize, memory_mb=memory_mb)


def extract_code(completion: str, entry_point: Optional[str] = None) -> str:
    """The code in a model's completion.

    With ``entry_point`` (a function name): evalplus 0.3.1's sanitizer, as ``codefuel
    sanitize`` applies it: the code that function needs, without tests, prints or
    ``__main__`` blocks. Without: what ``codefuel judge --extract`` judges, for programs
    that read stdin: the text after the last ``</think>``, the last fenced Python block,
    else the longest valid span of lines. No code gives ``""``.
    """
    if not isinstance(completion, str):
        raise ValueError("completion must be a str, got %s" % type(completion).__name__)
    if entry_point is None:
        return _codefuel.extract_code(completion)
    if not isinstance(entry_point, str) or not entry_point.isidentifier():
        raise ValueError("entry_point must be a function name, got %r" % (entry_point,))
    return _codefuel.sanitize(completion, entry_point)
