"""The grid as arrays: :class:`GridModel` and the units attached to it.

A pandapower network is converted once (``GridModel.from_pandapower``) into plain numpy arrays:
the DC branch susceptances and ratings, thermal units with their cost curves and emission
factors, plus the renewable farms and batteries the suite adds. Nothing in the simulation loop
touches pandapower afterwards.

Indexing conventions (issue #2):

* ``[bus]`` arrays follow ``net.bus.index`` order; ``bus_ids[k]`` is the pandapower label of
  position ``k``. Unit and farm locations are given as pandapower bus labels.
* ``[node]`` arrays are the electrical nodes of the DC model. Buses fused by closed bus-bus
  switches share one node; ``bus_node[bus]`` maps a bus to its node.
* ``[branch]`` arrays hold in-service lines then transformers (pandapower's ppc order).
* ``[gen]`` arrays hold dispatchable thermal units: ``net.ext_grid`` rows, then ``net.gen``,
  then controllable ``net.sgen`` rows, each in index order, restricted to units that are in
  service and have a ``poly_cost`` row.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from carbon_cpn.optim.emissions import CASE30_DEFAULT_FUELS, EMISSION_FACTOR_KG_PER_MWH


class GridModelError(ValueError):
    """A network or unit description that cannot be turned into a dispatch model."""


def _check_finite_nonneg(name: str, value: float) -> None:
    if not (isinstance(value, (int, float)) and math.isfinite(value) and value >= 0):
        raise GridModelError(f"{name}={value!r}: expected a finite number >= 0")


@dataclass(frozen=True)
class RenewableUnit:
    """A curtailable wind or solar farm."""

    name: str
    #: pandapower bus label the farm connects to.
    bus: int
    #: Nameplate capacity [MW]; availability is given per interval as MW or as per-unit of this.
    capacity_mw: float
    #: "solar" or "wind".
    kind: str = "solar"

    def __post_init__(self) -> None:
        _check_finite_nonneg(f"renewable {self.name!r} capacity_mw", self.capacity_mw)
        if self.kind not in ("solar", "wind"):
            raise GridModelError(f"renewable {self.name!r} kind={self.kind!r}: expected 'solar' or 'wind'")


@dataclass(frozen=True)
class BatteryUnit:
    """A battery energy storage system (tsco eq. 2)."""

    name: str
    #: pandapower bus label.
    bus: int
    #: Charge and discharge power rating [MW].
    power_mw: float
    #: Energy capacity [MWh].
    energy_mwh: float
    #: Charging efficiency (energy stored per energy drawn) in (0, 1].
    eta_charge: float = 0.95
    #: Discharging efficiency (energy delivered per energy taken from storage) in (0, 1].
    eta_discharge: float = 0.95
    #: Lower SOC bound as a fraction of energy_mwh.
    soc_min_frac: float = 0.1
    #: Upper SOC bound as a fraction of energy_mwh.
    soc_max_frac: float = 0.9
    #: Value of one MWh of stored energy [$/MWh]: charging earns eta_charge x value per MWh
    #: drawn, discharging costs value / eta_discharge per MWh delivered, so the battery
    #: charges when energy is cheaper than that (or would be curtailed) and discharges when
    #: it is dearer.
    value_usd_per_mwh: float = 20.0

    def __post_init__(self) -> None:
        for attr in ("power_mw", "energy_mwh", "value_usd_per_mwh"):
            _check_finite_nonneg(f"battery {self.name!r} {attr}", getattr(self, attr))
        for attr in ("eta_charge", "eta_discharge"):
            v = getattr(self, attr)
            if not (0.0 < v <= 1.0):
                raise GridModelError(f"battery {self.name!r} {attr}={v!r}: expected a value in (0, 1]")
        if not (0.0 <= self.soc_min_frac < self.soc_max_frac <= 1.0):
            raise GridModelError(
                f"battery {self.name!r} soc_min_frac={self.soc_min_frac!r}, soc_max_frac={self.soc_max_frac!r}: "
                "expected 0 <= soc_min_frac < soc_max_frac <= 1"
            )

    @property
    def soc_min_mwh(self) -> float:
        return self.soc_min_frac * self.energy_mwh

    @property
    def soc_max_mwh(self) -> float:
        return self.soc_max_frac * self.energy_mwh


@dataclass(frozen=True, eq=False)
class DCMatrices:
    """DC network matrices of a :class:`GridModel` (see ``GridModel.dc_matrices``)."""

    bf: sp.csr_matrix  # [branch, node] MW per rad
    pfinj: np.ndarray  # [branch] MW from phase shifters
    pbusinj: np.ndarray  # [node] MW
    bbus: sp.coo_matrix  # [node, node] MW per rad
    rated: np.ndarray  # positions of branches with a finite rating


@dataclass(frozen=True, eq=False)
class GridModel:
    """A DC network with thermal units, renewables and batteries, as arrays."""

    #: pandapower bus labels, ``[bus]``.
    bus_ids: np.ndarray
    #: Electrical node of each bus, ``[bus]``.
    bus_node: np.ndarray
    #: Number of electrical nodes.
    n_node: int
    #: Reference node whose angle is fixed to 0.
    ref_node: int
    #: Branch end nodes, ``[branch]``.
    branch_from: np.ndarray
    branch_to: np.ndarray
    #: Series susceptance in MW per radian (base MVA / (x_pu * tap)), ``[branch]``.
    branch_b_mw_per_rad: np.ndarray
    #: Phase shift [rad], ``[branch]``.
    branch_shift_rad: np.ndarray
    #: Thermal rating [MW]; ``inf`` where the network gives none, ``[branch]``.
    branch_rating_mw: np.ndarray
    #: "line:<idx>" / "trafo:<idx>", ``[branch]``.
    branch_names: tuple[str, ...]
    #: Bus position (index into ``[bus]`` arrays) of each unit, ``[gen]``.
    gen_bus: np.ndarray
    gen_pmin_mw: np.ndarray
    gen_pmax_mw: np.ndarray
    #: Cost C(P) = c0 + c1 P + c2 P^2 with P in MW, C in $/h, ``[gen]``.
    gen_c0_usd_per_h: np.ndarray
    gen_c1_usd_per_mwh: np.ndarray
    gen_c2_usd_per_mw2h: np.ndarray
    #: Direct CO2 emission factor [kg/MWh], ``[gen]``.
    gen_emission_kg_per_mwh: np.ndarray
    #: "ext_grid:<idx>", "gen:<idx>", "sgen:<idx>", ``[gen]``.
    gen_names: tuple[str, ...]
    gen_fuels: tuple[str, ...]
    #: Load of the network's ``net.load`` table (times its scaling) by bus [MW], ``[bus]``.
    base_load_mw: np.ndarray
    renewables: tuple[RenewableUnit, ...] = ()
    batteries: tuple[BatteryUnit, ...] = ()
    #: Value of lost load [$/MWh]: the price of shedding, and the cap on every LMP.
    voll_usd_per_mwh: float = 10_000.0
    #: Penalty on over-generation (must-run output no load can absorb) [$/MWh].
    overgen_penalty_usd_per_mwh: float = 10_000.0
    #: Bus positions of renewables and batteries, ``[res]`` / ``[bess]``.
    res_bus: np.ndarray = field(init=False)
    bess_bus: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        pos = {int(b): k for k, b in enumerate(self.bus_ids)}

        def bus_positions(units: Sequence[RenewableUnit] | Sequence[BatteryUnit], what: str) -> np.ndarray:
            out = []
            for u in units:
                if u.bus not in pos:
                    raise GridModelError(f"{what} {u.name!r} bus={u.bus!r}: not a bus of the network (labels {self.bus_ids.min()}..{self.bus_ids.max()})")
                out.append(pos[u.bus])
            return np.asarray(out, dtype=np.int64)

        object.__setattr__(self, "res_bus", bus_positions(self.renewables, "renewable"))
        object.__setattr__(self, "bess_bus", bus_positions(self.batteries, "battery"))
        for name in ("voll_usd_per_mwh", "overgen_penalty_usd_per_mwh"):
            v = getattr(self, name)
            if not (math.isfinite(v) and v > 0):
                raise GridModelError(f"{name}={v!r}: expected a finite number > 0")
        if np.any(self.gen_pmin_mw < 0) or np.any(self.gen_pmax_mw < self.gen_pmin_mw):
            bad = int(np.flatnonzero((self.gen_pmin_mw < 0) | (self.gen_pmax_mw < self.gen_pmin_mw))[0])
            raise GridModelError(
                f"unit {self.gen_names[bad]}: pmin={float(self.gen_pmin_mw[bad])!r}, pmax={float(self.gen_pmax_mw[bad])!r}; expected 0 <= pmin <= pmax"
            )
        if np.any(self.gen_c2_usd_per_mw2h < 0):
            bad = int(np.flatnonzero(self.gen_c2_usd_per_mw2h < 0)[0])
            raise GridModelError(f"unit {self.gen_names[bad]}: cp2={float(self.gen_c2_usd_per_mw2h[bad])!r}; expected a convex cost (cp2 >= 0)")

    # -- sizes ---------------------------------------------------------------------------
    @property
    def n_bus(self) -> int:
        return int(self.bus_ids.size)

    @property
    def n_branch(self) -> int:
        return int(self.branch_from.size)

    @property
    def n_gen(self) -> int:
        return int(self.gen_bus.size)

    @property
    def n_res(self) -> int:
        return len(self.renewables)

    @property
    def n_bess(self) -> int:
        return len(self.batteries)

    def bus_position(self, bus_label: int) -> int:
        """Position in ``[bus]`` arrays of a pandapower bus label."""
        hits = np.flatnonzero(self.bus_ids == bus_label)
        if hits.size == 0:
            raise GridModelError(f"bus={bus_label!r}: not a bus of the network")
        return int(hits[0])

    def dc_matrices(self) -> DCMatrices:
        """The DC power-flow matrices (tsco eqs. 5-6): flow = bf theta + pfinj, injection =
        bbus theta + pbusinj, in MW with theta in radians."""
        nl, nn = self.n_branch, self.n_node
        rows = np.r_[np.arange(nl), np.arange(nl)]
        cft = sp.csr_matrix((np.r_[np.ones(nl), -np.ones(nl)], (rows, np.r_[self.branch_from, self.branch_to])),
                            shape=(nl, nn))
        bf = (sp.diags(self.branch_b_mw_per_rad) @ cft).tocsr()
        pfinj = -self.branch_b_mw_per_rad * self.branch_shift_rad
        return DCMatrices(bf=bf, pfinj=pfinj, pbusinj=cft.T @ pfinj, bbus=(cft.T @ bf).tocoo(),
                          rated=np.flatnonzero(np.isfinite(self.branch_rating_mw)))

    def cost_blocks(self, n_segments: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Piecewise-linear cost blocks of every unit, ``[gen, n_segments + 1]`` each.

        Block 0 carries Pmin at the average cost of C(Pmin) - c0; blocks 1..k are the chords of
        the quadratic between equally spaced breakpoints from Pmin to Pmax (convex: slopes
        rise). Returns (cost [$/MWh], lower bound and upper bound of each block [MW] when the
        unit is committed)."""
        k = n_segments
        width = (self.gen_pmax_mw - self.gen_pmin_mw) / k
        bp = self.gen_pmin_mw[:, None] + width[:, None] * np.arange(k + 1)[None, :]
        slopes = self.gen_c1_usd_per_mwh[:, None] + self.gen_c2_usd_per_mw2h[:, None] * (bp[:, 1:] + bp[:, :-1])
        cost = np.column_stack([self.gen_c1_usd_per_mwh + self.gen_c2_usd_per_mw2h * self.gen_pmin_mw, slopes])
        lo = np.column_stack([self.gen_pmin_mw, np.zeros((self.n_gen, k))])
        hi = np.column_stack([self.gen_pmin_mw, np.repeat(width[:, None], k, axis=1)])
        return cost, lo, hi

    # -- construction --------------------------------------------------------------------
    @classmethod
    def from_pandapower(
        cls,
        net: object,
        *,
        emission_factors_kg_per_mwh: Sequence[float] | None = None,
        fuels: Sequence[str] | None = None,
        renewables: Sequence[RenewableUnit] = (),
        batteries: Sequence[BatteryUnit] = (),
        voll_usd_per_mwh: float = 10_000.0,
        overgen_penalty_usd_per_mwh: float = 10_000.0,
    ) -> GridModel:
        """Convert a pandapower network with ``poly_cost`` into a :class:`GridModel`.

        Branch data (susceptance, tap ratio, phase shift, MW rating) are read from the
        network's PYPOWER form (``to_ppc`` in OPF mode), which is what pandapower's own
        ``rundcopp`` uses, so both see the same network: lines are rated
        ``max_i_ka x vn_kv x sqrt(3) x parallel x df x max_loading_percent/100``, transformers
        ``sn_mva x parallel x max_loading_percent/100``. As in pandapower's OPF, a branch
        without ``max_loading_percent`` is unrated, and unrated branches are unlimited.

        Emission factors come, in order of precedence, from ``emission_factors_kg_per_mwh``
        (one per unit), from ``fuels`` (names in :data:`EMISSION_FACTOR_KG_PER_MWH`), or, for a
        network with six units (``case30``), from :data:`CASE30_DEFAULT_FUELS`. Any other
        network without factors gets natural gas combined cycle for every unit.
        """
        try:
            from pandapower.converter.pypower.to_ppc import to_ppc
        except ImportError as exc:  # pragma: no cover - pandapower is a dependency
            raise GridModelError("GridModel.from_pandapower needs pandapower installed") from exc

        for table in ("bus", "poly_cost", "ext_grid", "gen", "load"):
            if not hasattr(net, table) and table not in getattr(net, "keys", lambda: ())():
                raise GridModelError(f"net: expected a pandapower network, got {type(net).__name__} without table {table!r}")
        if net.poly_cost.empty:
            raise GridModelError(
                "net.poly_cost is empty: expected a cost row (et, element, cp0_eur, cp1_eur_per_mw, cp2_eur_per_mw2) "
                "for every dispatchable unit; add them with pandapower.create_poly_cost"
            )

        # to_ppc logs warnings about voltage limits, irrelevant to a DC model.
        pp_logger = logging.getLogger("pandapower")
        level = pp_logger.level
        pp_logger.setLevel(logging.ERROR)
        try:
            ppc = to_ppc(net, init="flat", mode="opf", calculate_voltage_angles=True)
        except Exception as exc:
            raise GridModelError(f"net: pandapower could not convert the network ({exc})") from exc
        finally:
            pp_logger.setLevel(level)

        bus_ids = np.asarray(net.bus.index.values, dtype=np.int64)
        lookup = np.asarray(net._pd2ppc_lookups["bus"])
        ppc_bus_of_bus = lookup[bus_ids]
        ppc_bus = np.asarray(ppc["bus"]).real
        in_svc_ppc = ppc_bus[:, 1] != 4  # BUS_TYPE 4 = isolated / out of service
        # Compact numbering of the in-service electrical nodes.
        node_of_ppc = -np.ones(ppc_bus.shape[0], dtype=np.int64)
        node_of_ppc[in_svc_ppc] = np.arange(int(in_svc_ppc.sum()))
        bus_node = np.where(ppc_bus_of_bus >= 0, node_of_ppc[np.clip(ppc_bus_of_bus, 0, None)], -1)
        n_node = int(in_svc_ppc.sum())
        ref_ppc = np.flatnonzero(ppc_bus[:, 1] == 3)
        if ref_ppc.size == 0:
            raise GridModelError("net: no reference bus (ext_grid or slack gen) found")
        ref_node = int(node_of_ppc[ref_ppc[0]])

        br = np.asarray(ppc["branch"]).real
        base_mva = float(ppc["baseMVA"])
        on = (br[:, 10] > 0) & (node_of_ppc[br[:, 0].astype(int)] >= 0) & (node_of_ppc[br[:, 1].astype(int)] >= 0)
        tap = np.where(br[:, 8] == 0.0, 1.0, br[:, 8])
        x = br[:, 3]
        if np.any(on & (x == 0)):
            raise GridModelError("net: a branch has zero reactance; the DC model needs x != 0")
        names = []
        for kind, (lo, hi) in net._pd2ppc_lookups["branch"].items():
            element_index = getattr(net, kind).index.values if hasattr(net, kind) else np.arange(hi - lo)
            names.extend(f"{kind}:{element_index[k]}" for k in range(hi - lo))
        names = names + [f"branch:{k}" for k in range(len(names), br.shape[0])]
        rating = np.where(br[:, 5] > 0, br[:, 5], np.inf)

        gen_rows = _collect_units(net)
        if not gen_rows:
            raise GridModelError("net: no in-service unit has a poly_cost row; nothing to dispatch")
        pos = {int(b): k for k, b in enumerate(bus_ids)}
        n_gen = len(gen_rows)
        if emission_factors_kg_per_mwh is not None:
            factors = np.asarray(emission_factors_kg_per_mwh, dtype=float)
            if factors.shape != (n_gen,) or np.any(~np.isfinite(factors)) or np.any(factors < 0):
                raise GridModelError(
                    f"emission_factors_kg_per_mwh={list(np.atleast_1d(factors))!r}: expected {n_gen} finite values >= 0, one per unit {[r[0] for r in gen_rows]}"
                )
            fuel_names = tuple(fuels) if fuels is not None else ("custom",) * n_gen
        else:
            if fuels is None:
                fuels = CASE30_DEFAULT_FUELS if n_gen == len(CASE30_DEFAULT_FUELS) else ("gas_cc",) * n_gen
            if len(fuels) != n_gen:
                raise GridModelError(f"fuels={list(fuels)!r}: expected {n_gen} names, one per unit {[r[0] for r in gen_rows]}")
            for f in fuels:
                if f not in EMISSION_FACTOR_KG_PER_MWH:
                    raise GridModelError(f"fuels: unknown fuel {f!r}; expected one of {sorted(EMISSION_FACTOR_KG_PER_MWH)}")
            factors = np.array([EMISSION_FACTOR_KG_PER_MWH[f] for f in fuels])
            fuel_names = tuple(fuels)

        load_mw = np.zeros(bus_ids.size)
        if not net.load.empty:
            ld = net.load[net.load.in_service]
            np.add.at(load_mw, [pos[int(b)] for b in ld.bus], (ld.p_mw * ld.scaling).to_numpy(dtype=float))

        return cls(
            bus_ids=bus_ids,
            bus_node=bus_node,
            n_node=n_node,
            ref_node=ref_node,
            branch_from=node_of_ppc[br[on, 0].astype(int)],
            branch_to=node_of_ppc[br[on, 1].astype(int)],
            branch_b_mw_per_rad=base_mva / (x[on] * tap[on]),
            branch_shift_rad=np.deg2rad(br[on, 9]),
            branch_rating_mw=rating[on],
            branch_names=tuple(n for n, o in zip(names, on) if o),
            gen_bus=np.array([pos[r[1]] for r in gen_rows], dtype=np.int64),
            gen_pmin_mw=np.array([r[2] for r in gen_rows]),
            gen_pmax_mw=np.array([r[3] for r in gen_rows]),
            gen_c0_usd_per_h=np.array([r[4] for r in gen_rows]),
            gen_c1_usd_per_mwh=np.array([r[5] for r in gen_rows]),
            gen_c2_usd_per_mw2h=np.array([r[6] for r in gen_rows]),
            gen_emission_kg_per_mwh=factors,
            gen_names=tuple(r[0] for r in gen_rows),
            gen_fuels=fuel_names,
            base_load_mw=load_mw,
            renewables=tuple(renewables),
            batteries=tuple(batteries),
            voll_usd_per_mwh=float(voll_usd_per_mwh),
            overgen_penalty_usd_per_mwh=float(overgen_penalty_usd_per_mwh),
        )


def _collect_units(net: object) -> list[tuple[str, int, float, float, float, float, float]]:
    """(name, bus label, pmin, pmax, c0, c1, c2) of every in-service unit with a poly_cost row."""
    costs: Mapping[tuple[str, int], tuple[float, float, float]] = {
        (str(r.et), int(r.element)): (float(r.cp0_eur), float(r.cp1_eur_per_mw), float(r.cp2_eur_per_mw2))
        for r in net.poly_cost.itertuples()
    }
    rows = []
    for et in ("ext_grid", "gen", "sgen"):
        table = getattr(net, et, None)
        if table is None or table.empty:
            continue
        for idx, r in table.iterrows():
            if not bool(r.get("in_service", True)) or (et, int(idx)) not in costs:
                continue
            if et == "sgen" and not bool(r.get("controllable", False)):
                continue
            pmin = float(r.get("min_p_mw", 0.0))
            pmax = float(r.get("max_p_mw", np.nan))
            if not np.isfinite(pmin):
                pmin = 0.0
            if not np.isfinite(pmax):
                raise GridModelError(f"net.{et} row {idx}: max_p_mw={pmax!r}; expected a finite capacity for a dispatchable unit")
            if pmax < 0 or pmin < 0:
                raise GridModelError(f"net.{et} row {idx}: min_p_mw={pmin!r}, max_p_mw={pmax!r}; expected non-negative capacities")
            c0, c1, c2 = costs[(et, int(idx))]
            rows.append((f"{et}:{idx}", int(r.bus), pmin, pmax, c0, c1, c2))
    return rows
