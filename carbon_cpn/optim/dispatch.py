"""Economic dispatch: the DC-OPF solved inside every grid interval (issue #2, tsco §III.B-C).

The B-theta LP (a QP in ``cost_model="quadratic"``) is built once in highspy from the shared
network-LP builder (:mod:`carbon_cpn.optim.network_lp`: one period, no SOC columns). Each
:meth:`EconomicDispatch.solve` only changes bounds - loads through the nodal balance rows,
renewable availability, battery limits and commitment through column bounds - and re-solves
from the previous optimal basis, which takes a fraction of a millisecond on case30.

Model (per interval of ``interval_h`` hours)::

    min  sum_g [C_g(p_g) + c_CO2 e_g p_g] + VOLL sum_i shed_i + pen sum_i over_i
         + sum_b value_b (ch_b * (-eta_c,b) + dis_b / eta_d,b)
    s.t. sum_{g at i} p_g + sum_{r at i} res_r + sum_{b at i} (dis_b - ch_b) + shed_i - over_i
             - sum_j Bbus[i, j] theta_j = load_i + Pbusinj_i                    (tsco eq. 5)
         -F_l <= b_l (theta_f(l) - theta_t(l) - shift_l) <= F_l                 (tsco eq. 6)
         u_g Pmin_g <= p_g <= u_g Pmax_g,   0 <= res_r <= avail_r
         0 <= ch_b <= min(Pch_b, (SOCmax_b - soc_b) / (eta_c,b dt))
         0 <= dis_b <= min(Pdis_b, (soc_b - SOCmin_b) eta_d,b / dt)           (tsco eq. 2)
         0 <= shed_i <= max(load_i, 0),  over_i >= 0,  theta_ref = 0

``C_g`` is piecewise linear (``"pwl"``, the default: the quadratic curve sampled at
``n_segments`` equal steps between Pmin and Pmax), linear (``"linear"``: c1 only) or quadratic
(``"quadratic"``: c1 P + c2 P^2 as a HiGHS QP, used to validate against pandapower). The no-load
cost c0 of committed units is a constant added to the reported cost. ``carbon_price_usd_per_t``
(``c_CO2``, default 0) adds the carbon price of each unit's emissions ``e_g`` to its offer, as a
carbon tax on generation does: the dispatch then minimizes fuel plus carbon cost, the LMP
includes the marginal unit's carbon cost, and ``cost_usd_per_h`` still reports fuel only.

Signals
-------
LMP [$/MWh]: the dual of bus i's balance row, d(objective)/d(load_i).

MCI [kg CO2/MWh]: the derivative of total emissions with respect to bus i's load at the optimal
basis. With basis matrix B, the basic variables move as dx_B = B^-1 e_i per unit of load at i,
so the emission change is e_B^T B^-1 e_i; one solve B^T y = e_B (``getBasisTransposeSolve``
with the basic variables' emission factors) gives y_i for every bus at once. It is the
one-sided derivative in the direction in which the current basis stays feasible (a load
increase, except at degenerate points).

Under congestion MCI is *not* bounded by the units' factors. Serving one more MW at a bus
behind a binding line may need one unit to rise while another falls (to respect the line
flow); the marginal emissions are then a weighted difference of factors, e.g.
``2.1 x 935 - 1.1 x 405`` kg/MWh, and can be negative (a clean unit ramps up while a dirty
one backs down) or above every unit's factor. This is the correct locational marginal
emission rate, the carbon analogue of an LMP above every offer price. Where load is being
shed the marginal "unit" is shedding, so MCI is 0 and LMP equals VOLL. MCI counts direct
(stack) emissions of the interval: where a battery or a curtailed renewable is on the margin
MCI is 0, although the battery's stored energy came from earlier generation.
"""

from __future__ import annotations

import math
from typing import Literal

import highspy
import numpy as np

from carbon_cpn.optim.dispatch_result import DispatchInputError, DispatchResult, check_inputs, failed_result
from carbon_cpn.optim.grid import BatteryUnit, GridModel, GridModelError, RenewableUnit
from carbon_cpn.optim.highs_factory import new_highs
from carbon_cpn.optim.marginal_emissions import mci_from_basis, mci_from_kkt
from carbon_cpn.optim.network_lp import (
    NetworkData,
    NetworkIndex,
    SparseLP,
    battery_limits,
    generation_costs,
    layout,
    line_limits,
    nodal_balance,
)
from carbon_cpn.optim.objective import ObjectivePrices, energy_price_usd_per_mwh

__all__ = [
    "BatteryUnit",
    "DispatchInputError",
    "DispatchResult",
    "EconomicDispatch",
    "GridModel",
    "GridModelError",
    "RenewableUnit",
]

CostModel = Literal["pwl", "linear", "quadratic"]
_COST_MODELS = ("pwl", "linear", "quadratic")


class EconomicDispatch:
    """A persistent highspy model of the DC economic dispatch of ``grid``.

    Build once, then call :meth:`solve` for every interval; only bounds change between calls.
    """

    def __init__(
        self,
        grid: GridModel,
        cost_model: CostModel = "pwl",
        *,
        n_segments: int = 4,
        interval_h: float = 0.25,
        carbon_price_usd_per_t: float = 0.0,
    ) -> None:
        if cost_model not in _COST_MODELS:
            raise DispatchInputError(f"cost_model={cost_model!r}: expected one of {_COST_MODELS}")
        if not (isinstance(n_segments, int) and n_segments >= 1):
            raise DispatchInputError(f"n_segments={n_segments!r}: expected an integer >= 1")
        if not (isinstance(interval_h, (int, float)) and math.isfinite(interval_h) and interval_h > 0):
            raise DispatchInputError(f"interval_h={interval_h!r}: expected a number of hours > 0")
        if not (isinstance(carbon_price_usd_per_t, (int, float)) and math.isfinite(carbon_price_usd_per_t)
                and carbon_price_usd_per_t >= 0):
            raise DispatchInputError(f"carbon_price_usd_per_t={carbon_price_usd_per_t!r}: expected a price >= 0 $/t")
        self.carbon_price_usd_per_t = float(carbon_price_usd_per_t)
        self.grid = grid
        self.cost_model: CostModel = cost_model
        self.n_segments = n_segments if cost_model == "pwl" else 1
        self.interval_h = float(interval_h)
        self._build()

    # ------------------------------------------------------------------ build
    def _build(self) -> None:
        g = self.grid
        pwl = self.cost_model == "pwl"
        net = NetworkData.from_grid(g, self.n_segments if pwl else None)
        ix = layout(net, 1, soc=False, ramping=False)
        self._net, self._ix = net, ix
        ng, bpg = g.n_gen, net.blocks_per_gen
        self._blocks_per_gen = bpg
        fuel = g.cost_blocks(self.n_segments)[0].ravel() if pwl else g.gen_c1_usd_per_mwh.astype(float)
        blk_emis = np.repeat(g.gen_emission_kg_per_mwh, bpg)
        lp = SparseLP(ix.n_cols, ix.n_rows)
        # Angles are free in the LP. HiGHS's active-set QP solver can stall on free columns
        # with no curvature (it hit its iteration limit on case57), so in quadratic mode they
        # get a box of +-1000 rad, far outside any physical angle, which it handles at once.
        nodal_balance(lp, net, ix, theta_box_rad=1e3 if self.cost_model == "quadratic" else highspy.kHighsInf)
        line_limits(lp, net, ix)
        # The LP's offers add the carbon price to every unit's fuel cost (a carbon tax on
        # generation); cost_usd_per_h reports the fuel part.
        offer = energy_price_usd_per_mwh(fuel, blk_emis, ObjectivePrices(self.carbon_price_usd_per_t, 0.0))
        generation_costs(lp, net, ix, offer, storage_value=True)
        # Block bounds are set by every solve (commitment); the template has every unit on.
        self._gen_lo_on = lp.col_lo[ix.cols("blk", 0)].copy()  # the Pmin block is must-run
        self._gen_hi_on = lp.col_hi[ix.cols("blk", 0)].copy()
        lp.col_lo[ix.cols("blk", 0)], lp.col_hi[ix.cols("blk", 0)] = 0.0, highspy.kHighsInf
        a = lp.matrix()
        self._a = a
        self._cost = lp.cost
        self._emis = lp.emission
        self._blk = ix.cols("blk", 0)
        self._s_blk, self._s_res, self._s_ch = ix.col_slice("blk"), ix.col_slice("res"), ix.col_slice("ch")
        self._s_dis, self._s_shed, self._s_over = ix.col_slice("dis"), ix.col_slice("shed"), ix.col_slice("over")
        self._fuel_cost_base = fuel.copy()
        self._fuel_cost = self._fuel_cost_base.copy()
        self._gen_cost_base = lp.cost[self._blk].copy()
        self._cost_key: tuple[bytes, float] | None = None  # which fast-start adder is in the model

        h = new_highs()
        h.setOptionValue("presolve", "off")  # keeps the basis for warm starts and MCI
        if self.cost_model != "quadratic":
            h.setOptionValue("solver", "simplex")
        else:
            h.setOptionValue("qp_iteration_limit", 100_000)  # a stall returns a status, not a hang
        status = h.passModel(lp.to_highs(a))
        if status != highspy.HighsStatus.kOk:
            raise GridModelError(f"HiGHS rejected the dispatch model (status {status})")
        self._hess = np.zeros(ix.n_cols)
        if self.cost_model == "quadratic":
            self._hess[self._blk] = 2.0 * g.gen_c2_usd_per_mw2h  # HiGHS minimizes c'x + 1/2 x'Qx
            nz = np.flatnonzero(self._hess)
            start = np.zeros(ix.n_cols + 1, dtype=np.int32)
            start[nz + 1] = 1
            start = np.cumsum(start).astype(np.int32)
            h.passHessian(ix.n_cols, nz.size, 1, start, nz.astype(np.int32), self._hess[nz])
        self._h = h
        self._all_on = np.ones(ng)
        self._node_rows = ix.rows("balance", 0).astype(np.int32)
        # Every bound a solve sets lies in the contiguous columns blk..shed.
        self._var_cols = np.arange(self._blk[0], ix.cols("shed", 0)[-1] + 1, dtype=np.int32)
        self._col_lo = np.zeros(self._var_cols.size)
        self._col_hi = np.zeros(self._var_cols.size)
        self._col_lo[: self._gen_lo_on.size] = self._gen_lo_on
        self._block_to_gen = np.kron(np.eye(ng), np.ones((bpg, 1)))  # [gen block, gen]
        self._res_cap = np.array([r.capacity_mw for r in g.renewables])
        self._bess_cap = np.array([b.energy_mwh for b in g.batteries])
        # Representative bus of each node (its first bus), for node quantities with no load.
        self._node_first_bus = np.full(g.n_node, -1, dtype=np.int64)
        self._node_first_bus[g.bus_node[::-1]] = np.arange(g.n_bus)[::-1]

    @property
    def index(self) -> NetworkIndex:
        """Where the model's named column and row blocks are (one period)."""
        return self._ix

    @property
    def n_cols(self) -> int:
        return self._ix.n_cols

    @property
    def n_rows(self) -> int:
        return self._ix.n_rows

    def highs_model(self) -> highspy.HighsLp:
        """The model as HiGHS holds it now (bounds of the last solve)."""
        return self._h.getLp()

    def marginal_emissions(self) -> np.ndarray:
        """MCI [kg/MWh] at every node from the last LP solve's optimal basis."""
        return mci_from_basis(self._h, self._emis, self.grid.n_node)

    def reset_warm_start(self) -> None:
        """Forget the last basis. Re-solves start from the previous optimal basis, and where
        the optimum is not unique (degenerate dispatch, e.g. equally cheap curtailment at two
        farms) the basis decides which optimum is returned; an episode that must be
        reproducible starts from a cleared solver."""
        self._h.clearSolver()

    # ------------------------------------------------------------------ solve
    def solve(
        self,
        load_mw: np.ndarray,
        res_avail_mw: np.ndarray | None = None,
        bess_soc_mwh: np.ndarray | None = None,
        committed: np.ndarray | None = None,
        *,
        fast_start: np.ndarray | None = None,
        fast_start_usd_per_mwh: float = 0.0,
        compute_mci: bool = True,
    ) -> DispatchResult:
        """Dispatch one interval.

        Args:
            load_mw: demand at every bus [MW], ``[bus]`` in ``net.bus.index`` order.
            res_avail_mw: renewable availability [MW], ``[res]``; default: nameplate.
            bess_soc_mwh: battery state of charge at the start of the interval [MWh],
                ``[bess]``; default: the middle of each battery's SOC band.
            committed: which thermal units are on, ``[gen]`` bool; default: all. An
                uncommitted unit produces 0; a committed one at least Pmin.
            fast_start: which units can start within the interval when uncommitted (gas
                turbines), ``[gen]`` bool; default: none. An uncommitted fast-start unit is
                dispatchable from 0 to Pmax (its Pmin relaxed, as in the fast-start pricing
                of US real-time markets) at its marginal cost plus ``fast_start_usd_per_mwh``
                (its start-up and no-load cost spread over its energy, which makes it the
                last resort before shedding); ``started`` flags the units that produce.
            fast_start_usd_per_mwh: that adder [$/MWh], >= 0; it is part of ``cost_usd_per_h``.
            compute_mci: skip the MCI solve when False (``mci_kg_per_mwh`` is then NaN).
        """
        g = self.grid
        load, avail, soc, on, quick = check_inputs(
            g, load_mw, res_avail_mw, bess_soc_mwh, committed, fast_start, fast_start_usd_per_mwh,
            default_avail=self._res_cap, default_soc=0.5 * (self._net.bess_soc_min_mwh + self._net.bess_soc_max_mwh),
            bess_cap_mwh=self._bess_cap, all_on=self._all_on)
        # Generator column costs: the base offers, plus the adder on started fast-start units.
        adder = 0.0 if quick is None else fast_start_usd_per_mwh
        key = None if quick is None or adder == 0.0 else (quick.tobytes(), adder)
        if key != self._cost_key:
            gc = self._gen_cost_base.copy()
            fc = self._fuel_cost_base.copy()
            if key is not None:
                gc += adder * np.repeat(quick, self._blocks_per_gen)
                fc += adder * np.repeat(quick, self._blocks_per_gen)
            self._cost[self._s_blk] = gc
            self._fuel_cost = fc
            self._h.changeColsCost(gc.size, self._blk.astype(np.int32), gc)
            self._cost_key = key

        dt = self.interval_h
        node_load = np.bincount(g.bus_node, weights=load, minlength=g.n_node)
        rhs = node_load + self._net.pbusinj_mw

        # Column bounds gen..shed, written into persistent buffers and passed in one call.
        lo, hi = self._col_lo, self._col_hi
        ngb = self._gen_hi_on.size
        if committed is None:
            hi[:ngb] = self._gen_hi_on
            lo[:ngb] = self._gen_lo_on
        else:
            on_blocks = np.repeat(on, self._blocks_per_gen)
            avail_blocks = on_blocks if quick is None else np.maximum(on_blocks, np.repeat(quick, self._blocks_per_gen))
            hi[:ngb] = self._gen_hi_on * avail_blocks
            lo[:ngb] = self._gen_lo_on * on_blocks
        o = ngb + g.n_res
        hi[ngb:o] = avail
        nb = g.n_bess
        if nb:
            hi[o : o + nb], hi[o + nb : o + 2 * nb] = battery_limits(self._net, soc, dt)
        hi[o + 2 * nb :] = np.maximum(node_load, 0.0)

        h = self._h
        h.changeRowsBounds(g.n_node, self._node_rows, rhs, rhs)
        h.changeColsBounds(self._var_cols.size, self._var_cols, lo, hi)
        h.run()
        ms = h.getModelStatus()
        if ms != highspy.HighsModelStatus.kOptimal:
            # A stale basis can trip the simplex; retry once from scratch before reporting.
            h.clearSolver()
            h.run()
            ms = h.getModelStatus()
            if ms != highspy.HighsModelStatus.kOptimal:
                return failed_result(g, h.modelStatusToString(ms))
        return self._read(h, load, avail, soc, on, compute_mci, quick)

    # ------------------------------------------------------------------ read back
    def _read(
        self, h: highspy.Highs, load: np.ndarray, avail: np.ndarray, soc: np.ndarray, on: np.ndarray, compute_mci: bool,
        quick: np.ndarray | None = None,
    ) -> DispatchResult:
        g = self.grid
        sol = h.getSolution()
        x = np.asarray(sol.col_value)
        y = np.asarray(sol.row_dual)
        nn = g.n_node
        theta = x[:nn]
        gen = x[self._s_blk]
        if self._blocks_per_gen > 1:
            gen = gen @ self._block_to_gen
        res = x[self._s_res]
        ch = x[self._s_ch]
        dis = x[self._s_dis]
        shed_node = x[self._s_shed]
        over_node = x[self._s_over]
        flow = g.branch_b_mw_per_rad * (theta[g.branch_from] - theta[g.branch_to] - g.branch_shift_rad)
        lmp_node = y[:nn]
        if compute_mci:
            if self.cost_model != "quadratic":
                mci_node = mci_from_basis(h, self._emis, nn)
            else:
                ref = int(self._ix.cols("theta", 0)[g.ref_node])
                mci_node = mci_from_kkt(h, self._a, x, self._hess, self._emis, ref, nn)
        else:
            mci_node = np.full(nn, np.nan)
        # Shedding and over-generation are per node; report them at the node's first bus with
        # load (the node's first bus when none has load), so nothing is lost or counted twice.
        if x[self._s_shed.start :].max() > 0.0:
            shed = self._node_to_bus(shed_node, load)
            over = self._node_to_bus(over_node, load)
        else:
            shed, over = np.zeros(g.n_bus), np.zeros(g.n_bus)
        gen_cost_model = float(self._fuel_cost @ x[self._s_blk])
        if self.cost_model == "quadratic":
            gen_cost_model += float(g.gen_c2_usd_per_mw2h @ gen**2)
        # A started fast-start unit's no-load cost is in its adder, not in c0.
        started = np.zeros(g.n_gen, dtype=bool) if quick is None else quick & (gen > 1e-6)
        gen_cost_model += float(g.gen_c0_usd_per_h @ on)
        xg = x[self._s_blk]
        rest = slice(self._s_res.start, None)
        objective = (gen_cost_model + float((self._cost[self._s_blk] - self._fuel_cost) @ xg)
                     + float(self._cost[rest] @ x[rest]))
        net = self._net
        soc_end = (soc + (net.bess_eta_charge * ch - dis / np.maximum(net.bess_eta_discharge, 1e-12)) * self.interval_h
                   if g.n_bess else soc)
        return DispatchResult(
            status="optimal",
            gen_mw=gen,
            res_used_mw=res,
            curtail_mw=np.maximum(avail - res, 0.0),
            bess_charge_mw=ch,
            bess_discharge_mw=dis,
            bess_soc_end_mwh=soc_end,
            shed_mw=shed,
            overgen_mw=over,
            line_flow_mw=flow,
            lmp_usd_per_mwh=lmp_node[g.bus_node],
            mci_kg_per_mwh=mci_node[g.bus_node],
            cost_usd_per_h=gen_cost_model,
            shed_cost_usd_per_h=float(self._cost[self._s_shed] @ shed_node),
            emissions_kg_per_h=float(g.gen_emission_kg_per_mwh @ gen),
            objective_usd_per_h=objective,
            started=started,
        )

    def _node_to_bus(self, per_node: np.ndarray, load: np.ndarray) -> np.ndarray:
        """Spread a per-node quantity over the node's buses in proportion to their load (to
        the node's first bus where it has none), so nothing is lost or counted twice."""
        g = self.grid
        pos = np.maximum(load, 0.0)
        node_pos = np.bincount(g.bus_node, weights=pos, minlength=g.n_node)[g.bus_node]
        is_first = self._node_first_bus[g.bus_node] == np.arange(g.n_bus)
        share = np.where(node_pos > 0, pos / np.where(node_pos > 0, node_pos, 1.0), is_first.astype(float))
        return per_node[g.bus_node] * share

