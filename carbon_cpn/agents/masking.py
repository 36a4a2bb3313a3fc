"""Invalid-action masks for the value-based agents (issue #14).

The interface is sb3-contrib's ``MaskablePPO``'s: an env (or any of its wrappers, or every env
of a VecEnv) exposes ``action_masks() -> bool [n_actions]`` (True = valid), found with
``sb3_contrib.common.maskable.utils.is_masking_supported`` / ``get_action_masks``, which walk
gymnasium wrappers with ``get_wrapper_attr`` and VecEnvs with ``env_method``. An env without
``action_masks()`` has every action valid.

Where masks act (see ``epsilon_greedy``, ``dqn``, ``double_dqn``, ``rainbow``):

* acting: the greedy action is the argmax of the *final* Q values (for C51 the expectation
  ``sum_j z_j p_j``, for dueling ``V + A - mean A``) with the invalid ones set to :data:`MASKED_Q`,
  a large finite negative (never ``-inf``: ``0 x -inf`` is NaN in ``(1 - d) gamma^k max Q``);
  the epsilon-random and warm-up actions are uniform over the valid actions;
* learning: every stored transition carries the mask of the state its target bootstraps from
  (:data:`NEXT_MASK_KEY`, see :func:`attach_next_masks`), and the target's argmax
  (Double DQN: the online network's selection) is taken over the valid next actions only.
"""

from __future__ import annotations

import inspect
from typing import Any

import gymnasium as gym
import numpy as np
import torch as th
from sb3_contrib.common.maskable.utils import get_action_masks, is_masking_supported
from stable_baselines3.common.vec_env import VecEnv

#: Q value given to masked actions (finite: targets multiply it by ``1 - d``).
MASKED_Q = -1e8
#: Info key under which the rollout hands the next state's mask to the replay buffer.
NEXT_MASK_KEY = "next_action_mask"
#: Info key in which the project's envs report the mask of the observation they return.
INFO_MASK_KEY = "action_mask"


def env_action_masks(env: gym.Env | VecEnv) -> np.ndarray | None:
    """``action_masks()`` of ``env`` (``[n_actions]``; a VecEnv: ``[n_envs, n_actions]``), or None."""
    if not is_masking_supported(env):
        return None
    return np.asarray(get_action_masks(env), dtype=bool)


def predict_accepts_masks(model: Any) -> bool:
    """Whether ``model.predict`` takes an ``action_masks`` argument (MaskablePPO's interface)."""
    try:
        return "action_masks" in inspect.signature(model.predict).parameters
    except (TypeError, ValueError, AttributeError):
        return False


def check_action_masks(action_masks: Any, n_rows: int, n_actions: int, name: str = "action_masks") -> np.ndarray:
    """``action_masks`` as bool ``[n_rows, n_actions]``; ValueError on a wrong shape or a row with
    no valid action. Accepted shapes: ``[n_rows, n_actions]`` or flat ``[n_rows * n_actions]``."""
    m = np.asarray(action_masks)
    if m.shape not in ((n_rows, n_actions), (n_rows * n_actions,)):
        raise ValueError(
            f"{name}: shape {m.shape}; expected ({n_rows}, {n_actions}) or ({n_rows * n_actions},) "
            f"for {n_rows} observation(s) and {n_actions} actions"
        )
    if m.dtype != bool:
        if not np.all((m == 0) | (m == 1)):
            raise ValueError(f"{name}={m!r}: expected booleans (or 0/1), True = valid action")
        m = m.astype(bool)
    m = m.reshape(n_rows, n_actions)
    empty = np.flatnonzero(~m.any(axis=1))
    if empty.size:
        raise ValueError(f"{name}: row(s) {empty.tolist()} allow no action; expected at least one valid action per observation")
    return m


def mask_q_values(q: th.Tensor, masks: th.Tensor | None) -> th.Tensor:
    """``q [batch, n_actions]`` with masked entries set to :data:`MASKED_Q` (``masks`` None: ``q``)."""
    if masks is None:
        return q
    return q.masked_fill(~masks.to(device=q.device, dtype=th.bool), MASKED_Q)


def masked_argmax(q: th.Tensor, masks: th.Tensor | None) -> th.Tensor:
    """``argmax_a`` over the valid actions of each row of ``q [batch, n_actions]``: ``[batch]``."""
    return mask_q_values(q, masks).argmax(dim=1)


def sample_valid_actions(rng: np.random.Generator, masks: np.ndarray) -> np.ndarray:
    """One action per row of ``masks [rows, n_actions]``, uniform over its valid actions: ``[rows]``."""
    masks = np.asarray(masks, dtype=bool)
    counts = masks.sum(axis=1)
    if np.any(counts == 0):
        raise ValueError(f"masks: row(s) {np.flatnonzero(counts == 0).tolist()} allow no action; expected >= 1 valid action")
    k = np.minimum(np.floor(rng.random(masks.shape[0]) * counts), counts - 1)  # rank among the valid actions
    return (np.cumsum(masks, axis=1) > k[:, None]).argmax(axis=1).astype(np.int64)


def attach_next_masks(
    infos: list[dict[str, Any]], current_masks: np.ndarray, dones: np.ndarray
) -> list[dict[str, Any]]:
    """Copies of a VecEnv step's ``infos`` with the next state's mask under :data:`NEXT_MASK_KEY`.

    ``current_masks [n_envs, n_actions]`` is read right after ``step()``: the mask of each env's
    new observation. For an env whose episode ended the VecEnv has already reset it, so that mask
    belongs to the next episode's first state. The transition's own next state is then the
    terminal one: its mask is taken from ``info["action_mask"]`` when the env reports it there
    (the carbon-cpn envs do, with every step), else every action counts as valid. The choice only
    matters after a truncation (time limit), where the target bootstraps; after a termination
    ``(1 - d) = 0`` drops the bootstrap.
    """
    out = []
    n_actions = current_masks.shape[1]
    for i, info in enumerate(infos):
        if dones[i]:
            m = np.asarray(info.get(INFO_MASK_KEY, np.ones(n_actions, dtype=bool)))
            if m.shape != (n_actions,):
                m = np.ones(n_actions, dtype=bool)
        else:
            m = current_masks[i]
        out.append({**info, NEXT_MASK_KEY: np.asarray(m, dtype=bool).copy()})
    return out


def stored_next_masks(infos: list[dict[str, Any]], n_envs: int, n_actions: int) -> np.ndarray:
    """``[n_envs, n_actions]`` masks a replay buffer stores from the ``infos`` of one step.

    A missing mask (unmasked training, an env without masks) or one with no valid action is
    stored as all-valid, so the target never takes the max over an empty set.
    """
    out = np.ones((n_envs, n_actions), dtype=bool)
    for i, info in enumerate(infos[:n_envs]):
        m = info.get(NEXT_MASK_KEY)
        if m is not None:
            m = np.asarray(m, dtype=bool).reshape(-1)
            if m.shape != (n_actions,):
                raise ValueError(f"infos[{i}][{NEXT_MASK_KEY!r}]: shape {m.shape}; expected ({n_actions},)")
            if m.any():
                out[i] = m
    return out
