"""Component failures and their telemetry (carbon_cpn.envs.failures)."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from carbon_cpn.envs.failures import DEFAULT_COMPONENTS, FailureConfig, FailureProcess

COOLING = DEFAULT_COMPONENTS[0]
QUIET = FailureConfig(noise_scale=0.0, transient_rate_per_h=0.0)  # telemetry = baseline + degradation


def first_cycles(proc: FailureProcess, per_node: int, until_h: float) -> tuple[np.ndarray, np.ndarray]:
    """Up times and repair times [node, per_node] of the first cycles of a one-component process
    started new at time 0 (complete cycles only: no censoring at the horizon)."""
    s = proc.schedule(until_h)
    up, rep = [], []
    for n in range(proc.n_nodes):
        sel = s.node == n
        fail, end = s.fail_h[sel], s.repair_end_h[sel]
        assert fail.size >= per_node, "horizon too short for the cycles asked"
        up.append((fail - np.r_[0.0, end[:-1]])[:per_node])
        rep.append((end - fail)[:per_node])
    return np.array(up), np.array(rep)


@pytest.fixture(scope="module")
def cycles() -> tuple[np.ndarray, np.ndarray]:
    cfg = FailureConfig(components=(COOLING,), warmup_h=0.0)
    return first_cycles(FailureProcess(cfg, 500, np.random.default_rng(11)), 8, 30_000.0)


def test_weibull_times_between_failures_match_the_closed_form(cycles) -> None:
    up = cycles[0].ravel()
    k, lam = COOLING.weibull_shape, COOLING.weibull_scale_h
    mean = lam * math.gamma(1 + 1 / k)
    std = lam * math.sqrt(math.gamma(1 + 2 / k) - math.gamma(1 + 1 / k) ** 2)
    assert abs(up.mean() - mean) < 4 * std / math.sqrt(up.size)
    # The median: lam * ln2^(1/k); the fraction below it is binomial(n, 1/2).
    below = np.mean(up < lam * math.log(2) ** (1 / k))
    assert abs(below - 0.5) < 4 * 0.5 / math.sqrt(up.size)


def test_hazard_decreases_for_shape_below_one(cycles) -> None:
    up = cycles[0].ravel()
    a = np.median(up)
    early = np.mean(up < a / 2)  # P(T < a/2)
    survivors = up[up >= a]
    late = np.mean(survivors < 1.5 * a)  # P(T < 1.5a | T >= a), an interval as long
    se = math.sqrt(early * (1 - early) / up.size + late * (1 - late) / survivors.size)
    assert early - late > 4 * se
    # Closed form, for scale: Weibull hazard k/lam (t/lam)^(k-1) is decreasing for k < 1.
    k, lam = COOLING.weibull_shape, COOLING.weibull_scale_h
    cdf = lambda t: 1 - math.exp(-((t / lam) ** k))  # noqa: E731
    assert abs(early - cdf(a / 2)) < 4 * math.sqrt(early * (1 - early) / up.size) + 0.02


def test_lognormal_repairs_match_the_closed_form(cycles) -> None:
    log_rep = np.log(cycles[1].ravel())
    n, mu, sigma = log_rep.size, math.log(COOLING.repair_median_h), COOLING.repair_sigma
    assert abs(log_rep.mean() - mu) < 4 * sigma / math.sqrt(n)
    assert abs(np.median(log_rep) - mu) < 4 * 1.2533 * sigma / math.sqrt(n)  # the median's std error
    assert abs(log_rep.std() - sigma) < 4 * sigma / math.sqrt(2 * n)


def test_default_rates_give_a_few_failures_a_week_on_four_nodes() -> None:
    expected = 4 * sum(168.0 / (c.mean_tbf_h() + c.mean_repair_h()) for c in DEFAULT_COMPONENTS)
    assert 2 <= expected <= 8
    counts = [np.sum(FailureProcess(FailureConfig(), 4, np.random.default_rng(s)).schedule(168.0).fail_h >= 0)
              for s in range(200)]
    assert abs(np.mean(counts) - expected) < 0.25 * expected


def _run(proc: FailureProcess, n: int, dt: float) -> list:
    return [proc.step(i * dt, dt) for i in range(n)]


def test_same_seed_same_failures_and_telemetry_whatever_is_asked_first() -> None:
    a = FailureProcess(FailureConfig(), 3, np.random.default_rng(5))
    b = FailureProcess(FailureConfig(), 3, np.random.default_rng(5))
    b.schedule(5000.0)  # drawing far ahead first must not change anything
    sa, sb = _run(a, 400, 0.25), _run(b, 400, 0.25)
    for x, y in zip(sa, sb):
        np.testing.assert_array_equal(x.telemetry, y.telemetry)
        np.testing.assert_array_equal(x.down, y.down)
    np.testing.assert_array_equal(a.schedule(100.0).fail_h, b.schedule(100.0).fail_h)
    c = FailureProcess(FailureConfig(), 3, np.random.default_rng(6))
    assert not np.array_equal(c.schedule(5000.0).fail_h[:5], a.schedule(5000.0).fail_h[:5])
    assert not np.array_equal(_run(c, 1, 0.25)[0].telemetry, sa[0].telemetry)


def test_degradation_starts_exactly_the_drawn_lead_time_before_every_failure() -> None:
    dt, n_steps = 0.25, 4 * 336
    proc = FailureProcess(replace(QUIET, rate_scale=4.0), 6, np.random.default_rng(3))
    tel = np.stack([s.telemetry for s in _run(proc, n_steps, dt)])  # [T, node, comp, signal]
    t = (np.arange(n_steps) + 1) * dt  # reading times
    sched = proc.schedule(t[-1])
    base = np.array([c.baseline for c in DEFAULT_COMPONENTS])
    shift = np.array([c.shift for c in DEFAULT_COMPONENTS])
    lo, hi = QUIET.lead_h
    checked = 0
    for i in range(sched.fail_h.size):
        n, c, f, lead, rs = sched.node[i], sched.component[i], sched.fail_h[i], sched.lead_h[i], sched.ramp_start_h[i]
        same = (sched.node == n) & (sched.component == c) & (sched.fail_h < f)
        prev_end = sched.repair_end_h[same].max() if same.any() else -np.inf
        assert 0 < lead <= hi and (lead >= lo or rs <= 0 or math.isclose(rs, prev_end))  # clipped to the up time
        before = (t > prev_end) & (t <= rs)
        np.testing.assert_array_equal(tel[before, n, c], np.broadcast_to(base[c], (before.sum(), 3)))
        ramp = (t > rs) & (t < f)
        want = sched.amplitude[i] * ((t[ramp] - rs) / lead) ** QUIET.ramp_power
        got = (tel[ramp, n, c] - base[c]) / shift[c]
        np.testing.assert_allclose(got, np.where(sched.degraded[i], want[:, None], 0.0), atol=1e-9)
        checked += int(ramp.any() and before.any())
    assert checked >= 20


def test_down_intervals_last_the_repair_time() -> None:
    dt, n_steps = 0.25, 4 * 336
    proc = FailureProcess(replace(QUIET, rate_scale=4.0), 4, np.random.default_rng(8))
    steps = _run(proc, n_steps, dt)
    t0 = np.arange(n_steps) * dt
    sched = proc.schedule(n_steps * dt)
    want_down = np.zeros((n_steps, 4, 4), dtype=bool)
    want_failed = np.zeros_like(want_down)
    for n, c, f, e in zip(sched.node, sched.component, sched.fail_h, sched.repair_end_h):
        want_down[(t0 < e) & (t0 + dt > f), n, c] = True
        want_failed[(t0 <= f) & (f < t0 + dt), n, c] = True
        assert not proc.down_at(f - 1e-6)[n, c] and proc.down_at(f)[n, c]
        assert proc.down_at(e - 1e-6)[n, c] and not proc.down_at(e)[n, c]
        assert proc.is_down(int(n), f + 1e-6)
    np.testing.assert_array_equal(np.stack([s.down for s in steps]), want_down)
    np.testing.assert_array_equal(np.stack([s.failed for s in steps]), want_failed)
    assert want_failed.sum() >= 20
    # Down time in the readings adds up to the repair times of the failures within the run.
    inside = (sched.fail_h >= 0) & (sched.repair_end_h <= n_steps * dt)
    assert np.all(sched.repair_h > 0) and inside.sum() >= 20
    assert proc.is_down(0) == bool(proc.down_at(n_steps * dt)[0].any())


def test_telemetry_has_the_documented_shape_and_noise() -> None:
    proc = FailureProcess(replace(FailureConfig(), transient_rate_per_h=0.0, rate_scale=1e-6), 50,
                          np.random.default_rng(1))
    tel = np.stack([s.telemetry for s in _run(proc, 200, 0.25)])
    assert tel.shape == (200, 50, 4, 3) and np.all(tel >= 0)
    std = np.array([c.noise_std for c in DEFAULT_COMPONENTS])
    base = np.array([c.baseline for c in DEFAULT_COMPONENTS])
    np.testing.assert_allclose(tel.mean(axis=(0, 1)), base, atol=0.2 * std.max() + 0.05)
    np.testing.assert_allclose(tel[-1].std(axis=0), std, rtol=0.3)


@pytest.mark.parametrize("kwargs, key", [
    ({"rate_scale": -1.0}, "failures.rate_scale=-1.0"),
    ({"lead_h": (6.0, 1.0)}, "failures.lead_h=(6.0, 1.0)"),
    ({"degrade_prob": 1.5}, "failures.degrade_prob=1.5"),
    ({"components": ()}, "failures.components=()"),
    ({"chunk": 0}, "failures.chunk=0"),
])
def test_bad_config_names_parameter_value_and_expectation(kwargs, key) -> None:
    with pytest.raises(ValueError, match="expected") as err:
        FailureConfig(**kwargs)
    assert key in str(err.value)


def test_bad_component_and_process_arguments() -> None:
    with pytest.raises(ValueError, match=r"failures.components\[cooling\].shift=.*non-zero"):
        replace(COOLING, shift=(0.0, 1.0, 1.0))
    with pytest.raises(ValueError, match="weibull_shape=-0.5"):
        replace(COOLING, weibull_shape=-0.5)
    with pytest.raises(ValueError, match="n_nodes=0"):
        FailureProcess(FailureConfig(), 0, np.random.default_rng(0))
    with pytest.raises(ValueError, match="rng=0: expected a numpy Generator"):
        FailureProcess(FailureConfig(), 2, 0)
    proc = FailureProcess(FailureConfig(), 2, np.random.default_rng(0))
    with pytest.raises(ValueError, match="dt_h=0"):
        proc.step(0.0, 0)
    with pytest.raises(ValueError, match="node=2"):
        proc.is_down(2)
