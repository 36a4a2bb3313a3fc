"""Rainbow (Hessel et al. 2018, "Rainbow: Combining Improvements in Deep Reinforcement
Learning"; issue #5) as an SB3 off-policy algorithm, every component one flag away:

==================  ===============================================  ======================
flag                component                                        paper
==================  ===============================================  ======================
``double``          online net selects a*, target net evaluates it   van Hasselt et al. 2016
``dueling``         value + mean-subtracted advantage streams        Wang et al. 2016
``prioritized``     proportional replay, IS weights, beta -> 1       Schaul et al. 2016
``n_step``          n-step returns (stop at termination/truncation)  Sutton 1988
``distributional``  C51 categorical return distribution              Bellemare et al. 2017
``noisy``           factorized Gaussian noisy layers, eps = 0        Fortunato et al. 2018
==================  ===============================================  ======================

Loss. With C51, for a batch of ``(s, a, R^(k), s', d, gamma^k)``:

    a*   = argmax_a' sum_j z_j p_j(s', a'; online if double else target)
    m    = Proj(R^(k) + (1 - d) gamma^k z, p(s', a*; target))     (distributional.project_distribution)
    L_i  = -sum_j m_j log p_j(s, a; online)                         (cross-entropy, = KL + const)

without C51 the Huber loss of ``Q(s, a) - (R^(k) + (1 - d) gamma^k Q_target(s', a*))``.

Masks (issue #14; off with ``use_masking=False``): ``a*`` ranges over the actions valid in
``s'`` (the mask the prioritized n-step buffer stored for the bootstrap state ``s' = s_{t+k}``),
applied to the expected values ``sum_j z_j p_j`` (never to the atoms' logits or the dueling
advantages); acting is masked as in ``carbon_cpn.agents.epsilon_greedy``. With
prioritized replay the batch loss is ``mean_i w_i L_i`` and the new priorities are ``L_i`` (C51,
as in the Rainbow paper) or ``|delta_i|``; ``beta = beta0 + (1 - beta0) x progress``.

C51 support. ``v_min`` / ``v_max`` must cover the discounted returns ``Q`` can take, or the
projection clips them. Pass them explicitly (the shipped hyperparameters do), or leave them
``None``: :func:`estimate_return_range` then runs ``support_episodes`` episodes of the uniform
random policy over the feasible actions (``action_masks()`` when the env has it) on a fresh copy
of the training env, takes the smallest and largest discounted return-to-go
``G_t = sum_i gamma^i r_{t+i}`` seen (with ``gamma_per_hour``: ``G_t = r_t + g_t G_{t+1}``,
``g_t = gamma_per_hour ** elapsed_h``), and widens the range by ``support_margin`` x its span on
each side (a trained policy earns more than a random one); ``v_min <= 0 <= v_max`` always.

Time-based discounting (``gamma_per_hour``, ``carbon_cpn.agents.smdp``): the prioritized n-step
buffer stores ``R = sum_i (prod_{j<i} g_j) r_i`` and ``discounts = prod_{j<k} g_j`` with ``g_j =
gamma_per_hour ** elapsed_j``, which replace ``R^(k)`` and ``gamma^k`` above.

Noise. Noisy layers are controlled by an explicit flag, not ``Module.training`` (SB3 collects
rollouts in eval mode): on and resampled at every non-deterministic ``predict`` (rollouts) and
every gradient step (online and target nets independently), off for ``deterministic=True``.
With ``noisy=True`` the epsilon-greedy schedule is forced to 0.
"""

from __future__ import annotations

from typing import Any, ClassVar

import gymnasium as gym
import numpy as np
import torch as th
from stable_baselines3.common.policies import BasePolicy
from stable_baselines3.common.type_aliases import GymEnv, Schedule
from torch.nn import functional as F

from carbon_cpn.agents.buffers import PrioritizedNStepReplayBuffer
from carbon_cpn.agents.distributional import project_distribution
from carbon_cpn.agents.epsilon_greedy import OwnRNGEpsilonGreedy
from carbon_cpn.agents.masking import masked_argmax
from carbon_cpn.agents.noisy import noisy_modules
from carbon_cpn.agents.policies import RainbowPolicy
from carbon_cpn.agents.smdp import elapsed_hours, step_discounts


def estimate_return_range(
    env: gym.Env, gamma: float, episodes: int = 2, seed: int = 0, max_steps: int = 100_000,
    gamma_per_hour: float | None = None,
) -> tuple[float, float]:
    """Smallest and largest discounted return-to-go of a uniform random (masked) policy.

    ``G_t = r_t + g_t G_{t+1}`` backwards over each episode, ``g_t = gamma`` (or, with
    ``gamma_per_hour``, ``gamma_per_hour ** info["elapsed_h"]`` of step ``t``); at most
    ``max_steps`` steps in all. The env is reset with ``seed + episode``; actions are drawn from a
    generator seeded by ``seed``.
    """
    if episodes < 1:
        raise ValueError(f"episodes={episodes!r}: expected >= 1")
    rng = np.random.default_rng(seed)
    lo, hi, steps = np.inf, -np.inf, 0
    base = env.unwrapped
    n = int(env.action_space.n)  # type: ignore[attr-defined]
    for ep in range(episodes):
        env.reset(seed=seed + ep)
        rewards: list[float] = []
        discounts: list[float] = []
        done = False
        while not done and steps < max_steps:
            mask = base.action_masks() if hasattr(base, "action_masks") else np.ones(n, dtype=bool)
            a = int(rng.choice(np.flatnonzero(mask)))
            _, r, term, trunc, info = env.step(a)
            rewards.append(float(r))
            if gamma_per_hour is None:
                discounts.append(gamma)
            else:  # g_t = gamma_per_hour ** elapsed_h of the step
                discounts.append(float(step_discounts(gamma_per_hour, elapsed_hours([info], 1))[0]))
            done = term or trunc
            steps += 1
        g = 0.0
        for r, d in zip(reversed(rewards), reversed(discounts)):
            g = r + d * g
            lo, hi = min(lo, g), max(hi, g)
    return float(lo), float(hi)


class Rainbow(OwnRNGEpsilonGreedy):
    """Rainbow DQN; see the module docstring for the components, the loss and the support.

    Parameters beyond SB3's ``DQN`` (``n_steps`` of ``DQN`` is replaced by ``n_step``):

    :param double: Double-DQN action selection in the target.
    :param dueling: dueling network.
    :param prioritized: proportional prioritized replay (``alpha = 0`` otherwise).
    :param n_step: n of the n-step returns (1 = one-step).
    :param distributional: C51 head with ``n_atoms`` atoms on ``[v_min, v_max]``.
    :param noisy: noisy stream layers with initial scale ``sigma0``; disables epsilon-greedy.
    :param n_atoms: C51 atoms. :param v_min: lowest atom. :param v_max: highest atom (both None:
        estimated, see the module docstring).
    :param alpha: prioritization exponent.
    :param beta0: initial importance-sampling exponent (annealed linearly to 1).
    :param priority_eps: added to priorities.
    :param support_episodes: random episodes of :func:`estimate_return_range` (v_min/v_max None);
        the probe env is ``gym.make(spec.id, **spec.kwargs)`` of the training env, i.e. without
        wrappers such as ``LyapunovCarbonQueue``: pass v_min/v_max explicitly for wrapped envs.
    :param support_margin: widening of the estimated range, as a fraction of its span per side.
    :param use_masking: honour the envs' ``action_masks()`` in acting and in the target (False:
        the unmasked ablation).
    :param gamma_per_hour: discount per simulated hour in (0, 1]: a transition that advanced
        ``info["elapsed_h"]`` hours is discounted by ``gamma_per_hour ** elapsed_h`` in place of
        ``gamma`` (module docstring); None: ``gamma`` per decision.
    """

    policy_aliases: ClassVar[dict[str, type[BasePolicy]]] = {"MlpPolicy": RainbowPolicy, "RainbowPolicy": RainbowPolicy}
    policy: RainbowPolicy
    algo_name = "rainbow"

    def __init__(
        self,
        policy: str | type[RainbowPolicy],
        env: GymEnv | str,
        learning_rate: float | Schedule = 1e-4,
        buffer_size: int = 100_000,
        learning_starts: int = 1_000,
        batch_size: int = 32,
        tau: float = 1.0,
        gamma: float = 0.99,
        train_freq: int | tuple[int, str] = 4,
        gradient_steps: int = 1,
        target_update_interval: int = 2_000,
        exploration_fraction: float = 0.1,
        exploration_initial_eps: float = 1.0,
        exploration_final_eps: float = 0.01,
        max_grad_norm: float = 10.0,
        double: bool = True,
        dueling: bool = True,
        prioritized: bool = True,
        n_step: int = 3,
        distributional: bool = True,
        noisy: bool = True,
        n_atoms: int = 51,
        v_min: float | None = None,
        v_max: float | None = None,
        sigma0: float = 0.5,
        alpha: float = 0.5,
        beta0: float = 0.4,
        priority_eps: float = 1e-6,
        support_episodes: int = 2,
        support_margin: float = 0.5,
        use_masking: bool = True,
        gamma_per_hour: float | None = None,
        guide: str | None = None,
        guide_prob: float = 0.0,
        stats_window_size: int = 100,
        tensorboard_log: str | None = None,
        policy_kwargs: dict[str, Any] | None = None,
        verbose: int = 0,
        seed: int | None = None,
        device: th.device | str = "auto",
        _init_setup_model: bool = True,
    ) -> None:
        if not (isinstance(n_step, (int, np.integer)) and n_step >= 1):
            raise ValueError(f"n_step={n_step!r}: expected an integer >= 1")
        if distributional and not (isinstance(n_atoms, (int, np.integer)) and n_atoms >= 2):
            raise ValueError(f"n_atoms={n_atoms!r}: expected an integer >= 2 with distributional=True")
        if (v_min is None) != (v_max is None):
            raise ValueError(f"v_min={v_min!r}, v_max={v_max!r}: expected both set or both None (estimated)")
        if v_min is not None and not (v_min < v_max):  # type: ignore[operator]
            raise ValueError(f"v_min={v_min!r}, v_max={v_max!r}: expected v_min < v_max")
        if not (support_margin >= 0):
            raise ValueError(f"support_margin={support_margin!r}: expected >= 0")
        for key in ("dueling", "noisy", "sigma0", "n_atoms", "v_min", "v_max"):
            if policy_kwargs and key in policy_kwargs:
                raise ValueError(f"policy_kwargs[{key!r}]: set it as the Rainbow argument {key}= instead")
        super().__init__(
            policy, env, learning_rate=learning_rate, buffer_size=buffer_size, learning_starts=learning_starts,
            batch_size=batch_size, tau=tau, gamma=gamma, train_freq=train_freq, gradient_steps=gradient_steps,
            replay_buffer_class=PrioritizedNStepReplayBuffer, replay_buffer_kwargs=None,
            optimize_memory_usage=False, n_steps=1, target_update_interval=target_update_interval,
            exploration_fraction=exploration_fraction,
            # Fortunato et al. 2018: with noisy nets the noise is the exploration; eps = 0.
            exploration_initial_eps=0.0 if noisy else exploration_initial_eps,
            exploration_final_eps=0.0 if noisy else exploration_final_eps,
            max_grad_norm=max_grad_norm, stats_window_size=stats_window_size, tensorboard_log=tensorboard_log,
            policy_kwargs=policy_kwargs, verbose=verbose, seed=seed, device=device, _init_setup_model=False,
            use_masking=use_masking, gamma_per_hour=gamma_per_hour, guide=guide, guide_prob=guide_prob,
        )
        self.double, self.dueling, self.prioritized = bool(double), bool(dueling), bool(prioritized)
        self.n_step, self.distributional, self.noisy = int(n_step), bool(distributional), bool(noisy)
        self.n_atoms, self.sigma0 = int(n_atoms), float(sigma0)
        self.v_min, self.v_max = v_min, v_max
        self.alpha, self.beta0, self.priority_eps = float(alpha), float(beta0), float(priority_eps)
        self.support_episodes, self.support_margin = int(support_episodes), float(support_margin)
        self.per_beta = self.beta0
        if _init_setup_model:
            self._setup_model()

    # ------------------------------------------------------------------ setup
    def _resolve_support(self) -> None:
        if not self.distributional or self.v_min is not None:
            return
        if self.env is None:
            raise ValueError("v_min=None, v_max=None with no env to estimate them from: expected explicit values")
        spec = self.env.get_attr("spec", indices=[0])[0]
        if spec is None:
            raise ValueError("v_min=None, v_max=None: the env has no spec to build a copy from; expected explicit values")
        probe = gym.make(spec.id, **(spec.kwargs or {}))  # without the wrappers SB3 added
        try:
            lo, hi = estimate_return_range(probe, self.gamma, self.support_episodes, seed=0 if self.seed is None else self.seed,
                                           gamma_per_hour=self.gamma_per_hour)
        finally:
            probe.close()
        span = max(hi - lo, 1e-6)
        self.v_min = min(0.0, lo - self.support_margin * span)
        self.v_max = max(0.0, hi + self.support_margin * span)
        if self.verbose:
            print(f"Rainbow: C51 support [{self.v_min:.2f}, {self.v_max:.2f}] from random returns-to-go [{lo:.2f}, {hi:.2f}]")

    def _setup_model(self) -> None:
        self._resolve_support()
        self.replay_buffer_class = PrioritizedNStepReplayBuffer
        self.replay_buffer_kwargs = dict(
            n_steps=self.n_step, gamma=self.gamma, alpha=self.alpha if self.prioritized else 0.0,
            beta0=self.beta0, priority_eps=self.priority_eps, seed=self.seed,
        )
        self.policy_kwargs = dict(self.policy_kwargs)
        self.policy_kwargs.update(
            dueling=self.dueling, noisy=self.noisy, sigma0=self.sigma0,
            n_atoms=self.n_atoms if self.distributional else 1,
            v_min=-10.0 if self.v_min is None else float(self.v_min),
            v_max=10.0 if self.v_max is None else float(self.v_max),
        )
        super()._setup_model()
        self.algo_name = type(self).algo_name
        self._seed_components(self.seed)

    def _seed_components(self, seed: int | None) -> None:
        base = 0 if seed is None else int(seed)
        if isinstance(getattr(self, "replay_buffer", None), PrioritizedNStepReplayBuffer):
            self.replay_buffer.seed(None if seed is None else [base, 0xB0F])  # type: ignore[union-attr]
        if getattr(self, "policy", None) is not None:
            self.policy.seed_noise(base)

    def set_random_seed(self, seed: int | None = None) -> None:
        super().set_random_seed(seed)
        self._seed_components(seed)

    def load_replay_buffer(self, path: Any, truncate_last_traj: bool = True) -> None:
        super().load_replay_buffer(path, truncate_last_traj)
        self._seed_components(None if self.seed is None else self.seed + self.num_timesteps)

    # ------------------------------------------------------------------ training
    def train(self, gradient_steps: int, batch_size: int = 100) -> None:
        self.policy.set_training_mode(True)
        self._update_learning_rate(self.policy.optimizer)
        buffer: PrioritizedNStepReplayBuffer = self.replay_buffer  # type: ignore[assignment]
        if self.prioritized:
            # Schaul et al. 2016 sec. 3.4: beta annealed linearly from beta0 to 1 over training.
            progress = 1.0 - self._current_progress_remaining
            self.per_beta = min(1.0, self.beta0 + (1.0 - self.beta0) * progress)
            buffer.beta = self.per_beta
        losses, mean_qs = [], []
        for _ in range(gradient_steps):
            data = buffer.sample(batch_size)
            if self.noisy:
                # Fresh, independent noise for the online and the target network at each update.
                self.policy.set_noise(True)
                self.policy.reset_noise()
            if self.distributional:
                per_sample, q_taken = self._c51_loss(data)
                priorities = per_sample.detach()
            else:
                per_sample, q_taken, td = self._td_loss(data)
                priorities = td.detach().abs()
            loss = (data.weights.reshape(-1) * per_sample).mean()  # weights are 1 when not prioritized
            losses.append(loss.item())
            mean_qs.append(q_taken.mean().item())
            self.policy.optimizer.zero_grad()
            loss.backward()
            th.nn.utils.clip_grad_norm_(self.policy.parameters(), self.max_grad_norm)
            self.policy.optimizer.step()
            if self.prioritized:
                buffer.update_priorities(data.indices, priorities.cpu().numpy())
        self._n_updates += gradient_steps
        self.logger.record("train/n_updates", self._n_updates, exclude="tensorboard")
        self.logger.record("train/loss", float(np.mean(losses)))
        self.logger.record("train/mean_q", float(np.mean(mean_qs)))
        if self.prioritized:
            self.logger.record("train/per_beta", self.per_beta)
        if self.noisy:
            sig = [m.weight_sigma.abs().mean().item() for m in noisy_modules(self.q_net)]
            self.logger.record("train/noise_sigma_mean", float(np.mean(sig)))

    def _next_actions(self, next_obs: th.Tensor, q_target_next: th.Tensor, next_masks: th.Tensor | None) -> th.Tensor:
        """``a* [batch, 1]``: chosen by the online net (double) or the target net among the
        actions valid in ``s'`` (``next_masks``; None: all), on the expected Q values."""
        q_sel = self.q_net(next_obs) if self.double else q_target_next
        return masked_argmax(q_sel, next_masks).reshape(-1, 1)

    def target_distribution(self, data: Any) -> th.Tensor:
        """C51 target ``m = Proj(R + (1 - d) gamma^k z, p(s', a*; target))`` ``[batch, atom]``."""
        support = self.q_net.support
        rows = th.arange(data.actions.shape[0], device=self.device)
        with th.no_grad():
            next_p = self.q_net_target.log_probs(data.next_observations).exp()  # [batch, action, atom]
            q_target_next = (next_p * support).sum(-1)  # expected values: the mask acts on these
            a_star = self._next_actions(data.next_observations, q_target_next, self.next_action_masks(data)).reshape(-1)
            return project_distribution(next_p[rows, a_star], data.rewards, data.dones, data.discounts, support)

    def td_target(self, data: Any) -> th.Tensor:
        """``y = R + (1 - d) gamma^k Q_target(s', a*)`` ``[batch, 1]`` (no C51; ``gamma^k`` is the
        buffer's ``discounts``, ``prod_j gamma_per_hour ** elapsed_j`` with ``gamma_per_hour``)."""
        with th.no_grad():
            q_target_next = self.q_net_target(data.next_observations)
            a_star = self._next_actions(data.next_observations, q_target_next, self.next_action_masks(data))
            return data.rewards + (1 - data.dones) * data.discounts * th.gather(q_target_next, 1, a_star)

    def _c51_loss(self, data: Any) -> tuple[th.Tensor, th.Tensor]:
        """Per-sample cross-entropy ``[batch]`` and ``Q(s, a) [batch]``."""
        support = self.q_net.support
        m = self.target_distribution(data)
        rows = th.arange(data.actions.shape[0], device=self.device)
        log_p = self.q_net.log_probs(data.observations)[rows, data.actions.long().reshape(-1)]  # [batch, atom]
        per_sample = -(m * log_p).sum(dim=-1)
        q_taken = (log_p.detach().exp() * support).sum(-1)
        return per_sample, q_taken

    def _td_loss(self, data: Any) -> tuple[th.Tensor, th.Tensor, th.Tensor]:
        """Per-sample Huber loss ``[batch]``, ``Q(s, a)`` and the TD error ``delta``."""
        y = self.td_target(data)
        q = th.gather(self.q_net(data.observations), 1, data.actions.long())
        per_sample = F.smooth_l1_loss(q, y, reduction="none").reshape(-1)
        return per_sample, q.detach().reshape(-1), (q - y).detach().reshape(-1)
