"""Q-network policies beyond SB3's vanilla MLP (issue #5): dueling, noisy and C51 heads.

One network class, :class:`ConfigurableQNetwork`, covers every combination:

* **dueling** (Wang et al. 2016, eq. 9): separate value and advantage streams,
  ``Q(s, a) = V(s) + A(s, a) - mean_a' A(s, a')`` (for C51 the same on the atoms' logits,
  Hessel et al. 2018, sec. 3 "Dueling networks");
* **noisy** (Fortunato et al. 2018): the stream layers are :class:`~carbon_cpn.agents.noisy.NoisyLinear`;
* **distributional** (Bellemare et al. 2017): each action has ``n_atoms`` logits,
  ``p_j(s, a) = softmax_j``, ``Q(s, a) = sum_j z_j p_j(s, a)``.

Layout for ``net_arch = [h_1, ..., h_L]``: a shared trunk of plain linear layers ``h_1..h_{L-1}``
(like Rainbow's convolutional torso, not noisy), then per stream one hidden layer of ``h_L`` units
and the output layer (noisy when ``noisy``). :meth:`ConfigurableQNetwork.forward` always returns
Q-values ``[batch, n_actions]`` so SB3's DQN machinery works unchanged.

:class:`DuelingDQNPolicy` plugs the dueling network into SB3's ``DQN`` or our ``DoubleDQN``;
:class:`RainbowPolicy` is the policy of :class:`~carbon_cpn.agents.rainbow.Rainbow`.

Action masks (issue #14) act on what :func:`greedy_q_values` returns, the final Q values
(``forward``), never on the advantages or on the C51 atoms' logits.
"""

from __future__ import annotations

from typing import Any

import torch as th
from gymnasium import spaces
from stable_baselines3.common.policies import BasePolicy
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor, FlattenExtractor
from stable_baselines3.common.type_aliases import PyTorchObs, Schedule
from stable_baselines3.dqn.policies import DQNPolicy
from torch import nn

from carbon_cpn.agents.distributional import make_support
from carbon_cpn.agents.noisy import NoisyLinear, reset_noise, seed_noise, set_noise


def _stream(in_dim: int, hidden: int | None, out_dim: int, activation_fn: type[nn.Module], noisy: bool, sigma0: float) -> nn.Sequential:
    """``[hidden layer ->] output layer``, noisy or plain."""

    def lin(i: int, o: int) -> nn.Module:
        return NoisyLinear(i, o, sigma0) if noisy else nn.Linear(i, o)

    if hidden is None:
        return nn.Sequential(lin(in_dim, out_dim))
    return nn.Sequential(lin(in_dim, hidden), activation_fn(), lin(hidden, out_dim))


class ConfigurableQNetwork(BasePolicy):
    """Q-network with optional dueling streams, noisy layers and a C51 output (module docstring).

    :param dueling: value + advantage streams, mean-subtracted.
    :param noisy: factorized Gaussian noisy stream layers.
    :param sigma0: initial noise scale of the noisy layers.
    :param n_atoms: atoms of the return distribution (1 = expected-value Q, no C51).
    :param v_min: lowest atom (C51 only).
    :param v_max: highest atom (C51 only).
    """

    action_space: spaces.Discrete

    def __init__(
        self,
        observation_space: spaces.Space,
        action_space: spaces.Discrete,
        features_extractor: BaseFeaturesExtractor,
        features_dim: int,
        net_arch: list[int] | None = None,
        activation_fn: type[nn.Module] = nn.ReLU,
        normalize_images: bool = True,
        dueling: bool = True,
        noisy: bool = False,
        sigma0: float = 0.5,
        n_atoms: int = 1,
        v_min: float = -10.0,
        v_max: float = 10.0,
    ) -> None:
        super().__init__(observation_space, action_space, features_extractor=features_extractor, normalize_images=normalize_images)
        net_arch = [64, 64] if net_arch is None else list(net_arch)
        if any((not isinstance(h, int)) or h < 1 for h in net_arch):
            raise ValueError(f"net_arch={net_arch!r}: expected a list of positive layer widths")
        if not (isinstance(n_atoms, int) and n_atoms >= 1):
            raise ValueError(f"n_atoms={n_atoms!r}: expected an integer >= 1 (1 = no distributional head)")
        self.net_arch = net_arch
        self.activation_fn = activation_fn
        self.features_dim = features_dim
        self.dueling, self.noisy, self.sigma0 = bool(dueling), bool(noisy), float(sigma0)
        self.n_atoms, self.v_min, self.v_max = int(n_atoms), float(v_min), float(v_max)
        self.n_actions = int(action_space.n)

        trunk: list[nn.Module] = []
        last = features_dim
        for h in net_arch[:-1]:
            trunk += [nn.Linear(last, h), activation_fn()]
            last = h
        self.trunk = nn.Sequential(*trunk)
        hidden = net_arch[-1] if net_arch else None
        self.advantage = _stream(last, hidden, self.n_actions * self.n_atoms, activation_fn, self.noisy, self.sigma0)
        self.value = _stream(last, hidden, self.n_atoms, activation_fn, self.noisy, self.sigma0) if self.dueling else None
        if self.n_atoms > 1:
            self.register_buffer("support", make_support(self.v_min, self.v_max, self.n_atoms))
        else:
            self.support = None

    def logits(self, obs: PyTorchObs) -> th.Tensor:
        """Raw outputs ``[batch, n_actions, n_atoms]`` (``n_atoms = 1``: the Q-values)."""
        x = self.trunk(self.extract_features(obs, self.features_extractor))
        adv = self.advantage(x).reshape(-1, self.n_actions, self.n_atoms)
        if self.value is None:
            return adv
        val = self.value(x).reshape(-1, 1, self.n_atoms)
        # Wang et al. 2016 eq. 9: subtracting the mean advantage makes V and A identifiable.
        return val + adv - adv.mean(dim=1, keepdim=True)

    def log_probs(self, obs: PyTorchObs) -> th.Tensor:
        """``log p_j(s, a)`` ``[batch, n_actions, n_atoms]`` (C51 only)."""
        if self.n_atoms == 1:
            raise RuntimeError("log_probs() needs a distributional network (n_atoms > 1)")
        return th.log_softmax(self.logits(obs), dim=-1)

    def forward(self, obs: PyTorchObs) -> th.Tensor:
        """Q-values ``[batch, n_actions]``; for C51 ``Q = sum_j z_j p_j``."""
        out = self.logits(obs)
        if self.n_atoms == 1:
            return out.squeeze(-1)
        return (th.softmax(out, dim=-1) * self.support).sum(dim=-1)

    def _predict(self, observation: PyTorchObs, deterministic: bool = True) -> th.Tensor:
        return self(observation).argmax(dim=1).reshape(-1)

    def _get_constructor_parameters(self) -> dict[str, Any]:
        data = super()._get_constructor_parameters()
        data.update(
            net_arch=self.net_arch, features_dim=self.features_dim, activation_fn=self.activation_fn,
            features_extractor=self.features_extractor, dueling=self.dueling, noisy=self.noisy,
            sigma0=self.sigma0, n_atoms=self.n_atoms, v_min=self.v_min, v_max=self.v_max,
        )
        return data


class DuelingDQNPolicy(DQNPolicy):
    """SB3 ``DQNPolicy`` whose online and target networks are dueling (Wang et al. 2016).

    Use with ``DQN("...", policy=DuelingDQNPolicy)`` or :class:`~carbon_cpn.agents.double_dqn.DoubleDQN`.
    """

    def make_q_net(self) -> ConfigurableQNetwork:  # type: ignore[override]
        net_args = self._update_features_extractor(self.net_args, features_extractor=None)
        return ConfigurableQNetwork(**net_args, dueling=True).to(self.device)


class RainbowPolicy(DQNPolicy):
    """Policy of :class:`~carbon_cpn.agents.rainbow.Rainbow`: each Rainbow component a flag.

    Noise: with ``noisy``, :meth:`_predict` turns the noise on and resamples it for every
    non-deterministic call (rollouts), and turns it off for ``deterministic=True`` (evaluation:
    the mean network). Training turns it on explicitly; ``Module.training`` is never consulted.
    """

    def __init__(
        self,
        observation_space: spaces.Space,
        action_space: spaces.Discrete,
        lr_schedule: Schedule,
        net_arch: list[int] | None = None,
        activation_fn: type[nn.Module] = nn.ReLU,
        features_extractor_class: type[BaseFeaturesExtractor] = FlattenExtractor,
        features_extractor_kwargs: dict[str, Any] | None = None,
        normalize_images: bool = True,
        optimizer_class: type[th.optim.Optimizer] = th.optim.Adam,
        optimizer_kwargs: dict[str, Any] | None = None,
        dueling: bool = True,
        noisy: bool = True,
        sigma0: float = 0.5,
        n_atoms: int = 51,
        v_min: float = -10.0,
        v_max: float = 10.0,
    ) -> None:
        # Set before super().__init__, which builds the networks through make_q_net().
        self.dueling, self.noisy, self.sigma0 = bool(dueling), bool(noisy), float(sigma0)
        self.n_atoms, self.v_min, self.v_max = int(n_atoms), float(v_min), float(v_max)
        if self.n_atoms > 1:
            make_support(self.v_min, self.v_max, self.n_atoms)  # validates the bounds
        super().__init__(
            observation_space, action_space, lr_schedule, net_arch=net_arch, activation_fn=activation_fn,
            features_extractor_class=features_extractor_class, features_extractor_kwargs=features_extractor_kwargs,
            normalize_images=normalize_images, optimizer_class=optimizer_class, optimizer_kwargs=optimizer_kwargs,
        )

    @property
    def distributional(self) -> bool:
        return self.n_atoms > 1

    def make_q_net(self) -> ConfigurableQNetwork:  # type: ignore[override]
        net_args = self._update_features_extractor(self.net_args, features_extractor=None)
        return ConfigurableQNetwork(
            **net_args, dueling=self.dueling, noisy=self.noisy, sigma0=self.sigma0,
            n_atoms=self.n_atoms, v_min=self.v_min, v_max=self.v_max,
        ).to(self.device)

    def seed_noise(self, seed: int) -> None:
        """Seed the noise generators of the online and target networks from ``seed``."""
        seed_noise(self.q_net, 2 * int(seed))
        seed_noise(self.q_net_target, 2 * int(seed) + 1)

    def set_noise(self, enabled: bool) -> None:
        set_noise(self.q_net, enabled)
        set_noise(self.q_net_target, enabled)

    def reset_noise(self) -> None:
        reset_noise(self.q_net)
        reset_noise(self.q_net_target)

    def prepare_acting_noise(self, deterministic: bool) -> None:
        """Before acting: noise off (deterministic) or on and freshly resampled (rollouts)."""
        if self.noisy:
            set_noise(self.q_net, not deterministic)
            if not deterministic:
                reset_noise(self.q_net)  # a fresh exploration perturbation each step

    def _predict(self, obs: PyTorchObs, deterministic: bool = True) -> th.Tensor:
        self.prepare_acting_noise(deterministic)
        return self.q_net._predict(obs, deterministic=deterministic)

    def _get_constructor_parameters(self) -> dict[str, Any]:
        data = super()._get_constructor_parameters()
        data.update(dueling=self.dueling, noisy=self.noisy, sigma0=self.sigma0, n_atoms=self.n_atoms,
                    v_min=self.v_min, v_max=self.v_max)
        return data


def greedy_q_values(policy: DQNPolicy, obs: PyTorchObs, deterministic: bool) -> th.Tensor:
    """The final Q values ``[batch, n_actions]`` whose argmax is ``policy``'s greedy action (for C51
    the expectation, for dueling ``V + A - mean A``), with the noise set as ``policy`` acts."""
    if isinstance(policy, RainbowPolicy):
        policy.prepare_acting_noise(deterministic)
    return policy.q_net(obs)
