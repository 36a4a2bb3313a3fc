"""``carbon-cpn leaderboard``: every baseline, the oracle and the trained models on held-out
seeds (``carbon_cpn.agents.leaderboard`` holds the protocol and writes the files)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from carbon_cpn.cli.arguments import name_list, positive_float, positive_int
from carbon_cpn.engine import ENGINES


def _cmd_leaderboard(args: argparse.Namespace) -> int:
    from carbon_cpn.agents.leaderboard import LeaderboardSettings, run_leaderboard

    settings = LeaderboardSettings.with_defaults(
        quick=args.quick, env_id=args.env, n_seeds=args.seeds, sweep_seeds=args.sweep_seeds,
        oracle_time_limit_s=args.oracle_time_limit, out=args.out, models_dir=args.models,
        jobs=args.jobs, fresh=args.fresh, engine=args.engine, ray_address=args.ray_address,
        **({} if args.methods is None else {"methods": args.methods}),
    )
    rows = run_leaderboard(settings)
    print((settings.out / "leaderboard.md").read_text())
    return 0 if all(r["invalid_actions"] == 0 for r in rows if not r["method"].startswith("model:")) else 1


def add_leaderboard_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``leaderboard`` on an ``argparse`` subparsers object; ``args.func(args)`` runs it."""
    p = subparsers.add_parser("leaderboard", help="evaluate baselines, the oracle and trained models on held-out seeds")
    p.add_argument("--quick", action="store_true",
                   help="a smoke run: CarbonCPN-Tiny-v0 (unless --env), 1 seed, a 30 s oracle, two sweep prices")
    p.add_argument("--seeds", type=positive_int, default=None,
                   help="evaluation seeds 1000..1000+N-1 (default 10; 1 with --quick)")
    p.add_argument("--sweep-seeds", type=positive_int, default=None,
                   help="seeds of the carbon-price sweep (default: all)")
    p.add_argument("--out", type=Path, default=Path("benchmarks/results"), help="output directory")
    p.add_argument("--env", default=None, help="env id (default CarbonCPN-v0; CarbonCPN-Tiny-v0 with --quick)")
    p.add_argument("--models", type=Path, default=Path("runs"), help="directory searched for trained SB3 .zip models")
    p.add_argument("--oracle-time-limit", type=positive_float, default=None,
                   help="oracle MILP time limit [s] (default 120; 30 quick)")
    p.add_argument("--methods", type=name_list, default=None,
                   help="comma-separated baselines to run (default: every baseline)")
    p.add_argument("--jobs", type=positive_int, default=1, help="episodes run in parallel processes (--engine local)")
    p.add_argument("--engine", choices=ENGINES, default="local",
                   help="where episodes run: local processes, or Ray tasks (pip install carbon-cpn[ray])")
    p.add_argument("--ray-address", default=None,
                   help="a Ray cluster to join (--engine ray; default: a local instance of this machine's CPUs)")
    p.add_argument("--fresh", action="store_true",
                   help="start over: ignore episodes an earlier run streamed to <out>/episodes.stream.jsonl "
                        "(default: resume, running only the episodes not there)")
    p.set_defaults(func=_cmd_leaderboard)
    return p
