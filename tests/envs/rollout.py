"""A seeded uniformly random rollout over the valid actions, for the family tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gymnasium as gym
import numpy as np


def random_rollout(env: gym.Env, seed: int, check: Callable[[Any, dict], None] | None = None
                   ) -> tuple[list[float], dict]:
    """Rewards and ``episode_metrics`` of one episode; ``check(env.unwrapped, info)`` after the
    reset and after every step."""
    obs, info = env.reset(seed=seed)
    if check is not None:
        check(env.unwrapped, info)
    rng = np.random.default_rng(seed)
    rewards, done = [], False
    while not done:
        a = int(rng.choice(np.flatnonzero(info["action_mask"])))
        obs, r, done, _, info = env.step(a)
        rewards.append(r)
        if check is not None:
            check(env.unwrapped, info)
    return rewards, info["episode_metrics"]
