"""Figures of a leaderboard run, laid out like the charts of "A Novel Hierarchical
Co-Optimization Framework for Coordinated Task Scheduling and Power Dispatch in Computing Power
Networks" (Luo, Yang, Huang, Dustdar; tsco): per-method bars (tsco Fig. 3) and the carbon-price
sweep (tsco Fig. 4), each saved atomically."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from carbon_cpn.agents.leaderboard.episodes import EpisodeRecord
from carbon_cpn.atomic_io import atomic_save_figure

_PANELS = (("total_cost_usd", "(a) total operational cost [$]"), ("emissions_tco2", "(b) total emissions [t CO2]"),
           ("curtailment_mwh", "(c) RES curtailment [MWh]"), ("job_success_rate", "(d) job success rate"),
           ("mean_tardiness_s", "(e) mean job tardiness [s]"))


def _paired_spread(records: Sequence[EpisodeRecord], method: str, key: str) -> float:
    """Std over seeds of ``method``'s metric minus random's on the same seed: the spread of the
    difference a chart should show (the day-to-day spread of a system total dwarfs it)."""
    ref = {r.seed: r for r in records if r.method == "random"}
    diffs = [(r.objective_usd if key == "objective_usd" else r.metrics[key])
             - (ref[r.seed].objective_usd if key == "objective_usd" else ref[r.seed].metrics[key])
             for r in records if r.method == method and r.seed in ref]
    return float(np.std(diffs, ddof=1)) if len(diffs) > 1 else 0.0


def plot_methods(rows: list[dict[str, Any]], path: Path, title: str,
                 records: Sequence[EpisodeRecord] = ()) -> None:
    """tsco Fig. 3 with the objective first: one bar per method (mean over seeds); whiskers are
    the std over seeds of the paired difference to random on the same seed when ``records``
    are given (system totals vary far more from day to day than between methods), else the
    std over seeds."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = (("objective_usd", "objective J [$] (lower is better)"), *_PANELS)
    fig, axes = plt.subplots(1, len(panels), figsize=(3.8 * len(panels), 4.4))
    names = [r["method"] for r in rows]
    x = np.arange(len(names))
    for ax, (key, label) in zip(axes, panels):
        err = [(_paired_spread(records, r["method"], key) if records else r[f"{key}_std"]) for r in rows]
        vals = np.array([r[f"{key}_mean"] for r in rows])
        ax.bar(x, vals, yerr=err, color="tab:blue", capsize=3)
        ax.set_xticks(x, names, rotation=60, ha="right", fontsize=8)
        ax.set_title(label, fontsize=10)
        if key not in ("mean_tardiness_s", "objective_usd") and vals.size and np.all(vals > 0):
            lo, hi = vals.min(), vals.max()
            ax.set_ylim(max(0.0, lo - 0.6 * (hi - lo + 1e-9)), hi + 0.4 * (hi - lo + 1e-9))
    whisk = "std over seeds of the paired difference to random" if records else "std over seeds"
    fig.suptitle(f"{title}; bars: mean over seeds, whiskers: {whisk}", fontsize=10)
    fig.tight_layout()
    atomic_save_figure(fig, path, dpi=110)
    plt.close(fig)


def plot_sweep(sweep: Sequence[EpisodeRecord], prices: Sequence[float], path: Path, title: str) -> None:
    """tsco Fig. 4: metrics against the carbon price, every method re-run at every price."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(_PANELS), figsize=(4.0 * len(_PANELS), 4.0))
    methods = list(dict.fromkeys(r.method for r in sweep))
    for ax, (key, label) in zip(axes, _PANELS):
        for m in methods:
            mean = [np.mean([r.metrics[key] for r in sweep if r.method == m and r.carbon_price_usd_per_t == p])
                    for p in prices]
            ax.plot(prices, mean, marker="o", label=m)
        ax.set_xlabel("carbon price [$/t]")
        ax.set_title(label, fontsize=10)
    axes[0].legend(fontsize=7)
    fig.suptitle(title)
    fig.tight_layout()
    atomic_save_figure(fig, path, dpi=110)
    plt.close(fig)
