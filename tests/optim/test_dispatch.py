"""Economic dispatch against independently known answers (issue #2)."""

from __future__ import annotations

import math

import numpy as np
import pandapower as pp
import pandapower.networks as pn
import pytest

from carbon_cpn.optim.dispatch import (
    BatteryUnit,
    DispatchInputError,
    EconomicDispatch,
    GridModel,
    GridModelError,
    RenewableUnit,
)


def three_bus_net(rating_02_mw: float = 80.0) -> pp.pandapowerNet:
    """Triangle 0-1-2 with equal reactances (b = 100 MW/rad each).

    Unit A at bus 0: 10 $/MWh, 900 kg/MWh. Unit B at bus 1: 30 $/MWh, 400 kg/MWh.
    150 MW of load at bus 2; line 0-2 rated ``rating_02_mw``.
    """
    net = pp.create_empty_network(sn_mva=100.0)
    for k in range(3):
        pp.create_bus(net, vn_kv=100.0, index=k)
    # Z_base = 100 kV^2 / 100 MVA = 100 ohm, so x = 100 ohm is 1 p.u. -> b = 100 MW/rad.
    big_ka = 10.0

    def line(f: int, t: int, rating_mw: float | None) -> None:
        max_i = big_ka if rating_mw is None else rating_mw / (math.sqrt(3) * 100.0)
        pp.create_line_from_parameters(net, f, t, length_km=1.0, r_ohm_per_km=0.0, x_ohm_per_km=100.0,
                                       c_nf_per_km=0.0, max_i_ka=max_i, max_loading_percent=100.0)

    line(0, 1, None)
    line(1, 2, None)
    line(0, 2, rating_02_mw)
    pp.create_ext_grid(net, 0, min_p_mw=0.0, max_p_mw=200.0)
    pp.create_gen(net, 1, p_mw=0.0, min_p_mw=0.0, max_p_mw=200.0, controllable=True)
    pp.create_load(net, 2, p_mw=150.0)
    pp.create_poly_cost(net, 0, "ext_grid", cp1_eur_per_mw=10.0)
    pp.create_poly_cost(net, 0, "gen", cp1_eur_per_mw=30.0)
    return net


def test_three_bus_hand_solution() -> None:
    # Hand solution. PTDFs on line 0-2 for injections withdrawn at bus 2: 2/3 from bus 0 and
    # 1/3 from bus 1. Cheap A alone would push 100 MW over 0-2 (limit 80), so
    # 2/3 PA + 1/3 PB = 80 and PA + PB = 150 give PA = 90, PB = 60.
    # Flows: f01 = 90/3 - 60/3 = 10, f12 = 90/3 + 2*60/3 = 70, f02 = 80.
    # One more MW at bus 2 with f02 fixed: dPA = -1, dPB = +2, so
    # LMP2 = -10 + 2*30 = 50 $/MWh and MCI2 = -900 + 2*400 = -100 kg/MWh.
    grid = GridModel.from_pandapower(three_bus_net(), emission_factors_kg_per_mwh=[900.0, 400.0])
    for model in ("pwl", "linear"):
        r = EconomicDispatch(grid, model).solve(grid.base_load_mw)
        assert r.ok
        np.testing.assert_allclose(r.gen_mw, [90.0, 60.0], atol=1e-6)
        np.testing.assert_allclose(r.line_flow_mw, [10.0, 70.0, 80.0], atol=1e-6)
        np.testing.assert_allclose(r.lmp_usd_per_mwh, [10.0, 30.0, 50.0], atol=1e-6)
        np.testing.assert_allclose(r.mci_kg_per_mwh, [900.0, 400.0, -100.0], atol=1e-6)
        assert r.cost_usd_per_h == pytest.approx(90 * 10 + 60 * 30)
        assert r.emissions_kg_per_h == pytest.approx(90 * 900 + 60 * 400)
        np.testing.assert_allclose(r.shed_mw, 0.0)


def test_three_bus_uncongested_single_price() -> None:
    grid = GridModel.from_pandapower(three_bus_net(rating_02_mw=500.0), emission_factors_kg_per_mwh=[900.0, 400.0])
    r = EconomicDispatch(grid).solve(grid.base_load_mw)
    np.testing.assert_allclose(r.gen_mw, [150.0, 0.0], atol=1e-6)
    np.testing.assert_allclose(r.line_flow_mw, [50.0, 50.0, 100.0], atol=1e-6)
    np.testing.assert_allclose(r.lmp_usd_per_mwh, 10.0, atol=1e-6)
    np.testing.assert_allclose(r.mci_kg_per_mwh, 900.0, atol=1e-6)


@pytest.mark.parametrize("scale", [1.0, 1.3])
def test_matches_pandapower_rundcopp_case30(scale: float) -> None:
    net = pn.case30()
    net.load["p_mw"] *= scale
    grid = GridModel.from_pandapower(net)
    r = EconomicDispatch(grid, "quadratic").solve(grid.base_load_mw)
    pp.rundcopp(net)
    assert net.OPF_converged
    ref_gen = np.r_[net.res_ext_grid.p_mw.to_numpy(), net.res_gen.p_mw.to_numpy()]
    np.testing.assert_allclose(r.gen_mw, ref_gen, atol=1e-3)
    np.testing.assert_allclose(r.lmp_usd_per_mwh, net.res_bus.lam_p.to_numpy(), atol=1e-3)
    np.testing.assert_allclose(r.line_flow_mw, net.res_line.p_from_mw.to_numpy(), atol=1e-3)
    if scale > 1.0:
        # The congested case really is congested: prices differ across buses.
        assert np.ptp(r.lmp_usd_per_mwh) > 0.1
        assert np.any(np.isclose(np.abs(r.line_flow_mw), grid.branch_rating_mw, atol=1e-6))


def _fd_mci(ed: EconomicDispatch, load: np.ndarray, step: float = 1e-3, **kw: np.ndarray) -> np.ndarray:
    base = ed.solve(load, compute_mci=False, **kw).emissions_kg_per_h
    out = np.empty(load.size)
    for b in range(load.size):
        bumped = load.copy()
        bumped[b] += step
        out[b] = (ed.solve(bumped, compute_mci=False, **kw).emissions_kg_per_h - base) / step
    return out


@pytest.mark.parametrize("cost_model", ["pwl", "linear", "quadratic"])
def test_mci_equals_finite_difference_on_random_loads(cost_model: str) -> None:
    grid = GridModel.from_pandapower(pn.case30())
    ed = EconomicDispatch(grid, cost_model)
    rng = np.random.default_rng(7)
    for _ in range(4):
        load = grid.base_load_mw * rng.uniform(0.7, 1.4, size=grid.n_bus)
        mci = ed.solve(load).mci_kg_per_mwh
        fd = _fd_mci(ed, load)
        np.testing.assert_allclose(mci, fd, atol=0.05, rtol=1e-4)


def _case30_with_storage() -> GridModel:
    return GridModel.from_pandapower(
        pn.case30(),
        renewables=[RenewableUnit("pv", 6, 60.0, "solar"), RenewableUnit("wind", 25, 40.0, "wind")],
        batteries=[BatteryUnit("b1", 11, power_mw=20.0, energy_mwh=40.0, value_usd_per_mwh=3.0)],
    )


def test_mci_finite_difference_with_renewables_and_batteries() -> None:
    grid = _case30_with_storage()
    ed = EconomicDispatch(grid)
    rng = np.random.default_rng(3)
    for _ in range(3):
        load = grid.base_load_mw * rng.uniform(0.8, 1.3, size=grid.n_bus)
        kw = dict(res_avail_mw=rng.uniform(0, 1, 2) * [60.0, 40.0], bess_soc_mwh=np.array([rng.uniform(5, 35)]))
        mci = ed.solve(load, **kw).mci_kg_per_mwh
        np.testing.assert_allclose(mci, _fd_mci(ed, load, **kw), atol=0.05, rtol=1e-4)


def test_energy_balance_and_battery_behaviour() -> None:
    grid = _case30_with_storage()
    ed = EconomicDispatch(grid, interval_h=0.25)
    # Plenty of wind and sun at low load: renewables are curtailed or stored, battery charges.
    low = grid.base_load_mw * 0.3
    r = ed.solve(low, res_avail_mw=np.array([60.0, 40.0]), bess_soc_mwh=np.array([10.0]))
    supply = r.gen_mw.sum() + r.res_used_mw.sum() + r.bess_discharge_mw.sum() + r.shed_mw.sum()
    demand = low.sum() + r.bess_charge_mw.sum() + r.overgen_mw.sum()
    assert supply == pytest.approx(demand, abs=1e-6)
    assert r.bess_charge_mw[0] == pytest.approx(20.0)
    assert r.bess_soc_end_mwh[0] == pytest.approx(10.0 + 0.95 * 20.0 * 0.25)
    # SOC-dependent limit: a nearly full battery can take only what fits below soc_max.
    r = ed.solve(low, res_avail_mw=np.array([60.0, 40.0]), bess_soc_mwh=np.array([35.0]))
    assert r.bess_charge_mw[0] == pytest.approx((36.0 - 35.0) / (0.95 * 0.25))
    assert r.bess_soc_end_mwh[0] == pytest.approx(36.0)
    # Dear energy (high load, no renewables): the battery discharges, within its SOC limit.
    r = ed.solve(grid.base_load_mw * 1.3, res_avail_mw=np.zeros(2), bess_soc_mwh=np.array([5.0]))
    assert r.bess_discharge_mw[0] == pytest.approx((5.0 - 4.0) * 0.95 / 0.25)
    assert r.bess_soc_end_mwh[0] == pytest.approx(4.0)


def test_shedding_instead_of_failure() -> None:
    grid = GridModel.from_pandapower(pn.case30())
    capacity = grid.gen_pmax_mw.sum()
    load = grid.base_load_mw * (1.5 * capacity / grid.base_load_mw.sum())
    r = EconomicDispatch(grid).solve(load)
    assert r.ok
    assert r.shed_mw.sum() >= load.sum() - capacity - 1e-6
    assert r.gen_mw.sum() + r.shed_mw.sum() == pytest.approx(load.sum(), abs=1e-6)
    shed_buses = r.shed_mw > 1e-6
    np.testing.assert_allclose(r.lmp_usd_per_mwh[shed_buses], grid.voll_usd_per_mwh, rtol=1e-9)
    np.testing.assert_allclose(r.mci_kg_per_mwh[shed_buses], 0.0, atol=1e-9)


def test_overgeneration_is_reported_not_infeasible() -> None:
    net = pn.case30()
    net.gen["min_p_mw"] = net.gen["max_p_mw"] * 0.8  # must-run output above a low load
    grid = GridModel.from_pandapower(net)
    r = EconomicDispatch(grid).solve(grid.base_load_mw * 0.3)
    assert r.ok
    assert r.overgen_mw.sum() > 0
    assert r.gen_mw.sum() == pytest.approx(grid.base_load_mw.sum() * 0.3 + r.overgen_mw.sum(), abs=1e-6)


def test_uncommitted_units_produce_nothing() -> None:
    grid = GridModel.from_pandapower(pn.case30())
    committed = np.array([True, True, False, True, True, False])
    r = EconomicDispatch(grid).solve(grid.base_load_mw, committed=committed)
    np.testing.assert_allclose(r.gen_mw[~committed], 0.0, atol=1e-9)
    assert r.gen_mw.sum() == pytest.approx(grid.base_load_mw.sum(), abs=1e-6)


@pytest.mark.parametrize("case", ["case14", "case30", "case57", "case118"])
def test_from_pandapower_standard_cases(case: str) -> None:
    net = getattr(pn, case)()
    grid = GridModel.from_pandapower(net)
    assert grid.n_bus == len(net.bus)
    assert grid.n_gen == len(net.poly_cost)
    assert grid.n_branch == len(net.line) + len(net.trafo)
    r = EconomicDispatch(grid, "quadratic").solve(grid.base_load_mw)
    pp.rundcopp(net)
    ref_gen = np.r_[net.res_ext_grid.p_mw.to_numpy(), net.res_gen.p_mw.to_numpy()]
    np.testing.assert_allclose(r.gen_mw, ref_gen, atol=1e-3)
    np.testing.assert_allclose(r.lmp_usd_per_mwh, net.res_bus.lam_p.to_numpy(), atol=1e-3)


# ---------------------------------------------------------------- bad input
@pytest.fixture(scope="module")
def ed30() -> EconomicDispatch:
    return EconomicDispatch(_case30_with_storage())


def test_wrong_length_load(ed30: EconomicDispatch) -> None:
    with pytest.raises(DispatchInputError, match=r"load_mw: shape \(29,\); expected \(30,\)"):
        ed30.solve(np.zeros(29))


def test_nan_load(ed30: EconomicDispatch) -> None:
    load = ed30.grid.base_load_mw.copy()
    load[4] = np.nan
    with pytest.raises(DispatchInputError, match=r"load_mw\[4\]=nan"):
        ed30.solve(load)


def test_negative_renewable_capacity(ed30: EconomicDispatch) -> None:
    with pytest.raises(DispatchInputError, match=r"res_avail_mw\[1\]=-5.0: expected a finite capacity >= 0"):
        ed30.solve(ed30.grid.base_load_mw, res_avail_mw=np.array([10.0, -5.0]))
    with pytest.raises(GridModelError, match=r"capacity_mw=-1.0"):
        RenewableUnit("pv", 6, -1.0)


def test_soc_out_of_range(ed30: EconomicDispatch) -> None:
    with pytest.raises(DispatchInputError, match=r"bess_soc_mwh\[0\]=50.0: expected a value in \[0, 40.0\]"):
        ed30.solve(ed30.grid.base_load_mw, bess_soc_mwh=np.array([50.0]))


def test_unknown_cost_model() -> None:
    grid = GridModel.from_pandapower(pn.case14())
    with pytest.raises(DispatchInputError, match=r"cost_model='cubic': expected one of \('pwl', 'linear', 'quadratic'\)"):
        EconomicDispatch(grid, "cubic")  # type: ignore[arg-type]


def test_net_without_costs() -> None:
    net = pn.case30()
    net.poly_cost = net.poly_cost.iloc[0:0]
    with pytest.raises(GridModelError, match="net.poly_cost is empty"):
        GridModel.from_pandapower(net)


def test_bad_unit_location_and_factors() -> None:
    with pytest.raises(GridModelError, match=r"renewable 'pv' bus=99: not a bus"):
        GridModel.from_pandapower(pn.case30(), renewables=[RenewableUnit("pv", 99, 10.0)])
    with pytest.raises(GridModelError, match=r"emission_factors_kg_per_mwh=.*expected 6 finite values"):
        GridModel.from_pandapower(pn.case30(), emission_factors_kg_per_mwh=[1.0, 2.0])
    with pytest.raises(GridModelError, match=r"eta_charge=1.5"):
        BatteryUnit("b", 3, 10.0, 20.0, eta_charge=1.5)


def test_case30_default_factors_make_cheap_units_dirty() -> None:
    grid = GridModel.from_pandapower(pn.case30())
    order = np.argsort(grid.gen_c1_usd_per_mwh)
    factors = grid.gen_emission_kg_per_mwh[order]
    assert np.all(np.diff(factors) <= 0)  # cheaper -> dirtier
    assert np.ptp(factors) > 400


@pytest.mark.parametrize("cost_model", ["linear", "pwl"])
def test_fast_start_hand_solution(cost_model: str) -> None:
    # Unit B (bus 1, 30 $/MWh) is off; A alone can send at most 120 MW to bus 2 (2/3 of its
    # output crosses line 0-2, rated 80), so 30 MW are shed at VOLL. With B allowed a fast
    # start at 30 + 50 $/MWh, the congested optimum of test_three_bus_hand_solution returns:
    # PA = 90, PB = 60, LMP2 = -10 + 2 x 80 = 150 $/MWh, fuel + start cost
    # 10 x 90 + 80 x 60 = 5,700 $/h, MCI2 = -900 + 2 x 400 = -100 kg/MWh.
    grid = GridModel.from_pandapower(three_bus_net(), emission_factors_kg_per_mwh=[900.0, 400.0])
    ed = EconomicDispatch(grid, cost_model)
    on = np.array([True, False])
    quick = np.array([False, True])
    r = ed.solve(grid.base_load_mw, committed=on)
    assert r.shed_mw.sum() == pytest.approx(30.0, abs=1e-6)
    assert r.lmp_usd_per_mwh[2] == pytest.approx(grid.voll_usd_per_mwh, rel=1e-9)
    r = ed.solve(grid.base_load_mw, committed=on, fast_start=quick, fast_start_usd_per_mwh=50.0)
    np.testing.assert_allclose(r.gen_mw, [90.0, 60.0], atol=1e-6)
    assert r.shed_mw.sum() == pytest.approx(0.0, abs=1e-9)
    assert r.lmp_usd_per_mwh[2] == pytest.approx(150.0, abs=1e-6)
    assert r.mci_kg_per_mwh[2] == pytest.approx(-100.0, abs=1e-6)
    assert r.cost_usd_per_h == pytest.approx(5700.0, abs=1e-6)
    assert r.started.tolist() == [False, True]
    # Committed, B is an ordinary unit again: the adder is gone from the model and the price.
    r = ed.solve(grid.base_load_mw, committed=np.array([True, True]), fast_start=quick, fast_start_usd_per_mwh=50.0)
    assert r.lmp_usd_per_mwh[2] == pytest.approx(50.0, abs=1e-6)
    assert r.cost_usd_per_h == pytest.approx(10.0 * 90 + 30.0 * 60, abs=1e-6)
    assert not r.started.any()
    # Below the congestion limit the cheap committed unit serves everything; B stays off.
    r = ed.solve(grid.base_load_mw * 0.5, committed=on, fast_start=quick, fast_start_usd_per_mwh=50.0)
    np.testing.assert_allclose(r.gen_mw, [75.0, 0.0], atol=1e-6)
    assert not r.started.any()


def test_fast_start_bad_inputs() -> None:
    grid = GridModel.from_pandapower(three_bus_net())
    ed = EconomicDispatch(grid)
    with pytest.raises(DispatchInputError, match=r"fast_start: shape \(3,\)"):
        ed.solve(grid.base_load_mw, committed=np.array([True, False]), fast_start=np.array([False, True, True]))
    with pytest.raises(DispatchInputError, match="fast_start_usd_per_mwh=-1.0"):
        ed.solve(grid.base_load_mw, committed=np.array([True, False]), fast_start=np.array([False, True]),
                 fast_start_usd_per_mwh=-1.0)


def test_carbon_price_in_the_offers_by_hand() -> None:
    # Uncongested triangle: A offers 10 $/MWh at 900 kg/MWh, B 30 $/MWh at 400 kg/MWh. With a
    # carbon price c their offers are 10 + 0.9 c and 30 + 0.4 c: equal at c = 40 $/t. At
    # c = 50 B (50 $/MWh) undercuts A (55 $/MWh) and serves all 150 MW; the LMP is B's offer,
    # carbon included, and the reported cost is fuel only.
    grid = GridModel.from_pandapower(three_bus_net(rating_02_mw=500.0), emission_factors_kg_per_mwh=[900.0, 400.0])
    r0 = EconomicDispatch(grid).solve(grid.base_load_mw)
    np.testing.assert_allclose(r0.gen_mw, [150.0, 0.0], atol=1e-6)
    r = EconomicDispatch(grid, carbon_price_usd_per_t=50.0).solve(grid.base_load_mw)
    np.testing.assert_allclose(r.gen_mw, [0.0, 150.0], atol=1e-6)
    np.testing.assert_allclose(r.lmp_usd_per_mwh, 30.0 + 0.4 * 50.0, atol=1e-6)
    assert r.cost_usd_per_h == pytest.approx(150 * 30.0)
    assert r.emissions_kg_per_h == pytest.approx(150 * 400.0)
    assert r.objective_usd_per_h == pytest.approx(150 * 30.0 + 50.0 * 150 * 400.0 / 1000.0)
    with pytest.raises(DispatchInputError, match="carbon_price_usd_per_t=-1"):
        EconomicDispatch(grid, carbon_price_usd_per_t=-1.0)
