"""The heuristic scheduling rules of the leaderboard (issue #6), each a
:class:`~carbon_cpn.agents.heuristic_base.HeuristicPolicy`; see :mod:`carbon_cpn.agents.baselines`
for what they share and how they defer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gymnasium as gym
import numpy as np

from carbon_cpn.agents.heuristic_base import (MCI_FLOOR_KG_PER_MWH, HeuristicPolicy, argmin_feasible, can_defer,
                                              energy_mwh, placements)
from carbon_cpn.agents.signals import NodeProfile, day_ahead_node_profile, static_node_mci
from carbon_cpn.envs.views import SchedulerView


class RandomPolicy(HeuristicPolicy):
    """Uniform over the feasible actions (defer included), from its own seeded generator."""

    cites = "reference point of the normalized score (random = 0)"

    def __init__(self, env: gym.Env, seed: int | None = None) -> None:
        super().__init__(env, seed)
        self.rng = np.random.default_rng(seed)

    def act(self, view: SchedulerView) -> int:
        return int(self.rng.choice(np.flatnonzero(view.action_mask)))


class PerformanceFirst(HeuristicPolicy):
    """PFS, c3o §4 ("Performance-First Scheduler: traditional approach maximizing throughput"):
    the placement that finishes the sub-task soonest, ties broken by the most free servers.
    Never defers."""

    cites = "c3o §4 baselines, PFS"

    def act(self, view: SchedulerView) -> int:
        assert view.head is not None
        free_share = view.free_servers / np.maximum(view.capacity_servers, 1)
        return argmin_feasible(view, view.head.run_time_h, tie=-free_share)


class EnergyEfficient(HeuristicPolicy):
    """EES, c3o §4 ("minimizes energy consumption without carbon awareness"): the placement
    with the least facility energy ``E[n, r]`` (PUE included), ties by run time. Never defers."""

    cites = "c3o §4 baselines, EES"

    def act(self, view: SchedulerView) -> int:
        assert view.head is not None
        return argmin_feasible(view, energy_mwh(view), tie=view.head.run_time_h, deadline_aware=True)


class StaticCarbonAware(HeuristicPolicy):
    """SCAS, c3o §4 ("uses fixed carbon intensity values"): minimizes ``E[n, r] x CI[n]`` with
    ``CI[n]`` the average MCI at node n's bus over grid-only dispatches of four reference days
    (``signals.static_node_mci``), computed once at construction and never updated. A fixed
    intensity gives no reason to wait, so it never defers."""

    cites = "c3o §4 baselines, SCAS"

    def __init__(self, env: gym.Env, seed: int | None = None) -> None:
        super().__init__(env, seed)
        self.ci_kg_per_mwh = np.maximum(static_node_mci(env), MCI_FLOOR_KG_PER_MWH)  # [node]

    def act(self, view: SchedulerView) -> int:
        assert view.head is not None
        return argmin_feasible(view, energy_mwh(view) * self.ci_kg_per_mwh[:, None], tie=view.head.run_time_h,
                                deadline_aware=True)


class RenewableGreedy(HeuristicPolicy):
    """RG-Sched, tsco §V.B: "tasks are always dispatched to the CPN node with the highest
    instantaneous RES power availability" - ``view.node_local_res_mw_next`` (availability of
    the farms electrically nearest each node in the coming interval), blind to congestion,
    prices and carbon. On that node the preferred resource when it fits, else the other.
    Never defers."""

    cites = "tsco §V.B, RG-Sched"

    def act(self, view: SchedulerView) -> int:
        h = view.head
        assert h is not None
        acts = placements(view)
        chosen = [self.codec.decode(a) for a in acts]
        nodes = np.array([c.node for c in chosen])
        best = nodes[view.node_local_res_mw_next[nodes] == view.node_local_res_mw_next[nodes].max()]
        pref = int(h.prefers_gpu)
        cands = [(a, c) for a, c in zip(acts, chosen) if c.node == best.min()]
        return int(next((a for a, c in cands if c.resource == pref), cands[0][0]))


class _ThresholdDeferral:
    """Per-episode running mean of a signal; "expensive now" = above the mean by a margin.

    Used by the real-time rules to wait for a cheaper interval (tsco §I: CPN load is
    flexible in time); the mean is of what has been seen so far, no look-ahead."""

    def __init__(self, threshold: float) -> None:
        self.threshold = threshold
        self.reset()

    def reset(self) -> None:
        self.total = 0.0
        self.count = 0
        self.seen_interval = -1

    def observe(self, interval: int, value: float) -> None:
        if interval != self.seen_interval:  # one sample per interval
            self.seen_interval = interval
            self.total += value
            self.count += 1

    def expensive(self, value: float) -> bool:
        if self.count < 4:  # too little history to judge
            return False
        mean = self.total / self.count
        return value > mean + self.threshold * abs(mean)


class CostOnly(HeuristicPolicy):
    """CO-Opt, tsco §V.B: the co-optimizing scheduler with the carbon price set to zero:
    minimizes the electricity cost ``E[n, r] x LMP[n]`` of the last dispatched interval, and
    defers deferrable work while the cheapest price is above its running mean by
    ``threshold`` (and the job has slack)."""

    cites = "tsco §V.B, CO-Opt"

    def __init__(self, env: gym.Env, seed: int | None = None, threshold: float = 0.15) -> None:
        super().__init__(env, seed)
        self.deferral = _ThresholdDeferral(threshold)

    def reset(self) -> None:
        self.deferral.reset()

    def act(self, view: SchedulerView) -> int:
        assert view.head is not None
        lmp = view.node_lmp_usd_per_mwh
        if view.interval > 0:
            self.deferral.observe(view.interval, float(lmp.min()))
            if self.deferral.expensive(float(lmp.min())) and can_defer(view, max_queue=self.max_queue):
                return self.defer_action
        return argmin_feasible(view, energy_mwh(view) * lmp[:, None], tie=view.head.run_time_h, deadline_aware=True)


class DecoupledFramework(HeuristicPolicy):
    """DC-Frame, tsco §V.B: "the power system operation is optimized first to generate a fixed
    24-hour profile of electricity prices and carbon intensities. Subsequently, the CPN
    scheduler optimizes its task scheduling based on these static, pre-computed signals."

    The profile (``signals.day_ahead_node_profile``: the day-ahead plan's when the commitment
    source publishes one, else a grid-only dispatch of the episode's day) is fixed at the
    episode's first decision and never updated. The price of running on (n, r) from interval
    s is ``E[n, r] x mean over the run's intervals of (LMP + carbon_price x MCI / 1000)``. A
    sub-task starts now on the cheapest placement unless a later start that still leaves
    slack (``can_defer``) is cheaper by ``improvement`` (then it defers)."""

    cites = "tsco §V.B, DC-Frame"

    def __init__(self, env: gym.Env, seed: int | None = None, improvement: float = 0.10) -> None:
        super().__init__(env, seed)
        self.improvement = improvement
        self.carbon_price = float(self.unwrapped.cfg.reward.carbon_price_usd_per_t)
        self.profile: NodeProfile | None = None
        self._day = -1

    def reset(self) -> None:
        self.profile = None

    def _price(self) -> np.ndarray:
        """Day-ahead $ per MWh at every node and interval, ``[t, node]``."""
        if self.profile is None or self._day != self.unwrapped.day:
            self.profile = day_ahead_node_profile(self.env)
            self._day = self.unwrapped.day
            self._cum = None
        p = self.profile
        return p.lmp_usd_per_mwh + self.carbon_price * p.mci_kg_per_mwh / 1000.0

    def _run_cost(self, price: np.ndarray, start: int, run_h: np.ndarray, dt: float) -> np.ndarray:
        """Mean day-ahead price over a run of ``run_h[n, r]`` hours from interval ``start``, ``[n, r]``."""
        n_t = price.shape[0]
        steps = np.maximum(1, np.ceil(run_h / dt - 1e-9).astype(np.int64))
        cum = np.vstack([np.zeros((1, price.shape[1])), np.cumsum(price, axis=0)])  # [t+1, node]
        end = np.minimum(start + steps, n_t)
        s = min(start, n_t - 1)
        nodes = np.arange(price.shape[1])[:, None]
        total = cum[end, nodes] - cum[s, nodes]
        return total / np.maximum(end - s, 1)

    def act(self, view: SchedulerView) -> int:
        h = view.head
        assert h is not None
        price = self._price()
        e = energy_mwh(view)
        now_cost = e * self._run_cost(price, view.interval, h.run_time_h, view.interval_h)
        a_now = argmin_feasible(view, now_cost, tie=h.run_time_h, deadline_aware=True)
        if not can_defer(view, max_queue=self.max_queue):
            return a_now
        best_now = now_cost.ravel()[a_now]
        # Latest start that keeps the slack rule satisfied (module docstring), on the profile.
        dt = view.interval_h
        need = 2.0 * h.tasks_left_in_job * (float(np.min(h.run_time_h)) + dt)
        last = min(view.n_intervals - 1, view.interval + int((h.deadline_h - view.now_h - need) / dt))
        for s in range(view.interval + 1, last + 1):
            later = float(np.min(e * self._run_cost(price, s, h.run_time_h, dt)))
            if later < (1.0 - self.improvement) * best_now:
                return self.defer_action
        return a_now


class CarbonEfficiencyGreedy(HeuristicPolicy):
    """c3o Algorithm 1 (carbon-efficiency-aware greedy), eqs. 1-3, mapped onto this env.

    * ``Q_FLOP`` (eq. 1): the sub-task's work, units x run time at speed 1 on its preferred
      resource (server-hours) - the same wherever it runs, as FLOPs are.
    * ``E_elec``, ``E_cool``: IT energy ``E[n, r] / PUE[n]`` and cooling ``(PUE - 1) x E_elec``
      (tsco eq. 9 with the PUE split out).
    * ``CI_local(t)``: the node's MCI of the last dispatched interval (floored at
      ``MCI_FLOOR_KG_PER_MWH``); ``CI_avg``: the mean over the nodes; alpha, beta by eqs. 2-3.
    * ``P_{t,n}`` (performance impact, step 5): run time / time left to the deadline, in [0, 1].
    * ``Score = w1 eta / max(eta) + w2 (1 - P)`` (step 6; eta normalized over the candidates
      so that the weights compare like with like).
    * Steps 10-15, the priority queue: the env presents one ready sub-task at a time in its
      own order, so the queue holds the head only; step 13 ("update CI(n) based on new
      workload") raises a node's CI within an interval in proportion to the MW placed on it
      since the last dispatch relative to its last power, until the next dispatch replaces it
      with the measured MCI.

    Deferral (our addition, module docstring): a deferrable sub-task waits while the best
    node's CI is above its running mean by ``threshold``.
    """

    cites = "c3o §2.1 eqs. 1-3 and Algorithm 1"

    def __init__(self, env: gym.Env, seed: int | None = None, w1: float = 0.7, w2: float = 0.3,
                 threshold: float = 0.25) -> None:
        super().__init__(env, seed)
        for name, v in (("w1", w1), ("w2", w2)):
            if not (np.isfinite(v) and v >= 0):
                raise ValueError(f"{name}={v!r}: expected a finite weight >= 0")
        self.w1, self.w2 = w1, w2
        self.deferral = _ThresholdDeferral(threshold)
        self._added_mw = np.zeros(self.unwrapped.n_nodes)
        self._added_at = -1

    def reset(self) -> None:
        self.deferral.reset()
        self._added_at = -1

    def act(self, view: SchedulerView) -> int:
        h = view.head
        assert h is not None
        if view.interval != self._added_at:
            self._added_mw[:] = 0.0
            self._added_at = view.interval
        ci = np.maximum(view.node_mci_kg_per_mwh, MCI_FLOOR_KG_PER_MWH)
        ci = ci * (1.0 + self._added_mw / np.maximum(view.node_power_mw, 1e-6))  # step 13
        ci_avg = float(ci.mean())
        alpha = ci / ci_avg  # eq. 2
        beta = alpha / view.node_pue  # eq. 3
        e_fac = energy_mwh(view)
        e_elec = e_fac / view.node_pue[:, None]
        e_cool = (view.node_pue[:, None] - 1.0) * e_elec
        q = h.units * float(np.min(h.run_time_h * view.node_speed[:, None]))  # server-hours of work
        eta = q / np.maximum(alpha[:, None] * e_elec + beta[:, None] * e_cool, 1e-12)  # eq. 1
        time_left = max(h.deadline_h - view.now_h, 1e-6)
        perf = np.clip(h.run_time_h / time_left, 0.0, 1.0)
        acts = placements(view)
        eta_max = float(eta.ravel()[acts].max())
        score = self.w1 * eta / max(eta_max, 1e-12) + self.w2 * (1.0 - perf)  # step 6
        if view.interval > 0:
            self.deferral.observe(view.interval, float(np.maximum(view.node_mci_kg_per_mwh, 0.0).min()))
            if self.deferral.expensive(float(ci.min())) and can_defer(view, max_queue=self.max_queue):
                return self.defer_action
        a = argmin_feasible(view, -score, tie=h.run_time_h, deadline_aware=True)
        c = self.codec.decode(a)
        n, r = c.node, c.resource
        self._added_mw[n] += h.units * view.node_mw_per_busy_server[n, r] * min(1.0, h.run_time_h[n, r] / view.interval_h)
        return a


PolicyFactory = Callable[[gym.Env, int], Any]

#: name -> factory(env, seed) of every heuristic rule.
HEURISTICS: dict[str, PolicyFactory] = {
    "random": RandomPolicy,
    "pfs": PerformanceFirst,
    "ees": EnergyEfficient,
    "scas": StaticCarbonAware,
    "rg_sched": RenewableGreedy,
    "co_opt": CostOnly,
    "dc_frame": DecoupledFramework,
    "c3o_greedy": CarbonEfficiencyGreedy,
}

__all__ = ["HEURISTICS", "CarbonEfficiencyGreedy", "CostOnly", "DecoupledFramework", "EnergyEfficient", "PerformanceFirst",
           "PolicyFactory", "RandomPolicy", "RenewableGreedy", "StaticCarbonAware"]
