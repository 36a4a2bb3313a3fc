"""``CarbonCPN-EastWest-v0``: the "East Data, West Computing" family.

After "Carbon-Computing Coupling Optimization and Green Scheduling System for Intelligent
Computing Centers" (Xie, Wei; c3o), Tables 1-2, on the shared core
(:class:`~carbon_cpn.envs.cosim_env.CoSimEnv`): two regions, each a grid of its own dispatched
every interval (``envs/scenarios/east_west.toml``: a coal-heavy, load-heavy East on case30; a
West on case14 rich in wind and solar), GPU-dense eastern nodes (PUE 1.67) and CPU-rich
western nodes (PUE 1.22), and a cross-region link (``[link]``: latency, bandwidth, energy per
GB). Carbon intensities and prices come from the dispatched grids, not from a file.

Data locality. Each job's data lives in a home region, drawn at arrival (``link.home_share``)
from the family's own random stream ``"data_locality"``, so the arrivals are those the core
draws. A sub-task placed in the other region first pulls its job's data (the type's
``data_gb``) over the link: its servers are held ``latency + size / bandwidth`` longer than its
run. The transfer's network energy (``energy_kwh_per_gb``) is reported
(``episode_metrics["transfer_mwh"]``) but not drawn from either grid in this version.

Spaces, reward and the objective are those of ``CarbonCPN-v0`` (:mod:`carbon_cpn.envs.cpn_env`):
``Discrete(2 x nodes + 1)`` placements or defer, the same observation blocks over both regions'
nodes, farms and batteries, the objective reward against a shadow day of both grids.
``episode_metrics`` adds, per region (``east_``/``west_`` prefixes): the CPN's energy and
emissions and the demand-weighted mean MCI at the region's buses; and the western nodes' mean
server utilization, cross-region placements and transferred GB.

Not yet in this version (issue #16): migration of running tasks, component failures and the
digital twin, the carbon-flow field in the observation, and the paper's Tables 7-8.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from carbon_cpn.envs.action_codec import Assignment
from carbon_cpn.envs.cosim_env import CoSimEnv
from carbon_cpn.envs.outcome import IntervalOutcome
from carbon_cpn.envs.power_side import RegionalGrids
from carbon_cpn.envs.workload import JobBatch


class EastWestEnv(CoSimEnv):
    def __init__(self, scenario: Any = "east_west", render_mode: str | None = None, **overrides: Any) -> None:
        super().__init__(scenario, render_mode=render_mode, **overrides)
        if not isinstance(self.power, RegionalGrids):
            raise ValueError(f"scenario={self.cfg.name!r}: expected a scenario with [[regions]]")
        self.region_names = self.power.names
        self.node_region = np.array([self.power.region_index(nd.region) for nd in self.cfg.cpn.nodes], dtype=np.int64)
        n_reg = len(self.region_names)
        share = np.asarray(self.cfg.link.home_share or [1.0 / n_reg] * n_reg, dtype=float)
        self.home_cdf = np.cumsum(share / share.sum())
        self.type_data_gb = np.array([t.data_gb for t in self.cfg.workload.types])

    # ------------------------------------------------------------------ family hooks
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict[str, Any]]:
        self.job_home = np.zeros(0, dtype=np.int64)
        self.job_data_gb = np.zeros(0)
        self.transfer_gb = 0.0
        self.cross_region = 0
        self.placed = 0
        n_reg = len(self.region_names)
        self.region_cpn_mwh = np.zeros(n_reg)
        self.region_cpn_kg = np.zeros(n_reg)
        self.region_mci_mwh = np.zeros(n_reg)  # sum of MCI x demand
        self.region_demand_mwh = np.zeros(n_reg)
        self.west_busy = 0.0
        self.n_booked = 0
        return super().reset(seed=seed, options=options)


    def jobs_arrived(self, batch: JobBatch, first_job: int) -> None:
        rng = self.streams.extra("data_locality")
        u = rng.random(batch.n_jobs)
        home = np.minimum(np.searchsorted(self.home_cdf, u, side="right"), self.home_cdf.size - 1)
        self.job_home = np.concatenate([self.job_home, home])
        self.job_data_gb = np.concatenate([self.job_data_gb, self.type_data_gb[batch.type_index]])

    def place(self, task: int, assignment: Assignment) -> bool:
        cpn = self.cpn
        if cpn.free[assignment.node, assignment.resource] < cpn.t_units[task]:
            return False
        job = int(cpn.t_job[task])
        delay = 0.0
        if self.node_region[assignment.node] != self.job_home[job]:
            gb = float(self.job_data_gb[job])
            delay = float(self.cfg.link.transfer_h(gb))
            self.transfer_gb += gb
            self.cross_region += 1
        self.placed += 1
        cpn.assign(task, assignment.node, assignment.resource, self.now_h, delay_h=delay)
        return True

    def interval_booked(self, o: IntervalOutcome) -> None:
        """Per-region totals of the interval."""
        dt = o.interval_h
        e = o.node_energy_mwh
        self.region_cpn_mwh += np.bincount(self.node_region, weights=e, minlength=len(self.region_names))
        self.region_cpn_kg += np.bincount(self.node_region, weights=e * o.node_mci_kg_per_mwh,
                                          minlength=len(self.region_names))
        demand = (o.base_load_mw + o.cpn_load_mw) * dt
        reg = self.power.bus_region
        self.region_demand_mwh += np.bincount(reg, weights=demand, minlength=len(self.region_names))
        self.region_mci_mwh += np.bincount(reg, weights=demand * o.dispatch.mci_kg_per_mwh,
                                           minlength=len(self.region_names))
        west = self.node_region == self.region_names.index("west") if "west" in self.region_names else None
        if west is not None and west.any():
            util = o.compute.utilization[west]
            cap = self.cpn.capacity[west].astype(float)
            self.west_busy += float((util * cap).sum() / max(cap.sum(), 1.0))
        self.n_booked += 1

    def episode_metrics(self) -> dict[str, float]:
        m = super().episode_metrics()
        for k, name in enumerate(self.region_names):
            m[f"{name}_cpn_energy_mwh"] = float(self.region_cpn_mwh[k])
            m[f"{name}_cpn_emissions_tco2"] = float(self.region_cpn_kg[k]) / 1000.0
            m[f"{name}_mean_mci_kg_per_kwh"] = float(self.region_mci_mwh[k] / max(self.region_demand_mwh[k], 1e-9)) / 1000.0
        m["western_utilization"] = self.west_busy / max(self.n_booked, 1)
        m["cross_region_placements"] = float(self.cross_region)
        m["transfer_gb"] = self.transfer_gb
        m["transfer_mwh"] = self.transfer_gb * self.cfg.link.energy_kwh_per_gb / 1000.0
        return m


__all__ = ["EastWestEnv"]
