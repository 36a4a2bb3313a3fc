"""Heuristic schedulers for the leaderboard (issue #6), with the prediction API of SB3 agents.

Every policy has ``predict(observation, state=None, episode_start=None, deterministic=True)
-> (actions, state)`` like a trained SB3 model, so the evaluation loop treats them alike. A
heuristic needs the env's structured state, so it takes the env at construction,
``Policy(env)``, and at each call reads ``env.unwrapped.scheduler_view()`` (a
:class:`carbon_cpn.envs.views.SchedulerView`: the head sub-task with its run time on every
(node, resource), free servers, the last interval's LMP/MCI at every node, the facility MW per
busy server, the renewable availability near every node, the day-ahead signals when the
commitment source publishes them). The observation argument is ignored; the view is the state.
Only actions with ``view.action_mask`` True are ever returned (defer is always allowed).

Quantities shared by the rules, for the head sub-task placed on (node n, resource r) now:

* run time ``T[n, r]`` [h] = ``view.head.run_time_h`` (speed and resource slowdown included);
* facility energy ``E[n, r] = units x node_mw_per_busy_server[n, r] x T[n, r]`` [MWh]
  (tsco eq. 9's dynamic part times PUE; the idle part does not depend on the decision).

Deferral: the rules that may wait (``co_opt``, ``dc_frame``, ``c3o_greedy``) defer only a
sub-task whose job has slack: ``deadline - now - interval >= margin x tasks_left x (min_T +
interval)``, i.e. even if every remaining sub-task of the job were as long as this one and
waited a whole interval to start, the job would still finish ``margin`` times over; only jobs
that are not high-QoS (c3o Table 2: AI inference and web services are not deferrable); and
only while fewer than half of ``max_decisions_per_interval`` sub-tasks wait (see
:func:`can_defer`). Placements that rank energy, cost or carbon are chosen among those that
keep the job on time when there is one (:func:`on_time`).

Registry: :data:`BASELINES` maps a name to a factory ``(env, seed) -> policy``;
:func:`make_policy` builds one by name. The perfect-foresight ``oracle`` replay lives in
:mod:`carbon_cpn.agents.oracle_policy` and is registered here too.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gymnasium as gym
import numpy as np

from carbon_cpn.agents.signals import NodeProfile, day_ahead_node_profile, static_node_mci
from carbon_cpn.envs.views import SchedulerView

#: MCI below this [kg/MWh] is treated as this in ratios (MCI can be 0 or negative where a
#: battery, a curtailed farm or congestion is on the margin; see optim/dispatch.py).
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
        self.defer_action = int(self.unwrapped.n_actions) - 1
        self.max_queue = max(1, int(self.unwrapped.cfg.episode.max_decisions_per_interval) // 2)
        self._last_interval = -1

    def reset(self) -> None:
        """Forget per-episode state (called at an episode start)."""

    def act(self, view: SchedulerView) -> int:
        """The action for the head sub-task of ``view``: every rule overrides this (the base
        class stays instantiable so that its env check can be used and tested on its own)."""
        raise NotImplementedError(f"{type(self).__name__}.act: a baseline rule must override act()")

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
        a = self.defer_action if view.head is None else int(self.act(view))
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


# ---------------------------------------------------------------------------- the rules
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
        nodes = acts // 2
        best = nodes[view.node_local_res_mw_next[nodes] == view.node_local_res_mw_next[nodes].max()]
        pref = int(h.prefers_gpu)
        cands = [a for a in acts if a // 2 == best.min()]
        return int(next((a for a in cands if a % 2 == pref), cands[0]))


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
        n, r = divmod(a, 2)
        self._added_mw[n] += h.units * view.node_mw_per_busy_server[n, r] * min(1.0, h.run_time_h[n, r] / view.interval_h)
        return a


# ---------------------------------------------------------------------------- registry
PolicyFactory = Callable[[gym.Env, int], Any]


def _oracle_factory(env: gym.Env, seed: int) -> Any:
    from carbon_cpn.agents.oracle_policy import OraclePolicy

    return OraclePolicy(env, seed)


#: name -> factory(env, seed). Heuristics first, then the perfect-foresight replay.
BASELINES: dict[str, PolicyFactory] = {
    "random": RandomPolicy,
    "pfs": PerformanceFirst,
    "ees": EnergyEfficient,
    "scas": StaticCarbonAware,
    "rg_sched": RenewableGreedy,
    "co_opt": CostOnly,
    "dc_frame": DecoupledFramework,
    "c3o_greedy": CarbonEfficiencyGreedy,
    "oracle": _oracle_factory,
}

def make_policy(name: str, env: gym.Env, seed: int = 0) -> Any:
    """Build the baseline ``name`` for ``env`` (see :data:`BASELINES`)."""
    if name not in BASELINES:
        raise KeyError(f"name={name!r}: expected one of {sorted(BASELINES)}")
    if not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed={seed!r}: expected an integer")
    return BASELINES[name](env, int(seed))


__all__ = ["BASELINES", "argmin_feasible", "on_time", "CarbonEfficiencyGreedy", "CostOnly", "DecoupledFramework", "EnergyEfficient",
           "HeuristicPolicy", "PerformanceFirst", "RandomPolicy", "RenewableGreedy", "StaticCarbonAware", "can_defer",
           "energy_mwh", "make_policy", "placements"]
