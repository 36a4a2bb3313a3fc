"""The ``carbon-cpn`` command line: every command's arguments are parsed here, one module per
group of commands, each calling the library's plain functions.

    carbon-cpn dispatch-day | plan          carbon_cpn.cli.grid
    carbon-cpn train | evaluate             carbon_cpn.cli.agents
    carbon-cpn leaderboard                  carbon_cpn.cli.leaderboard

``python -m carbon_cpn`` and ``python -m carbon_cpn.cli`` run the same command line.
"""

from __future__ import annotations

import argparse
import os
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


#: Set to 1 to see the traceback of an error the command line would print as one line.
DEBUG_ENV = "CARBON_CPN_DEBUG"


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` (default: the process's arguments), run the command, return its exit code.

    The one error boundary of the command line (issue #18): bad input anywhere below — a
    setting out of range, an unreadable or foreign file, a YAML or TOML syntax error, an
    unwritable output — is printed as one line ``carbon-cpn: error: ...`` with exit code 2, never
    as a traceback (``CARBON_CPN_DEBUG=1`` shows it). Ctrl-C exits 130."""
    args = build_parser().parse_args(argv)
    import zipfile

    import yaml

    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("carbon-cpn: interrupted", file=sys.stderr)
        return 130
    except (ValueError, TypeError, KeyError, LookupError, OSError, yaml.YAMLError, zipfile.BadZipFile,
            EOFError) as exc:
        if os.environ.get(DEBUG_ENV) == "1":
            raise
        text = str(exc).strip().splitlines()
        first = text[0] if text else ""
        print(f"carbon-cpn: error: {type(exc).__name__}: {first}" if not isinstance(exc, ValueError) or not first
              else f"carbon-cpn: error: {first}", file=sys.stderr)
        return 2
