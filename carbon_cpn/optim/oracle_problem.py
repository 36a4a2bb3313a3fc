"""The oracle's input (:class:`OracleProblem`: one episode as arrays) and output
(:class:`OracleResult`, :class:`Placement`); the solver is :func:`carbon_cpn.optim.oracle.solve_oracle`."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

__all__ = ["EPS_H", "OracleError", "OracleProblem", "OracleResult", "Placement"]

#: Time tolerance [h] in deadline and window arithmetic (the env compares with 1e-9).
EPS_H = 1e-6


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
