"""Evaluate a saved agent (or the random policy) on the env's episode metrics (issue #5).

Episode ``i`` of an evaluation is reset with ``seed + i``, so two policies evaluated with the
same seed face the same days and the same job arrivals (as long as their actions do not change
the env's random draws). The result maps every episode metric of ``info["episode_metrics"]``
(see ``carbon_cpn.envs.cpn_env``) plus ``episode_return``, ``episode_length`` and
``invalid_actions`` to its mean and (population) standard deviation over the episodes.

Action masks (issue #14): a model whose ``predict`` accepts ``action_masks`` (the DQN family of
this package, sb3-contrib's ``MaskablePPO``) gets the env's ``action_masks()`` at every step.
``invalid_actions`` counts, per episode, the actions taken that the env's mask marked invalid
(0 for an env without masks); the summary reports its mean and std per episode.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

import carbon_cpn  # noqa: F401  (registers the env ids)
from carbon_cpn.agents.masking import env_action_masks, predict_accepts_masks
from carbon_cpn.envs.wrappers import CARBON_QUEUES, LyapunovCarbonQueue

#: ``policy(obs, env) -> action``
PolicyFn = Callable[[np.ndarray, gym.Env], int]


def check_carbon_queue(carbon_queue: str) -> str:
    if carbon_queue not in CARBON_QUEUES:
        raise ValueError(f"carbon_queue={carbon_queue!r}: expected one of {list(CARBON_QUEUES)} (the queue starts "
                         "empty every episode, or carries over from one episode to the next)")
    return carbon_queue


def make_env(env_id: str, lyapunov_v: float | None = None, carbon_budget: float | None = None,
             carbon_queue: str = "episode") -> gym.Env:
    """``gym.make(env_id)``, wrapped in ``LyapunovCarbonQueue(budget, V)`` when both are given;
    ``carbon_queue="long_term"`` carries the queue over from one episode to the next."""
    check_carbon_queue(carbon_queue)
    if (lyapunov_v is None) != (carbon_budget is None):
        raise ValueError(
            f"lyapunov_v={lyapunov_v!r}, carbon_budget={carbon_budget!r}: expected both (the Lyapunov carbon queue) or neither"
        )
    if carbon_queue == "long_term" and lyapunov_v is None:
        raise ValueError("carbon_queue='long_term': expected lyapunov_v and carbon_budget too (there is no queue without them)")
    env = gym.make(env_id)
    if lyapunov_v is not None:
        env = LyapunovCarbonQueue(env, budget_tco2=float(carbon_budget), v=float(lyapunov_v),  # type: ignore[arg-type]
                                  long_term=carbon_queue == "long_term")
    return env


def run_episodes(policy: PolicyFn, env: gym.Env, episodes: int, seed: int) -> list[dict[str, float]]:
    """Per episode: its ``episode_metrics`` (when the env reports them), return, length and the
    number of actions taken that the env's ``action_masks()`` marked invalid."""
    if not (isinstance(episodes, int) and episodes >= 1):
        raise ValueError(f"episodes={episodes!r}: expected an integer >= 1")
    out = []
    for i in range(episodes):
        obs, info = env.reset(seed=seed + i)
        ret, length, invalid, done = 0.0, 0, 0, False
        while not done:
            mask = env_action_masks(env)
            action = policy(obs, env)
            invalid += int(mask is not None and not mask[int(action)])
            obs, r, term, trunc, info = env.step(action)
            ret += float(r)
            length += 1
            done = term or trunc
        row = {k: float(v) for k, v in info.get("episode_metrics", {}).items()}
        row.update(episode_return=ret, episode_length=float(length), invalid_actions=float(invalid))
        out.append(row)
    return out


def summarize(rows: list[dict[str, float]]) -> dict[str, dict[str, float]]:
    """``{metric: {"mean": m, "std": s}}`` over the episodes."""
    keys = list(rows[0])
    return {k: {"mean": float(np.mean([r[k] for r in rows])), "std": float(np.std([r[k] for r in rows]))} for k in keys}


def model_policy(model: Any, deterministic: bool = True) -> PolicyFn:
    """``model.predict``, given the env's ``action_masks()`` when it accepts them."""
    takes_masks = predict_accepts_masks(model)

    def act(obs: np.ndarray, env: gym.Env) -> int:
        masks = env_action_masks(env) if takes_masks else None
        if masks is None:
            action, _ = model.predict(obs, deterministic=deterministic)
        else:
            action, _ = model.predict(obs, deterministic=deterministic, action_masks=masks)
        return int(np.asarray(action).reshape(-1)[0])

    return act


def random_policy(seed: int) -> PolicyFn:
    """Uniform over the feasible actions (``action_masks()``), from its own generator."""
    rng = np.random.default_rng(seed)

    def act(obs: np.ndarray, env: gym.Env) -> int:
        mask = env_action_masks(env)
        if mask is None:
            mask = np.ones(int(env.action_space.n), dtype=bool)  # type: ignore[attr-defined]
        return int(rng.choice(np.flatnonzero(mask)))

    return act


def _run_config(model_path: Path) -> dict[str, Any]:
    for d in (model_path.parent, model_path.parent.parent):
        f = d / "run.json"
        if f.is_file():
            return json.loads(f.read_text())
    return {}


def evaluate(
    model_path: str | Path,
    env_id: str,
    episodes: int = 3,
    seed: int = 0,
    lyapunov_v: float | None = None,
    carbon_budget: float | None = None,
    deterministic: bool = True,
    carbon_queue: str | None = None,
) -> dict[str, dict[str, float]]:
    """Mean and std of every episode metric of the model at ``model_path``, of ``"random"``
    (uniform over the feasible actions) or of a baseline's name (``pfs``, ``ees``, ... and
    ``oracle``: ``carbon_cpn.agents.baselines.BASELINES``).

    The Lyapunov wrapper settings default to those in the training run's ``run.json`` (next to
    the model or one folder up), so a model trained with ``--lyapunov-v`` sees the same
    observation it was trained on. With a long-term queue (``carbon_queue="long_term"``, or the
    run's) the episodes run one after the other behind one queue, which starts empty.
    """
    if str(model_path) == "random":
        env = make_env(env_id, lyapunov_v, carbon_budget, carbon_queue or "episode")
        return summarize(run_episodes(random_policy(seed), env, episodes, seed))
    from carbon_cpn.agents.baselines import baselines_for, make_policy, policy_action

    if str(model_path) in baselines_for(env_id):
        env = make_env(env_id, lyapunov_v, carbon_budget, carbon_queue or "episode")
        rule = make_policy(str(model_path), env, seed)

        def act(obs: np.ndarray, env: gym.Env) -> int:
            return policy_action(rule, obs)

        return summarize(run_episodes(act, env, episodes, seed))
    from carbon_cpn.agents.registry import load_algorithm

    path = Path(model_path)
    cfg = _run_config(path)
    if lyapunov_v is None and carbon_budget is None:
        lyapunov_v, carbon_budget = cfg.get("lyapunov_v"), cfg.get("carbon_budget")
    if carbon_queue is None:
        carbon_queue = cfg.get("carbon_queue", "episode")
    env = make_env(env_id, lyapunov_v, carbon_budget, carbon_queue)
    model = load_algorithm(path, device="cpu")
    if model.observation_space.shape != env.observation_space.shape:
        raise ValueError(
            f"env_id={env_id!r}: observation shape {env.observation_space.shape} does not match the model's "
            f"{model.observation_space.shape} (trained on another env, or with/without --lyapunov-v?)"
        )
    return summarize(run_episodes(model_policy(model, deterministic), env, episodes, seed))


def format_table(result: dict[str, dict[str, float]]) -> str:
    width = max(len(k) for k in result)
    lines = [f"{'metric':<{width}}  {'mean':>14}  {'std':>12}"]
    lines += [f"{k:<{width}}  {v['mean']:>14.4f}  {v['std']:>12.4f}" for k, v in result.items()]
    return "\n".join(lines)
