"""carbon_cpn.envs.cpn against hand-computed cases (issue #15): the node power model, the
average power and utilization of an interval, the job life cycle (on time, late, dropped,
settled), DAG successor release and the return of free servers.

Every expected number is worked out in the comments from the configs built here.
"""

from __future__ import annotations

import numpy as np
import pytest

from carbon_cpn.envs.config import CPNConfig, NodeConfig, load_scenario
from carbon_cpn.envs.cpn import (
    ACTIVE, COMPLETED, CPU, DONE, DROPPED, FAILED, GPU, READY, RUNNING, WAITING, CPNState, job_values_usd,
    node_power_mw,
)
from carbon_cpn.envs.workload import CHAIN, SINGLE, JobBatch

# Node "a": 10 CPU + 4 GPU servers, default server powers (CPU 0.2/0.5 kW, GPU 1.2/6.5 kW), PUE 1.5.
# Node "b": 20 CPU servers (0.1/0.4 kW), no GPU, PUE 1.2, twice as fast.
NODES = CPNConfig(nodes=(
    NodeConfig("a", 0, cpu_units=10, gpu_units=4, pue=1.5),
    NodeConfig("b", 1, cpu_units=20, gpu_units=0, cpu_idle_kw=0.1, cpu_peak_kw=0.4, pue=1.2, speed=2.0),
))
# Hand-computed from P = PUE (idle + (peak - idle) u), per server pool, in MW:
#   idle a = 1.5 (10 x 0.2 + 4 x 1.2) / 1000 = 1.5 x 6.8 / 1000 = 0.0102
#   idle b = 1.2 (20 x 0.1) / 1000 = 0.0024
#   per busy server a = 1.5 x (0.5 - 0.2, 6.5 - 1.2) / 1000 = (0.00045, 0.00795)
#   per busy server b = 1.2 x (0.4 - 0.1, 6.5 - 1.2) / 1000 = (0.00036, 0.00636)  (GPU defaults, 0 GPUs)
IDLE_A, IDLE_B = 0.0102, 0.0024
DYN_A, DYN_B = (0.00045, 0.00795), (0.00036, 0.00636)
# Tiny's workload: CPU $0.4 and GPU $6.0 per server-hour, GPU-on-CPU slowdown 4, CPU-on-GPU 1,
# drop_after_h 2, max_subtasks 4.
TINY_WORKLOAD = load_scenario("tiny").workload
FAR = 100.0  # a deadline no test reaches


def make_batch(jobs: list[tuple[float, float, list[tuple[int, int, float]], list[tuple[int, int]]]],
               max_k: int = 4) -> JobBatch:
    """A batch from ``(arrival, deadline, tasks, edges)`` per job; a task is ``(preferred
    resource, units, duration at speed 1)``, an edge ``(i, j)`` (task positions within the job)
    means i precedes j."""
    task_job, res, units, dur, n_pred, succ = [], [], [], [], [], []
    for j, (_, _, tasks, edges) in enumerate(jobs):
        first = len(task_job)
        for r, u, d in tasks:
            task_job.append(j)
            res.append(r)
            units.append(u)
            dur.append(d)
            n_pred.append(0)
            succ.append([-1] * max_k)
        for i, k in edges:
            row = succ[first + i]
            row[row.index(-1)] = first + k
            n_pred[first + k] += 1
    n_tasks = np.bincount(task_job, minlength=len(jobs))
    return JobBatch(
        arrival_h=np.array([a for a, _, _, _ in jobs], dtype=float),
        deadline_h=np.array([d for _, d, _, _ in jobs], dtype=float),
        type_index=np.zeros(len(jobs), dtype=np.int64),
        shape=np.where(n_tasks > 1, CHAIN, SINGLE),
        high_qos=np.zeros(len(jobs), dtype=bool),
        n_tasks=n_tasks,
        critical_path_h=np.bincount(task_job, weights=dur, minlength=len(jobs)),
        task_job=np.array(task_job, dtype=np.int64),
        task_resource=np.array(res, dtype=np.int64),
        task_units=np.array(units, dtype=np.int64),
        task_duration_h=np.array(dur, dtype=float),
        task_n_pred=np.array(n_pred, dtype=np.int64),
        task_succ=np.array(succ, dtype=np.int64),
    )


def state_with(jobs, workload=TINY_WORKLOAD) -> CPNState:
    cpn = CPNState(NODES, workload)
    cpn.add_jobs(make_batch(jobs, workload.max_subtasks))
    return cpn


def counts(cpn: CPNState) -> tuple[int, int, int]:
    """Jobs (completed, failed, pending)."""
    c = cpn.job_counts()
    return c["completed"], c["failed"], c["pending"]


# ----------------------------------------------------------------------------- power model
def test_node_power_model_of_hand_built_nodes() -> None:
    idle, dyn = node_power_mw(NODES)
    np.testing.assert_allclose(idle, [IDLE_A, IDLE_B], rtol=1e-12)
    np.testing.assert_allclose(dyn, [DYN_A, DYN_B], rtol=1e-12)
    cpn = CPNState(NODES, TINY_WORKLOAD)
    # peak a = 1.5 (10 x 0.5 + 4 x 6.5) / 1000 = 1.5 x 31 / 1000 = 0.0465; peak b = 1.2 x 20 x 0.4 / 1000 = 0.0096
    np.testing.assert_allclose(cpn.peak_mw, [0.0465, 0.0096], rtol=1e-12)


def test_node_power_model_of_the_tiny_scenario() -> None:
    idle, dyn = node_power_mw(load_scenario("tiny").cpn)
    # dc_b2: 3000 CPU + 1000 GPU, PUE 1.3: idle = 1.3 (3000 x 0.2 + 1000 x 1.2) / 1000 = 1.3 x 1.8 = 2.34 MW
    # dc_b30: 2000 CPU + 700 GPU: idle = 1.3 (400 + 840) / 1000 = 1.3 x 1.24 = 1.612 MW
    np.testing.assert_allclose(idle, [2.34, 1.612], rtol=1e-12)
    # per busy server: 1.3 x (0.3, 5.3) / 1000 = (0.00039, 0.00689) MW at both nodes
    np.testing.assert_allclose(dyn, [[0.00039, 0.00689]] * 2, rtol=1e-12)


def test_run_time_includes_speed_and_resource_slowdown() -> None:
    cpn = state_with([(0.0, FAR, [(GPU, 1, 0.1), (CPU, 1, 0.3)], [])])
    # GPU task: on a's GPU 0.1 h; on a's CPU 0.1 x 4 = 0.4 h; on b's CPU 0.1 x 4 / 2 = 0.2 h.
    assert cpn.run_time_h(0, 0, GPU) == pytest.approx(0.1)
    assert cpn.run_time_h(0, 0, CPU) == pytest.approx(0.4)
    assert cpn.run_time_h(0, 1, CPU) == pytest.approx(0.2)
    # CPU task on GPU: slowdown 1, so 0.3 h on a, 0.3 / 2 = 0.15 h on b.
    assert cpn.run_time_h(1, 0, GPU) == pytest.approx(0.3)
    assert cpn.run_time_h(1, 1, CPU) == pytest.approx(0.15)


def test_job_values_are_server_hours_at_the_preferred_resource_price() -> None:
    batch = make_batch([
        (0.0, FAR, [(CPU, 4, 0.25), (GPU, 2, 0.5)], [(0, 1)]),
        (0.0, FAR, [(GPU, 5, 0.1)], []),
    ])
    # job 0: 4 x 0.25 x 0.4 + 2 x 0.5 x 6 = 0.4 + 6.0 = 6.4 $; job 1: 5 x 0.1 x 6 = 3.0 $
    np.testing.assert_allclose(job_values_usd(batch, TINY_WORKLOAD), [6.4, 3.0])


def test_advance_averages_power_and_utilization_over_the_interval() -> None:
    cpn = state_with([
        (0.0, FAR, [(CPU, 4, 0.25)], []),  # job 0 -> a CPU, runs [0, 0.25)
        (0.0, FAR, [(GPU, 5, 0.1)], []),  # job 1 -> b CPU (4x slower, 2x faster node): 0.2 h, [0.25, 0.45)
        (0.0, FAR, [(GPU, 2, 0.75)], []),  # job 2 -> a GPU, runs [0, 0.75)
    ])
    cpn.assign(0, 0, CPU, 0.0)
    cpn.assign(1, 1, CPU, 0.25)
    cpn.assign(2, 0, GPU, 0.0)
    np.testing.assert_array_equal(cpn.free, [[6, 2], [15, 0]])
    np.testing.assert_array_equal(cpn.allocated(), [[4, 2], [5, 0]])
    assert cpn.t_end[1] == pytest.approx(0.45)

    first = cpn.advance(0.0, 0.5)
    # Busy servers averaged over 0.5 h: a CPU 4 x 0.25 / 0.5 = 2, a GPU 2 x 0.5 / 0.5 = 2,
    # b CPU 5 x 0.2 / 0.5 = 2.
    np.testing.assert_allclose(first.utilization, [[2 / 10, 2 / 4], [2 / 20, 0.0]])
    # a: 0.0102 + 2 x 0.00045 + 2 x 0.00795 = 0.027 MW; b: 0.0024 + 2 x 0.00036 = 0.00312 MW
    np.testing.assert_allclose(first.node_power_mw, [0.027, 0.00312], rtol=1e-12)
    # Jobs 0 and 1 done on time: 0.4 $ + 3.0 $ (valued at the preferred GPU price, wherever run).
    assert counts(cpn) == (2, 0, 1) and first.deadline_misses == 0
    assert first.revenue_usd == pytest.approx(3.4)
    np.testing.assert_array_equal(cpn.free, [[10, 2], [20, 0]])

    second = cpn.advance(0.5, 1.0)
    # a GPU busy 2 x 0.25 / 0.5 = 1: 0.0102 + 0.00795 = 0.01815 MW; b idle.
    np.testing.assert_allclose(second.utilization, [[0.0, 1 / 4], [0.0, 0.0]])
    np.testing.assert_allclose(second.node_power_mw, [0.01815, IDLE_B], rtol=1e-12)
    assert second.revenue_usd == pytest.approx(2 * 0.75 * 6.0)  # 9.0 $
    np.testing.assert_array_equal(cpn.free, cpn.capacity)
    np.testing.assert_array_equal(cpn.allocated(), 0)
    assert cpn.job_counts() == {"arrived": 3, "completed": 3, "failed": 0, "pending": 0}

    third = cpn.advance(1.0, 1.5)  # nothing runs: idle power, no utilization
    np.testing.assert_allclose(third.node_power_mw, [IDLE_A, IDLE_B], rtol=1e-12)
    np.testing.assert_array_equal(third.utilization, 0.0)


def test_feasible_marks_pools_with_enough_free_servers() -> None:
    cpn = state_with([(0.0, FAR, [(CPU, 5, 0.5)], []), (0.0, FAR, [(CPU, 3, 0.5)], [])])
    # 5 units: a CPU (10) yes, a GPU (4) no, b CPU (20) yes, b GPU (0) no.
    np.testing.assert_array_equal(cpn.feasible(0), [[True, False], [True, False]])
    cpn.assign(0, 0, CPU, 0.0)  # a CPU left: 5
    cpn.assign(1, 0, CPU, 0.0)  # a CPU left: 2
    # 5 units no longer fit on a's CPUs.
    np.testing.assert_array_equal(cpn.feasible(0), [[False, False], [True, False]])


# ----------------------------------------------------------------------------- job life cycle
def test_job_finishing_exactly_at_its_deadline_after_a_fork_join_completes() -> None:
    # R -> {B1, B2} -> S, all 1 CPU server on node a; value = (0.5 + 0.25 + 0.75 + 0.5) x 0.4 = 0.8 $
    cpn = state_with([(0.0, 2.0, [(CPU, 1, 0.5), (CPU, 1, 0.25), (CPU, 1, 0.75), (CPU, 1, 0.5)],
                       [(0, 1), (0, 2), (1, 3), (2, 3)])])
    R, B1, B2, S = range(4)
    assert list(cpn.ready) == [R]
    np.testing.assert_array_equal(cpn.t_status[:4], [READY, WAITING, WAITING, WAITING])
    np.testing.assert_array_equal(cpn.t_npred[:4], [0, 1, 1, 2])

    cpn.assign(R, 0, CPU, 0.0)
    out = cpn.advance(0.0, 0.5)  # R done at 0.5: both branches released, the sink still waits
    assert list(cpn.ready) == [R, B1, B2]
    np.testing.assert_array_equal(cpn.t_status[:4], [DONE, READY, READY, WAITING])
    assert out.revenue_usd == 0.0 and cpn.j_status[0] == ACTIVE and cpn.j_ndone[0] == 1

    cpn.assign(B1, 0, CPU, 0.5)  # ends 0.75
    cpn.assign(B2, 0, CPU, 0.5)  # ends 1.25
    cpn.advance(0.5, 1.0)  # B1 done, one predecessor of S left
    assert cpn.t_status[S] == WAITING and cpn.t_npred[S] == 1 and list(cpn.ready) == [R, B1, B2]
    cpn.advance(1.0, 1.5)  # B2 done: S joins the queue
    assert cpn.t_status[S] == READY and list(cpn.ready) == [R, B1, B2, S]
    assert cpn.j_status[0] == ACTIVE and cpn.j_ndone[0] == 3

    cpn.assign(S, 0, CPU, 1.5)  # ends 2.0 = the deadline: on time
    out = cpn.advance(1.5, 2.0)
    assert counts(cpn) == (1, 0, 0) and out.deadline_misses == 0
    assert out.revenue_usd == pytest.approx(0.8)
    assert cpn.j_status[0] == COMPLETED and cpn.j_finish[0] == pytest.approx(2.0)
    np.testing.assert_array_equal(cpn.free, cpn.capacity)


def test_chain_successor_is_released_only_after_its_predecessor() -> None:
    cpn = state_with([(0.0, FAR, [(CPU, 2, 0.75), (GPU, 1, 0.25)], [(0, 1)])])
    cpn.assign(0, 0, CPU, 0.0)  # ends 0.75
    cpn.advance(0.0, 0.5)
    assert cpn.t_status[1] == WAITING and list(cpn.ready) == [0]
    cpn.advance(0.5, 1.0)
    assert cpn.t_status[1] == READY and list(cpn.ready) == [0, 1]
    np.testing.assert_array_equal(cpn.free, cpn.capacity)


def test_completion_tolerates_float_round_off_at_the_interval_end() -> None:
    cpn = state_with([(0.0, 0.3, [(CPU, 1, 0.2)], [])])
    cpn.assign(0, 0, CPU, 0.1)
    assert cpn.t_end[0] > 0.3  # 0.1 + 0.2 = 0.30000000000000004 in floats
    out = cpn.advance(0.1, 0.3)
    assert out.deadline_misses == 0 and cpn.j_status[0] == COMPLETED and out.revenue_usd == pytest.approx(0.08)


def test_deadline_passing_first_books_one_miss_then_failure_with_tardiness() -> None:
    cpn = state_with([
        (0.0, 0.5, [(CPU, 1, 1.0)], []),  # job 0: deadline 0.5, finishes 1.0
        (0.0, 0.3, [(CPU, 1, 0.4)], []),  # job 1: deadline 0.3, finishes 0.4, within the same interval
    ])
    cpn.assign(0, 0, CPU, 0.0)
    cpn.assign(1, 0, CPU, 0.0)
    first = cpn.advance(0.0, 0.5)
    # job 0's deadline passed unfinished (miss, still running); job 1 finished late (miss and failure).
    assert first.deadline_misses == 2 and first.revenue_usd == 0.0 and counts(cpn) == (0, 1, 1)
    assert cpn.j_status[0] == ACTIVE and cpn.j_late[0]
    assert cpn.j_status[1] == FAILED and cpn.j_tardiness[1] == pytest.approx(0.4 - 0.3)

    second = cpn.advance(0.5, 1.0)  # job 0 finishes late: failure, its miss is not booked again
    assert second.deadline_misses == 0 and second.revenue_usd == 0.0 and counts(cpn) == (0, 2, 0)
    assert cpn.j_status[0] == FAILED and cpn.j_tardiness[0] == pytest.approx(1.0 - 0.5)
    np.testing.assert_array_equal(cpn.free, cpn.capacity)


def test_unfinished_job_is_dropped_drop_after_h_past_its_deadline() -> None:
    workload = load_scenario("tiny", workload__drop_after_h=1.0).workload
    # A -> C, and B a second root. A runs [0, 3); B stays queued; C waits for A.
    cpn = state_with([(0.0, 0.5, [(CPU, 3, 3.0), (CPU, 1, 0.5), (CPU, 1, 0.5)], [(0, 2)])], workload)
    A, B, C = range(3)
    cpn.assign(A, 0, CPU, 0.0)
    misses = [cpn.advance(t0, t0 + 0.5).deadline_misses for t0 in (0.0, 0.5)]
    assert misses == [1, 0] and cpn.j_status[0] == ACTIVE
    out = cpn.advance(1.0, 1.5)  # deadline 0.5 + 1.0 = 1.5 <= t1: dropped
    assert out.deadline_misses == 0 and counts(cpn) == (0, 1, 0)
    assert cpn.j_status[0] == FAILED and cpn.j_tardiness[0] == pytest.approx(1.0)
    # Unstarted sub-tasks (ready B, waiting C) are dropped; running A runs out on its servers.
    np.testing.assert_array_equal(cpn.t_status[:3], [RUNNING, DROPPED, DROPPED])
    np.testing.assert_array_equal(cpn.free, [[7, 4], [20, 0]])

    for t0 in (1.5, 2.0, 2.5):  # A ends at 3.0
        out = cpn.advance(t0, t0 + 0.5)
        assert (out.deadline_misses, out.revenue_usd) == (0, 0.0)
    assert cpn.t_status[A] == DONE and cpn.t_status[C] == DROPPED and C not in cpn.ready
    np.testing.assert_array_equal(cpn.free, cpn.capacity)
    assert cpn.j_status[0] == FAILED and cpn.j_tardiness[0] == pytest.approx(1.0) and counts(cpn) == (0, 1, 0)


def test_settle_unfinished_books_each_pending_miss_once() -> None:
    cpn = state_with([
        (0.0, FAR, [(CPU, 1, 0.25)], []),  # 0: completes on time
        (0.0, 0.5, [(CPU, 1, 5.0)], []),  # 1: deadline passes running (miss booked by advance)
        (0.0, FAR, [(CPU, 1, 5.0)], []),  # 2: never started, deadline ahead
        (0.0, 0.25, [(CPU, 1, 0.4)], []),  # 3: finishes late -> failed
    ])
    for task in (0, 1, 3):
        cpn.assign(task, 0, CPU, 0.0)
    out = cpn.advance(0.0, 0.5)
    assert out.deadline_misses == 2  # jobs 1 and 3
    assert counts(cpn) == (1, 1, 2)
    np.testing.assert_array_equal(cpn.j_late[:4], [False, True, False, True])

    assert cpn.settle_unfinished() == 1  # only job 2 is pending and not yet charged
    np.testing.assert_array_equal(cpn.j_late[:4], [False, True, True, True])
    np.testing.assert_array_equal(cpn.j_status[:4], [COMPLETED, ACTIVE, ACTIVE, FAILED])  # still pending
    assert cpn.settle_unfinished() == 0
