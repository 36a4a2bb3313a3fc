"""SB3's replay buffers with the next state's action mask stored per transition (issue #14).

:class:`MaskedReplayBuffer` (one-step) and :class:`MaskedNStepReplayBuffer` (SB3's n-step
returns) keep SB3's storage, sampling and n-step arithmetic (the env index of each sampled row
is drawn from numpy's global generator, as SB3 does, which ``set_random_seed`` seeds) and add
``next_action_masks [buffer_size, n_envs, n_actions]``: the mask of the state the target
bootstraps from, read from each step's ``infos`` (:data:`~carbon_cpn.agents.masking.NEXT_MASK_KEY`,
all-valid when absent). For the n-step buffer that is the mask at the last state of the
(possibly shortened) window, the same row as the returned ``next_observations``.

Discounting by simulated time (``gamma_per_hour``, see ``carbon_cpn.agents.smdp``): when set,
each row also stores ``elapsed_h [buffer_size, n_envs]`` (``info["elapsed_h"]``, a ValueError
naming the key when an env does not report it) and the samples' ``discounts`` hold the
bootstrap discount of each transition: ``gamma_per_hour ** elapsed_h`` (one-step), or
``prod_{j<k} g_j`` with the return ``R = sum_{i<k} (prod_{j<i} g_j) r_i``, ``g_j =
gamma_per_hour ** elapsed_j``, over the same window SB3 cuts at termination / truncation (n-step).
``gamma_per_hour=None``: one-step ``discounts=None`` (the algorithm uses ``gamma``) and SB3's
n-step arithmetic with ``gamma``, unchanged.

The DQN family uses these by default (``epsilon_greedy``); Rainbow's
:class:`~carbon_cpn.agents.buffers.PrioritizedNStepReplayBuffer` stores masks itself.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
import torch as th
from gymnasium import spaces
from stable_baselines3.common.buffers import NStepReplayBuffer, ReplayBuffer
from stable_baselines3.common.vec_env import VecNormalize

from carbon_cpn.agents.masking import stored_next_masks
from carbon_cpn.agents.smdp import check_gamma_per_hour, elapsed_hours, step_discounts, window_discounts


class MaskedReplayBufferSamples(NamedTuple):
    """SB3's ``ReplayBufferSamples`` plus the next state's mask."""

    observations: th.Tensor  # [batch, *obs_shape]
    actions: th.Tensor  # [batch, 1]
    next_observations: th.Tensor  # [batch, *obs_shape]
    dones: th.Tensor  # [batch, 1] terminated (timeouts bootstrap)
    rewards: th.Tensor  # [batch, 1]
    discounts: th.Tensor | None  # [batch, 1] bootstrap discount (gamma^k, or time-based), None: gamma
    next_action_masks: th.Tensor  # [batch, n_actions] bool, mask of next_observations


def _n_actions(action_space: spaces.Space) -> int:
    if not isinstance(action_space, spaces.Discrete):
        raise ValueError(f"action_space={action_space!r}: expected a Discrete action space for action masks")
    return int(action_space.n)


class _NextMaskStorage:
    """Mixin for SB3 replay buffers: ``next_action_masks`` (and, with ``gamma_per_hour``, the
    simulated hours ``elapsed_h``) stored alongside each row.

    :param gamma_per_hour: discount per simulated hour (module docstring); None: per decision.
    """

    n_envs: int
    pos: int
    buffer_size: int
    action_space: spaces.Space
    #: Class defaults, so that buffers pickled before time-based discounting load unchanged.
    gamma_per_hour: float | None = None
    elapsed_h: np.ndarray | None = None

    def __init__(self, *args: Any, gamma_per_hour: float | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[call-arg]
        self.n_actions = _n_actions(self.action_space)
        self.next_action_masks = np.ones((self.buffer_size, self.n_envs, self.n_actions), dtype=bool)
        self.gamma_per_hour = check_gamma_per_hour(gamma_per_hour)
        if self.gamma_per_hour is not None:
            self.elapsed_h = np.zeros((self.buffer_size, self.n_envs), dtype=np.float64)  # [row, env] hours

    def add(
        self,
        obs: np.ndarray,
        next_obs: np.ndarray,
        action: np.ndarray,
        reward: np.ndarray,
        done: np.ndarray,
        infos: list[dict[str, Any]],
    ) -> None:
        if self.gamma_per_hour is not None:
            self.elapsed_h[self.pos] = elapsed_hours(infos, self.n_envs)  # type: ignore[index]
        self.next_action_masks[self.pos] = stored_next_masks(infos, self.n_envs, self.n_actions)
        super().add(obs, next_obs, action, reward, done, infos)  # type: ignore[misc]  # advances self.pos


class MaskedReplayBuffer(_NextMaskStorage, ReplayBuffer):
    """SB3's ``ReplayBuffer`` that also stores the next state's action mask (module docstring);
    ``discounts`` is ``gamma_per_hour ** elapsed_h`` with ``gamma_per_hour`` set, else None."""

    def _get_samples(self, batch_inds: np.ndarray, env: VecNormalize | None = None) -> MaskedReplayBufferSamples:  # type: ignore[override]
        env_indices = np.random.randint(0, high=self.n_envs, size=(len(batch_inds),))  # as SB3
        if self.optimize_memory_usage:
            next_obs = self.observations[(batch_inds + 1) % self.buffer_size, env_indices, :]
        else:
            next_obs = self.next_observations[batch_inds, env_indices, :]
        dones = self.dones[batch_inds, env_indices] * (1 - self.timeouts[batch_inds, env_indices])
        discounts = None
        if self.gamma_per_hour is not None:  # g = gamma_per_hour ** elapsed_h
            g = step_discounts(self.gamma_per_hour, self.elapsed_h[batch_inds, env_indices])  # type: ignore[index]
            discounts = self.to_torch(g.reshape(-1, 1).astype(np.float32))
        return MaskedReplayBufferSamples(
            observations=self.to_torch(self._normalize_obs(self.observations[batch_inds, env_indices, :], env)),  # type: ignore[arg-type]
            actions=self.to_torch(self.actions[batch_inds, env_indices, :]),
            next_observations=self.to_torch(self._normalize_obs(next_obs, env)),  # type: ignore[arg-type]
            dones=self.to_torch(dones.reshape(-1, 1)),
            rewards=self.to_torch(self._normalize_reward(self.rewards[batch_inds, env_indices].reshape(-1, 1), env)),
            discounts=discounts,
            next_action_masks=self.to_torch(self.next_action_masks[batch_inds, env_indices]),
        )


class MaskedNStepReplayBuffer(_NextMaskStorage, NStepReplayBuffer):
    """SB3's ``NStepReplayBuffer`` that also stores, and returns for the n-th next state, the mask."""

    def _get_samples(self, batch_inds: np.ndarray, env: VecNormalize | None = None) -> MaskedReplayBufferSamples:  # type: ignore[override]
        """SB3's n-step sampling (same arithmetic), plus the mask at the window's last state.

        Per-decision (``gamma_per_hour`` None): ``R = sum_{i<k} gamma^i r_i``, discount ``gamma^k``.
        Time-based: ``R = sum_{i<k} (prod_{j<i} g_j) r_i``, discount ``prod_{j<k} g_j``, ``g_j =
        gamma_per_hour ** elapsed_j``; ``k`` steps up to the first termination / truncation.
        """
        env_indices = np.random.randint(0, self.n_envs, size=batch_inds.shape)  # as SB3
        # The row at pos - 1 is the newest: no window may run past it into older data.
        last_valid = self.pos - 1
        saved_timeouts = self.timeouts[last_valid].copy()
        self.timeouts[last_valid] = np.logical_or(saved_timeouts, np.logical_not(self.dones[last_valid]))
        try:
            idx = (batch_inds[:, None] + np.arange(self.n_steps)[None, :]) % self.buffer_size  # [batch, n]
            env_col = env_indices[:, None]
            rewards_seq = self._normalize_reward(self.rewards[idx, env_col], env)
            ends = np.logical_or(self.dones[idx, env_col], self.timeouts[idx, env_col])
            end_idx = np.where(ends.any(axis=1), ends.argmax(axis=1), self.n_steps - 1)  # window's last step
            within = np.arange(self.n_steps)[None, :] <= end_idx[:, None]
            if self.gamma_per_hour is None:
                discounts = (self.gamma ** within.sum(axis=1, keepdims=True)).astype(np.float32)  # gamma^k
                returns = (rewards_seq * self.gamma ** np.arange(self.n_steps, dtype=np.float32)[None, :] * within).sum(
                    axis=1, keepdims=True
                )
            else:  # g_j = gamma_per_hour ** elapsed_j; weights prod_{j<i} g_j, bootstrap prod_{j<k} g_j
                g = step_discounts(self.gamma_per_hour, self.elapsed_h[idx, env_col])  # type: ignore[index]
                weights, bootstrap = window_discounts(g, within)
                returns = (rewards_seq * weights).sum(axis=1, keepdims=True)
                discounts = bootstrap.astype(np.float32)
            last = (batch_inds + end_idx) % self.buffer_size
            dones = self.dones[last, env_indices] * (1.0 - self.timeouts[last, env_indices])
            next_masks = self.next_action_masks[last, env_indices]
        finally:
            self.timeouts[last_valid] = saved_timeouts
        return MaskedReplayBufferSamples(
            observations=self.to_torch(self._normalize_obs(self.observations[batch_inds, env_indices], env)),  # type: ignore[arg-type]
            actions=self.to_torch(self.actions[batch_inds, env_indices]),
            next_observations=self.to_torch(self._normalize_obs(self.next_observations[last, env_indices], env)),  # type: ignore[arg-type]
            dones=self.to_torch(dones[:, None].astype(np.float32)),
            rewards=self.to_torch(returns.astype(np.float32)),
            discounts=self.to_torch(discounts),
            next_action_masks=self.to_torch(next_masks),
        )
