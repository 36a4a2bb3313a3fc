"""Play whole episodes and tabulate their metrics (mean and spread over seeds) in Markdown;
shared by the benchmark scripts that compare policies on a family."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import numpy as np

#: A column: (episode_metrics key, header, decimals).
Column = tuple[str, str, int]


def play(env: gym.Env, policy: Any, seed: int) -> dict[str, float]:
    """One episode of ``policy`` (SB3 ``predict``) from ``env.reset(seed=seed)``; its metrics."""
    obs, _ = env.reset(seed=seed)
    done = False
    info: dict[str, Any] = {}
    while not done:
        a, _ = policy.predict(obs)
        obs, _, term, trunc, info = env.step(int(a))
        done = term or trunc
    return info["episode_metrics"]


def header(columns: Sequence[Column], first: str = "method") -> list[str]:
    return [f"| {first} | " + " | ".join(c[1] for c in columns) + " |", "|---|" + "---:|" * len(columns)]


def row(label: str, episodes: Sequence[dict[str, float]], columns: Sequence[Column]) -> str:
    """``label`` and, per column, the mean over ``episodes`` with the standard deviation in brackets."""
    cells = []
    for key, _, digits in columns:
        v = np.array([m[key] for m in episodes], dtype=float)
        cells.append(f"{v.mean():,.{digits}f} ({v.std():,.{digits}f})")
    return f"| {label} | " + " | ".join(cells) + " |"


__all__ = ["Column", "header", "play", "row"]
