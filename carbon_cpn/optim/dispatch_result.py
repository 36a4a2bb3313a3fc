"""What the real-time economic dispatch returns (:class:`DispatchResult`) and how it checks
its input (:class:`DispatchInputError`); the model is :mod:`carbon_cpn.optim.dispatch`."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from carbon_cpn.optim.grid import GridModel

__all__ = ["DispatchInputError", "DispatchResult", "check_inputs", "check_vector", "failed_result"]


class DispatchInputError(ValueError):
    """Input to :meth:`EconomicDispatch.solve` of the wrong shape, sign or value."""


@dataclass(frozen=True)
class DispatchResult:
    """One interval's dispatch. Arrays are labelled by their axis; MW are interval averages."""

    #: "optimal", or HiGHS's model status text when the solve failed (arrays are then NaN).
    status: str
    #: Thermal unit output [MW], ``[gen]``.
    gen_mw: np.ndarray
    #: Renewable output used [MW], ``[res]``.
    res_used_mw: np.ndarray
    #: Renewable availability not used [MW], ``[res]``.
    curtail_mw: np.ndarray
    #: Battery charging power drawn from the grid [MW], ``[bess]``.
    bess_charge_mw: np.ndarray
    #: Battery discharging power delivered to the grid [MW], ``[bess]``.
    bess_discharge_mw: np.ndarray
    #: Battery state of charge at the end of the interval [MWh], ``[bess]``.
    bess_soc_end_mwh: np.ndarray
    #: Load not served [MW], ``[bus]``.
    shed_mw: np.ndarray
    #: Generation no load could absorb (must-run output) [MW], ``[bus]``.
    overgen_mw: np.ndarray
    #: Active power flow, positive from the branch's from-end [MW], ``[branch]``.
    line_flow_mw: np.ndarray
    #: Locational marginal price [$/MWh], ``[bus]``.
    lmp_usd_per_mwh: np.ndarray
    #: Marginal carbon intensity [kg CO2/MWh], ``[bus]``.
    mci_kg_per_mwh: np.ndarray
    #: Fuel cost of the thermal units under the active cost model, no-load cost included [$/h].
    cost_usd_per_h: float
    #: Value of lost load paid for shedding [$/h].
    shed_cost_usd_per_h: float
    #: CO2 emissions of the thermal units [kg/h].
    emissions_kg_per_h: float
    #: The LP/QP objective [$/h] (fuel, carbon, shedding, over-generation and storage-value terms).
    objective_usd_per_h: float
    #: Uncommitted fast-start units the dispatch started for this interval, ``[gen]`` bool
    #: (see ``fast_start`` of :meth:`EconomicDispatch.solve`).
    started: np.ndarray | None = None

    @property
    def ok(self) -> bool:
        return self.status == "optimal"


def failed_result(grid: GridModel, status: str) -> DispatchResult:
    """The result of a failed solve: ``status`` and NaN arrays of the right shapes."""
    g = grid
    nan = np.nan

    def full(n: int) -> np.ndarray:
        return np.full(n, nan)

    return DispatchResult(
        status=status, gen_mw=full(g.n_gen), res_used_mw=full(g.n_res), curtail_mw=full(g.n_res),
        bess_charge_mw=full(g.n_bess), bess_discharge_mw=full(g.n_bess), bess_soc_end_mwh=full(g.n_bess),
        shed_mw=full(g.n_bus), overgen_mw=full(g.n_bus), line_flow_mw=full(g.n_branch),
        lmp_usd_per_mwh=full(g.n_bus), mci_kg_per_mwh=full(g.n_bus), cost_usd_per_h=nan,
        shed_cost_usd_per_h=nan, emissions_kg_per_h=nan, objective_usd_per_h=nan,
        started=np.zeros(g.n_gen, dtype=bool),
    )


def check_vector(name: str, value: np.ndarray, n: int) -> np.ndarray:
    """``value`` as a float vector of length ``n``, or a :class:`DispatchInputError`."""
    arr = np.asarray(value, dtype=float)
    if arr.shape != (n,):
        raise DispatchInputError(f"{name}: shape {arr.shape}; expected ({n},)")
    return arr


def check_inputs(
    g: GridModel, load_mw: np.ndarray, res_avail_mw: np.ndarray | None, bess_soc_mwh: np.ndarray | None,
    committed: np.ndarray | None, fast_start: np.ndarray | None, fast_start_usd_per_mwh: float, *,
    default_avail: np.ndarray, default_soc: np.ndarray, bess_cap_mwh: np.ndarray, all_on: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    """The arguments of :meth:`EconomicDispatch.solve` checked, with their defaults: load
    ``[bus]``, renewable availability ``[res]``, SOC ``[bess]``, commitment ``[gen]`` as 0/1
    floats, and the uncommitted fast-start units ``[gen]`` bool (None when there are none)."""
    load = check_vector("load_mw", load_mw, g.n_bus)
    if not math.isfinite(float(load.sum())):  # a NaN or inf anywhere makes the sum non-finite
        bad = int(np.flatnonzero(~np.isfinite(load))[0])
        raise DispatchInputError(f"load_mw[{bad}]={float(load[bad])!r}: expected finite MW values")
    if res_avail_mw is None:
        avail = default_avail
    else:
        avail = check_vector("res_avail_mw", res_avail_mw, g.n_res)
        if not (np.all(np.isfinite(avail)) and np.all(avail >= 0)):
            bad = int(np.flatnonzero(~(np.isfinite(avail) & (avail >= 0)))[0])
            raise DispatchInputError(f"res_avail_mw[{bad}]={float(avail[bad])!r}: expected a finite capacity >= 0 MW")
    if bess_soc_mwh is None:
        soc = default_soc
    else:
        soc = check_vector("bess_soc_mwh", bess_soc_mwh, g.n_bess)
        cap = bess_cap_mwh
        if not (np.all(np.isfinite(soc)) and np.all(soc >= -1e-9) and np.all(soc <= cap + 1e-9)):
            bad = int(np.flatnonzero(~(np.isfinite(soc) & (soc >= -1e-9) & (soc <= cap + 1e-9)))[0])
            raise DispatchInputError(f"bess_soc_mwh[{bad}]={float(soc[bad])!r}: expected a value in [0, {float(cap[bad])}] MWh")
    if committed is None:
        on = all_on
    else:
        on_arr = np.asarray(committed)
        if on_arr.shape != (g.n_gen,):
            raise DispatchInputError(f"committed: shape {on_arr.shape}; expected ({g.n_gen},), one flag per unit")
        on = on_arr.astype(bool).astype(float)
    quick = None
    if fast_start is not None:
        fs = np.asarray(fast_start)
        if fs.shape != (g.n_gen,):
            raise DispatchInputError(f"fast_start: shape {fs.shape}; expected ({g.n_gen},), one flag per unit")
        if not (math.isfinite(fast_start_usd_per_mwh) and fast_start_usd_per_mwh >= 0):
            raise DispatchInputError(f"fast_start_usd_per_mwh={fast_start_usd_per_mwh!r}: expected a finite number >= 0")
        quick = fs.astype(bool) & (on == 0.0)
        if not quick.any():
            quick = None
    return load, avail, soc, on, quick
