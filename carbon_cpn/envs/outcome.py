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
class IntervalOutcome:
    """One interval ``[start_h, start_h + interval_h)``. Money in $, energy in MWh, emissions
    in kg over the interval unless the name says otherwise."""

    t: int  # interval index
    start_h: float  # hours since the episode start
    interval_h: float
    compute: IntervalCompute
    dispatch: DispatchResult
    base_load_mw: np.ndarray  # [bus]
    cpn_load_mw: np.ndarray  # [bus]
    soc_end_mwh: np.ndarray  # [battery], clipped to the batteries' energy
    node_lmp_usd_per_mwh: np.ndarray  # [node]
    node_mci_kg_per_mwh: np.ndarray  # [node]
    cpn_cost_usd: float  # the CPN's energy x the LMP at its buses
    cpn_emissions_kg: float  # the CPN's energy x the MCI at its buses
    generation_usd: float  # the objective's generation term of the interval
    lost_load_usd: float  # the objective's lost-load term of the interval
    #: The objective's terms booked for the interval (grid and compute).
    booked: ObjectiveTerms
    #: Power a family's network draws at each node's bus besides its servers (e.g. data
    #: transfers between regions) [MW, node]; zeros where the family has none.
    network_mw: np.ndarray

    @property
    def node_power_mw(self) -> np.ndarray:
        """Each node's power drawn from its bus: servers, cooling and network [MW]."""
        return self.compute.node_power_mw + self.network_mw

    @property
    def emissions_kg(self) -> float:
        """The whole system's CO2 of the interval."""
        return self.dispatch.emissions_kg_per_h * self.interval_h

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
            "utilization": self.compute.utilization,
            "line_flow_mw": res.line_flow_mw,
            "lmp": res.lmp_usd_per_mwh,
            "mci": res.mci_kg_per_mwh,
            "cost": res.cost_usd_per_h * dt,
            "emissions": res.emissions_kg_per_h * dt,
            "cpn_cost_usd": self.cpn_cost_usd,
            "cpn_emissions_kg": self.cpn_emissions_kg,
            "objective_usd": self.booked.total_usd,
        }


__all__ = ["IntervalOutcome"]
