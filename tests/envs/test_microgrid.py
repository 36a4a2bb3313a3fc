"""CarbonCPN-Microgrid-v0: checkers, determinism, per-site power balance, conservation of
inference demand and of jobs, routing continuity, and the site dispatch on a hand case."""

from __future__ import annotations

import sys
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from stable_baselines3.common.env_checker import check_env as sb3_check_env

import carbon_cpn  # noqa: F401
from carbon_cpn.envs.microgrid_sites import SiteDispatch

sys.path.insert(0, str(Path(__file__).parent))
from rollout import random_rollout  # noqa: E402

ENV_ID = "CarbonCPN-Microgrid-v0"


def test_checkers_pass() -> None:
    check_env(gym.make(ENV_ID).unwrapped, skip_render_check=True)
    sb3_check_env(gym.make(ENV_ID).unwrapped, warn=True)


def test_same_seed_same_episode() -> None:
    r1, m1 = random_rollout(gym.make(ENV_ID), 4)
    r2, m2 = random_rollout(gym.make(ENV_ID), 4)
    assert r1 == r2 and m1 == m2
    r3, _ = random_rollout(gym.make(ENV_ID), 5)
    assert r3 != r1


def test_site_balance_inference_conservation_and_jobs_every_interval() -> None:
    env = gym.make(ENV_ID)
    seen = []

    def check(u, info) -> None:
        for rec in info.get("intervals", []):
            t = rec["t"]
            load, avail, res = u.site_log[t]
            # Per site: renewables + generator + discharge - charge + import - export = load.
            supply = res.renewable_mw + res.gen_mw + res.discharge_mw - res.charge_mw + res.import_mw - res.export_mw
            np.testing.assert_allclose(supply, load, rtol=1e-9, atol=1e-7)
            np.testing.assert_allclose(load, rec["node_power_mw"], rtol=1e-12)
            assert (res.renewable_mw <= avail + 1e-9).all() and (res.import_mw <= u.import_max_mw + 1e-9).all()
            assert (res.soc_end_mwh >= -1e-9).all() and (res.soc_end_mwh <= u.bess_mwh + 1e-9).all()
            # The grid sees each site's net draw at its bus.
            np.testing.assert_allclose(rec["node_grid_mw"], res.import_mw - res.export_mw, atol=1e-12)
            bus = np.bincount(u.node_bus, weights=res.import_mw - res.export_mw, minlength=u.power.n_bus)
            np.testing.assert_allclose(rec["cpn_load_mw"], bus, atol=1e-12)
            # Inference: routed (served) + dropped = arrived; never more than the free servers.
            inf = u.inference_log[t]
            np.testing.assert_allclose(inf.served.sum(axis=1) + inf.dropped, inf.arrived, rtol=1e-12)
            assert (inf.dropped >= -1e-9).all() and (inf.served >= 0).all()
            assert (inf.served[~u.allowed] == 0).all()
            seen.append(t)
        np.testing.assert_allclose(u.shares.sum(axis=1), 1.0, rtol=1e-12)
        c = u.cpn.job_counts()
        assert c["completed"] + c["failed"] + c["pending"] == c["arrived"]

    _, m = random_rollout(env, 2, check)
    assert seen == list(range(env.unwrapped.n_intervals))
    assert 0 < m["inference_served_share"] <= 1
    assert m["compute_value_usd"] == pytest.approx(m["training_value_usd"] + m["inference_value_usd"], rel=1e-9)


def test_routing_moves_by_at_most_the_continuity_limit() -> None:
    env = gym.make(ENV_ID)
    u = env.unwrapped
    obs, info = env.reset(seed=0)
    moved = 0
    while not u.done and moved < 20:
        if u.route_region >= 0:
            r = u.route_region
            before = u.shares[r].copy()
            far = int(np.flatnonzero(u.allowed[r])[-1])
            assert not info["action_mask"][~np.append(u.allowed[r], True)].any()
            obs, _, _, _, info = env.step(far)
            assert np.abs(u.shares[r] - before).max() <= u.cfg.microgrid.max_share_change + 1e-12
            moved += 1
        else:
            obs, _, _, _, info = env.step(u.defer_action)
    assert moved == 20


def test_site_dispatch_hand_case() -> None:
    # One site, 15 minutes: load 3 MW, 1 MW of PV. Import costs $50/MWh, stored energy is worth
    # $60/MWh, efficiency 0.9: charging pays (50 < 60 x 0.9), so the battery charges at its 1 MW
    # limit, the rest is imported; the state of charge rises by 0.25 h x 0.9 x 1 MW.
    d = SiteDispatch(np.array([2.0]), np.array([1.0]), np.array([4.0]), np.array([0.9]), np.array([10.0]),
                     np.array([5.0]), 0.25)
    r = d.solve(np.array([3.0]), np.array([1.0]), np.array([2.0]), np.array([50.0]), np.array([20.0]),
                np.array([150.0]), np.array([60.0]))
    assert (r.renewable_mw[0], r.charge_mw[0], r.import_mw[0], r.gen_mw[0]) == pytest.approx((1.0, 1.0, 3.0, 0.0))
    assert r.soc_end_mwh[0] == pytest.approx(2.0 + 0.25 * 0.9)
    # Import at $100 > 60 / 0.9: the battery discharges at 1 MW instead.
    r = d.solve(np.array([3.0]), np.array([1.0]), np.array([2.0]), np.array([100.0]), np.array([20.0]),
                np.array([150.0]), np.array([60.0]))
    assert (r.discharge_mw[0], r.import_mw[0]) == pytest.approx((1.0, 1.0))


def test_bad_scenarios_are_named() -> None:
    from carbon_cpn.envs.config_checks import ScenarioError

    with pytest.raises(ScenarioError, match="microgrid.max_share_change"):
        gym.make(ENV_ID, microgrid__max_share_change=0.0)
    with pytest.raises(ValueError, match="import_max_mw"):
        gym.make(ENV_ID, **{"microgrid.sites.0.import_max_mw": 1.0})
    with pytest.raises(ValueError, match="microgrid"):
        gym.make(ENV_ID, scenario="tiny")
