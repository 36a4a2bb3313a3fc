"""``carbon-cpn leaderboard``: every baseline, the oracle and the trained models on held-out seeds.

Protocol:

* evaluation seeds ``1000 + k`` (k = 0..N-1): ``env.reset(seed=1000 + k)`` fixes the episode's
  day and its jobs, so every method sees the same episodes;
* every method runs through the same env code; its row is built from ``episode_metrics``;
* objective [$] = the episode objective of ``carbon_cpn.optim.objective`` (generation, start-up,
  lost load and carbon cost of the whole system, minus the value of the computing delivered,
  plus the QoS penalty of every missed or unfinished job), ``episode_metrics["objective_usd"]``;
  the oracle minimizes the same number and its best bound is a lower bound on every method's
  objective on every seed (column ``gap to bound``: how far a method is at most from optimal);
* normalized score per seed = ``100 x (J_random - J) / (J_random - bound)``: random = 0, the
  oracle's certified bound = 100 (a limit no policy can pass); the oracle's replay is a row
  like any other. Aggregates over seeds with rliable: the interquartile mean (IQM) and the mean,
  each with a 95 % stratified-bootstrap confidence interval (seeds are the runs of one task);
* charts like Fig. 3 of "A Novel Hierarchical Co-Optimization Framework for Coordinated Task
  Scheduling and Power Dispatch in Computing Power Networks" (Luo, Yang, Huang, Dustdar; tsco)
  (cost, emissions, curtailment, job success, tardiness per method) and a carbon-price sweep
  like tsco Fig. 4 ($25-150/t): every method is re-run at every price,
  since the price enters the units' offers, the day-ahead commitment and the objective.

Outputs under ``--out`` (default ``benchmarks/results``): ``leaderboard.md``, ``leaderboard.csv``,
``episodes.csv`` (one row per method and seed), ``sweep.csv``, ``fig3_methods.png``,
``fig4_carbon_price.png`` and ``metadata.json`` (versions, git SHA, scenario, settings).
``--jobs N`` runs episodes in N processes (results do not depend on N). Every episode's record
is appended to ``episodes.stream.jsonl`` as soon as it ends; a killed run started again with
the same settings reads the episodes already there and runs only the rest (``--fresh`` starts
over: do so after changing the code, since the stream's keys hold the settings, not the code).

Modules: ``episodes`` (one episode and its record, trained models), ``stream`` (the resumable
result stream and the task runner), ``scores`` (normalized scores, rliable aggregates, summary
rows), ``tables`` (CSV and Markdown), ``figures``, ``provenance`` (git SHA, versions,
metadata), ``settings`` (:class:`LeaderboardSettings`) and ``run`` (:func:`run_leaderboard`).
The ``carbon-cpn leaderboard`` command is parsed in ``carbon_cpn.cli.leaderboard``.
"""

from carbon_cpn.agents.leaderboard.episodes import (
    METRICS,
    EpisodeRecord,
    LoadedModel,
    load_models,
    objective_usd,
    run_episode,
)
from carbon_cpn.agents.leaderboard.figures import plot_methods, plot_sweep
from carbon_cpn.agents.leaderboard.provenance import git_sha, run_metadata, versions
from carbon_cpn.agents.leaderboard.run import STREAM_FILE, run_leaderboard
from carbon_cpn.agents.leaderboard.scores import aggregate_scores, summarize
from carbon_cpn.agents.leaderboard.settings import (
    QUICK_SWEEP_PRICES_USD_PER_T,
    SEED_BASE,
    SWEEP_PRICES_USD_PER_T,
    LeaderboardSettings,
)
from carbon_cpn.agents.leaderboard.stream import Task, read_stream, run_tasks, task_key
from carbon_cpn.agents.leaderboard.tables import csv_text, write_episodes, write_tables

__all__ = [
    "METRICS", "QUICK_SWEEP_PRICES_USD_PER_T", "SEED_BASE", "STREAM_FILE", "SWEEP_PRICES_USD_PER_T", "EpisodeRecord",
    "LeaderboardSettings", "LoadedModel", "Task", "aggregate_scores", "csv_text", "git_sha", "load_models",
    "objective_usd", "plot_methods", "plot_sweep", "read_stream", "run_episode", "run_leaderboard", "run_metadata",
    "run_tasks", "summarize", "task_key", "versions", "write_episodes", "write_tables",
]
