"""The ``carbon-cpn`` command line: every command's arguments are parsed here, one module per
group of commands, each calling the library's plain functions.

    carbon-cpn dispatch-day | plan          carbon_cpn.cli.grid
    carbon-cpn train | evaluate             carbon_cpn.cli.agents
    carbon-cpn leaderboard                  carbon_cpn.cli.leaderboard

``python -m carbon_cpn`` and ``python -m carbon_cpn.cli`` run the same command line.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from carbon_cpn.cli.agents import add_evaluate_parser, add_train_parser
from carbon_cpn.cli.grid import add_dispatch_day_parser, add_plan_parser
from carbon_cpn.cli.leaderboard import add_leaderboard_parser

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    """The ``carbon-cpn`` parser with every command; ``args.func(args)`` runs the parsed one
    and returns its exit code."""
    p = argparse.ArgumentParser(prog="carbon-cpn", description="Carbon-aware scheduling of Computing Power Networks.")
    sub = p.add_subparsers(dest="command", required=True)
    for add in (add_dispatch_day_parser, add_plan_parser, add_train_parser, add_evaluate_parser,
                add_leaderboard_parser):
        add(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` (default: the process's arguments), run the command, return its exit code
    (2 on a scenario or commitment error, printed as ``carbon-cpn: error: ...``)."""
    args = build_parser().parse_args(argv)
    from carbon_cpn.envs.config import ScenarioError
    from carbon_cpn.optim.commitment import CommitmentError

    try:
        return int(args.func(args) or 0)
    except (ScenarioError, CommitmentError) as exc:
        print(f"carbon-cpn: error: {exc}", file=sys.stderr)
        return 2
