"""The perfect-foresight oracle as a policy: build its problem from the env, solve, replay.

:func:`oracle_problem` is the adapter from a CarbonCPN env (at a reset) to the solver's plain
arrays (:class:`carbon_cpn.optim.oracle.OracleProblem`): the grid of ``env.unwrapped.grid``
with the env's dispatch settings, and the episode ahead from ``env.unwrapped.foresight()``.

:class:`OraclePolicy` solves the episode at its first decision and then replays the plan
through the env, so its metrics come from the same env code as every other leaderboard row.

Plan. Before solving, the oracle rehearses a heuristic (``warm_start``, default ``"pfs"``) on
a copy of the episode (:mod:`carbon_cpn.agents.rehearsal`) and hands its schedule to the MILP
as a start, so the plan is never worse in the relaxation than that heuristic (on
CarbonCPN-v0 seed 1000 the restricted MILP alone reached -$306k against a bound of -$366k;
warm-started, -$350k).

Replay. A :class:`PlanLedger` keeps the servers that placed work holds and that planned work
will hold, interval by interval. For the head sub-task:

* planned, its start still ahead: placed now on its planned (node, resource) if that is free
  for its whole run without touching any other placed or planned work, else deferred. Starting
  early keeps the queue short: the env asks at most ``max_decisions_per_interval`` questions
  an interval and a deferred sub-task is asked again every interval, so a replay that waits
  for every planned start starves newly released work of decisions (seed 1000: -$266k
  waiting, -$341k starting early);
* planned, its start reached or passed: its planned placement if the mask allows it and the
  job stays on time (``heuristic_base.on_time``); else the least-energy placement that keeps the
  job on time and collides with nothing (a fallback); else, late, any on-time placement;
* of a job the plan misses or leaves out: placed on the least-energy placement that keeps it
  on time and collides with no placed or planned work, else deferred (while the queue is full,
  anywhere on time, so that it cannot starve planned work).

The relaxation ignores the decision cap and the env's queue order, so the replay stays below
the plan's value; both, and the bound, are reported.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import gymnasium as gym
import numpy as np

from carbon_cpn.agents.heuristic_base import HeuristicPolicy, argmin_feasible, energy_mwh, on_time, placements
from carbon_cpn.agents.heuristic_rules import HEURISTICS
from carbon_cpn.agents.rehearsal import RehearsalError, rehearse_schedule
from carbon_cpn.envs.cpn import job_values_usd
from carbon_cpn.envs.views import SchedulerView
from carbon_cpn.optim.oracle import OracleProblem, OracleResult, Placement, solve_oracle


def oracle_problem(env: gym.Env) -> OracleProblem:
    """The oracle's view of the episode ``env`` was last reset to (see the module docstring)."""
    u: Any = env.unwrapped
    g = u.grid
    cfg = u.cfg
    fs = u.foresight()
    dt, n_t = fs.interval_h, fs.n_intervals
    dc = g.dc_matrices()
    nn = g.n_node
    if cfg.grid.cost_model == "pwl":
        cost, lo, hi = g.cost_blocks(cfg.grid.n_segments)
    elif cfg.grid.cost_model == "linear":
        cost = g.gen_c1_usd_per_mwh[:, None].astype(float)
        lo, hi = g.gen_pmin_mw[:, None].astype(float), g.gen_pmax_mw[:, None].astype(float)
    else:
        raise ValueError(f"grid.cost_model={cfg.grid.cost_model!r}: the oracle needs 'pwl' or 'linear' "
                         "(a linear model of a quadratic cost would not bound it from below)")
    node_load = np.stack([np.bincount(g.bus_node, weights=fs.base_load_mw[t], minlength=nn) for t in range(n_t)])
    dc_node = g.bus_node[u.node_bus]
    idle = np.bincount(dc_node, weights=u.cpn.idle_mw, minlength=nn)
    fixed = node_load + dc.pbusinj[None, :] + idle[None, :]
    bats = g.batteries
    # Sub-tasks and jobs of the episode, in the env's global arrival order.
    cpn = u.cpn
    tj, tu, tr, tdur, ep, es, jr, jd, jv = [], [], [], [], [], [], [], [], []
    for t, b in enumerate(fs.batches):
        if b is None:
            continue
        k0, j0 = int(fs.first_task[t]), int(fs.first_job[t])
        tj.append(b.task_job + j0)
        tu.append(b.task_units)
        tr.append(b.task_resource)
        tdur.append(b.task_duration_h)
        src, pos = np.nonzero(b.task_succ >= 0)
        ep.append(src + k0)
        es.append(b.task_succ[src, pos] + k0)
        jr.append(np.full(b.n_jobs, t + 1))
        jd.append(b.deadline_h)
        jv.append(job_values_usd(b, cfg.workload))

    def cat(xs: list[np.ndarray], dtype: type) -> np.ndarray:
        return np.concatenate(xs).astype(dtype) if xs else np.zeros(0, dtype=dtype)

    task_res, task_dur = cat(tr, np.int64), cat(tdur, float)
    run = task_dur[:, None, None] * cpn.slowdown[task_res][:, None, :] / cpn.speed[None, :, None]  # [task, dc, r]
    rated = dc.rated
    return OracleProblem(
        interval_h=dt, n_intervals=n_t, ref_node=int(g.ref_node), bbus=dc.bbus.tocsr(), bf=dc.bf[rated].tocsr(),
        line_lo_mw=-g.branch_rating_mw[rated] - dc.pfinj[rated], line_hi_mw=g.branch_rating_mw[rated] - dc.pfinj[rated],
        fixed_load_mw=fixed, gen_node=g.bus_node[g.gen_bus], block_cost_usd_per_mwh=np.asarray(cost, dtype=float),
        block_lo_mw=np.asarray(lo, dtype=float), block_hi_mw=np.asarray(hi, dtype=float),
        committed=np.asarray(fs.committed, dtype=bool), gen_c0_usd_per_h=np.asarray(g.gen_c0_usd_per_h, dtype=float),
        gen_emission_kg_per_mwh=np.asarray(g.gen_emission_kg_per_mwh, dtype=float),
        res_node=g.bus_node[g.res_bus] if g.n_res else np.zeros(0, dtype=np.int64), res_avail_mw=fs.res_avail_mw,
        bess_node=g.bus_node[g.bess_bus] if g.n_bess else np.zeros(0, dtype=np.int64),
        bess_power_mw=np.array([b.power_mw for b in bats], dtype=float),
        bess_eta_charge=np.array([b.eta_charge for b in bats], dtype=float),
        bess_eta_discharge=np.array([b.eta_discharge for b in bats], dtype=float),
        bess_soc_min_mwh=np.array([b.soc_min_mwh for b in bats], dtype=float),
        bess_soc_max_mwh=np.array([b.soc_max_mwh for b in bats], dtype=float),
        bess_soc0_mwh=np.array([b.soc_init_frac * b.energy_mwh for b in cfg.grid.batteries], dtype=float),
        voll_usd_per_mwh=float(g.voll_usd_per_mwh), dc_node=dc_node, dc_capacity=cpn.capacity.copy(),
        dc_mw_per_server=cpn.dyn_mw_per_server.copy(), task_job=cat(tj, np.int64), task_units=cat(tu, np.int64),
        task_run_h=run, edge_pred=cat(ep, np.int64), edge_succ=cat(es, np.int64), job_release=cat(jr, np.int64),
        job_deadline_h=cat(jd, float), carbon_price_usd_per_t=float(cfg.reward.carbon_price_usd_per_t),
        deadline_penalty_usd=float(cfg.reward.deadline_penalty_usd), job_value_usd=cat(jv, float),
        fast_start=None if u.fast_start is None else np.asarray(u.fast_start, dtype=bool),
        fast_start_usd_per_mwh=float(cfg.commitment.fast_start_usd_per_mwh),
        overgen_penalty_usd_per_mwh=float(g.overgen_penalty_usd_per_mwh),
        startup_usd=float(u.episode_metrics()["startup_cost_usd"]),
    )


class PlanLedger:
    """Server occupancy ahead, as the replay knows it: ``busy[t, dc, r]`` servers held in
    interval ``t`` by the sub-tasks already placed (until the interval boundary at or after
    their end, as the env frees them) and ``reserved[t, dc, r]`` by the planned sub-tasks not
    yet placed (at their planned placement and start). The replay places work off the plan only
    where it collides with neither."""

    def __init__(self, problem: OracleProblem, schedule: dict[int, Placement]) -> None:
        n_t, n_dc = problem.n_intervals, problem.dc_node.size
        self.interval_h = problem.interval_h
        self.capacity = problem.dc_capacity.astype(np.int64)
        self.busy = np.zeros((n_t + 1, n_dc, 2), dtype=np.int64)
        self.reserved = np.zeros_like(self.busy)
        self._own: dict[int, tuple[int, int, int, int, int]] = {}
        for k, pl in schedule.items():
            run = float(problem.task_run_h[k, pl.node, pl.resource])
            steps = self.steps(run)
            units = int(problem.task_units[k])
            self._own[k] = (pl.node, pl.resource, pl.start, steps, units)
            self.reserved[pl.start:pl.start + steps, pl.node, pl.resource] += units

    def steps(self, run_h: float) -> int:
        return max(1, int(math.ceil(run_h / self.interval_h - 1e-9)))

    def release(self, task: int) -> None:
        """Drop ``task``'s reservation (it is being placed now)."""
        own = self._own.pop(task, None)
        if own is not None:
            n, r, t0, k, u = own
            self.reserved[t0:t0 + k, n, r] -= u

    def occupy(self, node: int, resource: int, start: int, run_h: float, units: int) -> None:
        self.busy[start:start + self.steps(run_h), node, resource] += units

    def clear(self, view: SchedulerView, task: int) -> np.ndarray:
        """``[node, resource]`` bool: placing the head now there collides with no placed or
        planned work (its own reservation excluded) over the intervals it would run."""
        h = view.head
        assert h is not None
        t0 = view.interval
        load = self.busy[t0:] + self.reserved[t0:]  # [t, node, resource], a copy
        own = self._own.get(task)
        if own is not None:
            n, r, start, k, u = own
            load[max(start - t0, 0):max(start + k - t0, 0), n, r] -= u
        # Peak load over the first k[n, r] intervals of each placement's run.
        peak = np.maximum.accumulate(load, axis=0)
        k = np.ceil(np.asarray(h.run_time_h, dtype=float) / self.interval_h - 1e-9).astype(np.int64)
        last = np.clip(k, 1, peak.shape[0]) - 1
        worst = np.take_along_axis(peak, last[None, :, :], axis=0)[0]
        return worst + h.units <= self.capacity


class OraclePolicy(HeuristicPolicy):
    """Replays the perfect-foresight plan of each episode (module docstring). ``result`` holds
    the last episode's :class:`OracleResult` (bound, gap, size, solve time)."""

    cites = "perfect-foresight plan (its bound is the 100 of the normalized score); issues #6, #13"

    def __init__(self, env: gym.Env, seed: int | None = None, time_limit_s: float = 120.0,
                 mip_rel_gap: float = 0.01, threads: int = 1, warm_start: str | None = "pfs") -> None:
        super().__init__(env, seed)
        if not (math.isfinite(time_limit_s) and time_limit_s > 0):
            raise ValueError(f"time_limit_s={time_limit_s!r}: expected seconds > 0")
        if warm_start is not None and warm_start not in HEURISTICS:
            raise ValueError(f"warm_start={warm_start!r}: expected None or a heuristic of {sorted(HEURISTICS)}")
        self.warm_start = warm_start
        self.time_limit_s = time_limit_s
        self.mip_rel_gap = mip_rel_gap
        self.threads = threads
        self.seed = 0 if seed is None else int(seed)
        self.result: OracleResult | None = None
        self.ledger: PlanLedger | None = None
        #: Sub-tasks the rehearsed heuristic placed (the MILP's start); -1 without one.
        self.warm_start_tasks = -1
        #: Planned sub-tasks not placed as planned; sub-tasks of jobs the plan left out that
        #: were placed anyway (module docstring).
        self.fallbacks = 0
        self.unplanned = 0
        self.early = 0

    def reset(self) -> None:
        self.result = None
        self.ledger = None
        self.fallbacks = 0
        self.unplanned = 0
        self.early = 0

    def solve(self, problem: OracleProblem) -> OracleResult:
        """The plan of ``problem`` (the env's current episode), warm-started by the rehearsal."""
        incumbent = None
        if self.warm_start is not None:
            name, seed = self.warm_start, self.seed
            try:
                incumbent = rehearse_schedule(self.env, lambda e: HEURISTICS[name](e, seed))
            except RehearsalError as exc:
                warnings.warn(f"oracle: no warm start from {name!r}: {exc}", RuntimeWarning, stacklevel=2)
        self.warm_start_tasks = -1 if incumbent is None else len(incumbent)
        return solve_oracle(problem, time_limit_s=self.time_limit_s, mip_rel_gap=self.mip_rel_gap,
                            threads=self.threads, seed=self.seed, incumbent=incumbent)

    def plan(self) -> OracleResult:
        """Solve the current episode (once per episode)."""
        if self.result is None:
            problem = oracle_problem(self.env)
            self.result = self.solve(problem)
            self.ledger = PlanLedger(problem, self.result.schedule)
        return self.result

    def _place(self, view: SchedulerView, a: int) -> int:
        """Book placement ``a`` of the head in the ledger and return it."""
        h = view.head
        assert h is not None and self.ledger is not None
        c = self.codec.decode(a)
        if c is not None:
            self.ledger.release(h.task)
            self.ledger.occupy(c.node, c.resource, view.interval, float(h.run_time_h[c.node, c.resource]), h.units)
        return a

    def act(self, view: SchedulerView) -> int:
        res = self.plan()
        assert self.ledger is not None
        h = view.head
        assert h is not None
        pl = res.schedule.get(h.task)
        acts = placements(view)
        keeps = on_time(view).ravel()
        energy = energy_mwh(view)
        if pl is not None:
            a = self.codec.encode(pl.node, pl.resource)
            if view.interval < pl.start:
                # Early, where the planned placement is free all along: a shorter queue leaves
                # the env's decisions per interval to the work that needs them.
                if view.action_mask[a] and self.ledger.clear(view, h.task).ravel()[a]:
                    self.early += 1
                    return self._place(view, a)
                return self.defer_action
            if view.action_mask[a] and keeps[a]:
                return self._place(view, a)
        # Off the plan: the least-energy placement that keeps the job on time and collides with
        # no placed or planned work.
        free = acts[keeps[acts] & self.ledger.clear(view, h.task).ravel()[acts]]
        if free.size:
            if pl is None:
                self.unplanned += 1
            else:
                self.fallbacks += 1
            return self._place(view, argmin_feasible(view, np.where(np.isin(np.arange(energy.size), free),
                                                                    energy.ravel(), np.inf).reshape(energy.shape),
                                                     tie=h.run_time_h))
        if pl is not None and acts.size and keeps[acts].any():
            # Late planned work that would collide somewhere: still better run than missed.
            self.fallbacks += 1
            return self._place(view, argmin_feasible(view, energy, tie=h.run_time_h, deadline_aware=True))
        if pl is None and view.queue_length >= self.max_queue and acts.size:
            # A full queue would starve planned work of decisions.
            self.unplanned += 1
            return self._place(view, argmin_feasible(view, energy, tie=h.run_time_h, deadline_aware=True))
        return self.defer_action


__all__ = ["OraclePolicy", "PlanLedger", "oracle_problem"]
