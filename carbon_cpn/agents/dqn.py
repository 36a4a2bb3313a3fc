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

With ``demo`` set the family learns from a baseline's demonstrations as DQfD does (pre-training,
demonstration rows in every batch, the large-margin loss): ``carbon_cpn.agents.demonstrations``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch as th
from stable_baselines3.common.utils import polyak_update
from torch.nn import functional as F

from carbon_cpn.agents.demonstrations import DemoBuffer, check_demo, collect_demonstrations, margin_loss
from carbon_cpn.agents.epsilon_greedy import OwnRNGEpsilonGreedy
from carbon_cpn.agents.guided import GuideSet
from carbon_cpn.agents.masked_buffers import MaskedReplayBufferSamples
from carbon_cpn.agents.masking import mask_q_values


class VanillaDQN(OwnRNGEpsilonGreedy):
    """SB3 ``DQN`` with seeded exploration and mean-Q logging; the ``dqn`` of the training CLI."""

    #: Name under which the training CLI knows the algorithm; saved with the model.
    algo_name = "dqn"

    def __init__(
        self, policy: Any, env: Any, *args: Any, demo: str | None = None, demo_episodes: int = 10,
        demo_pretrain_steps: int = 10_000, demo_batch_size: int = 16, demo_margin: float = 1.0,
        demo_weight: float = 1.0, **kwargs: Any
    ) -> None:
        """Every argument is :class:`OwnRNGEpsilonGreedy`'s (SB3 ``DQN``'s plus masking, time-based
        discounting and guided exploration), plus the demonstration settings of
        ``carbon_cpn.agents.demonstrations`` (``demo``: a baseline's name, None: no demonstrations)."""
        settings = check_demo(demo, demo_episodes, demo_pretrain_steps, demo_batch_size, demo_margin, demo_weight)
        for key, value in settings.items():
            setattr(self, key, value)
        super().__init__(policy, env, *args, **kwargs)

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
        losses, mean_qs, margins = [], [], []
        demos = getattr(self, "_demo_buffer", None)
        for _ in range(gradient_steps):
            data = self.replay_buffer.sample(batch_size, env=self._vec_normalize_env)  # type: ignore[union-attr]
            loss, mean_q, margin = self._gradient_step(data, demos, self.demo_batch_size if demos is not None else 0)
            losses.append(loss)
            mean_qs.append(mean_q)
            margins.append(margin)
        self._n_updates += gradient_steps
        self.logger.record("train/n_updates", self._n_updates, exclude="tensorboard")
        self.logger.record("train/loss", float(np.mean(losses)))
        self.logger.record("train/mean_q", float(np.mean(mean_qs)))
        if demos is not None:
            self.logger.record("train/demo_margin_loss", float(np.mean(margins)))

    def _gradient_step(self, data: Any | None, demos: DemoBuffer | None, n_demo: int) -> tuple[float, float, float]:
        """One optimizer step on ``data`` plus ``n_demo`` rows of ``demos`` (either may be absent):
        Huber TD loss on every row, ``demo_weight`` x the margin loss on the demonstration rows.
        Returns (loss, mean Q of the taken actions, margin loss)."""
        demo_masks = None
        if demos is not None and n_demo > 0:
            demo_data, demo_masks = demos.sample(n_demo, self.device)
            data = demo_data if data is None else _concat_samples(data, demo_data, self.gamma)
        assert data is not None
        target_q = self.td_target(data)  # y = r + (1 - d) gamma^k V(s'), V(s') from _next_q_values()
        q_all = self.q_net(data.observations)
        q = th.gather(q_all, 1, data.actions.long())  # Q(s, a)
        loss = F.smooth_l1_loss(q, target_q)  # Huber loss
        margin = th.zeros(())
        if demo_masks is not None:
            margin = margin_loss(q_all[-n_demo:], data.actions[-n_demo:], demo_masks if self.use_masking else None,
                                 self.demo_margin)
            loss = loss + self.demo_weight * margin
        self.policy.optimizer.zero_grad()
        loss.backward()
        th.nn.utils.clip_grad_norm_(self.policy.parameters(), self.max_grad_norm)
        self.policy.optimizer.step()
        return loss.item(), q.mean().item(), float(margin.item())

    # ------------------------------------------------------------------ demonstrations (DQfD)
    def _setup_learn(self, *args: Any, **kwargs: Any) -> Any:
        out = super()._setup_learn(*args, **kwargs)
        if self.demo is not None and getattr(self, "_demo_buffer", None) is None:
            self._learn_from_demonstrations(pretrain=self.num_timesteps == 0)
        return out

    def _learn_from_demonstrations(self, pretrain: bool) -> None:
        """Collect the demonstrations in the training envs, reset them, and pre-train (module
        docstring of ``carbon_cpn.agents.demonstrations``); on a resumed run only collect."""
        if self._vec_normalize_env is not None:
            raise ValueError(f"demo={self.demo!r} with VecNormalize: demonstrations are stored as observed; "
                             "expected envs without running normalization")
        assert self.env is not None
        guides = GuideSet(self.demo, self.env, self.seed)  # type: ignore[arg-type]
        every = np.ones(self.env.num_envs, dtype=bool)
        buffer = DemoBuffer(self.observation_space.shape, int(self.action_space.n), self.seed)  # type: ignore[arg-type, union-attr]
        fresh = self._last_obs is not None and bool(np.all(self._last_episode_starts))  # just reset by SB3
        collect_demonstrations(self.env, lambda obs: guides.actions(np.asarray(obs), every), self.demo_episodes,
                               self.gamma, self.gamma_per_hour, buffer, first_obs=self._last_obs if fresh else None)
        self._demo_buffer = buffer
        self._last_obs = self.env.reset()  # type: ignore[assignment]
        self._last_episode_starts = np.ones((self.env.num_envs,), dtype=bool)
        self.logger.record("demo/transitions", len(buffer))
        self.logger.record("demo/episodes", buffer.episodes)
        if not pretrain or self.demo_pretrain_steps == 0:
            return
        self.policy.set_training_mode(True)
        self._update_learning_rate(self.policy.optimizer)
        # Same ratio of gradient steps to target copies as in training.
        freq = max(1, int(self.train_freq.frequency))  # type: ignore[union-attr]
        per_call = self.gradient_steps if self.gradient_steps > 0 else freq
        copy_every = max(1, self.target_update_interval * per_call // freq)
        losses, margins = [], []
        for step in range(1, self.demo_pretrain_steps + 1):
            loss, _, margin = self._gradient_step(None, buffer, self.batch_size)
            losses.append(loss)
            margins.append(margin)
            if step % copy_every == 0:
                polyak_update(self.q_net.parameters(), self.q_net_target.parameters(), self.tau)
                polyak_update(self.batch_norm_stats, self.batch_norm_stats_target, 1.0)
        polyak_update(self.q_net.parameters(), self.q_net_target.parameters(), 1.0)  # start from the pre-trained net
        polyak_update(self.batch_norm_stats, self.batch_norm_stats_target, 1.0)
        self.logger.record("demo/pretrain_loss", float(np.mean(losses[-100:])))
        self.logger.record("demo/pretrain_margin_loss", float(np.mean(margins[-100:])))

    def _excluded_save_params(self) -> list[str]:
        return [*super()._excluded_save_params(), "_demo_buffer"]


def _concat_samples(a: Any, b: MaskedReplayBufferSamples, gamma: float) -> MaskedReplayBufferSamples:
    """Rows of ``a`` (a replay buffer's samples) followed by those of ``b`` (demonstrations)."""
    n = a.rewards.shape[0]
    disc_a = a.discounts if getattr(a, "discounts", None) is not None else th.full_like(a.rewards, float(gamma))
    masks_a = getattr(a, "next_action_masks", None)
    if masks_a is None:
        masks_a = th.ones((n, b.next_action_masks.shape[1]), dtype=th.bool, device=b.next_action_masks.device)
    return MaskedReplayBufferSamples(
        observations=th.cat([a.observations, b.observations]), actions=th.cat([a.actions.long(), b.actions]),
        next_observations=th.cat([a.next_observations, b.next_observations]), dones=th.cat([a.dones, b.dones]),
        rewards=th.cat([a.rewards, b.rewards]), discounts=th.cat([disc_a, b.discounts]),
        next_action_masks=th.cat([masks_a.bool(), b.next_action_masks]))
