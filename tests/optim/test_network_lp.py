"""The shared network-LP builder (issue #15): a two-bus network solved by hand, and every
consumer's model laid out as the builder's index says."""

from __future__ import annotations

import sys
from pathlib import Path

import gymnasium as gym
import highspy
import numpy as np
import pytest
import scipy.sparse as sp

import carbon_cpn  # noqa: F401
from carbon_cpn.agents.oracle_policy import oracle_problem
from carbon_cpn.optim.dispatch import EconomicDispatch
from carbon_cpn.optim.highs_factory import new_highs
from carbon_cpn.optim.network_lp import (
    NetworkData,
    NetworkLPError,
    SparseLP,
    battery_dynamics,
    generation_costs,
    layout,
    line_limits,
    nodal_balance,
    ramping,
)
from carbon_cpn.optim.oracle_model import build_model
from carbon_cpn.optim.uc_pyomo import add_lp_block
from carbon_cpn.optim.uc_subproblem import ScenarioLP, scenario_model

sys.path.insert(0, str(Path(__file__).parent))
from test_commitment import small_system  # noqa: E402

B = 100.0  # line susceptance [MW/rad]


def two_bus(soc0: float = 20.0) -> NetworkData:
    """Bus 0: unit A (10 $/MWh, 0-200 MW); bus 1: unit B (0-200 MW) and a 20 MW / 40 MWh
    lossless battery; one line 0 -> 1 rated 50 MW; VOLL and over-generation at 1000 $/MWh."""
    return NetworkData(
        n_node=2, ref_node=0, bbus=sp.coo_matrix(np.array([[B, -B], [-B, B]])), bf=sp.csr_matrix(np.array([[B, -B]])),
        line_lo_mw=np.array([-50.0]), line_hi_mw=np.array([50.0]), pbusinj_mw=np.zeros(2), gen_node=np.array([0, 1]),
        block_lo_mw=np.zeros((2, 1)), block_hi_mw=np.full((2, 1), 200.0), gen_emission_kg_per_mwh=np.array([900.0, 400.0]),
        res_node=np.zeros(0, dtype=np.int64), bess_node=np.array([1]), bess_power_mw=np.array([20.0]),
        bess_eta_charge=np.array([1.0]), bess_eta_discharge=np.array([1.0]), bess_soc_min_mwh=np.array([0.0]),
        bess_soc_max_mwh=np.array([40.0]), voll_usd_per_mwh=1000.0, overgen_penalty_usd_per_mwh=1000.0,
    )


def test_two_bus_network_by_hand() -> None:
    """Two 1-h periods, 120 MW then 60 MW at bus 1, B offering 30 then 40 $/MWh.

    By hand: A is cheapest but reaches bus 1 only through the 50 MW line, which binds in both
    periods. The battery's 20 MWh go where they save most: 10 MWh in period 1 (covers all of
    the 60 - 50 MW there, displacing B at 40) and the other 10 MWh in period 0 (displacing B
    at 30). So A = 50, 50; B = 60, 0; discharge = 10, 10; flow = 50, 50. LMPs: bus 0 is
    priced by A (10, not at its limit); bus 1 by B at 30 in period 0 and, in period 1, by the
    battery energy that would otherwise displace B in period 0: 30. Cost 500 + 1800 + 500."""
    net = two_bus()
    ix = layout(net, 2, soc=True, ramping=True)
    lp = SparseLP(ix.n_cols, ix.n_rows)
    nodal_balance(lp, net, ix, np.array([[0.0, 120.0], [0.0, 60.0]]))
    line_limits(lp, net, ix)
    battery_dynamics(lp, net, ix, 1.0, np.array([20.0]), hold_final_soc=False)
    ramping(lp, net, ix)
    lp.row_hi[ix.rows("ramp_up", 1)] = lp.row_hi[ix.rows("ramp_dn", 1)] = 1000.0  # not binding
    generation_costs(lp, net, ix, np.array([[10.0, 30.0], [10.0, 40.0]]))
    h = new_highs()
    h.setOptionValue("solver", "simplex")
    h.passModel(lp.to_highs())
    h.run()
    assert h.getModelStatus() == highspy.HighsModelStatus.kOptimal
    sol = h.getSolution()
    x, y = np.asarray(sol.col_value), np.asarray(sol.row_dual)
    np.testing.assert_allclose(x[ix.cols("blk")], [[50.0, 60.0], [50.0, 0.0]], atol=1e-7)
    np.testing.assert_allclose(x[ix.cols("dis")].ravel(), [10.0, 10.0], atol=1e-7)
    np.testing.assert_allclose(x[ix.cols("soc")].ravel(), [10.0, 0.0], atol=1e-7)
    theta = x[ix.cols("theta")]
    np.testing.assert_allclose(B * (theta[:, 0] - theta[:, 1]), [50.0, 50.0], atol=1e-7)
    np.testing.assert_allclose(y[ix.rows("balance")], [[10.0, 30.0], [10.0, 30.0]], atol=1e-7)
    assert h.getInfo().objective_function_value == pytest.approx(2800.0)
    assert np.all(ix.rows("ramp_up", 0) == -1) and np.all(ix.rows("ramp_up", 1) >= 0)
    np.testing.assert_array_equal(lp.emission[ix.cols("blk")], [[900.0, 400.0], [900.0, 400.0]])


def test_copper_plate_drops_the_line() -> None:
    """Without the line A serves everything (180 MWh, cost 1800); the battery, ending where it
    started, may shift energy between the periods at no cost (so only the totals are unique)."""
    net = two_bus().copper_plate()
    ix = layout(net, 2, soc=True, ramping=False)
    lp = SparseLP(ix.n_cols, ix.n_rows)
    nodal_balance(lp, net, ix, np.array([[120.0], [60.0]]))
    line_limits(lp, net, ix)
    battery_dynamics(lp, net, ix, 1.0, np.array([20.0]), hold_final_soc=True)
    generation_costs(lp, net, ix, np.array([10.0, 30.0]))
    h = new_highs()
    h.passModel(lp.to_highs())
    h.run()
    x = np.asarray(h.getSolution().col_value)
    blk = x[ix.cols("blk")]
    assert blk[:, 0].sum() == pytest.approx(180.0) and np.allclose(blk[:, 1], 0.0, atol=1e-7)
    assert h.getInfo().objective_function_value == pytest.approx(1800.0)
    assert ix.n_rows == 2 * (1 + 0 + 1)  # balance + soc per period, no line rows


def _check_matrix(a: sp.csc_matrix, ix, net: NetworkData, n_periods: int) -> None:
    """Every cost block column has +1 in its unit's balance row of its own period."""
    kb = net.blocks_per_gen
    for t in range(n_periods):
        bal = ix.rows("balance", t)
        for j, c in enumerate(ix.cols("blk", t)):
            assert a[bal[net.gen_node[j // kb]], c] == 1.0


def test_every_consumer_has_the_index_layout() -> None:
    system, _, load = small_system()
    g = system.grid
    ed = EconomicDispatch(g, "pwl", n_segments=4)
    model = ed.highs_model()
    assert (model.num_col_, model.num_row_) == (ed.index.n_cols, ed.index.n_rows) == (ed.n_cols, ed.n_rows)
    net = NetworkData.from_grid(g, 4)
    a = sp.csc_matrix((np.asarray(model.a_matrix_.value_), np.asarray(model.a_matrix_.index_),
                       np.asarray(model.a_matrix_.start_)), shape=(model.num_row_, model.num_col_))
    _check_matrix(a, ed.index, net, 1)

    T = system.n_periods
    loads = np.repeat(g.base_load_mw[None, :], T, axis=0)
    sm = scenario_model(system, loads, np.full((T, g.n_res), 30.0))
    assert sm.lp.to_highs().num_col_ == sm.index.n_cols == T * (net.n_node * 3 + g.n_gen * 5 + g.n_res + 3 * g.n_bess)
    _check_matrix(sm.lp.matrix(), sm.index, sm.net, T)
    res = ScenarioLP(sm).solve(np.ones((g.n_gen, T)))
    assert res.gen_mw.shape == (T, g.n_gen) and res.soc_mwh.shape == (T, g.n_bess)

    import pyomo.environ as pyo

    m = pyo.ConcreteModel()
    m.u = pyo.Var(range(g.n_gen), range(T), within=pyo.Binary)
    m.b = pyo.Block()
    add_lp_block(m, m.b, sm)
    assert len(m.b.x) == sm.index.n_cols

    env = gym.make("CarbonCPN-Tiny-v0")
    env.reset(seed=1000)
    om = build_model(oracle_problem(env), 250_000)
    assert om.n_grid_cols == om.index.n_cols == om.x0 and om.notes["grid_rows"] == om.index.n_rows
    assert om.lp.num_col_ == om.z0 + om.cand.decided_jobs.size


def test_bad_input_is_named() -> None:
    net = two_bus()
    with pytest.raises(NetworkLPError, match=r"n_periods=0: expected an integer >= 1"):
        layout(net, 0, soc=False, ramping=False)
    ix = layout(net, 1, soc=False, ramping=False)
    with pytest.raises(NetworkLPError, match=r"row block 'soc': expected one of"):
        ix.rows("soc")
    with pytest.raises(NetworkLPError, match=r"node_load_mw: shape \(3,\); expected \(2,\) or \(1, 2\)"):
        nodal_balance(SparseLP(ix.n_cols, ix.n_rows), net, ix, np.zeros(3))
    with pytest.raises(NetworkLPError, match=r"ref_node=5: expected a node in \[0, 2\)"):
        NetworkData(**{**net.__dict__, "ref_node": 5})
