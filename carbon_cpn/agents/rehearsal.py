"""Rehearse a policy on a copy of an episode and read back its schedule (for the oracle).

The perfect-foresight oracle knows the whole episode, so it may also try a heuristic on it
first: :func:`rehearse_schedule` builds a second env from the first one's spec (the same
scenario and overrides; the wrappers around the first are left out), resets it to the same
episode (``env.episode_replay()``: seeded or not, the first episode after a seed or a later
one), checks that both face the same day and the same arrivals, runs the policy to the end
and returns where and when it started every sub-task. The oracle passes that schedule to its
MILP as a start (``carbon_cpn.optim.oracle.solve_oracle(incumbent=...)``), so its plan is never
worse in the relaxation than the rehearsed policy.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gymnasium as gym
import numpy as np

from carbon_cpn.optim.oracle import Placement

__all__ = ["RehearsalError", "rehearse_schedule"]


class RehearsalError(RuntimeError):
    """The copy of the episode is not the episode (an env reset without a reproducible seed)."""


def _same_episode(a: Any, b: Any) -> bool:
    fa, fb = a.foresight(), b.foresight()
    if fa.day != fb.day or fa.n_intervals != fb.n_intervals or not np.array_equal(fa.first_task, fb.first_task):
        return False
    return all((x is None) == (y is None) and (x is None or np.array_equal(x.task_units, y.task_units))
               for x, y in zip(fa.batches, fb.batches))


def rehearse_schedule(env: gym.Env, make: Callable[[gym.Env], Any]) -> dict[int, Placement]:
    """The schedule (sub-task -> placement; interval = the one it started at) that the policy
    ``make(copy_env)`` produces on the episode ``env`` was last reset to. Raises
    :class:`RehearsalError` when the copy does not face the same episode."""
    u: Any = env.unwrapped
    if u.spec is None:
        raise RehearsalError(f"env={env!r}: expected an env made by gym.make (it has no spec to copy)")
    copy = gym.make(u.spec)  # the env itself, without the wrappers around it (Monitor cannot be rebuilt)
    try:
        obs, _ = copy.reset(options={"replay": u.episode_replay()})
        c: Any = copy.unwrapped
        if not _same_episode(u, c):
            raise RehearsalError("the copy of the episode differs from it (day or arrivals)")
        policy = make(copy)
        done = False
        schedule: dict[int, Placement] = {}
        while not done:
            task, interval, mask = int(c.head_task), int(c.t), c.action_masks()
            a, _ = policy.predict(obs, deterministic=True)
            a = int(np.asarray(a).reshape(-1)[0])
            choice = c.codec.decode(a, c.head_preference())
            if choice is not None and task >= 0 and mask[a]:
                schedule[task] = Placement(node=choice.node, resource=choice.resource, start=interval)
            obs, _, term, trunc, _ = copy.step(a)
            done = term or trunc
        return schedule
    finally:
        copy.close()
