"""The oracle's candidate placements: every (sub-task, data center, resource, start interval)
whose run fits the sub-task's window (earliest start from the DAG and the job's arrival,
latest start that still ends by the deadline and the episode's end)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from carbon_cpn.optim.oracle_problem import EPS_H, OracleProblem

__all__ = ["Candidates", "candidates"]


@dataclass(frozen=True)
class Candidates:
    task: np.ndarray  # [c]
    dc: np.ndarray  # [c]
    r: np.ndarray  # [c]
    start: np.ndarray  # [c] interval
    end_b: np.ndarray  # [c] boundary at which its servers free (exclusive end interval)
    run_h: np.ndarray  # [c]
    job_col: np.ndarray  # [job] column offset of z_j among jobs (-1: no decision)
    decided_jobs: np.ndarray  # jobs with a deadline inside the episode that can be on time
    forced_miss: int  # jobs with a deadline inside the episode that cannot be on time


def candidates(p: OracleProblem) -> Candidates:
    """The candidate placements of ``p`` (module docstring) and which jobs can be on time."""
    dt, n_t = p.interval_h, p.n_intervals
    n_task, n_job = p.task_job.size, p.job_deadline_h.size
    # Every job is settled by the episode's end (carbon_cpn.optim.objective): on time means
    # finished by its deadline and by the end of the episode.
    checked = np.ones(n_job, dtype=bool)
    run_min = p.task_run_h.reshape(n_task, -1).min(axis=1) if n_task else np.zeros(0)
    steps_min = np.ceil(run_min / dt - 1e-9).astype(np.int64)
    preds: list[list[int]] = [[] for _ in range(n_task)]
    succs: list[list[int]] = [[] for _ in range(n_task)]
    for a, b in zip(p.edge_pred.tolist(), p.edge_succ.tolist()):
        preds[b].append(a)
        succs[a].append(b)
    # Sub-tasks of a job are numbered in a topological order (carbon_cpn/envs/workload.py).
    es = np.zeros(n_task, dtype=np.int64)
    for k in range(n_task):
        es[k] = p.job_release[p.task_job[k]]
        for a in preds[k]:
            es[k] = max(es[k], es[a] + steps_min[a])
    le_h = np.minimum(p.job_deadline_h, n_t * dt)[p.task_job] + EPS_H  # latest end [h]
    ls = np.zeros(n_task, dtype=np.int64)
    for k in range(n_task - 1, -1, -1):
        for b in succs[k]:
            le_h[k] = min(le_h[k], ls[b] * dt + EPS_H)
        ls[k] = int(np.floor((le_h[k] - run_min[k]) / dt + 1e-9))
    task_ok = ls >= es
    job_ok = np.ones(n_job, dtype=bool)
    np.logical_and.at(job_ok, p.task_job, task_ok)
    decided = np.flatnonzero(checked & job_ok)
    forced_miss = int(np.sum(checked & ~job_ok))
    job_col = -np.ones(n_job, dtype=np.int64)
    job_col[decided] = np.arange(decided.size)
    keep_task = np.isin(p.task_job, decided)

    rows = []
    for k in np.flatnonzero(keep_task):
        for d in range(p.dc_node.size):
            for r in (0, 1):
                run = float(p.task_run_h[k, d, r])
                last = int(np.floor((le_h[k] - run) / dt + 1e-9))
                if last < es[k]:
                    continue
                s = np.arange(es[k], last + 1)
                rows.append((np.full(s.size, k), np.full(s.size, d), np.full(s.size, r), s, np.full(s.size, run)))
    if rows:
        task, dc, r, start, run_h = (np.concatenate(c) for c in zip(*rows))
    else:
        task = dc = r = start = np.zeros(0, dtype=np.int64)
        run_h = np.zeros(0)
    end_b = start + np.ceil(run_h / dt - 1e-9).astype(np.int64)
    return Candidates(task=task.astype(np.int64), dc=dc.astype(np.int64), r=r.astype(np.int64),
                       start=start.astype(np.int64), end_b=end_b, run_h=run_h, job_col=job_col,
                       decided_jobs=decided, forced_miss=forced_miss)
