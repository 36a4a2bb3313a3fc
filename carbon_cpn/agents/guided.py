"""Heuristic-guided exploration for the DQN family (issue #14).

Uniform random exploration of a scheduling env mostly defers work and misses deadlines, so the
replay buffer of a DQN agent holds few transitions of a well-run day. With ``guide="pfs"``
(any baseline of the env, ``carbon_cpn.agents.baselines.make_policy``) and ``guide_prob=p``,
each exploratory action — every warm-up action before ``learning_starts`` and every
epsilon draw after it — is the guide's action with probability ``p`` and uniform over the
valid actions otherwise. Q-learning is off-policy, so the targets stay those of the greedy
policy; only the data changes. Greedy actions, evaluation and ``predict`` never consult the
guide, so a trained agent acts on its own.

The guide reads the env's scheduler view, so the training envs must live in the training
process (a ``DummyVecEnv``, ``carbon-cpn train --vec-env dummy``, the default); its coins come
from the agent's own seeded generator.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from stable_baselines3.common.vec_env import DummyVecEnv, VecEnv, VecEnvWrapper

__all__ = ["GuideSet", "check_guide"]


def check_guide(guide: Any, guide_prob: Any) -> tuple[str | None, float]:
    """Validated ``(guide, guide_prob)``."""
    if guide is not None and not (isinstance(guide, str) and guide):
        raise ValueError(f"guide={guide!r}: expected None or the name of a baseline (e.g. 'pfs')")
    if isinstance(guide_prob, bool) or not isinstance(guide_prob, (int, float, np.floating, np.integer)) \
            or not 0.0 <= float(guide_prob) <= 1.0:
        raise ValueError(f"guide_prob={guide_prob!r}: expected a probability in [0, 1]")
    if guide is None and float(guide_prob) > 0.0:
        raise ValueError(f"guide_prob={guide_prob!r} without a guide: expected guide='<baseline name>' too")
    return guide, float(guide_prob)


def _inner_envs(env: VecEnv) -> list[Any]:
    while isinstance(env, VecEnvWrapper):
        env = env.venv
    if not isinstance(env, DummyVecEnv):
        raise ValueError(f"guide: the training envs are a {type(env).__name__}; expected envs in this process "
                         "(DummyVecEnv, --vec-env dummy), whose state the guide can read")
    return list(env.envs)


class GuideSet:
    """One guide policy per training env, and the mixing rule of the module docstring."""

    def __init__(self, name: str, env: VecEnv, seed: int | None) -> None:
        from carbon_cpn.agents.baselines import make_policy

        self.name, self.venv = name, env
        self.policies = [make_policy(name, e, seed=int(seed or 0) + i) for i, e in enumerate(_inner_envs(env))]

    def actions(self, observations: np.ndarray, which: np.ndarray) -> np.ndarray:
        """The guide's action in the training envs ``which`` (their current state)."""
        from carbon_cpn.agents.baselines import policy_action

        return np.asarray([policy_action(self.policies[i], observations[i][None]) for i in np.flatnonzero(which)],
                          dtype=np.int64)

    def mix(self, rng: np.random.Generator, explore: np.ndarray, uniform: np.ndarray, observations: np.ndarray,
            prob: float) -> np.ndarray:
        """Per env: where ``explore``, the guide's action with probability ``prob`` and
        ``uniform`` otherwise; elsewhere -1 (the caller keeps its greedy action)."""
        out = np.full(explore.shape, -1, dtype=np.int64)
        use_guide = explore & (rng.random(explore.shape) < prob)
        out[explore] = uniform[explore]
        if use_guide.any():
            out[use_guide] = self.actions(observations, use_guide)
        return out
