"""The digital twin of "Carbon-Computing Coupling Optimization and Green Scheduling System for
Intelligent Computing Centers" (Xie, Wei; c3o), Algorithm 3, as a policy wrapper for
``CarbonCPN-EastWest-v0``.

The twin keeps the last ``window`` telemetry readings of every node (``env.unwrapped.telemetry``,
one per interval), and its LSTM (:mod:`carbon_cpn.agents.failure_predictor`) turns them into
each component's risk of failing within the horizon; a node's risk is its components' highest.
Above ``threshold`` the twin acts on the base policy's decisions:

* a sub-task to place: the base rule chooses among the placements on nodes not at risk (when
  there is one);
* a running sub-task on a node at risk (a migration question): every move to a node not at
  risk and not down, with room, is tested in a copy of the simulator's compute side (step 3 of
  Algorithm 3, "validate in the virtual environment"): the copy makes the move (with the env's
  checkpoint-and-transfer delay) and runs interval by interval to the moved sub-task's end; a
  move passes if the sub-task ends by its job's deadline there, and the twin makes the passing
  move whose copy emitted the least (the CPN's power x the last marginal intensities, over the
  same horizon for every move). With none passing, it holds. The copy has no grid (prices and
  intensities stay at the last interval's) and places no other work.

Without a full window (the first ``window`` intervals) the twin defers to the base policy.
"""

from __future__ import annotations

import copy
import dataclasses
from collections import deque
import gymnasium as gym
import numpy as np

from carbon_cpn.agents.failure_predictor import FailurePredictor, TwinSettings, simulate_windows, train_predictor
from carbon_cpn.agents.heuristic_base import HeuristicPolicy
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
        ok[:-1] &= ~np.repeat(at_risk, self.codec.n_resources)
        moves = np.flatnonzero(ok[:-1])
        if not moves.size:
            return self.defer_action
        kg = self.test_moves(h.task, moves, view)
        if not np.isfinite(kg).any():
            return self.defer_action
        self.preempted += 1
        return int(moves[int(np.argmin(kg))])

    def test_moves(self, task: int, moves: np.ndarray, view: SchedulerView) -> np.ndarray:
        """Algorithm 3, step 3: each of ``moves`` (actions) made in a copy of the compute side
        and run to the moved sub-task's end; the copy's emissions [kg] over a horizon common to
        all moves, or inf where the sub-task's job would miss its deadline."""
        u = self.unwrapped
        dt, now = float(view.interval_h), float(view.now_h)
        job = int(u.cpn.t_job[task])
        deadline = float(u.cpn.j_deadline[job])
        copies, ends = [], []
        for a in moves.tolist():
            to = self.codec.decode(int(a))
            sim = copy.deepcopy(u.cpn)
            sim.migrate(task, to.node, to.resource, now, u.migration_delay_h(task, to.node))
            copies.append(sim)
            ends.append(float(sim.t_end[task]))
        steps = max(1, int(np.ceil((max(ends) - now) / dt - 1e-9)))
        kg = np.empty(len(copies))
        for i, sim in enumerate(copies):
            total, t = 0.0, now
            for _ in range(steps):
                total += float(sim.advance(t, t + dt).node_power_mw @ view.node_mci_kg_per_mwh) * dt
                t += dt
            kg[i] = total if ends[i] <= deadline + 1e-9 else np.inf
        return kg


__all__ = ["DigitalTwinPolicy", "train_twin"]
