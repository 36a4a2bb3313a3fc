"""Epsilon-greedy action selection from the algorithm's own generator (issue #5).

SB3's ``DQN.predict`` draws the epsilon coin from numpy's global generator. The algorithms of
this package use :class:`OwnRNGEpsilonGreedy` instead: a ``numpy.random.Generator`` seeded from
the run's seed in ``set_random_seed`` (no global RNG: same seed, same run).
"""

from __future__ import annotations

import numpy as np
from stable_baselines3 import DQN


class OwnRNGEpsilonGreedy(DQN):
    """``DQN`` whose exploration coin and random actions come from ``self._explore_rng``."""

    _explore_rng: np.random.Generator

    def set_random_seed(self, seed: int | None = None) -> None:
        super().set_random_seed(seed)
        # Offset so the coin stream differs from the env's and the buffer's streams.
        self._explore_rng = np.random.default_rng(None if seed is None else [int(seed), 0xE95])

    def predict(
        self,
        observation: np.ndarray | dict[str, np.ndarray],
        state: tuple[np.ndarray, ...] | None = None,
        episode_start: np.ndarray | None = None,
        deterministic: bool = False,
    ) -> tuple[np.ndarray, tuple[np.ndarray, ...] | None]:
        """Greedy action; with probability ``exploration_rate`` (if not deterministic) a uniform one."""
        if not hasattr(self, "_explore_rng"):
            self._explore_rng = np.random.default_rng(self.seed)
        if deterministic or self.exploration_rate <= 0.0:
            return self.policy.predict(observation, state, episode_start, deterministic)
        actions, state = self.policy.predict(observation, state, episode_start, deterministic)
        n_actions = int(self.action_space.n)  # type: ignore[union-attr]
        vectorized = self.policy.is_vectorized_observation(observation)
        acts = np.atleast_1d(np.asarray(actions)).copy()
        explore = self._explore_rng.random(acts.shape[0]) < self.exploration_rate
        acts[explore] = self._explore_rng.integers(0, n_actions, size=int(explore.sum()))
        return (acts if vectorized else acts.reshape(np.shape(actions))), state

    def _excluded_save_params(self) -> list[str]:
        return [*super()._excluded_save_params(), "_explore_rng"]
