"""The oracle's MILP as sparse arrays: the grid of every interval from the shared network-LP
builder (:mod:`carbon_cpn.optim.network_lp`), then the CPN's placements.

Columns: per interval the builder's blocks (``theta | blk | res | ch | dis | soc | shed |
over``), then one binary per candidate placement, then one per job that can be on time.
Rows: per interval ``balance | line | soc``, then capacity ``[t, dc, r]``, one assignment row
per kept sub-task, one precedence row per kept DAG edge. See :mod:`carbon_cpn.optim.oracle`
for the formulation.
"""

from __future__ import annotations

from dataclasses import dataclass

import highspy
import numpy as np
import scipy.sparse as sp

from carbon_cpn.optim.network_lp import (
    NetworkData,
    NetworkIndex,
    SparseLP,
    battery_dynamics,
    generation_costs,
    layout,
    line_limits,
    nodal_balance,
)
from carbon_cpn.optim.objective import ObjectivePrices, energy_price_usd_per_mwh
from carbon_cpn.optim.oracle_candidates import Candidates, candidates
from carbon_cpn.optim.oracle_problem import EPS_H, OracleError, OracleProblem

__all__ = ["OracleModel", "build_model", "network_data"]


@dataclass(frozen=True, eq=False)
class OracleModel:
    """The built MILP and where its parts are."""

    lp: highspy.HighsLp
    index: NetworkIndex  # the grid columns and rows (the first ``n_grid_cols`` columns)
    n_grid_cols: int
    x0: int  # first candidate column
    z0: int  # first job column
    cand: Candidates
    offset: float
    notes: dict[str, int]


def network_data(p: OracleProblem) -> NetworkData:
    """The grid of ``p`` for the builder (``fixed_load_mw`` already holds the phase-shifter
    injections, so ``pbusinj_mw`` is 0)."""
    nn = p.bbus.shape[0]
    return NetworkData(
        n_node=nn, ref_node=int(p.ref_node), bbus=sp.coo_matrix(p.bbus), bf=sp.csr_matrix(p.bf),
        line_lo_mw=np.asarray(p.line_lo_mw, dtype=float), line_hi_mw=np.asarray(p.line_hi_mw, dtype=float),
        pbusinj_mw=np.zeros(nn), gen_node=np.asarray(p.gen_node), block_lo_mw=np.asarray(p.block_lo_mw, dtype=float),
        block_hi_mw=np.asarray(p.block_hi_mw, dtype=float), gen_emission_kg_per_mwh=p.gen_emission_kg_per_mwh,
        res_node=np.asarray(p.res_node), bess_node=np.asarray(p.bess_node), bess_power_mw=p.bess_power_mw,
        bess_eta_charge=p.bess_eta_charge, bess_eta_discharge=p.bess_eta_discharge,
        bess_soc_min_mwh=p.bess_soc_min_mwh, bess_soc_max_mwh=p.bess_soc_max_mwh,
        voll_usd_per_mwh=float(p.voll_usd_per_mwh), overgen_penalty_usd_per_mwh=float(p.overgen_penalty_usd_per_mwh),
    )


def _grid(p: OracleProblem) -> tuple[SparseLP, NetworkIndex]:
    """The grid of every interval (tsco eqs. 2, 5, 6) with the env's offers, commitment and
    fast-start units: a committed unit between its Pmin and Pmax, an uncommitted fast-start unit
    from 0 (Pmin waived) at its offers plus the adder, as the real-time dispatch does."""
    net = network_data(p)
    kb = net.blocks_per_gen
    ix = layout(net, p.n_intervals, soc=True, ramping=False)
    lp = SparseLP(ix.n_cols, ix.n_rows)
    nodal_balance(lp, net, ix, p.fixed_load_mw, res_avail_mw=p.res_avail_mw)
    line_limits(lp, net, ix)
    battery_dynamics(lp, net, ix, p.interval_h, p.bess_soc0_mwh, hold_final_soc=False)
    committed = p.committed.astype(bool)
    quick = np.zeros_like(committed) if p.fast_start is None else (~committed & np.asarray(p.fast_start, bool)[None, :])
    prices = ObjectivePrices(p.carbon_price_usd_per_t, p.deadline_penalty_usd)
    per_mwh = energy_price_usd_per_mwh(p.block_cost_usd_per_mwh.ravel(), np.repeat(p.gen_emission_kg_per_mwh, kb),
                                       prices)
    offer = per_mwh[None, :] + p.fast_start_usd_per_mwh * np.repeat(quick.astype(float), kb, axis=1)
    generation_costs(lp, net, ix, offer, scale=p.interval_h)
    blk = ix.cols("blk")
    lp.col_lo[blk] = p.block_lo_mw.ravel()[None, :] * np.repeat(committed.astype(float), kb, axis=1)
    lp.col_hi[blk] = p.block_hi_mw.ravel()[None, :] * np.repeat((committed | quick).astype(float), kb, axis=1)
    return lp, ix


def build_model(p: OracleProblem, max_candidates: int) -> OracleModel:
    """The oracle's MILP of ``p``; an :class:`OracleError` above ``max_candidates`` placements."""
    dt, n_t = p.interval_h, p.n_intervals
    cand = candidates(p)
    n_c = cand.task.size
    if n_c > max_candidates:
        raise OracleError(f"the episode has {n_c} candidate placements; expected at most max_candidates="
                          f"{max_candidates} (shorten the episode or raise the limit)")
    n_dc = p.dc_node.size
    lp, ix = _grid(p)
    n_grid = ix.n_cols
    n_job = cand.decided_jobs.size
    x0 = lp.add_cols(n_c)
    z0 = lp.add_cols(n_job)
    kept_tasks = np.unique(cand.task)
    kept_edges = np.zeros(0, dtype=np.int64)
    r_cap0 = lp.add_rows(n_t * n_dc * 2)
    r_asg0 = lp.add_rows(kept_tasks.size)
    task_row = -np.ones(p.task_job.size, dtype=np.int64)
    task_row[kept_tasks] = r_asg0 + np.arange(kept_tasks.size)
    if p.edge_pred.size:
        kept_edges = np.flatnonzero((task_row[p.edge_pred] >= 0) & (task_row[p.edge_succ] >= 0))
    r_prec0 = lp.add_rows(kept_edges.size)

    # Candidates: energy by exact overlap with each interval (a load in the balance row of its
    # data center's node), occupancy until the end boundary.
    steps = cand.end_b - cand.start
    rep = np.repeat(np.arange(n_c), steps)
    t_occ = cand.start[rep] + (np.arange(rep.size) - np.repeat(np.cumsum(steps) - steps, steps))
    run_end = cand.start[rep] * dt + cand.run_h[rep]
    overlap = np.clip(np.minimum(run_end, (t_occ + 1) * dt) - np.maximum(cand.start[rep] * dt, t_occ * dt), 0.0, None)
    units = p.task_units[cand.task[rep]].astype(float)
    mw = units * p.dc_mw_per_server[cand.dc[rep], cand.r[rep]] * overlap / dt
    col = x0 + rep
    lp.put(ix.rows("balance")[t_occ, p.dc_node[cand.dc[rep]]], col, -mw)
    lp.put(r_cap0 + (t_occ * n_dc + cand.dc[rep]) * 2 + cand.r[rep], col, units)
    # Assignment: sum of a kept task's candidates = z of its job.
    lp.put(task_row[cand.task], x0 + np.arange(n_c), 1.0)
    lp.put(task_row[kept_tasks], z0 + cand.job_col[p.task_job[kept_tasks]], -1.0)
    if kept_edges.size:
        _precedence(lp, p, cand, kept_edges, r_prec0, x0)

    inf = highspy.kHighsInf
    lp.col_hi[x0:] = 1.0
    # A job on time earns its value and avoids its penalty; every job pays the penalty in the
    # offset (the settlement rule), so z_j's coefficient is -(penalty + value).
    value = np.zeros(p.job_deadline_h.size) if p.job_value_usd is None else np.asarray(p.job_value_usd, dtype=float)
    lp.cost[z0:] = -p.deadline_penalty_usd - value[cand.decided_jobs]
    n_checked = n_job + cand.forced_miss
    committed = p.committed.astype(float)
    offset = (float(dt * (committed @ p.gen_c0_usd_per_h).sum()) + p.deadline_penalty_usd * n_checked + p.startup_usd)
    lp.row_lo[r_cap0:r_asg0] = -inf
    lp.row_hi[r_cap0:r_asg0] = np.repeat(p.dc_capacity.ravel()[None, :], n_t, axis=0).ravel()
    lp.row_lo[r_prec0:], lp.row_hi[r_prec0:] = 0.0, inf

    model = lp.to_highs()
    model.offset_ = offset
    model.integrality_ = ([highspy.HighsVarType.kContinuous] * n_grid
                          + [highspy.HighsVarType.kInteger] * (n_c + n_job))
    notes = {"grid_cols": n_grid, "candidate_cols": n_c, "job_cols": n_job, "grid_rows": r_cap0,
             "capacity_rows": r_asg0 - r_cap0, "assignment_rows": int(kept_tasks.size),
             "precedence_rows": int(kept_edges.size), "forced_misses": cand.forced_miss,
             "jobs_after_horizon": int(np.sum(p.job_deadline_h > n_t * dt + EPS_H))}
    return OracleModel(lp=model, index=ix, n_grid_cols=n_grid, x0=x0, z0=z0, cand=cand, offset=offset, notes=notes)


def _precedence(lp: SparseLP, p: OracleProblem, cand: Candidates, kept_edges: np.ndarray, r_prec0: int,
                x0: int) -> None:
    """Precedence in expected time: sum start x (succ) - sum end boundary x (pred) >= 0."""
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
    lp.put(np.concatenate(rr), np.concatenate(cc), np.concatenate(vv))
