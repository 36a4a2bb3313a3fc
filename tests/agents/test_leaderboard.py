"""Issue #6: ``carbon-cpn leaderboard --quick`` runs and writes its tables and charts."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np

from carbon_cpn.agents.leaderboard import bootstrap_ci, git_sha, main


def test_quick_leaderboard_writes_its_files(tmp_path: Path) -> None:
    out = tmp_path / "results"
    rc = main(["leaderboard", "--quick", "--out", str(out), "--models", str(tmp_path / "no_models")])
    assert rc == 0
    for name in ("leaderboard.md", "leaderboard.csv", "episodes.csv", "sweep.csv", "fig3_methods.png",
                 "fig4_carbon_price.png", "metadata.json"):
        assert (out / name).is_file() and (out / name).stat().st_size > 0, name
    rows = {r["method"]: r for r in csv.DictReader(open(out / "leaderboard.csv"))}
    assert {"random", "oracle", "pfs", "c3o_greedy", "dc_frame"} <= set(rows)
    assert float(rows["random"]["score_mean"]) == 0.0
    assert abs(float(rows["oracle"]["score_mean"]) - 100.0) < 1e-9
    bound = float(rows["oracle"]["oracle_bound_usd_mean"])
    assert all(bound <= float(r["objective_usd_mean"]) + 1e-6 * abs(bound) for r in rows.values())
    meta = json.loads((out / "metadata.json").read_text())
    assert meta["env_id"] == "CarbonCPN-Tiny-v0" and "numpy" in meta["versions"]
    sweep = list(csv.DictReader(open(out / "sweep.csv")))
    assert {float(r["carbon_price_usd_per_t"]) for r in sweep} == {25.0, 150.0}


def test_bootstrap_ci_is_seeded_and_brackets_the_mean() -> None:
    v = np.array([1.0, 2.0, 3.0, 4.0])
    a = bootstrap_ci(v, np.random.default_rng(0))
    b = bootstrap_ci(v, np.random.default_rng(0))
    assert a == b and a[0] <= v.mean() <= a[1]


def test_git_sha_never_raises(tmp_path: Path) -> None:
    assert isinstance(git_sha(tmp_path), str)
