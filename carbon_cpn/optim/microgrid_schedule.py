"""The fixed work schedule of the energy-only baseline of the MILP paper: what a site operator
runs without looking at energy — every region's inference at its nearest site within the
latency limit, and training jobs first come, first served, each started at its release on the
first site (in site order) whose GPUs, after the inference there, stay free for its whole run."""

from __future__ import annotations

import numpy as np

from carbon_cpn.optim.microgrid_instance import MicrogridInstance


def nearest_share(inst: MicrogridInstance) -> np.ndarray:
    """``[u, s, t]``: all of each region's demand at its nearest allowed site, every period."""
    lat = np.where(inst.allowed, inst.latency_ms, np.inf)
    share = np.zeros((inst.n_regions, inst.n_sites, inst.n_periods))
    share[np.arange(inst.n_regions), np.argmin(lat, axis=1), :] = 1.0
    return share


def fcfs_schedule(inst: MicrogridInstance) -> tuple[tuple[tuple[int, int, int], ...], np.ndarray]:
    """``(starts, share)``: the (job, site, period) starts and the nearest-site routing. A job
    waits (period by period, up to its deadline) while no site has room, and is left out if
    it never fits."""
    share = nearest_share(inst)
    free = inst.gpus[:, None] - np.einsum("ut,ust->st", inst.demand_gpus, share)  # [s, t]
    starts = []
    for j in np.argsort(inst.job_release, kind="stable").tolist():
        g, p = float(inst.job_gpus[j]), int(inst.job_periods[j])
        last = min(int(inst.job_deadline[j]), inst.n_periods) - p
        placed = False
        for t in range(int(inst.job_release[j]), last + 1):
            for s in range(inst.n_sites):
                if (free[s, t:t + p] >= g - 1e-9).all():
                    free[s, t:t + p] -= g
                    starts.append((j, s, t))
                    placed = True
                    break
            if placed:
                break
    return tuple(starts), share


__all__ = ["fcfs_schedule", "nearest_share"]
