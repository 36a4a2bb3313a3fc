"""The scenario's power system: build the GridModel and its dispatch, and dispatch whole days.

``build_grid(cfg)`` is the only place a scenario's ``[grid]`` table meets pandapower; it runs
once per env. :class:`GridDay` holds one episode's per-interval inputs (base load by bus,
renewable availability) cut from the measured profiles.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from carbon_cpn.envs.config import CommitmentConfig, GridConfig, ScenarioError
from carbon_cpn.envs.profiles import Profiles, load_profiles
from carbon_cpn.optim.dispatch import EconomicDispatch
from carbon_cpn.optim.grid import GridModel, RenewableUnit


def build_grid(cfg: GridConfig, commitment: CommitmentConfig | None = None) -> GridModel:
    """Turn a ``[grid]`` table into a :class:`GridModel` (pandapower is used here only).

    ``commitment`` may set the thermal units' minimum stable output and no-load cost, which
    only matter when units can be switched off."""
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


def make_dispatch(cfg: GridConfig, grid: GridModel, interval_h: float) -> EconomicDispatch:
    return EconomicDispatch(grid, cfg.cost_model, n_segments=cfg.n_segments, interval_h=interval_h)  # type: ignore[arg-type]


@dataclass(frozen=True)
class DayDispatch:
    """A grid-only dispatch of consecutive intervals (no CPN load), interval by interval."""

    interval_h: float
    hour_of_day: np.ndarray  # [t]
    load_mw: np.ndarray  # [t] total base load
    thermal_mw: np.ndarray  # [t]
    solar_mw: np.ndarray  # [t] used
    wind_mw: np.ndarray  # [t] used
    curtail_mw: np.ndarray  # [t]
    bess_charge_mw: np.ndarray  # [t]
    bess_discharge_mw: np.ndarray  # [t]
    shed_mw: np.ndarray  # [t]
    lmp_usd_per_mwh: np.ndarray  # [t, bus]
    mci_kg_per_mwh: np.ndarray  # [t, bus]
    soc_mwh: np.ndarray  # [t, bess] at interval end
    cost_usd: np.ndarray  # [t] fuel cost of the interval
    emissions_kg: np.ndarray  # [t]


def dispatch_days(cfg: GridConfig, start_day: int, n_days: int = 1, interval_h: float = 0.25) -> DayDispatch:
    """Dispatch ``n_days`` of the scenario's grid with its batteries carried across intervals."""
    grid = build_grid(cfg)
    ed = make_dispatch(cfg, grid, interval_h)
    n = int(round(24 * n_days / interval_h))
    day = grid_inputs(cfg, grid, start_day, n, interval_h)
    soc = initial_soc_mwh(cfg)
    is_solar = np.array([True] * len(cfg.solar) + [False] * len(cfg.wind))
    rows = []
    for t in range(n):
        r = ed.solve(day.base_load_mw[t], day.res_avail_mw[t], soc)
        if not r.ok:
            raise RuntimeError(f"interval {t}: dispatch failed with status {r.status}")
        soc = np.clip(r.bess_soc_end_mwh, 0.0, None)
        rows.append(r)
    stack = np.array
    return DayDispatch(
        interval_h=interval_h,
        hour_of_day=day.hour_of_day,
        load_mw=day.base_load_mw.sum(axis=1),
        thermal_mw=stack([r.gen_mw.sum() for r in rows]),
        solar_mw=stack([r.res_used_mw[is_solar].sum() for r in rows]),
        wind_mw=stack([r.res_used_mw[~is_solar].sum() for r in rows]),
        curtail_mw=stack([r.curtail_mw.sum() for r in rows]),
        bess_charge_mw=stack([r.bess_charge_mw.sum() for r in rows]),
        bess_discharge_mw=stack([r.bess_discharge_mw.sum() for r in rows]),
        shed_mw=stack([r.shed_mw.sum() for r in rows]),
        lmp_usd_per_mwh=stack([r.lmp_usd_per_mwh for r in rows]),
        mci_kg_per_mwh=stack([r.mci_kg_per_mwh for r in rows]),
        soc_mwh=stack([r.bess_soc_end_mwh for r in rows]),
        cost_usd=stack([r.cost_usd_per_h for r in rows]) * interval_h,
        emissions_kg=stack([r.emissions_kg_per_h for r in rows]) * interval_h,
    )


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
