"""One action-coercion rule for every family's step() (issue #18)."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import carbon_cpn  # noqa: F401
from carbon_cpn.envs.actions import coerce_action


@pytest.mark.parametrize("action", [2.7, 1.0, "4", b"1", True, np.bool_(False), None, float("nan"),
                                    np.array([1, 2]), np.array([1.0]), np.float32(1), [1], -1, 5, np.int64(7)])
def test_anything_but_an_integer_in_range_is_refused_by_name(action) -> None:
    with pytest.raises(ValueError, match=r"action=.*expected an integer in \[0, 4\]"):
        coerce_action(action, 5)


@pytest.mark.parametrize("action", [0, 4, np.int64(3), np.int32(2), np.uint8(1), np.array(2), np.array([3])])
def test_python_and_numpy_integers_are_actions(action) -> None:
    assert coerce_action(action, 5) == int(np.asarray(action).reshape(-1)[0])


@pytest.mark.parametrize("env_id", ["CarbonCPN-Tiny-v0", "CarbonCPN-Microgrid-v0"])
def test_step_uses_the_rule_and_refuses_to_run_before_reset(env_id: str) -> None:
    env = gym.make(env_id).unwrapped
    with pytest.raises(RuntimeError, match="before reset"):
        env.step(0)
    assert env.action_masks()[-1]  # only defer before the first reset
    env.reset(seed=0)
    for bad in (2.7, "1", True, None):
        with pytest.raises(ValueError, match="action="):
            env.step(bad)
    env.step(np.array([env.defer_action]))  # what model.predict returns for one observation
