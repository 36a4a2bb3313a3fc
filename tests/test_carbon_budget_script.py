"""benchmarks/carbon_budget.py: the Lyapunov budget runs and their confirmation on held-out days
(``--confirm-seed``: the same agents, behind the budgets and V they were trained with)."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from carbon_cpn.agents.evaluate import evaluate
from carbon_cpn.agents.train import train

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "carbon_budget.py"
ENV = "CarbonCPN-Tiny-v0"


def test_confirmation_evaluates_the_trained_agents_on_the_held_out_days(tmp_path: Path) -> None:
    base = train("dqn", ENV, timesteps=200, seed=0, out_dir=tmp_path / "base", progress_bar=False, eval_freq=0,
                 checkpoint_freq=0)
    out = tmp_path / "budget"
    hp = tmp_path / "hp.yml"  # the shaped runs' settings (--hyperparams): recorded in their run.json
    hp.write_text(f"{ENV}:\n  policy: MlpPolicy\n  learning_starts: 57\n  policy_kwargs: {{net_arch: [16]}}\n")
    args = [sys.executable, str(SCRIPT), "--env", ENV, "--algo", "dqn", "--base", str(base.model_path),
            "--hyperparams", str(hp),
            "--fractions", "0.8", "--v", "0.5", "--seeds", "0", "--timesteps", "200", "--episodes", "1",
            "--eval-seed", "1000", "--jobs", "1", "--runs-dir", str(tmp_path / "runs"), "--out", str(out),
            "--confirm-seed", "3000"]
    done = subprocess.run(args, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    main_rows = list(csv.DictReader(out.with_suffix(".csv").open()))
    held_out = list(csv.DictReader(out.with_name("budget_confirm.csv").open()))
    assert [r["name"] for r in held_out] == [r["name"] for r in main_rows] == ["unconstrained", "lyapunov"]
    shaped, shaped_main = held_out[1], main_rows[1]
    assert shaped["budget_tco2"] == shaped_main["budget_tco2"] and shaped["v"] == "0.5"
    # the held-out row is the shaped agent evaluated on seed 3000 behind its own queue
    ref = evaluate(shaped["model"], ENV, episodes=1, seed=3000, lyapunov_v=0.5,
                   carbon_budget=float(shaped["budget_tco2"]))
    assert float(shaped["cpn_emissions_tco2_mean"]) == pytest.approx(ref["cpn_emissions_tco2"]["mean"], rel=1e-9)
    run = json.loads((tmp_path / "runs" / "dqn-f0.8-v0.5-0" / "run.json").read_text())
    assert run["hyperparams"]["learning_starts"] == 57
    md = out.with_name("budget_confirm.md").read_text()
    assert "greedy evaluation on seeds 3000-3000" in md and "on seeds 1000-1000 (the budgets the agents were trained" in md


def test_long_term_confirmation_runs_its_own_number_of_days(tmp_path: Path) -> None:
    """``--confirm-episodes N``: the held-out evaluation runs N days behind one long-term queue
    (``OUT_confirmN``), the table names the N days and the one day the budget was fixed on."""
    base = train("dqn", ENV, timesteps=200, seed=0, out_dir=tmp_path / "base", progress_bar=False, eval_freq=0,
                 checkpoint_freq=0)
    out = tmp_path / "budget"
    hp = tmp_path / "hp.yml"
    hp.write_text(f"{ENV}:\n  policy: MlpPolicy\n  learning_starts: 57\n  policy_kwargs: {{net_arch: [16]}}\n")
    common = [sys.executable, str(SCRIPT), "--env", ENV, "--algo", "dqn", "--base", str(base.model_path),
              "--hyperparams", str(hp), "--fractions", "0.8", "--v", "0.5", "--seeds", "0", "--timesteps", "200",
              "--episodes", "1", "--eval-seed", "1000", "--jobs", "1", "--runs-dir", str(tmp_path / "runs"),
              "--out", str(out), "--carbon-queue", "long_term"]
    refused = subprocess.run(common + ["--confirm-episodes", "3"], capture_output=True, text=True, timeout=600)
    assert refused.returncode == 2 and "--confirm-episodes" in refused.stderr and "--confirm-seed" in refused.stderr
    refused = subprocess.run(common + ["--confirm-seed", "3000", "--confirm-episodes", "0"], capture_output=True,
                             text=True, timeout=600)
    assert refused.returncode == 2 and "--confirm-episodes 0" in refused.stderr
    done = subprocess.run(common + ["--confirm-seed", "3000", "--confirm-episodes", "3"], capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    held_out = list(csv.DictReader(out.with_name("budget_confirm3.csv").open()))
    assert [r["name"] for r in held_out] == ["unconstrained", "lyapunov"]
    assert not out.with_name("budget_confirm.csv").exists()
    shaped = held_out[1]
    ref = evaluate(shaped["model"], ENV, episodes=3, seed=3000, lyapunov_v=0.5,
                   carbon_budget=float(shaped["budget_tco2"]), carbon_queue="long_term")
    assert float(shaped["cpn_emissions_tco2_mean"]) == pytest.approx(ref["cpn_emissions_tco2"]["mean"], rel=1e-9)
    # the unshaped agent on the same three held-out days, without a queue
    unshaped = float(held_out[0]["cpn_emissions_tco2_mean"])
    assert unshaped == pytest.approx(evaluate(base.model_path, ENV, episodes=3, seed=3000)["cpn_emissions_tco2"]["mean"],
                                     rel=1e-9)
    md = out.with_name("budget_confirm3.md").read_text()
    assert "greedy evaluation on seeds 3000-3002" in md and "on seeds 1000-1000 (the budgets the agents were trained" in md
    assert "long-term" in md
    assert out.with_name("budget_confirm3.png").stat().st_size > 0


def _load_script():  # the script as a module (it lives outside the package)
    import importlib.util

    spec = importlib.util.spec_from_file_location("carbon_budget_script", SCRIPT)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _worker(driver_pid: int, marker: str, work_s: float) -> None:  # runs in a spawned child
    import time

    mod = _load_script()
    mod.exit_with_driver(driver_pid, poll_s=0.05)
    time.sleep(work_s)
    Path(marker).write_text("finished its task")


def test_a_worker_whose_driver_is_gone_exits(tmp_path: Path) -> None:
    import multiprocessing
    import os

    ctx = multiprocessing.get_context("spawn")
    # the child's parent is this process, not pid 2**22 + 1: to the watcher its driver is gone
    marker = tmp_path / "orphan"
    child = ctx.Process(target=_worker, args=((1 << 22) + 1, str(marker), 30.0))
    child.start()
    child.join(timeout=25)
    assert not child.is_alive(), "the worker kept running after its driver was gone"
    assert child.exitcode == 1 and not marker.exists()
    # while its driver lives, the watcher leaves the worker to finish its task
    marker = tmp_path / "kept"
    child = ctx.Process(target=_worker, args=(os.getpid(), str(marker), 0.5))
    child.start()
    child.join(timeout=25)
    assert child.exitcode == 0 and marker.read_text() == "finished its task"


def test_table_rows_come_in_a_fixed_order_whatever_order_the_runs_finish_in() -> None:
    mod = _load_script()
    rows = [{"name": "lyapunov", "fraction": 0.8, "v": 0.1, "seed": 10},
            {"name": "lyapunov", "fraction": 0.8, "v": 0.03, "seed": 2},
            {"name": "unconstrained", "fraction": "", "v": "", "seed": "base"},
            {"name": "lyapunov", "fraction": 0.8, "v": 0.1, "seed": 9},
            {"name": "lyapunov", "fraction": 0.9, "v": 0.03, "seed": 0}]
    got = [(r["fraction"], r["v"], r["seed"]) for r in sorted(rows, key=mod.row_order)]
    assert got == [("", "", "base"), (0.8, 0.03, 2), (0.8, 0.1, 9), (0.8, 0.1, 10), (0.9, 0.03, 0)]
