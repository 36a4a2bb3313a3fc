"""The second stage of the day-ahead unit commitment: one scenario's multi-period dispatch LP.

Assembled by the shared network-LP builder (:mod:`carbon_cpn.optim.network_lp`: tsco eq. 12
with the network of eqs. 5-6 in every period, batteries over time by eq. 2, ramping) as a
:class:`ScenarioModel`, and solved as a persistent highspy LP by :class:`ScenarioLP`; the first-stage commitment u[g, t] enters
only through bounds and right-hand sides, so a new commitment is a bound change and a warm
re-solve. :meth:`ScenarioLP.solve` returns the recourse cost Q(u) and its subgradient dQ/du,
from which the master builds an optimality cut

    theta_w >= Q_w(u^k) + sum_{g,t} dQ_w/du[g,t] (u[g,t] - u^k[g,t]).

Where u enters (per unit g, period t):

* every cost block of the unit has bounds [lo x u, hi x u] (Pmin block lo = hi = Pmin, the
  piecewise-linear segments 0 and their width): dQ/du += reduced cost x (hi or lo);
* ramping, tsco §III.B.1: p[t] - p[t-1] <= RU + Pmax (1 - u[t-1]) and
  p[t-1] - p[t] <= RD + Pmax (1 - u[t]) (a unit starting up or shutting down may jump):
  dQ/du += row dual x (-Pmax).

The LP value is convex in its bounds and right-hand sides, and those are affine in u, so the
cut is a valid supporting hyperplane of Q_w. Load shedding (VOLL) and over-generation slacks
at every node and free curtailment make the LP feasible for every commitment, so no
feasibility cuts are ever needed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import highspy
import numpy as np

from carbon_cpn.optim.highs_factory import new_highs
from carbon_cpn.optim.network_lp import (
    NetworkData,
    NetworkIndex,
    SparseLP,
    battery_dynamics,
    generation_costs,
    layout,
    line_limits,
    nodal_balance,
    ramping,
)
from carbon_cpn.optim.objective import ObjectivePrices, energy_price_usd_per_mwh
from carbon_cpn.optim.uc_system import DayScenarios, UCSystem

__all__ = ["ScenarioLP", "ScenarioModel", "SubproblemResult", "make_lps", "scenario_model"]


@dataclass(frozen=True)
class SubproblemResult:
    """Q_w(u) and its subgradient; dispatch read-back for the plan's summaries."""

    cost_usd: float
    grad: np.ndarray  # [gen, t] dQ/du
    gen_mw: np.ndarray  # [t, gen]
    soc_mwh: np.ndarray  # [t, bess] at the end of each period
    shed_mwh: float
    curtail_mwh: float
    emissions_kg: float


@dataclass(frozen=True, eq=False)
class ScenarioModel:
    """One scenario's multi-period dispatch LP without its commitment: ``lp`` and ``index`` as
    the builder made them, and what the commitment u[g, t] multiplies (module docstring):
    block ``j`` of period ``t`` lies in ``[block_lo_mw[j] u, block_hi_mw[j] u]``, and the ramp
    rows' right-hand sides are ``ramp_up_mw + pmax_mw (1 - u[t-1])`` and
    ``ramp_down_mw + pmax_mw (1 - u[t])``. Costs are per hour of each period."""

    lp: SparseLP
    index: NetworkIndex
    net: NetworkData
    period_h: float
    ramp_up_mw: np.ndarray  # [gen] per period
    ramp_down_mw: np.ndarray  # [gen] per period
    pmax_mw: np.ndarray  # [gen]
    res_avail_mw: np.ndarray  # [t, res]

    @property
    def n_periods(self) -> int:
        return self.index.n_periods

    @property
    def block_lo_mw(self) -> np.ndarray:
        """Lower bound of every cost block per unit of u, ``[gen x blk]``."""
        return self.net.block_lo_mw.ravel()

    @property
    def block_hi_mw(self) -> np.ndarray:
        """Upper bound of every cost block per unit of u, ``[gen x blk]``."""
        return self.net.block_hi_mw.ravel()

    @property
    def block_gen(self) -> np.ndarray:
        """Unit of every cost block, ``[gen x blk]``."""
        return np.repeat(np.arange(self.net.n_gen), self.net.blocks_per_gen)


def scenario_model(system: UCSystem, load_mw: np.ndarray, res_avail_mw: np.ndarray, *,
                   copper_plate: bool = False) -> ScenarioModel:
    """The second stage of ``system`` for load ``[t, bus]`` and renewables ``[t, res]``; with
    ``copper_plate`` its network-free relaxation (one node, no lines; see
    ``NetworkData.copper_plate``)."""
    g, dt = system.grid, system.period_h
    net = NetworkData.from_grid(g, system.n_segments)
    node_of_bus = g.bus_node
    if copper_plate:
        net = net.copper_plate()
        node_of_bus = np.zeros(g.n_bus, dtype=np.int64)
    T = load_mw.shape[0]
    node_load = np.stack([np.bincount(node_of_bus, weights=load_mw[t], minlength=net.n_node) for t in range(T)])
    ix = layout(net, T, soc=True, ramping=True)
    lp = SparseLP(ix.n_cols, ix.n_rows)
    nodal_balance(lp, net, ix, node_load, res_avail_mw=res_avail_mw, shed_cap_mw=np.maximum(node_load, 0.0))
    line_limits(lp, net, ix)
    battery_dynamics(lp, net, ix, dt, system.soc0(), hold_final_soc=True)
    ramping(lp, net, ix)
    # Cost blocks as in the real-time dispatch, plus the carbon price on emissions (tsco eq. 12).
    fuel = g.cost_blocks(system.n_segments)[0].ravel()
    offer = energy_price_usd_per_mwh(fuel, np.repeat(g.gen_emission_kg_per_mwh, net.blocks_per_gen),
                                     ObjectivePrices(system.carbon_price_usd_per_t, 0.0))
    generation_costs(lp, net, ix, offer)
    p = system.params
    return ScenarioModel(lp=lp, index=ix, net=net, period_h=dt,
                         ramp_up_mw=np.array([x.ramp_up_mw_per_h for x in p]) * dt,
                         ramp_down_mw=np.array([x.ramp_down_mw_per_h for x in p]) * dt,
                         pmax_mw=g.gen_pmax_mw, res_avail_mw=np.asarray(res_avail_mw))


def make_lps(system: UCSystem, scenarios: DayScenarios, which: Sequence[int]) -> dict[int, ScenarioLP]:
    """Persistent subproblems of the scenarios ``which``."""
    return {k: ScenarioLP(scenario_model(system, scenarios.load_mw[k], scenarios.res_avail_mw[k])) for k in which}


class ScenarioLP:
    """One scenario's T-period dispatch LP, built once, re-solved per commitment."""

    def __init__(self, model: ScenarioModel) -> None:
        self.model = model
        ix = model.index
        self.T = ix.n_periods
        self.ng = model.net.n_gen
        self.bpg = model.net.blocks_per_gen
        self.period_h = model.period_h
        h = new_highs()
        h.setOptionValue("presolve", "off")  # keep the basis between commitments
        h.setOptionValue("solver", "simplex")
        h.passModel(model.lp.to_highs())
        self._h = h
        self._cost = model.lp.cost
        self._blk_cols = ix.cols("blk").astype(np.int32)  # [t, blk]
        self._blk_gen = model.block_gen
        self._blk_lo, self._blk_hi = model.block_lo_mw, model.block_hi_mw
        self._ramp_up_rows = ix.rows("ramp_up")
        self._ramp_dn_rows = ix.rows("ramp_dn")
        self._ramp_up, self._ramp_dn, self._pmax = model.ramp_up_mw, model.ramp_down_mw, model.pmax_mw
        self._emis = model.net.gen_emission_kg_per_mwh
        self._soc_cols = ix.cols("soc")
        self._shed_cols = ix.cols("shed")
        self._res_cols = ix.cols("res")
        self._res_avail = model.res_avail_mw

    def solve(self, u: np.ndarray) -> SubproblemResult:
        """Q(u) for a commitment ``u`` [gen, t] in {0, 1} (fractional values are allowed)."""
        T, ng = self.T, self.ng
        u = np.asarray(u, dtype=float)
        ub = u.T[:, self._blk_gen]  # [t, blk]
        h = self._h
        flat = self._blk_cols.ravel()
        h.changeColsBounds(flat.size, flat, (self._blk_lo[None, :] * ub).ravel(), (self._blk_hi[None, :] * ub).ravel())
        up = self._ramp_up_rows[1:].ravel()
        dn = self._ramp_dn_rows[1:].ravel()
        if up.size:
            rhs_up = (self._ramp_up[None, :] + self._pmax[None, :] * (1.0 - u.T[:-1])).ravel()
            rhs_dn = (self._ramp_dn[None, :] + self._pmax[None, :] * (1.0 - u.T[1:])).ravel()
            h.changeRowsBounds(up.size, up.astype(np.int32), np.full(up.size, -highspy.kHighsInf), rhs_up)
            h.changeRowsBounds(dn.size, dn.astype(np.int32), np.full(dn.size, -highspy.kHighsInf), rhs_dn)
        h.run()
        if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            h.clearSolver()
            h.run()
            status = h.getModelStatus()
            if status != highspy.HighsModelStatus.kOptimal:
                raise RuntimeError(f"scenario LP: {h.modelStatusToString(status)} (slacks should make it always feasible)")
        sol = h.getSolution()
        x = np.asarray(sol.col_value)
        rc = np.asarray(sol.col_dual)
        y = np.asarray(sol.row_dual)
        # dQ/du from the dual objective: a block with negative reduced cost sits at its upper
        # bound hi x u, one with positive reduced cost at its lower bound lo x u; basic blocks
        # have zero reduced cost. (Any dual-feasible solution gives a valid cut.)
        xb = x[self._blk_cols]
        rcb = rc[self._blk_cols]
        coef = np.where(rcb < 0, rcb * self._blk_hi[None, :], rcb * self._blk_lo[None, :])
        grad = np.zeros((T, ng))
        np.add.at(grad, (slice(None), self._blk_gen), coef)
        if up.size:
            grad[:-1] += y[self._ramp_up_rows[1:]] * (-self._pmax[None, :])
            grad[1:] += y[self._ramp_dn_rows[1:]] * (-self._pmax[None, :])
        gen = (xb.reshape(T, ng, self.bpg)).sum(axis=2)
        soc = x[self._soc_cols] if self._soc_cols.size else np.zeros((T, 0))
        shed = float(x[self._shed_cols].sum()) * self.period_h
        curtail = float((self._res_avail - x[self._res_cols]).clip(min=0.0).sum()) * self.period_h
        return SubproblemResult(
            cost_usd=float(self._cost @ x) * self.period_h, grad=grad.T * self.period_h, gen_mw=gen, soc_mwh=soc,
            shed_mwh=shed, curtail_mwh=curtail, emissions_kg=float((gen @ self._emis).sum()) * self.period_h,
        )
