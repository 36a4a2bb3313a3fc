"""Day-ahead stochastic unit commitment: Benders against the extensive form (issue #4)."""

from __future__ import annotations

import numpy as np
import pandapower.networks as pn
import pytest

from carbon_cpn.optim.commitment import (
    CommitmentError,
    UCSystem,
    default_uc_params,
    draw_day_scenarios,
    solve_suc,
)
from carbon_cpn.optim.grid import BatteryUnit, GridModel, RenewableUnit


def small_system(load_scale: float = 1.3, period_h: float = 3.0) -> tuple[UCSystem, np.ndarray, np.ndarray]:
    net = pn.case30()
    net.poly_cost[["cp1_eur_per_mw", "cp2_eur_per_mw2"]] *= 10.0
    net.gen["min_p_mw"] = 0.3 * net.gen["max_p_mw"]
    net.ext_grid["min_p_mw"] = 0.3 * net.ext_grid["max_p_mw"]
    net.poly_cost["cp0_eur"] = 2.0 * np.r_[net.ext_grid.max_p_mw.to_numpy(), net.gen.max_p_mw.to_numpy()]
    grid = GridModel.from_pandapower(
        net, renewables=[RenewableUnit("pv", 4, 110.0, "solar"), RenewableUnit("wind", 26, 80.0, "wind")],
        batteries=[BatteryUnit("b", 5, 15.0, 60.0)], voll_usd_per_mwh=5000.0, overgen_penalty_usd_per_mwh=5000.0,
    )
    system = UCSystem(grid, default_uc_params(grid), period_h=period_h)
    hours = np.arange(8760)
    # Smooth synthetic year for the solver tests (the measured profiles are tested elsewhere).
    solar = np.clip(np.sin((hours % 24 - 6) / 12 * np.pi), 0, None)
    wind = 0.4 + 0.3 * np.sin(hours / 29.0)
    load = 0.75 + 0.25 * np.sin((hours % 24 - 9) / 24 * 2 * np.pi)
    res = np.column_stack([solar, wind])
    return system, res, load * load_scale


@pytest.fixture(scope="module")
def instance():
    system, res, load = small_system()
    sc = draw_day_scenarios(res, load, np.array([110.0, 80.0]), system.grid.base_load_mw, 180, 3, seed=4,
                            period_h=system.period_h)
    return system, sc


def check_plan_feasible(system: UCSystem, u: np.ndarray, v: np.ndarray, w: np.ndarray) -> None:
    """Minimum up/down times and start/stop logic, checked directly on the arrays."""
    dt = system.period_h
    G, T = u.shape
    for i, p in enumerate(system.params):
        prev = 1 if p.initial_on else 0
        for t in range(T):
            assert u[i, t] - prev == int(v[i, t]) - int(w[i, t])
            prev = u[i, t]
        up = max(1, int(np.ceil(p.min_up_h / dt)))
        down = max(1, int(np.ceil(p.min_down_h / dt)))
        for t in np.flatnonzero(v[i]):
            assert u[i, t : t + up].all(), f"unit {i} started at {t} but ran < {up} periods"
        for t in np.flatnonzero(w[i]):
            assert not u[i, t : t + down].any(), f"unit {i} stopped at {t} but restarted within {down} periods"


def check_dispatch_feasible(system: UCSystem, plan) -> None:
    """Ramping, Pmin/Pmax within the commitment, and battery SOC limits in every scenario."""
    g, dt = system.grid, system.period_h
    u = plan.commitment.astype(float).T  # [t, gen]
    ru = np.array([p.ramp_up_mw_per_h for p in system.params]) * dt
    rd = np.array([p.ramp_down_mw_per_h for p in system.params]) * dt
    tol = 1e-6
    for gen in plan.scenario_gen_mw:  # [t, gen]
        assert np.all(gen <= g.gen_pmax_mw * u + tol) and np.all(gen >= g.gen_pmin_mw * u - tol)
        step = np.diff(gen, axis=0)
        assert np.all(step <= ru + g.gen_pmax_mw * (1 - u[:-1]) + tol)
        assert np.all(-step <= rd + g.gen_pmax_mw * (1 - u[1:]) + tol)
    lo = np.array([b.soc_min_mwh for b in g.batteries])
    hi = np.array([b.soc_max_mwh for b in g.batteries])
    for soc in plan.scenario_soc_mwh:  # [t, bess]
        assert np.all(soc >= lo - tol) and np.all(soc <= hi + tol)
        assert np.all(soc[-1] >= system.soc0() - tol)  # the day does not end on borrowed energy


def test_benders_matches_extensive_form(instance) -> None:
    system, sc = instance
    gap = 1e-3
    bd = solve_suc(system, sc, "benders", gap=gap)
    ef = solve_suc(system, sc, "extensive", gap=1e-5)
    assert bd.objective_usd == pytest.approx(ef.objective_usd, rel=gap)
    # Bounds are consistent: the last lower bound is below the extensive optimum, the upper above.
    assert bd.lower_bounds[-1] <= ef.objective_usd * (1 + 1e-6)
    assert bd.upper_bounds[-1] >= ef.objective_usd * (1 - 1e-6)
    assert all(np.diff(bd.upper_bounds) <= 1e-6)
    assert bd.status == ef.status == "optimal"
    for plan in (bd, ef):
        check_plan_feasible(system, plan.commitment.astype(int), plan.startup, plan.shutdown)
        check_dispatch_feasible(system, plan)
        assert plan.commitment.shape == (system.grid.n_gen, system.n_periods)


def test_time_limit_returns_a_plan_with_its_status(instance) -> None:
    system, sc = instance
    plan = solve_suc(system, sc, "extensive", gap=1e-6, time_limit_s=0.01)
    assert plan.status in ("optimal", "time_limit", "no_incumbent")
    assert plan.commitment.shape == (system.grid.n_gen, system.n_periods)
    assert np.isfinite(plan.objective_usd)
    check_plan_feasible(system, plan.commitment.astype(int), plan.startup, plan.shutdown)
    bd = solve_suc(system, sc, "benders", gap=1e-6, max_iter=2)
    assert bd.status == "iteration_limit" and bd.iterations == 2


@pytest.mark.parametrize("engine", ["local", "ray"])
def test_parallel_workers_give_the_same_plan(instance, engine: str) -> None:
    if engine == "ray":
        pytest.importorskip("ray")
    system, sc = instance
    one = solve_suc(system, sc, "benders", gap=1e-3)
    two = solve_suc(system, sc, "benders", gap=1e-3, workers=2, engine=engine)
    # The same LPs give the same cuts wherever they are solved: the same iterations and plan.
    assert two.iterations == one.iterations
    np.testing.assert_array_equal(two.commitment, one.commitment)
    assert two.objective_usd == pytest.approx(one.objective_usd, rel=1e-9)


def test_shortage_shows_as_shedding_not_a_crash() -> None:
    system, res, load = small_system(load_scale=2.6)  # peak load above all thermal capacity
    sc = draw_day_scenarios(res * 0.0, load, np.array([110.0, 80.0]), system.grid.base_load_mw, 10, 2, seed=1,
                            period_h=system.period_h)
    plan = solve_suc(system, sc, "benders", gap=1e-2)
    assert plan.expected_shed_mwh > 1.0
    assert plan.commitment[:, np.argmax(sc.load_mw[0].sum(axis=1))].all()


def test_scenarios_reproducible_and_probabilities() -> None:
    system, res, load = small_system()
    a = draw_day_scenarios(res, load, np.array([110.0, 80.0]), system.grid.base_load_mw, 100, 5, seed=9)
    b = draw_day_scenarios(res, load, np.array([110.0, 80.0]), system.grid.base_load_mw, 100, 5, seed=9)
    c = draw_day_scenarios(res, load, np.array([110.0, 80.0]), system.grid.base_load_mw, 100, 5, seed=10)
    np.testing.assert_array_equal(a.res_avail_mw, b.res_avail_mw)
    assert a.prob.sum() == pytest.approx(1.0) and np.all(a.prob > 0)
    assert len(set(a.source_days)) == 5 and np.all(np.abs(((a.source_days - 100 + 182) % 365) - 182) <= 15)
    assert not np.array_equal(a.source_days, c.source_days)
    assert a.res_avail_mw.shape == (5, 24, 2) and a.load_mw.shape == (5, 24, system.grid.n_bus)


def test_bad_input() -> None:
    system, res, load = small_system()
    with pytest.raises(CommitmentError, match="method='dual': expected 'benders' or 'extensive'"):
        sc = draw_day_scenarios(res, load, np.array([110.0, 80.0]), system.grid.base_load_mw, 100, 2, seed=0,
                                period_h=3.0)
        solve_suc(system, sc, "dual")
    with pytest.raises(CommitmentError, match=r"n=40: expected 1 to 31"):
        draw_day_scenarios(res, load, np.array([110.0, 80.0]), system.grid.base_load_mw, 100, 40, seed=0)
    with pytest.raises(CommitmentError, match=r"scenarios: load \(24, 30\)"):
        sc24 = draw_day_scenarios(res, load, np.array([110.0, 80.0]), system.grid.base_load_mw, 100, 2, seed=0)
        solve_suc(system, sc24, "benders")
    with pytest.raises(CommitmentError, match=r"period_h=5: expected a divisor of 24 h"):
        UCSystem(system.grid, system.params, period_h=5)
