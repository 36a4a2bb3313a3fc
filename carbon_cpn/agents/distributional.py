"""C51 distributional RL: the value support and the categorical projection (issue #5).

Bellemare, Dabney & Munos 2017, "A Distributional Perspective on Reinforcement Learning",
Algorithm 1. The return distribution of ``(s, a)`` is categorical on ``N`` atoms

    z_j = v_min + j * dz,   dz = (v_max - v_min) / (N - 1),   j = 0..N-1.

The target distribution of a transition with reward ``R`` (n-step sum), discount ``gamma^k`` and
termination ``d`` is the next-state distribution ``p_j`` shifted to ``T z_j = R + (1-d) gamma^k
z_j``, clipped to ``[v_min, v_max]``, and projected back on the support: with ``b_j = (T z_j -
v_min) / dz``, ``l = floor(b_j)``, the mass ``p_j`` is split ``(l + 1 - b_j)`` to atom ``l`` and
``(b_j - l)`` to atom ``l + 1`` (an atom landing exactly on ``z_l`` gives all its mass to ``l``).
"""

from __future__ import annotations

import numpy as np
import torch as th


def make_support(v_min: float, v_max: float, n_atoms: int) -> th.Tensor:
    """The atoms ``z [n_atoms]`` from ``v_min`` to ``v_max``."""
    if not (np.isfinite(v_min) and np.isfinite(v_max) and v_min < v_max):
        raise ValueError(f"v_min={v_min!r}, v_max={v_max!r}: expected finite bounds with v_min < v_max")
    if not (isinstance(n_atoms, (int, np.integer)) and n_atoms >= 2):
        raise ValueError(f"n_atoms={n_atoms!r}: expected an integer >= 2")
    return th.linspace(float(v_min), float(v_max), int(n_atoms))


def project_distribution(
    next_probs: th.Tensor, rewards: th.Tensor, dones: th.Tensor, discounts: th.Tensor, support: th.Tensor
) -> th.Tensor:
    """Project ``R + (1-d) gamma^k Z'`` onto ``support``.

    :param next_probs: ``[batch, n_atoms]`` probabilities of the next state's distribution.
    :param rewards: ``[batch]`` or ``[batch, 1]`` n-step rewards ``R``.
    :param dones: ``[batch]`` or ``[batch, 1]`` 1 where the episode terminated (no bootstrap).
    :param discounts: ``[batch]``, ``[batch, 1]`` or a scalar tensor ``gamma^k``.
    :param support: ``[n_atoms]`` equally spaced atoms.
    :return: ``[batch, n_atoms]`` target probabilities (each row sums to the row of ``next_probs``).
    """
    batch, n_atoms = next_probs.shape
    if support.shape != (n_atoms,):
        raise ValueError(f"support.shape={tuple(support.shape)}: expected ({n_atoms},) to match next_probs")
    v_min, v_max = float(support[0]), float(support[-1])
    dz = (v_max - v_min) / (n_atoms - 1)
    r = rewards.reshape(batch, 1).to(next_probs.dtype)
    d = dones.reshape(batch, 1).to(next_probs.dtype) if dones.numel() > 1 else dones.reshape(1, 1).to(next_probs.dtype)
    g = discounts.reshape(-1, 1).to(next_probs.dtype) if discounts.numel() > 1 else discounts.reshape(1, 1).to(next_probs.dtype)
    tz = (r + (1.0 - d) * g * support.reshape(1, n_atoms)).clamp(v_min, v_max)  # [batch, atom]
    b = (tz - v_min) / dz  # fractional atom index in [0, N-1]
    lower = b.floor().clamp(0, n_atoms - 1)
    frac = b - lower  # 0 when T z_j lands on an atom: all mass to `lower`
    upper = (lower + 1).clamp(max=n_atoms - 1)  # at b = N-1, frac = 0 so the clamp is harmless
    out = th.zeros_like(next_probs)
    out.scatter_add_(1, lower.long(), next_probs * (1.0 - frac))
    out.scatter_add_(1, upper.long(), next_probs * frac)
    return out
