"""Day-ahead stochastic unit commitment (tsco §IV.A-B, Algorithm 1 stage 1).

First stage: binary commitment u[g, t], start-ups v and shut-downs w, minimum up and down
times, start-up/shut-down and no-load costs (tsco eq. 11). Second stage, per renewable/load
scenario w: the multi-period DC dispatch with ramping, batteries over time, shedding and
curtailment slacks and a carbon price (tsco eq. 12), see :mod:`carbon_cpn.optim.uc_subproblem`.

``solve_suc(system, scenarios, method="benders")`` runs multi-cut Benders decomposition
(:mod:`carbon_cpn.optim.uc_benders`); ``method="extensive"`` solves the deterministic
equivalent (all scenarios in one pyomo MILP) directly: the reference.

Where the parts live: the inputs in :mod:`~carbon_cpn.optim.uc_system`, the plan in
:mod:`~carbon_cpn.optim.uc_plan`, the second stage in :mod:`~carbon_cpn.optim.uc_subproblem`
(built by the network-LP builder :mod:`~carbon_cpn.optim.network_lp`), the pyomo first stage
and the LP-to-pyomo copy in :mod:`~carbon_cpn.optim.uc_pyomo`. Their public names are
importable from here.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import numpy as np

from carbon_cpn.engine import check_engine
from carbon_cpn.optim.dispatch import EconomicDispatch
from carbon_cpn.optim.uc_benders import solve_benders
from carbon_cpn.optim.uc_plan import CommitmentPlan, assemble_plan, first_stage_cost, transitions
from carbon_cpn.optim.uc_pyomo import add_first_stage, add_lp_block, read_first_stage
from carbon_cpn.optim.uc_subproblem import make_lps
from carbon_cpn.optim.uc_system import (
    RESERVE_MODES,
    CommitmentError,
    DayScenarios,
    ReserveRule,
    UCSystem,
    UnitCommitmentParams,
    check_year_profiles,
    default_uc_params,
    draw_day_scenarios,
    reserve_requirement_mw,
)

__all__ = ["RESERVE_MODES", "CommitmentError", "CommitmentPlan", "DayScenarios", "ReserveRule", "UCSystem",
           "UnitCommitmentParams", "check_year_profiles", "day_ahead_prices", "default_uc_params",
           "draw_day_scenarios", "reserve_requirement_mw", "solve_extensive", "solve_suc"]


def solve_suc(
    system: UCSystem,
    scenarios: DayScenarios,
    method: str = "benders",
    *,
    gap: float = 1e-3,
    workers: int = 1,
    max_iter: int = 200,
    time_limit_s: float = 600.0,
    log: Callable[[str], None] | None = None,
    master_relaxation: str = "auto",
    engine: str = "local",
    ray_address: str | None = None,
) -> CommitmentPlan:
    """Solve the two-stage stochastic unit commitment; see the module docstring.

    ``master_relaxation`` (Benders only) puts a relaxation of the second stage into the master
    so that its first solutions are already good: ``"scenario"`` a copper-plate (network-free)
    copy of every scenario's dispatch, ``"mean"`` one copy for the probability-weighted mean
    scenario, ``"none"`` only the shortfall bounds; ``"auto"`` is ``"scenario"`` up to 10
    scenarios and ``"mean"`` above. The cuts then only have to learn what the network costs.
    With ``workers > 1``, Benders solves the scenario subproblems on ``engine`` (``"local"``
    processes or ``"ray"`` actors, on the cluster at ``ray_address`` if given).
    """
    if method not in ("benders", "extensive"):
        raise CommitmentError(f"method={method!r}: expected 'benders' or 'extensive'")
    if master_relaxation not in ("auto", "scenario", "mean", "none"):
        raise CommitmentError(f"master_relaxation={master_relaxation!r}: expected 'auto', 'scenario', 'mean' or 'none'")
    if master_relaxation == "auto":
        master_relaxation = "scenario" if scenarios.n <= 10 else "mean"
    if not (0 < gap < 1):
        raise CommitmentError(f"gap={gap!r}: expected a relative gap in (0, 1)")
    if not (isinstance(workers, int) and workers >= 1):
        raise CommitmentError(f"workers={workers!r}: expected an integer >= 1")
    try:
        check_engine(engine, ray_address)
    except ValueError as exc:
        raise CommitmentError(str(exc)) from None
    g, T = system.grid, system.n_periods
    if scenarios.load_mw.shape[1:] != (T, g.n_bus) or scenarios.res_avail_mw.shape[1:] != (T, g.n_res):
        raise CommitmentError(
            f"scenarios: load {scenarios.load_mw.shape[1:]}, renewables {scenarios.res_avail_mw.shape[1:]}; "
            f"expected ({T}, {g.n_bus}) and ({T}, {g.n_res})"
        )
    if abs(scenarios.prob.sum() - 1.0) > 1e-9 or np.any(scenarios.prob < 0):
        raise CommitmentError(f"scenarios.prob sums to {scenarios.prob.sum()!r}; expected probabilities summing to 1")
    if method == "extensive":
        return solve_extensive(system, scenarios, gap, time_limit_s, log)
    return solve_benders(system, scenarios, gap, workers, max_iter, time_limit_s, log, master_relaxation, engine,
                         ray_address)


def solve_extensive(system: UCSystem, sc: DayScenarios, gap: float, time_limit_s: float,
                     log: Callable[[str], None] | None) -> CommitmentPlan:
    """The deterministic equivalent: first stage plus every scenario's LP in one pyomo MILP.

    The scenario LPs are the subproblems' own models (:func:`scenario_model`, copied into
    pyomo by :func:`add_lp_block`); the commitment enters as constraints instead of bounds.
    """
    import pyomo.environ as pyo
    from pyomo.contrib.appsi.solvers import Highs

    t_start = time.perf_counter()
    G, T, W = system.grid.n_gen, system.n_periods, sc.n
    m = pyo.ConcreteModel()
    add_first_stage(m, system, sc)
    lps = make_lps(system, sc, range(W))
    m.x = pyo.Block(range(W))
    recourse = [add_lp_block(m, m.x[k], lps[k].model) for k in range(W)]
    m.obj = pyo.Objective(expr=m.first_stage_cost + sum(float(sc.prob[k]) * recourse[k] for k in range(W)))
    solver = Highs()
    solver.config.stream_solver = False
    solver.config.mip_gap = gap
    solver.config.time_limit = time_limit_s
    solver.config.load_solution = False
    res = solver.solve(m)
    incumbent = res.best_feasible_objective is not None and math.isfinite(res.best_feasible_objective)
    if incumbent:
        res.solution_loader.load_vars()
        u, v, w = read_first_stage(m, system)
        status = "optimal" if str(res.termination_condition).endswith("optimal") else "time_limit"
    else:
        # No commitment found within the time limit: report every unit on (feasible through
        # the slacks), evaluated like any plan, and say so in the status.
        u = np.ones((G, T))
        v, w = transitions(system, u)
        status = "no_incumbent"
    results = {k: lps[k].solve(u) for k in range(W)}
    ub = first_stage_cost(system, u, v, w) + sum(sc.prob[k] * results[k].cost_usd for k in range(W))
    bound = res.best_objective_bound
    lb = float(bound) if bound is not None and math.isfinite(bound) else 0.0
    if log is not None:
        log(f"extensive form ({status}): LB {lb:.2f}  UB {ub:.2f}  {time.perf_counter() - t_start:.2f} s")
    return assemble_plan(system, sc, u, v, w, results, ub, [lb], [ub], 1, time.perf_counter() - t_start, "extensive",
                 status)


# --------------------------------------------------------------------------- day-ahead signals
def day_ahead_prices(system: UCSystem, plan: CommitmentPlan, scenarios: DayScenarios,
                     cost_model: str = "pwl") -> tuple[np.ndarray, np.ndarray]:
    """Expected LMP and MCI ``[t, bus]`` the plan implies: each scenario dispatched period by
    period by the real-time economic dispatch within the plan's commitment, batteries carried
    over, averaged with the scenario probabilities. The DC-Frame baseline schedules on these."""
    g, T = system.grid, system.n_periods
    ed = EconomicDispatch(g, cost_model, n_segments=system.n_segments, interval_h=system.period_h,  # type: ignore[arg-type]
                          carbon_price_usd_per_t=system.carbon_price_usd_per_t)
    lmp = np.zeros((T, g.n_bus))
    mci = np.zeros((T, g.n_bus))
    for k in range(scenarios.n):
        soc = system.soc0()
        for t in range(T):
            r = ed.solve(scenarios.load_mw[k, t], scenarios.res_avail_mw[k, t], soc, plan.commitment[:, t])
            soc = np.clip(r.bess_soc_end_mwh, 0.0, None)
            lmp[t] += scenarios.prob[k] * r.lmp_usd_per_mwh
            mci[t] += scenarios.prob[k] * r.mci_kg_per_mwh
    return lmp, mci
