"""The observation comes from one block table: layout, docstring and values agree."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import carbon_cpn  # noqa: F401
from carbon_cpn.envs import cpn_env
from carbon_cpn.envs.observation import (CPN_BLOCKS, DEADLINE_SCALE_H, RUN_TIME_SCALE_H, SLACK_RATIO_SCALE, ObsLayout,
                                         layout_table)
from carbon_cpn.envs.streams import EpisodeStreams


@pytest.mark.parametrize("env_id", ["CarbonCPN-v0", "CarbonCPN-Tiny-v0"])
def test_layout_comes_from_the_block_table(env_id: str) -> None:
    u = gym.make(env_id).unwrapped
    n, b = u.n_nodes, len(u.cfg.grid.batteries)
    sizes = {"head_task": 9, "queue": 4, "nodes": 7 * n, "grid": 4 + b, "time": 3}  # by hand
    start = 0
    for (name, s, size, _), want in zip(u.obs_layout, ["head_task", "queue", "nodes", "grid", "time"]):
        assert (name, s, size) == (want, start, sizes[want])
        start += size
    assert u.observation_space.shape == (start,)
    layout = ObsLayout(CPN_BLOCKS, {"node": n, "battery": b})
    assert len(layout.names()) == start and layout.names()[13] == "nodes.free_cpu[0]"
    assert layout.field("time", "progress") == start - 1


def test_docstring_shows_the_table() -> None:
    table = layout_table(CPN_BLOCKS)
    assert table in cpn_env.__doc__ and "{observation_table}" not in cpn_env.__doc__
    assert "7 x N" in table and "4 + B" in table


def test_head_block_by_hand() -> None:
    env = gym.make("CarbonCPN-Tiny-v0")
    obs, _ = env.reset(seed=4)
    u = env.unwrapped
    while u.head_task < 0:
        obs, *_ = env.step(u.defer_action)
    k = u.head_task
    cpn = u.cpn
    j = int(cpn.t_job[k])
    dur, left = float(cpn.t_dur[k]), float(cpn.j_deadline[j]) - u.now_h
    assert obs[0] == 1.0 and obs[1] == cpn.t_res[k]
    assert obs[3] == pytest.approx(dur / RUN_TIME_SCALE_H, rel=1e-6)
    assert obs[4] == pytest.approx(np.clip(left / DEADLINE_SCALE_H, -1, 1), rel=1e-6)
    assert obs[5] == pytest.approx(np.clip(left / dur / SLACK_RATIO_SCALE, -1, 1), rel=1e-6)
    nodes = obs[13:13 + 7 * u.n_nodes].reshape(u.n_nodes, 7)
    np.testing.assert_allclose(nodes[:, 0:2], cpn.free / np.maximum(cpn.capacity, 1), rtol=1e-6)
    np.testing.assert_array_equal(nodes[:, 2:4], cpn.free >= cpn.t_units[k])


def test_extra_streams_are_named_reproducible_and_new_each_episode() -> None:
    def draws(seed: int, episode: int, name: str) -> np.ndarray:
        return EpisodeStreams(np.random.default_rng(seed), episode).extra(name).random(4)

    np.testing.assert_array_equal(draws(1, 0, "a"), draws(1, 0, "a"))
    assert not np.array_equal(draws(1, 0, "a"), draws(1, 0, "b"))
    assert not np.array_equal(draws(1, 0, "a"), draws(1, 1, "a"))
    assert not np.array_equal(draws(1, 0, "a"), draws(2, 0, "a"))
    # Drawing from an extra stream leaves the arrival stream where it was.
    s = EpisodeStreams(np.random.default_rng(9), 0)
    s.extra("a").random(100)
    np.testing.assert_array_equal(s.arrivals.random(3), np.random.default_rng(9).random(3))
