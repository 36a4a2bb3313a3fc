"""Whole days of a scenario's grid dispatched without the CPN (``carbon-cpn dispatch-day``,
SCAS's static intensities).

The grid is the env's own: ``build_grid`` with the commitment's Pmin and no-load costs, the
units the scenario's commitment source (the day-ahead plan, or every unit on) commits, the
carbon price in the offers and the fast-start recourse, so every consumer sees the prices and
intensities of the system the env dispatches.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from carbon_cpn.envs.config import ScenarioConfig
from carbon_cpn.envs.day_ahead import make_commitment
from carbon_cpn.envs.grid_system import build_grid, fast_start_units, grid_inputs, initial_soc_mwh, make_dispatch


@dataclass(frozen=True)
class DayDispatch:
    """A grid-only dispatch of consecutive intervals (no CPN load), interval by interval."""

    committed_unit_hours: float

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
    cost_usd: np.ndarray  # [t] fuel cost of the interval (no-load and fast-start adder included)
    emissions_kg: np.ndarray  # [t]


def dispatch_days(cfg: ScenarioConfig, start_day: int, n_days: int = 1, interval_h: float = 0.25) -> DayDispatch:
    """Dispatch ``n_days`` of the scenario's grid (module docstring) with its batteries carried
    across intervals and no CPN load."""
    grid = build_grid(cfg.grid, cfg.commitment)
    ed = make_dispatch(cfg, grid, interval_h)
    n = int(round(24 * n_days / interval_h))
    day = grid_inputs(cfg.grid, grid, start_day, n, interval_h)
    committed = make_commitment(cfg, grid).commitment(grid, start_day, n, interval_h)
    fast = fast_start_units(cfg.commitment, grid)
    soc = initial_soc_mwh(cfg.grid)
    is_solar = np.array([True] * len(cfg.grid.solar) + [False] * len(cfg.grid.wind))
    rows = []
    for t in range(n):
        r = ed.solve(day.base_load_mw[t], day.res_avail_mw[t], soc, committed[t], fast_start=fast,
                     fast_start_usd_per_mwh=cfg.commitment.fast_start_usd_per_mwh)
        if not r.ok:
            raise RuntimeError(f"interval {t}: dispatch failed with status {r.status}")
        soc = np.clip(r.bess_soc_end_mwh, 0.0, None)
        rows.append(r)
    stack = np.array
    return DayDispatch(
        committed_unit_hours=float(committed.sum() * interval_h),
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


