"""Read-only views of a CarbonCPN env for heuristic baselines and the perfect-foresight oracle.

Baselines that need more than the observation vector get the env's structured state through
``env.unwrapped.scheduler_view()`` (a :class:`SchedulerView`), never through private fields.
The oracle gets the whole episode ahead of time through ``env.unwrapped.foresight()`` (a
:class:`Foresight`): job arrivals do not depend on the agent's actions, so drawing them from a
copy of the arrival stream (``carbon_cpn.envs.streams``) gives exactly the jobs the episode will see.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from carbon_cpn.envs.cpn import RUNNING
from carbon_cpn.envs.workload import JobBatch
from carbon_cpn.optim.grid import GridModel


@dataclass(frozen=True)
class HeadTask:
    """The sub-task awaiting a decision."""

    task: int  # global sub-task index (arrival order)
    job: int
    units: int  # servers it occupies
    prefers_gpu: bool
    run_time_h: np.ndarray  # [node, resource] run time if placed there now
    arrival_h: float  # its job's arrival
    deadline_h: float  # its job's deadline
    high_qos: bool
    workload_type: str
    tasks_left_in_job: int
    #: True when the head is already running and the question is whether to migrate it
    #: (families with migration); a placement action then moves it, defer holds it.
    running: bool = False


@dataclass(frozen=True)
class SchedulerView:
    """What a scheduler may know at a decision point. Per-node grid signals are those of the
    last dispatched interval; ``*_next`` are the inputs of the coming interval."""

    now_h: float  # hours since the episode start
    hour_of_day: float
    interval: int  # index of the interval about to run
    n_intervals: int
    interval_h: float
    head: HeadTask | None
    action_mask: np.ndarray  # [action]
    free_servers: np.ndarray  # [node, resource]
    capacity_servers: np.ndarray  # [node, resource]
    node_bus: np.ndarray  # [node] pandapower bus labels
    node_lmp_usd_per_mwh: np.ndarray  # [node], last interval
    node_mci_kg_per_mwh: np.ndarray  # [node], last interval
    node_power_mw: np.ndarray  # [node], last interval
    node_idle_mw: np.ndarray  # [node]
    node_mw_per_busy_server: np.ndarray  # [node, resource], facility MW per busy server (PUE included)
    node_pue: np.ndarray  # [node]
    node_speed: np.ndarray  # [node]
    node_local_res_mw_next: np.ndarray  # [node] availability of the farms electrically nearest each node
    res_avail_mw_next: np.ndarray  # [res]
    queue_length: int
    #: Day-ahead LMP and MCI at the nodes for the coming interval, when the commitment source
    #: publishes a day-ahead profile (the unit-commitment plan); else None.
    day_ahead_lmp_usd_per_mwh: np.ndarray | None
    day_ahead_mci_kg_per_mwh: np.ndarray | None


@dataclass(frozen=True)
class Foresight:
    """The whole episode, known ahead (for the oracle)."""

    day: int
    interval_h: float
    n_intervals: int
    base_load_mw: np.ndarray  # [t, bus]
    res_avail_mw: np.ndarray  # [t, res]
    committed: np.ndarray  # [t, gen]
    #: Jobs arriving in interval t (queued at its end), or None; sub-task indices in a batch
    #: are local: the global index of a batch's first task is ``first_task[t]``.
    batches: list[JobBatch | None]
    first_task: np.ndarray  # [t]
    first_job: np.ndarray  # [t]


def nearest_node_of_farms(g: GridModel, node_bus: np.ndarray) -> np.ndarray:
    """For each renewable farm, the CPN node (at bus positions ``node_bus``) closest to it in
    branch hops (ties: lower index)."""
    n = g.n_node
    adj = [[] for _ in range(n)]
    for f, t in zip(g.branch_from, g.branch_to):
        adj[int(f)].append(int(t))
        adj[int(t)].append(int(f))
    node_elec = g.bus_node[node_bus]

    def hops_from(src: int) -> np.ndarray:
        dist = np.full(n, np.iinfo(np.int64).max)
        dist[src] = 0
        frontier = [src]
        while frontier:
            nxt = []
            for u in frontier:
                for v in adj[u]:
                    if dist[v] > dist[u] + 1:
                        dist[v] = dist[u] + 1
                        nxt.append(v)
            frontier = nxt
        return dist

    out = np.zeros(g.n_res, dtype=np.int64)
    for r in range(g.n_res):
        d = hops_from(int(g.bus_node[g.res_bus[r]]))
        out[r] = int(np.argmin(d[node_elec]))
    return out


def scheduler_view(env: Any) -> SchedulerView:
    """The view of a :class:`~carbon_cpn.envs.cosim_env.CoSimEnv` (its public state only)."""
    cpn = env.cpn
    head = None
    if env.head_task >= 0:
        k = env.head_task
        j = int(cpn.t_job[k])
        run = np.array([[cpn.run_time_h(k, n, r) for r in (0, 1)] for n in range(env.n_nodes)])
        head = HeadTask(
            task=k, job=j, units=int(cpn.t_units[k]), prefers_gpu=bool(cpn.t_res[k] == 1), run_time_h=run,
            arrival_h=float(cpn.j_arrival[j]), deadline_h=float(cpn.j_deadline[j]), high_qos=bool(cpn.j_high[j]),
            workload_type=env.cfg.workload.types[int(cpn.j_type[j])].name,
            tasks_left_in_job=int(cpn.j_ntasks[j] - cpn.j_ndone[j]), running=bool(cpn.t_status[k] == RUNNING),
        )
    t = min(env.t, env.n_intervals - 1)
    avail = env.inputs.res_avail_mw[t].copy()
    local = np.bincount(env.farm_node, weights=avail, minlength=env.n_nodes) if avail.size else np.zeros(env.n_nodes)
    da_lmp = da_mci = None
    profile = getattr(env.commitment, "day_ahead_profile", None)
    if profile is not None:
        lmp, mci = profile(env.day)  # [t_day_ahead, bus] at the plan's resolution
        steps = lmp.shape[0]
        row = min(int((env.now_h % 24.0) / 24.0 * steps), steps - 1)
        da_lmp = np.asarray(lmp)[row, env.node_bus].copy()
        da_mci = np.asarray(mci)[row, env.node_bus].copy()
    last = env.ledger.last
    if last is None:  # before the first interval
        lmp, mci, power = np.zeros(env.n_nodes), np.zeros(env.n_nodes), cpn.idle_mw
    else:
        lmp, mci, power = last.node_lmp_usd_per_mwh, last.node_mci_kg_per_mwh, last.node_power_mw
    return SchedulerView(
        now_h=env.now_h, hour_of_day=env.now_h % 24.0, interval=env.t, n_intervals=env.n_intervals,
        interval_h=env.interval_h, head=head, action_mask=env.action_masks(), free_servers=cpn.free.copy(),
        capacity_servers=cpn.capacity.copy(), node_bus=env.power.bus_ids[env.node_bus].copy(),
        node_lmp_usd_per_mwh=np.array(lmp, dtype=float), node_mci_kg_per_mwh=np.array(mci, dtype=float),
        node_power_mw=np.array(power, dtype=float), node_idle_mw=cpn.idle_mw.copy(),
        node_mw_per_busy_server=cpn.dyn_mw_per_server.copy(), node_pue=cpn.pue.copy(), node_speed=cpn.speed.copy(),
        node_local_res_mw_next=local, res_avail_mw_next=avail,
        queue_length=len(env.queue),
        day_ahead_lmp_usd_per_mwh=da_lmp, day_ahead_mci_kg_per_mwh=da_mci,
    )


def foresight(env: Any) -> Foresight:
    """All arrivals of the episode of a :class:`~carbon_cpn.envs.cosim_env.CoSimEnv`, drawn
    from a copy of its arrival stream taken at reset (``carbon_cpn.envs.streams``): nothing else
    draws from that stream, so the copy gives exactly the jobs the episode sees, whatever the
    agent does. Callable at any point of the episode.
    """
    rng = env.streams.arrivals_replay()
    batches: list[JobBatch | None] = []
    first_task, first_job = [], []
    nt = nj = 0
    for t in range(env.n_intervals):
        b = env.jobs.draw(rng, t * env.interval_h, env.interval_h, float(env.inputs.hour_of_day[t]))
        batches.append(b)
        first_task.append(nt)
        first_job.append(nj)
        if b is not None:
            nt += int(b.task_job.size)
            nj += b.n_jobs
    return Foresight(
        day=env.day, interval_h=env.interval_h, n_intervals=env.n_intervals,
        base_load_mw=env.inputs.base_load_mw.copy(), res_avail_mw=env.inputs.res_avail_mw.copy(),
        committed=np.asarray(env.committed).copy(), batches=batches, first_task=np.asarray(first_task),
        first_job=np.asarray(first_job),
    )
