"""The invariant checks a debug flag runs on every interval (issue #18)."""

from __future__ import annotations

import sys
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

import carbon_cpn  # noqa: F401
from carbon_cpn.envs.invariants import InvariantError

sys.path.insert(0, str(Path(__file__).parent))
from rollout import random_rollout  # noqa: E402


@pytest.mark.parametrize("env_id", ["CarbonCPN-Tiny-v0", "CarbonCPN-v0", "CarbonCPN-EastWest-v0", "CarbonCPN-Microgrid-v0"])
def test_random_episodes_keep_every_invariant(env_id: str) -> None:
    env = gym.make(env_id, check_invariants=True)
    _, m = random_rollout(env, 11)
    assert m["jobs_arrived"] > 0


def test_the_flag_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CARBON_CPN_CHECK_INVARIANTS", "1")
    assert gym.make("CarbonCPN-Tiny-v0").unwrapped.check_invariants
    monkeypatch.delenv("CARBON_CPN_CHECK_INVARIANTS")
    assert not gym.make("CarbonCPN-Tiny-v0").unwrapped.check_invariants


def test_a_broken_invariant_is_reported_with_its_interval() -> None:
    # A server pool that went negative (a bug the checks exist for) stops the episode at once.
    env = gym.make("CarbonCPN-Tiny-v0", check_invariants=True)
    u = env.unwrapped
    env.reset(seed=0)
    u.cpn.free[0, 0] = -1
    with pytest.raises(InvariantError, match=r"interval \d+ .*servers"):
        for _ in range(10_000):
            env.step(u.defer_action)
    assert np.isfinite(u.now_h)
