"""The second stage of the day-ahead unit commitment: one scenario's multi-period dispatch LP.

Built once per scenario as a persistent highspy LP (tsco eq. 12 with the network of eqs. 5-6
in every period, batteries over time by eq. 2); the first-stage commitment u[g, t] enters
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

from dataclasses import dataclass

import highspy
import numpy as np
import scipy.sparse as sp

from carbon_cpn.optim.grid import GridModel
from carbon_cpn.optim.highs_factory import new_highs


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


class ScenarioLP:
    """One scenario's 24-period (or T-period) dispatch LP, built once, re-solved per commitment."""

    def __init__(
        self,
        grid: GridModel,
        load_mw: np.ndarray,  # [t, bus]
        res_avail_mw: np.ndarray,  # [t, res]
        soc0_mwh: np.ndarray,  # [bess]
        ramp_up_mw: np.ndarray,  # [gen] per period
        ramp_down_mw: np.ndarray,  # [gen] per period
        period_h: float,
        carbon_price_usd_per_t: float,
        n_segments: int = 4,
    ) -> None:
        g = grid
        T = load_mw.shape[0]
        nn, ng, nr, nb = g.n_node, g.n_gen, g.n_res, g.n_bess
        k = n_segments
        bpg = k + 1
        self.grid, self.T, self.bpg, self.period_h = g, T, bpg, period_h
        # Column layout per period: theta | blocks | res | ch | dis | soc | shed | over.
        off = {}
        o = 0
        for name, size in (("theta", nn), ("blk", ng * bpg), ("res", nr), ("ch", nb), ("dis", nb), ("soc", nb),
                           ("shed", nn), ("over", nn)):
            off[name] = o
            o += size
        w = o  # columns per period
        ncol = w * T
        self._off, self._w = off, w

        def col(name: str, t: int, i: np.ndarray | int = 0) -> np.ndarray:
            return t * w + off[name] + np.asarray(i)

        # Cost blocks as in the real-time dispatch, plus the carbon price on emissions (tsco eq. 12).
        blk_cost, blk_lo, blk_hi = g.cost_blocks(k)
        blk_cost = blk_cost + carbon_price_usd_per_t / 1000.0 * g.gen_emission_kg_per_mwh[:, None]
        self.blk_lo = blk_lo.ravel()  # per unit of u
        self.blk_hi = blk_hi.ravel()
        blk_gen = np.repeat(np.arange(ng), bpg)

        cost = np.zeros(ncol)
        lo = np.zeros(ncol)
        hi = np.full(ncol, highspy.kHighsInf)
        eta_c = np.array([b.eta_charge for b in g.batteries])
        eta_d = np.array([b.eta_discharge for b in g.batteries])
        p_b = np.array([b.power_mw for b in g.batteries])
        smin = np.array([b.soc_min_mwh for b in g.batteries])
        smax = np.array([b.soc_max_mwh for b in g.batteries])
        node_load = np.stack([np.bincount(g.bus_node, weights=load_mw[t], minlength=nn) for t in range(T)])

        rows, cols, vals = [], [], []
        row_lo, row_hi = [], []
        r = 0
        dc = g.dc_matrices()
        pfinj, pbusinj, bbus, rated = dc.pfinj, dc.pbusinj, dc.bbus, dc.rated
        bfr = dc.bf[rated].tocoo()
        gen_node = g.bus_node[g.gen_bus]
        self._ramp_up_rows = np.zeros((T, ng), dtype=np.int64) - 1
        self._ramp_dn_rows = np.zeros((T, ng), dtype=np.int64) - 1
        self._balance_rows = np.zeros((T, nn), dtype=np.int64)
        for t in range(T):
            ci = lambda name, i=0: col(name, t, i)  # noqa: E731
            theta = ci("theta", np.arange(nn))
            lo[theta], hi[theta] = -highspy.kHighsInf, highspy.kHighsInf
            lo[ci("theta", g.ref_node)] = hi[ci("theta", g.ref_node)] = 0.0
            blk = ci("blk", np.arange(ng * bpg))
            cost[blk] = blk_cost.ravel()
            resc = ci("res", np.arange(nr))
            hi[resc] = res_avail_mw[t]
            hi[ci("ch", np.arange(nb))] = p_b
            hi[ci("dis", np.arange(nb))] = p_b
            socc = ci("soc", np.arange(nb))
            lo[socc], hi[socc] = smin, smax
            shed = ci("shed", np.arange(nn))
            hi[shed] = np.maximum(node_load[t], 0.0)
            cost[shed] = g.voll_usd_per_mwh
            over = ci("over", np.arange(nn))
            cost[over] = g.overgen_penalty_usd_per_mwh
            # Nodal balance (tsco eq. 5).
            bal = r + np.arange(nn)
            self._balance_rows[t] = bal
            for cset, nodes, sign in ((blk, np.repeat(gen_node, bpg), 1.0), (resc, g.bus_node[g.res_bus], 1.0),
                                      (ci("ch", np.arange(nb)), g.bus_node[g.bess_bus], -1.0),
                                      (ci("dis", np.arange(nb)), g.bus_node[g.bess_bus], 1.0),
                                      (shed, np.arange(nn), 1.0), (over, np.arange(nn), -1.0)):
                rows.append(r + nodes)
                cols.append(cset)
                vals.append(np.full(cset.size, sign))
            rows.append(r + bbus.row)
            cols.append(theta[bbus.col])
            vals.append(-bbus.data)
            rhs = node_load[t] + pbusinj
            row_lo.append(rhs)
            row_hi.append(rhs)
            r += nn
            # Line limits (tsco eq. 6).
            rows.append(r + bfr.row)
            cols.append(theta[bfr.col])
            vals.append(bfr.data)
            row_lo.append(-g.branch_rating_mw[rated] - pfinj[rated])
            row_hi.append(g.branch_rating_mw[rated] - pfinj[rated])
            r += rated.size
            # Battery SOC dynamics (tsco eq. 2): soc_t - soc_{t-1} - eta_c dt ch + dt/eta_d dis = 0.
            if nb:
                idx = np.arange(nb)
                rows += [r + idx, r + idx, r + idx]
                cols += [socc, ci("ch", idx), ci("dis", idx)]
                vals += [np.ones(nb), -eta_c * period_h, period_h / eta_d]
                if t > 0:
                    rows.append(r + idx)
                    cols.append(col("soc", t - 1, idx))
                    vals.append(-np.ones(nb))
                    row_lo.append(np.zeros(nb))
                    row_hi.append(np.zeros(nb))
                else:
                    row_lo.append(soc0_mwh.astype(float))
                    row_hi.append(soc0_mwh.astype(float))
                r += nb
            # Ramping between t-1 and t; the rhs carries the commitment (set in solve()).
            if t > 0:
                for direction, store in ((1.0, self._ramp_up_rows), (-1.0, self._ramp_dn_rows)):
                    rr = r + np.arange(ng)
                    store[t] = rr
                    rows += [rr[blk_gen], rr[blk_gen]]
                    cols += [blk, col("blk", t - 1, np.arange(ng * bpg))]
                    vals += [np.full(blk.size, direction), np.full(blk.size, -direction)]
                    row_lo.append(np.full(ng, -highspy.kHighsInf))
                    row_hi.append(np.zeros(ng))  # placeholder
                    r += ng
        # Batteries end the day no emptier than they started (no free energy from storage).
        last_soc = col("soc", T - 1, np.arange(nb))
        lo[last_soc] = np.maximum(smin, np.minimum(soc0_mwh, smax))

        a = sp.csc_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(r, ncol))
        a.sum_duplicates()
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = ncol, r
        lp.col_cost_, lp.col_lower_, lp.col_upper_ = cost, lo, hi
        lp.row_lower_, lp.row_upper_ = np.concatenate(row_lo), np.concatenate(row_hi)
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = a.indptr.astype(np.int32)
        lp.a_matrix_.index_ = a.indices.astype(np.int32)
        lp.a_matrix_.value_ = a.data
        h = new_highs()
        h.setOptionValue("presolve", "off")  # keep the basis between commitments
        h.setOptionValue("solver", "simplex")
        h.passModel(lp)
        self._h = h
        self._cost = cost
        self._blk_cols = np.stack([col("blk", t, np.arange(ng * bpg)) for t in range(T)]).astype(np.int32)  # [t, blk]
        self._blk_gen = blk_gen
        self._ramp_up = ramp_up_mw
        self._ramp_dn = ramp_down_mw
        self._pmax = g.gen_pmax_mw
        self._emis = g.gen_emission_kg_per_mwh
        self._soc_cols = np.stack([col("soc", t, np.arange(nb)) for t in range(T)]) if nb else np.zeros((T, 0), int)
        self._shed_cols = np.stack([col("shed", t, np.arange(nn)) for t in range(T)])
        self._res_cols = np.stack([col("res", t, np.arange(nr)) for t in range(T)]) if nr else np.zeros((T, 0), int)
        self._res_avail = res_avail_mw

    def solve(self, u: np.ndarray) -> SubproblemResult:
        """Q(u) for a commitment ``u`` [gen, t] in {0, 1} (fractional values are allowed)."""
        T, ng = self.T, self.grid.n_gen
        u = np.asarray(u, dtype=float)
        ub = u.T[:, self._blk_gen]  # [t, blk]
        h = self._h
        flat = self._blk_cols.ravel()
        h.changeColsBounds(flat.size, flat, (self.blk_lo[None, :] * ub).ravel(), (self.blk_hi[None, :] * ub).ravel())
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
        coef = np.where(rcb < 0, rcb * self.blk_hi[None, :], rcb * self.blk_lo[None, :])
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
