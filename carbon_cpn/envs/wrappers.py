"""``LyapunovCarbonQueue``: a virtual carbon queue that enforces a budget (eq. 14 of
"A Novel Hierarchical Co-Optimization Framework for Coordinated Task Scheduling and Power Dispatch in Computing Power Networks" (Luo, Yang, Huang, Dustdar; tsco below)).

    Q <- max(0, Q + Carbon_t - E_budget / T)

per grid interval, with Carbon_t the CPN's emissions in the interval [t] and T the number of
intervals in the episode. Each step's reward gets the extra term ``-V x Q x Carbon`` (in the
env's reward units per t CO2 x t CO2), reported as ``info["reward_terms"]["lyapunov"]`` so the
terms still sum to the reward, and Q / E_budget is appended to the observation: the policy
must see the queue to act on it.

tsco eq. 10 bounds the *expected* emissions over days (scenarios), a long-term constraint. With
``long_term=False`` (the default) the queue starts empty at every reset: each episode (day) is
held to the budget on its own, a per-day cap that is stricter than eq. 10 when days differ. With
``long_term=True`` the queue carries over from one episode to the next (only a new wrapper
starts it empty): a day above the budget leaves a queue that the following days must work off,
and the mean over consecutive days is what the budget bounds, as in eq. 10.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces


#: The queue's scopes: ``"episode"`` (empty at every reset) or ``"long_term"`` (carried over).
CARBON_QUEUES = ("episode", "long_term")


class LyapunovCarbonQueue(gym.Wrapper[np.ndarray, int, np.ndarray, int]):
    def __init__(self, env: gym.Env[np.ndarray, int], budget_tco2: float, v: float = 1.0,
                 long_term: bool = False) -> None:
        super().__init__(env)
        if not isinstance(long_term, bool):
            raise ValueError(f"long_term={long_term!r}: expected True (the queue carries over episodes) or False")
        if not (np.isfinite(budget_tco2) and budget_tco2 > 0):
            raise ValueError(f"budget_tco2={budget_tco2!r}: expected a carbon budget > 0 t CO2 per episode")
        if not (np.isfinite(v) and v >= 0):
            raise ValueError(f"v={v!r}: expected a weight V >= 0")
        base = env.observation_space
        if not isinstance(base, spaces.Box) or len(base.shape) != 1:
            raise ValueError(f"env.observation_space={base!r}: expected a 1-D Box")
        self.budget_tco2 = float(budget_tco2)
        self.v = float(v)
        self.long_term = long_term
        self.n_intervals = int(env.unwrapped.n_intervals)  # type: ignore[attr-defined]
        self.per_interval_tco2 = self.budget_tco2 / self.n_intervals
        self.observation_space = spaces.Box(
            low=np.append(base.low, 0.0).astype(np.float32),
            high=np.append(base.high, np.float32(np.inf)).astype(np.float32),
            dtype=np.float32,
        )
        self.q_tco2 = 0.0

    def _obs(self, obs: np.ndarray) -> np.ndarray:
        return np.append(obs, np.float32(self.q_tco2 / self.budget_tco2)).astype(np.float32)

    def reset(self, **kwargs: Any) -> tuple[np.ndarray, dict[str, Any]]:
        obs, info = self.env.reset(**kwargs)
        if not self.long_term:
            self.q_tco2 = 0.0
        # Intervals that ran before the first decision count against the budget too (their
        # penalty has no reward to go into: the agent had no say in them).
        for rec in info.get("intervals", []):
            self.q_tco2 = max(0.0, self.q_tco2 + rec["cpn_emissions_kg"] / 1000.0 - self.per_interval_tco2)
        info["carbon_queue_tco2"] = self.q_tco2
        return self._obs(obs), info

    def step(self, action: int) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        obs, reward, terminated, truncated, info = self.env.step(action)
        penalty_units = 0.0
        for rec in info.get("intervals", []):
            carbon_t = rec["cpn_emissions_kg"] / 1000.0
            # tsco eq. 14; the penalty uses the queue before this interval's update.
            penalty_units += self.v * self.q_tco2 * carbon_t
            self.q_tco2 = max(0.0, self.q_tco2 + carbon_t - self.per_interval_tco2)
        terms = dict(info.get("reward_terms", {}))
        terms["lyapunov"] = -penalty_units
        info["reward_terms"] = terms
        info["carbon_queue_tco2"] = self.q_tco2
        return self._obs(obs), float(reward) - penalty_units, terminated, truncated, info
