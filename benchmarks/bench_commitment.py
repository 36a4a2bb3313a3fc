"""Day-ahead unit commitment timings: Benders vs the extensive form, and parallel subproblems.

    python benchmarks/bench_commitment.py [--counts 10 50 100] [--time-limit 300]

The default system of CarbonCPN-v0 (case30, 5 farms, 4 batteries, 30 % Pmin), day 180,
24 hourly periods, relative gap 1e-3. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import time

from carbon_cpn.envs.config import load_scenario
from carbon_cpn.envs.day_ahead import UC_OVERRIDES, uc_inputs
from carbon_cpn.envs.grid_system import build_grid
from carbon_cpn.optim.commitment import solve_suc


def bench_commitment(counts: tuple[int, ...] = (10, 50, 100), time_limit_s: float = 300.0, day: int = 180) -> None:
    cfg = load_scenario("ieee30_5dc", **UC_OVERRIDES)
    grid = build_grid(cfg.grid, cfg.commitment)
    print(f"\n### Day-ahead stochastic UC, {cfg.name} with UC settings, day {day}, gap 1e-3, "
          f"time limit {time_limit_s:.0f} s per solve\n")
    print("| scenarios | method | workers | time s | iterations | objective $ | gap % | status |")
    print("|---:|---|---:|---:|---:|---:|---:|---|")
    for n in counts:
        system, sc = uc_inputs(cfg, grid, day, n, seed=0)
        rows = []
        for method, workers in (("benders", 1), ("benders", 2), ("extensive", 1)):
            t0 = time.perf_counter()
            plan = solve_suc(system, sc, method, gap=1e-3, workers=workers, time_limit_s=time_limit_s)
            wall = time.perf_counter() - t0
            rows.append((method, workers, wall, plan))
            print(f"| {n} | {method} | {workers} | {wall:.1f} | {plan.iterations} | {plan.objective_usd:,.0f} | "
                  f"{100 * plan.gap:.3f} | {plan.status} |", flush=True)
        print(f"| {n} | speed-up of workers=2 | | {rows[0][2] / rows[1][2]:.2f}x | | | | |", flush=True)


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--counts", type=int, nargs="+", default=[10, 50, 100])
    p.add_argument("--time-limit", type=float, default=300.0)
    a = p.parse_args()
    bench_commitment(tuple(a.counts), a.time_limit)
