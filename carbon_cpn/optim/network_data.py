"""The input of the network-LP builder (:mod:`carbon_cpn.optim.network_lp`): a DC network
with its units as arrays (:class:`NetworkData`), made from a :class:`GridModel` or from the
oracle's episode arrays, and its copper-plate relaxation."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from carbon_cpn.optim.grid import GridModel

__all__ = ["NetworkData", "NetworkLPError"]


class NetworkLPError(ValueError):
    """Network data or an LP request of the wrong shape or value."""


@dataclass(frozen=True, eq=False)
class NetworkData:
    """What the network LP needs of a DC grid, as arrays. Axes: ``node`` electrical node,
    ``line`` rated branch, ``gen``/``blk`` thermal unit and its cost block, ``res`` farm,
    ``bess`` battery."""

    n_node: int
    ref_node: int
    bbus: sp.coo_matrix  # [node, node] MW/rad
    bf: sp.csr_matrix  # [line, node] MW/rad, rated branches only
    line_lo_mw: np.ndarray  # [line] flow limits with phase-shifter injections moved in
    line_hi_mw: np.ndarray  # [line]
    pbusinj_mw: np.ndarray  # [node] phase-shifter injections, added to the balance rows' load
    gen_node: np.ndarray  # [gen]
    block_lo_mw: np.ndarray  # [gen, blk] when committed
    block_hi_mw: np.ndarray  # [gen, blk] when committed
    gen_emission_kg_per_mwh: np.ndarray  # [gen]
    res_node: np.ndarray  # [res]
    bess_node: np.ndarray  # [bess]
    bess_power_mw: np.ndarray  # [bess]
    bess_eta_charge: np.ndarray  # [bess]
    bess_eta_discharge: np.ndarray  # [bess]
    bess_soc_min_mwh: np.ndarray  # [bess]
    bess_soc_max_mwh: np.ndarray  # [bess]
    voll_usd_per_mwh: float
    overgen_penalty_usd_per_mwh: float
    bess_value_usd_per_mwh: np.ndarray = field(default_factory=lambda: np.zeros(0))  # [bess]

    def __post_init__(self) -> None:
        if not (0 <= self.ref_node < self.n_node):
            raise NetworkLPError(f"ref_node={self.ref_node!r}: expected a node in [0, {self.n_node})")
        if self.bbus.shape != (self.n_node, self.n_node):
            raise NetworkLPError(f"bbus: shape {self.bbus.shape}; expected ({self.n_node}, {self.n_node})")
        nl = self.bf.shape[0]
        for name, arr, shape in (("line_lo_mw", self.line_lo_mw, (nl,)), ("line_hi_mw", self.line_hi_mw, (nl,)),
                                 ("pbusinj_mw", self.pbusinj_mw, (self.n_node,)),
                                 ("block_hi_mw", self.block_hi_mw, self.block_lo_mw.shape),
                                 ("gen_node", self.gen_node, (self.block_lo_mw.shape[0],))):
            if np.shape(arr) != shape:
                raise NetworkLPError(f"{name}: shape {np.shape(arr)}; expected {shape}")
        for name, arr in (("gen_node", self.gen_node), ("res_node", self.res_node), ("bess_node", self.bess_node)):
            if arr.size and not (arr.min() >= 0 and arr.max() < self.n_node):
                raise NetworkLPError(f"{name}: node {int(arr.max())}; expected nodes in [0, {self.n_node})")

    @property
    def n_gen(self) -> int:
        return int(self.block_lo_mw.shape[0])

    @property
    def blocks_per_gen(self) -> int:
        return int(self.block_lo_mw.shape[1])

    @property
    def n_line(self) -> int:
        return int(self.bf.shape[0])

    @property
    def n_res(self) -> int:
        return int(self.res_node.size)

    @property
    def n_bess(self) -> int:
        return int(self.bess_node.size)

    @classmethod
    def from_grid(cls, grid: GridModel, n_segments: int | None) -> NetworkData:
        """``grid`` with ``n_segments`` piecewise-linear cost blocks per unit (block 0 carries
        Pmin, see ``GridModel.cost_blocks``), or one block [Pmin, Pmax] when ``None``."""
        g = grid
        dc = g.dc_matrices()
        rated = dc.rated
        if n_segments is None:
            lo, hi = g.gen_pmin_mw.astype(float)[:, None], g.gen_pmax_mw.astype(float)[:, None]
        else:
            _, lo, hi = g.cost_blocks(n_segments)
        bats = g.batteries
        return cls(
            n_node=int(g.n_node), ref_node=int(g.ref_node), bbus=dc.bbus, bf=dc.bf[rated].tocsr(),
            line_lo_mw=-g.branch_rating_mw[rated] - dc.pfinj[rated], line_hi_mw=g.branch_rating_mw[rated] - dc.pfinj[rated],
            pbusinj_mw=np.asarray(dc.pbusinj), gen_node=g.bus_node[g.gen_bus], block_lo_mw=lo, block_hi_mw=hi,
            gen_emission_kg_per_mwh=g.gen_emission_kg_per_mwh,
            res_node=g.bus_node[g.res_bus] if g.n_res else np.zeros(0, dtype=np.int64),
            bess_node=g.bus_node[g.bess_bus] if g.n_bess else np.zeros(0, dtype=np.int64),
            bess_power_mw=np.array([b.power_mw for b in bats]), bess_eta_charge=np.array([b.eta_charge for b in bats]),
            bess_eta_discharge=np.array([b.eta_discharge for b in bats]),
            bess_soc_min_mwh=np.array([b.soc_min_mwh for b in bats]),
            bess_soc_max_mwh=np.array([b.soc_max_mwh for b in bats]),
            voll_usd_per_mwh=float(g.voll_usd_per_mwh), overgen_penalty_usd_per_mwh=float(g.overgen_penalty_usd_per_mwh),
            bess_value_usd_per_mwh=np.array([b.value_usd_per_mwh for b in bats]),
        )

    def copper_plate(self) -> NetworkData:
        """The same units on one node with no lines: the network-free relaxation (a feasible
        network dispatch summed over the nodes is feasible here at the same cost)."""
        one = lambda a: np.zeros(a.size, dtype=np.int64)  # noqa: E731
        return NetworkData(
            n_node=1, ref_node=0, bbus=sp.coo_matrix((1, 1)), bf=sp.csr_matrix((0, 1)), line_lo_mw=np.zeros(0),
            line_hi_mw=np.zeros(0), pbusinj_mw=np.zeros(1), gen_node=one(self.gen_node), block_lo_mw=self.block_lo_mw,
            block_hi_mw=self.block_hi_mw, gen_emission_kg_per_mwh=self.gen_emission_kg_per_mwh,
            res_node=one(self.res_node), bess_node=one(self.bess_node), bess_power_mw=self.bess_power_mw,
            bess_eta_charge=self.bess_eta_charge, bess_eta_discharge=self.bess_eta_discharge,
            bess_soc_min_mwh=self.bess_soc_min_mwh, bess_soc_max_mwh=self.bess_soc_max_mwh,
            voll_usd_per_mwh=self.voll_usd_per_mwh, overgen_penalty_usd_per_mwh=self.overgen_penalty_usd_per_mwh,
            bess_value_usd_per_mwh=self.bess_value_usd_per_mwh,
        )
