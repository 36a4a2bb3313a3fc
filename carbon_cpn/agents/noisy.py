"""Factorized Gaussian noisy linear layers (Fortunato et al. 2018, "Noisy Networks for
Exploration", sec. 3(b); issue #5).

    y = (mu_w + sigma_w * eps_w) x + mu_b + sigma_b * eps_b,
    eps_w[i, j] = f(eps_out[i]) f(eps_in[j]),  eps_b = f(eps_out),  f(x) = sgn(x) sqrt(|x|),

initialised with ``mu ~ U[-1/sqrt(p), 1/sqrt(p)]`` and ``sigma = sigma0 / sqrt(p)`` (p = fan-in).

Whether the noise is applied is an explicit flag, :attr:`NoisyLinear.noise_enabled`, **not**
``Module.training``: SB3 puts the networks in eval mode while collecting rollouts, yet Rainbow
explores through this noise during rollouts. The noise is drawn from a ``torch.Generator`` the
layer owns (seeded by the algorithm), never from torch's global generator.
"""

from __future__ import annotations

import math

import torch as th
from torch import nn


class NoisyLinear(nn.Module):
    """Linear layer with learnable factorized Gaussian noise on its weights and bias."""

    def __init__(self, in_features: int, out_features: int, sigma0: float = 0.5) -> None:
        super().__init__()
        if in_features < 1 or out_features < 1:
            raise ValueError(f"in_features={in_features}, out_features={out_features}: expected both >= 1")
        if not (sigma0 >= 0.0):
            raise ValueError(f"sigma0={sigma0!r}: expected a noise scale >= 0")
        self.in_features = in_features
        self.out_features = out_features
        self.sigma0 = sigma0
        self.weight_mu = nn.Parameter(th.empty(out_features, in_features))
        self.weight_sigma = nn.Parameter(th.empty(out_features, in_features))
        self.bias_mu = nn.Parameter(th.empty(out_features))
        self.bias_sigma = nn.Parameter(th.empty(out_features))
        # Noise samples are buffers (moved with .to(device)) but not saved: they are resampled.
        self.register_buffer("eps_in", th.zeros(in_features), persistent=False)
        self.register_buffer("eps_out", th.zeros(out_features), persistent=False)
        self.noise_enabled = True
        self.generator = th.Generator()  # CPU generator; reseeded through seed_noise()
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = 1.0 / math.sqrt(self.in_features)
        with th.no_grad():
            # Parameter initialisation draws from torch's generator like every nn.Linear of the
            # policy (SB3 seeds it from the run's seed before building the policy).
            self.weight_mu.uniform_(-bound, bound)
            self.bias_mu.uniform_(-bound, bound)
            self.weight_sigma.fill_(self.sigma0 / math.sqrt(self.in_features))
            self.bias_sigma.fill_(self.sigma0 / math.sqrt(self.in_features))

    @staticmethod
    def _f(x: th.Tensor) -> th.Tensor:
        return x.sign() * x.abs().sqrt()

    def reset_noise(self) -> None:
        """Draw new ``eps_in, eps_out`` (factorized: in + out normals instead of in x out)."""
        e_in = th.randn(self.in_features, generator=self.generator)
        e_out = th.randn(self.out_features, generator=self.generator)
        self.eps_in.copy_(self._f(e_in))
        self.eps_out.copy_(self._f(e_out))

    def seed_noise(self, seed: int) -> None:
        self.generator.manual_seed(int(seed))

    def forward(self, x: th.Tensor) -> th.Tensor:
        if self.noise_enabled:
            weight = self.weight_mu + self.weight_sigma * th.outer(self.eps_out, self.eps_in)
            bias = self.bias_mu + self.bias_sigma * self.eps_out
        else:
            weight, bias = self.weight_mu, self.bias_mu
        return nn.functional.linear(x, weight, bias)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, sigma0={self.sigma0}"

    def __getstate__(self) -> dict:
        # torch.Generator does not pickle (deepcopy of a policy); keep its state instead.
        state = self.__dict__.copy()
        state["generator"] = self.generator.get_state()
        return state

    def __setstate__(self, state: dict) -> None:
        gen = th.Generator()
        gen.set_state(state["generator"])
        state["generator"] = gen
        self.__dict__.update(state)


def noisy_modules(module: nn.Module) -> list[NoisyLinear]:
    """Every :class:`NoisyLinear` inside ``module``."""
    return [m for m in module.modules() if isinstance(m, NoisyLinear)]


def set_noise(module: nn.Module, enabled: bool) -> None:
    """Switch the noise of every noisy layer in ``module`` on or off."""
    for m in noisy_modules(module):
        m.noise_enabled = enabled


def reset_noise(module: nn.Module) -> None:
    """Resample the noise of every noisy layer in ``module``."""
    for m in noisy_modules(module):
        m.reset_noise()


def seed_noise(module: nn.Module, seed: int) -> None:
    """Give the noisy layers of ``module`` distinct generators derived from ``seed``."""
    for k, m in enumerate(noisy_modules(module)):
        m.seed_noise(seed * 1000 + k)
