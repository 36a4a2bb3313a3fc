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


def counting_mask(tag: float, t: float, n_actions: int = 5) -> np.ndarray:
    """Mask of :class:`MaskedCountingEnv` at observation ``[tag, t]``: two actions invalid, the
    pair moving with ``t`` and ``tag`` (so masks tell states, and envs, apart)."""
    mask = np.ones(n_actions, dtype=bool)
    k = int(t) + 2 * int(tag)
    mask[k % n_actions] = False
    mask[(k + 1) % n_actions] = False
    return mask


class MaskedCountingEnv(gym.Env[np.ndarray, int]):
    """Observation ``[tag, t]``; ``action_masks()`` is :func:`counting_mask` of it; reward 1 for a
    valid action, 10 for an invalid one (tempting, so only the mask keeps agents away).

    Ends after ``length`` steps (terminated, or truncated when ``truncate``). With ``info_mask``
    each step's info carries the returned observation's mask under ``"action_mask"``, as the
    carbon-cpn envs do.
    """

    def __init__(self, tag: int = 0, length: int = 4, truncate: bool = False, info_mask: bool = True, n_actions: int = 5) -> None:
        self.observation_space = spaces.Box(-1e6, 1e6, (2,), np.float32)
        self.action_space = spaces.Discrete(n_actions)
        self.tag, self.length, self.truncate, self.info_mask = tag, length, truncate, info_mask
        self.invalid_taken = 0

    def _obs(self) -> np.ndarray:
        return np.array([self.tag, self.t], dtype=np.float32)

    def action_masks(self) -> np.ndarray:
        return counting_mask(self.tag, self.t, int(self.action_space.n))

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict]:
        super().reset(seed=seed)
        self.t = 0
        return self._obs(), ({"action_mask": self.action_masks()} if self.info_mask else {})

    def step(self, action: int) -> tuple[np.ndarray, float, bool, bool, dict]:
        valid = bool(self.action_masks()[int(action)])
        self.invalid_taken += int(not valid)
        self.t += 1
        end = self.t >= self.length
        info = {"action_mask": self.action_masks()} if self.info_mask else {}
        return self._obs(), 1.0 if valid else 10.0, end and not self.truncate, end and self.truncate, info


class TwoStateEnv(gym.Env[np.ndarray, int]):
    """Observations ``s0 = [1, 0]`` and ``s1 = [0, 1]``, 3 actions, action 0 invalid in ``s1``:
    the shell of the hand-built target tests (they write the transitions themselves)."""

    def __init__(self) -> None:
        self.observation_space = spaces.Box(0.0, 1.0, (2,), np.float32)
        self.action_space = spaces.Discrete(3)
        self.s = 0

    def action_masks(self) -> np.ndarray:
        return np.array([self.s == 0, True, True])

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict]:
        super().reset(seed=seed)
        self.s = 0
        return np.eye(2, dtype=np.float32)[0], {}

    def step(self, action: int) -> tuple[np.ndarray, float, bool, bool, dict]:
        self.s = 1 - self.s
        return np.eye(2, dtype=np.float32)[self.s], 1.0, False, self.s == 0, {}


class InvalidActionCounter(gym.Wrapper):
    """Counts the steps, the steps whose ``action_masks()`` forbids some action, and the actions
    taken that the mask marks invalid."""

    def __init__(self, env: gym.Env) -> None:
        super().__init__(env)
        self.invalid_taken = self.restricted_steps = self.steps_taken = 0

    def step(self, action: int) -> tuple[Any, float, bool, bool, dict]:
        mask = self.env.get_wrapper_attr("action_masks")()
        self.invalid_taken += int(not mask[int(action)])
        self.restricted_steps += int(not mask.all())
        self.steps_taken += 1
        return self.env.step(action)
