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
  MW per busy server x the exact overlap of its run with each interval (``carbon_cpn/envs/cpn.py``);
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

The model is assembled as sparse arrays (:mod:`carbon_cpn.optim.oracle_model`: the grid from
the shared network-LP builder :mod:`carbon_cpn.optim.network_lp`, then the placements of
:mod:`carbon_cpn.optim.oracle_candidates`) and passed to HiGHS through ``highspy`` directly,
not through pyomo: building ~10^6 nonzeros as pyomo expressions takes longer than solving
them (the commitment master is small enough for pyomo; this is not). The input and output
types are in :mod:`carbon_cpn.optim.oracle_problem` and importable from here. This module
imports nothing from ``carbon_cpn.envs``: the env-side adapter is
``carbon_cpn.agents.oracle_policy.oracle_problem``.
"""


from __future__ import annotations

import importlib.metadata
import math
import time
from collections.abc import Mapping

import highspy
import numpy as np

from carbon_cpn.optim.highs_factory import new_highs
from carbon_cpn.optim.oracle_model import OracleModel, build_model
from carbon_cpn.optim.oracle_problem import OracleError, OracleProblem, OracleResult, Placement

__all__ = ["OracleError", "OracleProblem", "OracleResult", "Placement", "solve_oracle"]


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


def _incumbent_columns(p: OracleProblem, m: OracleModel, incumbent: Mapping[int, Placement]) -> np.ndarray:
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
    m = build_model(problem, max_candidates)
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


def _read_schedule(p: OracleProblem, m: OracleModel, x: np.ndarray | None) -> tuple[dict[int, Placement], list[int]]:
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
