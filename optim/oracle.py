"""Perfect-foresight scheduling oracle: a time-indexed MILP over the whole episode (issues #6, #13).

The oracle knows every job arrival, the base load and the renewable availability of the
episode and places each sub-task on (data center, resource, start interval) to minimize the
episode objective of :mod:`carbon_cpn.optim.objective`, the number the leaderboard ranks by::

    generation (fuel + no-load + fast-start adder) + start-up (the plan's, a constant)
    + VOLL x shed + penalty x over-generation + carbon price x emissions
    - value of the jobs finished on time + deadline penalty x jobs not finished on time

Every job is settled: one that does not finish by its deadline and by the end of the episode
pays the penalty (the env settles unfinished jobs the same way), so the oracle may choose not
to run a job when running it costs more than it is worth.

It is a **relaxation** of the co-simulation, so the solver's best (dual) bound is a valid
lower bound on that objective for any policy on the same episode:

* the grid of every interval is the env's DC-OPF (tsco eqs. 5-6): the same piecewise-linear
  cost blocks, commitment, fast-start units (Pmin waived, the adder on their offers), line
  limits, renewable availability, value of lost load and over-generation penalty; the env's
  dispatch minimizes fuel plus carbon cost with a fixed value of stored energy, one feasible
  choice of this LP's;
* batteries optimize freely over the episode with their SOC dynamics (tsco eq. 2) - the
  env's myopic rule (a fixed value of stored energy) is one feasible choice of theirs, and
  its end-of-day SOC is not valued by the env either;
* CPN power: idle power of every node (a constant) plus, per placed sub-task, units x facility
  MW per busy server x the exact overlap of its run with each interval (``envs/cpn.py``);
* a sub-task holds its servers from its start boundary until the boundary at or after its
  end (the env frees servers and releases successors at interval ends) - capacity rows;
* DAG precedence: a successor starts no earlier than the boundary after its predecessor
  ends; roots start no earlier than the boundary after their job's arrival;
* a job is either on time (every sub-task ends by its deadline and by the episode's end, as
  the env books revenue) and earns its value, or *missed* at the penalty, in which case the
  relaxation runs none of it (the env may run it late; that only costs energy).

What the relaxation ignores: the env's ``max_decisions_per_interval``, the order in which the
env presents sub-tasks, and late execution of missed jobs - each only removes constraints.

Size (formulation "time-indexed, expected-time precedence"): one binary per candidate
(sub-task, node, resource, start) with the start in the sub-task's window [earliest start from
the DAG and arrival, latest start that still ends by the deadline and the episode's end on
that placement], one binary per job; rows: per interval ``nodes + rated lines + batteries``
grid rows plus ``nodes x 2`` capacity rows, one assignment row per sub-task, one precedence
row per DAG edge. On the default scenario (CarbonCPN-v0, one day of 15-min intervals, seed
1000: 565 jobs, 204 of them with a deadline after the day) this is 170,131 columns (13,152 grid,
156,451 candidate binaries, 528 job binaries), 10,039 rows and 2.8 x 10^6 nonzeros, built in
1.5 s. The solve goes: (1) the LP relaxation by dual simplex (its value is the reported bound,
valid because the LP relaxes a relaxation); (2) for models with at most
``full_milp_max_binaries`` binaries (default 20,000; CarbonCPN-Tiny-v0 has ~5,700 and is
solved to optimality in ~10 s) the full MILP; otherwise (3) the MILP restricted to the LP
solution's support (a feasible plan of the full MILP); (4) without an incumbent, the LP
solution rounded. ``time_limit_s`` (default 120 s) covers all steps,
``mip_rel_gap`` (default 1 %) the MILPs; ``max_candidates`` (default 250,000) refuses larger
models with a clear error. The replay policy repairs whatever the plan leaves infeasible.

The model is assembled as sparse arrays and passed to HiGHS through ``highspy`` directly,
not through pyomo: building ~10^6 nonzeros as pyomo expressions takes longer than solving
them (the commitment master in ``optim/commitment.py`` is small enough for pyomo; this is
not). This module imports nothing from ``carbon_cpn.envs``: the env-side adapter is
``carbon_cpn.agents.oracle_policy.oracle_problem``.
"""

from __future__ import annotations

import importlib.metadata
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

import highspy
import numpy as np
import scipy.sparse as sp

from carbon_cpn.optim.highs_factory import new_highs
from carbon_cpn.optim.objective import ObjectivePrices, energy_price_usd_per_mwh

__all__ = ["OracleError", "OracleProblem", "OracleResult", "Placement", "solve_oracle"]

#: Time tolerance [h] in deadline and window arithmetic (the env compares with 1e-9).
_EPS_H = 1e-6


class OracleError(ValueError):
    """An oracle problem of the wrong shape or value, or one too large to solve."""


@dataclass(frozen=True, eq=False)
class OracleProblem:
    """One episode, as arrays. Axes: ``t`` interval, ``node`` electrical node of the DC grid
    model, ``gen``/``blk`` thermal unit and its cost block, ``res`` farm, ``bess`` battery,
    ``line`` rated branch, ``dc`` data center, ``r`` resource (0 CPU, 1 GPU), ``task``/``job``
    episode-global sub-task and job indices (the env's arrival order)."""

    interval_h: float
    n_intervals: int
    # --- grid
    ref_node: int
    bbus: sp.csr_matrix  # [node, node] MW/rad
    bf: sp.csr_matrix  # [line, node] MW/rad, rated branches only
    line_lo_mw: np.ndarray  # [line] flow limits with phase-shifter injections moved in
    line_hi_mw: np.ndarray  # [line]
    fixed_load_mw: np.ndarray  # [t, node] base load + phase-shifter injection + CPN idle power
    gen_node: np.ndarray  # [gen]
    block_cost_usd_per_mwh: np.ndarray  # [gen, blk]
    block_lo_mw: np.ndarray  # [gen, blk] when committed
    block_hi_mw: np.ndarray  # [gen, blk] when committed
    committed: np.ndarray  # [t, gen] bool
    gen_c0_usd_per_h: np.ndarray  # [gen] no-load cost of a committed unit
    gen_emission_kg_per_mwh: np.ndarray  # [gen]
    res_node: np.ndarray  # [res]
    res_avail_mw: np.ndarray  # [t, res]
    bess_node: np.ndarray  # [bess]
    bess_power_mw: np.ndarray  # [bess]
    bess_eta_charge: np.ndarray  # [bess]
    bess_eta_discharge: np.ndarray  # [bess]
    bess_soc_min_mwh: np.ndarray  # [bess]
    bess_soc_max_mwh: np.ndarray  # [bess]
    bess_soc0_mwh: np.ndarray  # [bess]
    voll_usd_per_mwh: float
    # --- CPN
    dc_node: np.ndarray  # [dc]
    dc_capacity: np.ndarray  # [dc, r] servers
    dc_mw_per_server: np.ndarray  # [dc, r] facility MW per busy server (PUE included)
    task_job: np.ndarray  # [task]
    task_units: np.ndarray  # [task]
    task_run_h: np.ndarray  # [task, dc, r]
    edge_pred: np.ndarray  # [edge] task index
    edge_succ: np.ndarray  # [edge] task index
    job_release: np.ndarray  # [job] first interval its roots may start (arrival interval + 1)
    job_deadline_h: np.ndarray  # [job] hours since the episode start
    # --- prices
    carbon_price_usd_per_t: float
    deadline_penalty_usd: float
    # --- the rest of the objective (carbon_cpn.optim.objective)
    job_value_usd: np.ndarray | None = None  # [job] revenue of the job when it finishes on time
    fast_start: np.ndarray | None = None  # [gen] units the real-time dispatch may start when uncommitted
    fast_start_usd_per_mwh: float = 0.0  # adder on a started fast-start unit's blocks
    overgen_penalty_usd_per_mwh: float = 0.0
    startup_usd: float = 0.0  # the day-ahead plan's start-up cost (a constant of the episode)

    def __post_init__(self) -> None:
        n_t = self.n_intervals
        if not (isinstance(n_t, (int, np.integer)) and n_t >= 1):
            raise OracleError(f"n_intervals={n_t!r}: expected an integer >= 1")
        if not (math.isfinite(self.interval_h) and self.interval_h > 0):
            raise OracleError(f"interval_h={self.interval_h!r}: expected hours > 0")
        nn = self.bbus.shape[0]
        shapes = {
            "fixed_load_mw": (self.fixed_load_mw, (n_t, nn)),
            "committed": (self.committed, (n_t, self.gen_node.size)),
            "res_avail_mw": (self.res_avail_mw, (n_t, self.res_node.size)),
            "block_cost_usd_per_mwh": (self.block_cost_usd_per_mwh, self.block_lo_mw.shape),
            "dc_capacity": (self.dc_capacity, (self.dc_node.size, 2)),
            "task_run_h": (self.task_run_h, (self.task_job.size, self.dc_node.size, 2)),
        }
        for name, (arr, shape) in shapes.items():
            if np.shape(arr) != shape:
                raise OracleError(f"{name}: shape {np.shape(arr)}; expected {shape}")
        n_job = self.job_deadline_h.size
        if self.job_value_usd is not None and (np.shape(self.job_value_usd) != (n_job,)
                                               or not np.all(np.isfinite(self.job_value_usd))
                                               or np.any(np.asarray(self.job_value_usd) < 0)):
            raise OracleError(f"job_value_usd: shape {np.shape(self.job_value_usd)}; expected ({n_job},) finite "
                              "values >= 0")
        if self.fast_start is not None and np.shape(self.fast_start) != self.gen_node.shape:
            raise OracleError(f"fast_start: shape {np.shape(self.fast_start)}; expected {self.gen_node.shape}")
        if self.task_job.size and np.any(self.task_run_h <= 0):
            raise OracleError("task_run_h: expected run times > 0 h")
        for name in ("carbon_price_usd_per_t", "deadline_penalty_usd", "fast_start_usd_per_mwh",
                     "overgen_penalty_usd_per_mwh", "startup_usd"):
            v = getattr(self, name)
            if not (math.isfinite(v) and v >= 0):
                raise OracleError(f"{name}={v!r}: expected a finite number >= 0")


@dataclass(frozen=True)
class Placement:
    """Where and when the oracle runs a sub-task."""

    node: int  # data center
    resource: int  # 0 CPU, 1 GPU
    start: int  # interval index; the sub-task starts at its beginning


@dataclass(frozen=True)
class OracleResult:
    """The oracle's plan and the solver's account of it. Money in $ over the episode."""

    status: str  # "optimal", "time_limit", "gap_limit", "lp_rounded", or a solver status
    schedule: dict[int, Placement]  # task -> placement, on-time jobs only
    on_time_jobs: frozenset[int]  # jobs the plan completes by their deadline
    penalized_jobs: int  # jobs with a deadline inside the episode the plan misses
    objective_usd: float  # the plan's value in the relaxation (nan when there is none)
    best_bound_usd: float  # valid lower bound on the objective of every policy
    lp_bound_usd: float  # the LP relaxation's value (nan when not solved)
    gap: float  # (objective - bound) / |objective|
    solve_time_s: float
    build_time_s: float
    n_cols: int
    n_rows: int
    n_nonzeros: int
    n_binaries: int
    n_candidates: int
    size_notes: dict[str, int] = field(default_factory=dict)


# ---------------------------------------------------------------------------- windows
@dataclass(frozen=True)
class _Candidates:
    task: np.ndarray  # [c]
    dc: np.ndarray  # [c]
    r: np.ndarray  # [c]
    start: np.ndarray  # [c] interval
    end_b: np.ndarray  # [c] boundary at which its servers free (exclusive end interval)
    run_h: np.ndarray  # [c]
    job_col: np.ndarray  # [job] column offset of z_j among jobs (-1: no decision)
    decided_jobs: np.ndarray  # jobs with a deadline inside the episode that can be on time
    forced_miss: int  # jobs with a deadline inside the episode that cannot be on time


def _candidates(p: OracleProblem) -> _Candidates:
    dt, n_t = p.interval_h, p.n_intervals
    n_task, n_job = p.task_job.size, p.job_deadline_h.size
    # Every job is settled by the episode's end (carbon_cpn.optim.objective): on time means
    # finished by its deadline and by the end of the episode.
    checked = np.ones(n_job, dtype=bool)
    run_min = p.task_run_h.reshape(n_task, -1).min(axis=1) if n_task else np.zeros(0)
    steps_min = np.ceil(run_min / dt - 1e-9).astype(np.int64)
    preds: list[list[int]] = [[] for _ in range(n_task)]
    succs: list[list[int]] = [[] for _ in range(n_task)]
    for a, b in zip(p.edge_pred.tolist(), p.edge_succ.tolist()):
        preds[b].append(a)
        succs[a].append(b)
    # Sub-tasks of a job are numbered in a topological order (envs/workload.py).
    es = np.zeros(n_task, dtype=np.int64)
    for k in range(n_task):
        es[k] = p.job_release[p.task_job[k]]
        for a in preds[k]:
            es[k] = max(es[k], es[a] + steps_min[a])
    le_h = np.minimum(p.job_deadline_h, n_t * dt)[p.task_job] + _EPS_H  # latest end [h]
    ls = np.zeros(n_task, dtype=np.int64)
    for k in range(n_task - 1, -1, -1):
        for b in succs[k]:
            le_h[k] = min(le_h[k], ls[b] * dt + _EPS_H)
        ls[k] = int(np.floor((le_h[k] - run_min[k]) / dt + 1e-9))
    task_ok = ls >= es
    job_ok = np.ones(n_job, dtype=bool)
    np.logical_and.at(job_ok, p.task_job, task_ok)
    decided = np.flatnonzero(checked & job_ok)
    forced_miss = int(np.sum(checked & ~job_ok))
    job_col = -np.ones(n_job, dtype=np.int64)
    job_col[decided] = np.arange(decided.size)
    keep_task = np.isin(p.task_job, decided)

    rows = []
    for k in np.flatnonzero(keep_task):
        for d in range(p.dc_node.size):
            for r in (0, 1):
                run = float(p.task_run_h[k, d, r])
                last = int(np.floor((le_h[k] - run) / dt + 1e-9))
                if last < es[k]:
                    continue
                s = np.arange(es[k], last + 1)
                rows.append((np.full(s.size, k), np.full(s.size, d), np.full(s.size, r), s, np.full(s.size, run)))
    if rows:
        task, dc, r, start, run_h = (np.concatenate(c) for c in zip(*rows))
    else:
        task = dc = r = start = np.zeros(0, dtype=np.int64)
        run_h = np.zeros(0)
    end_b = start + np.ceil(run_h / dt - 1e-9).astype(np.int64)
    return _Candidates(task=task.astype(np.int64), dc=dc.astype(np.int64), r=r.astype(np.int64),
                       start=start.astype(np.int64), end_b=end_b, run_h=run_h, job_col=job_col,
                       decided_jobs=decided, forced_miss=forced_miss)


# ---------------------------------------------------------------------------- build
@dataclass(frozen=True, eq=False)
class _Model:
    lp: highspy.HighsLp
    n_grid_cols: int
    x0: int  # first candidate column
    z0: int  # first job column
    cand: _Candidates
    offset: float
    notes: dict[str, int]


def _build(p: OracleProblem, max_candidates: int) -> _Model:
    dt, n_t = p.interval_h, p.n_intervals
    cand = _candidates(p)
    n_c = cand.task.size
    if n_c > max_candidates:
        raise OracleError(f"the episode has {n_c} candidate placements; expected at most max_candidates="
                          f"{max_candidates} (shorten the episode or raise the limit)")
    nn = p.bbus.shape[0]
    ng, kb = p.block_cost_usd_per_mwh.shape
    nr, nb = p.res_node.size, p.bess_node.size
    nl = p.bf.shape[0]
    n_dc = p.dc_node.size
    # Column layout of one interval: theta | gen blocks | res | ch | dis | soc | shed | over.
    o_th, o_g = 0, nn
    o_res = o_g + ng * kb
    o_ch = o_res + nr
    o_dis, o_soc = o_ch + nb, o_ch + 2 * nb
    o_shed = o_ch + 3 * nb
    o_over = o_shed + nn
    per_t = o_over + nn
    n_grid = per_t * n_t
    n_job = cand.decided_jobs.size
    x0, z0 = n_grid, n_grid + n_c
    ncol = z0 + n_job
    # Row layout: per interval balance | lines | soc; then capacity [t, dc, r]; assignment per
    # kept task; precedence per kept edge.
    r_per_t = nn + nl + nb
    r_cap0 = r_per_t * n_t
    kept_tasks = np.unique(cand.task)
    task_row = -np.ones(p.task_job.size, dtype=np.int64)
    r_asg0 = r_cap0 + n_t * n_dc * 2
    task_row[kept_tasks] = r_asg0 + np.arange(kept_tasks.size)
    kept_edges = np.flatnonzero((task_row[p.edge_pred] >= 0) & (task_row[p.edge_succ] >= 0)) if p.edge_pred.size else \
        np.zeros(0, dtype=np.int64)
    r_prec0 = r_asg0 + kept_tasks.size
    nrow = r_prec0 + kept_edges.size

    ri: list[np.ndarray] = []
    ci: list[np.ndarray] = []
    vi: list[np.ndarray] = []

    def put(r: np.ndarray, c: np.ndarray, v: np.ndarray | float) -> None:
        rb, cb, vb = np.broadcast_arrays(np.asarray(r, dtype=np.int64), np.asarray(c, dtype=np.int64),
                                         np.asarray(v, dtype=float))
        ri.append(rb.ravel())
        ci.append(cb.ravel())
        vi.append(vb.ravel())

    t_ar = np.arange(n_t)
    base_c = t_ar * per_t  # [t]
    base_r = t_ar * r_per_t
    # Balance rows (tsco eq. 5): injections - Bbus theta - CPN load = fixed load.
    gnode_blk = np.repeat(p.gen_node, kb)
    put(base_r[:, None] + gnode_blk[None, :], base_c[:, None] + o_g + np.arange(ng * kb)[None, :], 1.0)
    if nr:
        put(base_r[:, None] + p.res_node[None, :], base_c[:, None] + o_res + np.arange(nr)[None, :], 1.0)
    if nb:
        put(base_r[:, None] + p.bess_node[None, :], base_c[:, None] + o_ch + np.arange(nb)[None, :], -1.0)
        put(base_r[:, None] + p.bess_node[None, :], base_c[:, None] + o_dis + np.arange(nb)[None, :], 1.0)
    put(base_r[:, None] + np.arange(nn)[None, :], base_c[:, None] + o_shed + np.arange(nn)[None, :], 1.0)
    put(base_r[:, None] + np.arange(nn)[None, :], base_c[:, None] + o_over + np.arange(nn)[None, :], -1.0)
    bb = p.bbus.tocoo()
    put(base_r[:, None] + bb.row[None, :], base_c[:, None] + o_th + bb.col[None, :], -bb.data[None, :])
    # Line rows (tsco eq. 6).
    bfc = p.bf.tocoo()
    put(base_r[:, None] + nn + bfc.row[None, :], base_c[:, None] + o_th + bfc.col[None, :], bfc.data[None, :])
    # SOC rows (tsco eq. 2): soc_t - soc_{t-1} - eta_c dt ch_t + dt / eta_d dis_t = 0 (soc0 for t = 0).
    if nb:
        rb = base_r[:, None] + nn + nl + np.arange(nb)[None, :]
        put(rb, base_c[:, None] + o_soc + np.arange(nb)[None, :], 1.0)
        put(rb[1:], base_c[:-1, None] + o_soc + np.arange(nb)[None, :], -1.0)
        put(rb, base_c[:, None] + o_ch + np.arange(nb)[None, :], np.broadcast_to(-p.bess_eta_charge * dt, rb.shape))
        put(rb, base_c[:, None] + o_dis + np.arange(nb)[None, :], np.broadcast_to(dt / p.bess_eta_discharge, rb.shape))

    # Candidates: energy by exact overlap with each interval, occupancy until the end boundary.
    steps = cand.end_b - cand.start
    rep = np.repeat(np.arange(n_c), steps)
    t_occ = cand.start[rep] + (np.arange(rep.size) - np.repeat(np.cumsum(steps) - steps, steps))
    run_end = cand.start[rep] * dt + cand.run_h[rep]
    overlap = np.clip(np.minimum(run_end, (t_occ + 1) * dt) - np.maximum(cand.start[rep] * dt, t_occ * dt), 0.0, None)
    units = p.task_units[cand.task[rep]].astype(float)
    mw = units * p.dc_mw_per_server[cand.dc[rep], cand.r[rep]] * overlap / dt
    col = x0 + rep
    put(t_occ * r_per_t + p.dc_node[cand.dc[rep]], col, -mw)
    put(r_cap0 + (t_occ * n_dc + cand.dc[rep]) * 2 + cand.r[rep], col, units)
    # Assignment: sum of a kept task's candidates = z of its job.
    put(task_row[cand.task], x0 + np.arange(n_c), 1.0)
    kt_job = p.task_job[kept_tasks]
    put(task_row[kept_tasks], z0 + cand.job_col[kt_job], -1.0)
    # Precedence in expected time: sum start x (succ) - sum end boundary x (pred) >= 0.
    if kept_edges.size:
        erow = r_prec0 + np.arange(kept_edges.size)
        pred_rows: dict[int, list[int]] = {}
        succ_rows: dict[int, list[int]] = {}
        for row, e in zip(erow.tolist(), kept_edges.tolist()):
            pred_rows.setdefault(int(p.edge_pred[e]), []).append(row)
            succ_rows.setdefault(int(p.edge_succ[e]), []).append(row)
        # Each candidate of task k enters every edge row where k is successor (+start) or
        # predecessor (-end boundary).
        rr, cc, vv = [], [], []
        order = np.argsort(cand.task, kind="stable")
        bounds = np.searchsorted(cand.task[order], np.arange(p.task_job.size + 1))
        for k, rows_k in succ_rows.items():
            cs = order[bounds[k]:bounds[k + 1]]
            for row in rows_k:
                rr.append(np.full(cs.size, row))
                cc.append(x0 + cs)
                vv.append(cand.start[cs].astype(float))
        for k, rows_k in pred_rows.items():
            cs = order[bounds[k]:bounds[k + 1]]
            for row in rows_k:
                rr.append(np.full(cs.size, row))
                cc.append(x0 + cs)
                vv.append(-cand.end_b[cs].astype(float))
        put(np.concatenate(rr), np.concatenate(cc), np.concatenate(vv))

    a = sp.csc_matrix((np.concatenate(vi), (np.concatenate(ri), np.concatenate(ci))), shape=(nrow, ncol))
    a.sum_duplicates()

    inf = highspy.kHighsInf
    lo, hi = np.zeros(ncol), np.full(ncol, inf)
    cost = np.zeros(ncol)
    gc = base_c[:, None] + o_th + np.arange(nn)[None, :]
    lo[gc], hi[gc] = -inf, inf
    lo[base_c + o_th + p.ref_node] = hi[base_c + o_th + p.ref_node] = 0.0
    committed = p.committed.astype(bool)
    quick = np.zeros_like(committed) if p.fast_start is None else (~committed & np.asarray(p.fast_start, bool)[None, :])
    on = np.repeat(committed.astype(float), kb, axis=1)  # [t, gen*blk]
    avail = np.repeat((committed | quick).astype(float), kb, axis=1)
    gcols = base_c[:, None] + o_g + np.arange(ng * kb)[None, :]
    # As the real-time dispatch: a committed unit between its Pmin and Pmax, an uncommitted
    # fast-start unit from 0 (Pmin waived) at its offers plus the adder.
    lo[gcols] = p.block_lo_mw.ravel()[None, :] * on
    hi[gcols] = p.block_hi_mw.ravel()[None, :] * avail
    blk_emis = np.repeat(p.gen_emission_kg_per_mwh, kb)
    prices = ObjectivePrices(p.carbon_price_usd_per_t, p.deadline_penalty_usd)
    per_mwh = energy_price_usd_per_mwh(p.block_cost_usd_per_mwh.ravel(), blk_emis, prices)
    cost[gcols] = dt * (per_mwh[None, :] + p.fast_start_usd_per_mwh * np.repeat(quick.astype(float), kb, axis=1))
    if nr:
        hi[base_c[:, None] + o_res + np.arange(nr)[None, :]] = p.res_avail_mw
    if nb:
        for o in (o_ch, o_dis):
            hi[base_c[:, None] + o + np.arange(nb)[None, :]] = p.bess_power_mw[None, :]
        sc = base_c[:, None] + o_soc + np.arange(nb)[None, :]
        lo[sc], hi[sc] = p.bess_soc_min_mwh[None, :], p.bess_soc_max_mwh[None, :]
    cost[base_c[:, None] + o_shed + np.arange(nn)[None, :]] = dt * p.voll_usd_per_mwh
    cost[base_c[:, None] + o_over + np.arange(nn)[None, :]] = dt * p.overgen_penalty_usd_per_mwh
    hi[x0:] = 1.0
    # A job on time earns its value and avoids its penalty; every job pays the penalty in the
    # offset (the settlement rule), so z_j's coefficient is -(penalty + value).
    value = np.zeros(p.job_deadline_h.size) if p.job_value_usd is None else np.asarray(p.job_value_usd, dtype=float)
    cost[z0:] = -p.deadline_penalty_usd - value[cand.decided_jobs]
    n_checked = n_job + cand.forced_miss
    offset = (float(dt * (committed.astype(float) @ p.gen_c0_usd_per_h).sum()) + p.deadline_penalty_usd * n_checked
              + p.startup_usd)

    rlo, rhi = np.zeros(nrow), np.zeros(nrow)
    bal = base_r[:, None] + np.arange(nn)[None, :]
    rlo[bal] = rhi[bal] = p.fixed_load_mw
    lr = base_r[:, None] + nn + np.arange(nl)[None, :]
    rlo[lr], rhi[lr] = p.line_lo_mw[None, :], p.line_hi_mw[None, :]
    if nb:
        sr = base_r[:, None] + nn + nl + np.arange(nb)[None, :]
        rlo[sr] = rhi[sr] = 0.0
        rlo[sr[0]] = rhi[sr[0]] = p.bess_soc0_mwh
    rlo[r_cap0:r_asg0], rhi[r_cap0:r_asg0] = -inf, np.repeat(p.dc_capacity.ravel()[None, :], n_t, axis=0).ravel()
    rlo[r_prec0:], rhi[r_prec0:] = 0.0, inf

    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = ncol, nrow
    lp.col_cost_, lp.col_lower_, lp.col_upper_ = cost, lo, hi
    lp.row_lower_, lp.row_upper_ = rlo, rhi
    lp.offset_ = offset
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = a.indptr.astype(np.int32)
    lp.a_matrix_.index_ = a.indices.astype(np.int32)
    lp.a_matrix_.value_ = a.data
    integ = [highspy.HighsVarType.kContinuous] * n_grid + [highspy.HighsVarType.kInteger] * (n_c + n_job)
    lp.integrality_ = integ
    notes = {"grid_cols": n_grid, "candidate_cols": n_c, "job_cols": n_job, "grid_rows": r_cap0,
             "capacity_rows": r_asg0 - r_cap0, "assignment_rows": int(kept_tasks.size),
             "precedence_rows": int(kept_edges.size), "forced_misses": cand.forced_miss,
             "jobs_after_horizon": int(np.sum(p.job_deadline_h > n_t * dt + _EPS_H))}
    return _Model(lp=lp, n_grid_cols=n_grid, x0=x0, z0=z0, cand=cand, offset=offset, notes=notes)


# ---------------------------------------------------------------------------- solve
def _highs(time_limit_s: float, mip_rel_gap: float, threads: int, seed: int) -> highspy.Highs:
    h = new_highs()
    h.setOptionValue("time_limit", float(time_limit_s))
    h.setOptionValue("mip_rel_gap", float(mip_rel_gap))
    h.setOptionValue("threads", int(threads))
    h.setOptionValue("random_seed", int(seed))
    return h


def _run(lp: highspy.HighsLp, time_limit_s: float, mip_rel_gap: float, threads: int, seed: int,
         integer: bool, col_upper: np.ndarray | None = None,
         start: np.ndarray | None = None, first_binary: int = 0) -> tuple[highspy.Highs, bool]:
    """One solve of ``lp`` (as a MILP when ``integer``); ``start``: binary columns of a MIP
    start set to 1, every other column from ``first_binary`` on set to 0 (HiGHS completes the
    continuous columns before it)."""
    h = _highs(time_limit_s, mip_rel_gap, threads, seed)
    model = highspy.HighsLp()
    model.num_col_, model.num_row_ = lp.num_col_, lp.num_row_
    model.col_cost_, model.col_lower_ = lp.col_cost_, lp.col_lower_
    model.col_upper_ = lp.col_upper_ if col_upper is None else col_upper
    model.row_lower_, model.row_upper_, model.offset_ = lp.row_lower_, lp.row_upper_, lp.offset_
    model.a_matrix_ = lp.a_matrix_
    if integer:
        model.integrality_ = lp.integrality_
    else:
        h.setOptionValue("solver", "simplex")  # 5 s on the default scenario; interior point ~40 s
    h.passModel(model)
    # HiGHS keeps one thread scheduler per process, sized by the first solve that ran (the
    # env's dispatch, with HiGHS's default thread count); from highspy 1.16 a solve asking for
    # another count fails with "not set" instead of warning. The oracle's solves are sequential
    # and nothing else solves meanwhile, so drop the scheduler and let this solve size it.
    highspy.Highs.resetGlobalScheduler(True)
    if integer and start is not None and start.size:
        cols = np.arange(first_binary, lp.num_col_, dtype=np.int32)
        vals = np.zeros(cols.size)
        vals[np.searchsorted(cols, start)] = 1.0
        h.setSolution(int(cols.size), cols, vals)
    if h.run() == highspy.HighsStatus.kError:
        raise OracleError(f"highspy {importlib.metadata.version('highspy')} refused the oracle "
                          f"{'MILP' if integer else 'LP'} (model status "
                          f"{h.modelStatusToString(h.getModelStatus())!r}, threads={threads}); expected a solve")
    has_sol = h.getInfo().primal_solution_status == 2  # kSolutionStatusFeasible
    return h, has_sol


def _incumbent_columns(p: OracleProblem, m: _Model, incumbent: Mapping[int, Placement]) -> np.ndarray:
    """Binary columns set to 1 by a known schedule (e.g. a heuristic's, rehearsed in a copy of
    the env): the candidates of its placements, and ``z`` of every job all of whose kept
    sub-tasks it places on a candidate (an on-time job; the others are left out, which the
    model allows). Returns column indices (sorted, unique)."""
    c = m.cand
    if not incumbent or c.task.size == 0:
        return np.zeros(0, dtype=np.int64)
    n_dc, n_t = p.dc_node.size, p.n_intervals
    key = ((c.task * n_dc + c.dc) * 2 + c.r) * (n_t + 1) + c.start
    order = np.argsort(key, kind="stable")
    tasks = np.fromiter(incumbent.keys(), dtype=np.int64, count=len(incumbent))
    pl = list(incumbent.values())
    node = np.array([q.node for q in pl], dtype=np.int64)
    res = np.array([q.resource for q in pl], dtype=np.int64)
    start = np.array([q.start for q in pl], dtype=np.int64)
    ok = (tasks >= 0) & (tasks < p.task_job.size) & (node >= 0) & (node < n_dc) & (res >= 0) & (res <= 1) & \
        (start >= 0) & (start <= n_t)
    want = ((tasks * n_dc + node) * 2 + res) * (n_t + 1) + start
    pos = np.searchsorted(key[order], want)
    pos = np.minimum(pos, max(key.size - 1, 0))
    found = ok & (key[order][pos] == want)
    cand_of_task = -np.ones(p.task_job.size, dtype=np.int64)
    cand_of_task[tasks[found]] = order[pos[found]]
    kept = np.unique(c.task)
    kept_job = p.task_job[kept]
    job_ok = np.ones(p.job_deadline_h.size, dtype=bool)
    np.logical_and.at(job_ok, kept_job, cand_of_task[kept] >= 0)
    on = c.decided_jobs[job_ok[c.decided_jobs]]
    on_tasks = kept[np.isin(kept_job, on)]
    return np.sort(np.concatenate([m.x0 + cand_of_task[on_tasks], m.z0 + c.job_col[on]]))


def solve_oracle(problem: OracleProblem, *, time_limit_s: float = 120.0, mip_rel_gap: float = 0.01,
                 threads: int = 1, max_candidates: int = 250_000, full_milp_max_binaries: int = 20_000,
                 seed: int = 0, incumbent: Mapping[int, Placement] | None = None) -> OracleResult:
    """Build, solve and read back the oracle of ``problem`` (see the module docstring).

    Steps: (1) the LP relaxation (dual simplex) - its value is a valid lower bound; (2) with
    at most ``full_milp_max_binaries`` binaries the full MILP with the time left (bound = the
    larger of its dual bound and the LP's); otherwise (3) the MILP restricted to the LP
    solution's support (every other candidate fixed to 0: a feasible plan of the full MILP,
    so its value is an upper bound on the oracle's optimum); (4) without an incumbent, the
    LP solution rounded. ``time_limit_s`` covers all steps.

    ``incumbent`` (task -> placement, e.g. a heuristic's schedule rehearsed in a copy of the
    env) is passed to the MILPs as a start, and its candidates join the restricted MILP's
    support, so that the plan is never worse in the relaxation than that schedule; its jobs
    that are not on time in the model are left out of the start."""
    if not (math.isfinite(time_limit_s) and time_limit_s > 0):
        raise OracleError(f"time_limit_s={time_limit_s!r}: expected seconds > 0")
    if not (math.isfinite(mip_rel_gap) and 0 <= mip_rel_gap < 1):
        raise OracleError(f"mip_rel_gap={mip_rel_gap!r}: expected a fraction in [0, 1)")
    if not (isinstance(threads, int) and threads >= 1):
        raise OracleError(f"threads={threads!r}: expected an integer >= 1")
    t0 = time.perf_counter()
    m = _build(problem, max_candidates)
    build_s = time.perf_counter() - t0
    lp = m.lp
    n_bin = lp.num_col_ - m.n_grid_cols
    start_cols = _incumbent_columns(problem, m, incumbent or {})
    t1 = time.perf_counter()

    def left() -> float:
        return max(1.0, time_limit_s - (time.perf_counter() - t1))

    h, ok = _run(lp, left(), mip_rel_gap, threads, seed, integer=False)
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        status = "lp_" + h.modelStatusToString(h.getModelStatus()).lower().replace(" ", "_")
        return OracleResult(status=status, schedule={}, on_time_jobs=frozenset(), penalized_jobs=0,
                            objective_usd=math.nan, best_bound_usd=-math.inf, lp_bound_usd=math.nan, gap=math.inf,
                            solve_time_s=time.perf_counter() - t1, build_time_s=build_s, n_cols=int(lp.num_col_),
                            n_rows=int(lp.num_row_), n_nonzeros=int(len(lp.a_matrix_.value_)), n_binaries=int(n_bin),
                            n_candidates=int(m.cand.task.size), size_notes=m.notes)
    lp_bound = float(h.getInfo().objective_function_value)
    x_lp = np.asarray(h.getSolution().col_value)
    bound, objective, x, status = lp_bound, math.nan, None, "lp_rounded"
    if n_bin <= full_milp_max_binaries:
        hm, ok = _run(lp, left(), mip_rel_gap, threads, seed, integer=True, start=start_cols,
                      first_binary=m.n_grid_cols)
        info = hm.getInfo()
        if math.isfinite(info.mip_dual_bound):
            bound = max(bound, float(info.mip_dual_bound))
        if ok:
            x = np.asarray(hm.getSolution().col_value)
            objective = float(info.objective_function_value)
            status = "optimal" if hm.getModelStatus() == highspy.HighsModelStatus.kOptimal else "time_limit"
    if x is None:
        upper = np.array(lp.col_upper_, dtype=float)
        cand_cols = np.arange(m.x0, m.z0)
        off = np.zeros(lp.num_col_, dtype=bool)
        off[cand_cols[x_lp[m.x0:m.z0] <= 1e-6]] = True
        off[start_cols] = False
        upper[off] = 0.0
        hr, ok = _run(lp, left(), mip_rel_gap, threads, seed, integer=True, col_upper=upper, start=start_cols,
                      first_binary=m.n_grid_cols)
        if ok:
            x = np.asarray(hr.getSolution().col_value)
            objective = float(hr.getInfo().objective_function_value)
            status = "restricted_milp"
    if x is None:
        x = x_lp
    solve_s = time.perf_counter() - t1
    schedule, on_time = _read_schedule(problem, m, x)
    n_checked = m.cand.decided_jobs.size + m.cand.forced_miss
    gap = (objective - bound) / max(abs(objective), 1e-9) if math.isfinite(objective) else math.inf
    return OracleResult(
        status=status, schedule=schedule, on_time_jobs=frozenset(on_time), penalized_jobs=n_checked - len(on_time),
        objective_usd=objective, best_bound_usd=bound, lp_bound_usd=lp_bound, gap=gap, solve_time_s=solve_s,
        build_time_s=build_s, n_cols=int(lp.num_col_), n_rows=int(lp.num_row_),
        n_nonzeros=int(len(lp.a_matrix_.value_)), n_binaries=int(n_bin), n_candidates=int(m.cand.task.size),
        size_notes=m.notes,
    )


def _read_schedule(p: OracleProblem, m: _Model, x: np.ndarray | None) -> tuple[dict[int, Placement], list[int]]:
    """Largest candidate of each sub-task of every job with z >= 0.5 (exact for a MILP
    incumbent, a rounding of an LP solution)."""
    if x is None:
        return {}, []
    c = m.cand
    z = x[m.z0:]
    xs = x[m.x0:m.z0]
    on = c.decided_jobs[z >= 0.5]
    on_set = set(on.tolist())
    best: dict[int, tuple[float, int]] = {}
    for i in np.flatnonzero(xs > 1e-6):
        k = int(c.task[i])
        if int(p.task_job[k]) in on_set and xs[i] > best.get(k, (-1.0, -1))[0]:
            best[k] = (float(xs[i]), int(i))
    schedule = {k: Placement(node=int(c.dc[i]), resource=int(c.r[i]), start=int(c.start[i])) for k, (_, i) in best.items()}
    return schedule, sorted(on_set)
