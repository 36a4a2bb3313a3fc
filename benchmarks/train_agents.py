"""Train agent variants over several seeds, evaluate them on the leaderboard's seeds, draw
learning curves and keep the best model of each variant (resumable).

    python benchmarks/train_agents.py --env CarbonCPN-v0 --seeds 0,1,2 --timesteps 100000 --jobs 2 \
        --variants dqn,double_dqn,dueling_dqn,rainbow,maskable_ppo \
        --runs-dir runs/agents-v0 --out benchmarks/results/agents_v0 --models-out benchmarks/models

A variant is an algorithm of ``carbon-cpn train`` with its shipped hyperparameters for
``--env``, changed by the variant's settings:

* ``dqn``, ``double_dqn``, ``dueling_dqn``, ``rainbow``, ``maskable_ppo``: as shipped;
* ``rainbow-no_<component>``: Rainbow with one component off (``double``, ``dueling``,
  ``prioritized``, ``n_step`` (1-step returns), ``distributional``, ``noisy`` (then
  epsilon-greedy)), the ablation table of the Rainbow paper;
* ``<algo>-per_decision``: a DQN-family algorithm discounted per decision (``gamma``) instead
  of per simulated hour (``gamma_per_hour``), the semi-Markov comparison;
* ``<algo>-unmasked``: trained without action masks (``use_masking: false``);
* ``<algo>-guided_<baseline>``: a DQN-family algorithm whose exploratory actions are the
  baseline's with probability 0.8 (``guide``, ``guide_prob``; carbon_cpn.agents.guided).
* ``<algo>-dqfd_<baseline>``: DQN, Double DQN or Dueling DQN learning from the baseline's
  demonstrations, DQfD style (``demo``; carbon_cpn.agents.demonstrations).

``--set KEY=VALUE`` (repeatable, YAML values) changes every variant. Each (variant, seed) trains
exactly as ``carbon-cpn train --algo A --env ENV --seed S --hyperparams FILE`` would (the file
is written to ``<runs-dir>/<variant>.yml``), then the final model is evaluated greedily on
``--episodes`` episodes from ``--eval-seed`` (the leaderboard's seeds 1000, 1001, ...), as
``carbon-cpn evaluate`` does. A run whose ``eval.json`` exists is read back, a run with a
checkpoint resumes: start the same command again after a kill.

Writes ``OUT.csv`` (one row per run: the settings, training steps per second, mean and std of
every episode metric over the test episodes), ``OUT.md`` (per variant, mean ± std over seeds
of those means) and ``OUT_curves.png`` (greedy evaluation return and job success against
training steps from each run's ``evaluations.jsonl``: mean over seeds and the min-max band).
With ``--models-out`` the final model of each variant's best seed (lowest mean objective) is
copied to ``<models-out>/<variant>/`` with its ``run.json``, where ``carbon-cpn leaderboard
--models`` finds it.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from carbon_cpn.atomic_io import atomic_path, atomic_save_figure, atomic_write_text
from carbon_cpn.engine import ENGINES, check_engine, run_unordered

ALGOS = ("dqn", "double_dqn", "dueling_dqn", "rainbow", "maskable_ppo")
DQN_FAMILY = ("dqn", "double_dqn", "dueling_dqn", "rainbow")
RAINBOW_PARTS = {"double": {"double": False}, "dueling": {"dueling": False}, "prioritized": {"prioritized": False},
                 "n_step": {"n_step": 1}, "distributional": {"distributional": False}, "noisy": {"noisy": False}}
GUIDE_PROB = 0.8
#: Algorithms that learn from demonstrations (carbon_cpn.agents.demonstrations), and the
#: settings of their ``-dqfd_<baseline>`` variant besides ``demo``.
DEMO_FAMILY = ("dqn", "double_dqn", "dueling_dqn")
DQFD_SETTINGS: dict[str, Any] = {}
METRICS = ("objective_usd", "episode_return", "job_success_rate", "invalid_actions", "compute_value_usd",
           "generation_cost_usd", "emissions_tco2", "load_shed_mwh", "mean_tardiness_s")


def variant_settings(name: str) -> tuple[str, dict[str, Any]]:
    """``(algo, settings changed from the shipped file)`` of a variant name (module docstring)."""
    if name in ALGOS:
        return name, {}
    algo, _, mod = name.partition("-")
    if algo == "rainbow" and mod.startswith("no_") and mod[3:] in RAINBOW_PARTS:
        return algo, dict(RAINBOW_PARTS[mod[3:]])
    if algo in DQN_FAMILY and mod == "per_decision":
        return algo, {"gamma_per_hour": None}
    if algo in DQN_FAMILY and mod == "unmasked":
        return algo, {"use_masking": False}
    if algo in DQN_FAMILY and mod.startswith("guided_") and mod[7:]:
        return algo, {"guide": mod[7:], "guide_prob": GUIDE_PROB}
    if algo in DEMO_FAMILY and mod.startswith("dqfd_") and mod[5:]:
        return algo, {"demo": mod[5:], **DQFD_SETTINGS}
    raise ValueError(f"variant={name!r}: expected one of {ALGOS}, rainbow-no_<{'|'.join(RAINBOW_PARTS)}>, "
                     f"<{'|'.join(DQN_FAMILY)}>-per_decision, -unmasked, -guided_<baseline> "
                     f"or <{'|'.join(DEMO_FAMILY)}>-dqfd_<baseline>")


def write_hyperparams(variant: str, env_id: str, extra: dict[str, Any], runs_dir: Path) -> Path:
    """The shipped file of the variant's algorithm for ``env_id`` with the variant's and
    ``extra``'s settings, written to ``<runs_dir>/<variant>.yml``; a key set to None is removed."""
    from carbon_cpn.agents.hyperparams import default_hyperparams_file

    algo, changes = variant_settings(variant)
    shipped = yaml.safe_load(default_hyperparams_file(algo).read_text())
    if env_id not in shipped:
        raise ValueError(f"env={env_id!r}: {algo}.yml has no settings for it; expected one of {sorted(shipped)}")
    hp = dict(shipped[env_id])
    for k, v in {**changes, **extra}.items():
        if v is None:
            hp.pop(k, None)
        else:
            hp[k] = v
    path = runs_dir / f"{variant}.yml"
    atomic_write_text(path, yaml.safe_dump({env_id: hp}, sort_keys=False))
    return path


class Stopped(RuntimeError):
    """A run was interrupted (SIGINT/SIGTERM: it saved a checkpoint) or the driver is gone."""


def run_one(variant: str, env_id: str, seed: int, timesteps: int, episodes: int, eval_seed: int, runs_dir: str,
            hp_file: str, driver_pid: int | None = None) -> dict[str, Any]:
    """Train (or resume, or read back) one run and evaluate its final model. A worker whose
    driver has died starts nothing new, and an interrupted run raises :class:`Stopped` (its
    checkpoint stays for the next start) instead of going on to the evaluation."""
    from carbon_cpn.agents.evaluate import evaluate
    from carbon_cpn.agents.train import train

    if driver_pid is not None and os.getppid() != driver_pid:
        raise Stopped(f"{variant} seed {seed}: the driver (pid {driver_pid}) has stopped")

    algo, _ = variant_settings(variant)
    out = Path(runs_dir) / f"{variant}-{seed}"
    done = out / "eval.json"
    if done.is_file():
        return json.loads(done.read_text())
    model = out / "final_model.zip"
    steps_per_s: float | str = ""
    if not model.is_file():
        res = train(algo, env_id, timesteps=timesteps, seed=seed, hyperparams_file=hp_file, out_dir=out,
                    resume=(out / "checkpoint").is_dir(), progress_bar=False)
        if res.interrupted:
            raise Stopped(f"{variant} seed {seed}: interrupted at {res.num_timesteps} steps (checkpoint kept)")
        steps_per_s = round(res.steps_per_s, 1)
        model = Path(res.model_path)
    result = evaluate(str(model), env_id, episodes=episodes, seed=eval_seed)
    row: dict[str, Any] = {"variant": variant, "algo": algo, "seed": seed, "timesteps": timesteps,
                           "train_steps_per_s": steps_per_s, "model": str(model)}
    for m in METRICS:
        row[f"{m}_mean"], row[f"{m}_std"] = result[m]["mean"], result[m]["std"]
    atomic_write_text(done, json.dumps(row, indent=1))
    return row


def run_task(task: tuple[Any, ...]) -> dict[str, Any]:
    """One task of the engine: ``("random", env, episodes, eval_seed)`` or the arguments of
    :func:`run_one`."""
    return random_row(*task[1:]) if task[0] == "random" else run_one(*task)


def random_row(env_id: str, episodes: int, eval_seed: int) -> dict[str, Any]:
    from carbon_cpn.agents.evaluate import evaluate

    result = evaluate("random", env_id, episodes=episodes, seed=eval_seed)
    row: dict[str, Any] = {"variant": "random", "algo": "random", "seed": "", "timesteps": 0, "train_steps_per_s": "",
                           "model": ""}
    for m in METRICS:
        row[f"{m}_mean"], row[f"{m}_std"] = result[m]["mean"], result[m]["std"]
    return row


def _fmt(x: float) -> str:
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:.3g}"


def markdown(rows: list[dict[str, Any]], env_id: str, episodes: int, eval_seed: int, variants: list[str]) -> str:
    cols = ("train_steps_per_s", *[f"{m}_mean" for m in METRICS])
    lines = [f"{env_id}: greedy evaluation of each run's final model on seeds {eval_seed}-{eval_seed + episodes - 1} "
             "(the leaderboard's); mean ± std over training seeds of each run's mean over those episodes. "
             "objective_usd: the episode objective (lower is better); invalid_actions: masked actions per episode.", "",
             "| variant | runs | steps | " + " | ".join(c.removesuffix("_mean") for c in cols) + " |",
             "|---" * (len(cols) + 3) + "|"]
    for v in ("random", *variants):
        group = [r for r in rows if r["variant"] == v]
        if not group:
            continue
        cells = []
        for c in cols:
            vals = np.array([float(r[c]) for r in group if r[c] != ""])
            cells.append("" if vals.size == 0 else (_fmt(vals.mean()) if vals.size == 1 else
                                                     f"{_fmt(vals.mean())} ± {_fmt(vals.std())}"))
        lines.append(f"| {v} | {len(group)} | {group[0]['timesteps']} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def learning_curves(runs_dir: Path, variants: list[str], seeds: list[int], path: Path, title: str) -> None:
    """Greedy evaluation return and job success against training steps: mean over seeds and the
    min-max band, one line per variant."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for v in variants:
        curves = []
        for s in seeds:
            f = runs_dir / f"{v}-{s}" / "evaluations.jsonl"
            if f.is_file():
                pts = [json.loads(line) for line in f.read_text().splitlines() if line.strip()]
                curves.append({p["num_timesteps"]: (p["episode_return"]["mean"], p["job_success_rate"]["mean"])
                               for p in pts})
        if not curves:
            continue
        steps = sorted(set.intersection(*(set(c) for c in curves)))
        if not steps:
            continue
        for k, ax in enumerate(axes):
            y = np.array([[c[t][k] for t in steps] for c in curves])
            ax.plot(steps, y.mean(axis=0), marker="o", ms=3, label=f"{v} ({len(curves)} seeds)")
            ax.fill_between(steps, y.min(axis=0), y.max(axis=0), alpha=0.2)
    axes[0].set_title("greedy evaluation return")
    axes[1].set_title("job success rate")
    for ax in axes:
        ax.set_xlabel("training steps")
    axes[0].legend(fontsize=7)
    fig.suptitle(title)
    fig.tight_layout()
    atomic_save_figure(fig, path, dpi=110)
    plt.close(fig)


def save_for_inference(src: Path, dst: Path) -> None:
    """Save the model at ``src`` to ``dst`` (atomically) with an empty optimizer state: the
    optimizer's moments are as large as the network and only matter to go on training (from
    the run's own checkpoint); loading, predicting and evaluating are unchanged."""
    from carbon_cpn.agents.registry import load_algorithm

    model = load_algorithm(src, device="cpu")
    opt = model.policy.optimizer
    model.policy.optimizer = type(opt)([q for g in opt.param_groups for q in g["params"]], **opt.defaults)
    with atomic_path(dst) as tmp:
        model.save(tmp)


def keep_best(rows: list[dict[str, Any]], variants: list[str], models_out: Path) -> list[str]:
    """Copy the final model (and run.json) of each variant's best seed to ``models_out/<variant>/``."""
    kept = []
    for v in variants:
        group = [r for r in rows if r["variant"] == v]
        if not group:
            continue
        best = min(group, key=lambda r: float(r["objective_usd_mean"]))
        src = Path(best["model"])
        dst = models_out / v
        dst.mkdir(parents=True, exist_ok=True)
        save_for_inference(src, dst / "final_model.zip")
        if (src.parent / "run.json").is_file():
            run = json.loads((src.parent / "run.json").read_text())
            run["selected"] = {"seed": best["seed"], "by": "lowest mean objective on the evaluation seeds",
                               "objective_usd_mean": best["objective_usd_mean"]}
            atomic_write_text(dst / "run.json", json.dumps(run, indent=2, default=str))
        kept.append(f"{v}: seed {best['seed']}")
    return kept


def _parse_set(items: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in items:
        key, sep, val = item.partition("=")
        if not sep or not key:
            raise ValueError(f"--set {item!r}: expected KEY=VALUE")
        out[key.strip()] = yaml.safe_load(val)
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--env", default="CarbonCPN-v0")
    p.add_argument("--variants", default=",".join(ALGOS))
    p.add_argument("--seeds", default="0,1,2", help="training seeds, comma-separated")
    p.add_argument("--timesteps", type=int, default=100_000)
    p.add_argument("--episodes", type=int, default=10)
    p.add_argument("--eval-seed", type=int, default=1000)
    p.add_argument("--jobs", type=int, default=max(1, os.cpu_count() or 1), help="parallel runs (--engine local)")
    p.add_argument("--engine", choices=ENGINES, default="local",
                   help="where runs train: local processes or Ray tasks (--runs-dir must then be shared storage)")
    p.add_argument("--ray-address", default=None, help="a Ray cluster to join (--engine ray; default: a local instance)")
    p.add_argument("--runs-dir", default="runs/agents")
    p.add_argument("--out", default="benchmarks/results/agents")
    p.add_argument("--models-out", default=None)
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    args = p.parse_args(argv)
    try:
        variants = [v.strip() for v in args.variants.split(",") if v.strip()]
        for v in variants:
            variant_settings(v)
        seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
        extra = _parse_set(args.set)
    except ValueError as exc:
        p.error(str(exc))
    if args.timesteps < 1 or args.episodes < 1 or args.jobs < 1 or not seeds:
        p.error(f"--timesteps={args.timesteps}, --episodes={args.episodes}, --jobs={args.jobs}, --seeds={args.seeds}: "
                "expected positive numbers and at least one seed")
    try:
        check_engine(args.engine, args.ray_address)
    except ValueError as exc:
        p.error(str(exc))
    runs_dir = Path(args.runs_dir)
    hp_files = {v: str(write_hyperparams(v, args.env, extra, runs_dir)) for v in variants}
    out = Path(args.out)
    t0 = time.perf_counter()
    rows: list[dict[str, Any]] = []
    order = {v: i for i, v in enumerate(("random", *variants))}
    # A local worker whose driver has died starts nothing new (Ray cleans up its own tasks).
    driver = os.getpid() if args.engine == "local" and args.jobs > 1 else None
    tasks: list[tuple[Any, ...]] = [("random", args.env, args.episodes, args.eval_seed)]
    tasks += [(v, args.env, s, args.timesteps, args.episodes, args.eval_seed, str(runs_dir), hp_files[v], driver)
              for v in variants for s in seeds]
    for _, row in run_unordered(run_task, tasks, engine=args.engine, jobs=args.jobs, address=args.ray_address):
        rows.append(row)
        rows.sort(key=lambda r: (order[r["variant"]], str(r["seed"])))
        print(f"[{time.perf_counter() - t0:6.0f} s] {row['variant']:<24} seed {row['seed']!s:<3} objective "
              f"{row['objective_usd_mean']:12,.0f}  success {row['job_success_rate_mean']:.3f}  invalid "
              f"{row['invalid_actions_mean']:.1f}", flush=True)
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=list(rows[-1]))
        w.writeheader()
        w.writerows(rows)
        atomic_write_text(out.with_suffix(".csv"), buf.getvalue())
        atomic_write_text(out.with_suffix(".md"), markdown(rows, args.env, args.episodes, args.eval_seed, variants))
    learning_curves(runs_dir, variants, seeds, out.with_name(out.name + "_curves.png"),
                    f"{args.env}: greedy evaluation during training")
    if args.models_out:
        for line in keep_best(rows, variants, Path(args.models_out)):
            print(f"kept {line}")
    print(out.with_suffix(".md").read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
