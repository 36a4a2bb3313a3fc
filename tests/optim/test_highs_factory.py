"""Solver objects print nothing on standard output, so machine-readable CLI output stays parseable."""

from __future__ import annotations

import json
import subprocess
import sys


def test_evaluate_json_stdout_is_pure_json() -> None:
    # A fresh process: HiGHS writes its banner at the first solver object of a process.
    code = ("import sys; from carbon_cpn.cli import main; sys.exit(main(['evaluate', '--model', 'random', "
            "'--env', 'CarbonCPN-Tiny-v0', '--episodes', '1', '--seed', '3', '--json']))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads(proc.stdout)  # raises if anything else reached stdout
    assert result["total_cost_usd"]["mean"] > 0


def test_new_highs_is_quiet_and_usable(capfd) -> None:
    from carbon_cpn.optim.highs_factory import new_highs

    h = new_highs()
    h.addVar(-1.0, 2.0)
    h.changeColCost(0, -1.0)
    h.run()
    assert h.getSolution().col_value[0] == 2.0
    assert capfd.readouterr().out == ""
