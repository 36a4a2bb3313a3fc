"""Discounting by simulated time for the DQN family (semi-Markov decisions).

The carbon-cpn envs take many decisions inside one grid interval and advance simulated time only
when no decision is pending, so a transition's holding time varies: 0 for a decision inside an
interval, one or more intervals when the clock moves. With ``gamma_per_hour`` set, a transition
that advanced ``elapsed_h`` simulated hours (``info["elapsed_h"]``, :data:`ELAPSED_KEY`) is
discounted by

    g = gamma_per_hour ** elapsed_h

instead of the per-decision ``gamma``: the one-step target is ``y = r + (1 - d) g max_a' Q(s', a')``
and an n-step window ``r_0 .. r_{k-1}`` gives ``R = sum_i (prod_{j<i} g_j) r_i`` with the
bootstrap discount ``prod_{j<k} g_j``. ``gamma_per_hour=None`` keeps the per-decision ``gamma``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

#: Info key in which an env reports the simulated hours a step advanced.
ELAPSED_KEY = "elapsed_h"


def check_gamma_per_hour(value: Any) -> float | None:
    """``value`` as a float in ``(0, 1]``, or None; ValueError otherwise."""
    if value is None:
        return None
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValueError(f"gamma_per_hour={value!r}: expected None or a discount per simulated hour in (0, 1]")
    v = float(value)
    if not (0.0 < v <= 1.0):
        raise ValueError(f"gamma_per_hour={value!r}: expected None or a discount per simulated hour in (0, 1]")
    return v


def elapsed_hours(infos: list[dict[str, Any]], n_envs: int) -> np.ndarray:
    """``[n_envs]`` simulated hours of one step of each env, read from ``infos[e]["elapsed_h"]``.

    ValueError when an info lacks the key (the env does not report simulated time, so
    ``gamma_per_hour`` cannot be used with it) or holds a negative / non-finite value.
    """
    out = np.zeros(n_envs, dtype=np.float64)
    for e in range(n_envs):
        info = infos[e] if e < len(infos) else {}
        if ELAPSED_KEY not in info:
            raise ValueError(
                f"infos[{e}] has no {ELAPSED_KEY!r} key: gamma_per_hour discounts by simulated time and needs an env "
                f"that reports the hours each step advanced in info[{ELAPSED_KEY!r}] (the carbon-cpn envs do); "
                "expected such an env, or gamma_per_hour=None (per-decision gamma)"
            )
        out[e] = float(info[ELAPSED_KEY])
    if not np.all(np.isfinite(out) & (out >= 0.0)):
        raise ValueError(f"info[{ELAPSED_KEY!r}]={out.tolist()}: expected finite simulated hours >= 0")
    return out


def step_discounts(gamma_per_hour: float, elapsed_h: np.ndarray) -> np.ndarray:
    """Per-step discounts ``g = gamma_per_hour ** elapsed_h`` (same shape, float64)."""
    return np.power(float(gamma_per_hour), np.asarray(elapsed_h, dtype=np.float64))


def window_discounts(g: np.ndarray, within: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Reward weights and bootstrap discount of n-step windows (vectorized over the batch).

    :param g: ``[batch, n]`` per-step discounts ``g_i``.
    :param within: ``[batch, n]`` bool, True for the steps inside each (possibly shortened) window.
    :return: ``weights [batch, n]`` = ``prod_{j<i} g_j`` inside the window (0 outside) and
        ``bootstrap [batch, 1]`` = ``prod_{j in window} g_j``.
    """
    g_in = np.where(within, g, 1.0)
    cum = np.cumprod(g_in, axis=1)  # prod_{j<=i} g_j
    before = np.concatenate([np.ones_like(cum[:, :1]), cum[:, :-1]], axis=1)  # prod_{j<i} g_j
    return before * within, cum[:, -1:]
