"""The compute side of the co-simulation: nodes, DAG jobs, the ready queue, execution.

State lives in growable numpy arrays indexed by sub-task (``t_*``) and job (``j_*``); the
interval update (:meth:`CPNState.advance`) is vectorized over tasks and jobs. Sub-tasks run
without preemption from the decision time at the start of an interval; a sub-task whose
predecessors finish during an interval joins the queue at the interval's end.

Job life cycle (§III.A.2 of "A Novel Hierarchical Co-Optimization Framework for Coordinated Task Scheduling and Power Dispatch in Computing Power Networks" (Luo, Yang, Huang, Dustdar; tsco below), with hard deadlines):

* a job *completes* when its last sub-task finishes by the deadline (revenue is booked);
* when the deadline passes first, the deadline penalty is booked and the job keeps running;
  finishing later makes it *failed* with tardiness = finish - deadline;
* a job still unfinished ``drop_after_h`` after its deadline is *dropped* (failed, tardiness
  = drop_after_h): its unstarted sub-tasks leave the queue, running ones run out;
* a job still in the system at the episode's end is *pending*; the episode settles it as a
  miss (:meth:`CPNState.settle_unfinished`): its penalty is booked and it earns nothing.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from carbon_cpn.envs.config import CPNConfig, WorkloadConfig
from carbon_cpn.envs.workload import CPU, GPU, JobBatch

# Task status.
WAITING, READY, RUNNING, DONE, DROPPED = 0, 1, 2, 3, 4
# Job status.
ACTIVE, COMPLETED, FAILED = 0, 1, 2


@dataclass(frozen=True)
class IntervalCompute:
    """What the compute side did in one interval."""

    #: Average facility power of each node over the interval [MW], ``[node]``.
    node_power_mw: np.ndarray
    #: Average busy servers / installed servers, ``[node, resource]``.
    utilization: np.ndarray
    #: Revenue of jobs completed on time in the interval [$].
    revenue_usd: float
    #: Jobs whose deadline passed unfinished in the interval.
    deadline_misses: int


@dataclass(frozen=True)
class JobSummary:
    """The compute side's job statistics at the end of (or during) an episode."""

    arrived: int
    completed: int
    failed: int
    pending: int
    mean_tardiness_s: float  # over jobs completed or failed
    qos_violation_rate: float  # high-QoS jobs failed / high-QoS jobs completed or failed


def job_values_usd(batch: JobBatch, workload: WorkloadConfig) -> np.ndarray:
    """Revenue of each job of ``batch`` when it finishes on time [$], ``[job]``: server-hours at
    speed 1 on the preferred resource x that resource's price (the compute value of
    ``carbon_cpn.optim.objective``)."""
    price = np.array([workload.cpu_price_usd_per_server_h, workload.gpu_price_usd_per_server_h])
    return np.bincount(batch.task_job, weights=batch.task_units * batch.task_duration_h * price[batch.task_resource],
                       minlength=batch.n_jobs)


def node_power_mw(cpn: CPNConfig) -> tuple[np.ndarray, np.ndarray]:
    """The node power model (tsco eq. 9 per resource pool, times PUE: P = PUE (idle + (peak -
    idle) u)): each node's power with every server idle [MW], ``[node]``, and the facility MW
    each busy server adds, ``[node, resource]``. Used by the simulation and the day-ahead plan."""
    idle = np.array([[nd.cpu_idle_kw, nd.gpu_idle_kw] for nd in cpn.nodes])
    peak = np.array([[nd.cpu_peak_kw, nd.gpu_peak_kw] for nd in cpn.nodes])
    capacity = np.array([[nd.cpu_units, nd.gpu_units] for nd in cpn.nodes], dtype=float)
    pue = np.array([nd.pue for nd in cpn.nodes])
    return pue * (capacity * idle).sum(axis=1) / 1000.0, pue[:, None] * (peak - idle) / 1000.0


class CPNState:
    """Nodes, jobs and sub-tasks of one episode."""

    def __init__(self, cpn: CPNConfig, workload: WorkloadConfig) -> None:
        self.cfg = cpn
        self.wl = workload
        n = len(cpn.nodes)
        self.n_nodes = n
        self.capacity = np.array([[nd.cpu_units, nd.gpu_units] for nd in cpn.nodes], dtype=np.int64)  # [node, res]
        self.pue = np.array([nd.pue for nd in cpn.nodes])
        self.speed = np.array([nd.speed for nd in cpn.nodes])
        self.idle_mw, self.dyn_mw_per_server = node_power_mw(cpn)  # [node], [node, res]
        self.peak_mw = self.idle_mw + (self.dyn_mw_per_server * self.capacity).sum(axis=1)
        self.slowdown = np.array([[1.0, workload.cpu_on_gpu_slowdown], [workload.gpu_on_cpu_slowdown, 1.0]])  # [pref, actual]
        self.reset()

    # ------------------------------------------------------------------ storage
    def reset(self) -> None:
        cap = 1024
        k = self.wl.max_subtasks
        self.n_tasks = 0
        self.n_jobs = 0
        self.t_job = np.zeros(cap, dtype=np.int64)
        self.t_res = np.zeros(cap, dtype=np.int64)  # preferred resource
        self.t_units = np.zeros(cap, dtype=np.int64)
        self.t_dur = np.zeros(cap)  # hours at speed 1 on the preferred resource
        self.t_npred = np.zeros(cap, dtype=np.int64)
        self.t_succ = -np.ones((cap, k), dtype=np.int64)
        self.t_status = np.zeros(cap, dtype=np.int64)
        self.t_node = -np.ones(cap, dtype=np.int64)
        self.t_rtype = -np.ones(cap, dtype=np.int64)
        self.t_start = np.zeros(cap)
        self.t_end = np.zeros(cap)
        jcap = 512
        self.j_arrival = np.zeros(jcap)
        self.j_deadline = np.zeros(jcap)
        self.j_type = np.zeros(jcap, dtype=np.int64)
        self.j_high = np.zeros(jcap, dtype=bool)
        self.j_ntasks = np.zeros(jcap, dtype=np.int64)
        self.j_ndone = np.zeros(jcap, dtype=np.int64)
        self.j_status = np.zeros(jcap, dtype=np.int64)
        self.j_late = np.zeros(jcap, dtype=bool)
        self.j_finish = np.zeros(jcap)
        self.j_tardiness = np.zeros(jcap)
        self.j_value = np.zeros(jcap)
        self.j_crit = np.zeros(jcap)
        self.free = self.capacity.copy()  # [node, res]
        self.ready: deque[int] = deque()

    def _grow_tasks(self, need: int) -> None:
        cap = self.t_job.size
        if self.n_tasks + need <= cap:
            return
        new = max(2 * cap, self.n_tasks + need)
        for name in ("t_job", "t_res", "t_units", "t_dur", "t_npred", "t_status", "t_node", "t_rtype", "t_start", "t_end"):
            old = getattr(self, name)
            fill = -1 if name in ("t_node", "t_rtype") else 0
            arr = np.full(new, fill, dtype=old.dtype)
            arr[:cap] = old
            setattr(self, name, arr)
        succ = -np.ones((new, self.t_succ.shape[1]), dtype=np.int64)
        succ[:cap] = self.t_succ
        self.t_succ = succ

    def _grow_jobs(self, need: int) -> None:
        cap = self.j_arrival.size
        if self.n_jobs + need <= cap:
            return
        new = max(2 * cap, self.n_jobs + need)
        for name in ("j_arrival", "j_deadline", "j_type", "j_high", "j_ntasks", "j_ndone", "j_status", "j_late",
                     "j_finish", "j_tardiness", "j_value", "j_crit"):
            old = getattr(self, name)
            arr = np.zeros(new, dtype=old.dtype)
            arr[:cap] = old
            setattr(self, name, arr)

    # ------------------------------------------------------------------ arrivals
    def add_jobs(self, batch: JobBatch) -> None:
        """Append a batch; its root sub-tasks join the ready queue."""
        nj, nt = batch.n_jobs, int(batch.task_job.size)
        if nj == 0:
            return
        self._grow_jobs(nj)
        self._grow_tasks(nt)
        j0, t0 = self.n_jobs, self.n_tasks
        js, ts = slice(j0, j0 + nj), slice(t0, t0 + nt)
        self.j_arrival[js] = batch.arrival_h
        self.j_deadline[js] = batch.deadline_h
        self.j_type[js] = batch.type_index
        self.j_high[js] = batch.high_qos
        self.j_ntasks[js] = batch.n_tasks
        self.j_ndone[js] = 0
        self.j_status[js] = ACTIVE
        self.j_late[js] = False
        self.j_crit[js] = batch.critical_path_h
        self.j_value[js] = job_values_usd(batch, self.wl)
        self.t_job[ts] = batch.task_job + j0
        self.t_res[ts] = batch.task_resource
        self.t_units[ts] = batch.task_units
        self.t_dur[ts] = batch.task_duration_h
        self.t_npred[ts] = batch.task_n_pred
        self.t_succ[ts] = np.where(batch.task_succ >= 0, batch.task_succ + t0, -1)
        roots = np.flatnonzero(batch.task_n_pred == 0) + t0
        self.t_status[ts] = WAITING
        self.t_status[roots] = READY
        self.t_node[ts] = -1
        self.t_rtype[ts] = -1
        self.n_jobs += nj
        self.n_tasks += nt
        self.ready.extend(roots.tolist())

    # ------------------------------------------------------------------ decisions
    def feasible(self, task: int) -> np.ndarray:
        """Where ``task`` fits now, ``[node, resource]`` bool."""
        return self.free >= self.t_units[task]

    def run_time_h(self, task: int, node: int, rtype: int) -> float:
        return float(self.t_dur[task] * self.slowdown[self.t_res[task], rtype] / self.speed[node])

    def assign(self, task: int, node: int, rtype: int, now_h: float, delay_h: float = 0.0) -> None:
        """Run ``task`` on ``node``'s ``rtype`` servers from ``now_h``; the servers are held
        ``delay_h`` longer than the run (e.g. while the task's data arrives)."""
        self.free[node, rtype] -= self.t_units[task]
        self.t_status[task] = RUNNING
        self.t_node[task] = node
        self.t_rtype[task] = rtype
        self.t_start[task] = now_h
        self.t_end[task] = now_h + delay_h + self.run_time_h(task, node, rtype)

    def migrate(self, task: int, node: int, rtype: int, now_h: float, delay_h: float) -> None:
        """Move running ``task`` to ``node``'s ``rtype`` servers at ``now_h`` (an interval
        boundary): checkpoint, transfer and restart take ``delay_h`` (servers held), then the
        work left runs there. Work left = the time left on the old placement over its full run
        time there (a transfer still under way when migrated counts as work)."""
        if self.t_status[task] != RUNNING:
            raise ValueError(f"task={task}: expected a running sub-task to migrate")
        old_node, old_r = int(self.t_node[task]), int(self.t_rtype[task])
        left = max(float(self.t_end[task]) - now_h, 0.0)
        frac = min(left / max(self.run_time_h(task, old_node, old_r), 1e-12), 1.0)
        self.free[old_node, old_r] += self.t_units[task]
        self.free[node, rtype] -= self.t_units[task]
        self.t_node[task], self.t_rtype[task] = node, rtype
        self.t_start[task] = now_h
        self.t_end[task] = now_h + delay_h + frac * self.run_time_h(task, node, rtype)

    def restart(self, tasks: np.ndarray, now_h: float) -> float:
        """Running ``tasks`` lose their work (their node failed): their servers are freed and
        they are ready again, released at ``now_h``. Returns the server-hours of work lost."""
        tasks = np.asarray(tasks, dtype=np.int64)
        tasks = tasks[self.t_status[tasks] == RUNNING]
        if not tasks.size:
            return 0.0
        np.add.at(self.free, (self.t_node[tasks], self.t_rtype[tasks]), self.t_units[tasks])
        lost = float((self.t_units[tasks] * np.clip(now_h - self.t_start[tasks], 0.0, None)).sum())
        self.t_status[tasks] = READY
        self.t_node[tasks] = -1
        self.t_rtype[tasks] = -1
        self.ready.extend(tasks.tolist())
        return lost

    def running_on(self, nodes: np.ndarray) -> np.ndarray:
        """Running sub-tasks on any of ``nodes`` (bool ``[node]``), ``[k]`` int."""
        run = np.flatnonzero(self.t_status[: self.n_tasks] == RUNNING)
        return run[np.asarray(nodes, dtype=bool)[self.t_node[run]]]

    # ------------------------------------------------------------------ the clock
    def advance(self, t0: float, t1: float) -> IntervalCompute:
        """Execute ``[t0, t1)``: energy, completions, successors, deadlines, drops."""
        n = self.n_tasks
        dt = t1 - t0
        status = self.t_status[:n]
        run = np.flatnonzero(status == RUNNING)
        node, rtype = self.t_node[run], self.t_rtype[run]
        overlap = np.clip(np.minimum(self.t_end[run], t1) - np.maximum(self.t_start[run], t0), 0.0, None)
        pool = node * 2 + rtype
        busy = np.bincount(pool, weights=self.t_units[run] * overlap, minlength=2 * self.n_nodes).reshape(-1, 2) / dt
        power = self.idle_mw + (self.dyn_mw_per_server * busy).sum(axis=1)
        util = busy / np.maximum(self.capacity, 1)

        # Completions (a tolerance keeps float round-off from pushing an exact end into the
        # next interval).
        fin = run[self.t_end[run] <= t1 + 1e-9]
        revenue = 0.0
        finished_late_unbooked = np.zeros(0, dtype=np.int64)
        if fin.size:
            self.t_status[fin] = DONE
            np.add.at(self.free, (self.t_node[fin], self.t_rtype[fin]), self.t_units[fin])
            succ = self.t_succ[fin].ravel()
            succ = succ[succ >= 0]
            if succ.size:
                np.subtract.at(self.t_npred, succ, 1)
                new_ready = np.unique(succ[(self.t_npred[succ] == 0) & (self.t_status[succ] == WAITING)])
                self.t_status[new_ready] = READY
                self.ready.extend(new_ready.tolist())
            fjobs = self.t_job[fin]
            np.add.at(self.j_ndone, fjobs, 1)
            np.maximum.at(self.j_finish, fjobs, self.t_end[fin])
            done_jobs = np.unique(fjobs)
            done_jobs = done_jobs[(self.j_status[done_jobs] == ACTIVE) & (self.j_ndone[done_jobs] == self.j_ntasks[done_jobs])]
            on_time = self.j_finish[done_jobs] <= self.j_deadline[done_jobs] + 1e-9
            ok = done_jobs[on_time]
            late = done_jobs[~on_time]
            self.j_status[ok] = COMPLETED
            self.j_status[late] = FAILED
            self.j_tardiness[late] = self.j_finish[late] - self.j_deadline[late]
            # A job whose deadline passed inside this interval and that finished after it, but
            # before the interval's end, still missed its deadline: book the penalty once.
            finished_late_unbooked = late[~self.j_late[late]]
            self.j_late[finished_late_unbooked] = True
            revenue = float(self.j_value[ok].sum())

        # Deadlines passing unfinished; drops after the grace period.
        m = self.n_jobs
        active = self.j_status[:m] == ACTIVE
        newly_late = np.flatnonzero(active & ~self.j_late[:m] & (self.j_deadline[:m] <= t1))
        if fin.size:
            newly_late = np.concatenate([newly_late, finished_late_unbooked])
        self.j_late[newly_late] = True
        drop = np.flatnonzero(active & (self.j_deadline[:m] + self.wl.drop_after_h <= t1))
        if drop.size:
            self.j_status[drop] = FAILED
            self.j_tardiness[drop] = self.wl.drop_after_h
            self.j_finish[drop] = t1
            dropped_jobs = np.zeros(m, dtype=bool)
            dropped_jobs[drop] = True
            unstarted = np.flatnonzero(dropped_jobs[self.t_job[:n]] & ((status == WAITING) | (status == READY)))
            self.t_status[unstarted] = DROPPED
        return IntervalCompute(node_power_mw=power, utilization=util, revenue_usd=revenue,
                               deadline_misses=int(newly_late.size))

    def settle_unfinished(self) -> int:
        """End of the episode: every job not finished on time whose miss is not booked yet is
        charged as missed now (``j_late``); returns how many (the settlement rule of
        ``carbon_cpn.optim.objective``). Their status stays "pending"."""
        m = self.n_jobs
        due = np.flatnonzero((self.j_status[:m] == ACTIVE) & ~self.j_late[:m])
        self.j_late[due] = True
        return int(due.size)

    # ------------------------------------------------------------------ summaries
    def job_counts(self) -> dict[str, int]:
        st = self.j_status[: self.n_jobs]
        return {
            "arrived": int(self.n_jobs),
            "completed": int(np.sum(st == COMPLETED)),
            "failed": int(np.sum(st == FAILED)),
            "pending": int(np.sum(st == ACTIVE)),
        }

    def job_summary(self) -> JobSummary:
        """Job counts, mean tardiness and the QoS violation rate of the episode so far."""
        m = self.n_jobs
        st = self.j_status[:m]
        final = st != ACTIVE
        c = self.job_counts()
        high_final = final & self.j_high[:m]
        high_missed = high_final & (st == FAILED)
        return JobSummary(
            arrived=c["arrived"], completed=c["completed"], failed=c["failed"], pending=c["pending"],
            mean_tardiness_s=float(self.j_tardiness[:m][final].mean() * 3600.0) if final.any() else 0.0,
            qos_violation_rate=float(high_missed.sum() / high_final.sum()) if high_final.any() else 0.0,
        )

    def take_ready(self) -> np.ndarray:
        """The sub-tasks released since the last call (arrived roots and freed successors), in
        release order; the release list is emptied."""
        out = np.fromiter(self.ready, dtype=np.int64, count=len(self.ready))
        self.ready.clear()
        return out

    def allocated(self) -> np.ndarray:
        """Servers held by running sub-tasks, ``[node, resource]`` (for invariant checks)."""
        n = self.n_tasks
        run = np.flatnonzero(self.t_status[:n] == RUNNING)
        out = np.zeros((self.n_nodes, 2), dtype=np.int64)
        np.add.at(out, (self.t_node[run], self.t_rtype[run]), self.t_units[run])
        return out


__all__ = ["ACTIVE", "COMPLETED", "CPU", "CPNState", "DONE", "DROPPED", "FAILED", "GPU", "IntervalCompute", "JobSummary", "READY",
           "RUNNING", "WAITING"]
