"""A toy scenario family built only from new files on the shared core (issue #15): what a
family has to add.

* an action codec: ``Discrete(n_nodes + 1)`` — action ``n`` runs the head sub-task on node
  ``n``'s servers of the resource it prefers, the last action defers;
* an extra reward term: a carbon tax on the CPN's own emissions whose rate jitters from
  interval to interval, drawn from the family's own random stream (``streams.extra``), so the
  arrivals stay those of the base env on the same seed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from carbon_cpn.envs.action_codec import Assignment
from carbon_cpn.envs.cosim_env import CoSimEnv
from carbon_cpn.envs.outcome import IntervalOutcome

TAX_USD_PER_T = 20.0


@dataclass(frozen=True)
class NodeOnlyCodec:
    n_nodes: int

    @property
    def n_actions(self) -> int:
        return self.n_nodes + 1

    @property
    def defer(self) -> int:
        return self.n_nodes

    def decode(self, action: int, preferred: int = -1) -> Assignment | None:
        a = int(action)
        if not (0 <= a < self.n_actions):
            raise ValueError(f"action={action!r}: expected an integer in [0, {self.n_actions - 1}]")
        return None if a == self.defer else Assignment(a, max(preferred, 0))

    def mask(self, feasible: np.ndarray | None, preferred: int = -1) -> np.ndarray:
        out = np.zeros(self.n_actions, dtype=bool)
        out[-1] = True
        if feasible is not None and preferred >= 0:
            out[:-1] = np.asarray(feasible)[:, preferred]
        return out


class NodeOnlyEnv(CoSimEnv):
    """Tiny's two nodes, scheduled by node only, with a jittered carbon tax."""

    def __init__(self, **kwargs: object) -> None:
        kwargs.setdefault("scenario", "tiny")
        super().__init__(**kwargs)  # type: ignore[arg-type]

    def make_codec(self) -> NodeOnlyCodec:
        return NodeOnlyCodec(self.n_nodes)

    def extra_reward_names(self) -> tuple[str, ...]:
        return ("carbon_tax",)

    def extra_reward_terms(self, outcome: IntervalOutcome) -> dict[str, float]:
        rate = TAX_USD_PER_T * self.streams.extra("tax_jitter").uniform(0.5, 1.5)
        usd = outcome.cpn_emissions_kg / 1000.0 * rate
        return {"carbon_tax": -usd / self.cfg.reward.reward_scale_usd}
