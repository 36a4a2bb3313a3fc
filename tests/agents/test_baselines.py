"""Issue #6: every heuristic baseline runs a full episode and never picks a masked action."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import carbon_cpn  # noqa: F401
from carbon_cpn.agents.baselines import BASELINES, HeuristicPolicy, can_defer, make_policy

HEURISTICS = [name for name in BASELINES if name != "oracle"]


def _rollout(name: str, env_id: str = "CarbonCPN-Tiny-v0", seed: int = 1000) -> tuple[list[int], dict, float]:
    env = gym.make(env_id)
    obs, _ = env.reset(seed=seed)
    policy = make_policy(name, env, seed=0)
    actions: list[int] = []
    invalid_term = 0.0
    done = False
    info: dict = {}
    while not done:
        mask = env.unwrapped.action_masks()
        a, _ = policy.predict(obs, deterministic=True)
        a = int(a)
        assert mask[a], f"{name} chose masked action {a} (mask {mask})"
        actions.append(a)
        obs, _, term, trunc, info = env.step(a)
        invalid_term += info["reward_terms"]["invalid_action"]
        done = term or trunc
    return actions, info["episode_metrics"], invalid_term


@pytest.mark.parametrize("name", HEURISTICS)
def test_full_episode_without_invalid_actions(name: str) -> None:
    actions, metrics, invalid_term = _rollout(name)
    assert invalid_term == 0.0
    assert metrics["jobs_arrived"] > 0
    assert 0.0 <= metrics["job_success_rate"] <= 1.0
    if name in ("pfs", "ees", "scas", "rg_sched"):  # rules that never wait
        assert actions.count(2 * 2) == 0


def test_default_env_episode_for_the_deferring_rules() -> None:
    for name in ("c3o_greedy", "co_opt"):
        _, metrics, invalid_term = _rollout(name, "CarbonCPN-v0", 1001)
        assert invalid_term == 0.0 and metrics["jobs_completed"] > 0


def test_random_is_seeded() -> None:
    a1, _, _ = _rollout("random")
    a2, _, _ = _rollout("random")
    assert a1 == a2


def test_predict_matches_sb3_shapes() -> None:
    env = gym.make("CarbonCPN-Tiny-v0")
    obs, _ = env.reset(seed=1000)
    pol = make_policy("pfs", env, 0)
    a, state = pol.predict(obs)
    assert np.asarray(a).shape == () and state is None
    a2, _ = pol.predict(obs[None, :])
    assert np.asarray(a2).shape == (1,) and int(a2[0]) == int(a)


def test_make_policy_rejects_bad_input() -> None:
    env = gym.make("CarbonCPN-Tiny-v0")
    with pytest.raises(KeyError, match="name='nope'"):
        make_policy("nope", env, 0)
    with pytest.raises(TypeError, match="seed"):
        make_policy("pfs", env, 1.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="env="):
        HeuristicPolicy(gym.make("CartPole-v1"))


def test_can_defer_respects_high_qos_and_queue() -> None:
    env = gym.make("CarbonCPN-v0")
    env.reset(seed=1000)
    view = env.unwrapped.scheduler_view()
    assert view.head is not None
    if view.head.high_qos:
        assert not can_defer(view)
    assert not can_defer(view, max_queue=0)


def test_evaluate_runs_a_baseline_by_name_as_the_leaderboard_does() -> None:
    from carbon_cpn.agents.evaluate import evaluate
    from carbon_cpn.agents.leaderboard import run_episode

    by_cli = evaluate("pfs", "CarbonCPN-Tiny-v0", episodes=1, seed=1003)
    by_board = run_episode("CarbonCPN-Tiny-v0", "pfs", 1003)
    assert by_cli["objective_usd"]["mean"] == pytest.approx(by_board.objective_usd, rel=1e-12)
    assert by_cli["invalid_actions"]["mean"] == 0.0


def test_agents_package_exports_load_on_first_use() -> None:
    import subprocess
    import sys

    code = ("import sys, carbon_cpn.agents as a; assert 'torch' not in sys.modules; "
            "from carbon_cpn.agents import Rainbow, DoubleDQN, MaskablePPOAgent; "
            "print(Rainbow.__name__, DoubleDQN.__name__, MaskablePPOAgent.__name__)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["Rainbow", "DoubleDQN", "MaskablePPOAgent"]
    import carbon_cpn.agents as agents

    with pytest.raises(AttributeError, match="Rainbo"):
        agents.Rainbo  # noqa: B018
