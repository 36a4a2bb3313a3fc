"""The unit commitment in pyomo: the first stage (tsco eq. 11: commitment logic, minimum up
and down times, the reserve rule, start-up/shut-down/no-load cost) and :func:`add_lp_block`,
which copies a network LP made by :mod:`carbon_cpn.optim.network_lp` into a pyomo block with
the commitment ``m.u`` as constraints (the extensive form's scenarios, the Benders master's
copper-plate relaxation)."""

from __future__ import annotations

import math

import numpy as np

from carbon_cpn.optim.uc_subproblem import ScenarioModel
from carbon_cpn.optim.uc_system import DayScenarios, UCSystem, reserve_requirement_mw

__all__ = ["add_first_stage", "add_lp_block", "add_reserve", "read_first_stage"]


def add_first_stage(m: object, system: UCSystem, sc: DayScenarios | None = None) -> None:
    """Commitment logic, the reserve rule and the first-stage cost on pyomo model ``m``
    (tsco eq. 11)."""
    import pyomo.environ as pyo

    g, T, dt = system.grid, system.n_periods, system.period_h
    G = range(g.n_gen)
    P = range(T)
    m.u = pyo.Var(G, P, within=pyo.Binary)
    m.v = pyo.Var(G, P, within=pyo.Binary)  # start-up in t
    m.w = pyo.Var(G, P, within=pyo.Binary)  # shut-down in t
    prm = system.params
    u0 = {i: 1.0 if prm[i].initial_on else 0.0 for i in G}

    def logic(m: object, i: int, t: int) -> object:
        prev = m.u[i, t - 1] if t > 0 else u0[i]
        return m.u[i, t] - prev == m.v[i, t] - m.w[i, t]

    m.logic = pyo.Constraint(G, P, rule=logic)
    ups = {i: max(1, int(math.ceil(prm[i].min_up_h / dt))) for i in G}
    downs = {i: max(1, int(math.ceil(prm[i].min_down_h / dt))) for i in G}

    def min_up(m: object, i: int, t: int) -> object:
        return sum(m.v[i, s] for s in range(max(0, t - ups[i] + 1), t + 1)) <= m.u[i, t]

    def min_down(m: object, i: int, t: int) -> object:
        return sum(m.w[i, s] for s in range(max(0, t - downs[i] + 1), t + 1)) <= 1 - m.u[i, t]

    m.min_up = pyo.Constraint(G, P, rule=min_up)
    m.min_down = pyo.Constraint(G, P, rule=min_down)
    # Units that have not yet served their initial minimum time keep their state.
    for i in G:
        need = (ups[i] if prm[i].initial_on else downs[i]) - int(prm[i].initial_hours_in_state / dt)
        for t in range(max(0, min(need, T))):
            m.u[i, t].fix(u0[i])
    add_reserve(m, system, sc)
    m.first_stage_cost = pyo.Expression(
        expr=sum(prm[i].startup_cost_usd * m.v[i, t] + prm[i].shutdown_cost_usd * m.w[i, t]
                 + g.gen_c0_usd_per_h[i] * dt * m.u[i, t] for i in G for t in P)
    )


def add_reserve(m: object, system: UCSystem, sc: DayScenarios | None) -> None:
    """The reserve rule's rows (:func:`reserve_requirement_mw`) on ``m.u``; none without scenarios."""
    import pyomo.environ as pyo

    if sc is None:
        return
    share, n1 = reserve_requirement_mw(system, sc)
    g = system.grid
    G, P = range(g.n_gen), range(system.n_periods)
    pmax = [float(x) for x in g.gen_pmax_mw]
    m.reserve = pyo.Constraint(P, rule=lambda m, t: sum(pmax[i] * m.u[i, t] for i in G) >= float(share[t])
                               if share[t] > 0 else pyo.Constraint.Skip)
    m.reserve_n1 = pyo.Constraint(G, P, rule=lambda m, j, t: sum(pmax[i] * m.u[i, t] for i in G if i != j)
                                  >= float(n1[t]) if n1[t] > 0 else pyo.Constraint.Skip)


def read_first_stage(m: object, system: UCSystem) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The commitment, start-ups and shut-downs ``[gen, t]`` of ``m``'s loaded solution."""
    import pyomo.environ as pyo

    G, T = system.grid.n_gen, system.n_periods
    get = lambda var: np.array([[round(pyo.value(var[i, t])) for t in range(T)] for i in range(G)], dtype=float)  # noqa: E731
    return get(m.u), get(m.v), get(m.w)


def add_lp_block(m: object, b: object, s: ScenarioModel) -> object:
    """Scenario LP ``s`` as pyomo block ``b`` of model ``m`` with the commitment ``m.u`` as
    constraints: block bounds ``lo u <= x <= hi u``, ramp rows ``<= R + Pmax (1 - u)`` (see
    :class:`~carbon_cpn.optim.uc_subproblem.ScenarioModel`). Returns the block's cost over the
    day [$] (a linear expression)."""
    import pyomo.environ as pyo
    from pyomo.core.expr.numeric_expr import LinearExpression

    lp, ix = s.lp, s.index
    G, T, ncol = s.net.n_gen, s.n_periods, lp.n_cols
    lo, hi = lp.col_lo, lp.col_hi
    blk = ix.cols("blk")  # [t, blk]
    is_blk = np.zeros(ncol, dtype=bool)
    is_blk[blk.ravel()] = True
    bounds = {j: (None if not np.isfinite(lo[j]) else float(lo[j]), None if not np.isfinite(hi[j]) else float(hi[j]))
              for j in range(ncol)}
    for j in np.flatnonzero(is_blk):
        bounds[j] = (0.0, None)
    b.x = pyo.Var(range(ncol), bounds=lambda _b, j: bounds[j])
    xs = [b.x[j] for j in range(ncol)]
    gen_of, blk_lo, blk_hi = s.block_gen, s.block_lo_mw, s.block_hi_mw
    b.link = pyo.ConstraintList()
    for t in range(T):
        for q, j in enumerate(blk[t]):
            i = int(gen_of[q])
            b.link.add(xs[j] <= float(blk_hi[q]) * m.u[i, t])
            if blk_lo[q] > 0:
                b.link.add(xs[j] >= float(blk_lo[q]) * m.u[i, t])
    csr = lp.matrix().tocsr()
    rlo, rhi = lp.row_lo, lp.row_hi
    up_rows, dn_rows = ix.rows("ramp_up"), ix.rows("ramp_dn")
    ru, rd, pmax = s.ramp_up_mw, s.ramp_down_mw, s.pmax_mw
    ramp_rhs: dict[int, object] = {}
    for t in range(1, T):
        for i in range(G):
            ramp_rhs[int(up_rows[t, i])] = float(ru[i] + pmax[i]) - float(pmax[i]) * m.u[i, t - 1]
            ramp_rhs[int(dn_rows[t, i])] = float(rd[i] + pmax[i]) - float(pmax[i]) * m.u[i, t]
    b.rows = pyo.ConstraintList()
    for r_ in range(lp.n_rows):
        st, en = csr.indptr[r_], csr.indptr[r_ + 1]
        expr = LinearExpression(constant=0.0, linear_coefs=csr.data[st:en].tolist(),
                                linear_vars=[xs[j] for j in csr.indices[st:en]])
        if r_ in ramp_rhs:
            b.rows.add(expr <= ramp_rhs[r_])
        elif rlo[r_] == rhi[r_]:
            b.rows.add(expr == float(rlo[r_]))
        else:
            if np.isfinite(rlo[r_]):
                b.rows.add(expr >= float(rlo[r_]))
            if np.isfinite(rhi[r_]):
                b.rows.add(expr <= float(rhi[r_]))
    cost = lp.cost * s.period_h
    nz = np.flatnonzero(cost)
    return LinearExpression(constant=0.0, linear_coefs=cost[nz].tolist(), linear_vars=[xs[j] for j in nz])
