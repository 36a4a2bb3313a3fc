"""The day-ahead plan inside the env: commitment respected, plans cached on disk (issue #4)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import carbon_cpn.envs.day_ahead as day_ahead
from carbon_cpn.envs.config import load_scenario
from carbon_cpn.envs.cpn_env import CarbonCPNEnv
from carbon_cpn.envs.day_ahead import UC_OVERRIDES, PlanCommitment


def test_env_follows_the_cached_day_ahead_plan(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = load_scenario("tiny", **UC_OVERRIDES, commitment__n_scenarios=1, commitment__gap=0.05)
    env = CarbonCPNEnv(cfg, commitment=PlanCommitment(cfg, cache_dir=tmp_path))
    env.reset(seed=0, options={"day": 120})
    files = list(tmp_path.glob("*.npz"))
    assert len(files) == 1
    plan_u = np.load(files[0])["commitment"]  # [gen, hour]
    assert plan_u.shape == (env.grid.n_gen, 24) and not plan_u.all()  # some unit is off some hour
    hours = (np.arange(env.n_intervals) * env.interval_h).astype(int)
    np.testing.assert_array_equal(env.committed, plan_u[:, hours].T)
    # The real-time dispatch keeps off units at 0 and on units at least at Pmin.
    rng = np.random.default_rng(0)
    done = False
    pmin = env.grid.gen_pmin_mw
    assert np.all(pmin > 0)
    while not done:
        _, _, done, _, info = env.step(int(rng.choice(np.flatnonzero(env.action_masks()))))
        for rec in info.get("intervals", []):
            on = env.committed[rec["t"]]
            assert np.all(rec["gen_mw"][~on] <= 1e-9)
            assert np.all(rec["gen_mw"][on] >= pmin[on] - 1e-6)
    # The day-ahead profile is exposed for DC-Frame, and a second source reads the cache.
    lmp, mci = env.commitment.day_ahead_profile(120)
    assert lmp.shape == mci.shape == (24, env.grid.n_bus) and np.all(np.isfinite(lmp))

    def no_solve(*args: object, **kwargs: object) -> None:
        raise AssertionError("the cached plan should have been read")

    monkeypatch.setattr(day_ahead, "solve_suc", no_solve)
    again = PlanCommitment(cfg, cache_dir=tmp_path)
    np.testing.assert_array_equal(again.commitment(env.grid, 120, env.n_intervals, env.interval_h), env.committed)
    assert env.scheduler_view().day_ahead_lmp_usd_per_mwh is not None


def test_plan_cli_writes_files(tmp_path: Path) -> None:
    from carbon_cpn.cli import main

    lines: list[str] = []
    plan = day_ahead.run_plan("tiny", 40, 1, "benders", 0.05, 1, 0, tmp_path, echo=lines.append)
    assert any(line.startswith("iter") for line in lines)
    assert (tmp_path / "plan_tiny_d40_benders_n1.json").exists()
    assert plan.gap <= 0.05 + 1e-12
    with pytest.raises(SystemExit):
        main(["plan", "--scenarios", "400"])


def _shipped_pack() -> tuple[object, dict[str, np.ndarray]]:
    cfg = load_scenario("ieee30_5dc")
    path = day_ahead.SHIPPED_PLANS_DIR / f"{cfg.name}_{day_ahead.plan_hash(cfg)}_s{cfg.commitment.seed}.npz"
    assert path.is_file(), f"{path}: the default scenario's plans must ship (benchmarks/make_plans.py)"
    with np.load(path) as f:
        return cfg, {k: f[k] for k in f.files}


def test_default_env_reads_the_shipped_plans(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import gymnasium as gym

    import carbon_cpn  # noqa: F401

    def no_solve(*args: object, **kwargs: object) -> None:
        raise AssertionError("CarbonCPN-v0 must not solve a plan: all 365 ship with the package")

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))  # an empty cache
    monkeypatch.setattr(day_ahead, "solve_suc", no_solve)
    _, pack = _shipped_pack()
    env = gym.make("CarbonCPN-v0")
    u = env.unwrapped
    days = pack["days"]
    assert u.commitment.shipped_days() == sorted(int(d) for d in days)
    for i in (0, len(days) // 2, len(days) - 1):
        day = int(days[i])
        env.reset(seed=1, options={"day": day})
        hours = (np.arange(u.n_intervals) * u.interval_h).astype(int)
        np.testing.assert_array_equal(u.committed, pack["commitment"][i][:, hours].T)
        lmp, mci = u.commitment.day_ahead_profile(day)
        np.testing.assert_allclose(lmp, pack["lmp"][i], rtol=1e-6)
    assert not list(tmp_path.rglob("*.npz"))


def test_shipped_plans_obey_minimum_up_and_down_times() -> None:
    """Every shipped day, checked on the arrays: an on-run that starts inside the day lasts its
    minimum up time (or to the day's end), an off-run its minimum down time."""
    from carbon_cpn.envs.grid_system import build_grid
    from carbon_cpn.optim.commitment import default_uc_params

    cfg, pack = _shipped_pack()
    params = default_uc_params(build_grid(cfg.grid, cfg.commitment))
    u = pack["commitment"].astype(int)  # [day, gen, hour]
    assert u.shape == (len(pack["days"]), len(params), 24) and len(set(pack["days"].tolist())) == len(pack["days"])
    assert set(np.unique(pack["status"])) <= {"optimal", "time_limit", "no_incumbent"}
    ok = pack["status"] == "optimal"
    assert np.all(pack["gap"][ok] <= cfg.commitment.gap + 1e-9)
    for i, p in enumerate(params):
        for day in range(u.shape[0]):
            x = np.concatenate([[1 if p.initial_on else 0], u[day, i]])
            for t in np.flatnonzero(np.diff(x) != 0):  # a switch between hour t-1 and hour t
                need = int(np.ceil(p.min_up_h if x[t + 1] else p.min_down_h))
                run = x[t + 1 : t + 1 + need]
                assert np.all(run == x[t + 1]), f"day {day} unit {i}: run from hour {t} shorter than {need} h"
    assert u.sum() < u.size  # the plans do switch units off


def test_a_shipped_day_matches_a_fresh_solve() -> None:
    """The pack is what the code computes: its fastest day solved again reaches the same cost
    within the gap."""
    from carbon_cpn.envs.grid_system import build_grid

    cfg, pack = _shipped_pack()
    i = int(np.argmin(pack["solve_time_s"]))
    plan, lmp, _ = day_ahead.solve_day(cfg, build_grid(cfg.grid, cfg.commitment), int(pack["days"][i]))
    assert abs(plan.objective_usd - float(pack["objective_usd"][i])) <= cfg.commitment.gap * plan.objective_usd
    assert lmp.shape == pack["lmp"][i].shape


def test_fast_start_recourse_reads_the_same_plans_and_starts_only_units_left_off(monkeypatch: pytest.MonkeyPatch) -> None:
    # The default scenario's real-time recourse (the gas turbine may start when the plan left
    # it off) is not part of a plan's key: with and without it the env reads the same shipped
    # plan. On a day the plan leaves the turbine off, only then is it started.
    def no_solve(*args: object, **kwargs: object) -> None:
        raise AssertionError("the shipped plan should have been read")

    monkeypatch.setattr(day_ahead, "solve_suc", no_solve)
    base = load_scenario("ieee30_5dc")
    assert base.commitment.fast_start_fuels == ("gas_ct",)
    none = load_scenario("ieee30_5dc", commitment__fast_start_fuels=[])
    assert day_ahead.plan_hash(none) == day_ahead.plan_hash(base)
    _, pack = _shipped_pack()
    gas = [i for i, f in enumerate(CarbonCPNEnv(base).grid.gen_fuels) if f == "gas_ct"]
    off_days = [int(d) for d, u in zip(pack["days"], pack["commitment"]) if not u[gas].all()]
    assert off_days, "some day's plan switches the gas turbine off"
    out = {}
    for name, cfg in (("base", base), ("none", none)):
        env = CarbonCPNEnv(cfg)
        env.reset(seed=7, options={"day": off_days[0]})
        rng = np.random.default_rng(0)
        done, started_mwh = False, 0.0
        while not done:
            _, _, done, _, info = env.step(int(rng.choice(np.flatnonzero(env.action_masks()))))
            for rec in info.get("intervals", []):
                on = env.committed[rec["t"]]
                assert not np.any(rec["started"] & on)
                assert np.all(rec["gen_mw"][~on & ~rec["started"]] <= 1e-9)
                started_mwh += float(rec["gen_mw"][rec["started"]].sum()) * env.interval_h
        out[name] = info["episode_metrics"]
        assert out[name]["fast_start_mwh"] == pytest.approx(started_mwh, abs=1e-6)
    assert out["none"]["fast_start_mwh"] == 0.0
    assert out["base"]["load_shed_mwh"] <= out["none"]["load_shed_mwh"] + 1e-9


def test_shipped_plans_meet_the_reserve_rule() -> None:
    """Every shipped day's commitment covers its reserve requirement (N-1 and the share of
    load), recomputed from the day's forecast envelope."""
    from carbon_cpn.envs.grid_system import build_grid
    from carbon_cpn.optim.commitment import reserve_requirement_mw

    cfg, pack = _shipped_pack()
    assert cfg.commitment.reserve_rule == "largest_unit"
    grid = build_grid(cfg.grid, cfg.commitment)
    pmax = grid.gen_pmax_mw
    for i in range(0, len(pack["days"]), 29):
        system, sc = day_ahead.uc_inputs(cfg, grid, int(pack["days"][i]), cfg.commitment.n_scenarios, cfg.commitment.seed)
        share, n1 = reserve_requirement_mw(system, sc)
        u = pack["commitment"][i].astype(float)  # [gen, hour]
        cap = pmax @ u
        assert np.all(cap >= share - 1e-6)
        assert np.all(cap[None, :] - pmax[:, None] * u >= n1[None, :] - 1e-6)
        # The envelope scenario (every node at peak) is the last one, with its weight.
        assert sc.prob[-1] == pytest.approx(cfg.commitment.envelope_weight)


def test_plan_key_holds_what_the_plan_depends_on_and_nothing_else() -> None:
    h = day_ahead.plan_hash
    base = load_scenario("ieee30_5dc")
    # Reward weights, the penalty, the workload and the episode do not enter the plan.
    for ov in ({"reward__w_rev": 2.0}, {"reward__deadline_penalty_usd": 1.0}, {"workload__jobs_per_hour": 5.0},
               {"episode__interval_min": 30}, {"reward__mode": "tsco"}):
        assert h(load_scenario("ieee30_5dc", **ov)) == h(base), ov
    # The grid, the nodes, the plan's settings and its (resolved) carbon price do.
    for ov in ({"grid__voll_usd_per_mwh": 4000.0}, {"cpn__nodes__0__gpu_units": 100}, {"commitment__reserve_share": 0.2},
               {"reward__carbon_price_usd_per_t": 100.0}):
        assert h(load_scenario("ieee30_5dc", **ov)) != h(base), ov
    explicit = load_scenario("ieee30_5dc", commitment__carbon_price_usd_per_t=50.0)
    assert explicit.grid_carbon_price_usd_per_t == base.grid_carbon_price_usd_per_t == 50.0
    assert h(explicit) == h(base)


@pytest.mark.parametrize("garbage", [b"", b"not a plan", b"PK\x03\x04 truncated zip"])
def test_a_corrupt_cached_plan_is_solved_again(tmp_path: Path, garbage: bytes) -> None:
    # Issue #18: a cache file cut by a crash or overwritten was fatal; it is now discarded.
    cfg = load_scenario("tiny", **UC_OVERRIDES, commitment__n_scenarios=1, commitment__gap=0.05)
    src = PlanCommitment(cfg, cache_dir=tmp_path)
    first = src.commitment(src.grid, 120, 96, 0.25)
    path = src.path(120)
    path.write_bytes(garbage)
    logs: list[str] = []
    again = PlanCommitment(cfg, cache_dir=tmp_path, log=logs.append)
    np.testing.assert_array_equal(again.commitment(again.grid, 120, 96, 0.25), first)
    assert any("unreadable" in line for line in logs)
    assert np.load(path)["commitment"].shape[0] == again.grid.n_gen  # rewritten whole
