"""The data of one instance of the joint compute-energy MILP of AI data-center microgrids.

After "Carbon-Aware Compute-Power Scheduling for AI Data Centers with Microgrid
Prosumer Operations" (the MILP paper): sites ``[s]`` that are microgrids (GPUs,
on-site renewables, a dispatchable generator, a battery, a two-way grid connection), rigid
training jobs ``[j]`` and elastic inference demand per user region ``[u]``, over periods ``[t]``
of ``interval_h`` hours. Arrays are labelled by their axes; units are in the names. Every array
is validated here (shape, finite, range), so the model builder never sees bad data.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np


def _check(name: str, a: np.ndarray, shape: tuple[int, ...], lo: float = 0.0, hi: float = np.inf) -> None:
    if a.shape != shape:
        raise ValueError(f"{name}: shape {a.shape}, expected {shape}")
    if a.size and not np.isfinite(a).all():
        raise ValueError(f"{name}: expected finite values, got {a[~np.isfinite(a)].ravel()[:3].tolist()}")
    if a.size and (a.min() < lo or a.max() > hi):
        bad = a[(a < lo) | (a > hi)].ravel()[:3].tolist()
        raise ValueError(f"{name}: values {bad} outside [{lo}, {hi}]")


@dataclass(frozen=True)
class MicrogridInstance:
    """Sites, jobs and demand of a horizon (module docstring)."""

    interval_h: float
    # ---- sites [s]
    gpus: np.ndarray  # [s] installed GPUs
    busy_mw_per_gpu: np.ndarray  # [s] IT power of a busy GPU (its server share) [MW]
    idle_mw_per_gpu: np.ndarray  # [s] IT power of an idle GPU [MW]
    pue: np.ndarray  # [s, t] facility power / IT power
    renewable_mw: np.ndarray  # [s, t] on-site PV and wind available (curtailable)
    gen_min_mw: np.ndarray  # [s] on-site generator minimum output when on
    gen_max_mw: np.ndarray  # [s] its maximum (0: none)
    gen_usd_per_mwh: np.ndarray  # [s] its fuel cost
    gen_kg_per_mwh: np.ndarray  # [s] its emissions
    bess_mw: np.ndarray  # [s] battery charge / discharge limit
    bess_mwh: np.ndarray  # [s] battery energy
    bess_efficiency: np.ndarray  # [s] one-way efficiency (round trip = its square)
    bess_soc0_mwh: np.ndarray  # [s] energy at the start; at least this much is left at the end
    import_max_mw: np.ndarray  # [s]
    export_max_mw: np.ndarray  # [s]
    import_usd_per_mwh: np.ndarray  # [s, t] the grid's price at the site's bus
    import_kg_per_mwh: np.ndarray  # [s, t] the grid's marginal intensity at the site's bus
    export_usd_per_mwh: np.ndarray  # [s, t] what an exported MWh earns
    # ---- training jobs [j]: rigid, uninterrupted once started, at one site
    job_gpus: np.ndarray  # [j] int
    job_periods: np.ndarray  # [j] int, run length
    job_release: np.ndarray  # [j] int, first period it may start
    job_deadline: np.ndarray  # [j] int, it must end by the end of period deadline - 1
    job_value_usd: np.ndarray  # [j] earned when it runs (0 if it is not run)
    # ---- inference [u]
    demand_gpus: np.ndarray  # [u, t] GPUs' worth of requests arriving per period
    inference_usd_per_gpu_h: np.ndarray  # [u] value of serving a GPU-hour of requests
    latency_ms: np.ndarray  # [u, s] network latency from the region's users to the site
    latency_limit_ms: np.ndarray  # [u] the region's limit: only sites within it serve it
    max_share_change: float  # bound on |share[u, s, t] - share[u, s, t-1]| (continuity)
    # ---- carbon
    carbon_price_usd_per_t: float = 0.0
    carbon_budget_kg: float = np.inf  # over the horizon; inf: none

    def __post_init__(self) -> None:
        if not (np.isfinite(self.interval_h) and self.interval_h > 0):
            raise ValueError(f"interval_h={self.interval_h!r}: expected a finite number > 0")
        S, T = self.n_sites, self.n_periods
        J, U = int(np.asarray(self.job_gpus).size), int(np.asarray(self.demand_gpus).shape[0])
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            if isinstance(v, (list, tuple, np.ndarray)):
                object.__setattr__(self, f.name, np.asarray(v, dtype=float))
        for name in ("gpus", "busy_mw_per_gpu", "idle_mw_per_gpu", "gen_min_mw", "gen_max_mw", "gen_usd_per_mwh",
                     "gen_kg_per_mwh", "bess_mw", "bess_mwh", "bess_soc0_mwh", "import_max_mw", "export_max_mw"):
            _check(name, getattr(self, name), (S,))
        _check("bess_efficiency", self.bess_efficiency, (S,), 1e-6, 1.0)
        _check("pue", self.pue, (S, T), 1.0, 10.0)
        for name in ("renewable_mw", "import_usd_per_mwh", "export_usd_per_mwh"):
            _check(name, getattr(self, name), (S, T), -np.inf if "usd" in name else 0.0)
        _check("import_kg_per_mwh", self.import_kg_per_mwh, (S, T), -np.inf)
        for name in ("job_gpus", "job_periods", "job_release", "job_deadline", "job_value_usd"):
            _check(name, getattr(self, name), (J,))
        for name in ("gpus", "job_gpus", "job_periods", "job_release", "job_deadline"):
            a = getattr(self, name)
            if a.size and not np.array_equal(a, np.round(a)):
                raise ValueError(f"{name}: expected whole numbers, got {a[a != np.round(a)][:3].tolist()}")
        _check("demand_gpus", self.demand_gpus, (U, T))
        _check("inference_usd_per_gpu_h", self.inference_usd_per_gpu_h, (U,))
        _check("latency_ms", self.latency_ms, (U, S))
        _check("latency_limit_ms", self.latency_limit_ms, (U,))
        if (self.gen_min_mw > self.gen_max_mw).any():
            raise ValueError(f"gen_min_mw={self.gen_min_mw.tolist()}: expected <= gen_max_mw={self.gen_max_mw.tolist()}")
        if (self.bess_soc0_mwh > self.bess_mwh).any():
            raise ValueError(f"bess_soc0_mwh={self.bess_soc0_mwh.tolist()}: expected <= bess_mwh={self.bess_mwh.tolist()}")
        if (self.job_periods < 1).any():
            raise ValueError(f"job_periods={self.job_periods.tolist()}: expected >= 1")
        if not (np.isfinite(self.max_share_change) and 0.0 <= self.max_share_change <= 1.0):
            raise ValueError(f"max_share_change={self.max_share_change!r}: expected a number in [0, 1]")
        if not (np.isfinite(self.carbon_price_usd_per_t) and self.carbon_price_usd_per_t >= 0):
            raise ValueError(f"carbon_price_usd_per_t={self.carbon_price_usd_per_t!r}: expected a finite number >= 0")
        if not (self.carbon_budget_kg >= 0):  # inf allowed, NaN refused
            raise ValueError(f"carbon_budget_kg={self.carbon_budget_kg!r}: expected a number >= 0 or inf")

    @property
    def n_sites(self) -> int:
        return int(np.asarray(self.gpus).size)

    @property
    def n_periods(self) -> int:
        return int(np.asarray(self.pue).shape[-1])

    @property
    def n_jobs(self) -> int:
        return int(self.job_gpus.size)

    @property
    def n_regions(self) -> int:
        return int(self.demand_gpus.shape[0])

    @property
    def allowed(self) -> np.ndarray:
        """``[u, s]`` bool: the site is within the region's latency limit."""
        return self.latency_ms <= self.latency_limit_ms[:, None]

    def start_options(self, j: int) -> list[tuple[int, int]]:
        """(site, period) where job ``j`` may start: it fits the site and ends by its deadline."""
        p, g = int(self.job_periods[j]), self.job_gpus[j]
        last = min(int(self.job_deadline[j]), self.n_periods) - p
        return [(s, t) for s in range(self.n_sites) if g <= self.gpus[s]
                for t in range(int(self.job_release[j]), last + 1)]

    def replace(self, **changes: object) -> "MicrogridInstance":
        return dataclasses.replace(self, **changes)


__all__ = ["MicrogridInstance"]
