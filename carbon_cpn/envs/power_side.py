"""The power side of the co-simulation: one dispatched grid, or several regional grids.

:class:`SingleGrid` is the one grid of a scenario's ``[grid]`` table (its commitment source,
real-time dispatch and shadow-day dispatch). :class:`RegionalGrids` holds one
:class:`SingleGrid` per region of a scenario's ``[[regions]]`` list, each dispatched on its own
every interval; it presents them stacked — buses, units, farms and batteries of the first
region, then the second, … — so that the env, the outcome and the ledger see one set of arrays
whatever the number of regions. Both have the same interface; the env talks only to it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from carbon_cpn.envs.config import GridConfig, ScenarioConfig
from carbon_cpn.envs.grid_system import (AllUnitsCommitted, CommitmentSource, GridDay, ShadowDay, build_grid,
                                         dispatch_cost_usd, fast_start_units, grid_inputs, initial_soc_mwh,
                                         make_dispatch, shadow_day)
from carbon_cpn.envs.views import nearest_node_of_farms
from carbon_cpn.optim.commitment import default_uc_params
from carbon_cpn.optim.dispatch import DispatchResult
from carbon_cpn.optim.grid import GridModel


class SingleGrid:
    """One grid: ``grid_cfg`` with the scenario's commitment settings and dispatch."""

    def __init__(self, cfg: ScenarioConfig, grid_cfg: GridConfig, interval_h: float,
                 commitment: CommitmentSource | None = None) -> None:
        self.cfg = cfg
        self.grid_cfg = grid_cfg
        self.interval_h = interval_h
        self.grid: GridModel = build_grid(grid_cfg, cfg.commitment)
        self.dispatch = make_dispatch(cfg, self.grid, interval_h)
        #: A second dispatch model for the shadow day (its own warm-start basis).
        self.shadow_dispatch = make_dispatch(cfg, self.grid, interval_h)
        self.commitment: CommitmentSource = commitment if commitment is not None else AllUnitsCommitted()
        #: Units the real-time dispatch may start when the plan left them off, ``[gen]`` or None.
        self.fast_start = fast_start_units(cfg.commitment, self.grid)
        self.startup_usd = np.array([p.startup_cost_usd for p in default_uc_params(self.grid)])
        self.bus_ids = np.asarray(self.grid.bus_ids)
        self.n_bus, self.n_gen = self.grid.n_bus, self.grid.n_gen
        self.res_capacity_mw = np.array([u.capacity_mw for u in (*grid_cfg.solar, *grid_cfg.wind)])
        self.bess_energy_mwh = np.array([b.energy_mwh for b in grid_cfg.batteries])
        self.case_load_mw = float(self.grid.base_load_mw.sum())
        #: Thermal rating of every branch [MW] (inf: none).
        self.branch_rating_mw = np.asarray(self.grid.branch_rating_mw, dtype=float)

    def bus_position(self, bus: int, region: str = "") -> int:
        return self.grid.bus_position(bus)

    def nearest_node_of_farms(self, node_bus: np.ndarray) -> np.ndarray:
        return nearest_node_of_farms(self.grid, node_bus)

    def inputs(self, day: int, n_intervals: int) -> GridDay:
        return grid_inputs(self.grid_cfg, self.grid, day, n_intervals, self.interval_h)

    def committed(self, day: int, n_intervals: int) -> np.ndarray:
        return self.commitment.commitment(self.grid, day, n_intervals, self.interval_h)

    def initial_soc_mwh(self) -> np.ndarray:
        return initial_soc_mwh(self.grid_cfg)

    def reset_warm_start(self) -> None:
        self.dispatch.reset_warm_start()

    def solve(self, load_mw: np.ndarray, avail_mw: np.ndarray, soc_mwh: np.ndarray, committed: np.ndarray
              ) -> DispatchResult:
        return self.dispatch.solve(load_mw, avail_mw, soc_mwh, committed, fast_start=self.fast_start,
                                   fast_start_usd_per_mwh=self.cfg.commitment.fast_start_usd_per_mwh)

    def cost_usd(self, res: DispatchResult) -> tuple[float, float]:
        """Generation and lost-load cost of an interval [$]."""
        return dispatch_cost_usd(res, self.grid, self.interval_h)

    def shadow(self, day: GridDay, committed: np.ndarray, idle_bus_mw: np.ndarray) -> ShadowDay:
        return shadow_day(self.shadow_dispatch, self.grid, day, committed, idle_bus_mw, self.initial_soc_mwh(),
                          self.fast_start, self.cfg.commitment.fast_start_usd_per_mwh)


@dataclass(frozen=True)
class _Slices:
    bus: slice
    gen: slice
    res: slice
    bess: slice
    branch: slice


class RegionalGrids:
    """Several grids, each dispatched on its own, stacked region after region."""

    def __init__(self, cfg: ScenarioConfig, interval_h: float) -> None:
        if not cfg.regions:
            raise ValueError("cfg.regions=(): expected at least one region for RegionalGrids")
        self.cfg = cfg
        self.interval_h = interval_h
        self.names = tuple(r.name for r in cfg.regions)
        self.parts = tuple(SingleGrid(cfg, r.grid, interval_h) for r in cfg.regions)
        self.commitment = None
        self.slices: list[_Slices] = []
        off = np.zeros(5, dtype=int)
        for p in self.parts:
            sizes = (p.n_bus, p.n_gen, p.grid.n_res, len(p.grid.batteries), len(p.grid.branch_from))
            self.slices.append(_Slices(*(slice(int(o), int(o + s)) for o, s in zip(off, sizes))))
            off += sizes
        self.n_bus, self.n_gen = int(off[0]), int(off[1])
        self.bus_ids = np.concatenate([p.bus_ids for p in self.parts])
        #: Region index of every stacked bus, ``[bus]``.
        self.bus_region = np.concatenate([np.full(p.n_bus, k) for k, p in enumerate(self.parts)])
        self.startup_usd = np.concatenate([p.startup_usd for p in self.parts])
        self.fast_start = None
        self.res_capacity_mw = np.concatenate([p.res_capacity_mw for p in self.parts])
        self.bess_energy_mwh = np.concatenate([p.bess_energy_mwh for p in self.parts])
        self.case_load_mw = float(sum(p.case_load_mw for p in self.parts))
        self.branch_rating_mw = np.concatenate([p.branch_rating_mw for p in self.parts])
        self.overgen_penalty_per_bus = np.concatenate(
            [np.full(p.n_bus, p.grid.overgen_penalty_usd_per_mwh) for p in self.parts])

    def region_index(self, region: str) -> int:
        if region not in self.names:
            raise ValueError(f"region={region!r}: expected one of {list(self.names)}")
        return self.names.index(region)

    def bus_position(self, bus: int, region: str = "") -> int:
        k = self.region_index(region)
        return self.slices[k].bus.start + self.parts[k].bus_position(bus)

    def nearest_node_of_farms(self, node_bus: np.ndarray) -> np.ndarray:
        """For each farm, the nearest node of its own region (a region without nodes: -1)."""
        out = []
        for k, p in enumerate(self.parts):
            mine = np.flatnonzero(self.bus_region[node_bus] == k)
            if mine.size:
                local = np.asarray(node_bus)[mine] - self.slices[k].bus.start
                out.append(mine[p.nearest_node_of_farms(local)])
            else:
                out.append(np.full(p.grid.n_res, -1))
        return np.concatenate(out).astype(np.int64)

    def inputs(self, day: int, n_intervals: int) -> GridDay:
        days = [p.inputs(day, n_intervals) for p in self.parts]
        return GridDay(base_load_mw=np.hstack([d.base_load_mw for d in days]),
                       res_avail_mw=np.hstack([d.res_avail_mw for d in days]), hour_of_day=days[0].hour_of_day)

    def committed(self, day: int, n_intervals: int) -> np.ndarray:
        return np.hstack([p.committed(day, n_intervals) for p in self.parts])

    def initial_soc_mwh(self) -> np.ndarray:
        return np.concatenate([p.initial_soc_mwh() for p in self.parts])

    def reset_warm_start(self) -> None:
        for p in self.parts:
            p.reset_warm_start()

    def solve(self, load_mw: np.ndarray, avail_mw: np.ndarray, soc_mwh: np.ndarray, committed: np.ndarray
              ) -> DispatchResult:
        out = [p.solve(load_mw[s.bus], avail_mw[s.res], soc_mwh[s.bess], committed[s.gen])
               for p, s in zip(self.parts, self.slices)]
        return stack_results(out)

    def cost_usd(self, res: DispatchResult) -> tuple[float, float]:
        """Generation and lost-load cost of an interval [$], each region's over-generation at
        its own penalty (``grid_system.dispatch_cost_usd`` per region, summed)."""
        lost = res.shed_cost_usd_per_h + float(res.overgen_mw @ self.overgen_penalty_per_bus)
        return res.cost_usd_per_h * self.interval_h, lost * self.interval_h

    def shadow(self, day: GridDay, committed: np.ndarray, idle_bus_mw: np.ndarray) -> ShadowDay:
        days = [GridDay(day.base_load_mw[:, s.bus], day.res_avail_mw[:, s.res], day.hour_of_day) for s in self.slices]
        parts = [p.shadow(d, committed[:, s.gen], idle_bus_mw[s.bus]) for p, d, s in zip(self.parts, days, self.slices)]
        return ShadowDay(generation_usd=sum(x.generation_usd for x in parts), lost_load_usd=sum(x.lost_load_usd for x in parts),
                         emissions_kg=sum(x.emissions_kg for x in parts),
                         lmp_usd_per_mwh=np.hstack([x.lmp_usd_per_mwh for x in parts]),
                         mci_kg_per_mwh=np.hstack([x.mci_kg_per_mwh for x in parts]))


#: DispatchResult arrays and the stacked axis each lives on.
_AXES = {"gen_mw": "gen", "res_used_mw": "res", "curtail_mw": "res", "bess_charge_mw": "bess",
         "bess_discharge_mw": "bess", "bess_soc_end_mwh": "bess", "shed_mw": "bus", "overgen_mw": "bus",
         "line_flow_mw": "branch", "lmp_usd_per_mwh": "bus", "mci_kg_per_mwh": "bus"}
_SCALARS = ("cost_usd_per_h", "shed_cost_usd_per_h", "emissions_kg_per_h", "objective_usd_per_h")


def stack_results(parts: list[DispatchResult]) -> DispatchResult:
    """Regional results as one: arrays concatenated, $/h and kg/h summed; the status is the
    first that is not optimal, else optimal."""
    bad = [r.status for r in parts if not r.ok]
    started = None
    if any(r.started is not None for r in parts):
        started = np.concatenate([r.started if r.started is not None else np.zeros(r.gen_mw.size, bool) for r in parts])
    return DispatchResult(
        status=bad[0] if bad else "optimal",
        **{k: np.concatenate([getattr(r, k) for r in parts]) for k in _AXES},
        **{k: float(sum(getattr(r, k) for r in parts)) for k in _SCALARS},
        started=started,
    )


__all__ = ["RegionalGrids", "SingleGrid", "stack_results"]
