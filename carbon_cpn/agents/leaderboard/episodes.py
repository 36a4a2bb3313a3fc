"""One evaluation episode of a baseline, the oracle or a trained model, and its record."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

import carbon_cpn  # noqa: F401  (registers the env ids)
from carbon_cpn.agents.baselines import FAMILY_BASELINES, make_policy
from carbon_cpn.agents.masking import predict_accepts_masks

#: The episode metrics a leaderboard row reports (mean and std over seeds of each).
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


@dataclass(frozen=True)
class LoadedModel:
    """A trained model found under the leaderboard's models folder."""

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


def _oracle_extra(policy: Any) -> dict[str, Any]:
    """The oracle's solve statistics (empty for every other policy)."""
    res = getattr(policy, "result", None)
    plan = getattr(policy, "plan", None)  # a family's MILP plan (its objective is the MILP's, not a bound on J)
    if res is None and plan is not None:
        return dict(milp_benefit_usd=plan.benefit_usd, milp_status=plan.status, milp_bound_usd=plan.bound_usd)
    if res is None:
        return {}
    return dict(oracle_bound_usd=res.best_bound_usd, oracle_plan_usd=res.objective_usd, oracle_gap=res.gap,
                oracle_status=res.status, oracle_solve_s=res.solve_time_s, oracle_cols=res.n_cols,
                oracle_rows=res.n_rows, oracle_nonzeros=res.n_nonzeros, oracle_binaries=res.n_binaries,
                oracle_fallbacks=getattr(policy, "fallbacks", 0),
                oracle_unplanned=getattr(policy, "unplanned", 0), oracle_early=getattr(policy, "early", 0),
                oracle_warm_start_tasks=getattr(policy, "warm_start_tasks", -1))


def run_episode(env_id: str, method: str, seed: int, overrides: dict[str, Any] | None = None,
                model: LoadedModel | None = None, oracle_time_limit_s: float = 120.0) -> EpisodeRecord:
    """Run one evaluation episode of ``method`` (a baseline name) or of ``model``."""
    env = gym.make(env_id, **(overrides or {}))
    u: Any = env.unwrapped
    obs, _ = env.reset(seed=seed)
    t0 = time.perf_counter()
    if model is None:
        if method == "oracle" and env_id not in FAMILY_BASELINES:
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
    extra: dict[str, Any] = {"day": int(u.day), **_oracle_extra(policy)}
    price = float(u.cfg.reward.carbon_price_usd_per_t)
    env.close()
    return EpisodeRecord(method=method if model is None else model.name, seed=seed, carbon_price_usd_per_t=price,
                         metrics=m, objective_usd=objective_usd(m), invalid_actions=invalid, decisions=decisions,
                         wall_s=wall, extra=extra)
