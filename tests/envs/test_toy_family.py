"""A new family is only new files: the toy family of ``toy_family.py`` on the shared core."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from toy_family import TAX_USD_PER_T, NodeOnlyEnv  # noqa: E402

from carbon_cpn.envs.action_codec import NodeCodec  # noqa: E402
from carbon_cpn.envs.cpn_env import CarbonCPNEnv  # noqa: E402


def _episode(env: NodeOnlyEnv, seed: int) -> tuple[list[float], list[dict], dict]:
    obs, info = env.reset(seed=seed)
    rng = np.random.default_rng(seed)
    rewards, terms = [], []
    done = False
    while not done:
        mask = env.action_masks()
        assert mask.shape == (env.n_nodes + 1,) and mask[-1]
        obs, r, done, _, info = env.step(int(rng.choice(np.flatnonzero(mask))))
        assert env.observation_space.contains(obs)
        rewards.append(r)
        terms.append(info)
    return rewards, terms, info["episode_metrics"]


def test_codec_places_on_the_preferred_resource() -> None:
    c = NodeCodec(2)
    assert c.decode(1, preferred=1).node == 1 and c.decode(1, preferred=1).resource == 1
    assert c.decode(2, preferred=0) is None
    feasible = np.array([[True, False], [False, True]])
    np.testing.assert_array_equal(c.mask(feasible, 1), [False, True, True])
    np.testing.assert_array_equal(c.mask(feasible, 0), [True, False, True])
    with pytest.raises(ValueError, match="action=3"):
        c.decode(3)


def test_toy_family_runs_on_the_core() -> None:
    env = NodeOnlyEnv()
    assert env.action_space.n == env.n_nodes + 1 == 3
    env.reset(seed=5)
    # Every placement goes to the head's node on the resource it prefers.
    placed = 0
    while not env.done and placed < 20:
        head, mask = env.head_task, env.action_masks()
        acts = np.flatnonzero(mask[:-1])
        if head < 0 or not acts.size:
            env.step(env.defer_action)
            continue
        pref = int(env.cpn.t_res[head])
        env.step(int(acts[0]))
        assert env.cpn.t_node[head] == acts[0] and env.cpn.t_rtype[head] == pref
        placed += 1
    assert placed > 0


def test_extra_term_is_in_the_reward_and_sums() -> None:
    env = NodeOnlyEnv()
    rewards, infos, metrics = _episode(env, seed=11)
    taxed = 0
    for r, info in zip(rewards, infos):
        terms = info["reward_terms"]
        assert "carbon_tax" in terms
        assert sum(terms.values()) == pytest.approx(r, abs=1e-12)
        if info.get("intervals"):
            kg = sum(rec["cpn_emissions_kg"] for rec in info["intervals"])
            # The tax lies between 0.5 and 1.5 times the nominal rate on the interval's CPN CO2.
            lo = kg / 1000 * TAX_USD_PER_T * 0.5 / env.cfg.reward.reward_scale_usd
            hi = kg / 1000 * TAX_USD_PER_T * 1.5 / env.cfg.reward.reward_scale_usd
            assert lo - 1e-12 <= -terms["carbon_tax"] <= hi + 1e-12
            taxed += kg > 0
        else:
            assert terms["carbon_tax"] == 0.0
    assert taxed > 0
    assert metrics["jobs_arrived"] > 0 and np.isfinite(metrics["objective_usd"])


def test_family_stream_does_not_move_the_arrivals() -> None:
    toy, base = NodeOnlyEnv(), CarbonCPNEnv("tiny")
    _episode(toy, seed=3)  # draws from its tax stream every interval
    base.reset(seed=3)
    a, b = toy.foresight(), base.foresight()
    assert a.day == b.day
    for x, y in zip(a.batches, b.batches):
        assert (x is None) == (y is None)
        if x is not None:
            np.testing.assert_array_equal(x.arrival_h, y.arrival_h)
            np.testing.assert_array_equal(x.task_duration_h, y.task_duration_h)


def test_same_seed_same_episode() -> None:
    r1, _, m1 = _episode(NodeOnlyEnv(), seed=21)
    r2, _, m2 = _episode(NodeOnlyEnv(), seed=21)
    assert r1 == r2 and m1 == m2
