"""CarbonCPN-EastWest-v0 (issue #16, first part): two regional grids, data locality."""

from __future__ import annotations

import sys
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from stable_baselines3.common.env_checker import check_env as sb3_check_env

import carbon_cpn  # noqa: F401
from carbon_cpn.envs.config import ScenarioError, load_scenario
from carbon_cpn.envs.cpn import RUNNING

sys.path.insert(0, str(Path(__file__).parent))
from rollout import random_rollout  # noqa: E402

ENV_ID = "CarbonCPN-EastWest-v0"


@pytest.fixture(scope="module")
def env() -> gym.Env:
    return gym.make(ENV_ID)


def test_checkers_pass() -> None:
    e = gym.make(ENV_ID)
    check_env(e.unwrapped, skip_render_check=True)
    sb3_check_env(gym.make(ENV_ID).unwrapped, warn=True)


def test_same_seed_same_episode(env: gym.Env) -> None:
    r1, m1 = random_rollout(env, 7)
    r2, m2 = random_rollout(gym.make(ENV_ID), 7)
    assert r1 == r2 and m1 == m2


def test_energy_balance_per_region_and_job_conservation(env: gym.Env) -> None:
    checked, cpn_mwh = [], []

    def check(u, info) -> None:
        p = u.power
        for rec in info.get("intervals", []):
            for s in p.slices:
                supply = (rec["gen_mw"][s.gen].sum() + rec["res_used_mw"][s.res].sum()
                          + rec["bess_discharge_mw"][s.bess].sum() - rec["bess_charge_mw"][s.bess].sum()
                          + rec["shed_mw"][s.bus].sum() - rec["overgen_mw"][s.bus].sum())
                demand = rec["base_load_mw"][s.bus].sum() + rec["cpn_load_mw"][s.bus].sum()
                assert supply == pytest.approx(demand, rel=1e-7, abs=1e-6)
            np.testing.assert_allclose(np.bincount(u.node_bus, weights=rec["node_power_mw"], minlength=u.power.n_bus),
                                       rec["cpn_load_mw"], rtol=1e-12, atol=1e-12)
            cpn_mwh.append(float(rec["cpn_load_mw"].sum()) * u.interval_h)
            # Servers held = capacity - free; jobs are arrived = completed + failed + pending.
            np.testing.assert_array_equal(u.cpn.allocated(), u.cpn.capacity - u.cpn.free)
            c = u.cpn.job_counts()
            assert c["completed"] + c["failed"] + c["pending"] == c["arrived"]
            checked.append(rec["t"])

    _, m = random_rollout(env, 3, check)
    assert len(checked) == env.unwrapped.n_intervals
    # The link's energy (0.06 kWh/GB of data pulled and of state migrated between regions) is
    # drawn from the grids: the CPN's load at the buses over the day is its energy, transfers in.
    assert m["transfer_mwh"] == pytest.approx((m["transfer_gb"] + m["migration_gb"]) * 0.06 / 1000, rel=1e-12)
    assert m["transfer_mwh"] > 0
    assert sum(cpn_mwh) == pytest.approx(m["cpn_energy_mwh"], rel=1e-9)
    assert m["jobs_completed"] + m["jobs_failed"] + m["jobs_pending"] == m["jobs_arrived"] > 0


def test_the_east_is_dirtier_than_the_west(env: gym.Env) -> None:
    # c3o Table 1: about 0.78 against 0.21 kg/kWh; the dispatched grids give a clear contrast.
    _, m = random_rollout(env, 11)
    assert 0.6 < m["east_mean_mci_kg_per_kwh"] < 1.0
    assert 0.0 <= m["west_mean_mci_kg_per_kwh"] < 0.35
    assert m["east_cpn_energy_mwh"] + m["west_cpn_energy_mwh"] == pytest.approx(m["cpn_energy_mwh"], rel=1e-9)


def test_a_placement_away_from_home_waits_for_its_data() -> None:
    env = gym.make(ENV_ID, failure_rate_scale=0.0)
    u = env.unwrapped
    env.reset(seed=5)
    link = u.cfg.link
    seen = 0
    while not u.done and seen < 10:
        k = u.head_task
        mask = u.action_masks()
        acts = np.flatnonzero(mask[:-1])
        if k < 0 or not acts.size or u.cpn.t_status[k] == RUNNING:  # no placement, or a migration question
            env.step(u.defer_action)
            continue
        job = int(u.cpn.t_job[k])
        away = [a for a in acts if u.node_region[u.codec.decode(a).node] != u.job_home[job]]
        if not away:
            env.step(int(acts[0]))
            continue
        a = u.codec.decode(int(away[0]))
        run = u.cpn.run_time_h(k, a.node, a.resource)
        now = u.now_h
        pending = u.pending_network_mwh[a.node].sum()
        env.step(int(away[0]))
        if u.now_h == now:  # still before the interval's dispatch: the link energy waits at the receiving node
            assert u.pending_network_mwh[a.node].sum() - pending == pytest.approx(u.job_data_gb[job] * 0.06 / 1000, rel=1e-12)
        assert u.cpn.t_status[k] == RUNNING or u.cpn.t_end[k] <= u.now_h
        gb = u.job_data_gb[job]
        # latency 35 ms + GB x 8 / 100 Gbit/s, in hours
        want = (0.035 + gb * 8 / 100.0) / 3600.0
        assert u.cpn.t_end[k] - now == pytest.approx(run + want, rel=1e-12)
        assert link.transfer_h(gb) == pytest.approx(want, rel=1e-12)
        seen += 1
    assert seen > 0


def test_regions_are_validated() -> None:
    with pytest.raises(ScenarioError, match="eastern_01.region"):
        load_scenario("east_west", cpn__nodes=[{"name": "eastern_01", "region": "north", "bus": 7, "cpu_units": 1,
                                                "gpu_units": 1}])
    with pytest.raises(ScenarioError, match="link.home_share"):
        load_scenario("east_west", link__home_share=[1.0])


def test_migration_moves_the_work_left() -> None:
    env = gym.make(ENV_ID, failure_rate_scale=0.0)
    u = env.unwrapped
    obs, info = env.reset(seed=2)
    flag = u.observation.layout.field("east_west", "migration")
    rng = np.random.default_rng(0)
    moved = 0
    while not u.done and moved < 5:
        k = u.head_task
        if obs[flag] == 1.0:
            assert u.cpn.t_status[k] == RUNNING
            mask = info["action_mask"]
            cur = u.codec.encode(int(u.cpn.t_node[k]), int(u.cpn.t_rtype[k]))
            assert not mask[cur]  # never "migrate" to where it runs
            acts = np.flatnonzero(mask[:-1])
            if acts.size:
                a = u.codec.decode(int(acts[0]))
                old = (int(u.cpn.t_node[k]), int(u.cpn.t_rtype[k]))
                now = u.now_h
                frac = min((u.cpn.t_end[k] - now) / u.cpn.run_time_h(k, *old), 1.0)
                units = float(u.cpn.t_units[k])
                cross = u.node_region[a.node] != u.node_region[old[0]]
                # 2 GB of state per server: over the link between regions, 35 ms / 6 within.
                delay = (0.035 + 2.0 * units * 8 / 100.0) / 3600 if cross else 0.035 / 6 / 3600
                obs, _, _, _, info = env.step(int(acts[0]))
                assert (u.cpn.t_node[k], u.cpn.t_rtype[k]) == (a.node, a.resource)
                assert u.cpn.t_end[k] - now == pytest.approx(delay + frac * u.cpn.run_time_h(k, a.node, a.resource),
                                                            rel=1e-9)
                np.testing.assert_array_equal(u.cpn.allocated(), u.cpn.capacity - u.cpn.free)
                moved += 1
                continue
        obs, _, _, _, info = env.step(int(rng.choice(np.flatnonzero(info["action_mask"]))))
    assert moved > 0
    assert u.episode_metrics()["migrations"] == moved


def test_failures_lose_running_work_and_block_the_node() -> None:
    env = gym.make(ENV_ID, failure_rate_scale=40.0)
    u = env.unwrapped
    _, info = env.reset(seed=4)
    rng = np.random.default_rng(4)
    done = False
    while not done:
        # No work runs on a node that is down, and masks never offer one.
        assert u.cpn.running_on(u.node_down).size == 0
        pools = info["action_mask"][:-1].reshape(u.n_nodes, -1)
        assert not pools[u.node_down].any()
        _, _, done, _, info = env.step(int(rng.choice(np.flatnonzero(info["action_mask"]))))
    m = info["episode_metrics"]
    assert m["failures"] > 0 and m["lost_work_server_h"] > 0 and m["mttr_min"] > 0
    assert 0 < m["incidents_with_lost_work"] <= m["failures"] and m["incident_recovery_min"] >= 0
    assert m["jobs_completed"] + m["jobs_failed"] + m["jobs_pending"] == m["jobs_arrived"]


def test_bad_family_settings_are_named() -> None:
    with pytest.raises(ValueError, match="failure_rate_scale=-1"):
        gym.make(ENV_ID, failure_rate_scale=-1.0)
    with pytest.raises(ValueError, match="migration_questions=1.5"):
        gym.make(ENV_ID, migration_questions=1.5)


def test_static_intensities_come_from_each_regions_grid(env: gym.Env) -> None:
    from carbon_cpn.agents.signals import static_node_mci

    env.reset(seed=1)
    u = env.unwrapped
    ci = static_node_mci(env, days=(15, 196))
    east = u.node_region == u.region_names.index("east")
    # Every eastern node sees its coal-heavy grid, every western one its wind-and-solar grid.
    assert ci[east].min() > ci[~east].max() > 0


def test_carbon_field_holds_the_cpn_emissions_without_decay() -> None:
    # Zero-flux walls and no decay: the field's mass is every interval's node power x MCI x dt
    # (a negative MCI emitting nothing), summed from the interval records.
    env = gym.make(ENV_ID, field_decay_per_h=0.0, failure_rate_scale=0.0)
    emitted = []

    def check(u, info) -> None:
        for rec in info.get("intervals", []):
            mci = np.maximum(rec["mci"][u.node_bus], 0.0)
            emitted.append(float(rec["node_power_mw"] @ mci) * u.interval_h)

    _, m = random_rollout(env, 8, check)
    assert m["field_mass_tco2"] * 1000 == pytest.approx(sum(emitted), rel=1e-9)
    assert m["field_mass_tco2"] >= m["cpn_emissions_tco2"] - 1e-9
    u = env.unwrapped
    blocks = u.observation.field_summary
    assert blocks.mean() == pytest.approx(1.0) and (blocks >= 0).all()
    # The East emits more than the West: its half of the map holds more carbon.
    assert blocks.reshape(4, 2)[2:].sum() > blocks.reshape(4, 2)[:2].sum()


def test_render_draws_the_carbon_map() -> None:
    env = gym.make(ENV_ID, render_mode="rgb_array")
    env.reset(seed=1)
    img = env.render()
    assert img.ndim == 3 and img.shape[2] == 3 and img.std() > 0


def test_workload_types_share_the_cpns_dynamic_emissions() -> None:
    # c3o Table 8's attribution: every busy server-hour belongs to one workload type, and the
    # types' emissions are the CPN's emissions less its idle power's (failures off: no work lost).
    env = gym.make(ENV_ID, failure_rate_scale=0.0)
    u = env.unwrapped
    idle_kg = []

    def check(u, info) -> None:
        for rec in info.get("intervals", []):
            idle_kg.append(float(u.cpn.idle_mw @ rec["mci"][u.node_bus]) * u.interval_h)

    _, m = random_rollout(env, 6, check)
    assert u.type_server_h.sum() == pytest.approx(m["busy_server_h"], rel=1e-9)
    assert u.type_kg.sum() == pytest.approx(m["cpn_emissions_tco2"] * 1000 - sum(idle_kg), rel=1e-9)
    for k, wt in enumerate(u.cfg.workload.types):
        assert m[f"type_{wt.name}_kg_per_server_h"] == pytest.approx(u.type_kg[k] / u.type_server_h[k])


def test_a_negative_marginal_intensity_emits_nothing_into_the_field() -> None:
    import dataclasses

    env = gym.make(ENV_ID, failure_rate_scale=0.0)
    u = env.unwrapped
    env.reset(seed=1)
    before = u.field.total_mass()
    last = u.ledger.last
    u.interval_booked(dataclasses.replace(last, node_mci_kg_per_mwh=-np.abs(last.node_mci_kg_per_mwh) - 1.0))
    # Only decay acts: the mass shrinks, nothing is added and nothing fails.
    assert 0 <= u.field.total_mass() <= before
