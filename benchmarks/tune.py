"""Hyperparameter sweep for the DQN-family agents on one env (how the shipped defaults were chosen).

    python benchmarks/tune.py --env CarbonCPN-v0 --timesteps 50000 --jobs 16 \
        --out benchmarks/results/tune_v0.csv

For every algorithm and every point of the grid (learning rate x discount factor, the rest of
the algorithm's shipped hyperparameters for ``--env`` unchanged; or the explicit ``--configs``)
and every training seed of ``--seeds`` it trains one agent with
``carbon_cpn.agents.train.train`` (no periodic evaluation), then
evaluates it greedily on the validation seeds (``--val-seeds``, disjoint from the test seeds
1000-1004 that the README and the leaderboard report on) and writes one CSV row: the settings,
training steps per second, and mean and std of the episode return and metrics. The random
policy on the same seeds is the first row. Runs go in parallel processes, one torch thread each.

Rainbow's C51 support is scaled with the horizon 1 / (1 - gamma) from the shipped one (which was
sized for the shipped gamma), so that it keeps covering the discounted returns.
"""

from __future__ import annotations

import argparse
import csv
import itertools
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any

import yaml

ALGOS = ("dqn", "double_dqn", "dueling_dqn", "rainbow")
METRICS = ("episode_return", "job_success_rate", "total_cost_usd", "emissions_tco2", "load_shed_mwh", "revenue_usd")


def _number_list(cast: Callable[[str], Any], what: str) -> Callable[[str], list[Any]]:
    """argparse type: ``"0,1,2"`` -> ``[cast("0"), cast("1"), cast("2")]`` (at least one)."""

    def parse(text: str) -> list[Any]:
        try:
            values = [cast(x) for x in text.split(",") if x.strip()]
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r}: expected comma-separated {what}s") from None
        if not values:
            raise argparse.ArgumentTypeError(f"{text!r}: expected at least one {what}")
        return values

    return parse


float_list = _number_list(float, "number")
int_list = _number_list(int, "integer")


def variant(algo: str, env_id: str, lr: float, gamma: float) -> dict[str, Any]:
    """The shipped hyperparameters of ``algo`` for ``env_id`` with ``lr`` and ``gamma`` set."""
    from carbon_cpn.agents.hyperparams import default_hyperparams_file

    table = yaml.safe_load(default_hyperparams_file(algo).read_text())
    if env_id not in table:
        raise ValueError(f"env_id={env_id!r}: no shipped hyperparameters for {algo!r} (have {sorted(table)})")
    hp = dict(table[env_id])
    if "v_min" in hp:
        scale = (1.0 - float(hp["gamma"])) / (1.0 - gamma)
        hp["v_min"], hp["v_max"] = float(hp["v_min"]) * scale, float(hp["v_max"]) * scale
    hp["learning_rate"], hp["gamma"] = lr, gamma
    return hp


def run_one(algo: str, env_id: str, hp: dict[str, Any], timesteps: int, seed: int, val_seeds: list[int],
            runs_dir: str) -> dict[str, Any]:
    """Train one variant, evaluate it; one CSV row."""
    import numpy as np

    from carbon_cpn.agents.evaluate import evaluate
    from carbon_cpn.agents.train import train

    tag = f"{algo}_lr{hp['learning_rate']:g}_g{hp['gamma']:g}_s{seed}"
    out = Path(runs_dir) / tag
    out.mkdir(parents=True, exist_ok=True)
    hp_file = out / "hyperparams.yml"
    hp_file.write_text(yaml.safe_dump({env_id: hp}, sort_keys=False))
    res = train(algo, env_id, timesteps=timesteps, seed=seed, hyperparams_file=hp_file, out_dir=out,
                progress_bar=False, eval_freq=0, checkpoint_freq=0)
    rows = []
    for s in val_seeds:
        rows.append(evaluate(res.model_path, env_id, episodes=1, seed=s))
    row: dict[str, Any] = {"algo": algo, "learning_rate": hp["learning_rate"], "gamma": hp["gamma"], "seed": seed,
                           "timesteps": timesteps, "train_steps_per_s": round(res.steps_per_s, 1)}
    for m in METRICS:
        vals = np.array([r[m]["mean"] for r in rows])
        row[f"{m}_mean"], row[f"{m}_std"] = float(vals.mean()), float(vals.std())
    return row


def random_row(env_id: str, val_seeds: list[int]) -> dict[str, Any]:
    import numpy as np

    from carbon_cpn.agents.evaluate import evaluate

    rows = [evaluate("random", env_id, episodes=1, seed=s) for s in val_seeds]
    row: dict[str, Any] = {"algo": "random", "learning_rate": "", "gamma": "", "seed": "", "timesteps": 0, "train_steps_per_s": ""}
    for m in METRICS:
        vals = np.array([r[m]["mean"] for r in rows])
        row[f"{m}_mean"], row[f"{m}_std"] = float(vals.mean()), float(vals.std())
    return row


def collect(futures: Iterable[Future], out: Path, label: Callable[[dict[str, Any]], str],
            order: Callable[[dict[str, Any]], Any]) -> list[dict[str, Any]]:
    """Rows of ``futures`` as they finish: a progress line each, and ``out`` (CSV, sorted by
    ``order``) rewritten after every one, so that an interrupted run keeps what it finished."""
    t0 = time.perf_counter()
    rows: list[dict[str, Any]] = []
    for fut in as_completed(futures):
        row = fut.result()
        rows.append(row)
        print(f"[{time.perf_counter() - t0:6.0f} s] {label(row)} {row['train_steps_per_s']!s:>7} steps/s  "
              f"return {row['episode_return_mean']:9.1f} ± {row['episode_return_std']:7.1f}  "
              f"success {row['job_success_rate_mean']:.3f}", flush=True)
        rows.sort(key=order)
        with out.open("w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=list(rows[0]))
            w.writeheader()
            w.writerows({k: (round(v, 4) if isinstance(v, float) else v) for k, v in r.items()} for r in rows)
    return rows


def algo_rank(algo: str) -> int:
    return -1 if algo == "random" else ALGOS.index(algo)


def summary(path: Path) -> str:
    """Per point of a sweep CSV (algorithm, learning rate, gamma, training steps): runs, mean over
    training seeds of the validation return and success rate."""
    with path.open() as f:
        rows = list(csv.DictReader(f))
    groups: dict[tuple[str, str, str, str], list[dict[str, str]]] = {}
    for r in rows:
        groups.setdefault((r["algo"], r["learning_rate"], r["gamma"], r["timesteps"]), []).append(r)
    lines = [f"{'algo':<12} {'lr':>8} {'gamma':>6} {'steps':>7} {'runs':>4} {'return':>9} {'success':>8}  seeds: return"]
    for (algo, lr, g, steps), group in sorted(groups.items(), key=lambda kv: (kv[0][0] != "random", kv[0][0],
                                                                             int(kv[0][3] or 0), kv[0][1], kv[0][2])):
        ret = [float(r["episode_return_mean"]) for r in group]
        ok = [float(r["job_success_rate_mean"]) for r in group]
        per_seed = ", ".join(f"{r['seed'] or '-'}: {float(r['episode_return_mean']):.0f}" for r in group)
        lines.append(f"{algo:<12} {lr:>8} {g:>6} {steps:>7} {len(group):>4} {sum(ret) / len(ret):9.0f} "
                     f"{sum(ok) / len(ok):8.3f}  {per_seed}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--env", default="CarbonCPN-v0")
    p.add_argument("--algos", default=",".join(ALGOS), help=f"comma-separated subset of {ALGOS}")
    p.add_argument("--learning-rates", type=float_list, default=[1e-4, 5e-4])
    p.add_argument("--gammas", type=float_list, default=[0.95, 0.99])
    p.add_argument("--timesteps", type=int, default=50_000)
    p.add_argument("--seeds", type=int_list, default=[0], help="training seeds (each point is trained once per seed)")
    p.add_argument("--configs", default="",
                   help="explicit points algo:learning_rate:gamma,... instead of the --algos x --learning-rates x --gammas grid")
    p.add_argument("--val-seeds", type=int_list, default=[2000, 2001, 2002, 2003, 2004])
    p.add_argument("--jobs", type=int, default=max(1, (os.cpu_count() or 1)))
    p.add_argument("--runs-dir", default=None, help="where the trained agents go (default: a temporary folder)")
    p.add_argument("--out", default="benchmarks/results/tune.csv")
    p.add_argument("--summary", metavar="CSV", default=None,
                   help="print the per-point means over training seeds of a sweep CSV and exit")
    args = p.parse_args(argv)
    if args.summary:
        if not Path(args.summary).is_file():
            p.error(f"--summary: {args.summary!r} is not a file")
        print(summary(Path(args.summary)))
        return 0

    algos = [a.strip() for a in args.algos.split(",") if a.strip()]
    for a in algos:
        if a not in ALGOS:
            p.error(f"--algos: {a!r} is not one of {ALGOS}")
    for g in args.gammas:
        if not 0.0 < g < 1.0:
            p.error(f"--gammas: {g!r} is not in (0, 1)")
    for lr in args.learning_rates:
        if lr <= 0:
            p.error(f"--learning-rates: {lr!r} is not > 0")
    if args.timesteps < 1 or args.jobs < 1 or not args.val_seeds:
        p.error(f"--timesteps={args.timesteps}, --jobs={args.jobs}, --val-seeds={args.val_seeds}: expected >= 1, >= 1, non-empty")

    runs_dir = args.runs_dir or tempfile.mkdtemp(prefix="carbon-cpn-tune-")
    points = list(itertools.product(algos, args.learning_rates, args.gammas))
    if args.configs:
        points = []
        for item in args.configs.split(","):
            parts = item.strip().split(":")
            try:
                a, lr, g = parts[0], float(parts[1]), float(parts[2])
            except (IndexError, ValueError):
                p.error(f"--configs: {item!r} is not algo:learning_rate:gamma")
            if a not in ALGOS or lr <= 0 or not 0.0 < g < 1.0:
                p.error(f"--configs: {item!r}: expected an algorithm of {ALGOS}, a learning rate > 0 and gamma in (0, 1)")
            points.append((a, lr, g))
    grid = [(a, variant(a, args.env, lr, g), seed) for a, lr, g in points for seed in args.seeds]
    print(f"{len(grid)} runs of {args.timesteps} steps on {args.env}, {args.jobs} at a time; agents in {runs_dir}", flush=True)
    t0 = time.perf_counter()
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        futures = [pool.submit(random_row, args.env, args.val_seeds)]
        futures += [pool.submit(run_one, a, args.env, hp, args.timesteps, seed, args.val_seeds, runs_dir)
                    for a, hp, seed in grid]
        collect(futures, out, lambda r: f"{r['algo']:<12} lr {r['learning_rate']!s:<8} gamma {r['gamma']!s:<5} seed {r['seed']!s:<3}",
                lambda r: (algo_rank(r["algo"]), str(r["learning_rate"]), str(r["gamma"]), str(r["seed"])))
    print(f"wrote {out} ({time.perf_counter() - t0:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
