"""benchmarks/tune.py (issue #18): an Optuna search whose study lives in a journal file, so
that a stopped search resumes with the trials it has and only runs the missing ones."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pytest

optuna = pytest.importorskip("optuna")

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "tune.py"


def _tune(tmp: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    args = [sys.executable, str(SCRIPT), "--env", "CarbonCPN-Tiny-v0", "--algo", "dqn", "--startup", "1",
            "--timesteps", "200", "--val-seeds", "2000", "--jobs", "1", "--runs-dir", str(tmp / "runs"),
            "--out", str(tmp / "search.csv"), *extra]
    return subprocess.run(args, capture_output=True, text=True, timeout=600)


def test_a_search_resumes_from_its_study(tmp_path: Path) -> None:
    first = _tune(tmp_path, "--trials", "2")
    assert first.returncode == 0, first.stderr[-2000:]
    again = _tune(tmp_path, "--trials", "3")  # one more trial, the first two read back
    assert again.returncode == 0, again.stderr[-2000:]
    assert "2 of 3 trials done" in again.stdout
    with open(tmp_path / "search.csv") as f:
        rows = list(csv.DictReader(f))
    assert [int(r["trial"]) for r in rows] == [0, 1, 2]
    for r in rows:  # every row holds the sampled values and a finite objective
        assert 1e-5 <= float(r["learning_rate"]) <= 2e-3 and r["batch_size"] in {"32", "64", "128", "256"}
        assert float(r["objective_usd_mean"]) == float(r["objective_usd_mean"])
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    study = optuna.load_study(study_name="tune-dqn-CarbonCPN-Tiny-v0",
                              storage=JournalStorage(JournalFileBackend(str(tmp_path / "search.journal"))))
    done = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    assert [t.number for t in done] == [0, 1, 2]
    assert [t.value for t in done] == pytest.approx([float(r["objective_usd_mean"]) for r in rows], rel=1e-9)


def test_bad_arguments_exit_2_naming_them(tmp_path: Path) -> None:
    res = _tune(tmp_path, "--trials", "0")
    assert res.returncode == 2 and "--trials=0" in res.stderr
    res = _tune(tmp_path, "--trials", "1", "--env", "CarbonCPN-Nope-v0")
    assert res.returncode == 2 and "CarbonCPN-Nope-v0" in res.stderr
