"""The execution engines (issue #18): tasks and stateful workers on both engines; the quick
leaderboard on a local Ray instance (started by the test, on loopback) gives the same table as
the local engine."""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import pytest

from carbon_cpn.cli import main
from carbon_cpn.engine import Workers, run_unordered


def _square(x: int) -> int:
    return x * x


def _counter(start: int) -> dict[str, int]:
    return {"n": start}


def _bump(state: dict[str, int], by: int) -> int:
    state["n"] += by
    return state["n"]


@pytest.mark.parametrize("jobs", [1, 2])
def test_local_engine_runs_every_task(jobs: int) -> None:
    out = dict(run_unordered(_square, [1, 2, 3, 4], engine="local", jobs=jobs))
    assert out == {0: 1, 1: 4, 2: 9, 3: 16}


def test_bad_engine_settings_are_named() -> None:
    with pytest.raises(ValueError, match="engine='spark'"):
        list(run_unordered(_square, [1], engine="spark"))
    with pytest.raises(ValueError, match="ray_address"):
        list(run_unordered(_square, [1], engine="local", address="127.0.0.1:6379"))


@pytest.mark.parametrize("engine", ["local", "ray"])
def test_workers_keep_their_own_state_between_calls(engine: str) -> None:
    if engine == "ray":  # Ray workers cannot import this test module: ship its functions by value
        ray = pytest.importorskip("ray")
        ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])
    with Workers(_counter, [(0,), (100,)], engine=engine) as w:
        assert w.n == 2
        assert w.map(_bump, [1, 2]) == [1, 102]
        assert w.map(_bump, [1, 2]) == [2, 104]  # each worker kept its counter
        with pytest.raises(ValueError, match="one per worker"):
            w.map(_bump, [1])


def test_bad_worker_settings_are_named() -> None:
    with pytest.raises(ValueError, match="engine='dask'"):
        Workers(_counter, [(0,)], engine="dask")
    with pytest.raises(ValueError, match="init_args"):
        Workers(_counter, [])
    with pytest.raises(ValueError, match="ray_address"):
        Workers(_counter, [(0,)], address="10.0.0.1:6379")


def _table(out: Path) -> list[dict[str, str]]:
    with open(out / "leaderboard.csv") as f:
        rows = list(csv.DictReader(f))
    for r in rows:  # wall-clock columns differ from run to run
        for k in [k for k in r if k.startswith("wall_s")]:
            del r[k]
    return rows


def test_the_quick_leaderboard_on_ray_equals_the_local_one(tmp_path: Path) -> None:
    pytest.importorskip("ray")
    args = ["leaderboard", "--quick", "--methods", "random,pfs,scas", "--models", str(tmp_path / "none")]
    assert main([*args, "--out", str(tmp_path / "local")]) == 0
    assert main([*args, "--out", str(tmp_path / "ray"), "--engine", "ray"]) == 0
    local, on_ray = _table(tmp_path / "local"), _table(tmp_path / "ray")
    assert local == on_ray and len(local) == 3


def test_an_unreachable_ray_address_fails_fast_naming_it() -> None:
    pytest.importorskip("ray")
    with pytest.raises(ValueError, match=r"ray_address='127.0.0.1:1': nothing answers there"):
        list(run_unordered(_square, [1], engine="ray", address="127.0.0.1:1"))
    with pytest.raises(ValueError, match=r"ray_address='nowhere': expected HOST:PORT"):
        list(run_unordered(_square, [1], engine="ray", address="nowhere"))
