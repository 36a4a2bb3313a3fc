"""Solve the day-ahead plans of every day of a scenario and pack them for shipping.

    python benchmarks/make_plans.py --scenario ieee30_5dc --jobs 2

Each day is solved as the scenario's ``[commitment]`` section says (the same code path as the
env's first reset of a day) and written to the disk cache, so an interrupted run resumes where
it stopped. When all 365 days are there (or with ``--partial``, the days solved so far), they
are packed into
``carbon_cpn/envs/data/plans/<scenario>_<hash>_s<seed>.npz`` (commitment, day-ahead LMP and MCI as float32,
objective, gap, status and solve time per day, and the ``days`` they belong to), which
``PlanCommitment`` reads first. The
summary printed at the end (status counts, gap and time quantiles) is what the README quotes.

``--first FILE`` solves the listed days first; running any job (tests, a leaderboard) with
``CARBON_CPN_PLAN_LOG=FILE`` makes ``PlanCommitment`` append every day it looks up to FILE.
"""

from __future__ import annotations

import argparse
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from carbon_cpn.envs.config import load_scenario
from carbon_cpn.envs.day_ahead import SHIPPED_PLANS_DIR, PlanCommitment, plan_hash

_FIELDS = ("commitment", "lmp", "mci", "objective_usd", "gap", "status", "solve_time_s")


def _solve(args: tuple[str, int, str]) -> tuple[int, float, str]:
    scenario, day, cache = args
    cfg = load_scenario(scenario)
    pc = PlanCommitment(cfg, cache_dir=cache, shipped_dir=None)
    t = time.perf_counter()
    d = pc._day(day)
    return day, time.perf_counter() - t, str(d.get("status", "?"))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scenario", default="ieee30_5dc")
    ap.add_argument("--days", type=int, nargs=2, default=(0, 364), metavar=("FIRST", "LAST"))
    ap.add_argument("--jobs", type=int, default=1, help="days solved in parallel")
    ap.add_argument("--cache", type=Path, default=None, help="cache folder (default: the env's)")
    ap.add_argument("--out", type=Path, default=SHIPPED_PLANS_DIR)
    ap.add_argument("--first", type=Path, default=None,
                    help="a file of day numbers (one per line) to solve before the others")
    ap.add_argument("--partial", action="store_true", help="pack the days solved so far even if not all 365")
    a = ap.parse_args(argv)
    cfg = load_scenario(a.scenario)
    if cfg.commitment.mode != "day_ahead":
        raise SystemExit(f"--scenario={a.scenario}: its commitment.mode is {cfg.commitment.mode!r}; expected 'day_ahead'")
    pc = PlanCommitment(cfg, cache_dir=a.cache, shipped_dir=None)
    days = [d for d in range(a.days[0], a.days[1] + 1) if not pc.path(d).exists()]
    if a.first is not None:
        first = [int(x) % 365 for x in a.first.read_text().split()]
        days = sorted(set(days) & set(first), key=first.index) + [d for d in days if d not in set(first)]
    print(f"{a.scenario} (hash {plan_hash(cfg)}): {len(days)} days to solve with {a.jobs} job(s)", flush=True)
    t0 = time.perf_counter()
    with ProcessPoolExecutor(a.jobs) as pool:
        for day, dt, status in pool.map(_solve, [(a.scenario, d, str(pc.cache_dir)) for d in days]):
            print(f"day {day:3d}  {dt:6.1f} s  {status}  ({time.perf_counter() - t0:.0f} s)", flush=True)
    done = [d for d in range(365) if pc.path(d).exists()]
    if len(done) < 365 and not a.partial:
        print(f"{len(done)} of 365 days solved; run again to finish, or pack these with --partial", flush=True)
        return 0
    per_day = [pc._day(d) for d in done]
    pack = {k: np.stack([np.asarray(p[k]) for p in per_day]) for k in _FIELDS}
    pack["days"] = np.array(done, dtype=np.int16)
    pack["lmp"] = pack["lmp"].astype(np.float32)
    pack["mci"] = pack["mci"].astype(np.float32)
    a.out.mkdir(parents=True, exist_ok=True)
    path = a.out / f"{cfg.name}_{plan_hash(cfg)}_s{cfg.commitment.seed}.npz"
    np.savez_compressed(path, **pack)
    st, counts = np.unique(pack["status"], return_counts=True)
    q = lambda x: " / ".join(f"{v:.3g}" for v in np.quantile(x, [0.5, 0.9, 1.0]))  # noqa: E731
    print(f"packed {path}: {len(done)} days ({path.stat().st_size / 1e6:.2f} MB)")
    print("status: " + ", ".join(f"{s} {c}" for s, c in zip(st, counts)))
    print(f"gap %  median / p90 / max: {q(100 * pack['gap'])}")
    print(f"solve s median / p90 / max: {q(pack['solve_time_s'])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
