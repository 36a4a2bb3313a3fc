"""Invariants of an interval, checked on every interval when the env is made with
``check_invariants=True`` or the environment variable ``CARBON_CPN_CHECK_INVARIANTS=1``
(issue #18): a debug flag, off by default (the checks cost a few array operations per interval).

* energy balance of the grid: generation + renewables used + discharge - charge + shed -
  over-generation = base load + the CPN's net draw, per region where there are regions;
* state of charge within [0, energy] for every battery; every line within its rating;
* compute: servers held = capacity - free, none negative; jobs arrived = completed + failed +
  pending;
* whatever the family adds (``CoSimEnv.family_invariants``: e.g. each microgrid site's balance).

A violation raises :class:`InvariantError` naming the interval and the numbers.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from carbon_cpn.envs.outcome import IntervalOutcome

#: Tolerances: MW of balance (relative to the demand), MWh of SOC, MW of line flow.
BALANCE_RTOL, BALANCE_ATOL = 1e-7, 1e-5
SOC_ATOL_MWH = 1e-6
LINE_ATOL_MW = 1e-4


class InvariantError(AssertionError):
    """An interval broke an invariant of the simulation (a bug, never bad input)."""


def violations(env: Any, o: IntervalOutcome) -> list[str]:
    """Every invariant ``o`` (just booked by ``env``) breaks, as readable lines."""
    out: list[str] = []
    d = o.dispatch
    supply = (d.gen_mw.sum() + d.res_used_mw.sum() + d.bess_discharge_mw.sum() - d.bess_charge_mw.sum()
              + d.shed_mw.sum() - d.overgen_mw.sum())
    demand = o.base_load_mw.sum() + o.cpn_load_mw.sum()
    if abs(supply - demand) > BALANCE_ATOL + BALANCE_RTOL * abs(demand):
        out.append(f"grid balance: supply {supply:.6f} MW != demand {demand:.6f} MW")
    cap = env.power.bess_energy_mwh
    if o.soc_end_mwh.size and ((o.soc_end_mwh < -SOC_ATOL_MWH).any() or (o.soc_end_mwh > cap + SOC_ATOL_MWH).any()):
        out.append(f"battery SOC {o.soc_end_mwh.round(6).tolist()} MWh outside [0, {cap.tolist()}]")
    rating = env.power.branch_rating_mw
    over = np.abs(d.line_flow_mw) > rating + LINE_ATOL_MW
    if over.any():
        k = np.flatnonzero(over)[:3]
        out.append(f"line flow {d.line_flow_mw[k].round(3).tolist()} MW over ratings {rating[k].tolist()} (branches {k.tolist()})")
    cpn = env.cpn
    if (cpn.free < 0).any() or not np.array_equal(cpn.allocated(), cpn.capacity - cpn.free):
        out.append(f"servers: free {cpn.free.tolist()} against capacity {cpn.capacity.tolist()}")
    c = cpn.job_counts()
    if c["completed"] + c["failed"] + c["pending"] != c["arrived"]:
        out.append(f"jobs: completed {c['completed']} + failed {c['failed']} + pending {c['pending']} != arrived {c['arrived']}")
    out += env.family_invariants(o)
    return out


def check(env: Any, o: IntervalOutcome) -> None:
    """Raise :class:`InvariantError` if ``o`` breaks an invariant."""
    bad = violations(env, o)
    if bad:
        raise InvariantError(f"interval {o.t} (day {env.day}, hour {o.start_h:.2f}): " + "; ".join(bad))


__all__ = ["InvariantError", "check", "violations"]
