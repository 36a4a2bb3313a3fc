"""Multi-cut Benders decomposition of the day-ahead stochastic unit commitment (tsco §IV.B).

A pyomo master (HiGHS MILP through pyomo's persistent APPSI interface) holds the first stage
(:mod:`carbon_cpn.optim.uc_pyomo`), one cost-to-go variable theta_w per scenario, the
shortfall bounds and (``master_relaxation``) copper-plate copies of the second stage; the
scenario subproblems are persistent highspy LPs (:class:`~carbon_cpn.optim.uc_subproblem.ScenarioLP`)
whose commitment is fixed through bounds, and optimality cuts come from their duals. The
slacks make every subproblem feasible, so no feasibility cuts are needed.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import numpy as np

from carbon_cpn.engine import Workers
from carbon_cpn.optim.uc_plan import CommitmentPlan, assemble_plan, first_stage_cost
from carbon_cpn.optim.uc_pyomo import add_first_stage, add_lp_block, read_first_stage
from carbon_cpn.optim.uc_subproblem import ScenarioLP, SubproblemResult, make_lps, scenario_model
from carbon_cpn.optim.uc_system import DayScenarios, UCSystem

__all__ = ["add_copper_plate", "add_shortfall_bounds", "solve_benders"]

def _worker_init(system: UCSystem, scenarios: DayScenarios, ks: list[int]) -> dict[int, ScenarioLP]:
    """A worker's state: the persistent LPs of its scenarios ``ks``, kept between iterations."""
    return make_lps(system, scenarios, ks)


def _worker_solve(lps: dict[int, ScenarioLP], u: np.ndarray) -> list[tuple[int, SubproblemResult]]:
    return [(k, lp.solve(u)) for k, lp in lps.items()]


def solve_benders(system: UCSystem, sc: DayScenarios, gap: float, workers: int, max_iter: int,
                   time_limit_s: float, log: Callable[[str], None] | None,
                   master_relaxation: str = "scenario", engine: str = "local",
                   ray_address: str | None = None) -> CommitmentPlan:
    """Multi-cut Benders decomposition of the stochastic unit commitment (module docstring).
    With ``workers > 1`` the scenarios are split among that many workers of ``engine``
    (:class:`carbon_cpn.engine.Workers`: local processes, or Ray actors), each keeping its
    scenarios' LPs from one iteration to the next."""
    import pyomo.environ as pyo
    from pyomo.contrib.appsi.solvers import Highs

    t_start = time.perf_counter()
    G, T, W = system.grid.n_gen, system.n_periods, sc.n
    m = pyo.ConcreteModel()
    add_first_stage(m, system, sc)
    m.theta = pyo.Var(range(W), within=pyo.NonNegativeReals)  # all recourse costs are >= 0
    m.obj = pyo.Objective(expr=m.first_stage_cost + sum(float(sc.prob[k]) * m.theta[k] for k in range(W)))
    add_shortfall_bounds(m, system, sc)
    if master_relaxation in ("scenario", "mean"):
        add_copper_plate(m, system, sc, per_scenario=master_relaxation == "scenario")
    m.cuts = pyo.ConstraintList()
    solver = Highs()
    solver.config.stream_solver = False
    solver.config.mip_gap = gap / 10.0

    pool = None
    if workers > 1:
        shares = [list(range(k, W, workers)) for k in range(min(workers, W))]
        pool = Workers(_worker_init, [(system, sc, ks) for ks in shares], engine=engine, address=ray_address)
    else:
        lps = make_lps(system, sc, range(W))

    lbs: list[float] = []
    ubs: list[float] = []
    best: tuple[float, np.ndarray, np.ndarray, np.ndarray, dict[int, SubproblemResult]] | None = None
    it = 0
    def add_cuts(u: np.ndarray, results: dict[int, SubproblemResult]) -> None:
        # Multi-cut: one optimality cut per scenario (module docstring of uc_subproblem).
        for k in range(W):
            r = results[k]
            m.cuts.add(m.theta[k] >= r.cost_usd + sum(
                float(r.grad[i, t]) * (m.u[i, t] - float(u[i, t])) for i in range(G) for t in range(T)
                if r.grad[i, t] != 0.0))

    def evaluate(u: np.ndarray) -> dict[int, SubproblemResult]:
        if pool is not None:
            return dict(r for part in pool.map(_worker_solve, [u] * pool.n) for r in part)
        return {k: lps[k].solve(u) for k in range(W)}

    try:
        if master_relaxation == "none":
            # Warm start: cuts at "every unit on" describe the well-supplied region that the
            # optimum lies in; without them the first masters wander through shedding plans.
            # (With a relaxation in the master they are not needed, and their large
            # coefficients slow the master MILP down.)
            add_cuts(np.ones((G, T)), evaluate(np.ones((G, T))))
        rel = 1.0
        seen: set[bytes] = set()
        tight = False
        while it < max_iter:
            it += 1
            # The master needs to be solved only as tightly as the current gap requires, until
            # it proposes a commitment already evaluated: its cuts are in, so only a tighter
            # master solve can make progress from there on.
            solver.config.mip_gap = gap / 4.0 if tight else max(gap / 4.0, min(0.05, rel / 4.0))
            res = solver.solve(m)
            # Every master bound is valid; a looser master may report a lower one than before.
            lb = max(float(res.best_objective_bound), lbs[-1] if lbs else -math.inf)
            u, v, w = read_first_stage(m, system)
            key = u.astype(np.int8).tobytes()
            if key in seen and not tight:
                tight = True
            seen.add(key)
            results = evaluate(u)
            ub_k = first_stage_cost(system, u, v, w) + sum(sc.prob[k] * results[k].cost_usd for k in range(W))
            if best is None or ub_k < best[0]:
                best = (ub_k, u, v, w, results)
            lbs.append(lb)
            ubs.append(best[0])
            rel = (best[0] - lb) / max(abs(best[0]), 1e-9)
            if log is not None:
                log(f"iter {it:3d}  LB {lb:14.2f}  UB {best[0]:14.2f}  gap {100 * rel:8.4f} %  "
                    f"{time.perf_counter() - t_start:7.2f} s")
            # The master's bound is valid however loosely it was solved, so the gap is exact.
            if rel <= gap or time.perf_counter() - t_start > time_limit_s:
                break
            add_cuts(u, results)
    finally:
        if pool is not None:
            pool.close()
    assert best is not None
    ub, u, v, w, results = best
    rel = (ubs[-1] - lbs[-1]) / max(abs(ubs[-1]), 1e-9)
    status = "optimal" if rel <= gap else ("iteration_limit" if it >= max_iter else "time_limit")
    return assemble_plan(system, sc, u, v, w, results, ub, lbs, ubs, it, time.perf_counter() - t_start, "benders", status)


def add_shortfall_bounds(m: object, system: UCSystem, sc: DayScenarios) -> None:
    """Valid lower bounds on each theta_w that the master knows from the start.

    Whatever the dispatch, load above the most the system can supply in a period (committed
    Pmax + all renewables + every battery at full discharge) is shed at VOLL, and must-run
    output (committed Pmin) above load plus full battery charging is spilled at the
    over-generation penalty; the network can only make both worse. Without these, early
    masters try plans that shed load, and each such plan costs an iteration to rule out.
    """
    import pyomo.environ as pyo

    g, T, dt, W = system.grid, system.n_periods, system.period_h, sc.n
    p_bess = float(sum(b.power_mw for b in g.batteries))
    demand = sc.load_mw.sum(axis=2)  # [w, t]
    res = sc.res_avail_mw.sum(axis=2)  # [w, t]
    m.short = pyo.Var(range(W), range(T), within=pyo.NonNegativeReals)
    m.spill = pyo.Var(range(W), range(T), within=pyo.NonNegativeReals)
    G = range(g.n_gen)
    m.short_def = pyo.Constraint(range(W), range(T), rule=lambda m, k, t: m.short[k, t] >= float(
        demand[k, t] - res[k, t] - p_bess) - sum(float(g.gen_pmax_mw[i]) * m.u[i, t] for i in G))
    m.spill_def = pyo.Constraint(range(W), range(T), rule=lambda m, k, t: m.spill[k, t] >= sum(
        float(g.gen_pmin_mw[i]) * m.u[i, t] for i in G) - float(demand[k, t] + p_bess))
    m.theta_floor = pyo.Constraint(range(W), rule=lambda m, k: m.theta[k] >= dt * sum(
        g.voll_usd_per_mwh * m.short[k, t] + g.overgen_penalty_usd_per_mwh * m.spill[k, t] for t in range(T)))


def add_copper_plate(m: object, system: UCSystem, sc: DayScenarios, per_scenario: bool) -> None:
    """Network-free copies of the second stage in the master (a partial Benders decomposition).

    Each copy is the scenario LP of :mod:`carbon_cpn.optim.uc_subproblem` built by the same
    network-LP builder on the copper-plate network (``NetworkData.copper_plate``: the nodal
    balances summed into one system balance, the line limits dropped): the same cost blocks
    (bounds ``lo x u``, ``hi x u``), ramping, batteries, shedding and over-generation. Summing a
    feasible network dispatch over the nodes gives a feasible copy with the same cost (the
    network terms sum to zero), so the copy's cost is a lower bound on Q_w(u): with
    ``per_scenario``, ``theta_w >= copy_w``. Otherwise one copy of the mean scenario bounds the
    expectation: an LP's value is convex in its right-hand sides and bounds, where the
    scenario data enter, so E[Q_w(u)] >= Q(u, E[data]) (Jensen).
    """
    import pyomo.environ as pyo
    import pyomo.environ as pyo

    if per_scenario:
        copies = [scenario_model(system, sc.load_mw[k], sc.res_avail_mw[k], copper_plate=True) for k in range(sc.n)]
    else:
        copies = [scenario_model(system, np.tensordot(sc.prob, sc.load_mw, axes=1),
                                 np.tensordot(sc.prob, sc.res_avail_mw, axes=1), copper_plate=True)]
    m.cp = pyo.Block(range(len(copies)))
    cost = [add_lp_block(m, m.cp[k], s) for k, s in enumerate(copies)]
    if per_scenario:
        m.cp_bound = pyo.Constraint(range(sc.n), rule=lambda m, k: m.theta[k] >= cost[k])
    else:
        m.cp_bound = pyo.Constraint(expr=sum(float(sc.prob[k]) * m.theta[k] for k in range(sc.n)) >= cost[0])
