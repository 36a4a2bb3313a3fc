"""Prioritized n-step replay for the DQN family and Rainbow (issue #5).

:class:`PrioritizedNStepReplayBuffer` combines

* **n-step returns** (Sutton 1988; Hessel et al. 2018, eq. 2): the stored transition starting at
  ``s_t`` is ``(s_t, a_t, R_t^(k), s_{t+k}, d, gamma^k)`` with

      R_t^(k) = sum_{i=0}^{k-1} gamma^i r_{t+i},   k = min(n, steps to the episode's end),

  the target being ``R_t^(k) + (1 - d) gamma^k max_a Q(s_{t+k}, a)``. The sum stops at a
  termination (``d = 1``: no bootstrap) *and* at a truncation (time limit,
  ``info["TimeLimit.truncated"]``: ``d = 0``, bootstrap from the last observation reached,
  which SB3 passes as ``next_obs``). Each env of a VecEnv has its own queue of the last ``n``
  one-step transitions, so n-step sums never mix envs.
* **proportional prioritization** (Schaul et al. 2016, sec. 3.3): transition ``i`` is sampled
  with ``P(i) = p_i^alpha / sum_k p_k^alpha``, ``p_i = |delta_i| + eps`` (for C51 the
  cross-entropy loss, Hessel et al. 2018), new transitions get the largest priority seen so far.
  Sampling is stratified: the total mass is split into ``batch_size`` equal segments and one
  value is drawn uniformly in each. The bias is corrected by importance weights

      w_i = (N P(i))^(-beta) / max_j w_j,   max_j w_j = (N min_k P(k))^(-beta),

  with ``beta`` annealed linearly from ``beta0`` to 1 over training (the algorithm sets
  :attr:`beta` from its progress before each sample).

**action masks** (issue #14): each row also stores the mask of its bootstrap state
  ``s_{t+k}`` (``next_action_masks``), taken from the ``infos`` of the step that reached it
  (:data:`~carbon_cpn.agents.masking.NEXT_MASK_KEY`; all-valid when absent), so the target's
  argmax can skip actions that are invalid there.

**discounting by simulated time** (``gamma_per_hour``, see ``carbon_cpn.agents.smdp``): each
  one-step transition then carries ``g_i = gamma_per_hour ** info["elapsed_h"]`` (a ValueError
  naming the key when an env does not report it) in place of ``gamma``, so that

      R_t^(k) = sum_{i=0}^{k-1} (prod_{j<i} g_{t+j}) r_{t+i},   discount = prod_{j<k} g_{t+j},

  over the same windows (cut at termination / truncation). ``gamma_per_hour=None``: ``g_i = gamma``.

``alpha = 0`` gives uniform replay with unit weights (the n-step buffer without priorities).
Storage is flat: one row per emitted transition whichever env it came from, so ``buffer_size``
counts transitions (not steps x envs).
"""

from __future__ import annotations

from collections import deque
from typing import Any, NamedTuple

import numpy as np
import torch as th
from gymnasium import spaces
from stable_baselines3.common.buffers import BaseBuffer, ReplayBuffer
from stable_baselines3.common.preprocessing import get_obs_shape
from stable_baselines3.common.vec_env import VecNormalize

from carbon_cpn.agents.masking import stored_next_masks
from carbon_cpn.agents.segment_tree import MinSegmentTree, SumSegmentTree
from carbon_cpn.agents.smdp import check_gamma_per_hour, elapsed_hours, step_discounts

#: One pending one-step transition of an env: obs, action, reward, next obs, next obs's mask,
#: the step's discount g (gamma, or gamma_per_hour ** elapsed_h).
_Step = tuple[np.ndarray, np.ndarray, float, np.ndarray, np.ndarray, float]


class PrioritizedReplaySamples(NamedTuple):
    """A sampled batch; the first five fields match SB3's ``ReplayBufferSamples``."""

    observations: th.Tensor  # [batch, *obs_shape]
    actions: th.Tensor  # [batch, 1] int64
    next_observations: th.Tensor  # [batch, *obs_shape] s_{t+k}
    dones: th.Tensor  # [batch, 1] 1 where the episode terminated within the k steps
    rewards: th.Tensor  # [batch, 1] R_t^(k)
    discounts: th.Tensor  # [batch, 1] gamma^k, or prod_{j<k} g_j (gamma_per_hour)
    weights: th.Tensor  # [batch, 1] importance weights w_i (1 with alpha = 0)
    indices: np.ndarray  # [batch] rows, for update_priorities()
    next_action_masks: th.Tensor | None = None  # [batch, n_actions] bool, mask of s_{t+k}


class PrioritizedNStepReplayBuffer(ReplayBuffer):
    """Proportional prioritized replay with per-env n-step returns (see the module docstring).

    :param buffer_size: capacity in transitions.
    :param n_steps: n of the n-step return (1 = one-step).
    :param gamma: discount factor gamma of the algorithm.
    :param alpha: prioritization exponent (0 = uniform).
    :param beta0: initial importance-sampling exponent, annealed to 1 by the algorithm.
    :param priority_eps: eps added to |TD error| so that no transition has zero priority.
    :param seed: seed of the buffer's own generator (sampling); the algorithm reseeds it.
    :param gamma_per_hour: discount per simulated hour (module docstring); None: ``gamma`` per step.
    """

    #: Class default, so that buffers pickled before time-based discounting load unchanged.
    gamma_per_hour: float | None = None

    def __init__(
        self,
        buffer_size: int,
        observation_space: spaces.Space,
        action_space: spaces.Space,
        device: th.device | str = "auto",
        n_envs: int = 1,
        optimize_memory_usage: bool = False,
        n_steps: int = 3,
        gamma: float = 0.99,
        alpha: float = 0.5,
        beta0: float = 0.4,
        priority_eps: float = 1e-6,
        seed: int | None = None,
        gamma_per_hour: float | None = None,
    ) -> None:
        if not (isinstance(buffer_size, (int, np.integer)) and buffer_size >= 1):
            raise ValueError(f"buffer_size={buffer_size!r}: expected an integer >= 1")
        if optimize_memory_usage:
            raise ValueError("optimize_memory_usage=True: not supported by PrioritizedNStepReplayBuffer; expected False")
        if not (isinstance(n_steps, (int, np.integer)) and n_steps >= 1):
            raise ValueError(f"n_steps={n_steps!r}: expected an integer >= 1")
        if not (0.0 <= gamma <= 1.0):
            raise ValueError(f"gamma={gamma!r}: expected a discount factor in [0, 1]")
        if not (alpha >= 0.0):
            raise ValueError(f"alpha={alpha!r}: expected a prioritization exponent >= 0")
        if not (0.0 <= beta0 <= 1.0):
            raise ValueError(f"beta0={beta0!r}: expected an importance-sampling exponent in [0, 1]")
        if not (priority_eps > 0.0):
            raise ValueError(f"priority_eps={priority_eps!r}: expected > 0")
        if not isinstance(action_space, spaces.Discrete):
            raise ValueError(f"action_space={action_space!r}: expected a Discrete action space")
        if not isinstance(observation_space, spaces.Box):
            raise ValueError(f"observation_space={observation_space!r}: expected a Box (Dict observations are not supported)")
        # A ReplayBuffer for SB3's isinstance checks (load_replay_buffer), with its own storage:
        # only BaseBuffer's constructor runs.
        BaseBuffer.__init__(self, int(buffer_size), observation_space, action_space, device, n_envs=n_envs)
        self.optimize_memory_usage = False
        self.handle_timeout_termination = True  # truncations bootstrap (see add())
        self.n_steps = int(n_steps)
        self.gamma = float(gamma)
        self.alpha = float(alpha)
        self.beta0 = float(beta0)
        self.beta = float(beta0)
        self.priority_eps = float(priority_eps)
        self.gamma_per_hour = check_gamma_per_hour(gamma_per_hour)
        self.obs_shape = get_obs_shape(observation_space)
        obs_dtype = observation_space.dtype
        self.observations = np.zeros((self.buffer_size, *self.obs_shape), dtype=obs_dtype)  # [row, *obs]
        self.next_observations = np.zeros((self.buffer_size, *self.obs_shape), dtype=obs_dtype)
        self.actions = np.zeros((self.buffer_size, self.action_dim), dtype=np.int64)  # [row, action_dim]
        self.rewards = np.zeros(self.buffer_size, dtype=np.float32)  # [row] R^(k)
        self.dones = np.zeros(self.buffer_size, dtype=np.float32)  # [row] terminated
        self.discounts = np.zeros(self.buffer_size, dtype=np.float32)  # [row] gamma^k or prod_j g_j
        self.n_actions = int(action_space.n)
        self.next_action_masks = np.ones((self.buffer_size, self.n_actions), dtype=bool)  # [row, action] of s_{t+k}
        self.sum_tree = SumSegmentTree(self.buffer_size)  # leaves p_i^alpha
        self.min_tree = MinSegmentTree(self.buffer_size)
        self.max_priority = 1.0  # largest p_i seen (before the exponent)
        self._queues: list[deque[_Step]] = [deque() for _ in range(self.n_envs)]
        self.rng = np.random.default_rng(seed)

    # ------------------------------------------------------------------ seeding / pickling
    def seed(self, seed: int | None) -> None:
        """Reseed the sampling generator (the algorithm calls this from its seed)."""
        self.rng = np.random.default_rng(seed)

    def __getstate__(self) -> dict[str, Any]:
        # Partial n-step queues belong to the episodes running now; a saved buffer is reloaded
        # with freshly reset envs (resume), so they are dropped, never completed with another
        # episode's rewards.
        state = self.__dict__.copy()
        state["_queues"] = [deque() for _ in range(self.n_envs)]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        if "next_action_masks" not in state:  # pickled before masks were stored: all valid
            self.n_actions = int(self.action_space.n)  # type: ignore[attr-defined]
            self.next_action_masks = np.ones((self.buffer_size, self.n_actions), dtype=bool)

    def reset(self) -> None:
        BaseBuffer.reset(self)
        self._queues = [deque() for _ in range(self.n_envs)]

    # ------------------------------------------------------------------ adding
    def add(
        self,
        obs: np.ndarray,
        next_obs: np.ndarray,
        action: np.ndarray,
        reward: np.ndarray,
        done: np.ndarray,
        infos: list[dict[str, Any]],
    ) -> None:
        """Add one step of every env: ``obs, next_obs [env, *obs]``, ``action, reward, done [env]``.

        ``next_obs`` is the true next observation (SB3 substitutes the terminal observation at
        episode ends); ``infos[e][NEXT_MASK_KEY]`` its action mask (all valid when absent);
        ``infos[e]["elapsed_h"]`` the step's simulated hours (read with ``gamma_per_hour`` only).
        Emits, per env, the n-step transition whose window is now full, or every pending
        transition of an env whose episode ended (terminated or truncated).
        """
        obs = np.asarray(obs).reshape((self.n_envs, *self.obs_shape))
        next_obs = np.asarray(next_obs).reshape((self.n_envs, *self.obs_shape))
        action = np.asarray(action).reshape((self.n_envs, self.action_dim))
        reward = np.asarray(reward, dtype=np.float64).reshape(self.n_envs)
        done = np.asarray(done, dtype=bool).reshape(self.n_envs)
        next_masks = stored_next_masks(infos, self.n_envs, self.n_actions)
        if self.gamma_per_hour is None:
            g = np.full(self.n_envs, self.gamma)
        else:  # g = gamma_per_hour ** elapsed_h
            g = step_discounts(self.gamma_per_hour, elapsed_hours(infos, self.n_envs))
        for e in range(self.n_envs):
            q = self._queues[e]
            q.append((obs[e].copy(), action[e].copy(), float(reward[e]), next_obs[e].copy(), next_masks[e], float(g[e])))
            if done[e]:
                truncated = bool(infos[e].get("TimeLimit.truncated", False))
                terminated = not truncated
                while q:  # every pending start state gets the truncated sum up to the end
                    self._emit(q, terminated)
                    q.popleft()
            elif len(q) == self.n_steps:
                self._emit(q, False)
                q.popleft()

    def _emit(self, q: deque[_Step], terminated: bool) -> None:
        """Store the transition starting at ``q[0]``: ``R = sum_i (prod_{j<i} g_j) r_i`` over the
        queue, discount ``prod_j g_j`` (``g_j = gamma``: ``sum_i gamma^i r_i`` and ``gamma^k``)."""
        ret, disc = 0.0, 1.0
        for _, _, r, _, _, g in q:
            ret += disc * r
            disc *= g
        # disc == prod_{j<k} g_j now, k = len(q); the bootstrap state is the last next_obs, with its mask.
        row = self.pos
        self.observations[row] = q[0][0]
        self.actions[row] = q[0][1]
        self.rewards[row] = ret
        self.next_observations[row] = q[-1][3]
        self.next_action_masks[row] = q[-1][4]
        self.dones[row] = float(terminated)
        self.discounts[row] = disc
        p_alpha = self.max_priority**self.alpha
        self.sum_tree[row] = p_alpha
        self.min_tree[row] = p_alpha
        self.pos += 1
        if self.pos == self.buffer_size:
            self.full = True
            self.pos = 0

    # ------------------------------------------------------------------ sampling
    def sample(self, batch_size: int, env: VecNormalize | None = None) -> PrioritizedReplaySamples:  # type: ignore[override]
        """Stratified proportional sample of ``batch_size`` rows with importance weights."""
        if env is not None:
            raise ValueError("env=VecNormalize: observation normalization is not supported by this buffer; expected None")
        n = self.size()
        if n == 0:
            raise RuntimeError("sample() called on an empty PrioritizedNStepReplayBuffer (learning_starts too small?)")
        total = self.sum_tree.total()
        bounds = np.linspace(0.0, total, batch_size + 1)
        mass = bounds[:-1] + self.rng.random(batch_size) * (bounds[1:] - bounds[:-1])
        idx = np.minimum(self.sum_tree.find_prefix_sum(np.minimum(mass, np.nextafter(total, 0.0))), n - 1)
        weights = self.importance_weights(idx)
        return self._get_samples(idx, weights)

    def probabilities(self, indices: np.ndarray) -> np.ndarray:
        """``P(i) = p_i^alpha / sum_k p_k^alpha`` for the given rows."""
        return self.sum_tree[indices] / self.sum_tree.total()

    def importance_weights(self, indices: np.ndarray) -> np.ndarray:
        """``w_i = (N P(i))^-beta / max_j w_j`` with the current :attr:`beta`."""
        n = self.size()
        p_min = self.min_tree.min() / self.sum_tree.total()
        max_w = (n * p_min) ** (-self.beta)
        return (n * self.probabilities(indices)) ** (-self.beta) / max_w

    def update_priorities(self, indices: np.ndarray, errors: np.ndarray) -> None:
        """Set ``p_i = |error_i| + eps`` for the sampled rows (after each gradient step)."""
        p = np.abs(np.asarray(errors, dtype=np.float64).reshape(-1)) + self.priority_eps
        if not np.all(np.isfinite(p)):
            raise ValueError(f"errors: expected finite TD errors / losses, got {errors!r}")
        self.max_priority = max(self.max_priority, float(p.max()))
        p_alpha = p**self.alpha
        self.sum_tree[indices] = p_alpha
        self.min_tree[indices] = p_alpha

    def _get_samples(  # type: ignore[override]
        self, batch_inds: np.ndarray, weights: np.ndarray | None = None, env: VecNormalize | None = None
    ) -> PrioritizedReplaySamples:
        if weights is None:
            weights = np.ones(len(batch_inds))
        col = lambda a: a[batch_inds].reshape(-1, 1)  # noqa: E731
        return PrioritizedReplaySamples(
            observations=self.to_torch(self.observations[batch_inds]),
            actions=self.to_torch(self.actions[batch_inds]),
            next_observations=self.to_torch(self.next_observations[batch_inds]),
            dones=self.to_torch(col(self.dones)),
            rewards=self.to_torch(col(self.rewards)),
            discounts=self.to_torch(col(self.discounts)),
            weights=self.to_torch(weights.astype(np.float32).reshape(-1, 1)),
            indices=batch_inds,
            next_action_masks=self.to_torch(self.next_action_masks[batch_inds]),
        )
