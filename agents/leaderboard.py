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
* charts like tsco Fig. 3 (cost, emissions, curtailment, job success, tardiness per method)
  and a carbon-price sweep like tsco Fig. 4 ($25-150/t): every method is re-run at every price,
  since the price enters the units' offers, the day-ahead commitment and the objective.

Outputs under ``--out`` (default ``benchmarks/results``): ``leaderboard.md``, ``leaderboard.csv``,
``episodes.csv`` (one row per method and seed), ``sweep.csv``, ``fig3_methods.png``,
``fig4_carbon_price.png`` and ``metadata.json`` (versions, git SHA, scenario, settings).
``--jobs N`` runs episodes in N processes (results do not depend on N). Every episode's record
is appended to ``episodes.stream.jsonl`` as soon as it ends; a killed run started again with
the same settings reads the episodes already there and runs only the rest (``--fresh`` starts
over: do so after changing the code, since the stream's keys hold the settings, not the code).
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import platform
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

import carbon_cpn  # noqa: F401  (registers the env ids)
from carbon_cpn.agents.baselines import BASELINES, make_policy
from carbon_cpn.agents.masking import predict_accepts_masks

SEED_BASE = 1000
#: tsco Fig. 4's range of carbon prices [$/t].
SWEEP_PRICES_USD_PER_T: tuple[float, ...] = (25.0, 50.0, 100.0, 150.0)
QUICK_SWEEP_PRICES_USD_PER_T: tuple[float, ...] = (25.0, 150.0)
METRICS: tuple[str, ...] = (
    "generation_cost_usd", "startup_cost_usd", "lost_load_cost_usd", "carbon_cost_usd", "compute_value_usd",
    "qos_penalty_usd", "baseline_objective_usd", "jobs_settled_unfinished", "total_cost_usd", "emissions_tco2", "curtailment_mwh", "load_shed_mwh", "fast_start_mwh", "job_success_rate",
    "mean_tardiness_s", "qos_violation_rate", "cpn_energy_mwh", "cpn_emissions_tco2", "cpn_cost_usd", "revenue_usd", "renewable_share",
    "deadline_misses", "jobs_arrived", "jobs_completed", "jobs_failed", "jobs_pending",
)


@dataclass(frozen=True)
class EpisodeRecord:
    """One method on one seed."""

    method: str
    seed: int
    carbon_price_usd_per_t: float
    metrics: dict[str, float]
    objective_usd: float
    invalid_actions: int
    decisions: int
    wall_s: float
    extra: dict[str, Any] = field(default_factory=dict)


def objective_usd(metrics: dict[str, float]) -> float:
    """The leaderboard's objective: the episode objective the env booked
    (``carbon_cpn.optim.objective``), ``episode_metrics["objective_usd"]``."""
    return float(metrics["objective_usd"])


# ---------------------------------------------------------------------------- trained models
@dataclass(frozen=True)
class LoadedModel:
    name: str
    path: Path
    model: Any
    cls: str


def load_models(models_dir: Path | None, log: Callable[[str], None] = print, env_id: str | None = None
                ) -> list[LoadedModel]:
    """The ``final_model.zip`` of every ``carbon-cpn train`` run under ``models_dir`` (trained on
    ``env_id`` when given, read from the run's ``run.json``), loaded with the class that saved it."""
    from carbon_cpn.agents.registry import saved_class

    if models_dir is None or not Path(models_dir).is_dir():
        return []
    out = []
    for path in sorted(Path(models_dir).rglob("final_model.zip")):
        run = path.parent / "run.json"
        trained_on = json.loads(run.read_text()).get("env_id") if run.is_file() else None
        if env_id is not None and trained_on not in (None, env_id):
            log(f"leaderboard: skipped {path}: trained on {trained_on}, not {env_id}")
            continue
        try:
            cls = saved_class(path)
            model = cls.load(str(path), device="cpu")
        except Exception as exc:  # noqa: BLE001 - report and go on with the other models
            log(f"leaderboard: skipped {path}: {exc}")
            continue
        rel = path.parent.relative_to(models_dir)
        out.append(LoadedModel(name=f"model:{rel.as_posix()}", path=path, model=model,
                               cls=f"{cls.__module__}.{cls.__name__}"))
    return out


# ---------------------------------------------------------------------------- episodes
def run_episode(env_id: str, method: str, seed: int, overrides: dict[str, Any] | None = None,
                model: LoadedModel | None = None, oracle_time_limit_s: float = 120.0) -> EpisodeRecord:
    """Run one evaluation episode of ``method`` (a baseline name) or of ``model``."""
    env = gym.make(env_id, **(overrides or {}))
    u: Any = env.unwrapped
    obs, _ = env.reset(seed=seed)
    t0 = time.perf_counter()
    if model is None:
        if method == "oracle":
            from carbon_cpn.agents.oracle_policy import OraclePolicy

            policy: Any = OraclePolicy(env, seed, time_limit_s=oracle_time_limit_s)
        else:
            policy = make_policy(method, env, seed)
    else:
        if model.model.observation_space.shape != env.observation_space.shape:
            raise ValueError(f"model {model.path}: observation shape {model.model.observation_space.shape}; "
                             f"expected {env.observation_space.shape} of {env_id}")
        policy = model.model
    invalid = decisions = 0
    done = False
    info: dict[str, Any] = {}
    maskable = model is not None and predict_accepts_masks(policy)
    while not done:
        mask = u.action_masks()
        if maskable:
            a, _ = policy.predict(obs, deterministic=True, action_masks=mask)
        else:
            a, _ = policy.predict(obs, deterministic=True)
        a = int(np.asarray(a).reshape(-1)[0])
        invalid += int(not mask[a])
        decisions += 1
        obs, _, term, trunc, info = env.step(a)
        done = term or trunc
    wall = time.perf_counter() - t0
    m = {k: float(v) for k, v in info["episode_metrics"].items()}
    r = u.cfg.reward
    extra: dict[str, Any] = {"day": int(u.day)}
    res = getattr(policy, "result", None)
    if res is not None:
        extra.update(oracle_bound_usd=res.best_bound_usd, oracle_plan_usd=res.objective_usd, oracle_gap=res.gap,
                     oracle_status=res.status, oracle_solve_s=res.solve_time_s, oracle_cols=res.n_cols,
                     oracle_rows=res.n_rows, oracle_nonzeros=res.n_nonzeros, oracle_binaries=res.n_binaries,
                     oracle_fallbacks=getattr(policy, "fallbacks", 0),
                     oracle_unplanned=getattr(policy, "unplanned", 0), oracle_early=getattr(policy, "early", 0),
                     oracle_warm_start_tasks=getattr(policy, "warm_start_tasks", -1))
    env.close()
    return EpisodeRecord(method=method if model is None else model.name, seed=seed,
                         carbon_price_usd_per_t=float(r.carbon_price_usd_per_t), metrics=m,
                         objective_usd=objective_usd(m),
                         invalid_actions=invalid, decisions=decisions, wall_s=wall, extra=extra)


# ---------------------------------------------------------------------------- statistics
def aggregate_scores(scores: np.ndarray, seed: int = 0, reps: int = 2000) -> dict[str, float]:
    """IQM and mean of per-seed normalized scores with 95 % stratified-bootstrap CIs (rliable;
    the seeds are the runs of one task)."""
    import warnings

    from rliable import library as rly
    from rliable import metrics as rl_metrics

    v = np.asarray(scores, dtype=float).reshape(-1, 1)
    if v.size == 0:
        return {k: math.nan for k in ("iqm", "iqm_ci_lo", "iqm_ci_hi", "mean", "mean_ci_lo", "mean_ci_hi")}
    if v.size == 1:
        x = float(v[0, 0])
        return {"iqm": x, "iqm_ci_lo": x, "iqm_ci_hi": x, "mean": x, "mean_ci_lo": x, "mean_ci_hi": x}

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
        gaps = [r.objective_usd - bound[r.seed] for r in recs if r.seed in bound]
        row["gap_to_bound_usd_mean"] = float(np.mean(gaps)) if gaps else math.nan
        row["bound_violations"] = int(sum(g < -1e-6 * max(1.0, abs(bound[r.seed])) for g, r in
                                          zip(gaps, [r for r in recs if r.seed in bound])))
        row["invalid_actions"] = int(sum(r.invalid_actions for r in recs))
        row["oracle_bound_usd_mean"] = float(np.mean([bound[r.seed] for r in recs if r.seed in bound])) if bound \
            else math.nan
        row["wall_s_mean"] = float(np.mean([r.wall_s for r in recs]))
        rows.append(row)
    order = {name: i for i, name in enumerate(BASELINES)}
    rows.sort(key=lambda r: (order.get(r["method"], len(order)), r["method"]))
    return rows


# ---------------------------------------------------------------------------- provenance
def git_sha(start: Path) -> str:
    """The checkout's commit, read from ``.git`` files (no git process), or "unknown"."""
    for d in (start, *start.parents):
        g = d / ".git"
        if g.is_file():  # a worktree: "gitdir: <path>"
            txt = g.read_text().strip()
            if txt.startswith("gitdir:"):
                g = (d / txt.split(":", 1)[1].strip()).resolve()
        if not g.is_dir():
            continue
        head = (g / "HEAD").read_text().strip() if (g / "HEAD").is_file() else ""
        if not head.startswith("ref:"):
            return head or "unknown"
        ref = head.split(":", 1)[1].strip()
        for base in (g, g.parent / "commondir"):
            p = base / ref
            if p.is_file():
                return p.read_text().strip()
        packed = g / "packed-refs"
        if packed.is_file():
            for line in packed.read_text().splitlines():
                if line.endswith(" " + ref):
                    return line.split()[0]
        return "unknown"
    return "unknown"


def versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for pkg in ("carbon-cpn", "numpy", "scipy", "gymnasium", "stable-baselines3", "sb3-contrib", "torch", "pyomo",
                "highspy", "pandapower", "matplotlib"):
        try:
            out[pkg] = importlib_metadata.version(pkg)
        except importlib_metadata.PackageNotFoundError:
            out[pkg] = "absent"
    return out


# ---------------------------------------------------------------------------- outputs
def _fmt(mean: float, std: float, digits: int = 1) -> str:
    if not math.isfinite(mean):
        return "-"
    return f"{mean:,.{digits}f} ± {std:,.{digits}f}"


def write_tables(rows: list[dict[str, Any]], out: Path, meta: dict[str, Any]) -> None:
    keys = ["method", "n_seeds", "score_iqm", "score_iqm_ci_lo", "score_iqm_ci_hi", "score_mean", "score_mean_ci_lo",
            "score_mean_ci_hi", "objective_usd_mean", "objective_usd_std", "gap_to_bound_usd_mean", "bound_violations"]
    for m in METRICS:
        keys += [f"{m}_mean", f"{m}_std"]
    keys += ["invalid_actions", "oracle_bound_usd_mean", "wall_s_mean"]
    _atomic_write(out / "leaderboard.csv", _csv_text(rows, keys))
    ranked = sorted(rows, key=lambda r: r["objective_usd_mean"])
    bound = next((r["oracle_bound_usd_mean"] for r in rows if math.isfinite(r["oracle_bound_usd_mean"])), math.nan)
    lines = [
        f"# Leaderboard: {meta['env_id']}",
        "",
        f"Seeds {meta['seeds'][0]}-{meta['seeds'][-1]} ({len(meta['seeds'])} episodes; days {meta['days']}); carbon "
        f"price ${meta['carbon_price_usd_per_t']:g}/t, deadline penalty ${meta['deadline_penalty_usd']:g}/job. "
        "Objective J = generation + start-up + lost load + carbon cost of the whole system - value of the computing "
        "delivered + QoS penalty of every missed or unfinished job (carbon_cpn.optim.objective); lower is better, "
        "rows ranked by it. Score per seed: 100 x (J_random - J) / (J_random - bound), so random = 0 and the oracle's "
        "certified lower bound = 100; IQM and mean over seeds with 95 % stratified-bootstrap CIs (rliable). Gap to "
        "bound: J - bound, at most how far a method is from optimal. Mean ± std over seeds.",
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
    _atomic_write(out / "leaderboard.md", "\n".join(lines))


def _csv_text(rows: Sequence[dict[str, Any]], keys: Sequence[str]) -> str:
    import io

    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(keys), extrasaction="ignore")
    w.writeheader()
    for r in rows:
        w.writerow(r)
    return buf.getvalue()


def _atomic_write(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file and a rename (never half a file)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text)
    tmp.replace(path)


def write_episodes(records: Sequence[EpisodeRecord], path: Path) -> None:
    extra_keys = sorted({k for r in records for k in r.extra})
    keys = ["method", "seed", "carbon_price_usd_per_t", "objective_usd", *METRICS, "invalid_actions", "decisions",
            "wall_s", *extra_keys]
    rows = [{"method": r.method, "seed": r.seed, "carbon_price_usd_per_t": r.carbon_price_usd_per_t,
             "objective_usd": r.objective_usd, **{k: r.metrics.get(k, math.nan) for k in METRICS},
             "invalid_actions": r.invalid_actions, "decisions": r.decisions, "wall_s": r.wall_s, **r.extra}
            for r in records]
    _atomic_write(path, _csv_text(rows, keys))


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
    fig.savefig(path, dpi=110)
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
    fig.savefig(path, dpi=110)
    plt.close(fig)


# ---------------------------------------------------------------------------- driver
@dataclass(frozen=True)
class LeaderboardSettings:
    env_id: str
    n_seeds: int
    out: Path
    models_dir: Path | None
    oracle_time_limit_s: float
    sweep_prices: tuple[float, ...]
    sweep_seeds: int
    methods: tuple[str, ...]
    jobs: int = 1
    #: Ignore the episodes streamed by an earlier (killed) run instead of resuming it.
    fresh: bool = False

    def __post_init__(self) -> None:
        if not (isinstance(self.jobs, int) and self.jobs >= 1):
            raise ValueError(f"jobs={self.jobs!r}: expected an integer >= 1")
        if self.n_seeds < 1:
            raise ValueError(f"seeds={self.n_seeds!r}: expected at least 1")
        if not (1 <= self.sweep_seeds <= self.n_seeds):
            raise ValueError(f"sweep_seeds={self.sweep_seeds!r}: expected 1..seeds ({self.n_seeds})")
        if self.env_id not in gym.registry:
            raise ValueError(f"env={self.env_id!r}: expected a registered id such as 'CarbonCPN-v0'")
        unknown = set(self.methods) - set(BASELINES)
        if unknown:
            raise ValueError(f"methods={sorted(unknown)}: expected names from {sorted(BASELINES)}")
        if not (self.oracle_time_limit_s > 0):
            raise ValueError(f"oracle_time_limit_s={self.oracle_time_limit_s!r}: expected seconds > 0")


Task = tuple[str, str, int, "dict[str, Any] | None", float]


def _episode_task(args: Task) -> EpisodeRecord:
    env_id, method, seed, overrides, oracle_time_limit_s = args
    return run_episode(env_id, method, seed, overrides, oracle_time_limit_s=oracle_time_limit_s)


def task_key(task: Task) -> str:
    """What an episode's result depends on besides the code: env, method, seed, overrides and
    the oracle's time limit (the stream file's key)."""
    env_id, method, seed, overrides, tl = task
    return json.dumps([env_id, method, int(seed), sorted((overrides or {}).items()), float(tl)], default=str)


def _record_json(key: str, rec: EpisodeRecord) -> str:
    return json.dumps({"key": key, "method": rec.method, "seed": rec.seed,
                       "carbon_price_usd_per_t": rec.carbon_price_usd_per_t, "metrics": rec.metrics,
                       "objective_usd": rec.objective_usd, "invalid_actions": rec.invalid_actions,
                       "decisions": rec.decisions, "wall_s": rec.wall_s, "extra": rec.extra}, default=float)


def read_stream(path: Path) -> dict[str, EpisodeRecord]:
    """Records already streamed to ``path`` (one JSON line each), by task key. A line cut short
    by a kill (the last one) is ignored: that episode runs again."""
    out: dict[str, EpisodeRecord] = {}
    if not path.is_file():
        return out
    for line in path.read_text().splitlines():
        try:
            d = json.loads(line)
            rec = EpisodeRecord(method=d["method"], seed=int(d["seed"]),
                                carbon_price_usd_per_t=float(d["carbon_price_usd_per_t"]),
                                metrics={k: float(v) for k, v in d["metrics"].items()},
                                objective_usd=float(d["objective_usd"]), invalid_actions=int(d["invalid_actions"]),
                                decisions=int(d["decisions"]), wall_s=float(d["wall_s"]), extra=dict(d["extra"]))
        except (ValueError, KeyError, TypeError):
            continue
        out[str(d["key"])] = rec
    return out


def _append_line(path: Path, line: str) -> None:
    """Append one line and flush it to disk (a kill loses at most the line being written)."""
    with open(path, "a", encoding="utf-8") as f:
        f.write(line + "\n")
        f.flush()
        os.fsync(f.fileno())


def _run_tasks(tasks: list[Task], jobs: int, log: Callable[[str], None], label: Callable[[EpisodeRecord], str],
               stream: Path | None = None) -> list[EpisodeRecord]:
    """Run episode tasks (in ``jobs`` processes when > 1) and return their records in task
    order. With ``stream``, every record is appended to that file as soon as its episode ends,
    and tasks whose record is already there are not run again (a killed run resumes)."""
    done = read_stream(stream) if stream is not None else {}
    if stream is not None and stream.is_file() and not stream.read_bytes().endswith(b"\n") and stream.stat().st_size:
        _append_line(stream, "")  # end a line cut short by a kill, so that the next record starts its own
    keys = [task_key(t) for t in tasks]
    todo = [(k, t) for k, t in zip(keys, tasks) if k not in done]
    if len(todo) < len(tasks):
        log(f"  resuming: {len(tasks) - len(todo)} of {len(tasks)} episodes read from {stream}")

    def finish(key: str, rec: EpisodeRecord) -> None:
        done[key] = rec
        if stream is not None:
            _append_line(stream, _record_json(key, rec))
        log(label(rec))

    if jobs <= 1:
        for k, t in todo:
            finish(k, _episode_task(t))
    else:
        from concurrent.futures import ProcessPoolExecutor, as_completed

        with ProcessPoolExecutor(jobs) as pool:
            futures = {pool.submit(_episode_task, t): k for k, t in todo}
            for fut in as_completed(futures):
                finish(futures[fut], fut.result())
    return [done[k] for k in keys]


def run_leaderboard(s: LeaderboardSettings, log: Callable[[str], None] = print) -> list[dict[str, Any]]:
    s.out.mkdir(parents=True, exist_ok=True)
    seeds = [SEED_BASE + k for k in range(s.n_seeds)]
    tasks = [(s.env_id, m, seed, None, s.oracle_time_limit_s) for m in s.methods for seed in seeds]
    stream = s.out / "episodes.stream.jsonl"
    if s.fresh:
        stream.unlink(missing_ok=True)
    records = _run_tasks(tasks, s.jobs, log, lambda r: f"  {r.method:>12s} seed {r.seed}: objective "
                                                      f"${r.objective_usd:,.0f} ({r.wall_s:.1f} s)", stream)
    for lm in load_models(s.models_dir, log, s.env_id):
        for seed in seeds:
            try:
                rec = run_episode(s.env_id, lm.name, seed, model=lm)
            except ValueError as exc:
                log(f"leaderboard: skipped {lm.path}: {exc}")
                break
            records.append(rec)
            log(f"  {lm.name:>12s} seed {seed}: objective ${rec.objective_usd:,.0f}")
    rows = summarize(records)
    env = gym.make(s.env_id)
    cfg = env.unwrapped.cfg
    days = sorted({int(r.extra["day"]) for r in records})
    meta = {
        "env_id": s.env_id, "scenario": cfg.name, "seeds": seeds, "days": days,
        "carbon_price_usd_per_t": cfg.reward.carbon_price_usd_per_t,
        "deadline_penalty_usd": cfg.reward.deadline_penalty_usd, "reward": cfg.reward.__dict__,
        "commitment": cfg.commitment.__dict__, "episode": cfg.episode.__dict__,
        "oracle_time_limit_s": s.oracle_time_limit_s, "oracle_mip_rel_gap": 0.01,
        "sweep_prices_usd_per_t": list(s.sweep_prices), "sweep_seeds": seeds[: s.sweep_seeds],
        "methods": list(s.methods), "models": sorted({r.method for r in records if r.method.startswith("model:")}),
        "policy_parameters": {"co_opt": {"threshold": 0.15}, "dc_frame": {"improvement": 0.10},
                              "c3o_greedy": {"w1": 0.7, "w2": 0.3, "threshold": 0.25},
                              "deferral": {"margin": 2.0, "max_queue": "max_decisions_per_interval // 2"}},
        "statistics": "rliable IQM and mean, 95 % stratified bootstrap, 2000 reps, seed 0",
        "git_sha": git_sha(Path(__file__).resolve().parent), "versions": versions(),
        "created_unix": time.time(),
    }
    env.close()
    write_tables(rows, s.out, meta)
    plot_methods(rows, s.out / "fig3_methods.png", f"{s.env_id}: methods (tsco Fig. 3 layout)", records)
    write_episodes(records, s.out / "episodes.csv")  # before the sweep, so an interrupted run keeps them
    _atomic_write(s.out / "metadata.json", json.dumps(meta, indent=2, default=str))

    # Carbon-price sweep (tsco Fig. 4): every method at every price (the price moves the offers,
    # the day-ahead commitment and the objective, so no method is a fixed point).
    sweep_tasks = [(s.env_id, m, seed, {"reward__carbon_price_usd_per_t": price}, s.oracle_time_limit_s)
                   for price in s.sweep_prices for m in s.methods for seed in seeds[: s.sweep_seeds]]
    sweep = _run_tasks(sweep_tasks, s.jobs, log, lambda r: f"  sweep ${r.carbon_price_usd_per_t:g}/t {r.method:>10s} "
                                                           f"seed {r.seed}: emissions {r.metrics['emissions_tco2']:.1f} t",
                       stream)
    write_episodes(sweep, s.out / "sweep.csv")
    plot_sweep(sweep, s.sweep_prices, s.out / "fig4_carbon_price.png",
               f"{s.env_id}: carbon-price sweep (tsco Fig. 4 layout)")
    meta["wall_s_total"] = float(sum(r.wall_s for r in (*records, *sweep)))
    _atomic_write(s.out / "metadata.json", json.dumps(meta, indent=2, default=str))
    return rows


def add_leaderboard_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``leaderboard`` to the ``carbon-cpn`` sub-commands (wired in ``carbon_cpn/cli.py``)."""
    p = subparsers.add_parser("leaderboard", help="evaluate baselines, the oracle and trained models on held-out seeds")
    p.add_argument("--quick", action="store_true",
                   help="a smoke run: CarbonCPN-Tiny-v0 (unless --env), 1 seed, a 30 s oracle, two sweep prices")
    p.add_argument("--seeds", type=int, default=None, help="evaluation seeds 1000..1000+N-1 (default 10; 1 with --quick)")
    p.add_argument("--sweep-seeds", type=int, default=None, help="seeds of the carbon-price sweep (default: all)")
    p.add_argument("--out", type=Path, default=Path("benchmarks/results"), help="output directory")
    p.add_argument("--env", default=None, help="env id (default CarbonCPN-v0; CarbonCPN-Tiny-v0 with --quick)")
    p.add_argument("--models", type=Path, default=Path("runs"), help="directory searched for trained SB3 .zip models")
    p.add_argument("--oracle-time-limit", type=float, default=None, help="oracle MILP time limit [s] (default 120; 30 quick)")
    p.add_argument("--methods", default=",".join(BASELINES), help="comma-separated baselines to run")
    p.add_argument("--jobs", type=int, default=1, help="episodes run in parallel processes")
    p.add_argument("--fresh", action="store_true",
                   help="start over: ignore episodes an earlier run streamed to <out>/episodes.stream.jsonl "
                        "(default: resume, running only the episodes not there)")
    p.set_defaults(func=_cmd_leaderboard)
    return p


def _cmd_leaderboard(args: argparse.Namespace) -> int:
    quick = bool(args.quick)
    n = args.seeds if args.seeds is not None else (1 if quick else 10)
    settings = LeaderboardSettings(
        env_id=args.env or ("CarbonCPN-Tiny-v0" if quick else "CarbonCPN-v0"), n_seeds=n, out=args.out,
        models_dir=args.models,
        oracle_time_limit_s=args.oracle_time_limit if args.oracle_time_limit is not None else (30.0 if quick else 120.0),
        sweep_prices=QUICK_SWEEP_PRICES_USD_PER_T if quick else SWEEP_PRICES_USD_PER_T,
        sweep_seeds=args.sweep_seeds if args.sweep_seeds is not None else n,
        methods=tuple(m.strip() for m in args.methods.split(",") if m.strip()), jobs=args.jobs, fresh=bool(args.fresh),
    )
    rows = run_leaderboard(settings)
    print((settings.out / "leaderboard.md").read_text())
    return 0 if all(r["invalid_actions"] == 0 for r in rows if not r["method"].startswith("model:")) else 1


def main(argv: Sequence[str] | None = None) -> int:
    """Stand-alone entry (``python -m carbon_cpn.agents.leaderboard``) until cli.py wires it."""
    parser = argparse.ArgumentParser(prog="carbon-cpn")
    sub = parser.add_subparsers(dest="command", required=True)
    add_leaderboard_parser(sub)
    import sys

    argv = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(argv if argv and argv[0] == "leaderboard" else ["leaderboard", *argv])
    return int(args.func(args))


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
