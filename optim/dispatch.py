"""Economic dispatch: the DC-OPF solved inside every grid interval (issue #2, tsco §III.B-C).

The B-theta LP (a QP in ``cost_model="quadratic"``) is built once in highspy. Each
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
from dataclasses import dataclass
from typing import Literal

import highspy
import numpy as np
import scipy.sparse as sp

from carbon_cpn.optim.grid import BatteryUnit, GridModel, GridModelError, RenewableUnit
from carbon_cpn.optim.highs_factory import new_highs

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


class DispatchInputError(ValueError):
    """Input to :meth:`EconomicDispatch.solve` of the wrong shape, sign or value."""


@dataclass(frozen=True)
class DispatchResult:
    """One interval's dispatch. Arrays are labelled by their axis; MW are interval averages."""

    #: "optimal", or HiGHS's model status text when the solve failed (arrays are then NaN).
    status: str
    #: Thermal unit output [MW], ``[gen]``.
    gen_mw: np.ndarray
    #: Renewable output used [MW], ``[res]``.
    res_used_mw: np.ndarray
    #: Renewable availability not used [MW], ``[res]``.
    curtail_mw: np.ndarray
    #: Battery charging power drawn from the grid [MW], ``[bess]``.
    bess_charge_mw: np.ndarray
    #: Battery discharging power delivered to the grid [MW], ``[bess]``.
    bess_discharge_mw: np.ndarray
    #: Battery state of charge at the end of the interval [MWh], ``[bess]``.
    bess_soc_end_mwh: np.ndarray
    #: Load not served [MW], ``[bus]``.
    shed_mw: np.ndarray
    #: Generation no load could absorb (must-run output) [MW], ``[bus]``.
    overgen_mw: np.ndarray
    #: Active power flow, positive from the branch's from-end [MW], ``[branch]``.
    line_flow_mw: np.ndarray
    #: Locational marginal price [$/MWh], ``[bus]``.
    lmp_usd_per_mwh: np.ndarray
    #: Marginal carbon intensity [kg CO2/MWh], ``[bus]``.
    mci_kg_per_mwh: np.ndarray
    #: Fuel cost of the thermal units under the active cost model, no-load cost included [$/h].
    cost_usd_per_h: float
    #: Value of lost load paid for shedding [$/h].
    shed_cost_usd_per_h: float
    #: CO2 emissions of the thermal units [kg/h].
    emissions_kg_per_h: float
    #: The LP/QP objective [$/h] (fuel, carbon, shedding, over-generation and storage-value terms).
    objective_usd_per_h: float
    #: Uncommitted fast-start units the dispatch started for this interval, ``[gen]`` bool
    #: (see ``fast_start`` of :meth:`EconomicDispatch.solve`).
    started: np.ndarray | None = None

    @property
    def ok(self) -> bool:
        return self.status == "optimal"


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
        nn, ng, nr, nb = g.n_node, g.n_gen, g.n_res, g.n_bess
        k = self.n_segments
        # Column layout: theta | gen blocks | res | charge | discharge | shed | over.
        blocks_per_gen = k + 1 if self.cost_model == "pwl" else 1
        self._c_theta = 0
        self._c_gen = nn
        self._c_res = self._c_gen + ng * blocks_per_gen
        self._c_ch = self._c_res + nr
        self._c_dis = self._c_ch + nb
        self._c_shed = self._c_dis + nb
        self._c_over = self._c_shed + nn
        ncol = self._c_over + nn
        self._blocks_per_gen = blocks_per_gen

        # Node of every column that injects into a balance row, and its sign.
        gen_node = g.bus_node[g.gen_bus]
        res_node = g.bus_node[g.res_bus] if nr else np.zeros(0, dtype=np.int64)
        bess_node = g.bus_node[g.bess_bus] if nb else np.zeros(0, dtype=np.int64)
        inj_cols = np.concatenate(
            [
                np.arange(self._c_gen, self._c_res),
                np.arange(self._c_res, self._c_ch),
                np.arange(self._c_ch, self._c_dis),
                np.arange(self._c_dis, self._c_shed),
                np.arange(self._c_shed, self._c_over),
                np.arange(self._c_over, ncol),
            ]
        )
        inj_rows = np.concatenate(
            [np.repeat(gen_node, blocks_per_gen), res_node, bess_node, bess_node, np.arange(nn), np.arange(nn)]
        )
        inj_vals = np.concatenate(
            [np.ones(ng * blocks_per_gen + nr), -np.ones(nb), np.ones(nb), np.ones(nn), -np.ones(nn)]
        )

        # The DC matrices (tsco eqs. 5-6).
        dc = g.dc_matrices()
        self._pfinj, self._pbusinj, bbus, rated = dc.pfinj, dc.pbusinj, dc.bbus, dc.rated
        self._rated = rated
        bf_rated = dc.bf[rated].tocoo()

        rows = np.concatenate([inj_rows, bbus.row, nn + bf_rated.row])
        cols = np.concatenate([inj_cols, bbus.col + self._c_theta, bf_rated.col + self._c_theta])
        vals = np.concatenate([inj_vals, -bbus.data, bf_rated.data])
        nrow = nn + rated.size
        a = sp.csc_matrix((vals, (rows, cols)), shape=(nrow, ncol))
        a.sum_duplicates()

        # Costs and emissions per column.
        cost = np.zeros(ncol)
        emis = np.zeros(ncol)
        gcols = np.arange(self._c_gen, self._c_res)
        emis[gcols] = np.repeat(g.gen_emission_kg_per_mwh, blocks_per_gen)
        if self.cost_model == "pwl":
            block_cost, block_lo, block_hi = g.cost_blocks(k)
            cost[gcols] = block_cost.ravel()
        else:
            cost[gcols] = g.gen_c1_usd_per_mwh
        eta_c = np.array([b.eta_charge for b in g.batteries])
        eta_d = np.array([b.eta_discharge for b in g.batteries])
        value = np.array([b.value_usd_per_mwh for b in g.batteries])
        cost[self._c_ch : self._c_dis] = -value * eta_c
        cost[self._c_dis : self._c_shed] = value / np.maximum(eta_d, 1e-12)
        cost[self._c_shed : self._c_over] = g.voll_usd_per_mwh
        cost[self._c_over :] = g.overgen_penalty_usd_per_mwh
        # Fuel cost of the generator columns (reported as cost_usd_per_h); the LP's cost adds the
        # carbon price to every unit's offer (a carbon tax on generation).
        self._fuel_cost_base = cost[self._c_gen : self._c_res].copy()
        self._fuel_cost = self._fuel_cost_base.copy()
        cost[gcols] += self.carbon_price_usd_per_t * emis[gcols] / 1000.0
        self._cost = cost
        self._gen_cost_base = cost[self._c_gen : self._c_res].copy()
        self._cost_key: tuple[bytes, float] | None = None  # which fast-start adder is in the model
        self._emis = emis
        self._eta_c, self._eta_d = eta_c, eta_d
        self._soc_min = np.array([b.soc_min_mwh for b in g.batteries])
        self._soc_max = np.array([b.soc_max_mwh for b in g.batteries])
        self._p_bess = np.array([b.power_mw for b in g.batteries])
        self._res_cap = np.array([r.capacity_mw for r in g.renewables])

        inf = highspy.kHighsInf
        lower = np.zeros(ncol)
        upper = np.full(ncol, inf)
        # Angles are free in the LP. HiGHS's active-set QP solver can stall on free columns
        # with no curvature (it hit its iteration limit on case57), so in quadratic mode they
        # get a box of +-1000 rad, far outside any physical angle, which it handles at once.
        theta_box = 1e3 if self.cost_model == "quadratic" else inf
        lower[:nn] = -theta_box
        upper[:nn] = theta_box
        lower[self._c_theta + g.ref_node] = upper[self._c_theta + g.ref_node] = 0.0
        row_lo = np.zeros(nrow)
        row_hi = np.zeros(nrow)
        row_lo[nn:] = -g.branch_rating_mw[rated] - self._pfinj[rated]
        row_hi[nn:] = g.branch_rating_mw[rated] - self._pfinj[rated]

        h = new_highs()
        h.setOptionValue("presolve", "off")  # keeps the basis for warm starts and MCI
        if self.cost_model != "quadratic":
            h.setOptionValue("solver", "simplex")
        else:
            h.setOptionValue("qp_iteration_limit", 100_000)  # a stall returns a status, not a hang
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = ncol, nrow
        lp.col_cost_, lp.col_lower_, lp.col_upper_ = cost, lower, upper
        lp.row_lower_, lp.row_upper_ = row_lo, row_hi
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = a.indptr.astype(np.int32)
        lp.a_matrix_.index_ = a.indices.astype(np.int32)
        lp.a_matrix_.value_ = a.data
        status = h.passModel(lp)
        if status != highspy.HighsStatus.kOk:
            raise GridModelError(f"HiGHS rejected the dispatch model (status {status})")
        if self.cost_model == "quadratic":
            q = np.zeros(ncol)
            q[gcols] = 2.0 * g.gen_c2_usd_per_mw2h  # HiGHS minimizes c'x + 1/2 x'Qx
            nz = np.flatnonzero(q)
            start = np.zeros(ncol + 1, dtype=np.int32)
            start[nz + 1] = 1
            start = np.cumsum(start).astype(np.int32)
            h.passHessian(ncol, nz.size, 1, start, nz.astype(np.int32), q[nz])
        self._h = h
        self._all_on = np.ones(ng)
        self._a = a
        self._ncol, self._nrow = ncol, nrow
        self._node_rows = np.arange(nn, dtype=np.int32)
        self._var_cols = np.arange(self._c_gen, self._c_over, dtype=np.int32)  # gen..shed
        self._lower, self._upper = lower, upper
        # Column-bound templates for gen..shed with every unit committed (the common case).
        if self.cost_model == "pwl":
            self._gen_hi_on = block_hi.ravel()
            self._gen_lo_on = block_lo.ravel()  # the Pmin block is must-run
        else:
            self._gen_hi_on = g.gen_pmax_mw.astype(float).copy()
            self._gen_lo_on = g.gen_pmin_mw.astype(float).copy()
        self._col_lo = np.zeros(self._c_over - self._c_gen)
        self._col_hi = np.zeros(self._c_over - self._c_gen)
        self._col_lo[: self._gen_lo_on.size] = self._gen_lo_on
        self._block_to_gen = np.kron(np.eye(ng), np.ones((blocks_per_gen, 1)))  # [gen block, gen]
        self._bess_cap = np.array([b.energy_mwh for b in g.batteries])
        # Representative bus of each node (its first bus), for node quantities with no load.
        self._node_first_bus = np.full(nn, -1, dtype=np.int64)
        self._node_first_bus[g.bus_node[::-1]] = np.arange(g.n_bus)[::-1]

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
        load = self._vector("load_mw", load_mw, g.n_bus)
        if not math.isfinite(float(load.sum())):  # a NaN or inf anywhere makes the sum non-finite
            bad = int(np.flatnonzero(~np.isfinite(load))[0])
            raise DispatchInputError(f"load_mw[{bad}]={float(load[bad])!r}: expected finite MW values")
        if res_avail_mw is None:
            avail = self._res_cap
        else:
            avail = self._vector("res_avail_mw", res_avail_mw, g.n_res)
            if not (np.all(np.isfinite(avail)) and np.all(avail >= 0)):
                bad = int(np.flatnonzero(~(np.isfinite(avail) & (avail >= 0)))[0])
                raise DispatchInputError(f"res_avail_mw[{bad}]={float(avail[bad])!r}: expected a finite capacity >= 0 MW")
        if bess_soc_mwh is None:
            soc = 0.5 * (self._soc_min + self._soc_max)
        else:
            soc = self._vector("bess_soc_mwh", bess_soc_mwh, g.n_bess)
            cap = self._bess_cap
            if not (np.all(np.isfinite(soc)) and np.all(soc >= -1e-9) and np.all(soc <= cap + 1e-9)):
                bad = int(np.flatnonzero(~(np.isfinite(soc) & (soc >= -1e-9) & (soc <= cap + 1e-9)))[0])
                raise DispatchInputError(f"bess_soc_mwh[{bad}]={float(soc[bad])!r}: expected a value in [0, {float(cap[bad])}] MWh")
        if committed is None:
            on = self._all_on
        else:
            on_arr = np.asarray(committed)
            if on_arr.shape != (g.n_gen,):
                raise DispatchInputError(f"committed: shape {on_arr.shape}; expected ({g.n_gen},), one flag per unit")
            on = on_arr.astype(bool).astype(float)
        quick = None
        if fast_start is not None:
            fs = np.asarray(fast_start)
            if fs.shape != (g.n_gen,):
                raise DispatchInputError(f"fast_start: shape {fs.shape}; expected ({g.n_gen},), one flag per unit")
            if not (math.isfinite(fast_start_usd_per_mwh) and fast_start_usd_per_mwh >= 0):
                raise DispatchInputError(f"fast_start_usd_per_mwh={fast_start_usd_per_mwh!r}: expected a finite number >= 0")
            quick = fs.astype(bool) & (on == 0.0)
            if not quick.any():
                quick = None
        # Generator column costs: the base offers, plus the adder on started fast-start units.
        adder = 0.0 if quick is None else fast_start_usd_per_mwh
        key = None if quick is None or adder == 0.0 else (quick.tobytes(), adder)
        if key != self._cost_key:
            gc = self._gen_cost_base.copy()
            fc = self._fuel_cost_base.copy()
            if key is not None:
                gc += adder * np.repeat(quick, self._blocks_per_gen)
                fc += adder * np.repeat(quick, self._blocks_per_gen)
            self._cost[self._c_gen : self._c_res] = gc
            self._fuel_cost = fc
            self._h.changeColsCost(gc.size, np.arange(self._c_gen, self._c_res, dtype=np.int32), gc)
            self._cost_key = key

        dt = self.interval_h
        node_load = np.bincount(g.bus_node, weights=load, minlength=g.n_node)
        rhs = node_load + self._pbusinj

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
            soc_c = np.clip(soc, self._soc_min, self._soc_max)
            hi[o : o + nb] = np.minimum(self._p_bess, (self._soc_max - soc_c) / (self._eta_c * dt))
            hi[o + nb : o + 2 * nb] = np.minimum(self._p_bess, (soc_c - self._soc_min) * self._eta_d / dt)
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
                return self._failed(h.modelStatusToString(ms))
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
        gen = x[self._c_gen : self._c_res]
        if self._blocks_per_gen > 1:
            gen = gen @ self._block_to_gen
        res = x[self._c_res : self._c_ch]
        ch = x[self._c_ch : self._c_dis]
        dis = x[self._c_dis : self._c_shed]
        shed_node = x[self._c_shed : self._c_over]
        over_node = x[self._c_over :]
        flow = g.branch_b_mw_per_rad * (theta[g.branch_from] - theta[g.branch_to] - g.branch_shift_rad)
        lmp_node = y[:nn]
        if compute_mci:
            mci_node = self._mci_lp(h) if self.cost_model != "quadratic" else self._mci_qp(x)
        else:
            mci_node = np.full(nn, np.nan)
        # Shedding and over-generation are per node; report them at the node's first bus with
        # load (the node's first bus when none has load), so nothing is lost or counted twice.
        if x[self._c_shed :].max() > 0.0:
            shed = self._node_to_bus(shed_node, load)
            over = self._node_to_bus(over_node, load)
        else:
            shed, over = np.zeros(g.n_bus), np.zeros(g.n_bus)
        gen_cost_model = float(self._fuel_cost @ x[self._c_gen : self._c_res])
        if self.cost_model == "quadratic":
            gen_cost_model += float(g.gen_c2_usd_per_mw2h @ gen**2)
        # A started fast-start unit's no-load cost is in its adder, not in c0.
        started = np.zeros(g.n_gen, dtype=bool) if quick is None else quick & (gen > 1e-6)
        gen_cost_model += float(g.gen_c0_usd_per_h @ on)
        xg = x[self._c_gen : self._c_res]
        objective = (gen_cost_model + float((self._cost[self._c_gen : self._c_res] - self._fuel_cost) @ xg)
                     + float(self._cost[self._c_res :] @ x[self._c_res :]))
        soc_end = soc + (self._eta_c * ch - dis / np.maximum(self._eta_d, 1e-12)) * self.interval_h if g.n_bess else soc
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
            shed_cost_usd_per_h=float(self._cost[self._c_shed : self._c_over] @ shed_node),
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

    def _mci_lp(self, h: highspy.Highs) -> np.ndarray:
        """d(emissions)/d(load) at every node from the optimal basis: solve B^T y = e_B."""
        _, basic = h.getBasicVariables()
        basic = np.asarray(basic)
        e_b = np.where(basic >= 0, self._emis[np.maximum(basic, 0)], 0.0)
        _, y = h.getBasisTransposeSolve(e_b)
        return np.asarray(y)[: self.grid.n_node]

    def _mci_qp(self, x: np.ndarray) -> np.ndarray:
        """d(emissions)/d(load) for the QP from its KKT system at the optimal active set.

        Columns strictly between their bounds are free, rows at a bound (and every balance
        row) are active; the sensitivity dx of the free columns to the active rows' right-hand
        sides solves [[Q_FF, A_F^T], [A_F, 0]] [dx; -dlam] = [0; drhs]. By symmetry one solve
        with right-hand side [e_F; 0] gives d(emissions)/d(rhs) for every active row.
        """
        g = self.grid
        tol = 1e-7
        lp = self._h.getLp()
        lo = np.asarray(lp.col_lower_)
        hi = np.asarray(lp.col_upper_)
        free = np.flatnonzero((x > lo + tol) & (x < hi - tol))
        free = free[free != self._c_theta + g.ref_node]
        rows_val = self._a @ x
        rlo = np.asarray(lp.row_lower_)
        rhi = np.asarray(lp.row_upper_)
        active = np.flatnonzero((np.arange(self._nrow) < g.n_node) | (rows_val <= rlo + tol) | (rows_val >= rhi - tol))
        q = np.zeros(self._ncol)
        q[self._c_gen : self._c_res] = 2.0 * np.repeat(g.gen_c2_usd_per_mw2h, self._blocks_per_gen)
        a_f = self._a[active][:, free].toarray()
        nf, na = free.size, active.size
        kkt = np.zeros((nf + na, nf + na))
        kkt[:nf, :nf] = np.diag(q[free])
        kkt[:nf, nf:] = a_f.T
        kkt[nf:, :nf] = a_f
        rhs = np.concatenate([self._emis[free], np.zeros(na)])
        sol = np.linalg.lstsq(kkt, rhs, rcond=None)[0]
        out = np.zeros(g.n_node)
        bal = active < g.n_node
        out[active[bal]] = sol[nf:][bal]
        return out

    def _failed(self, status: str) -> DispatchResult:
        g = self.grid
        nan = np.nan

        def full(n: int) -> np.ndarray:
            return np.full(n, nan)

        return DispatchResult(
            status=status, gen_mw=full(g.n_gen), res_used_mw=full(g.n_res), curtail_mw=full(g.n_res),
            bess_charge_mw=full(g.n_bess), bess_discharge_mw=full(g.n_bess), bess_soc_end_mwh=full(g.n_bess),
            shed_mw=full(g.n_bus), overgen_mw=full(g.n_bus), line_flow_mw=full(g.n_branch),
            lmp_usd_per_mwh=full(g.n_bus), mci_kg_per_mwh=full(g.n_bus), cost_usd_per_h=nan,
            shed_cost_usd_per_h=nan, emissions_kg_per_h=nan, objective_usd_per_h=nan,
            started=np.zeros(g.n_gen, dtype=bool),
        )

    @staticmethod
    def _vector(name: str, value: np.ndarray, n: int) -> np.ndarray:
        arr = np.asarray(value, dtype=float)
        if arr.shape != (n,):
            raise DispatchInputError(f"{name}: shape {arr.shape}; expected ({n},)")
        return arr
