"""DQN (Mnih et al. 2015) as SB3 implements it, plus the pieces this package adds (issues #5,
#14): epsilon-greedy from the algorithm's own generator, invalid-action masking and a
``train/mean_q`` TensorBoard scalar.

    y = r + (1 - d) gamma^k max_{a valid in s'} Q_target(s', a),   loss = Huber(Q(s, a) - y)

(``valid in s'``: the mask stored with the transition; every action with ``use_masking=False``.)
``gamma^k`` is the buffer's ``discounts`` (n-step) or ``gamma``; with ``gamma_per_hour`` set
(discounting by simulated time, ``carbon_cpn.agents.smdp``) it is ``gamma_per_hour ** elapsed_h``
(one-step) or ``prod_{j<k} gamma_per_hour ** elapsed_j`` (n-step), always from ``discounts``.
:meth:`VanillaDQN._next_q_values` is the one place the target's bootstrap value is computed;
:class:`~carbon_cpn.agents.double_dqn.DoubleDQN` overrides only that.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch as th
from torch.nn import functional as F

from carbon_cpn.agents.epsilon_greedy import OwnRNGEpsilonGreedy
from carbon_cpn.agents.masking import mask_q_values


class VanillaDQN(OwnRNGEpsilonGreedy):
    """SB3 ``DQN`` with seeded exploration and mean-Q logging; the ``dqn`` of the training CLI."""

    #: Name under which the training CLI knows the algorithm; saved with the model.
    algo_name = "dqn"

    def _setup_model(self) -> None:
        super()._setup_model()
        self.algo_name = type(self).algo_name  # instance attribute: stored in the saved zip

    def _next_q_values(self, next_obs: th.Tensor, next_masks: th.Tensor | None = None) -> th.Tensor:
        """Bootstrap value ``max_a Q_target(s', a)`` over the valid ``a`` (``next_masks [batch,
        n_actions]``; None: all) ``[batch, 1]``."""
        return mask_q_values(self.q_net_target(next_obs), next_masks).max(dim=1, keepdim=True).values

    def td_target(self, data: Any) -> th.Tensor:
        """``y = r + (1 - d) gamma^k V(s')`` ``[batch, 1]`` of a sampled batch (no gradient)."""
        # gamma^k from an n-step buffer, gamma_per_hour ** elapsed_h (time-based), else gamma
        discounts = data.discounts if data.discounts is not None else self.gamma
        with th.no_grad():
            next_v = self._next_q_values(data.next_observations, self.next_action_masks(data))
            return data.rewards + (1 - data.dones) * discounts * next_v

    def train(self, gradient_steps: int, batch_size: int = 100) -> None:
        self.policy.set_training_mode(True)
        self._update_learning_rate(self.policy.optimizer)
        losses, mean_qs = [], []
        for _ in range(gradient_steps):
            data = self.replay_buffer.sample(batch_size, env=self._vec_normalize_env)  # type: ignore[union-attr]
            target_q = self.td_target(data)  # y = r + (1 - d) gamma^k V(s'), V(s') from _next_q_values()
            q = th.gather(self.q_net(data.observations), 1, data.actions.long())  # Q(s, a)
            loss = F.smooth_l1_loss(q, target_q)  # Huber loss
            losses.append(loss.item())
            mean_qs.append(q.mean().item())
            self.policy.optimizer.zero_grad()
            loss.backward()
            th.nn.utils.clip_grad_norm_(self.policy.parameters(), self.max_grad_norm)
            self.policy.optimizer.step()
        self._n_updates += gradient_steps
        self.logger.record("train/n_updates", self._n_updates, exclude="tensorboard")
        self.logger.record("train/loss", float(np.mean(losses)))
        self.logger.record("train/mean_q", float(np.mean(mean_qs)))
