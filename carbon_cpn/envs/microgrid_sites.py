"""The sites' energy dispatch of ``CarbonCPN-Microgrid-v0``: one LP per interval, all sites at
once, built once in highspy and re-solved by changing bounds and costs.

For each site ``s`` (Δ = the interval) the LP chooses on-site renewables used ``ren``
(<= available), generator output ``gen`` (<= capacity), battery charge ``ch`` and discharge
``dis`` (<= power; the state of charge stays in [0, energy]), imports ``imp`` and exports ``exp``
(<= the connection's limits; exports only out of the site's own production,
``exp <= ren + gen + dis``) so that ``ren + gen + dis - ch + imp - exp = load``, at least cost::

    Δ (gen_cost + cp gen_kg) gen + Δ (price + cp mci) imp - Δ export_price exp
        - w Δ (eff ch - dis / eff)

with ``cp`` the carbon price [$/kg], ``price`` and ``mci`` the day-ahead forecast of the LMP and
marginal intensity at the site's bus for the interval (the grid's price is only known after
the grid's dispatch, which the sites' net draw enters), and ``w`` the value of stored energy:
the day's mean forecast import cost at the bus (so the battery charges below it and discharges
above it, after losses). The sites decide, the grid dispatch then prices their net draw.
"""

from __future__ import annotations

from dataclasses import dataclass

import highspy
import numpy as np

from carbon_cpn.optim.highs_factory import new_highs

#: Columns of each site, in order.
COLUMNS = ("ren", "gen", "ch", "dis", "imp", "exp")


@dataclass(frozen=True)
class SiteDispatchResult:
    """One interval of every site, ``[site]`` MW (``soc_end_mwh`` MWh)."""

    renewable_mw: np.ndarray
    gen_mw: np.ndarray
    charge_mw: np.ndarray
    discharge_mw: np.ndarray
    import_mw: np.ndarray
    export_mw: np.ndarray
    soc_end_mwh: np.ndarray

    @property
    def grid_mw(self) -> np.ndarray:
        """Net draw from the grid (negative: export)."""
        return self.import_mw - self.export_mw


class SiteDispatch:
    """The sites' LP (module docstring); ``solve`` once per interval."""

    def __init__(self, gen_mw: np.ndarray, bess_mw: np.ndarray, bess_mwh: np.ndarray, efficiency: np.ndarray,
                 import_max_mw: np.ndarray, export_max_mw: np.ndarray, interval_h: float) -> None:
        self.S = S = int(np.asarray(gen_mw).size)
        self.dt = float(interval_h)
        self.gen_mw, self.bess_mw = np.asarray(gen_mw, float), np.asarray(bess_mw, float)
        self.bess_mwh, self.eff = np.asarray(bess_mwh, float), np.asarray(efficiency, float)
        self.import_max, self.export_max = np.asarray(import_max_mw, float), np.asarray(export_max_mw, float)
        n = len(COLUMNS)
        self.col = {c: np.arange(S) * n + k for k, c in enumerate(COLUMNS)}
        h = self.h = new_highs()
        inf = highspy.kHighsInf
        h.addVars(S * n, np.zeros(S * n), np.full(S * n, inf))
        hi = np.zeros(S * n)
        hi[self.col["gen"]] = self.gen_mw
        hi[self.col["ch"]] = self.bess_mw
        hi[self.col["dis"]] = self.bess_mw
        hi[self.col["imp"]] = self.import_max
        hi[self.col["exp"]] = self.export_max
        h.changeColsBounds(S * n, np.arange(S * n, dtype=np.int32), np.zeros(S * n), hi)
        for s in range(S):  # balance rows 0..S-1
            idx = np.array([self.col[c][s] for c in COLUMNS], dtype=np.int32)
            h.addRow(0.0, 0.0, len(idx), idx, np.array([1.0, 1.0, -1.0, 1.0, 1.0, -1.0]))
        for s in range(S):  # state of charge rows S..2S-1: Δ (eff ch - dis / eff) in [-soc, E - soc]
            idx = np.array([self.col["ch"][s], self.col["dis"][s]], dtype=np.int32)
            h.addRow(0.0, 0.0, 2, idx, np.array([self.dt * self.eff[s], -self.dt / self.eff[s]]))
        for s in range(S):  # exports out of own production rows 2S..3S-1
            idx = np.array([self.col[c][s] for c in ("exp", "ren", "gen", "dis")], dtype=np.int32)
            h.addRow(-inf, 0.0, 4, idx, np.array([1.0, -1.0, -1.0, -1.0]))

    def solve(self, load_mw: np.ndarray, renewable_mw: np.ndarray, soc_mwh: np.ndarray,
              import_usd_per_mwh: np.ndarray, export_usd_per_mwh: np.ndarray, gen_usd_per_mwh: np.ndarray,
              stored_usd_per_mwh: np.ndarray) -> SiteDispatchResult:
        """One interval; the ``*_usd_per_mwh`` arrays are ``[site]`` costs carbon included
        (imports, generation) and the value of stored energy ``w``."""
        S, dt, h, c = self.S, self.dt, self.h, self.col
        cols = np.arange(S * len(COLUMNS), dtype=np.int32)
        cost = np.zeros(cols.size)
        cost[c["gen"]] = dt * np.asarray(gen_usd_per_mwh, float)
        cost[c["imp"]] = dt * np.asarray(import_usd_per_mwh, float)
        cost[c["exp"]] = -dt * np.asarray(export_usd_per_mwh, float)
        w = np.asarray(stored_usd_per_mwh, float)
        cost[c["ch"]] = -w * dt * self.eff
        cost[c["dis"]] = w * dt / self.eff
        h.changeColsCost(cols.size, cols, cost)
        hi = np.zeros(S)
        h.changeColsBounds(S, c["ren"].astype(np.int32), hi, np.maximum(np.asarray(renewable_mw, float), 0.0))
        load = np.asarray(load_mw, float)
        h.changeRowsBounds(S, np.arange(S, dtype=np.int32), load, load)
        soc = np.clip(np.asarray(soc_mwh, float), 0.0, self.bess_mwh)
        h.changeRowsBounds(S, np.arange(S, 2 * S, dtype=np.int32), -soc, self.bess_mwh - soc)
        h.run()
        if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            raise RuntimeError(f"site dispatch: HiGHS returned {h.modelStatusToString(h.getModelStatus())} "
                               f"for loads {load.round(3).tolist()} MW (imports {self.import_max.tolist()} MW max)")
        x = np.asarray(h.getSolution().col_value)
        ch, dis = x[c["ch"]], x[c["dis"]]
        return SiteDispatchResult(renewable_mw=x[c["ren"]], gen_mw=x[c["gen"]], charge_mw=ch, discharge_mw=dis,
                                  import_mw=x[c["imp"]], export_mw=x[c["exp"]],
                                  soc_end_mwh=np.clip(soc + dt * (self.eff * ch - dis / self.eff), 0.0, self.bess_mwh))


__all__ = ["COLUMNS", "SiteDispatch", "SiteDispatchResult"]
