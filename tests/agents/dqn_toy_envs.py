"""Tiny deterministic-given-seed envs for the DQN-family tests (issue #5)."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces


class ContextBanditEnv(gym.Env[np.ndarray, int]):
    """Each step shows a context ``c`` (one-hot of 4) and pays 1 for action ``(c + 1) % 4``.

    Episodes last ``horizon`` steps and end by termination, or by truncation when
    ``truncate=True`` (to exercise timeouts). Random policy: ``horizon / 4`` on average.
    """

    def __init__(self, horizon: int = 10, truncate: bool = False) -> None:
        self.observation_space = spaces.Box(0.0, 1.0, (4,), np.float32)
        self.action_space = spaces.Discrete(4)
        self.horizon, self.truncate = horizon, truncate

    def _obs(self) -> np.ndarray:
        o = np.zeros(4, dtype=np.float32)
        o[self.c] = 1.0
        return o

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict]:
        super().reset(seed=seed)
        self.t = 0
        self.c = int(self.np_random.integers(4))
        return self._obs(), {}

    def step(self, action: int) -> tuple[np.ndarray, float, bool, bool, dict]:
        r = float(int(action) == (self.c + 1) % 4)
        self.t += 1
        self.c = int(self.np_random.integers(4))
        end = self.t >= self.horizon
        return self._obs(), r, end and not self.truncate, end and self.truncate, {}


class CountingEnv(gym.Env[np.ndarray, int]):
    """Observation = [env tag, step index]; reward = ``10 * tag + step index`` (traceable).

    Ends after ``length`` steps: terminated, or truncated when ``truncate``.
    """

    def __init__(self, tag: int = 0, length: int = 3, truncate: bool = False) -> None:
        self.observation_space = spaces.Box(-1e6, 1e6, (2,), np.float32)
        self.action_space = spaces.Discrete(2)
        self.tag, self.length, self.truncate = tag, length, truncate

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict]:
        super().reset(seed=seed)
        self.t = 0
        return np.array([self.tag, 0], dtype=np.float32), {}

    def step(self, action: int) -> tuple[np.ndarray, float, bool, bool, dict]:
        r = float(10 * self.tag + self.t)
        self.t += 1
        end = self.t >= self.length
        return np.array([self.tag, self.t], dtype=np.float32), r, end and not self.truncate, end and self.truncate, {}
