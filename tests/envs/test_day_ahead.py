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
