"""The day-ahead plan (:class:`CommitmentPlan`), its first-stage cost and transitions, and its
assembly from the scenario subproblems' results (shared by Benders and the extensive form)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from carbon_cpn.optim.uc_subproblem import SubproblemResult
from carbon_cpn.optim.uc_system import DayScenarios, UCSystem

__all__ = ["CommitmentPlan", "assemble_plan", "first_stage_cost", "transitions"]


@dataclass(frozen=True)
class CommitmentPlan:
    """The day-ahead plan and how it was found."""

    commitment: np.ndarray  # [gen, t] bool
    startup: np.ndarray  # [gen, t] bool
    shutdown: np.ndarray  # [gen, t] bool
    objective_usd: float  # first-stage cost + expected recourse cost of the commitment
    lower_bounds: tuple[float, ...]
    upper_bounds: tuple[float, ...]
    iterations: int
    solve_time_s: float
    method: str
    #: "optimal" (within the gap), "time_limit" or "iteration_limit" (best plan found is
    #: returned), or "no_incumbent" (extensive form only: every unit on, evaluated).
    status: str
    gap: float
    expected_shed_mwh: float
    expected_curtail_mwh: float
    expected_emissions_t: float
    scenario_cost_usd: np.ndarray = field(default_factory=lambda: np.zeros(0))  # [w]
    #: Each scenario's dispatch under the plan: unit output and battery SOC at period ends.
    scenario_gen_mw: np.ndarray = field(default_factory=lambda: np.zeros((0, 0, 0)))  # [w, t, gen]
    scenario_soc_mwh: np.ndarray = field(default_factory=lambda: np.zeros((0, 0, 0)))  # [w, t, bess]


def first_stage_cost(system: UCSystem, u: np.ndarray, v: np.ndarray, w: np.ndarray) -> float:
    """Start-up, shut-down and no-load cost [$] of a commitment ``u`` with transitions ``v``, ``w``."""
    g, dt = system.grid, system.period_h
    su = np.array([p.startup_cost_usd for p in system.params])
    sd = np.array([p.shutdown_cost_usd for p in system.params])
    return float(su @ v.sum(axis=1) + sd @ w.sum(axis=1) + dt * g.gen_c0_usd_per_h @ u.sum(axis=1))


def transitions(system: UCSystem, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start-ups and shut-downs ``[gen, t]`` of a commitment, from the units' initial states."""
    u0 = np.array([1.0 if p.initial_on else 0.0 for p in system.params])
    prev = np.column_stack([u0, u[:, :-1]])
    return np.maximum(u - prev, 0.0), np.maximum(prev - u, 0.0)


def assemble_plan(system: UCSystem, sc: DayScenarios, u: np.ndarray, v: np.ndarray, w: np.ndarray,
                  results: dict[int, SubproblemResult], objective: float, lbs: list[float], ubs: list[float], it: int,
                  elapsed: float, method: str, status: str) -> CommitmentPlan:
    """The plan of commitment ``u`` with the scenarios' dispatch ``results`` and the solver's record."""
    p = sc.prob
    W = sc.n
    return CommitmentPlan(
        commitment=u.astype(bool), startup=v.astype(bool), shutdown=w.astype(bool), objective_usd=objective,
        lower_bounds=tuple(lbs), upper_bounds=tuple(ubs), iterations=it, solve_time_s=elapsed, method=method,
        status=status,
        gap=(ubs[-1] - lbs[-1]) / max(abs(ubs[-1]), 1e-9) if ubs else float("nan"),
        expected_shed_mwh=float(sum(p[k] * results[k].shed_mwh for k in range(W))),
        expected_curtail_mwh=float(sum(p[k] * results[k].curtail_mwh for k in range(W))),
        expected_emissions_t=float(sum(p[k] * results[k].emissions_kg for k in range(W))) / 1000.0,
        scenario_cost_usd=np.array([results[k].cost_usd for k in range(W)]),
        scenario_gen_mw=np.stack([results[k].gen_mw for k in range(W)]),
        scenario_soc_mwh=np.stack([results[k].soc_mwh for k in range(W)]),
    )
