"""The Microgrid family's rows: the MILP built from an episode, and its plans replayed through
the env's actions (hourly intervals keep the MILP small)."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import carbon_cpn  # noqa: F401
from carbon_cpn.agents.baselines import baselines_for, make_policy
from carbon_cpn.agents.leaderboard.settings import LeaderboardSettings
from carbon_cpn.agents.microgrid_policies import MICROGRID_BASELINES, instance_from_env

ENV_ID = "CarbonCPN-Microgrid-v0"
HOURLY = {"episode.interval_min": 60}


def _play(env: gym.Env, policy, seed: int) -> tuple[dict, int, list]:
    obs, info = env.reset(seed=seed)
    u = env.unwrapped
    invalid, starts, done = 0, [], False
    while not done:
        a = int(policy.predict(obs)[0])
        mask = u.action_masks()
        invalid += int(not mask[a])
        if u.route_region < 0 and u.head_task >= 0 and a != u.defer_action:
            starts.append((int(u.cpn.t_job[u.head_task]), a, int(u.t)))
        obs, _, done, _, info = env.step(a)
    return info["episode_metrics"], invalid, starts


def test_the_instance_holds_the_episodes_jobs_and_demand() -> None:
    env = gym.make(ENV_ID, **HOURLY)
    env.reset(seed=3)
    inst = instance_from_env(env)
    u = env.unwrapped
    rng = np.random.default_rng(0)
    done = False
    while not done:  # the instance is foresight: the episode's arrivals, whatever is played
        _, _, done, _, _ = env.step(int(rng.choice(np.flatnonzero(u.action_masks()))))
    n = u.cpn.n_jobs
    assert inst.n_jobs == n and n > 0
    np.testing.assert_array_equal(inst.job_gpus, u.cpn.t_units[:n])  # one sub-task per job, in job order
    assert (inst.job_release * u.interval_h >= u.cpn.j_arrival[:n]).all()
    assert (inst.job_deadline * u.interval_h <= u.cpn.j_deadline[:n] + 1e-9).all()
    np.testing.assert_array_equal(inst.demand_gpus, u.demand)
    assert inst.n_periods == u.n_intervals == 24


@pytest.mark.parametrize("name", sorted(MICROGRID_BASELINES))
def test_every_row_plays_a_day_without_masked_actions(name: str) -> None:
    env = gym.make(ENV_ID, **HOURLY)
    m, invalid, _ = _play(env, MICROGRID_BASELINES[name](env, 0), 5)
    assert invalid == 0
    assert m["jobs_arrived"] > 0 and 0 < m["inference_served_share"] <= 1


def test_plans_are_replayed() -> None:
    # Every training start of the energy-only schedule and of the joint plan that the env could
    # carry out at its planned interval happened there, on the planned site.
    for cls_name in ("energy_only", "oracle"):
        env = gym.make(ENV_ID, **HOURLY)
        pol = MICROGRID_BASELINES[cls_name](env, 0)
        _, _, starts = _play(env, pol, 7)
        planned = pol.starts
        assert planned
        on_plan = [j for j, s, t in starts if planned.get(j) == (s, t)]
        assert len(on_plan) >= 0.8 * len(planned), (cls_name, starts, planned)
        assert all(j in planned for j, _, _ in starts)  # nothing the plan left out was started


def test_the_leaderboard_knows_the_familys_rows() -> None:
    assert set(baselines_for(ENV_ID)) == set(MICROGRID_BASELINES)
    s = LeaderboardSettings.with_defaults(env_id=ENV_ID, n_seeds=1)
    assert set(s.methods) == set(MICROGRID_BASELINES)
    with pytest.raises(ValueError, match="pfs"):
        LeaderboardSettings.with_defaults(env_id=ENV_ID, n_seeds=1, methods=("pfs",))
    with pytest.raises(KeyError, match="greenest"):
        make_policy("greenest", gym.make("CarbonCPN-Tiny-v0"), 0)
    with pytest.raises(TypeError, match="Microgrid"):
        MICROGRID_BASELINES["greenest"](gym.make("CarbonCPN-Tiny-v0"), 0)
