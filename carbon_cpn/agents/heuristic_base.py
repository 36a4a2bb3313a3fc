"""What every heuristic scheduler shares: the SB3-style ``predict`` around a rule, and the
quantities and helper rules of :mod:`carbon_cpn.agents.baselines`.

Quantities shared by the rules, for the head sub-task placed on (node n, resource r) now:

* run time ``T[n, r]`` [h] = ``view.head.run_time_h`` (speed and resource slowdown included);
* facility energy ``E[n, r] = units x node_mw_per_busy_server[n, r] x T[n, r]`` [MWh]
  (the dynamic part of eq. 9 of "A Novel Hierarchical Co-Optimization Framework for
  Coordinated Task Scheduling and Power Dispatch in Computing Power Networks" (Luo, Yang,
  Huang, Dustdar; tsco) times PUE; the idle part does not depend on the decision).

Per-placement arrays are ``[node, resource]``; the env's action codec
(``env.unwrapped.codec``, :class:`carbon_cpn.envs.action_codec.NodeResourceCodec`) numbers the
placements in the C order of such an array, so ``array.ravel()[action]`` is the value of a
placement action.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from carbon_cpn.envs.views import SchedulerView

#: MCI below this [kg/MWh] is treated as this in ratios (MCI can be 0 or negative where a
#: battery, a curtailed farm or congestion is on the margin; see carbon_cpn/optim/dispatch.py).
MCI_FLOOR_KG_PER_MWH = 1.0


# ---------------------------------------------------------------------------- helpers
def placements(view: SchedulerView) -> np.ndarray:
    """Feasible placement actions (defer excluded), ``[k]`` int."""
    return np.flatnonzero(view.action_mask[:-1])


def energy_mwh(view: SchedulerView) -> np.ndarray:
    """Facility energy of the head sub-task on every (node, resource), ``[node, resource]`` MWh."""
    h = view.head
    assert h is not None  # callers check
    return h.units * view.node_mw_per_busy_server * h.run_time_h


def can_defer(view: SchedulerView, margin: float = 2.0, max_queue: int = 32) -> bool:
    """Whether the head sub-task may wait one more interval without endangering its job
    (see the module docstring); never for high-QoS jobs, and not while ``max_queue`` or more
    sub-tasks wait: every waiting sub-task is asked again each interval and the env asks at
    most ``episode.max_decisions_per_interval`` (64) questions per interval, so a long queue
    of deferred work would starve newly arrived jobs of decisions."""
    h = view.head
    if h is None or h.high_qos or view.queue_length >= max_queue:
        return False
    if view.interval >= view.n_intervals - 1:
        return False
    dt = view.interval_h
    min_run = float(np.min(h.run_time_h))
    need = h.tasks_left_in_job * (min_run + dt)
    return h.deadline_h - view.now_h - dt >= margin * need


class HeuristicPolicy:
    """Base class: SB3's ``predict`` around a rule ``act(view) -> action``."""

    #: The paper section the rule follows.
    cites: str = ""

    def __init__(self, env: gym.Env, seed: int | None = None) -> None:
        self.env = env
        self.unwrapped: Any = env.unwrapped
        if not hasattr(self.unwrapped, "scheduler_view"):
            raise TypeError(f"env={env!r}: expected a CarbonCPN env (its unwrapped env has scheduler_view())")
        #: The env's action codec (``carbon_cpn.envs.action_codec``).
        self.codec = self.unwrapped.codec
        self.defer_action = int(self.codec.defer)
        self.max_queue = max(1, int(self.unwrapped.cfg.episode.max_decisions_per_interval) // 2)
        self._last_interval = -1

    def reset(self) -> None:
        """Forget per-episode state (called at an episode start)."""

    def act(self, view: SchedulerView) -> int:
        """The action for the head sub-task of ``view``: every rule overrides this (the base
        class stays instantiable so that its env check can be used and tested on its own)."""
        raise NotImplementedError(f"{type(self).__name__}.act: a baseline rule must override act()")

    def migrate(self, view: SchedulerView) -> int:
        """The answer to a migration question (``view.head.running``): hold (defer) by default."""
        return self.defer_action

    def predict(
        self,
        observation: np.ndarray,
        state: Any = None,
        episode_start: np.ndarray | None = None,
        deterministic: bool = True,
    ) -> tuple[np.ndarray, Any]:
        view = self.unwrapped.scheduler_view()
        new_episode = view.interval < self._last_interval or (
            episode_start is not None and bool(np.any(episode_start)))
        if new_episode:
            self.reset()
        self._last_interval = view.interval
        if view.head is None or not placements(view).size:
            a = self.defer_action
        elif view.head.running:  # a migration question: the rules place work, they hold running work
            a = self.migrate(view)
        else:
            a = int(self.act(view))
        if not view.action_mask[a]:  # a bug in a rule, never the env's problem
            raise RuntimeError(f"{type(self).__name__} chose masked action {a}; mask={view.action_mask}")
        obs = np.asarray(observation)
        return (np.array([a]) if obs.ndim > 1 else np.array(a)), state


def on_time(view: SchedulerView) -> np.ndarray:
    """Placements from which the head's job can still meet its deadline, ``[node, resource]``
    bool: ``now + T[n, r] + (tasks_left - 1) x (min_T + interval) <= deadline`` (the rest of the
    job estimated as in :func:`can_defer`, without the margin)."""
    h = view.head
    assert h is not None
    rest = (h.tasks_left_in_job - 1) * (float(np.min(h.run_time_h)) + view.interval_h)
    return view.now_h + h.run_time_h + rest <= h.deadline_h


def argmin_feasible(view: SchedulerView, score: np.ndarray, tie: np.ndarray | None = None,
                     deadline_aware: bool = False) -> int:
    """The feasible placement with the lowest ``score[node, resource]`` (ties: lowest ``tie``,
    then lowest action index). ``deadline_aware``: only among the placements that keep the job
    on time (:func:`on_time`) when there is one - what keeps an energy- or carbon-minimizing
    rule from putting a GPU task on 4x slower CPUs past its deadline."""
    acts = placements(view)
    if deadline_aware:
        ok = acts[on_time(view).ravel()[acts]]
        if ok.size:
            acts = ok
    s = score.ravel()[acts]
    if tie is None:
        return int(acts[int(np.argmin(s))])
    order = np.lexsort((tie.ravel()[acts], s))
    return int(acts[order[0]])


__all__ = ["HeuristicPolicy", "MCI_FLOOR_KG_PER_MWH", "argmin_feasible", "can_defer", "energy_mwh", "on_time", "placements"]
