"""``IntervalOutcome``: everything one grid interval of the co-simulation produced.

The env builds one frozen outcome per interval from the compute model's
:class:`~carbon_cpn.envs.cpn.IntervalCompute` and the dispatch's
:class:`~carbon_cpn.optim.dispatch.DispatchResult`; the ledger (:mod:`carbon_cpn.envs.ledger`)
books it, the reward terms (:mod:`carbon_cpn.envs.rewards`) are functions of it, and the
observation, ``info``, views, render and wrappers read it. Nobody re-derives an interval's
numbers elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from carbon_cpn.envs.cpn import IntervalCompute
from carbon_cpn.optim.dispatch import DispatchResult
from carbon_cpn.optim.objective import ObjectiveTerms


@dataclass(frozen=True)
class SiteExchange:
    """How the nodes' load of an interval met the grid: each node's net draw at its bus
    (negative: export) and what on-site generation cost and emitted."""

    grid_mw: np.ndarray  # [node]
    generation_usd: float = 0.0
    emissions_kg: float = 0.0

    @staticmethod
    def from_grid(node_mw: np.ndarray) -> "SiteExchange":
        """No on-site energy: every node draws its whole load from the grid."""
        return SiteExchange(grid_mw=node_mw)


@dataclass(frozen=True)
class IntervalOutcome:
    """One interval ``[start_h, start_h + interval_h)``. Money in $, energy in MWh, emissions
    in kg over the interval unless the name says otherwise."""

    t: int  # interval index
    start_h: float  # hours since the episode start
    interval_h: float
    compute: IntervalCompute
    dispatch: DispatchResult
    base_load_mw: np.ndarray  # [bus]
    cpn_load_mw: np.ndarray  # [bus] the CPN's net draw from the grid (``site.grid_mw`` at the buses)
    soc_end_mwh: np.ndarray  # [battery], clipped to the batteries' energy
    node_lmp_usd_per_mwh: np.ndarray  # [node]
    node_mci_kg_per_mwh: np.ndarray  # [node]
    cpn_cost_usd: float  # the CPN's draw x the LMP at its buses, plus on-site generation cost
    cpn_emissions_kg: float  # the CPN's draw x the MCI at its buses, plus on-site emissions
    generation_usd: float  # the objective's generation term of the interval
    lost_load_usd: float  # the objective's lost-load term of the interval
    #: The objective's terms booked for the interval (grid and compute).
    booked: ObjectiveTerms
    #: Power a family adds at each node besides the compute model's sub-tasks (data transfers
    #: between regions, inference serving) [MW, node]; zeros where the family adds none.
    added_mw: np.ndarray
    #: How the nodes' load met the grid (on-site energy of microgrid sites; by default every
    #: node draws its whole load from its bus).
    site: SiteExchange
    #: Value of work the family delivered outside the compute model's jobs (e.g. inference
    #: served) [$]; part of ``booked.compute_value``.
    family_value_usd: float = 0.0

    @property
    def node_power_mw(self) -> np.ndarray:
        """Each node's facility load: servers, cooling and what the family adds [MW]."""
        return self.compute.node_power_mw + self.added_mw

    @property
    def emissions_kg(self) -> float:
        """The whole system's CO2 of the interval: the grid's units and on-site generators."""
        return self.dispatch.emissions_kg_per_h * self.interval_h + self.site.emissions_kg

    @property
    def node_energy_mwh(self) -> np.ndarray:
        return self.node_power_mw * self.interval_h

    @property
    def demand_mw(self) -> float:
        """Base load plus the CPN's load, the whole system [MW]."""
        return float(self.base_load_mw.sum() + self.cpn_load_mw.sum())

    @property
    def fast_start_mwh(self) -> float:
        """Energy from units the real-time dispatch started this interval."""
        started = self.dispatch.started
        if started is None or not started.any():
            return 0.0
        return float(self.dispatch.gen_mw[started].sum()) * self.interval_h

    def record(self) -> dict[str, Any]:
        """The interval as the plain dict of ``info["interval"]`` (the env's documented keys)."""
        res = self.dispatch
        dt = self.interval_h
        return {
            "t": self.t,
            "hour": self.start_h,
            "gen_mw": res.gen_mw,
            "res_used_mw": res.res_used_mw,
            "curtail_mw": res.curtail_mw,
            "shed_mw": res.shed_mw,
            "started": res.started,
            "overgen_mw": res.overgen_mw,
            "bess_charge_mw": res.bess_charge_mw,
            "bess_discharge_mw": res.bess_discharge_mw,
            "bess_soc_mwh": self.soc_end_mwh.copy(),
            "base_load_mw": self.base_load_mw.copy(),
            "cpn_load_mw": self.cpn_load_mw,
            "node_power_mw": self.node_power_mw,
            "node_grid_mw": self.site.grid_mw,
            "utilization": self.compute.utilization,
            "line_flow_mw": res.line_flow_mw,
            "lmp": res.lmp_usd_per_mwh,
            "mci": res.mci_kg_per_mwh,
            "cost": res.cost_usd_per_h * dt,
            "emissions": self.emissions_kg,
            "cpn_cost_usd": self.cpn_cost_usd,
            "cpn_emissions_kg": self.cpn_emissions_kg,
            "objective_usd": self.booked.total_usd,
        }


__all__ = ["IntervalOutcome", "SiteExchange"]
