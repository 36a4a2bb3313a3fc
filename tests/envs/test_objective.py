"""The one episode objective (carbon_cpn.optim.objective): the default reward is its per-step
decrement, every job is settled, and deferring everything is no way out."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import carbon_cpn  # noqa: F401
from carbon_cpn.agents.baselines import make_policy
from carbon_cpn.optim.objective import ObjectiveError, ObjectivePrices, ObjectiveTerms, startup_cost_usd

ENV_ID = "CarbonCPN-Tiny-v0"


class DeferAll:
    """Defers every sub-task: runs nothing, so it earns nothing and misses every job."""

    def __init__(self, env: gym.Env) -> None:
        self.defer = env.unwrapped.defer_action

    def predict(self, obs: np.ndarray, deterministic: bool = True) -> tuple[int, None]:
        return self.defer, None


def _episode(env: gym.Env, policy, seed: int) -> tuple[float, dict[str, float]]:
    obs, _ = env.reset(seed=seed)
    ret, done = 0.0, False
    while not done:
        a, _ = policy.predict(obs)
        obs, r, term, trunc, info = env.step(int(a))
        ret += r
        done = term or trunc
    return ret, info["episode_metrics"]


@pytest.mark.parametrize("name", ["random", "pfs", "ees", "dc_frame", "defer_all"])
def test_return_is_minus_the_objective_over_the_scale(name: str) -> None:
    env = gym.make(ENV_ID)
    policy = DeferAll(env) if name == "defer_all" else make_policy(name, env, 0)
    ret, m = _episode(env, policy, seed=1003)
    scale = env.unwrapped.cfg.reward.reward_scale_usd
    # The documented constant: the shadow day's objective (the CPN idle, no jobs), which no
    # action changes; these policies take no masked action, so no action penalty either.
    expected = -(m["objective_usd"] - m["baseline_objective_usd"]) / scale
    assert ret == pytest.approx(expected, rel=1e-6, abs=1e-9)


def test_the_constant_does_not_depend_on_the_policy() -> None:
    env = gym.make(ENV_ID)
    base = {_episode(env, make_policy(n, env, 0), seed=1004)[1]["baseline_objective_usd"] for n in ("random", "pfs")}
    base.add(_episode(env, DeferAll(env), seed=1004)[1]["baseline_objective_usd"])
    assert len(base) == 1


@pytest.mark.parametrize("seed", [1000, 1001, 1002])
def test_deferring_everything_scores_below_random(seed: int) -> None:
    env = gym.make(ENV_ID)
    _, defer = _episode(env, DeferAll(env), seed)
    _, rnd = _episode(env, make_policy("random", env, 0), seed)
    assert defer["objective_usd"] > rnd["objective_usd"]
    # Nothing ran and every job was settled as a miss at the end.
    assert defer["compute_value_usd"] == 0.0 and defer["jobs_completed"] == 0
    assert defer["deadline_misses"] == defer["jobs_arrived"] > 0
    assert defer["qos_penalty_usd"] == pytest.approx(env.unwrapped.cfg.reward.deadline_penalty_usd * defer["jobs_arrived"])


def test_tsco_mode_keeps_eq13_terms_and_the_same_objective() -> None:
    a, b = gym.make(ENV_ID), gym.make(ENV_ID, reward__mode="tsco")
    _, ma = _episode(a, make_policy("pfs", a, 0), seed=1001)
    _, mb = _episode(b, make_policy("pfs", b, 0), seed=1001)
    assert ma["objective_usd"] == pytest.approx(mb["objective_usd"])  # the reward mode does not change the system
    b.reset(seed=1001)
    _, _, _, _, info = b.step(b.unwrapped.defer_action)
    assert set(info["reward_terms"]) == {"revenue", "electricity_cost", "carbon", "deadline_penalty", "invalid_action"}


def test_objective_terms_by_hand() -> None:
    t = ObjectiveTerms(generation=100.0, startup=10.0, lost_load=5.0, carbon=20.0, compute_value=50.0, qos_penalty=7.0)
    assert t.total_usd == pytest.approx(100 + 10 + 5 + 20 - 50 + 7)
    assert sum(t.signed().values()) == pytest.approx(t.total_usd)
    assert (t - t).total_usd == 0.0 and (t + t).total_usd == pytest.approx(2 * t.total_usd)
    # Start-ups: unit 0 on, off, on (one start); unit 1 off then on (one start); initially on.
    u = np.array([[1, 0], [0, 0], [1, 1]], dtype=bool)
    assert startup_cost_usd(u, np.array([30.0, 5.0]), np.array([True, True])) == pytest.approx(35.0)
    assert startup_cost_usd(u, np.array([30.0, 5.0]), np.array([False, False])) == pytest.approx(65.0)
    with pytest.raises(ObjectiveError, match="carbon_price_usd_per_t=-1"):
        ObjectivePrices(-1.0, 200.0)


def test_a_day_without_work_still_takes_one_step_and_keeps_the_objective() -> None:
    # No job arrives: no question all day. reset() runs the day but must not return a finished
    # episode; the one step ends it, defer is its only valid action, and the return is still
    # minus the objective over the scale.
    from carbon_cpn.envs.config import load_scenario

    env = gym.make(ENV_ID, scenario=load_scenario("tiny", **{"workload.jobs_per_hour": 1e-6}))
    obs, info = env.reset(seed=0)
    assert info["elapsed_h"] == pytest.approx(24.0 * env.unwrapped.cfg.episode.days)
    mask = env.unwrapped.action_masks()
    assert mask.tolist() == [a == env.unwrapped.defer_action for a in range(mask.size)]
    obs, r, term, trunc, info = env.step(env.unwrapped.defer_action)
    m = info["episode_metrics"]
    assert term and not trunc and m["jobs_arrived"] == 0 and info["elapsed_h"] == 0.0
    scale = env.unwrapped.cfg.reward.reward_scale_usd
    assert r == pytest.approx(-(m["objective_usd"] - m["baseline_objective_usd"]) / scale, rel=1e-6, abs=1e-9)
    with pytest.raises(RuntimeError, match="after the episode ended"):
        env.step(env.unwrapped.defer_action)
