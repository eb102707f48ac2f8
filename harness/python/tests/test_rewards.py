"""codefuel.rewards, called exactly as each framework calls its reward function (the call
sites are quoted from the frameworks' source; the frameworks themselves need torch and GPUs
packages, so the calls are reproduced rather than imported)."""

import asyncio
import importlib.util
import json
import pickle

import pytest

import codefuel
import codefuel.rewards as rewards

TESTS = json.dumps({"stdin_stdout": [{"input": "1 2\n", "output": "3\n"},
                                     {"input": "5 5\n", "output": "10\n"}]})
RIGHT = "Sure:\n```python\na, b = map(int, input().split())\nprint(a + b)\n```"
HALF = "```python\na, b = map(int, input().split())\nprint(3)\n```"
WRONG = "```python\nprint('no')\n```"
SLOW_RIGHT = ("```python\na, b = map(int, input().split())\nfor _ in range(20000):\n    pass\n"
              "print(a + b)\n```")


def test_trl_grpo_call_shape_plain_and_conversational():
    reward = rewards.TRLReward(tests_column="tests")
    # trl/trainer/grpo_trainer.py, _calculate_rewards: every other column as a keyword list,
    # plus trainer_state, log_extra and log_metric.
    prompts = ["Add two numbers."] * 4
    completions = [RIGHT, HALF, WRONG, RIGHT]
    kwargs = {"tests": [TESTS, TESTS, TESTS, None], "task_id": ["a", "b", "c", "d"],
              "trainer_state": object(), "log_extra": None, "log_metric": None}
    out = reward(prompts=prompts, completions=completions, completion_ids=[[1]] * 4, **kwargs)
    assert out == [1.0, 0.0, 0.0, None]
    # Conversational: completions are lists of messages (TRL builds
    # [{"role": "assistant", "content": ...}]); content may also be a list of parts.
    chat = [[{"role": "assistant", "content": RIGHT}],
            [{"role": "assistant", "content": [{"type": "text", "text": HALF}]}]]
    partial = rewards.TRLReward(tests_column="tests", partial=True)
    assert partial(prompts=[[{"role": "user", "content": "q"}]] * 2, completions=chat,
                   completion_ids=[[1]] * 2, tests=[TESTS, TESTS]) == [1.0, 0.5]
    # TRL names a reward by its __name__ in logs; the async trainer pickles it.
    assert reward.__name__ == "codefuel_passed" and partial.__name__ == "codefuel_pass_rate"
    copy = pickle.loads(pickle.dumps(partial))
    assert copy(prompts=["q"], completions=[HALF], tests=[TESTS]) == [0.5]


def test_trl_reward_errors_name_the_problem():
    reward = rewards.TRLReward(tests_column="unit_tests")
    with pytest.raises(ValueError, match="no 'unit_tests' column"):
        reward(prompts=["q"], completions=[RIGHT], tests=[TESTS])
    with pytest.raises(ValueError, match="must be JSON"):
        reward(prompts=["q"], completions=[RIGHT], unit_tests=["{oops"])
    with pytest.raises(ValueError, match="efficiency_weight"):
        rewards.TRLReward(efficiency_weight=-1)
    with pytest.raises(ValueError, match="fuel_per_test"):
        rewards.TRLReward(fuel_per_test=0)


def test_efficiency_term_prefers_less_fuel_among_correct_answers():
    reward = rewards.TRLReward(efficiency_weight=0.5)
    fast, slow, half = reward(prompts=["q"] * 3, completions=[RIGHT, SLOW_RIGHT, HALF],
                              tests=[TESTS] * 3)
    assert 1.0 < slow < fast <= 1.5
    assert half == 0.0


def _load_like_verl(name):
    # verl/trainer/ppo/reward.py get_custom_reward_fn -> load_extern_object(path, name):
    # spec_from_file_location on custom_reward_function.path, then getattr(module, name).
    spec = importlib.util.spec_from_file_location("custom_module", rewards.__file__)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, name)


def test_verl_naive_and_batch_reward_managers():
    compute_score = _load_like_verl("compute_score")
    # verl/workers/reward_manager/naive.py: keyword call, one item at a time; reward_kwargs
    # from custom_reward_function.reward_kwargs are merged in.
    apps_truth = json.dumps({"inputs": ["1 2\n", "5 5\n"], "outputs": ["3\n", "10\n"]})
    score = compute_score(data_source="codecontests", solution_str=RIGHT,
                          ground_truth=apps_truth, extra_info={"index": 0})
    assert score == {"score": 1.0, "pass_rate": 1.0, "all_passed": 1.0, "fuel": score["fuel"]}
    assert score["fuel"] > 0
    half = compute_score(data_source="apps", solution_str=HALF, ground_truth=apps_truth,
                         extra_info=None, partial=True)
    assert half["score"] == 0.5 and set(half) == set(score)
    # verl/workers/reward_manager/batch.py: one call for the step.
    batch = _load_like_verl("compute_score_batch")
    rows = batch(data_sources=["apps"] * 3, solution_strs=[RIGHT, WRONG, HALF],
                 ground_truths=[apps_truth, apps_truth, {"inputs": ["1 1\n"], "outputs": ["2\n"]}],
                 extra_infos=[None] * 3)
    assert [r["score"] for r in rows] == [1.0, 0.0, 0.0]
    assert all(set(r) == set(score) for r in rows)


def test_openrlhf_reward_func_file(tmp_path):
    # openrlhf/utils/agent.py: --reward.remote_url names a .py file; its reward_func is called
    # as reward_func(queries, prompts, labels) in a thread, queries = prompt + response.
    path = tmp_path / "reward.py"
    path.write_text("from codefuel.rewards import openrlhf_reward_func\n"
                    "reward_func = openrlhf_reward_func(partial=True)\n")
    spec = importlib.util.spec_from_file_location("reward_func", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    prompts = ["<|user|>Add two numbers.<|assistant|>"] * 3
    queries = [p + r for p, r in zip(prompts, [RIGHT, HALF, WRONG])]
    labels = [TESTS] * 3

    async def fetch():
        return await asyncio.to_thread(module.reward_func, queries, prompts, labels)

    info = asyncio.run(fetch())
    assert info["rewards"] == [1.0, 0.5, 0.0] and info["scores"] == info["rewards"]
    assert info["extra_logs"]["pass_rate"] == [1.0, 0.5, 0.0]
    assert all(f > 0 for f in info["extra_logs"]["fuel"])
    # The default, binary, is importable as is.
    assert rewards.reward_func(queries, prompts, labels)["rewards"] == [1.0, 0.0, 0.0]
    with pytest.raises(ValueError, match="differ in length"):
        module.reward_func(queries, prompts, labels[:1])


def test_rewards_are_deterministic():
    reward = rewards.TRLReward(partial=True, efficiency_weight=0.25)
    args = dict(prompts=["q"] * 3, completions=[RIGHT, SLOW_RIGHT, HALF], tests=[TESTS] * 3)
    assert reward(**args) == reward(**args)
    assert codefuel.judge(RIGHT, TESTS, extract=True).fuel == \
        codefuel.judge(RIGHT, TESTS, extract=True).fuel
