"""Tables of a leaderboard run: ``leaderboard.csv`` (every metric's mean and std per method),
``leaderboard.md`` (the ranked table with scores and the gap to the oracle's bound) and the
per-episode CSVs (``episodes.csv``, ``sweep.csv``), each written atomically."""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from carbon_cpn.agents.leaderboard.episodes import METRICS, EpisodeRecord
from carbon_cpn.atomic_io import atomic_write_text


def _fmt(mean: float, std: float, digits: int = 1) -> str:
    if not math.isfinite(mean):
        return "-"
    return f"{mean:,.{digits}f} ± {std:,.{digits}f}"


def write_tables(rows: list[dict[str, Any]], out: Path, meta: dict[str, Any]) -> None:
    """``leaderboard.csv`` and ``leaderboard.md`` in ``out`` from the summary rows and the run's metadata."""
    keys = ["method", "n_seeds", "score_iqm", "score_iqm_ci_lo", "score_iqm_ci_hi", "score_mean", "score_mean_ci_lo",
            "score_mean_ci_hi", "objective_usd_mean", "objective_usd_std", "gap_to_bound_usd_mean", "bound_violations"]
    for m in METRICS:
        keys += [f"{m}_mean", f"{m}_std"]
    keys += ["invalid_actions", "oracle_bound_usd_mean", "wall_s_mean"]
    atomic_write_text(out / "leaderboard.csv", csv_text(rows, keys))
    ranked = sorted(rows, key=lambda r: r["objective_usd_mean"])
    bound = next((r["oracle_bound_usd_mean"] for r in rows if math.isfinite(r["oracle_bound_usd_mean"])), math.nan)
    lines = [
        f"# Leaderboard: {meta['env_id']}",
        "",
        f"Seeds {meta['seeds'][0]}-{meta['seeds'][-1]} ({len(meta['seeds'])} episodes; days {meta['days']}); carbon "
        f"price ${meta['carbon_price_usd_per_t']:g}/t, deadline penalty ${meta['deadline_penalty_usd']:g}/job. "
        "Objective J = generation + start-up + lost load + carbon cost of the whole system - value of the computing "
        "delivered + QoS penalty of every missed or unfinished job (carbon_cpn.optim.objective); lower is better, "
        "rows ranked by it. " + (
            "Score per seed: 100 x (J_random - J) / (J_random - bound), so random = 0 and the oracle's "
            "certified lower bound = 100; IQM and mean over seeds with 95 % stratified-bootstrap CIs (rliable). Gap to "
            "bound: J - bound, at most how far a method is from optimal. " if math.isfinite(bound) else
            "This env's oracle certifies no lower bound on J (its row replays a plan made with perfect foresight), "
            "so there is no score and no gap to a bound. ") + "Mean ± std over seeds.",
        "",
        "| method | score IQM [95 % CI] | score mean [95 % CI] | objective $ | gap to bound $ | system cost $ | "
        "emissions t | compute value $ | job success | tardiness s | load shed MWh | invalid |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]

    def ci(r: dict[str, Any], k: str) -> str:
        if not math.isfinite(r[f"score_{k}"]):
            return "-"
        return f"{r[f'score_{k}']:.1f} [{r[f'score_{k}_ci_lo']:.1f}, {r[f'score_{k}_ci_hi']:.1f}]"

    for r in ranked:
        name = "oracle (replay)" if r["method"] == "oracle" else r["method"]
        gap = "-" if not math.isfinite(r["gap_to_bound_usd_mean"]) else f"{r['gap_to_bound_usd_mean']:,.0f}"
        lines.append(
            f"| {name} | {ci(r, 'iqm')} | {ci(r, 'mean')} | {_fmt(r['objective_usd_mean'], r['objective_usd_std'], 0)} | "
            f"{gap} | {_fmt(r['total_cost_usd_mean'], r['total_cost_usd_std'], 0)} | "
            f"{_fmt(r['emissions_tco2_mean'], r['emissions_tco2_std'])} | "
            f"{_fmt(r['compute_value_usd_mean'], r['compute_value_usd_std'], 0)} | "
            f"{_fmt(r['job_success_rate_mean'], r['job_success_rate_std'], 3)} | "
            f"{_fmt(r['mean_tardiness_s_mean'], r['mean_tardiness_s_std'], 0)} | "
            f"{_fmt(r['load_shed_mwh_mean'], r['load_shed_mwh_std'], 2)} | {r['invalid_actions']} |")
    if math.isfinite(bound):
        lines.append(f"| oracle bound (certified limit) | 100 | 100 | {bound:,.0f} (mean) | 0 | | | | | | | |")
        viol = sum(r["bound_violations"] for r in rows)
        lines += ["", f"The oracle's bound is below every method's objective on every seed: {viol} violations."]
    lines += ["", "Every metric's mean and std: leaderboard.csv. Per-episode rows: episodes.csv. "
                  "Provenance: metadata.json.", ""]
    atomic_write_text(out / "leaderboard.md", "\n".join(lines))


def csv_text(rows: Sequence[dict[str, Any]], keys: Sequence[str]) -> str:
    """``rows`` as CSV with the columns ``keys`` (other keys ignored)."""
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(keys), extrasaction="ignore")
    w.writeheader()
    for r in rows:
        w.writerow(r)
    return buf.getvalue()


def write_episodes(records: Sequence[EpisodeRecord], path: Path) -> None:
    """One CSV row per episode record: method, seed, price, objective, metrics and extras."""
    extra_keys = sorted({k for r in records for k in r.extra})
    keys = ["method", "seed", "carbon_price_usd_per_t", "objective_usd", *METRICS, "invalid_actions", "decisions",
            "wall_s", *extra_keys]
    rows = [{"method": r.method, "seed": r.seed, "carbon_price_usd_per_t": r.carbon_price_usd_per_t,
             "objective_usd": r.objective_usd, **{k: r.metrics.get(k, math.nan) for k in METRICS},
             "invalid_actions": r.invalid_actions, "decisions": r.decisions, "wall_s": r.wall_s, **r.extra}
            for r in records]
    atomic_write_text(path, csv_text(rows, keys))
