"""The perfect-foresight oracle as a policy: build its problem from the env, solve, replay.

:func:`oracle_problem` is the adapter from a CarbonCPN env (at a reset) to the solver's plain
arrays (:class:`carbon_cpn.optim.oracle.OracleProblem`): the grid of ``env.unwrapped.grid``
with the env's dispatch settings, and the episode ahead from ``env.unwrapped.foresight()``.

:class:`OraclePolicy` solves the episode at its first decision and then replays the plan
through the env, so its metrics come from the same env code as every other leaderboard row:

* the head sub-task has a placement in the plan: defer until the planned start interval,
  then take the planned (node, resource) if the mask allows it, else fall back to the
  least-energy placement that keeps the job on time (the plan can be infeasible in the env:
  the relaxation ignores the decision cap and lets precedence hold only on average in an LP
  rounding);
* the head belongs to a job the plan misses or leaves out (deadline after the episode): if a
  free placement can still finish it on time (``baselines.on_time``) it is placed there by the
  same least-energy fallback - the restricted MILP of a large episode misses jobs that are
  cheaper to run than their penalty, so following it literally would book avoidable misses -
  otherwise it waits (running a job that will miss anyway costs energy and avoids no penalty),
  except while the queue is full, so that it cannot starve planned work.
"""

from __future__ import annotations

import math
from typing import Any

import gymnasium as gym
import numpy as np

from carbon_cpn.agents.baselines import HeuristicPolicy, argmin_feasible, energy_mwh, on_time, placements
from carbon_cpn.envs.cpn import job_values_usd
from carbon_cpn.envs.views import SchedulerView
from carbon_cpn.optim.oracle import OracleProblem, OracleResult, solve_oracle


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


class OraclePolicy(HeuristicPolicy):
    """Replays the perfect-foresight plan of each episode (module docstring). ``result`` holds
    the last episode's :class:`OracleResult` (bound, gap, size, solve time)."""

    cites = "perfect-foresight upper reference of the normalized score (oracle = 100); issue #6"

    def __init__(self, env: gym.Env, seed: int | None = None, time_limit_s: float = 120.0,
                 mip_rel_gap: float = 0.01, threads: int = 1) -> None:
        super().__init__(env, seed)
        if not (math.isfinite(time_limit_s) and time_limit_s > 0):
            raise ValueError(f"time_limit_s={time_limit_s!r}: expected seconds > 0")
        self.time_limit_s = time_limit_s
        self.mip_rel_gap = mip_rel_gap
        self.threads = threads
        self.seed = 0 if seed is None else int(seed)
        self.result: OracleResult | None = None
        #: Planned sub-tasks whose planned placement the env did not allow; sub-tasks of jobs
        #: the plan left out that were placed anyway (module docstring).
        self.fallbacks = 0
        self.unplanned = 0

    def reset(self) -> None:
        self.result = None
        self.fallbacks = 0
        self.unplanned = 0

    def plan(self) -> OracleResult:
        """Solve the current episode (once per episode)."""
        if self.result is None:
            self.result = solve_oracle(oracle_problem(self.env), time_limit_s=self.time_limit_s,
                                       mip_rel_gap=self.mip_rel_gap, threads=self.threads, seed=self.seed)
        return self.result

    def _fallback(self, view: SchedulerView) -> int:
        self.fallbacks += 1
        assert view.head is not None
        return argmin_feasible(view, energy_mwh(view), tie=view.head.run_time_h, deadline_aware=True)

    def act(self, view: SchedulerView) -> int:
        res = self.plan()
        h = view.head
        assert h is not None
        pl = res.schedule.get(h.task)
        if pl is None:
            acts = placements(view)
            if view.queue_length >= self.max_queue or (acts.size and on_time(view).ravel()[acts].any()):
                self.unplanned += 1
                return argmin_feasible(view, energy_mwh(view), tie=h.run_time_h, deadline_aware=True)
            return self.defer_action
        if view.interval < pl.start:
            return self.defer_action
        a = 2 * pl.node + pl.resource
        return a if view.action_mask[a] else self._fallback(view)


__all__ = ["OraclePolicy", "oracle_problem"]
