"""The leaderboard run: every method on the evaluation seeds (streamed, resumable), the trained
models, the tables, figures and metadata, then the carbon-price sweep."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import gymnasium as gym

from carbon_cpn.agents.leaderboard.episodes import EpisodeRecord, load_models, run_episode
from carbon_cpn.agents.leaderboard.figures import plot_methods, plot_sweep
from carbon_cpn.agents.leaderboard.provenance import run_metadata
from carbon_cpn.agents.leaderboard.scores import summarize
from carbon_cpn.agents.leaderboard.settings import LeaderboardSettings
from carbon_cpn.agents.leaderboard.stream import Task, run_tasks
from carbon_cpn.agents.leaderboard.tables import write_episodes, write_tables
from carbon_cpn.atomic_io import atomic_write_text

#: The file every episode's record is appended to as soon as it ends (under ``settings.out``).
STREAM_FILE = "episodes.stream.jsonl"


def _model_records(s: LeaderboardSettings, log: Callable[[str], None]) -> list[EpisodeRecord]:
    """Every trained model under ``s.models_dir`` on every evaluation seed (a model whose
    observations do not fit the env is skipped with a message)."""
    out = []
    for lm in load_models(s.models_dir, log, s.env_id):
        for seed in s.seeds:
            try:
                rec = run_episode(s.env_id, lm.name, seed, model=lm)
            except ValueError as exc:
                log(f"leaderboard: skipped {lm.path}: {exc}")
                break
            out.append(rec)
            log(f"  {lm.name:>12s} seed {seed}: objective ${rec.objective_usd:,.0f}")
    return out


def run_leaderboard(s: LeaderboardSettings, log: Callable[[str], None] = print) -> list[dict[str, Any]]:
    """Run the leaderboard ``s`` describes, write its files under ``s.out`` and return the
    summary rows (one per method)."""
    s.out.mkdir(parents=True, exist_ok=True)
    seeds = s.seeds
    tasks: list[Task] = [(s.env_id, m, seed, None, s.oracle_time_limit_s) for m in s.methods for seed in seeds]
    stream = s.out / STREAM_FILE
    if s.fresh:
        stream.unlink(missing_ok=True)
    records = run_tasks(tasks, s.jobs, log, lambda r: f"  {r.method:>12s} seed {r.seed}: objective "
                                                     f"${r.objective_usd:,.0f} ({r.wall_s:.1f} s)", stream,
                        s.engine, s.ray_address)
    records += _model_records(s, log)
    rows = summarize(records)
    env = gym.make(s.env_id)
    meta = run_metadata(s, env.unwrapped.cfg, records)
    env.close()
    write_tables(rows, s.out, meta)
    plot_methods(rows, s.out / "fig3_methods.png", f"{s.env_id}: methods (tsco Fig. 3 layout)", records)
    write_episodes(records, s.out / "episodes.csv")  # before the sweep, so an interrupted run keeps them
    atomic_write_text(s.out / "metadata.json", json.dumps(meta, indent=2, default=str))

    # Carbon-price sweep (tsco Fig. 4): every method at every price (the price moves the offers,
    # the day-ahead commitment and the objective, so no method is a fixed point).
    sweep_tasks: list[Task] = [(s.env_id, m, seed, {"reward__carbon_price_usd_per_t": price}, s.oracle_time_limit_s)
                               for price in s.sweep_prices for m in s.methods for seed in seeds[: s.sweep_seeds]]
    sweep = run_tasks(sweep_tasks, s.jobs, log, lambda r: f"  sweep ${r.carbon_price_usd_per_t:g}/t {r.method:>10s} "
                                                          f"seed {r.seed}: emissions {r.metrics['emissions_tco2']:.1f} t",
                      stream, s.engine, s.ray_address)
    write_episodes(sweep, s.out / "sweep.csv")
    plot_sweep(sweep, s.sweep_prices, s.out / "fig4_carbon_price.png",
               f"{s.env_id}: carbon-price sweep (tsco Fig. 4 layout)")
    meta["wall_s_total"] = float(sum(r.wall_s for r in (*records, *sweep)))
    atomic_write_text(s.out / "metadata.json", json.dumps(meta, indent=2, default=str))
    return rows
