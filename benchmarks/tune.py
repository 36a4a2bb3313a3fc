"""Hyperparameter search for the DQN-family agents and MaskablePPO on one env, with Optuna.

    python benchmarks/tune.py --env CarbonCPN-v0 --algo dqn --trials 24 --timesteps 50000 --jobs 2 \
        --out benchmarks/results/tune_v0_dqn.csv

Each trial takes the algorithm's shipped hyperparameters for ``--env`` and changes the sampled
ones (:func:`suggest`: learning rate, batch size, target update interval, training frequency,
exploration, network width, and the discount: ``gamma_per_hour`` where the shipped file
discounts by simulated time, else ``gamma``), trains one agent with
``carbon_cpn.agents.train.train`` (no periodic evaluation) and evaluates it greedily on the
validation seeds (``--val-seeds``, disjoint from the test seeds 1000-1009 that the README and
the leaderboard report on). The value Optuna minimizes is the mean episode objective J
(``objective_usd``, lower is better; carbon_cpn.optim.objective). The sampler is TPE seeded by
``--seed``; the first ``--startup`` trials are random.

The study lives in ``--storage`` (default: an Optuna journal file beside ``--out``), so that
a killed search resumes where it stopped, and several workers (machines sharing a file system,
or an RDB URL such as ``postgresql://...``) can run the same ``--study`` at once: each asks the
study for its next trials. ``--trials`` is the number of completed trials to reach; trials
left running by a killed search stay as they are (another worker may still be running them)
unless ``--fail-running`` marks them failed. Trials run ``--jobs`` at a time on ``--engine`` (local processes, one
torch thread each, or Ray tasks), and one CSV row per finished trial goes to ``--out``
(atomically rewritten). ``--summary CSV`` prints the best trials of such a file.

Rainbow's C51 support is scaled with the horizon 1 / (1 - discount) from the shipped one (which
was sized for the shipped discount), so that it keeps covering the discounted returns.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

from carbon_cpn.atomic_io import atomic_write_text
from carbon_cpn.engine import ENGINES, check_engine, run_unordered

ALGOS = ("dqn", "double_dqn", "dueling_dqn", "rainbow", "maskable_ppo")
METRICS = ("objective_usd", "episode_return", "job_success_rate", "emissions_tco2", "compute_value_usd")


def shipped(algo: str, env_id: str) -> dict[str, Any]:
    """The shipped hyperparameters of ``algo`` for ``env_id``."""
    from carbon_cpn.agents.hyperparams import default_hyperparams_file

    table = yaml.safe_load(default_hyperparams_file(algo).read_text())
    if env_id not in table:
        raise ValueError(f"env={env_id!r}: no shipped hyperparameters for {algo!r} (have {sorted(table)})")
    return dict(table[env_id])


def suggest(trial: Any, algo: str, base: dict[str, Any]) -> dict[str, Any]:
    """The search space: ``base`` with the sampled values set (Optuna's define-by-run API)."""
    hp = dict(base)
    hp["learning_rate"] = trial.suggest_float("learning_rate", 1e-5, 2e-3, log=True)
    hp["batch_size"] = trial.suggest_categorical("batch_size", [32, 64, 128, 256])
    width = trial.suggest_categorical("width", [64, 128, 256, 512])
    depth = trial.suggest_int("depth", 1, 3)
    hp["policy_kwargs"] = {**dict(base.get("policy_kwargs") or {}), "net_arch": [width] * depth}
    key = "gamma_per_hour" if "gamma_per_hour" in base else "gamma"
    lo, hi = (0.5, 0.99) if key == "gamma_per_hour" else (0.9, 0.999)
    old = float(base[key])
    hp[key] = trial.suggest_float(key, lo, hi)
    if algo == "maskable_ppo":
        hp["n_steps"] = trial.suggest_categorical("n_steps", [256, 512, 1024, 2048])
        hp["ent_coef"] = trial.suggest_float("ent_coef", 1e-4, 0.05, log=True)
        return hp
    hp["target_update_interval"] = trial.suggest_categorical("target_update_interval", [500, 1000, 2000, 5000])
    hp["train_freq"] = trial.suggest_categorical("train_freq", [1, 4, 8])
    if not hp.get("noisy", False):
        hp["exploration_fraction"] = trial.suggest_float("exploration_fraction", 0.05, 0.5)
    if "v_min" in hp:
        scale = (1.0 - old) / (1.0 - hp[key])
        hp["v_min"], hp["v_max"] = float(base["v_min"]) * scale, float(base["v_max"]) * scale
    return hp


def run_trial(task: tuple[str, str, dict[str, Any], int, int, int, list[int], str]) -> dict[str, Any]:
    """Train one trial's agent and evaluate it on the validation seeds; one CSV row (engine task)."""
    import numpy as np

    from carbon_cpn.agents.evaluate import evaluate
    from carbon_cpn.agents.train import train

    algo, env_id, hp, number, timesteps, seed, val_seeds, runs_dir = task
    out = Path(runs_dir) / f"trial-{number:04d}"
    out.mkdir(parents=True, exist_ok=True)
    hp_file = out / "hyperparams.yml"
    atomic_write_text(hp_file, yaml.safe_dump({env_id: hp}, sort_keys=False))
    res = train(algo, env_id, timesteps=timesteps, seed=seed, hyperparams_file=hp_file, out_dir=out,
                progress_bar=False, eval_freq=0, checkpoint_freq=0)
    results = [evaluate(res.model_path, env_id, episodes=1, seed=s) for s in val_seeds]
    row: dict[str, Any] = {"trial": number, "algo": algo, "seed": seed, "timesteps": timesteps,
                           "train_steps_per_s": round(res.steps_per_s, 1)}
    for m in METRICS:
        vals = np.array([r[m]["mean"] for r in results])
        row[f"{m}_mean"], row[f"{m}_std"] = float(vals.mean()), float(vals.std())
    return row


def open_study(name: str, storage: str, seed: int, startup: int) -> Any:
    """The study ``name`` in ``storage`` (a journal file path, or an RDB URL), created if new."""
    import optuna

    if "://" in storage:
        store: Any = storage
    else:
        from optuna.storages import JournalStorage
        from optuna.storages.journal import JournalFileBackend

        Path(storage).parent.mkdir(parents=True, exist_ok=True)
        store = JournalStorage(JournalFileBackend(storage))
    sampler = optuna.samplers.TPESampler(seed=seed, n_startup_trials=startup, constant_liar=True)
    return optuna.create_study(study_name=name, storage=store, sampler=sampler, direction="minimize",
                               load_if_exists=True)


def write_rows(rows: list[dict[str, Any]], out: Path) -> None:
    buf = io.StringIO()
    fields = list(dict.fromkeys(k for r in rows for k in r))
    w = csv.DictWriter(buf, fieldnames=fields)
    w.writeheader()
    w.writerows({k: (round(v, 6) if isinstance(v, float) else v) for k, v in r.items()} for r in rows)
    atomic_write_text(out, buf.getvalue())


def summary(path: Path, top: int = 5) -> str:
    """The ``top`` trials of a search CSV by mean validation objective, with their parameters."""
    with path.open() as f:
        rows = sorted(csv.DictReader(f), key=lambda r: float(r["objective_usd_mean"]))
    skip = {"algo", "seed", "timesteps", "train_steps_per_s"} | {f"{m}_{s}" for m in METRICS for s in ("mean", "std")}
    lines = [f"{len(rows)} trials in {path}; best {min(top, len(rows))} by mean validation objective (lower is better):"]
    for r in rows[:top]:
        params = ", ".join(f"{k}={r[k]}" for k in r if k not in skip and k != "trial")
        lines.append(f"  trial {r['trial']:>4}: objective {float(r['objective_usd_mean']):12,.0f} ± "
                     f"{float(r['objective_usd_std']):9,.0f}  success {float(r['job_success_rate_mean']):.3f}  {params}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--env", default="CarbonCPN-v0")
    p.add_argument("--algo", choices=ALGOS, default="dqn")
    p.add_argument("--trials", type=int, default=20, help="completed trials to reach (counting earlier runs)")
    p.add_argument("--startup", type=int, default=8, help="random trials before TPE takes over")
    p.add_argument("--timesteps", type=int, default=50_000)
    p.add_argument("--seed", type=int, default=0, help="training seed of every trial and the sampler's seed")
    p.add_argument("--val-seeds", default="2000,2001,2002,2003,2004", help="comma-separated validation seeds")
    p.add_argument("--jobs", type=int, default=max(1, os.cpu_count() or 1), help="trials at a time")
    p.add_argument("--engine", choices=ENGINES, default="local")
    p.add_argument("--ray-address", default=None, help="a Ray cluster to join (--engine ray)")
    p.add_argument("--study", default=None, help="study name (default: tune-<algo>-<env>)")
    p.add_argument("--storage", default=None,
                   help="Optuna storage: a journal file path or an RDB URL (default: <out>.journal)")
    p.add_argument("--runs-dir", default=None, help="where the trained agents go (default: a temporary folder)")
    p.add_argument("--out", default="benchmarks/results/tune.csv")
    p.add_argument("--fail-running", action="store_true",
                   help="mark the study's running trials failed first (a killed search's; only when no other worker runs it)")
    p.add_argument("--summary", metavar="CSV", default=None, help="print the best trials of a search CSV and exit")
    args = p.parse_args(argv)
    if args.summary:
        if not Path(args.summary).is_file():
            p.error(f"--summary: {args.summary!r} is not a file")
        print(summary(Path(args.summary)))
        return 0
    try:
        val_seeds = [int(s) for s in args.val_seeds.split(",") if s.strip()]
    except ValueError:
        p.error(f"--val-seeds={args.val_seeds!r}: expected comma-separated integers")
    for name in ("trials", "timesteps", "jobs"):
        if getattr(args, name) < 1:
            p.error(f"--{name}={getattr(args, name)}: expected an integer >= 1")
    if args.startup < 0 or not val_seeds:
        p.error(f"--startup={args.startup}, --val-seeds={args.val_seeds!r}: expected >= 0 and at least one seed")
    try:
        check_engine(args.engine, args.ray_address)
    except ValueError as exc:
        p.error(str(exc))
    try:
        base = shipped(args.algo, args.env)
    except ValueError as exc:
        p.error(str(exc))
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    out = Path(args.out)
    storage = args.storage or str(out.with_suffix(".journal"))
    study = open_study(args.study or f"tune-{args.algo}-{args.env}", storage, args.seed, args.startup)
    stale = [t for t in study.get_trials(deepcopy=False) if t.state == optuna.trial.TrialState.RUNNING]
    if stale and args.fail_running:
        for t in stale:  # left running by a killed search of this study
            study.tell(t.number, state=optuna.trial.TrialState.FAIL)
        print(f"marked {len(stale)} trials of a stopped search failed", flush=True)
    runs_dir = args.runs_dir or tempfile.mkdtemp(prefix="carbon-cpn-tune-")
    rows = []
    if out.is_file():
        with out.open() as f:
            rows = [dict(r) for r in csv.DictReader(f)]
    t0 = time.perf_counter()

    def complete() -> int:
        return sum(t.state == optuna.trial.TrialState.COMPLETE for t in study.get_trials(deepcopy=False))

    print(f"study {study.study_name!r} in {storage}: {complete()} of {args.trials} trials done; "
          f"{args.jobs} at a time on {args.engine}; agents in {runs_dir}", flush=True)
    while (left := args.trials - complete()) > 0:
        trials = [study.ask() for _ in range(min(args.jobs, left))]
        tasks = [(args.algo, args.env, suggest(t, args.algo, base), t.number, args.timesteps, args.seed, val_seeds,
                  runs_dir) for t in trials]
        for i, row in run_unordered(run_trial, tasks, engine=args.engine, jobs=args.jobs, address=args.ray_address):
            study.tell(trials[i], row["objective_usd_mean"])
            rows.append({**row, **trials[i].params})
            rows.sort(key=lambda r: int(r["trial"]))
            write_rows(rows, out)
            print(f"[{time.perf_counter() - t0:6.0f} s] trial {row['trial']:>3}: objective {row['objective_usd_mean']:12,.0f}"
                  f"  success {row['job_success_rate_mean']:.3f}  {trials[i].params}", flush=True)
    best = study.best_trial
    print(f"best trial {best.number}: objective {best.value:,.0f} with {best.params}")
    print(summary(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
