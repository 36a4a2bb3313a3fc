"""The scenario's power system: build the GridModel and its dispatch, and dispatch whole days.

``build_grid(cfg)`` is the only place a scenario's ``[grid]`` table meets pandapower; it runs
once per env. :class:`GridDay` holds one episode's per-interval inputs (base load by bus,
renewable availability) cut from the measured profiles.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol

import numpy as np

from carbon_cpn.envs.config import CommitmentConfig, GridConfig, ScenarioConfig, ScenarioError
from carbon_cpn.envs.profiles import Profiles, load_profiles
from carbon_cpn.optim.dispatch import DispatchResult, EconomicDispatch
from carbon_cpn.optim.grid import GridModel, RenewableUnit


def build_grid(cfg: GridConfig, commitment: CommitmentConfig | None = None) -> GridModel:
    """Turn a ``[grid]`` table into a :class:`GridModel` (pandapower is used here only).

    ``commitment`` may set the thermal units' minimum stable output and no-load cost, which
    only matter when units can be switched off. The model is built once per process for each
    pair of (frozen) tables and shared: its arrays are read-only."""
    return _cached_grid(cfg, commitment)


@lru_cache(maxsize=16)
def _cached_grid(cfg: GridConfig, commitment: CommitmentConfig | None) -> GridModel:
    grid = _pandapower_grid(cfg, commitment)
    for f in dataclasses.fields(grid):
        value = getattr(grid, f.name)
        if isinstance(value, np.ndarray):
            value.setflags(write=False)
    return grid


def _pandapower_grid(cfg: GridConfig, commitment: CommitmentConfig | None) -> GridModel:
    import pandapower.networks as pn

    maker = getattr(pn, cfg.case, None)
    if maker is None or not callable(maker):
        raise ScenarioError(f"grid.case={cfg.case!r}: expected a function of pandapower.networks such as 'case30'")
    net = maker()
    for table, col in (("poly_cost", "cp1_eur_per_mw"), ("poly_cost", "cp2_eur_per_mw2"), ("poly_cost", "cp0_eur")):
        getattr(net, table)[col] = getattr(net, table)[col] * cfg.cost_scale
    net.load["p_mw"] = net.load["p_mw"] * cfg.load_scale
    if commitment is not None and commitment.pmin_frac > 0:
        for table in (net.gen, net.ext_grid):
            table["min_p_mw"] = np.maximum(table["min_p_mw"].fillna(0.0), commitment.pmin_frac * table["max_p_mw"])
    if commitment is not None and commitment.no_load_usd_per_mw_h > 0:
        cap = {("ext_grid", i): float(p) for i, p in net.ext_grid["max_p_mw"].items()}
        cap.update({("gen", i): float(p) for i, p in net.gen["max_p_mw"].items()})
        net.poly_cost["cp0_eur"] = [
            c0 + commitment.no_load_usd_per_mw_h * cap.get((et, int(el)), 0.0)
            for c0, et, el in zip(net.poly_cost["cp0_eur"], net.poly_cost["et"], net.poly_cost["element"])
        ]
    if "max_loading_percent" in net.line:
        net.line["max_loading_percent"] = net.line["max_loading_percent"] * cfg.rating_scale
    if "max_loading_percent" in net.trafo:
        net.trafo["max_loading_percent"] = net.trafo["max_loading_percent"] * cfg.rating_scale
    for lr in cfg.line_ratings:
        ends = {lr.from_bus, lr.to_bus}
        hit = [i for i, (f, t) in zip(net.line.index, zip(net.line.from_bus, net.line.to_bus)) if {int(f), int(t)} == ends]
        if not hit:
            raise ScenarioError(f"grid.line_ratings: from_bus={lr.from_bus}, to_bus={lr.to_bus}: expected the bus "
                                f"labels of a line of {cfg.case}")
        for i in hit:
            kv = float(net.bus.vn_kv.loc[net.line.from_bus.loc[i]])
            loading = float(net.line.max_loading_percent.loc[i]) if "max_loading_percent" in net.line else 100.0
            net.line.loc[i, "max_i_ka"] = lr.rating_mw / (np.sqrt(3.0) * kv * loading / 100.0)
    profiles = load_profiles()
    res = []
    for kind, units in (("solar", cfg.solar), ("wind", cfg.wind)):
        for u in units:
            if u.profile not in profiles.columns:
                raise ScenarioError(f"{u.name}.profile={u.profile!r}: expected one of {profiles.names()}")
            res.append(RenewableUnit(u.name, u.bus, u.capacity_mw, kind))
    return GridModel.from_pandapower(
        net, fuels=cfg.fuels or None, renewables=res, batteries=cfg.batteries, voll_usd_per_mwh=cfg.voll_usd_per_mwh,
        overgen_penalty_usd_per_mwh=cfg.voll_usd_per_mwh,
    )


@dataclass(frozen=True)
class GridDay:
    """Per-interval grid inputs of one episode."""

    #: Base (non-CPN) load [MW], ``[t, bus]``.
    base_load_mw: np.ndarray
    #: Renewable availability [MW], ``[t, res]``.
    res_avail_mw: np.ndarray
    #: Hour of day at the start of each interval, ``[t]``.
    hour_of_day: np.ndarray


def grid_inputs(cfg: GridConfig, grid: GridModel, start_day: int, n_intervals: int, interval_h: float,
                profiles: Profiles | None = None) -> GridDay:
    """Base load and renewable availability for ``n_intervals`` from ``start_day`` 00:00.

    Base load = the case's load by bus x the measured system-load shape (peak 1.0).
    """
    prof = profiles or load_profiles()
    start_hour = 24.0 * start_day
    shape = prof.window("load", start_hour, n_intervals, interval_h)
    base = shape[:, None] * grid.base_load_mw[None, :]
    cols = [prof.window(u.profile, start_hour, n_intervals, interval_h) * u.capacity_mw for u in (*cfg.solar, *cfg.wind)]
    avail = np.column_stack(cols) if cols else np.zeros((n_intervals, 0))
    hours = (np.arange(n_intervals) * interval_h) % 24.0
    return GridDay(base_load_mw=base, res_avail_mw=np.maximum(avail, 0.0), hour_of_day=hours)


def initial_soc_mwh(cfg: GridConfig) -> np.ndarray:
    return np.array([b.soc_init_frac * b.energy_mwh for b in cfg.batteries])


def make_dispatch(cfg: ScenarioConfig, grid: GridModel, interval_h: float) -> EconomicDispatch:
    """The scenario's real-time dispatch: its cost model, and the carbon price in the offers."""
    return EconomicDispatch(grid, cfg.grid.cost_model, n_segments=cfg.grid.n_segments, interval_h=interval_h,  # type: ignore[arg-type]
                            carbon_price_usd_per_t=cfg.grid_carbon_price_usd_per_t)


def fast_start_units(cfg: CommitmentConfig, grid: GridModel) -> np.ndarray | None:
    """Units the real-time dispatch may start when the plan left them off, ``[gen]`` bool
    (``commitment.fast_start_fuels``), or None when there are none."""
    fs = np.array([f in cfg.fast_start_fuels for f in grid.gen_fuels], dtype=bool)
    return fs if fs.any() else None


@dataclass(frozen=True)
class ShadowDay:
    """The episode's grid dispatched interval by interval with the CPN at idle and no jobs
    (the reference the default reward is booked against), per interval ``[t]``."""

    generation_usd: np.ndarray  # fuel + no-load + fast-start adder
    lost_load_usd: np.ndarray  # VOLL x shed + penalty x over-generation
    emissions_kg: np.ndarray
    lmp_usd_per_mwh: np.ndarray  # [t, bus]
    mci_kg_per_mwh: np.ndarray  # [t, bus]


def dispatch_cost_usd(res: DispatchResult, grid: GridModel, interval_h: float) -> tuple[float, float]:
    """An interval's generation cost and lost-load cost [$] (``carbon_cpn.optim.objective``)."""
    lost = res.shed_cost_usd_per_h + grid.overgen_penalty_usd_per_mwh * float(res.overgen_mw.sum())
    return res.cost_usd_per_h * interval_h, lost * interval_h


def shadow_day(ed: EconomicDispatch, grid: GridModel, day: GridDay, committed: np.ndarray, idle_bus_mw: np.ndarray,
               soc0_mwh: np.ndarray, fast_start: np.ndarray | None, fast_start_usd_per_mwh: float) -> ShadowDay:
    """Dispatch every interval of ``day`` within ``committed`` ``[t, gen]`` with only
    ``idle_bus_mw`` ``[bus]`` added to the base load, batteries carried over."""
    n = day.base_load_mw.shape[0]
    gen, lost, emis = np.zeros(n), np.zeros(n), np.zeros(n)
    lmp, mci = np.zeros((n, grid.n_bus)), np.zeros((n, grid.n_bus))
    soc = soc0_mwh.copy()
    ed.reset_warm_start()
    for t in range(n):
        r = ed.solve(day.base_load_mw[t] + idle_bus_mw, day.res_avail_mw[t], soc, committed[t], fast_start=fast_start,
                     fast_start_usd_per_mwh=fast_start_usd_per_mwh)
        if not r.ok:
            raise RuntimeError(f"shadow interval {t}: the dispatch returned status {r.status}")
        soc = np.clip(r.bess_soc_end_mwh, 0.0, None)
        gen[t], lost[t] = dispatch_cost_usd(r, grid, ed.interval_h)
        emis[t] = r.emissions_kg_per_h * ed.interval_h
        lmp[t], mci[t] = r.lmp_usd_per_mwh, r.mci_kg_per_mwh
    return ShadowDay(generation_usd=gen, lost_load_usd=lost, emissions_kg=emis, lmp_usd_per_mwh=lmp, mci_kg_per_mwh=mci)


class CommitmentSource(Protocol):
    """Where the real-time dispatch gets its unit commitment from (the day-ahead plan)."""

    def commitment(self, grid: GridModel, day: int, n_intervals: int, interval_h: float) -> np.ndarray:
        """Which units are on, ``[t, gen]`` bool, for the episode starting on ``day``."""
        ...


class AllUnitsCommitted:
    """The placeholder rule until the day-ahead unit commitment lands (issue #3, item 5):
    every thermal unit is available in every interval, between its Pmin and Pmax."""

    def commitment(self, grid: GridModel, day: int, n_intervals: int, interval_h: float) -> np.ndarray:
        return np.ones((n_intervals, grid.n_gen), dtype=bool)
