"""Double DQN (van Hasselt, Guez & Silver 2016, "Deep Reinforcement Learning with Double
Q-learning"; issue #5).

Vanilla DQN's target ``r + gamma max_a Q_target(s', a)`` uses the same estimate to pick and to
value the next action, which biases it upwards. Double DQN decouples the two:

    a* = argmax_a Q_online(s', a)                  (the online net selects)
    y  = r + (1 - d) gamma^k Q_target(s', a*)      (the target net evaluates)

with ``gamma^k`` from an n-step buffer when one is used (SB3's ``discounts``; with
``gamma_per_hour`` the time-based discount of ``carbon_cpn.agents.smdp``), else ``gamma``.
With action masks (issue #14) the online net selects among the actions valid in ``s'`` (the
mask stored with the transition).
Works with any Q-network policy, e.g. ``DuelingDQNPolicy`` (then it is the dueling double DQN of
Wang et al. 2016). The loss, optimisation and logging are :class:`VanillaDQN`'s ``train()``.
"""

from __future__ import annotations

import torch as th

from carbon_cpn.agents.dqn import VanillaDQN
from carbon_cpn.agents.masking import masked_argmax


class DoubleDQN(VanillaDQN):
    """SB3 ``DQN`` with the Double DQN target."""

    algo_name = "double_dqn"

    def _next_q_values(self, next_obs: th.Tensor, next_masks: th.Tensor | None = None) -> th.Tensor:
        """``Q_target(s', argmax_a Q_online(s', a))`` ``[batch, 1]``, argmax over the valid ``a``."""
        next_actions = masked_argmax(self.q_net(next_obs), next_masks).reshape(-1, 1)  # online net selects
        return th.gather(self.q_net_target(next_obs), 1, next_actions)  # target net evaluates
