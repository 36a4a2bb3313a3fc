"""The command line's one error boundary (issue #18): bad input exits 2 with one line on
stderr and no traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from carbon_cpn.cli import main


def _bad_yaml(tmp: Path) -> str:
    p = tmp / "bad.yml"
    p.write_text("CarbonCPN-Tiny-v0: {gamma: [unclosed\n")
    return str(p)


def _gamma_five(tmp: Path) -> str:
    p = tmp / "gamma.yml"
    p.write_text("CarbonCPN-Tiny-v0:\n  gamma: 5\n")
    return str(p)


def _negative_buffer(tmp: Path) -> str:
    p = tmp / "buffer.yml"
    p.write_text("CarbonCPN-Tiny-v0:\n  buffer_size: -10\n")
    return str(p)


def _not_a_model(tmp: Path) -> str:
    p = tmp / "model.zip"
    p.write_bytes(b"not a zip")
    return str(p)


CASES = [
    (lambda tmp: ["train", "--algo", "dqn", "--env", "CarbonCPN-Tiny-v0", "--hyperparams", _bad_yaml(tmp),
                  "--out", str(tmp / "r1")], "bad.yml'?: not valid YAML"),
    (lambda tmp: ["train", "--algo", "dqn", "--env", "CarbonCPN-Tiny-v0", "--hyperparams", _gamma_five(tmp),
                  "--out", str(tmp / "r2")], "'gamma'\\]=5: expected a number in \\(0, 1\\]"),
    (lambda tmp: ["train", "--algo", "dqn", "--env", "CarbonCPN-Tiny-v0", "--hyperparams", _negative_buffer(tmp),
                  "--out", str(tmp / "r3")], "'buffer_size'\\]=-10: expected an integer >= 1"),
    (lambda tmp: ["evaluate", "--model", _not_a_model(tmp), "--env", "CarbonCPN-Tiny-v0"], "zip"),
    (lambda tmp: ["leaderboard", "--env", "CarbonCPN-Microgrid-v0", "--methods", "pfs", "--seeds", "1",
                  "--out", str(tmp / "lb")], "methods=\\['pfs'\\]"),
    # plan finds out it cannot write before it solves anything (a file where its folder should be)
    (lambda tmp: ["plan", "--day", "3", "--out", str(_not_a_model(tmp)) + "/plans"], "out=.*cannot write there"),
    (lambda tmp: ["plan", "--day", "3", "--ray-address", "127.0.0.1:6379", "--out", str(tmp / "p")],
     "ray_address='127.0.0.1:6379': only with engine='ray'"),
    (lambda tmp: ["leaderboard", "--quick", "--ray-address", "127.0.0.1:6379", "--out", str(tmp / "lb2")],
     "ray_address='127.0.0.1:6379': only with engine='ray'"),
]


@pytest.mark.parametrize("case", range(len(CASES)))
def test_bad_invocations_print_one_line_and_exit_2(case: int, tmp_path: Path, capsys) -> None:
    make, pattern = CASES[case]
    argv = make(tmp_path)
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse's own usage errors also exit 2
        code = exc.code
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert "Traceback" not in "\n".join(err)
    assert err and err[-1].startswith("carbon-cpn")
    import re

    assert re.search(pattern, err[-1]), err[-1]
