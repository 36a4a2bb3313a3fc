"""Day-ahead unit commitment timings: Benders vs the extensive form, and the Benders
subproblems on parallel workers of each execution engine.

    python benchmarks/bench_commitment.py [--counts 10 50 100] [--time-limit 300] [--workers 2] \
        [--engines local,ray] [--out benchmarks/results/bench_commitment.md]

The default system of CarbonCPN-v0 (case30, 5 farms, 4 batteries, 30 % Pmin), day 180,
24 hourly periods, relative gap 1e-3, analog-day scenarios (the forecast rule draws at most 60). For each scenario count: Benders with one worker (the
subproblems in this process), Benders with ``--workers`` workers on each engine of
``--engines`` (``local``: one process per worker; ``ray``: one Ray actor per worker on a local
instance, started once before the first timed solve so that its start-up is not counted), and
the extensive form (``--no-extensive`` leaves it out). Prints a Markdown table and rewrites ``--out`` after every row.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from carbon_cpn.atomic_io import atomic_write_text
from carbon_cpn.envs.config import load_scenario
from carbon_cpn.envs.day_ahead import UC_OVERRIDES, uc_inputs
from carbon_cpn.envs.grid_system import build_grid
from carbon_cpn.optim.commitment import solve_suc


def bench_commitment(counts: tuple[int, ...] = (10, 50, 100), time_limit_s: float = 300.0, day: int = 180,
                     workers: int = 2, engines: tuple[str, ...] = ("local",), out: Path | None = None,
                     extensive: bool = True) -> None:
    cfg = load_scenario("ieee30_5dc", **UC_OVERRIDES, commitment__scenarios="analog")
    grid = build_grid(cfg.grid, cfg.commitment)
    lines = [f"### Day-ahead stochastic UC, {cfg.name} with UC settings, day {day}, gap 1e-3, "
             f"analog-day scenarios, time limit {time_limit_s:.0f} s per solve", "",
             "| scenarios | method | engine | workers | time s | iterations | objective $ | gap % | status |",
             "|---:|---|---|---:|---:|---:|---:|---:|---|"]

    def emit(line: str) -> None:
        lines.append(line)
        print(line, flush=True)
        if out is not None:
            atomic_write_text(out, "\n".join(lines) + "\n")

    print("\n".join(lines), flush=True)
    if "ray" in engines:
        import ray

        ray.init(include_dashboard=False, log_to_driver=False, _node_ip_address="127.0.0.1")
    runs = [("benders", "local", 1)] + [("benders", e, workers) for e in engines]
    runs += [("extensive", "local", 1)] if extensive else []
    for n in counts:
        system, sc = uc_inputs(cfg, grid, day, n, seed=0)
        walls = {}
        for method, engine, w in runs:
            t0 = time.perf_counter()
            plan = solve_suc(system, sc, method, gap=1e-3, workers=w, engine=engine, time_limit_s=time_limit_s)
            wall = time.perf_counter() - t0
            walls[(method, engine, w)] = wall
            emit(f"| {n} | {method} | {engine if w > 1 else '-'} | {w} | {wall:.1f} | {plan.iterations} | "
                 f"{plan.objective_usd:,.0f} | {100 * plan.gap:.3f} | {plan.status} |")
        for e in engines:
            emit(f"| {n} | speed-up of {workers} workers ({e}) | | | {walls[('benders', 'local', 1)] / walls[('benders', e, workers)]:.2f}x"
                 f" | | | | |")


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--counts", type=int, nargs="+", default=[10, 50, 100])
    p.add_argument("--time-limit", type=float, default=300.0)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--engines", default="local", help="comma-separated engines for the parallel rows: local, ray")
    p.add_argument("--out", type=Path, default=None, help="also write the table to this Markdown file")
    p.add_argument("--no-extensive", action="store_true", help="time Benders only")
    a = p.parse_args()
    engines = tuple(e.strip() for e in a.engines.split(",") if e.strip())
    if a.workers < 2 or not set(engines) <= {"local", "ray"} or any(c < 1 for c in a.counts):
        p.error(f"--workers={a.workers}, --engines={a.engines!r}, --counts={a.counts}: expected >= 2, "
                "engines from local,ray, counts >= 1")
    bench_commitment(tuple(a.counts), a.time_limit, workers=a.workers, engines=engines, out=a.out,
                     extensive=not a.no_extensive)
