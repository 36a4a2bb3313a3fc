"""A training run killed by SIGKILL, or by two SIGTERMs (the second while the checkpoint is
being saved), resumes from its last checkpoint and ends at exactly the requested step count
(issue #18)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

STEPS = 1200
HYPERPARAMS = """CarbonCPN-Tiny-v0:
  policy: MlpPolicy
  learning_starts: 100
  buffer_size: 5000
  batch_size: 32
  checkpoint_freq: 200
  eval_freq: 0
"""
ROOT = Path(__file__).resolve().parents[2]


def _train(out: Path, hp: Path, resume: bool = False) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "carbon_cpn", "train", "--algo", "dqn", "--env", "CarbonCPN-Tiny-v0",
           "--timesteps", str(STEPS), "--hyperparams", str(hp), "--out", str(out), "--no-progress"]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.Popen(cmd + (["--resume"] if resume else []), cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _wait_for_checkpoint(out: Path, proc: subprocess.Popen, timeout_s: float = 120.0) -> None:
    state = out / "checkpoint" / "state.json"
    t0 = time.time()
    while not state.exists():
        assert proc.poll() is None, proc.communicate()[0]
        assert time.time() - t0 < timeout_s, "no checkpoint written"
        time.sleep(0.1)


@pytest.mark.parametrize("kill", ["sigkill", "two_sigterms"])
def test_a_killed_run_resumes_to_exactly_the_requested_steps(kill: str, tmp_path: Path) -> None:
    hp = tmp_path / "hp.yml"
    hp.write_text(HYPERPARAMS)
    out = tmp_path / "run"
    proc = _train(out, hp)
    _wait_for_checkpoint(out, proc)
    if kill == "sigkill":
        proc.send_signal(signal.SIGKILL)
    else:
        proc.send_signal(signal.SIGTERM)
        time.sleep(0.05)  # the first asks for a clean stop; the second lands during the final save
        proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=120)
    state = json.loads((out / "checkpoint" / "state.json").read_text())  # a whole checkpoint is on disk
    assert 0 < state["num_timesteps"] < STEPS
    again = _train(out, hp, resume=True)
    log = again.communicate(timeout=300)[0]
    assert again.returncode == 0, log
    result = json.loads((out / "run.json").read_text())["result"]
    assert result["num_timesteps"] == STEPS and not result["interrupted"]
    assert (out / "final_model.zip").exists()
