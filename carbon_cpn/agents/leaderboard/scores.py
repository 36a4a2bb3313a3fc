"""Aggregation: per-seed normalized scores (random = 0, the oracle's certified bound = 100),
their rliable IQM and mean with bootstrap confidence intervals, and one summary row per method."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from carbon_cpn.agents.baselines import BASELINES
from carbon_cpn.agents.leaderboard.episodes import METRICS, EpisodeRecord

_AGGREGATES = ("iqm", "iqm_ci_lo", "iqm_ci_hi", "mean", "mean_ci_lo", "mean_ci_hi")


def aggregate_scores(scores: np.ndarray, seed: int = 0, reps: int = 2000) -> dict[str, float]:
    """IQM and mean of per-seed normalized scores with 95 % stratified-bootstrap CIs (rliable;
    the seeds are the runs of one task)."""
    import warnings

    from rliable import library as rly
    from rliable import metrics as rl_metrics

    v = np.asarray(scores, dtype=float).reshape(-1, 1)
    if v.size == 0:
        return {k: math.nan for k in _AGGREGATES}
    if v.size == 1:
        return {k: float(v[0, 0]) for k in _AGGREGATES}

    def agg(x: np.ndarray) -> np.ndarray:
        return np.array([rl_metrics.aggregate_iqm(x), rl_metrics.aggregate_mean(x)])

    # arch's bootstrap also draws from NumPy's global generator: seed it, then restore it.
    saved = np.random.get_state()
    try:
        np.random.seed(seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)  # arch's RandomState deprecation
            point, interval = rly.get_interval_estimates({"m": v}, agg, reps=reps,
                                                         random_state=np.random.RandomState(seed))
    finally:
        np.random.set_state(saved)
    p, ci = point["m"], interval["m"]
    return {"iqm": float(p[0]), "iqm_ci_lo": float(ci[0, 0]), "iqm_ci_hi": float(ci[1, 0]),
            "mean": float(p[1]), "mean_ci_lo": float(ci[0, 1]), "mean_ci_hi": float(ci[1, 1])}


def summarize(records: Sequence[EpisodeRecord], seed: int = 0) -> list[dict[str, Any]]:
    """One row per method: mean and std over seeds of every metric, the objective, the score
    (random = 0, the oracle's bound = 100) and its rliable aggregates, the gap to the bound."""
    by_method: dict[str, list[EpisodeRecord]] = {}
    for rec in records:
        by_method.setdefault(rec.method, []).append(rec)
    random_j = {r.seed: r.objective_usd for r in by_method.get("random", [])}
    bound = {r.seed: float(r.extra["oracle_bound_usd"]) for r in by_method.get("oracle", [])
             if math.isfinite(float(r.extra.get("oracle_bound_usd", math.nan)))}
    rows = []
    for method, recs in by_method.items():
        row: dict[str, Any] = {"method": method, "n_seeds": len(recs)}
        for key in (*METRICS, "objective_usd"):
            vals = np.array([r.objective_usd if key == "objective_usd" else r.metrics[key] for r in recs])
            row[f"{key}_mean"] = float(vals.mean())
            row[f"{key}_std"] = float(vals.std(ddof=1)) if vals.size > 1 else 0.0
        scores = [100.0 * (random_j[r.seed] - r.objective_usd) / (random_j[r.seed] - bound[r.seed]) for r in recs
                  if r.seed in random_j and r.seed in bound and abs(random_j[r.seed] - bound[r.seed]) > 1e-9]
        agg = aggregate_scores(np.array(scores), seed)
        row.update({f"score_{k}": v for k, v in agg.items()})
        bounded = [r for r in recs if r.seed in bound]
        gaps = [r.objective_usd - bound[r.seed] for r in bounded]
        row["gap_to_bound_usd_mean"] = float(np.mean(gaps)) if gaps else math.nan
        row["bound_violations"] = int(sum(g < -1e-6 * max(1.0, abs(bound[r.seed])) for g, r in zip(gaps, bounded)))
        row["invalid_actions"] = int(sum(r.invalid_actions for r in recs))
        row["oracle_bound_usd_mean"] = float(np.mean([bound[r.seed] for r in bounded])) if bound else math.nan
        row["wall_s_mean"] = float(np.mean([r.wall_s for r in recs]))
        rows.append(row)
    order = {name: i for i, name in enumerate(BASELINES)}
    rows.sort(key=lambda r: (order.get(r["method"], len(order)), r["method"]))
    return rows
