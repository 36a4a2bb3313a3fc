"""carbon_cpn.envs.workload against its rules (issue #15): the DAG shapes, the deadline rule, the
bounds of every draw, seeding, and the cosine daily cycle of the arrival rate.

Structural rules are checked job by job on batches drawn from fixed seeds, with the expected
DAG, critical path and deadline rebuilt here from the task durations; degenerate types (a
single duration, a single server count) give batches whose every number is known by hand.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from carbon_cpn.envs.config import WorkloadConfig, WorkloadType, load_scenario
from carbon_cpn.envs.workload import CHAIN, CPU, FORKJOIN, GPU, SINGLE, JobBatch, JobGenerator, arrival_rate_per_h

# Tiny's mix (ai_training / ai_inference / big_data, none "variable") with up to 8 sub-tasks per
# job and enough arrivals that every shape and length shows up in a few draws.
BUSY = load_scenario("tiny", workload__max_subtasks=8, workload__jobs_per_hour=200.0).workload
DT = 0.5


def draws(cfg: WorkloadConfig, seed: int, n: int = 6, dt: float = DT) -> list[tuple[float, JobBatch]]:
    """``n`` consecutive intervals from hour 0, ``(t0, batch)`` for each non-empty one."""
    gen, rng = JobGenerator(cfg), np.random.default_rng(seed)
    out = []
    for i in range(n):
        b = gen.draw(rng, i * dt, dt, (i * dt) % 24.0)
        if b is not None:
            out.append((i * dt, b))
    return out


def expected_dag(shape: int, k: int) -> tuple[list[list[int]], list[int]]:
    """Successor lists and predecessor counts of a job of ``shape`` with ``k`` tasks (local positions)."""
    if shape == SINGLE:
        return [[]], [0]
    if shape == CHAIN:  # 0 -> 1 -> ... -> k-1
        return [[i + 1] for i in range(k - 1)] + [[]], [0] + [1] * (k - 1)
    # fork-join: root 0 -> branches 1..k-2 -> sink k-1
    return [list(range(1, k - 1))] + [[k - 1]] * (k - 2) + [[]], [0] + [1] * (k - 2) + [k - 2]


def job_slices(b: JobBatch) -> list[slice]:
    ends = np.cumsum(b.n_tasks)
    return [slice(int(e - k), int(e)) for e, k in zip(ends, b.n_tasks)]


def test_every_job_has_the_dag_of_its_shape() -> None:
    seen: dict[int, set[int]] = {SINGLE: set(), CHAIN: set(), FORKJOIN: set()}
    for _, b in draws(BUSY, seed=1):
        # Tasks of a job are contiguous, in job order.
        np.testing.assert_array_equal(b.task_job, np.repeat(np.arange(b.n_jobs), b.n_tasks))
        assert b.task_succ.shape == (b.task_job.size, BUSY.max_subtasks)
        for j, sl in enumerate(job_slices(b)):
            shape, k = int(b.shape[j]), int(b.n_tasks[j])
            seen[shape].add(k)
            succ, n_pred = expected_dag(shape, k)
            local = [[int(s) - sl.start for s in row if s >= 0] for row in b.task_succ[sl]]
            assert local == succ, (shape, k)
            assert b.task_n_pred[sl].tolist() == n_pred, (shape, k)
            # -1 padding only after the successors
            for row in b.task_succ[sl]:
                n_succ = int((row >= 0).sum())
                assert (row[n_succ:] == -1).all()
    # single: 1 task; chain: 2..8 tasks; fork-join: root + 2..6 branches + sink = 4..8 tasks.
    assert seen[SINGLE] == {1}
    assert seen[CHAIN] == set(range(2, 9))
    assert seen[FORKJOIN] == set(range(4, 9))


def test_critical_path_and_deadline_rule() -> None:
    n_checked = 0
    for _, b in draws(BUSY, seed=2):
        for j, sl in enumerate(job_slices(b)):
            d = b.task_duration_h[sl]
            if b.shape[j] == FORKJOIN:  # root + longest branch + sink; 3 levels
                crit, levels = d[0] + d[1:-1].max() + d[-1], 3
            else:  # single and chain: the sum; one level per task
                crit, levels = d.sum(), d.size
            slack = BUSY.types[int(b.type_index[j])].slack
            assert b.critical_path_h[j] == pytest.approx(crit, rel=1e-12)
            assert b.deadline_h[j] == pytest.approx(b.arrival_h[j] + slack * crit + levels * DT, rel=1e-12)
            n_checked += 1
    assert n_checked > 300


def test_draws_stay_inside_the_interval_and_the_types_bounds() -> None:
    for t0, b in draws(BUSY, seed=3):
        assert ((b.arrival_h >= t0) & (b.arrival_h < t0 + DT)).all()
        assert (np.diff(b.arrival_h) >= 0).all()
        tt = b.type_index[b.task_job]
        dmin = np.array([t.duration_min_h for t in BUSY.types])[tt]
        dmax = np.array([t.duration_max_h for t in BUSY.types])[tt]
        umin = np.array([t.units_min for t in BUSY.types])[tt]
        umax = np.array([t.units_max for t in BUSY.types])[tt]
        assert ((b.task_duration_h >= dmin) & (b.task_duration_h <= dmax)).all()
        assert ((b.task_units >= umin) & (b.task_units <= umax)).all()
        assert set(b.task_resource.tolist()) <= {CPU, GPU}
        # ai_inference (type 1) is the one high-QoS type of Tiny.
        np.testing.assert_array_equal(b.high_qos, b.type_index == 1)


def test_same_seed_same_batches_other_seed_other_batches() -> None:
    a, b, c = draws(BUSY, seed=7), draws(BUSY, seed=7), draws(BUSY, seed=8)
    assert len(a) == len(b) > 0
    for (ta, ba), (tb, bb) in zip(a, b):
        assert ta == tb
        for f in dataclasses.fields(JobBatch):
            np.testing.assert_array_equal(getattr(ba, f.name), getattr(bb, f.name), err_msg=f.name)
    assert not np.array_equal(a[0][1].arrival_h, c[0][1].arrival_h)


def fixed_workload(**kw) -> WorkloadConfig:
    """One type whose every sub-task is 8 GPU servers for 0.5 h, slack 3."""
    typ = WorkloadType("fixed", 1.0, gpu_prob=1.0, duration_min_h=0.5, duration_max_h=0.5, units_min=8, units_max=8,
                       slack=3.0, qos=kw.pop("qos", "medium"))
    return WorkloadConfig(types=(typ,), **kw)


@pytest.mark.parametrize("shape_probs, shape, deadline_after_arrival", [
    # single: 3 x 0.5 + 1 x 0.5 = 2.0 h
    ({"p_single": 1.0, "p_chain": 0.0, "p_forkjoin": 0.0}, SINGLE, {1: 2.0}),
    # chain of k: 3 x 0.5 k + 0.5 k = 2.0 k h
    ({"p_single": 0.0, "p_chain": 1.0, "p_forkjoin": 0.0}, CHAIN, {k: 2.0 * k for k in range(2, 9)}),
    # fork-join of any width: 3 x (0.5 + 0.5 + 0.5) + 3 x 0.5 = 6.0 h
    ({"p_single": 0.0, "p_chain": 0.0, "p_forkjoin": 1.0}, FORKJOIN, {k: 6.0 for k in range(4, 9)}),
])
def test_hand_computed_deadlines_of_fixed_size_tasks(shape_probs, shape, deadline_after_arrival) -> None:
    cfg = fixed_workload(max_subtasks=8, jobs_per_hour=40.0, **shape_probs)
    batches = draws(cfg, seed=4)
    assert batches
    for _, b in batches:
        assert (b.shape == shape).all()
        np.testing.assert_array_equal(b.task_units, 8)  # floor(exp(U(log 8, log 9))) = 8
        np.testing.assert_array_equal(b.task_resource, GPU)
        np.testing.assert_allclose(b.task_duration_h, 0.5, rtol=1e-12)
        expected = np.array([deadline_after_arrival[int(k)] for k in b.n_tasks])
        np.testing.assert_allclose(b.deadline_h - b.arrival_h, expected, rtol=1e-12)


def test_variable_qos_draws_the_slack_between_1_5_and_twice_the_slack() -> None:
    cfg = fixed_workload(qos="variable", jobs_per_hour=200.0, p_single=1.0, p_chain=0.0, p_forkjoin=0.0)
    slacks = []
    for _, b in draws(cfg, seed=5):
        # single task of 0.5 h: deadline = arrival + s x 0.5 + 0.5, so s = (deadline - arrival - 0.5) / 0.5
        slacks.extend(((b.deadline_h - b.arrival_h - 0.5) / 0.5).tolist())
    slacks = np.array(slacks)
    assert slacks.size > 300
    assert slacks.min() >= 1.5 and slacks.max() <= 2.0 * 3.0
    assert np.unique(slacks).size == slacks.size  # drawn per job, not one value
    assert slacks.min() < 2.0 and slacks.max() > 5.5  # spans the range


def test_arrival_rate_follows_the_cosine_daily_cycle() -> None:
    cfg = load_scenario("tiny").workload  # 6 jobs/h, amplitude 0.5, peak at 14:00
    # 6 (1 + 0.5 cos(2 pi (h - 14) / 24))
    cases = {
        14.0: 6 * 1.5,  # cos 0 = 1 -> 9.0
        2.0: 6 * 0.5,  # cos(-pi) = -1 -> 3.0
        18.0: 6 * 1.25,  # cos(pi / 3) = 0.5 -> 7.5
        6.0: 6 * 0.75,  # cos(-2 pi / 3) = -0.5 -> 4.5
        20.0: 6.0,  # cos(pi / 2) = 0 -> 6.0
        44.0: 6.0,  # 20:00 a day later: the same
    }
    for hour, rate in cases.items():
        assert arrival_rate_per_h(cfg, hour) == pytest.approx(rate, abs=1e-12), hour
    flat = dataclasses.replace(cfg, daily_amplitude=0.0)
    assert arrival_rate_per_h(flat, 3.0) == pytest.approx(6.0)


def test_draw_uses_the_rate_at_the_middle_of_the_interval() -> None:
    cfg = fixed_workload(jobs_per_hour=50.0, daily_amplitude=1.0, peak_hour=14.0)
    gen, rng = JobGenerator(cfg), np.random.default_rng(0)
    # The interval [1.5, 2.5) has its middle at 2:00, 12 h from the peak: rate 50 (1 - 1) = 0.
    assert all(gen.draw(rng, 0.0, 1.0, 1.5) is None for _ in range(20))
    # The interval [13.5, 14.5): rate 100/h at its middle; 400 draws of 1 h average 100 +- 0.5 (sd).
    counts = [gen.draw(rng, 0.0, 1.0, 13.5).n_jobs for _ in range(400)]
    assert np.mean(counts) == pytest.approx(100.0, abs=2.5)
