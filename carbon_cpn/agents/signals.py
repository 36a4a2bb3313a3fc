"""Grid signals fixed before an episode, for the static and decoupled baselines (issue #6).

* :func:`static_node_mci` — SCAS (§4 baselines of "Carbon-Computing Coupling Optimization and
  Green Scheduling System for Intelligent Computing Centers", Xie, Wei; c3o: "fixed carbon
  intensity values"): the average marginal carbon intensity at each node's bus over grid-only
  dispatches of a few reference days spread over the year. Computed once per scenario and never
  updated.
* :func:`day_ahead_node_profile` — DC-Frame (§V.B of "A Novel Hierarchical Co-Optimization
  Framework for Coordinated Task Scheduling and Power Dispatch in Computing Power Networks",
  Luo, Yang, Huang, Dustdar; tsco): "the power system operation is
  optimized first to generate a fixed 24-hour profile of electricity prices and carbon
  intensities". If the env's commitment source publishes a day-ahead profile (the unit-
  commitment plan of ``CarbonCPN-v0``) it is used; else (``CarbonCPN-AllOn-v0``, Tiny) the env's
  shadow day (the episode's grid dispatched with the CPN idle, so no feedback from the
  schedule) gives the profile.

Both come from the env's own grid: the commitment's Pmin and no-load costs, the units the
scenario's commitment source commits, the carbon price in the offers (``carbon_cpn/envs/day_dispatch.py``).
The static intensities are cached in-process per scenario, because dispatching a day takes
about a second and the leaderboard builds a policy per seed.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from carbon_cpn.envs.config import ScenarioConfig
from carbon_cpn.envs.day_dispatch import dispatch_days

if TYPE_CHECKING:  # pragma: no cover
    from carbon_cpn.envs.cpn_env import CarbonCPNEnv

#: Reference days of the profile year for SCAS's static intensities (mid-Jan/Apr/Jul/Oct):
#: one per season, so the static value is a year-round average, not the episode's day.
SCAS_REFERENCE_DAYS: tuple[int, ...] = (15, 105, 196, 288)


@dataclass(frozen=True)
class NodeProfile:
    """Per-interval LMP and MCI at the CPN nodes, fixed before the episode."""

    lmp_usd_per_mwh: np.ndarray  # [t, node]
    mci_kg_per_mwh: np.ndarray  # [t, node]
    source: str  # "day_ahead_plan" or "grid_only_dispatch"


@lru_cache(maxsize=16)
def _static_bus_mci(cfg: ScenarioConfig, interval_h: float, days: tuple[int, ...]) -> np.ndarray:
    mci = [dispatch_days(cfg, d, 1, interval_h).mci_kg_per_mwh for d in days]  # each [t, bus]
    return np.concatenate(mci, axis=0).mean(axis=0)  # [bus]


def static_node_mci(env: CarbonCPNEnv, days: tuple[int, ...] = SCAS_REFERENCE_DAYS) -> np.ndarray:
    """Average MCI [kg/MWh] at each CPN node's bus over grid-only dispatches of ``days``, ``[node]``."""
    u = env.unwrapped
    if not days or any(not (0 <= int(d) <= 364) for d in days):
        raise ValueError(f"days={days!r}: expected a non-empty tuple of days in [0, 364]")
    if u.cfg.regions:  # regional grids: each region's grid-only dispatch of the days, CPN idle
        p = u.power
        n = int(round(24.0 / u.interval_h))
        mci = [p.shadow(p.inputs(int(d), n), p.committed(int(d), n), u.idle_bus_mw).mci_kg_per_mwh for d in days]
        return np.concatenate(mci, axis=0).mean(axis=0)[u.node_bus].copy()
    bus_mci = _static_bus_mci(u.cfg, float(u.interval_h), tuple(int(d) for d in days))
    return bus_mci[u.node_bus].copy()


def day_ahead_node_profile(env: CarbonCPNEnv) -> NodeProfile:
    """The fixed day-ahead LMP/MCI profile of the episode's day at the CPN nodes, ``[t, node]``
    at the env's interval resolution (a coarser plan is held constant within its periods)."""
    u = env.unwrapped
    n = u.n_intervals
    profile = getattr(u.commitment, "day_ahead_profile", None)  # the same hook SchedulerView reads
    if profile is not None:
        lmp, mci = (np.asarray(a) for a in profile(u.day))  # [period, bus]
        source = "day_ahead_plan"
    else:
        shadow = u.shadow_day
        lmp, mci = shadow.lmp_usd_per_mwh, shadow.mci_kg_per_mwh
        source = "grid_only_dispatch"
    steps = lmp.shape[0]
    t_h = np.arange(n) * u.interval_h  # start of each env interval [h]
    if source == "day_ahead_plan":  # one day of plan periods, repeated for multi-day episodes
        row = np.minimum(((t_h % 24.0) / 24.0 * steps).astype(np.int64), steps - 1)
    else:  # the dispatched days at the env's own resolution
        row = np.minimum(np.round(t_h / u.interval_h).astype(np.int64), steps - 1)
    return NodeProfile(lmp_usd_per_mwh=lmp[row][:, u.node_bus].copy(), mci_kg_per_mwh=mci[row][:, u.node_bus].copy(),
                       source=source)
