"""The digital-twin wrapper (c3o Algorithm 3) on CarbonCPN-EastWest-v0, with a stand-in
predictor whose risk the test sets, so the wrapper's rules are checked on their own."""

from __future__ import annotations

from dataclasses import dataclass

import gymnasium as gym
import numpy as np
import pytest

import carbon_cpn  # noqa: F401
from carbon_cpn.agents.digital_twin import DigitalTwinPolicy
from carbon_cpn.envs.cpn import RUNNING


@dataclass(frozen=True)
class _Settings:
    window: int = 2


class RiskOf:
    """Risk 1.0 for every component of ``nodes`` from the ``after``-th reading on, else 0."""

    settings = _Settings()

    def __init__(self, nodes: list[int], after: int = 0) -> None:
        self.nodes = nodes
        self.after = after
        self.calls = 0

    @property
    def on(self) -> bool:
        return self.calls > self.after

    def predict_risk(self, window: np.ndarray) -> np.ndarray:
        self.calls += 1
        risk = np.zeros(window.shape[1:3])
        if self.on:
            risk[self.nodes] = 1.0
        return risk


def test_twin_keeps_work_off_nodes_at_risk() -> None:
    env = gym.make("CarbonCPN-EastWest-v0", failure_rate_scale=0.5)
    u = env.unwrapped
    risky = 0  # eastern_01: its work is asked about first (the highest MCI), so the twin gets to move it
    risk = RiskOf([risky], after=30)  # work runs there first, then the node turns risky
    pol = DigitalTwinPolicy(env, 0, base="pfs", predictor=risk)
    obs, info = env.reset(seed=3)
    placed_elsewhere = moved_off = held = 0
    done = False
    while not done:
        k = u.head_task
        running = k >= 0 and u.cpn.t_status[k] == RUNNING
        on_risky = running and u.cpn.t_node[k] == risky
        a = int(pol.predict(obs)[0])
        c = u.codec.decode(a)
        if risk.on and k >= 0:  # the twin sees the node at risk
            mask = info["action_mask"][:-1].reshape(u.n_nodes, -1)
            others = mask[np.arange(u.n_nodes) != risky].any()
            if not running and c is not None and others:
                assert c.node != risky
                placed_elsewhere += 1
            if running and not on_risky:
                assert c is None  # the twin holds work on safe nodes
                held += 1
            if on_risky and c is not None:
                assert c.node != risky
                moved_off += 1
        obs, _, done, _, info = env.step(a)
    assert placed_elsewhere > 0 and held > 0 and moved_off > 0
    assert pol.preempted == moved_off


def test_bad_settings_are_named() -> None:
    env = gym.make("CarbonCPN-EastWest-v0")
    with pytest.raises(ValueError, match="base='nope'"):
        DigitalTwinPolicy(env, 0, base="nope", predictor=RiskOf([]))
    with pytest.raises(ValueError, match="threshold=1.5"):
        DigitalTwinPolicy(env, 0, predictor=RiskOf([]), threshold=1.5)
    with pytest.raises(TypeError, match="telemetry"):
        DigitalTwinPolicy(gym.make("CarbonCPN-Tiny-v0"), 0, predictor=RiskOf([]))


def test_moves_are_tested_in_a_copy_of_the_simulator() -> None:
    # Two moves differ in the copy only by the moved sub-task: its servers' dynamic power x its
    # time there (transfer included) x the node's last MCI. The env itself is not touched.
    env = gym.make("CarbonCPN-EastWest-v0", failure_rate_scale=0.5)
    u = env.unwrapped
    risky = 0
    pol = DigitalTwinPolicy(env, 0, base="pfs", predictor=RiskOf([risky], after=30))
    obs, _ = env.reset(seed=3)
    checked = 0
    while not u.done and checked < 3:
        k = u.head_task
        if k >= 0 and u.cpn.t_status[k] == RUNNING and u.cpn.t_node[k] == risky and pol.risk[risky] > 0.5:
            view = u.scheduler_view()
            moves = np.flatnonzero(view.action_mask[:-1] & (np.repeat(np.arange(u.n_nodes), 2) != risky))
            if moves.size >= 2:
                before = (u.cpn.t_end.copy(), u.cpn.free.copy())
                kg = pol.test_moves(k, moves, view)
                np.testing.assert_array_equal(u.cpn.t_end, before[0])
                np.testing.assert_array_equal(u.cpn.free, before[1])
                want = []
                for a in moves.tolist():
                    c = u.codec.decode(a)
                    run_h = u.migration_delay_h(k, c.node) + (u.cpn.t_end[k] - u.now_h) / u.cpn.run_time_h(
                        k, int(u.cpn.t_node[k]), int(u.cpn.t_rtype[k])) * u.cpn.run_time_h(k, c.node, c.resource)
                    late = u.now_h + run_h > u.cpn.j_deadline[u.cpn.t_job[k]] + 1e-9
                    want.append(np.inf if late else u.cpn.t_units[k] * u.cpn.dyn_mw_per_server[c.node, c.resource]
                                * run_h * view.node_mci_kg_per_mwh[c.node])
                want = np.array(want)
                fin = np.isfinite(want)
                np.testing.assert_array_equal(np.isfinite(kg), fin)
                if fin.sum() >= 2:
                    d_got = kg[fin] - kg[fin][0]
                    d_want = want[fin] - want[fin][0]
                    np.testing.assert_allclose(d_got, d_want, rtol=1e-9, atol=1e-9)
                    checked += 1
        a = int(pol.predict(obs)[0])
        obs, *_ = env.step(a)
    assert checked > 0
