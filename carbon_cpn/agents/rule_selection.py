"""Rule selection: an agent that schedules by choosing, at every decision, which heuristic
decides (issue #14).

``RuleSelectionEnv(env, rules)`` has the action space ``Discrete(len(rules))``: action ``k``
asks the baseline ``rules[k]`` (``carbon_cpn.agents.baselines``) what it would do with the head
sub-task now, and steps the wrapped env with that answer. Every rule answers with a valid
action, so every action is valid (``action_masks()`` is all True). Observation, reward,
episode and metrics are the wrapped env's, so the objective J of an agent trained here is
comparable with the leaderboard rows of the same env id and seeds. ``info["base_action"]``
is the action the chosen rule took.

With ``proposals=True`` the observation also says what every rule would do now: the wrapped
env's observation followed by one block per rule, the one-hot of that rule's action over the
wrapped env's actions (so the agent sees where each rule would place the head sub-task, and
which rules agree). ``CarbonCPN-RulesSeen-v0`` is CarbonCPN-Rules-v0 with them.

``gym.make("CarbonCPN-Rules-v0")`` is CarbonCPN-v0 with :data:`DEFAULT_RULES`: the
heuristics of the leaderboard (random and the oracle are not rules).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from carbon_cpn.envs.actions import coerce_action

__all__ = ["DEFAULT_RULES", "RuleSelectionEnv", "make_rule_env"]

#: The rules of CarbonCPN-Rules-v0: every deterministic heuristic baseline of CarbonCPN-v0.
DEFAULT_RULES = ("pfs", "ees", "scas", "rg_sched", "co_opt", "dc_frame", "c3o_greedy")


class RuleSelectionEnv(gym.Wrapper, gym.utils.RecordConstructorArgs):
    """Action ``k``: let the baseline ``rules[k]`` take the decision (module docstring)."""

    def __init__(self, env: gym.Env, rules: Sequence[str] = DEFAULT_RULES, seed: int = 0,
                 proposals: bool = False) -> None:
        from carbon_cpn.agents.baselines import baselines_for, make_policy

        gym.utils.RecordConstructorArgs.__init__(self, rules=tuple(rules), seed=seed, proposals=proposals)
        gym.Wrapper.__init__(self, env)
        rules = tuple(rules)
        known = baselines_for(env.spec.id if env.spec is not None else None)
        bad = [r for r in rules if r not in known or r in ("random", "oracle")]
        if not rules or bad or len(set(rules)) != len(rules):
            raise ValueError(f"rules={list(rules)!r}: expected distinct deterministic baselines among "
                             f"{sorted(set(known) - {'random', 'oracle'})}")
        self.rules = rules
        self._policies = [make_policy(r, env, seed) for r in rules]
        self.action_space = spaces.Discrete(len(rules))
        self.proposals = bool(proposals)
        if self.proposals:
            if not isinstance(env.action_space, spaces.Discrete) or not isinstance(env.observation_space, spaces.Box):
                raise ValueError("proposals=True: expected a wrapped env with Box observations and Discrete actions")
            self._n_base = int(env.action_space.n)
            base = env.observation_space
            n = len(rules) * self._n_base
            self.observation_space = spaces.Box(
                low=np.concatenate([base.low.ravel(), np.zeros(n)]).astype(base.dtype),
                high=np.concatenate([base.high.ravel(), np.ones(n)]).astype(base.dtype), dtype=base.dtype)
        self._obs: np.ndarray | None = None
        self._answers: np.ndarray | None = None

    def reset(self, **kwargs: Any) -> tuple[np.ndarray, dict[str, Any]]:
        obs, info = self.env.reset(**kwargs)
        self._obs, self._answers = obs, None
        return self._observe(obs), info

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        if self._obs is None:
            raise RuntimeError("step() before reset(): expected env.reset() first")
        k = coerce_action(action, len(self.rules))
        base = int(self._answers[k]) if self._answers is not None else self._ask(k)
        obs, reward, terminated, truncated, info = self.env.step(base)
        self._obs, self._answers = obs, None
        return self._observe(obs), reward, terminated, truncated, {**info, "base_action": base}

    def _ask(self, k: int) -> int:
        from carbon_cpn.agents.baselines import policy_action

        return policy_action(self._policies[k], self._obs)

    def _observe(self, obs: np.ndarray) -> np.ndarray:
        """The wrapped observation, with every rule's answer when ``proposals`` (asked once per
        state: the rules keep per-episode state, so each is asked exactly once)."""
        if not self.proposals:
            return obs
        self._answers = np.array([self._ask(k) for k in range(len(self.rules))], dtype=np.int64)
        onehot = np.zeros((len(self.rules), self._n_base), dtype=obs.dtype)
        onehot[np.arange(len(self.rules)), self._answers] = 1
        return np.concatenate([np.asarray(obs).ravel(), onehot.ravel()])

    def action_masks(self) -> np.ndarray:
        """Every rule is always available."""
        return np.ones(len(self.rules), dtype=bool)


def make_rule_env(base_id: str = "CarbonCPN-v0", rules: Sequence[str] = DEFAULT_RULES, proposals: bool = False,
                  **kwargs: Any) -> RuleSelectionEnv:
    """``RuleSelectionEnv(gym.make(base_id, **kwargs), rules, proposals=proposals)`` (the entry
    point of the ids)."""
    return RuleSelectionEnv(gym.make(base_id, **kwargs), rules, proposals=proposals)
