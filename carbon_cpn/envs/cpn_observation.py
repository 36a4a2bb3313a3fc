"""Fills the CarbonCPN observation (:data:`carbon_cpn.envs.observation.CPN_BLOCKS`).

The grid, time and node-signal parts change only when the clock advances (:meth:`refresh`,
from the last :class:`~carbon_cpn.envs.outcome.IntervalOutcome`); the head task, the queue and
the free servers change with every decision (:meth:`observe`).
"""

from __future__ import annotations

import numpy as np

from carbon_cpn.envs.config import ScenarioConfig
from carbon_cpn.envs.cpn import CPNState
from carbon_cpn.envs.observation import (CPN_BLOCKS, DEADLINE_SCALE_H, LMP_SCALE_USD_PER_MWH, MCI_SCALE_KG_PER_MWH,
                                         QUEUE_RATIO_CAP, RUN_TIME_SCALE_H, SLACK_RATIO_SCALE, ObsBlock, ObsLayout,
                                         clip)
from carbon_cpn.envs.outcome import IntervalOutcome


class CPNObservation:
    #: The block table; a family's subclass appends its blocks and fills them in :meth:`observe`.
    blocks: tuple[ObsBlock, ...] = CPN_BLOCKS

    def __init__(self, cfg: ScenarioConfig, cpn: CPNState, res_capacity_mw: np.ndarray, bess_energy_mwh: np.ndarray,
                 case_load_mw: float) -> None:
        self.cfg = cfg
        self.cpn = cpn
        self.layout = ObsLayout(self.blocks, self.item_counts(cfg, cpn.n_nodes, len(bess_energy_mwh)))
        L = self.layout
        self.res_capacity_mw = max(np.asarray(res_capacity_mw, dtype=float).sum(), 1e-9)
        self.bess_energy_mwh = np.asarray(bess_energy_mwh, dtype=float)
        self.max_units = np.array([max(t.units_max for t in cfg.workload.types)] * 2, dtype=float)
        self.case_load_mw = max(case_load_mw, 1e-9)
        self.capacity = np.maximum(cpn.capacity, 1).astype(float)
        self._head = L.block("head_task")
        self._nodes = L.items("nodes")
        self._col = {name: L.item_column("nodes", name) for name in ("power", "lmp", "mci", "fits_cpu")}
        self._queue = [L.field("queue", f) for f in ("ready", "cpu_asked", "gpu_asked", "nearest_deadline")]
        self._grid = [L.field("grid", f) for f in ("renewables", "curtailment", "base_load", "renewable_share")]
        self._soc = L.items("grid")
        self._time = [L.field("time", f) for f in ("sin_hour", "cos_hour", "progress")]
        self.static = np.zeros(L.dim, dtype=np.float32)

    @classmethod
    def item_counts(cls, cfg: ScenarioConfig, n_nodes: int, n_batteries: int) -> dict[str, int]:
        """How many items each per-item block repeats over (a family adds its own kinds)."""
        return {"node": n_nodes, "battery": n_batteries}

    def refresh(self, last: IntervalOutcome | None, res_avail_next_mw: np.ndarray, soc_mwh: np.ndarray, now_h: float,
                t: int, n_intervals: int) -> None:
        """The parts that change only when the clock advances (``last`` None: before any interval)."""
        o = np.zeros(self.layout.dim, dtype=np.float32)
        nodes = o[self._nodes].reshape(self.cpn.n_nodes, -1)
        c = self._col
        if last is None:
            nodes[:, c["power"]] = self.cpn.idle_mw / self.cpn.peak_mw
            curtail = res_share = base = 0.0
        else:
            nodes[:, c["power"]] = last.node_power_mw / self.cpn.peak_mw
            nodes[:, c["lmp"]] = last.node_lmp_usd_per_mwh / LMP_SCALE_USD_PER_MWH
            nodes[:, c["mci"]] = last.node_mci_kg_per_mwh / MCI_SCALE_KG_PER_MWH
            res = last.dispatch
            curtail = float(res.curtail_mw.sum())
            res_share = float(res.res_used_mw.sum()) / max(last.demand_mw, 1e-9)
            base = float(last.base_load_mw.sum())
        g = self._grid
        o[g[0]] = res_avail_next_mw.sum() / self.res_capacity_mw
        o[g[1]] = curtail / self.res_capacity_mw
        o[g[2]] = base / self.case_load_mw
        o[g[3]] = res_share
        o[self._soc] = soc_mwh / np.maximum(self.bess_energy_mwh, 1e-9)
        hour = now_h % 24.0
        tm = self._time
        o[tm[0]] = np.sin(2 * np.pi * hour / 24.0)
        o[tm[1]] = np.cos(2 * np.pi * hour / 24.0)
        o[tm[2]] = t / n_intervals
        self.static = o

    def observe(self, head: int, waiting: np.ndarray, now_h: float) -> np.ndarray:
        """The observation for the sub-task ``head`` (-1: none) with ``waiting`` queued."""
        cpn = self.cpn
        o = self.static.copy()
        if head >= 0:
            j = int(cpn.t_job[head])
            pref = int(cpn.t_res[head])
            dur = float(cpn.t_dur[head])
            left = float(cpn.j_deadline[j]) - now_h
            o[self._head] = (
                1.0,
                pref,
                cpn.t_units[head] / self.max_units[pref],
                dur / RUN_TIME_SCALE_H,
                max(-1.0, min(1.0, left / DEADLINE_SCALE_H)),
                max(-1.0, min(1.0, left / max(dur, 1e-6) / SLACK_RATIO_SCALE)),
                cpn.j_high[j],
                (cpn.j_ntasks[j] - cpn.j_ndone[j]) / self.cfg.workload.max_subtasks,
                cpn.j_crit[j] / RUN_TIME_SCALE_H,
            )
        if waiting.size:
            units = cpn.t_units[waiting]
            gpu = cpn.t_res[waiting] == 1
            free = cpn.free.sum(axis=0)
            asked_gpu = float(units[gpu].sum())
            q = self._queue
            o[q[0]] = min(waiting.size / self.cfg.workload.queue_capacity, QUEUE_RATIO_CAP)
            o[q[1]] = min((float(units.sum()) - asked_gpu) / max(free[0], 1), QUEUE_RATIO_CAP)
            o[q[2]] = min(asked_gpu / max(free[1], 1), QUEUE_RATIO_CAP)
            o[q[3]] = max(-1.0, min(1.0, (float(cpn.j_deadline[cpn.t_job[waiting]].min()) - now_h) / DEADLINE_SCALE_H))
        nodes = o[self._nodes].reshape(cpn.n_nodes, -1)
        nodes[:, 0:2] = cpn.free / self.capacity
        if head >= 0:
            f = self._col["fits_cpu"]
            nodes[:, f:f + 2] = cpn.free >= cpn.t_units[head]
        return clip(o)


__all__ = ["CPNObservation"]
