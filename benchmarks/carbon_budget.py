"""The Lyapunov carbon budget at work (eq. 14 of "A Novel Hierarchical Co-Optimization Framework
for Coordinated Task Scheduling and Power Dispatch in Computing Power Networks", Luo, Yang,
Huang, Dustdar; tsco): agents trained with the virtual carbon queue for budgets below the
unconstrained agent's emissions (resumable).

    python benchmarks/carbon_budget.py --env CarbonCPN-v0 --algo dqn \
        --base runs/agents-v0/dqn-0/final_model.zip --fractions 0.9,0.8 --v 0.1,0.5,2 \
        --seeds 0 --timesteps 100000 --jobs 2 --runs-dir runs/budget-v0 \
        --out benchmarks/results/carbon_budget_v0

1. The unconstrained agent (``--base``, trained without the queue) is evaluated greedily on
   ``--episodes`` episodes from ``--eval-seed``: its mean CPN emissions per episode E0
   (``episode_metrics["cpn_emissions_tco2"]``, the CPN's energy times the marginal intensity at
   its nodes, the quantity the queue counts).
2. For every fraction f and weight V: ``carbon-cpn train --algo ALGO --carbon-budget f x E0
   --lyapunov-v V`` (the shipped hyperparameters, or ``--hyperparams FILE``: give the base
   agent's file, e.g. one that learns from demonstrations; the same steps as the base), then a greedy
   evaluation on the same episodes behind the same wrapper, and the queue Q [t CO2] at the end of
   every interval of the first of them.
3. The unshaped agent against each budget: its emissions on the same episodes.

Writes ``OUT.csv`` (one row per run and the base: emissions, budget, emissions / budget,
objective, job success), ``OUT.md`` (per fraction and V, mean ± std over seeds) and ``OUT.png``
(objective against emissions, a trade-off like tsco Fig. 4, and the queue's trajectories).
4. With ``--confirm-seed S``: every agent again on ``--episodes`` episodes from S, behind the
   budget and V it was trained with (``OUT_confirm.md/.csv``): when V was chosen by looking at
   the first table, these days are the ones it was not chosen on. ``--confirm-episodes N``
   gives this run its own number of days (``OUT_confirmN.*``): a long-term queue needs more
   days than the budget was chosen on to settle, and its trajectory is drawn through all N.
A run whose ``eval.json`` exists is read back; start the same command again after a kill.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import multiprocessing
import os
import sys
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any

import numpy as np

from carbon_cpn.atomic_io import atomic_save_figure, atomic_write_text
from carbon_cpn.envs.wrappers import CARBON_QUEUES


def _float_list(text: str) -> list[float]:
    vals = [float(x) for x in text.split(",") if x.strip()]
    if not vals:
        raise argparse.ArgumentTypeError(f"{text!r}: expected comma-separated numbers")
    return vals


def exit_with_driver(driver_pid: int, poll_s: float = 2.0) -> None:
    """Pool initializer: a daemon thread ends this worker (``os._exit(1)``) as soon as its parent
    is no longer ``driver_pid``. A worker of a killed driver would otherwise run its task (a
    training run or a 90-day evaluation) to the end, unseen, on the cores the next run needs."""
    import threading
    import time

    def watch() -> None:
        while os.getppid() == driver_pid:
            time.sleep(poll_s)
        os._exit(1)

    threading.Thread(target=watch, name="exit-with-driver", daemon=True).start()


def queue_trajectory(model_path: str, env_id: str, seed: int, budget: float, v: float,
                     carbon_queue: str = "episode", episodes: int = 1) -> list[float]:
    """Q [t CO2] at the end of every grid interval of greedy episodes behind the wrapper (a
    step that runs several intervals reports Q after the last; the earlier ones repeat it): the
    first episode for a per-episode queue, all ``episodes`` one after the other for a long-term
    one (the evaluation's own run of the queue)."""
    from carbon_cpn.agents.evaluate import make_env, model_policy
    from carbon_cpn.agents.registry import load_algorithm

    model = load_algorithm(Path(model_path), device="cpu")
    env = make_env(env_id, v, budget, carbon_queue)
    act = model_policy(model)
    q: list[float] = []
    for i in range(episodes if carbon_queue == "long_term" else 1):
        obs, _ = env.reset(seed=seed + i)
        done = False
        while not done:
            obs, _, term, trunc, info = env.step(act(obs, env))
            done = term or trunc
            q.extend([float(info["carbon_queue_tco2"])] * len(info.get("intervals", [])))
    env.close()
    return q


def evaluate_row(name: str, model_path: str, env_id: str, episodes: int, eval_seed: int, budget: float | None,
                 v: float | None, fraction: float | None, seed: int | str,
                 carbon_queue: str = "episode") -> dict[str, Any]:
    from carbon_cpn.agents.evaluate import evaluate

    shaped = v is not None and v != ""
    res = evaluate(model_path, env_id, episodes=episodes, seed=eval_seed, lyapunov_v=v if shaped else None,
                   carbon_budget=budget if shaped else None, carbon_queue=carbon_queue if shaped else None)
    row: dict[str, Any] = {"name": name, "fraction": fraction if fraction is not None else "", "v": v if v is not None else "",
                           "seed": seed, "budget_tco2": budget if budget is not None else "", "model": model_path}
    for k in ("cpn_emissions_tco2", "objective_usd", "job_success_rate", "emissions_tco2", "compute_value_usd",
              "cpn_energy_mwh"):
        row[f"{k}_mean"], row[f"{k}_std"] = res[k]["mean"], res[k]["std"]
    return row


def run_one(algo: str, env_id: str, fraction: float, v: float, budget: float, seed: int, timesteps: int | None,
            episodes: int, eval_seed: int, runs_dir: str, driver_pid: int | None = None,
            hyperparams: str | None = None, carbon_queue: str = "episode") -> dict[str, Any]:
    """Train (or resume, or read back) one shaped run and evaluate it; a worker whose driver has
    died starts nothing new, an interrupted run (checkpoint kept) raises instead of evaluating."""
    from carbon_cpn.agents.train import train

    if driver_pid is not None and os.getppid() != driver_pid:
        raise RuntimeError(f"f={fraction:g} V={v:g} seed {seed}: the driver (pid {driver_pid}) has stopped")

    out = Path(runs_dir) / f"{algo}-f{fraction:g}-v{v:g}-{seed}"
    done = out / "eval.json"
    if done.is_file():
        return json.loads(done.read_text())
    model = out / "final_model.zip"
    if not model.is_file():
        res = train(algo, env_id, timesteps=timesteps, seed=seed, out_dir=out, lyapunov_v=v, carbon_budget=budget,
                    hyperparams_file=hyperparams, carbon_queue=carbon_queue,
                    resume=(out / "checkpoint").is_dir(), progress_bar=False)
        if res.interrupted:
            raise RuntimeError(f"f={fraction:g} V={v:g} seed {seed}: interrupted at {res.num_timesteps} steps "
                               "(checkpoint kept; run again to resume)")
        model = Path(res.model_path)
    row = evaluate_row("lyapunov", str(model), env_id, episodes, eval_seed, budget, v, fraction, seed, carbon_queue)
    row["queue_tco2"] = queue_trajectory(str(model), env_id, eval_seed, budget, v, carbon_queue, episodes)
    atomic_write_text(done, json.dumps(row))
    return row


def markdown(rows: list[dict[str, Any]], e0: float, env_id: str, episodes: int, eval_seed: int,
             budget_seed: int | None = None, carbon_queue: str = "episode", budget_episodes: int | None = None) -> str:
    """The table of ``rows``; ``budget_seed``: the first seed of the episodes E0 was measured on,
    when not ``eval_seed`` (the confirmation on held-out days), and ``budget_episodes`` their
    number (default ``episodes``)."""
    n_budget = episodes if budget_episodes is None else budget_episodes
    e0_on = "" if budget_seed in (None, eval_seed) else \
        f" on seeds {budget_seed}-{budget_seed + n_budget - 1} (the budgets the agents were trained with)"
    lines = [f"{env_id}: greedy evaluation on seeds {eval_seed}-{eval_seed + episodes - 1}. E0 = {e0:.1f} t CO2 per "
             f"episode, the unconstrained agent's mean CPN emissions{e0_on}; budget = fraction x E0. Mean ± std over "
             "training seeds of each run's mean over the episodes. "
             + ("The queue is long-term: it carries over from one episode (day) to the next, in training and in "
                "this evaluation (one run of the queue through the days, starting empty), so the budget bounds the "
                "mean over days (tsco eq. 10)." if carbon_queue == "long_term" else
                "The queue starts empty every episode: each day is held to the budget on its own."), "",
             "| agent | fraction | V | runs | budget t | CPN emissions t | emissions / budget | objective $ | "
             "job success |", "|---|---|---|---|---|---|---|---|---|"]
    groups: dict[tuple[Any, Any, Any], list[dict[str, Any]]] = {}
    for r in rows:
        groups.setdefault((r["name"], r["fraction"], r["v"]), []).append(r)

    def ms(vals: list[float], fmt: str) -> str:
        a = np.array(vals, dtype=float)
        return format(a.mean(), fmt) if a.size == 1 else f"{format(a.mean(), fmt)} ± {format(a.std(), fmt)}"

    for (name, f, v), g in sorted(groups.items(), key=lambda kv: (kv[0][0] != "unconstrained", str(kv[0][1]), str(kv[0][2]))):
        if name == "unconstrained":
            for frac in sorted({r["fraction"] for r in rows if r["name"] == "lyapunov"}, reverse=True):
                b = frac * e0
                lines.append(f"| unconstrained | {frac:g} | - | {len(g)} | {b:.1f} | "
                             f"{ms([r['cpn_emissions_tco2_mean'] for r in g], '.1f')} | "
                             f"{ms([r['cpn_emissions_tco2_mean'] / b for r in g], '.3f')} | "
                             f"{ms([r['objective_usd_mean'] for r in g], ',.0f')} | "
                             f"{ms([r['job_success_rate_mean'] for r in g], '.3f')} |")
            continue
        b = float(g[0]["budget_tco2"])
        lines.append(f"| lyapunov | {f:g} | {v:g} | {len(g)} | {b:.1f} | {ms([r['cpn_emissions_tco2_mean'] for r in g], '.1f')} | "
                     f"{ms([r['cpn_emissions_tco2_mean'] / b for r in g], '.3f')} | "
                     f"{ms([r['objective_usd_mean'] for r in g], ',.0f')} | {ms([r['job_success_rate_mean'] for r in g], '.3f')} |")
    return "\n".join(lines) + "\n"


def confirm_row(name: str, model_path: str, env_id: str, episodes: int, eval_seed: int, budget: float | None,
                v: float | None, fraction: float | None, seed: int | str,
                carbon_queue: str = "episode") -> dict[str, Any]:
    """:func:`evaluate_row`, with the queue's run through all the days for a long-term queue."""
    row = evaluate_row(name, model_path, env_id, episodes, eval_seed, budget, v, fraction, seed, carbon_queue)
    if name == "lyapunov" and carbon_queue == "long_term":
        row["queue_tco2"] = queue_trajectory(model_path, env_id, eval_seed, float(budget), float(v),  # type: ignore[arg-type]
                                             carbon_queue, episodes)
    return row


def confirm(rows: list[dict[str, Any]], env_id: str, episodes: int, seed: int, jobs: int,
            carbon_queue: str = "episode") -> list[dict[str, Any]]:
    """Every row's agent evaluated again on ``episodes`` episodes from ``seed``, behind the same
    queue (budget and V) it was trained with: held-out days for a V chosen on the first table.
    With a long-term queue, the shaped rows carry the queue's run through those days."""
    def task(r: dict[str, Any]) -> tuple[Any, ...]:
        shaped = r["name"] == "lyapunov"
        return (r["name"], r["model"], env_id, episodes, seed, r["budget_tco2"] if shaped else None,
                r["v"] if shaped else None, r["fraction"] if shaped else None, r["seed"], carbon_queue)

    # spawned, not forked: the driver has run torch and matplotlib by now, and a child forked
    # from a process with threads can hang on a lock it inherited held
    with ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("spawn"),
                             initializer=exit_with_driver, initargs=(os.getpid(),)) as pool:
        return list(pool.map(confirm_row, *zip(*[task(r) for r in rows])))


def row_order(r: dict[str, Any]) -> tuple[Any, ...]:
    """The base first, then by fraction, V and training seed (the order runs finish in varies)."""
    def num(x: Any) -> float:
        return -1.0 if x in ("", None) else float(x)

    seed = str(r["seed"])
    return (r["name"] != "unconstrained", num(r["fraction"]), num(r["v"]), int(seed) if seed.isdigit() else -1, seed)


def confirm_path(out: Path, episodes: int, confirm_episodes: int) -> Path:
    """``OUT_confirm``, or ``OUT_confirmN`` when the held-out run has its own length N."""
    return out.with_name(out.name + ("_confirm" if confirm_episodes == episodes else f"_confirm{confirm_episodes}"))


def write_tables(rows: list[dict[str, Any]], out: Path, e0: float, env_id: str, episodes: int, eval_seed: int,
                 budget_seed: int | None = None, carbon_queue: str = "episode",
                 budget_episodes: int | None = None) -> None:
    """``out``.csv (every row but the queue trajectories) and ``out``.md, written atomically."""
    rows = sorted(rows, key=row_order)
    keys = [k for k in rows[0] if k != "queue_tco2"]
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=keys, extrasaction="ignore")
    w.writeheader()
    w.writerows(rows)
    atomic_write_text(out.with_suffix(".csv"), buf.getvalue())
    atomic_write_text(out.with_suffix(".md"), markdown(rows, e0, env_id, episodes, eval_seed, budget_seed, carbon_queue,
                                                              budget_episodes))


def plot(rows: list[dict[str, Any]], path: Path, title: str, carbon_queue: str = "episode",
         episodes: int = 1) -> None:
    """Objective against emissions (each training seed a small dot, each (fraction, V) the mean
    ± std over its seeds) and the queue's trajectories (against the day, for a long-term queue
    through ``episodes`` days)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    groups: dict[str, list[dict[str, Any]]] = {}
    order = sorted(rows, key=row_order)
    for r in order:
        label = "unconstrained" if r["name"] == "unconstrained" else f"f={r['fraction']:g}, V={r['v']:g}"
        groups.setdefault(label, []).append(r)
    for i, (label, g) in enumerate(groups.items()):
        colour = f"C{i % 10}"
        e = np.array([r["cpn_emissions_tco2_mean"] for r in g], dtype=float)
        o = np.array([r["objective_usd_mean"] for r in g], dtype=float)
        if len(g) > 1:
            axes[0].scatter(e, o, s=10, color=colour, alpha=0.5)
        axes[0].errorbar(e.mean(), o.mean(), xerr=e.std(), yerr=o.std(), color=colour, capsize=3,
                         marker="s" if label == "unconstrained" else "o", markersize=7,
                         label=label if len(g) == 1 else f"{label} ({len(g)} seeds)")
        for j, r in enumerate(g):
            q = r.get("queue_tco2")
            if q and r["name"] != "unconstrained":
                x = np.arange(1, len(q) + 1, dtype=float)
                if carbon_queue == "long_term":
                    x *= episodes / len(q)
                axes[1].plot(x, q, color=colour, linewidth=0.8, label=label if j == 0 else None)
    axes[0].set_xlabel("CPN emissions [t CO2 / episode]")
    axes[0].set_ylabel("objective [$] (lower is better)")
    axes[0].set_title("cost of meeting the budget (mean ± std over seeds)")
    axes[1].set_xlabel("day" if carbon_queue == "long_term" else "grid interval")
    axes[1].set_ylabel("virtual queue Q [t CO2]")
    axes[1].set_title("queue through the evaluation days" if carbon_queue == "long_term"
                      else "queue, first evaluation episode")
    for ax in axes:
        ax.legend(fontsize=7)
    fig.suptitle(title)
    fig.tight_layout()
    atomic_save_figure(fig, path, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--env", default="CarbonCPN-v0")
    p.add_argument("--algo", default="dqn")
    p.add_argument("--base", required=True, help="final_model.zip of the agent trained without the queue")
    p.add_argument("--fractions", type=_float_list, default=[0.9, 0.8])
    p.add_argument("--v", type=_float_list, default=[0.1, 0.5, 2.0])
    p.add_argument("--seeds", default="0")
    p.add_argument("--timesteps", type=int, default=None, help="default: the hyperparameter file's n_timesteps")
    p.add_argument("--hyperparams", default=None,
                   help="YAML of the shaped runs (default: the shipped file of --algo); use the base agent's file")
    p.add_argument("--episodes", type=int, default=10)
    p.add_argument("--eval-seed", type=int, default=1000)
    p.add_argument("--jobs", type=int, default=max(1, os.cpu_count() or 1))
    p.add_argument("--confirm-seed", type=int, default=None,
                   help="also evaluate every agent on --episodes episodes from this seed with the budgets and V it "
                        "was trained with (held-out days for a V chosen on the first table): OUT_confirm.md/.csv")
    p.add_argument("--confirm-episodes", type=int, default=None,
                   help="episodes of the held-out evaluation (default: --episodes); a long-term queue runs through "
                        "them all, so a longer run shows where the mean over days settles: OUT_confirmN.md/.csv/.png")
    p.add_argument("--carbon-queue", choices=CARBON_QUEUES, default="episode",
                   help="episode: the queue starts empty every episode (a per-day budget); long_term: it carries over "
                        "from day to day in training and in the evaluation, which runs the days one after the other "
                        "(the budget bounds the mean over days, tsco eq. 10)")
    p.add_argument("--runs-dir", default="runs/budget")
    p.add_argument("--out", default="benchmarks/results/carbon_budget")
    args = p.parse_args(argv)
    if not Path(args.base).is_file():
        p.error(f"--base {args.base!r}: expected a final_model.zip of carbon-cpn train")
    if any(not 0 < f <= 1 for f in args.fractions) or any(v < 0 for v in args.v):
        p.error(f"--fractions {args.fractions} in (0, 1] and --v {args.v} >= 0 expected")
    if args.episodes < 1:
        p.error(f"--episodes {args.episodes}: expected at least 1")
    confirm_episodes = args.episodes if args.confirm_episodes is None else args.confirm_episodes
    if confirm_episodes < 1:
        p.error(f"--confirm-episodes {args.confirm_episodes}: expected at least 1")
    if args.confirm_episodes is not None and args.confirm_seed is None:
        p.error("--confirm-episodes needs --confirm-seed (the first seed of the held-out episodes)")
    seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    out = Path(args.out)
    base_file = Path(args.runs_dir) / "base_eval.json"
    if base_file.is_file():
        base = json.loads(base_file.read_text())
    else:
        base = evaluate_row("unconstrained", args.base, args.env, args.episodes, args.eval_seed, None, None, None, "base")
        atomic_write_text(base_file, json.dumps(base))
    e0 = float(base["cpn_emissions_tco2_mean"])
    print(f"unconstrained agent: E0 = {e0:.1f} t CO2 per episode, objective ${base['objective_usd_mean']:,.0f}", flush=True)
    rows: list[dict[str, Any]] = [base]
    with ProcessPoolExecutor(max_workers=args.jobs, initializer=exit_with_driver, initargs=(os.getpid(),)) as pool:
        futures = [pool.submit(run_one, args.algo, args.env, f, v, f * e0, s, args.timesteps, args.episodes,
                               args.eval_seed, args.runs_dir, os.getpid(), args.hyperparams, args.carbon_queue)
                   for f in args.fractions for v in args.v
                   for s in seeds]
        for fut in as_completed(futures):
            r = fut.result()
            rows.append(r)
            print(f"f={r['fraction']:g} V={r['v']:g} seed {r['seed']}: emissions {r['cpn_emissions_tco2_mean']:.1f} t "
                  f"(budget {r['budget_tco2']:.1f}), objective ${r['objective_usd_mean']:,.0f}, success "
                  f"{r['job_success_rate_mean']:.3f}", flush=True)
            write_tables(rows, out, e0, args.env, args.episodes, args.eval_seed, carbon_queue=args.carbon_queue)
    plot(rows, out.with_suffix(".png"), f"{args.env}: Lyapunov carbon budget ({args.algo}, {args.carbon_queue} queue)",
         args.carbon_queue, args.episodes)
    print(out.with_suffix(".md").read_text())
    if args.confirm_seed is not None:
        held_out = confirm(rows, args.env, confirm_episodes, args.confirm_seed, args.jobs, args.carbon_queue)
        path = confirm_path(out, args.episodes, confirm_episodes)
        write_tables(held_out, path, e0, args.env, confirm_episodes, args.confirm_seed, budget_seed=args.eval_seed,
                     carbon_queue=args.carbon_queue, budget_episodes=args.episodes)
        if args.carbon_queue == "long_term":
            last = args.confirm_seed + confirm_episodes - 1
            overlap = args.confirm_seed <= args.eval_seed + args.episodes - 1 and args.eval_seed <= last
            days = f"seeds {args.confirm_seed}-{last}" if overlap else f"held-out seeds {args.confirm_seed}-{last}"
            plot(held_out, path.with_suffix(".png"), f"{args.env}: Lyapunov carbon budget ({args.algo}, long-term "
                 f"queue), {days}", "long_term", confirm_episodes)
        print(path.with_suffix(".md").read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
