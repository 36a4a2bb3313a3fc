"""Masked epsilon-greedy action selection from the algorithm's own generator (issues #5, #14).

SB3's ``DQN.predict`` draws the epsilon coin from numpy's global generator. The algorithms of
this package use :class:`OwnRNGEpsilonGreedy` instead: a ``numpy.random.Generator`` seeded from
the run's seed in ``set_random_seed`` (no global RNG: same seed, same run).

Invalid-action masking (issue #14, see ``carbon_cpn.agents.masking``), on unless
``use_masking=False`` (the ablation; saved with the model):

* ``predict(obs, ..., action_masks=m)`` (sb3-contrib ``MaskablePPO``'s signature): the greedy
  action is the argmax of the final Q values over the valid actions, the epsilon-random action
  uniform over the valid actions. ``use_masking=False`` ignores ``action_masks`` (after checking
  its shape), so the unmasked agent is evaluated as it was trained.
* rollouts read the masks of the training env(s) through ``action_masks()`` (through wrappers
  and VecEnvs): warm-up actions (before ``learning_starts``) are uniform over the valid ones,
  later actions come from the masked ``predict``; each stored transition gets the mask of its
  next state (:func:`~carbon_cpn.agents.masking.attach_next_masks`, which also says what is
  stored at episode ends) for the masked target of :meth:`next_action_masks`.
* replay: with SB3's default buffer choice the buffers are the masked ones of
  ``carbon_cpn.agents.masked_buffers`` (also with ``use_masking=False``: then every stored mask
  is all-valid and sampling is SB3's, unchanged).

Discounting by simulated time (``gamma_per_hour``, ``carbon_cpn.agents.smdp``; saved with the
model): the replay buffer gets ``gamma_per_hour``, stores each transition's ``info["elapsed_h"]``
and returns the bootstrap discount ``prod_j gamma_per_hour ** elapsed_j`` of every sampled
transition in ``discounts``, which the targets use in place of ``gamma``. None (the default):
the per-decision ``gamma``, as before.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import torch as th
from gymnasium import spaces
from stable_baselines3 import DQN
from stable_baselines3.common.buffers import NStepReplayBuffer, ReplayBuffer
from stable_baselines3.common.noise import ActionNoise

from carbon_cpn.agents.buffers import PrioritizedNStepReplayBuffer
from carbon_cpn.agents.guided import GuideSet, check_guide
from carbon_cpn.agents.masked_buffers import MaskedNStepReplayBuffer, MaskedReplayBuffer
from carbon_cpn.agents.masking import (
    attach_next_masks,
    check_action_masks,
    env_action_masks,
    masked_argmax,
    sample_valid_actions,
)
from carbon_cpn.agents.policies import greedy_q_values
from carbon_cpn.agents.smdp import check_gamma_per_hour

#: Buffer classes replaced by their masked counterparts (SB3's automatic choice).
_DEFAULT_BUFFERS = (ReplayBuffer, NStepReplayBuffer, MaskedReplayBuffer, MaskedNStepReplayBuffer)


def _supports_gamma_per_hour(buffer_class: type | None) -> bool:
    """Whether ``buffer_class`` takes ``gamma_per_hour`` (the buffers of this package do)."""
    return isinstance(buffer_class, type) and issubclass(
        buffer_class, (MaskedReplayBuffer, MaskedNStepReplayBuffer, PrioritizedNStepReplayBuffer)
    )


class OwnRNGEpsilonGreedy(DQN):
    """``DQN`` whose exploration coin and random actions come from ``self._explore_rng``, and
    which acts and learns with invalid-action masks (module docstring).

    :param use_masking: honour the envs' ``action_masks()`` (False: the unmasked ablation).
    :param gamma_per_hour: discount per simulated hour, in (0, 1]: a transition that advanced
        ``info["elapsed_h"]`` hours is discounted by ``gamma_per_hour ** elapsed_h`` (module
        docstring); None: by ``gamma`` per decision.
    :param guide: a baseline of the env (e.g. ``"pfs"``) whose action replaces a uniform
        exploratory action with probability ``guide_prob`` (``carbon_cpn.agents.guided``).
    Every other argument is SB3 ``DQN``'s.
    """

    _explore_rng: np.random.Generator

    def __init__(
        self, policy: Any, env: Any, *args: Any, use_masking: bool = True, gamma_per_hour: float | None = None,
        guide: str | None = None, guide_prob: float = 0.0, **kwargs: Any
    ) -> None:
        if not isinstance(use_masking, (bool, np.bool_)):
            raise ValueError(f"use_masking={use_masking!r}: expected True or False")
        self.use_masking = bool(use_masking)  # before DQN.__init__, which may run _setup_model()
        self.gamma_per_hour = check_gamma_per_hour(gamma_per_hour)
        self.guide, self.guide_prob = check_guide(guide, guide_prob)
        super().__init__(policy, env, *args, **kwargs)

    def _setup_model(self) -> None:
        if self.replay_buffer_class in (None, *_DEFAULT_BUFFERS) and isinstance(self.observation_space, spaces.Box):
            if self.n_steps > 1:
                self.replay_buffer_class = MaskedNStepReplayBuffer
                self.replay_buffer_kwargs.update({"n_steps": self.n_steps, "gamma": self.gamma})
            else:
                self.replay_buffer_class = MaskedReplayBuffer
        if _supports_gamma_per_hour(self.replay_buffer_class):
            self.replay_buffer_kwargs["gamma_per_hour"] = self.gamma_per_hour
        elif self.gamma_per_hour is not None:
            raise ValueError(
                f"gamma_per_hour={self.gamma_per_hour!r} with replay_buffer_class={self.replay_buffer_class!r}: that buffer "
                "does not discount by simulated time; expected the default buffer (Box observations) or gamma_per_hour=None"
            )
        with warnings.catch_warnings():
            # SB3 warns that n_steps is ignored with a custom buffer class: it is set just above.
            warnings.filterwarnings("ignore", message=r"`n_steps=\d+` is ignored because a custom")
            super()._setup_model()

    def set_random_seed(self, seed: int | None = None) -> None:
        super().set_random_seed(seed)
        # Offset so the coin stream differs from the env's and the buffer's streams.
        self._explore_rng = np.random.default_rng(None if seed is None else [int(seed), 0xE95])

    def _rng(self) -> np.random.Generator:
        if not hasattr(self, "_explore_rng"):
            self._explore_rng = np.random.default_rng(self.seed)
        return self._explore_rng

    # ------------------------------------------------------------------ acting
    def predict(  # type: ignore[override]
        self,
        observation: np.ndarray | dict[str, np.ndarray],
        state: tuple[np.ndarray, ...] | None = None,
        episode_start: np.ndarray | None = None,
        deterministic: bool = False,
        action_masks: np.ndarray | None = None,
    ) -> tuple[np.ndarray, tuple[np.ndarray, ...] | None]:
        """Greedy action; with probability ``exploration_rate`` (if not deterministic) a uniform one.

        :param action_masks: ``[n_actions]`` for one observation, ``[n_obs, n_actions]`` for a
            batch (True = valid): both draws are restricted to the valid actions.
        """
        n_actions = int(self.action_space.n)  # type: ignore[union-attr]
        masks = None
        if action_masks is not None:
            masks = check_action_masks(action_masks, self._n_observations(observation), n_actions)
            if not self.use_masking:
                masks = None
        if masks is None:
            actions, state = self.policy.predict(observation, state, episode_start, deterministic)
            shape = np.shape(actions)
        else:
            actions = self._masked_greedy(observation, masks, deterministic)
            shape = actions.shape if self.policy.is_vectorized_observation(observation) else ()
        if deterministic or self.exploration_rate <= 0.0:
            return np.asarray(actions).reshape(shape), state
        acts = np.atleast_1d(np.asarray(actions)).copy()
        rng = self._rng()
        explore = rng.random(acts.shape[0]) < self.exploration_rate
        if masks is None:
            acts[explore] = rng.integers(0, n_actions, size=int(explore.sum()))
        else:
            acts[explore] = sample_valid_actions(rng, masks[explore])
        return acts.reshape(shape), state

    def _n_observations(self, observation: np.ndarray | dict[str, np.ndarray]) -> int:
        if not self.policy.is_vectorized_observation(observation):
            return 1
        first = next(iter(observation.values())) if isinstance(observation, dict) else observation
        return int(np.shape(first)[0])

    def _masked_greedy(self, observation: np.ndarray | dict[str, np.ndarray], masks: np.ndarray, deterministic: bool) -> np.ndarray:
        """``argmax`` of the final Q values over the valid actions: ``[n_obs]`` int64."""
        self.policy.set_training_mode(False)
        obs_tensor, _ = self.policy.obs_to_tensor(observation)
        with th.no_grad():
            q = greedy_q_values(self.policy, obs_tensor, deterministic)
            actions = masked_argmax(q, th.as_tensor(masks, device=q.device))
        return actions.cpu().numpy().astype(np.int64)

    # ------------------------------------------------------------------ rollouts
    def rollout_action_masks(self) -> np.ndarray | None:
        """Masks ``[n_envs, n_actions]`` of the training envs now, or None (unmasked / no masks)."""
        if not self.use_masking or self.env is None:
            return None
        return env_action_masks(self.env)

    def _sample_action(
        self, learning_starts: int, action_noise: ActionNoise | None = None, n_envs: int = 1
    ) -> tuple[np.ndarray, np.ndarray]:
        masks = self.rollout_action_masks()
        if self.guide is not None:
            return self._guided_action(learning_starts, masks, n_envs)
        if masks is None:
            return super()._sample_action(learning_starts, action_noise, n_envs)
        if self.num_timesteps < learning_starts:  # warm-up: uniform over the valid actions
            action = sample_valid_actions(self._rng(), masks)
        else:
            action, _ = self.predict(self._last_obs, deterministic=False, action_masks=masks)  # type: ignore[arg-type]
        action = np.asarray(action).reshape(n_envs)
        return action, action

    def _guided_action(self, learning_starts: int, masks: np.ndarray | None, n_envs: int) -> tuple[np.ndarray, np.ndarray]:
        """A rollout action with guided exploration (``carbon_cpn.agents.guided``)."""
        if getattr(self, "_guides", None) is None or self._guides.venv is not self.env:  # new or other envs
            self._guides = GuideSet(self.guide, self.env, self.seed)  # type: ignore[arg-type]
        if masks is None:  # unmasked: uniform over every action
            masks = np.ones((n_envs, int(self.action_space.n)), dtype=bool)  # type: ignore[union-attr]
        rng = self._rng()
        obs = np.asarray(self._last_obs)
        uniform = sample_valid_actions(rng, masks)
        if self.num_timesteps < learning_starts:
            greedy, explore = uniform, np.ones(n_envs, dtype=bool)
        else:
            greedy = self._masked_greedy(obs, masks, deterministic=False)
            explore = rng.random(n_envs) < self.exploration_rate
        mixed = self._guides.mix(rng, explore, uniform, obs, self.guide_prob)
        action = np.where(mixed >= 0, mixed, greedy).reshape(n_envs)
        return action, action

    def _store_transition(
        self,
        replay_buffer: ReplayBuffer,
        buffer_action: np.ndarray,
        new_obs: np.ndarray | dict[str, np.ndarray],
        reward: np.ndarray,
        dones: np.ndarray,
        infos: list[dict[str, Any]],
    ) -> None:
        masks = self.rollout_action_masks()  # after step(): the masks of new_obs
        if masks is not None:
            infos = attach_next_masks(infos, masks, dones)
        super()._store_transition(replay_buffer, buffer_action, new_obs, reward, dones, infos)

    # ------------------------------------------------------------------ learning
    def next_action_masks(self, data: Any) -> th.Tensor | None:
        """The masks ``[batch, n_actions]`` of a sampled batch's next states for the target, or
        None (unmasked: ``use_masking=False`` or a buffer that stores none)."""
        if not self.use_masking:
            return None
        return getattr(data, "next_action_masks", None)

    def load_replay_buffer(self, path: Any, truncate_last_traj: bool = True) -> None:
        """SB3's, plus a check that the buffer discounts as this model does (``gamma_per_hour``)."""
        super().load_replay_buffer(path, truncate_last_traj)
        stored = getattr(self.replay_buffer, "gamma_per_hour", None)
        if stored != self.gamma_per_hour:
            raise ValueError(
                f"replay buffer {str(path)!r}: gamma_per_hour={stored!r} differs from the model's "
                f"gamma_per_hour={self.gamma_per_hour!r}; expected a buffer saved by a model with the same setting"
            )

    def _excluded_save_params(self) -> list[str]:
        return [*super()._excluded_save_params(), "_explore_rng", "_guides"]
