"""Job arrivals: Poisson with a daily cycle, DAG-shaped jobs of the workload types of Table 2
of "Carbon-Computing Coupling Optimization and Green Scheduling System for Intelligent Computing Centers" (Xie, Wei; c3o below).

Every draw comes from the generator passed in (the env's arrival stream, ``carbon_cpn.envs.streams``), so the same seed gives
the same jobs. A batch of jobs is returned as flat arrays of sub-tasks plus per-job arrays.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from carbon_cpn.envs.config import WorkloadConfig

#: DAG shapes (tsco §III.A.2: pipelines and fork-join workflows).
SINGLE, CHAIN, FORKJOIN = 0, 1, 2
CPU, GPU = 0, 1


@dataclass(frozen=True)
class JobBatch:
    """Jobs arriving in one interval, as arrays. Sub-task arrays are ``[task]``, job arrays ``[job]``."""

    arrival_h: np.ndarray  # [job] hours since episode start
    deadline_h: np.ndarray  # [job]
    type_index: np.ndarray  # [job] index into WorkloadConfig.types
    shape: np.ndarray  # [job] SINGLE / CHAIN / FORKJOIN
    high_qos: np.ndarray  # [job] bool
    n_tasks: np.ndarray  # [job]
    critical_path_h: np.ndarray  # [job] at speed 1 on preferred resources
    task_job: np.ndarray  # [task] job index within the batch
    task_resource: np.ndarray  # [task] preferred resource CPU / GPU
    task_units: np.ndarray  # [task] servers
    task_duration_h: np.ndarray  # [task] run time at speed 1 on the preferred resource
    task_n_pred: np.ndarray  # [task] number of predecessors
    task_succ: np.ndarray  # [task, max_succ] successor positions within the batch, -1 padded

    @property
    def n_jobs(self) -> int:
        return int(self.arrival_h.size)


def arrival_rate_per_h(cfg: WorkloadConfig, hour_of_day: float) -> float:
    """Mean arrivals per hour at ``hour_of_day``: a cosine daily cycle around the mean."""
    return cfg.jobs_per_hour * (1.0 + cfg.daily_amplitude * np.cos(2.0 * np.pi * (hour_of_day - cfg.peak_hour) / 24.0))


class JobGenerator:
    """Draws the jobs of each interval; per-type tables are built once."""

    def __init__(self, cfg: WorkloadConfig) -> None:
        self.cfg = cfg
        types = cfg.types
        share = np.array([t.share for t in types])
        self.type_p = share / share.sum()
        self.shape_p = np.array([cfg.p_single, cfg.p_chain, cfg.p_forkjoin])
        self.type_cdf = np.cumsum(self.type_p)
        self.shape_cdf = np.cumsum(self.shape_p)
        self.gpu_prob = np.array([t.gpu_prob for t in types])
        self.log_dmin = np.log([t.duration_min_h for t in types])
        self.log_dmax = np.log([t.duration_max_h for t in types])
        self.log_umin = np.log([float(t.units_min) for t in types])
        self.log_umax = np.log([t.units_max + 1.0 for t in types])
        self.umin = np.array([t.units_min for t in types], dtype=float)
        self.umax = np.array([t.units_max for t in types], dtype=float)
        self.slack = np.array([t.slack for t in types])
        self.variable = np.array([t.qos == "variable" for t in types])
        self.high = np.array([t.qos == "high" for t in types])

    def draw(self, rng: np.random.Generator, t0_h: float, dt_h: float, hour_of_day: float) -> JobBatch | None:
        """Jobs arriving in ``[t0_h, t0_h + dt_h)``, or None when none arrive."""
        cfg = self.cfg
        rate = arrival_rate_per_h(cfg, hour_of_day + 0.5 * dt_h)
        n = int(rng.poisson(rate * dt_h))
        if n == 0:
            return None
        # Inverse-CDF draws: much cheaper than Generator.choice/integers for small batches.
        u = rng.random((5, n))
        type_idx = np.minimum(np.searchsorted(self.type_cdf, u[0], side="right"), self.type_p.size - 1)
        arrival = np.sort(t0_h + dt_h * u[1])
        shape = np.minimum(np.searchsorted(self.shape_cdf, u[2], side="right"), 2)
        max_k = cfg.max_subtasks
        n_tasks = np.ones(n, dtype=np.int64)
        chain = shape == CHAIN
        n_tasks[chain] = 2 + (u[3, chain] * (max_k - 1)).astype(np.int64)  # 2..max_k
        fj = shape == FORKJOIN
        n_tasks[fj] = 4 + (u[4, fj] * (max_k - 3)).astype(np.int64)  # root + 2..max_k-2 branches + sink

        total = int(n_tasks.sum())
        task_job = np.repeat(np.arange(n), n_tasks)
        starts = np.concatenate([[0], np.cumsum(n_tasks)[:-1]]).astype(np.int64)
        pos_in_job = np.arange(total) - starts[task_job]
        tt = type_idx[task_job]
        v = rng.random((3, total))
        resource = (v[0] < self.gpu_prob[tt]).astype(np.int64)
        lo, hi = self.log_dmin[tt], self.log_dmax[tt]
        duration = np.exp(lo + (hi - lo) * v[1])  # log-uniform
        lo, hi = self.log_umin[tt], self.log_umax[tt]
        units = np.clip(np.floor(np.exp(lo + (hi - lo) * v[2])), self.umin[tt], self.umax[tt]).astype(np.int64)

        # Precedence. Chain: task k -> k+1. Fork-join: root -> every branch -> sink.
        succ = -np.ones((total, max_k), dtype=np.int64)
        n_pred = np.zeros(total, dtype=np.int64)
        js = shape[task_job]
        last = pos_in_job == n_tasks[task_job] - 1
        c = np.flatnonzero((js == CHAIN) & ~last)
        succ[c, 0] = c + 1
        n_pred[c + 1] = 1
        crit = np.bincount(task_job, weights=duration, minlength=n)
        if fj.any():
            f_root = (js == FORKJOIN) & (pos_in_job == 0)
            f_branch = (js == FORKJOIN) & (pos_in_job > 0) & ~last
            f_sink = (js == FORKJOIN) & last
            for j_root in np.flatnonzero(f_root):  # one row per fork-join job, a few per interval
                k = n_tasks[task_job[j_root]]
                succ[j_root, : k - 2] = np.arange(j_root + 1, j_root + k - 1)
            succ[f_branch, 0] = starts[task_job[f_branch]] + n_tasks[task_job[f_branch]] - 1
            n_pred[f_branch] = 1
            n_pred[f_sink] = n_tasks[task_job[f_sink]] - 2
            # Critical path at speed 1: root + longest branch + sink.
            branch_max = np.zeros(n)
            np.maximum.at(branch_max, task_job[f_branch], duration[f_branch])
            ends = np.bincount(task_job[f_root | f_sink], weights=duration[f_root | f_sink], minlength=n)
            crit = np.where(fj, ends + branch_max, crit)
        slack = self.slack[type_idx]
        variable = self.variable[type_idx]
        if variable.any():
            slack = np.where(variable, 1.5 + (2.0 * slack - 1.5) * rng.random(n), slack)
        # Sub-tasks start only at interval boundaries, so each DAG level may wait up to one
        # interval: the deadline adds that granularity to the slack on the critical path.
        levels = np.where(shape == FORKJOIN, 3, n_tasks)
        deadline = arrival + slack * crit + levels * dt_h
        return JobBatch(
            arrival_h=arrival, deadline_h=deadline, type_index=type_idx, shape=shape, high_qos=self.high[type_idx],
            n_tasks=n_tasks, critical_path_h=crit, task_job=task_job, task_resource=resource, task_units=units,
            task_duration_h=duration, task_n_pred=n_pred, task_succ=succ,
        )
