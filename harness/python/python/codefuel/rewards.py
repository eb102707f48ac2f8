"""Code-execution rewards for RL trainers: TRL, verl and OpenRLHF.

Each adapter has the signature its framework calls, judges every completion against its
task's tests in codefuel's sandbox (in parallel, GIL released) and turns the result into a
reward with the same rule:

- ``partial=False`` (default): 1.0 when every test passes, else 0.0; ``partial=True``: the
  fraction of tests passed.
- ``efficiency_weight=w`` (default 0): a completion that passes every test also gets
  ``w * (1 - fuel / budget)``, where ``budget`` is the fuel limit of all its tests together:
  of two correct programs, the one that does less work earns more. Fuel is exact and
  repeatable, so this term has no timing noise.

Tests come in any shape ``codefuel.judge`` takes (codefuel's ``stdin_stdout`` / ``fn_name`` +
``calls`` / ``asserts``, APPS's ``input_output`` with ``inputs``/``outputs``), as a dict or a
JSON string (safest in Arrow/Parquet datasets, whose columns cannot hold mixed types).
Completions are raw model answers: the code is extracted first (``extract=True``: after the
last ``</think>``, the last fenced Python block, else the longest valid span).

    # TRL
    from codefuel.rewards import TRLReward
    trainer = GRPOTrainer(..., reward_funcs=[TRLReward(tests_column="tests")])

    # verl: custom_reward_function.path=<site-packages>/codefuel/rewards.py
    #       custom_reward_function.name=compute_score

    # OpenRLHF: --reward.remote_url reward.py, where reward.py holds
    from codefuel.rewards import reward_func
"""

from __future__ import annotations

import json
from typing import Any, Dict, List, Mapping, Optional, Sequence

import codefuel

__all__ = [
    "RewardOptions",
    "TRLReward",
    "compute_score",
    "compute_score_batch",
    "openrlhf_reward_func",
    "reward_func",
    "score",
]


class RewardOptions:
    """How completions are judged and scored; shared by every adapter. Holds plain values
    only, so adapters pickle (TRL's async GRPO and Ray send them to other processes).

    ``partial``: pass rate instead of all-or-nothing. ``efficiency_weight``: the fuel bonus
    of a fully correct completion (see the module docstring). ``extract``: judge the code
    found in the answer rather than the answer itself. ``fuel_per_test`` /
    ``time_per_test``, ``memory_mb``: each test's limits (defaults: codefuel's).
    ``jobs``: parallel sandboxes (default: every core).
    """

    def __init__(
        self,
        *,
        partial: bool = False,
        efficiency_weight: float = 0.0,
        extract: bool = True,
        fuel_per_test: Optional[int] = None,
        time_per_test: Optional[float] = None,
        memory_mb: Optional[int] = None,
        jobs: Optional[int] = None,
    ):
        if not isinstance(efficiency_weight, (int, float)) or isinstance(efficiency_weight, bool) \
                or not efficiency_weight >= 0:
            raise ValueError("efficiency_weight must be a number >= 0, got %r"
                             % (efficiency_weight,))
        self.partial = bool(partial)
        self.efficiency_weight = float(efficiency_weight)
        self.extract = bool(extract)
        self.fuel_per_test = fuel_per_test
        self.time_per_test = time_per_test
        self.memory_mb = memory_mb
        self.jobs = jobs
        # Checks the limits now, not at the first batch of a training run.
        self._judge_options()

    def _judge_options(self) -> Dict[str, Any]:
        return codefuel._judge_options(
            self.fuel_per_test, self.time_per_test, self.memory_mb,
            # A binary reward is decided by the first failure: skip the rest.
            stop_at_first_failure=not self.partial and self.efficiency_weight == 0,
            exact=False, extract=self.extract)

    def reward(self, result: codefuel.JudgeResult) -> float:
        """The reward of one judged completion."""
        value = result.pass_rate if self.partial else (1.0 if result.all_passed else 0.0)
        if self.efficiency_weight and result.all_passed and result.tests:
            budget = self._judge_options()["fuel_per_test"] * len(result.tests)
            value += self.efficiency_weight * max(0.0, 1.0 - result.fuel / budget)
        return value

    def __repr__(self) -> str:
        return "RewardOptions(%s)" % ", ".join("%s=%r" % kv for kv in sorted(vars(self).items()))


def _tests_value(tests: Any) -> Any:
    if isinstance(tests, (bytes, bytearray)):
        tests = tests.decode("utf-8")
    if isinstance(tests, str):
        try:
            return json.loads(tests)
        except ValueError as e:
            raise ValueError("tests given as a string must be JSON: %s" % e) from None
    return tests


def _has_tests(tests: Any) -> bool:
    return tests is not None and tests != "" and tests != {} and tests != []


def score(
    codes: Sequence[str],
    tests: Sequence[Any],
    options: Optional[RewardOptions] = None,
) -> List[Optional[codefuel.JudgeResult]]:
    """Judges ``codes[i]`` against ``tests[i]`` for every ``i`` in one parallel batch; an
    item whose tests are missing (``None``, empty) gets ``None``."""
    options = options or RewardOptions()
    if len(codes) != len(tests):
        raise ValueError("%d completions but %d test sets" % (len(codes), len(tests)))
    tasks = []
    where = []
    for i, (code, item_tests) in enumerate(zip(codes, tests)):
        item_tests = _tests_value(item_tests)
        if _has_tests(item_tests):
            tasks.append(codefuel._task(code, item_tests, task_id=str(i)))
            where.append(i)
    results: List[Optional[codefuel.JudgeResult]] = [None] * len(codes)
    if tasks:
        judged = codefuel.engine(options.jobs)._judge(tasks, options._judge_options())
        for i, result in zip(where, judged):
            results[i] = result
    return results


# --------------------------------------------------------------------------------------- #
# TRL                                                                                     #
# --------------------------------------------------------------------------------------- #


def _completion_text(completion: Any) -> str:
    """A TRL completion: a string, or (conversational) a list of messages whose last
    assistant message is the answer; a message's content may be a list of parts."""
    if isinstance(completion, str):
        return completion
    if isinstance(completion, Sequence) and completion:
        messages = [m for m in completion if isinstance(m, Mapping)]
        answers = [m for m in messages if m.get("role", "assistant") == "assistant"]
        message = (answers or messages or [{}])[-1]
        content = message.get("content", "")
        if isinstance(content, str):
            return content
        if isinstance(content, Sequence):
            return "".join(part.get("text", "") for part in content
                           if isinstance(part, Mapping) and part.get("type", "text") == "text")
    raise ValueError("a completion must be a str or a list of chat messages, got %r"
                     % (completion,))


class TRLReward:
    """A reward function for TRL's ``GRPOTrainer`` (``reward_funcs=[TRLReward()]``).

    TRL calls it as ``reward(prompts=..., completions=..., completion_ids=..., **columns)``
    with every other dataset column as a keyword list; the tests are read from
    ``tests_column``. Returns one float per completion, ``None`` where the row has no tests
    (TRL treats that as "not applicable" when several rewards are combined). Plain and
    conversational completions both work. Picklable (module-level class, plain options), as
    TRL's async GRPO requires.
    """

    def __init__(self, tests_column: str = "tests", **options: Any):
        self.tests_column = tests_column
        self.options = RewardOptions(**options)
        self.__name__ = "codefuel_" + ("pass_rate" if self.options.partial else "passed")

    def __call__(self, prompts: Any = None, completions: Any = None, **kwargs: Any
                 ) -> List[Optional[float]]:
        if completions is None:
            raise ValueError("no completions given")
        if self.tests_column not in kwargs:
            raise ValueError("the dataset has no %r column (columns given: %s); name the tests "
                             "column with TRLReward(tests_column=...)"
                             % (self.tests_column, ", ".join(sorted(kwargs)) or "none"))
        codes = [_completion_text(c) for c in completions]
        results = score(codes, kwargs[self.tests_column], self.options)
        return [None if r is None else self.options.reward(r) for r in results]

    def __repr__(self) -> str:
        return "TRLReward(tests_column=%r, %r)" % (self.tests_column, self.options)


# --------------------------------------------------------------------------------------- #
# verl                                                                                    #
# --------------------------------------------------------------------------------------- #


def _verl_options(kwargs: Mapping[str, Any]) -> RewardOptions:
    names = ("partial", "efficiency_weight", "extract", "fuel_per_test", "time_per_test",
             "memory_mb", "jobs")
    return RewardOptions(**{k: kwargs[k] for k in names if k in kwargs})


def _verl_row(result: Optional[codefuel.JudgeResult], options: RewardOptions
              ) -> Dict[str, Any]:
    # verl appends every key to a per-batch list: the same keys for every row.
    if result is None:
        return {"score": 0.0, "pass_rate": 0.0, "all_passed": 0.0, "fuel": 0}
    return {"score": options.reward(result), "pass_rate": result.pass_rate,
            "all_passed": 1.0 if result.all_passed else 0.0, "fuel": result.fuel}


def compute_score(
    data_source: Any,
    solution_str: str,
    ground_truth: Any,
    extra_info: Any = None,
    **kwargs: Any,
) -> Dict[str, Any]:
    """verl's custom reward function (``custom_reward_function.path`` = this file,
    ``custom_reward_function.name=compute_score``; options such as ``partial`` through
    ``custom_reward_function.reward_kwargs``).

    ``ground_truth`` is the tests (APPS-style ``input_output`` as verl's code datasets hold
    it, or codefuel's shapes; dict or JSON string). Returns ``{"score", "pass_rate",
    "all_passed", "fuel"}``: verl uses ``score`` as the reward and logs the rest.
    """
    options = _verl_options(kwargs)
    return _verl_row(score([solution_str], [ground_truth], options)[0], options)


def compute_score_batch(
    data_sources: Sequence[Any],
    solution_strs: Sequence[str],
    ground_truths: Sequence[Any],
    extra_infos: Optional[Sequence[Any]] = None,
    **kwargs: Any,
) -> List[Dict[str, Any]]:
    """verl's batch reward manager (``reward_model.reward_manager=batch``): one parallel
    batch for the whole step; one dict per item, as :func:`compute_score`."""
    options = _verl_options(kwargs)
    return [_verl_row(r, options) for r in score(solution_strs, ground_truths, options)]


# --------------------------------------------------------------------------------------- #
# OpenRLHF                                                                                #
# --------------------------------------------------------------------------------------- #


def openrlhf_reward_func(**options: Any):
    """An OpenRLHF reward function with these :class:`RewardOptions`; a ``reward.py`` given
    to ``--reward.remote_url`` (``--remote_rm_url`` before 0.10) holds
    ``reward_func = openrlhf_reward_func(partial=True)``."""
    reward_options = RewardOptions(**options)

    def reward_func(queries: Sequence[str], prompts: Sequence[str], labels: Sequence[Any],
                    **kwargs: Any) -> Dict[str, Any]:
        """``queries``: prompt + response; ``labels``: each row's tests (``--label_key``)."""
        if not (len(queries) == len(prompts) == len(labels)):
            raise ValueError("queries, prompts and labels differ in length: %d, %d, %d"
                             % (len(queries), len(prompts), len(labels)))
        responses = [q[len(p):] if isinstance(q, str) and isinstance(p, str) and q.startswith(p)
                     else q for q, p in zip(queries, prompts)]
        results = score(responses, labels, reward_options)
        rewards = [0.0 if r is None else reward_options.reward(r) for r in results]
        return {
            "rewards": rewards,
            "scores": rewards,
            # Per-sample lists: OpenRLHF concatenates them across samples.
            "extra_logs": {
                "pass_rate": [0.0 if r is None else r.pass_rate for r in results],
                "fuel": [0.0 if r is None else float(r.fuel) for r in results],
            },
        }

    return reward_func


reward_func = openrlhf_reward_func()
"""OpenRLHF's ``reward_func(queries, prompts, labels)`` with the default options."""
