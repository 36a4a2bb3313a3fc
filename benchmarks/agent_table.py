"""Train every DQN-family agent with its shipped defaults and evaluate it against the random policy.

    python benchmarks/agent_table.py --env CarbonCPN-v0 --seeds 0,1,2 --jobs 12 \
        --out benchmarks/results/agents_v0

Each (algorithm, training seed) runs ``carbon_cpn.agents.train.train`` with the shipped
hyperparameters of ``--env`` (their ``n_timesteps`` unless ``--timesteps``), exactly what
``carbon-cpn train --algo A --env ENV --seed S`` does, then evaluates the final model greedily
on the test episodes (``--episodes`` from ``--eval-seed``, as ``carbon-cpn evaluate``). Writes
``OUT.csv`` (one row per run plus the random policy: training steps per second, and mean and std
over the test episodes of the return and the episode metrics) and ``OUT.md`` (per algorithm, the
mean and std over training seeds of those means). Runs go in parallel processes, one torch
thread each, so steps per second are per core.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
from tune import ALGOS, algo_rank, collect, int_list  # benchmarks/tune.py, next to this script

METRICS = ("episode_return", "job_success_rate", "total_cost_usd", "emissions_tco2", "load_shed_mwh",
           "revenue_usd", "mean_tardiness_s")


def _row(algo: str, seed: Any, steps_per_s: Any, timesteps: int, result: dict[str, dict[str, float]]) -> dict[str, Any]:
    row: dict[str, Any] = {"algo": algo, "seed": seed, "timesteps": timesteps, "train_steps_per_s": steps_per_s}
    for m in METRICS:
        row[f"{m}_mean"], row[f"{m}_std"] = result[m]["mean"], result[m]["std"]
    return row


def run_one(algo: str, env_id: str, seed: int, timesteps: int | None, episodes: int, eval_seed: int,
            runs_dir: str) -> dict[str, Any]:
    from carbon_cpn.agents.evaluate import evaluate
    from carbon_cpn.agents.train import train

    res = train(algo, env_id, timesteps=timesteps, seed=seed, out_dir=Path(runs_dir) / f"{algo}-{seed}",
                progress_bar=False)
    result = evaluate(res.model_path, env_id, episodes=episodes, seed=eval_seed)
    return _row(algo, seed, round(res.steps_per_s, 1), res.num_timesteps, result)


def random_row(env_id: str, episodes: int, eval_seed: int) -> dict[str, Any]:
    from carbon_cpn.agents.evaluate import evaluate

    return _row("random", "", "", 0, evaluate("random", env_id, episodes=episodes, seed=eval_seed))


def _fmt(x: float) -> str:
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:.3g}"


def markdown(rows: list[dict[str, Any]], env_id: str, episodes: int, eval_seed: int) -> str:
    """Per algorithm: mean ± std over training seeds of the per-run means."""
    cols = ("train_steps_per_s", *[f"{m}_mean" for m in METRICS])
    lines = [f"{env_id}: greedy evaluation on seeds {eval_seed}-{eval_seed + episodes - 1}; "
             "mean ± std over training seeds of each run's mean over those episodes", "",
             "| method | runs | steps | " + " | ".join(c.removesuffix("_mean") for c in cols) + " |",
             "|---" * (len(cols) + 3) + "|"]
    for algo in ("random", *ALGOS):
        group = [r for r in rows if r["algo"] == algo]
        if not group:
            continue
        cells = []
        for c in cols:
            vals = np.array([float(r[c]) for r in group if r[c] != ""])
            cells.append("" if vals.size == 0 else (_fmt(vals.mean()) if vals.size == 1 else f"{_fmt(vals.mean())} ± {_fmt(vals.std())}"))
        lines.append(f"| {algo} | {len(group)} | {group[0]['timesteps']} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--env", default="CarbonCPN-v0")
    p.add_argument("--algos", default=",".join(ALGOS), help=f"comma-separated subset of {ALGOS}")
    p.add_argument("--seeds", type=int_list, default=[0], help="training seeds")
    p.add_argument("--timesteps", type=int, default=None, help="default: the hyperparameter file's n_timesteps")
    p.add_argument("--episodes", type=int, default=5)
    p.add_argument("--eval-seed", type=int, default=1000)
    p.add_argument("--jobs", type=int, default=max(1, (os.cpu_count() or 1)))
    p.add_argument("--runs-dir", default=None, help="where the trained agents go (default: a temporary folder)")
    p.add_argument("--out", default="benchmarks/results/agents", help="writes OUT.csv and OUT.md")
    args = p.parse_args(argv)
    algos = [a.strip() for a in args.algos.split(",") if a.strip()]
    for a in algos:
        if a not in ALGOS:
            p.error(f"--algos: {a!r} is not one of {ALGOS}")
    if args.timesteps is not None and args.timesteps < 1:
        p.error(f"--timesteps={args.timesteps}: expected >= 1")
    if args.episodes < 1 or args.jobs < 1:
        p.error(f"--episodes={args.episodes}, --jobs={args.jobs}: expected >= 1")

    runs_dir = args.runs_dir or tempfile.mkdtemp(prefix="carbon-cpn-agents-")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        futures = [pool.submit(random_row, args.env, args.episodes, args.eval_seed)]
        futures += [pool.submit(run_one, a, args.env, s, args.timesteps, args.episodes, args.eval_seed, runs_dir)
                    for a in algos for s in args.seeds]
        rows = collect(futures, out.with_suffix(".csv"), lambda r: f"{r['algo']:<12} seed {r['seed']!s:<3}",
                       lambda r: (algo_rank(r["algo"]), str(r["seed"])))
    out.with_suffix(".md").write_text(markdown(rows, args.env, args.episodes, args.eval_seed))
    print(out.with_suffix(".md").read_text())
    print(f"wrote {out.with_suffix('.csv')} and {out.with_suffix('.md')} ({time.perf_counter() - t0:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
