"""One ``carbon-cpn`` parser (``carbon_cpn.cli``): every command, its checks and its entry points."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from carbon_cpn.cli import build_parser, main

COMMANDS = ("dispatch-day", "plan", "train", "evaluate", "leaderboard")


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main([command, "--help"])
    assert exc.value.code == 0
    assert f"usage: carbon-cpn {command}" in capsys.readouterr().out


@pytest.mark.parametrize(("argv", "message"), [
    (["dispatch-day", "--day", "365"], "argument --day: '365': expected a day in [0, 364]"),
    (["dispatch-day", "--days", "8"], "argument --days: '8': expected 1 to 7 days"),
    (["plan", "--scenarios", "0"], "argument --scenarios: '0': expected 1 to 365"),
    (["plan", "--gap", "-1"], "argument --gap: '-1': expected a number > 0"),
    (["train", "--algo", "dqn", "--timesteps", "0"], "argument --timesteps: '0': expected an integer >= 1"),
    (["train", "--algo", "dqn", "--gamma-per-hour", "x"], "argument --gamma-per-hour: 'x': expected a discount"),
    (["leaderboard", "--jobs", "0"], "argument --jobs: '0': expected an integer >= 1"),
    (["leaderboard", "--methods", ","], "argument --methods: ',': expected comma-separated names"),
])
def test_bad_values_are_named(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        build_parser().parse_args(argv)
    assert exc.value.code == 2
    assert message in capsys.readouterr().err


def test_leaderboard_defaults_follow_quick() -> None:
    from carbon_cpn.agents.leaderboard import QUICK_SWEEP_PRICES_USD_PER_T, LeaderboardSettings

    args = build_parser().parse_args(["leaderboard", "--quick", "--methods", "random,pfs", "--seeds", "2"])
    s = LeaderboardSettings.with_defaults(quick=args.quick, env_id=args.env, n_seeds=args.seeds,
                                          methods=args.methods)
    assert (s.env_id, s.n_seeds, s.sweep_seeds, s.oracle_time_limit_s) == ("CarbonCPN-Tiny-v0", 2, 2, 30.0)
    assert s.methods == ("random", "pfs") and s.sweep_prices == QUICK_SWEEP_PRICES_USD_PER_T
    assert s.seeds == [1000, 1001]
    with pytest.raises(ValueError, match=r"methods=\['nope'\]: expected names from"):
        LeaderboardSettings.with_defaults(methods=("nope",))


def test_train_default_out(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import carbon_cpn.agents.train as train_mod

    seen = {}

    def fake_train(algo: str, env: str, **kw: object) -> object:
        seen.update(algo=algo, env=env, out=kw["out_dir"])
        raise ValueError("stop here")

    monkeypatch.setattr(train_mod, "train", fake_train)
    assert main(["train", "--algo", "dqn", "--env", "CarbonCPN-Tiny-v0", "--seed", "4"]) == 2
    assert seen == {"algo": "dqn", "env": "CarbonCPN-Tiny-v0", "out": "runs/dqn-CarbonCPN-Tiny-v0-4"}


@pytest.mark.parametrize("module", ["carbon_cpn", "carbon_cpn.cli"])
def test_python_dash_m_runs_the_same_command_line(module: str) -> None:
    out = subprocess.run([sys.executable, "-m", module, "--help"], capture_output=True, text=True, check=True).stdout
    assert all(c in out for c in COMMANDS)
