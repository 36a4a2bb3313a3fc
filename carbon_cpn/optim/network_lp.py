"""The DC-network LP, defined once: named column and row blocks per period, one function per
constraint family (issue #15).

Every model of the grid in this package is built here: the real-time dispatch
(:mod:`carbon_cpn.optim.dispatch`, one period, re-solved every interval), the unit-commitment
subproblems and their pyomo copies in the master and the extensive form
(:mod:`carbon_cpn.optim.uc_subproblem`, :mod:`carbon_cpn.optim.uc_pyomo`, T periods) and the
grid part of the perfect-foresight oracle (:mod:`carbon_cpn.optim.oracle_model`).

In the style of PyPSA's ``define_*`` functions, a model is assembled in three steps from a
:class:`~carbon_cpn.optim.network_data.NetworkData` (the network as arrays):

1. :func:`layout` lays out the named blocks of one period (columns ``theta``, ``blk`` (cost
   blocks of every unit), ``res``, ``ch``, ``dis``, optionally ``soc``, ``shed``, ``over``; rows
   ``balance``, ``line``, optionally ``soc`` and ``ramp_up``/``ramp_dn`` from the second period
   on) and repeats them for every period. The :class:`NetworkIndex` it returns answers
   ``ix.cols("blk")`` (``[t, blk]``) or ``ix.rows("balance", t)``; no consumer keeps offsets.
2. The constraint-family functions write into a :class:`SparseLP` (triplets, bounds, costs):
   :func:`nodal_balance` (tsco eq. 5, with angles, renewables, shedding and over-generation),
   :func:`line_limits` (eq. 6), :func:`battery_dynamics` (eq. 2 over time) or
   :func:`battery_limits` (eq. 2 within one interval, for a model without SOC columns),
   :func:`ramping` (§III.B.1), and :func:`generation_costs` (cost blocks, carbon, shedding and
   over-generation prices, and the emission factor of every column).
3. The consumer adds what is its own (the oracle's CPN placements, the dispatch's Hessian) with
   :meth:`SparseLP.put` / :meth:`SparseLP.add_cols` and hands :meth:`SparseLP.to_highs` to HiGHS,
   or :func:`carbon_cpn.optim.uc_pyomo.add_lp_block` copies it into a pyomo model.

Extending it: a microgrid site (behind-the-meter generation and grid import/export limits at a
bus) would be one more family, ``microgrid_sites(lp, net, ix, sites)``: :func:`layout` gets the
column blocks ``mg_gen`` (site generation) and ``mg_import``/``mg_export`` and the row block
``mg_site`` through its ``extra_cols``/``extra_rows`` arguments; the function puts ``mg_import -
mg_export`` into the site bus's ``balance`` row, ``mg_gen + mg_import - mg_export = site load``
into ``mg_site``, the import/export limits as column bounds and the site's generation cost and
emissions into ``lp.cost``/``lp.emission``. The dispatch, the UC subproblems and the oracle would
each call it once after :func:`nodal_balance`, and read the site's columns back through the index.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import highspy
import numpy as np
import scipy.sparse as sp

from carbon_cpn.optim.network_data import NetworkData, NetworkLPError

__all__ = [
    "NetworkData",
    "NetworkIndex",
    "NetworkLPError",
    "SparseLP",
    "battery_dynamics",
    "battery_limits",
    "generation_costs",
    "layout",
    "line_limits",
    "nodal_balance",
    "ramping",
]

INF = highspy.kHighsInf


@dataclass(frozen=True, eq=False)
class NetworkIndex:
    """Where every named block of every period sits in the model: ``col_blocks[name]`` and
    ``row_blocks[name]`` are ``[t, size]`` arrays of column and row indices (-1 in a period
    where the block is absent, e.g. ramping rows in the first period)."""

    n_periods: int
    n_cols: int
    n_rows: int
    col_blocks: dict[str, np.ndarray]
    row_blocks: dict[str, np.ndarray]
    col_starts: dict[str, np.ndarray]  # [t] first column of each block (blocks are contiguous)

    def cols(self, name: str, t: int | None = None) -> np.ndarray:
        """Columns of block ``name``: ``[t, size]``, or ``[size]`` of period ``t``."""
        return self._get(self.col_blocks, "column", name, t)

    def rows(self, name: str, t: int | None = None) -> np.ndarray:
        """Rows of block ``name``: ``[t, size]``, or ``[size]`` of period ``t``."""
        return self._get(self.row_blocks, "row", name, t)

    def col_slice(self, name: str, t: int = 0) -> slice:
        """Columns of block ``name`` in period ``t`` as a slice (fast to read a solution with)."""
        start = int(self._get(self.col_starts, "column", name, t))
        return slice(start, start + self.col_blocks[name].shape[1])

    @staticmethod
    def _get(blocks: dict[str, np.ndarray], what: str, name: str, t: int | None) -> np.ndarray:
        if name not in blocks:
            raise NetworkLPError(f"{what} block {name!r}: expected one of {sorted(blocks)}")
        return blocks[name] if t is None else blocks[name][t]


def layout(net: NetworkData, n_periods: int, *, soc: bool, ramping: bool,
           extra_cols: Sequence[tuple[str, int]] = (), extra_rows: Sequence[tuple[str, int, int]] = ()) -> NetworkIndex:
    """Columns and rows of ``n_periods`` periods, period after period.

    Columns of a period: ``theta`` [node] | ``blk`` [gen x blk] | ``res`` | ``ch`` | ``dis`` |
    ``soc`` (with ``soc``) | ``shed`` [node] | ``over`` [node] | ``extra_cols``. Rows of a period:
    ``balance`` [node] | ``line`` [line] | ``soc`` [bess] (with ``soc``) | ``ramp_up`` [gen] |
    ``ramp_dn`` [gen] (with ``ramping``, from the second period on) | ``extra_rows`` (name, size,
    first period)."""
    if not (isinstance(n_periods, (int, np.integer)) and n_periods >= 1):
        raise NetworkLPError(f"n_periods={n_periods!r}: expected an integer >= 1")
    nn, nb, ng = net.n_node, net.n_bess, net.n_gen
    cols: list[tuple[str, int]] = [("theta", nn), ("blk", ng * net.blocks_per_gen), ("res", net.n_res), ("ch", nb),
                                   ("dis", nb)]
    cols += [("soc", nb)] if soc else []
    cols += [("shed", nn), ("over", nn), *extra_cols]
    rows: list[tuple[str, int, int]] = [("balance", nn, 0), ("line", net.n_line, 0)]
    rows += [("soc", nb, 0)] if soc else []
    rows += [("ramp_up", ng, 1), ("ramp_dn", ng, 1)] if ramping else []
    rows += list(extra_rows)
    col_blocks = {name: np.zeros((n_periods, size), dtype=np.int64) for name, size in cols}
    row_blocks = {name: np.full((n_periods, size), -1, dtype=np.int64) for name, size, _ in rows}
    col_starts = {name: np.zeros(n_periods, dtype=np.int64) for name, _ in cols}
    c = r = 0
    for t in range(n_periods):
        for name, size in cols:
            col_starts[name][t] = c
            col_blocks[name][t] = c + np.arange(size)
            c += size
        for name, size, first in rows:
            if t >= first:
                row_blocks[name][t] = r + np.arange(size)
                r += size
    return NetworkIndex(int(n_periods), c, r, col_blocks, row_blocks, col_starts)


class SparseLP:
    """An LP being assembled: triplets of the constraint matrix, column bounds and costs, row
    bounds, and the emission factor of every column [kg/MWh]."""

    def __init__(self, n_cols: int, n_rows: int) -> None:
        self.n_cols, self.n_rows = int(n_cols), int(n_rows)
        self.cost = np.zeros(self.n_cols)
        self.col_lo = np.zeros(self.n_cols)
        self.col_hi = np.full(self.n_cols, INF)
        self.row_lo = np.zeros(self.n_rows)
        self.row_hi = np.zeros(self.n_rows)
        self.emission = np.zeros(self.n_cols)
        self._rows: list[np.ndarray] = []
        self._cols: list[np.ndarray] = []
        self._vals: list[np.ndarray] = []

    def put(self, rows: np.ndarray, cols: np.ndarray, vals: np.ndarray | float) -> None:
        """Add coefficients (broadcast together)."""
        r, c, v = np.broadcast_arrays(np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64),
                                      np.asarray(vals, dtype=float))
        self._rows.append(r.ravel())
        self._cols.append(c.ravel())
        self._vals.append(v.ravel())

    def add_cols(self, n: int) -> int:
        """Append ``n`` columns (bounds [0, inf), cost 0); returns the first one's index."""
        first = self.n_cols
        self.n_cols += int(n)
        self.cost = np.r_[self.cost, np.zeros(n)]
        self.col_lo = np.r_[self.col_lo, np.zeros(n)]
        self.col_hi = np.r_[self.col_hi, np.full(n, INF)]
        self.emission = np.r_[self.emission, np.zeros(n)]
        return first

    def add_rows(self, n: int) -> int:
        """Append ``n`` rows (bounds [0, 0]); returns the first one's index."""
        first = self.n_rows
        self.n_rows += int(n)
        self.row_lo = np.r_[self.row_lo, np.zeros(n)]
        self.row_hi = np.r_[self.row_hi, np.zeros(n)]
        return first

    def matrix(self) -> sp.csc_matrix:
        """The constraint matrix, duplicates summed, indices sorted."""
        empty = [np.zeros(0, dtype=np.int64)]
        a = sp.csc_matrix((np.concatenate(self._vals or [np.zeros(0)]),
                           (np.concatenate(self._rows or empty), np.concatenate(self._cols or empty))),
                          shape=(self.n_rows, self.n_cols))
        a.sum_duplicates()
        return a

    def to_highs(self, a: sp.csc_matrix | None = None) -> highspy.HighsLp:
        """The model as a ``highspy.HighsLp`` (column-wise matrix ``a``, default :meth:`matrix`)."""
        a = self.matrix() if a is None else a
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = self.n_cols, self.n_rows
        lp.col_cost_, lp.col_lower_, lp.col_upper_ = self.cost, self.col_lo, self.col_hi
        lp.row_lower_, lp.row_upper_ = self.row_lo, self.row_hi
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = a.indptr.astype(np.int32)
        lp.a_matrix_.index_ = a.indices.astype(np.int32)
        lp.a_matrix_.value_ = a.data
        return lp


def _per_period(name: str, value: np.ndarray, n_t: int, size: int) -> np.ndarray:
    """``value`` as ``[t, size]``: a ``[size]`` vector is repeated for every period."""
    arr = np.asarray(value, dtype=float)
    if arr.shape == (size,):
        return np.broadcast_to(arr, (n_t, size))
    if arr.shape != (n_t, size):
        raise NetworkLPError(f"{name}: shape {arr.shape}; expected ({size},) or ({n_t}, {size})")
    return arr


# ---------------------------------------------------------------------------- constraint families
def nodal_balance(lp: SparseLP, net: NetworkData, ix: NetworkIndex, node_load_mw: np.ndarray | None = None, *,
                  res_avail_mw: np.ndarray | None = None, shed_cap_mw: np.ndarray | None = None,
                  theta_box_rad: float = INF) -> None:
    """Nodal balance (tsco eq. 5) of every period::

        sum_{g at i} blk + sum_{r at i} res + sum_{b at i} (dis - ch) + shed_i - over_i
            - sum_j Bbus[i, j] theta_j = load_i + pbusinj_i

    with angles in ``[-theta_box, theta_box]`` (the reference node's at 0), renewables up to
    ``res_avail_mw`` (default: unbounded, set later) and shedding up to ``shed_cap_mw``
    (default: unbounded). ``node_load_mw`` ``[t, node]`` or ``[node]`` (default 0, set later)."""
    n_t, nn = ix.n_periods, net.n_node
    bal = ix.rows("balance")  # [t, node]
    kb = net.blocks_per_gen
    for name, nodes, sign in (("blk", np.repeat(net.gen_node, kb), 1.0), ("res", net.res_node, 1.0),
                              ("ch", net.bess_node, -1.0), ("dis", net.bess_node, 1.0),
                              ("shed", np.arange(nn), 1.0), ("over", np.arange(nn), -1.0)):
        lp.put(bal[:, nodes], ix.cols(name), sign)
    bb = net.bbus.tocoo()
    theta = ix.cols("theta")
    lp.put(bal[:, bb.row], theta[:, bb.col], -bb.data[None, :])
    lp.col_lo[theta], lp.col_hi[theta] = -theta_box_rad, theta_box_rad
    ref = theta[:, net.ref_node]
    lp.col_lo[ref] = lp.col_hi[ref] = 0.0
    if node_load_mw is not None:
        rhs = _per_period("node_load_mw", node_load_mw, n_t, nn) + net.pbusinj_mw[None, :]
        lp.row_lo[bal], lp.row_hi[bal] = rhs, rhs
    if res_avail_mw is not None and net.n_res:
        lp.col_hi[ix.cols("res")] = _per_period("res_avail_mw", res_avail_mw, n_t, net.n_res)
    if shed_cap_mw is not None:
        lp.col_hi[ix.cols("shed")] = _per_period("shed_cap_mw", shed_cap_mw, n_t, nn)


def line_limits(lp: SparseLP, net: NetworkData, ix: NetworkIndex) -> None:
    """Flow limits of the rated lines (tsco eq. 6): ``line_lo <= Bf theta <= line_hi``."""
    rows = ix.rows("line")
    bf = net.bf.tocoo()
    lp.put(rows[:, bf.row], ix.cols("theta")[:, bf.col], bf.data[None, :])
    lp.row_lo[rows], lp.row_hi[rows] = net.line_lo_mw[None, :], net.line_hi_mw[None, :]


def battery_dynamics(lp: SparseLP, net: NetworkData, ix: NetworkIndex, period_h: float, soc0_mwh: np.ndarray, *,
                     hold_final_soc: bool) -> None:
    """Battery SOC over the periods (tsco eq. 2)::

        soc_t - soc_{t-1} - eta_c dt ch_t + dt / eta_d dis_t = 0   (soc_{-1} = soc0)

    with charging and discharging up to the power rating and the SOC within its band; with
    ``hold_final_soc`` the last SOC is at least soc0 (clipped to the band): no free energy."""
    nb = net.n_bess
    if not nb:
        return
    rows, soc = ix.rows("soc"), ix.cols("soc")
    ch, dis = ix.cols("ch"), ix.cols("dis")
    lp.put(rows, soc, 1.0)
    lp.put(rows[1:], soc[:-1], -1.0)
    lp.put(rows, ch, np.broadcast_to(-net.bess_eta_charge * period_h, rows.shape))
    lp.put(rows, dis, np.broadcast_to(period_h / net.bess_eta_discharge, rows.shape))
    lp.row_lo[rows[0]] = lp.row_hi[rows[0]] = np.asarray(soc0_mwh, dtype=float)
    lp.col_hi[ch] = lp.col_hi[dis] = net.bess_power_mw[None, :]
    lp.col_lo[soc], lp.col_hi[soc] = net.bess_soc_min_mwh[None, :], net.bess_soc_max_mwh[None, :]
    if hold_final_soc:
        lp.col_lo[soc[-1]] = np.maximum(net.bess_soc_min_mwh, np.minimum(soc0_mwh, net.bess_soc_max_mwh))


def battery_limits(net: NetworkData, soc_mwh: np.ndarray, interval_h: float) -> tuple[np.ndarray, np.ndarray]:
    """Tsco eq. 2 within one interval, for a model without SOC columns: the most each battery
    can charge and discharge [MW] from ``soc_mwh`` without leaving its SOC band."""
    soc_c = np.clip(soc_mwh, net.bess_soc_min_mwh, net.bess_soc_max_mwh)
    ch = np.minimum(net.bess_power_mw, (net.bess_soc_max_mwh - soc_c) / (net.bess_eta_charge * interval_h))
    dis = np.minimum(net.bess_power_mw, (soc_c - net.bess_soc_min_mwh) * net.bess_eta_discharge / interval_h)
    return ch, dis


def ramping(lp: SparseLP, net: NetworkData, ix: NetworkIndex) -> None:
    """Ramping between consecutive periods (tsco §III.B.1), the sum of a unit's blocks::

        p_t - p_{t-1} <= rhs_up,   p_{t-1} - p_t <= rhs_dn

    The right-hand sides carry the commitment (``RU + Pmax (1 - u_{t-1})``); they are left at
    0 here and set by the consumer (:meth:`ScenarioLP.solve`, ``uc_pyomo.add_lp_block``)."""
    kb = net.blocks_per_gen
    blk = ix.cols("blk")
    blk_gen = np.repeat(np.arange(net.n_gen), kb)
    for name, sign in (("ramp_up", 1.0), ("ramp_dn", -1.0)):
        rows = ix.rows(name)[1:]  # [t - 1, gen]
        lp.put(rows[:, blk_gen], blk[1:], sign)
        lp.put(rows[:, blk_gen], blk[:-1], -sign)
        lp.row_lo[rows] = -INF


def generation_costs(lp: SparseLP, net: NetworkData, ix: NetworkIndex, offer_usd_per_mwh: np.ndarray, *,
                     scale: float = 1.0, storage_value: bool = False) -> None:
    """Costs and carbon: every cost block at its offer ``offer_usd_per_mwh`` (``[blk]`` or
    ``[t, blk]``: fuel plus carbon price, see ``objective.energy_price_usd_per_mwh``),
    shedding at VOLL and over-generation at its penalty, all times ``scale`` (the period length
    where the objective is in $); committed block bounds ``[lo, hi]``; the emission factor of
    every block column. With ``storage_value`` (a myopic one-period model) charging earns and
    discharging costs each battery's value of stored energy: ``-value eta_c`` and
    ``value / eta_d`` per MWh."""
    n_t = ix.n_periods
    kb, ng = net.blocks_per_gen, net.n_gen
    blk = ix.cols("blk")
    offer = _per_period("offer_usd_per_mwh", offer_usd_per_mwh, n_t, ng * kb)
    lp.cost[blk] = offer if scale == 1.0 else scale * offer
    lp.col_lo[blk] = net.block_lo_mw.ravel()[None, :]
    lp.col_hi[blk] = net.block_hi_mw.ravel()[None, :]
    lp.emission[blk] = np.repeat(net.gen_emission_kg_per_mwh, kb)[None, :]
    if storage_value and net.n_bess:
        value = net.bess_value_usd_per_mwh
        lp.cost[ix.cols("ch")] = -value * net.bess_eta_charge
        lp.cost[ix.cols("dis")] = value / np.maximum(net.bess_eta_discharge, 1e-12)
    lp.cost[ix.cols("shed")] = scale * net.voll_usd_per_mwh
    lp.cost[ix.cols("over")] = scale * net.overgen_penalty_usd_per_mwh
