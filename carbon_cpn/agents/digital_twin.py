"""The digital twin of "Carbon-Computing Coupling Optimization and Green Scheduling System for
Intelligent Computing Centers" (Xie, Wei; c3o), Algorithm 3, as a policy wrapper for
``CarbonCPN-EastWest-v0``.

The twin keeps the last ``window`` telemetry readings of every node (``env.unwrapped.telemetry``,
one per interval), and its LSTM (:mod:`carbon_cpn.agents.failure_predictor`) turns them into
each component's risk of failing within the horizon; a node's risk is its components' highest.
Above ``threshold`` the twin acts on the base policy's decisions:

* a sub-task to place: the base rule chooses among the placements on nodes not at risk (when
  there is one);
* a running sub-task on a node at risk (a migration question): it is moved to the placement
  the twin tests best — a node not at risk and not down, with room, that keeps its job on time,
  the least facility energy first (the "test in the virtual environment" of Algorithm 3 is
  this check on the twin's state, not a run of a copy of the simulator); with none, it holds.

Without a full window (the first ``window`` intervals) the twin defers to the base policy.
"""

from __future__ import annotations

import dataclasses
from collections import deque
import gymnasium as gym
import numpy as np

from carbon_cpn.agents.failure_predictor import FailurePredictor, TwinSettings, simulate_windows, train_predictor
from carbon_cpn.agents.heuristic_base import HeuristicPolicy, argmin_feasible, energy_mwh, on_time
from carbon_cpn.agents.heuristic_rules import HEURISTICS
from carbon_cpn.envs.failures import FailureConfig
from carbon_cpn.envs.views import SchedulerView


def train_twin(config: FailureConfig, seed: int = 0, n_nodes: int = 32, hours: float = 336.0,
               settings: TwinSettings | None = None) -> FailurePredictor:
    """The twin's LSTM, trained on simulated telemetry histories of ``config`` (its own seed, so
    never the histories of an evaluated episode)."""
    s = settings or TwinSettings(seed=seed)
    windows = simulate_windows(config, n_nodes, hours, s, seed=10_000 + seed)
    return train_predictor(windows, len(config.components), s)


class DigitalTwinPolicy(HeuristicPolicy):
    """``base`` (a heuristic name) with the twin's failure preemption (module docstring)."""

    cites = "c3o Algorithm 3 (digital twin failure preemption)"

    def __init__(self, env: gym.Env, seed: int | None = None, *, base: str = "pfs",
                 predictor: FailurePredictor | None = None, threshold: float = 0.5) -> None:
        super().__init__(env, seed)
        if base not in HEURISTICS:
            raise ValueError(f"base={base!r}: expected one of {sorted(HEURISTICS)}")
        if not (0.0 < threshold < 1.0):
            raise ValueError(f"threshold={threshold!r}: expected a probability in (0, 1)")
        if not hasattr(self.unwrapped, "telemetry"):
            raise TypeError(f"env={env!r}: expected an env with component telemetry (CarbonCPN-EastWest-v0)")
        self.base = HEURISTICS[base](env, 0 if seed is None else seed)
        self.predictor = predictor if predictor is not None else train_twin(FailureConfig(
            rate_scale=float(self.unwrapped.failure_rate_scale) or 1.0), seed=0 if seed is None else int(seed))
        self.threshold = float(threshold)
        self.window: deque[np.ndarray] = deque(maxlen=self.predictor.settings.window)
        self.seen_t = -1
        self.risk = np.zeros(self.unwrapped.n_nodes)
        self.preempted = 0

    def reset(self) -> None:
        self.base.reset()
        self.window.clear()
        self.seen_t = -1
        self.risk[:] = 0.0
        self.preempted = 0

    def _sync(self) -> None:
        """Step 1 of Algorithm 3: one reading per interval into the twin, then the risk."""
        u = self.unwrapped
        if u.t == self.seen_t or u.telemetry is None:
            return
        self.seen_t = u.t
        self.window.append(np.asarray(u.telemetry, dtype=np.float32))
        if len(self.window) == self.window.maxlen:
            risk = self.predictor.predict_risk(np.stack(self.window))  # [node, component]
            self.risk = risk.max(axis=1)

    def act(self, view: SchedulerView) -> int:
        self._sync()
        at_risk = self.risk > self.threshold
        safe = view.action_mask.copy()
        safe[:-1] &= ~np.repeat(at_risk, self.codec.n_resources)
        if safe[:-1].any() and at_risk.any():
            return int(self.base.act(dataclasses.replace(view, action_mask=safe)))
        return int(self.base.act(view))

    def migrate(self, view: SchedulerView) -> int:
        self._sync()
        h = view.head
        u = self.unwrapped
        assert h is not None
        if not self.risk[int(u.cpn.t_node[h.task])] > self.threshold:
            return self.defer_action
        at_risk = self.risk > self.threshold
        ok = view.action_mask.copy()
        ok[:-1] &= ~np.repeat(at_risk, self.codec.n_resources) & on_time(view).ravel()
        if not ok[:-1].any():
            return self.defer_action
        self.preempted += 1
        return argmin_feasible(dataclasses.replace(view, action_mask=ok), energy_mwh(view), tie=h.run_time_h)


__all__ = ["DigitalTwinPolicy", "train_twin"]
