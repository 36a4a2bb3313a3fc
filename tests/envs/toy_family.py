"""A toy scenario family built only from new files on the shared core (issue #15): what a
family has to add.

* an action codec: ``Discrete(n_nodes + 1)`` (the core's ``NodeCodec``) — action ``n`` runs the head sub-task on node
  ``n``'s servers of the resource it prefers, the last action defers;
* an extra reward term: a carbon tax on the CPN's own emissions whose rate jitters from
  interval to interval, drawn from the family's own random stream (``streams.extra``), so the
  arrivals stay those of the base env on the same seed.
"""

from __future__ import annotations

import numpy as np

from carbon_cpn.envs.action_codec import NodeCodec
from carbon_cpn.envs.cosim_env import CoSimEnv
from carbon_cpn.envs.outcome import IntervalOutcome

TAX_USD_PER_T = 20.0


class NodeOnlyEnv(CoSimEnv):
    """Tiny's two nodes, scheduled by node only, with a jittered carbon tax."""

    def __init__(self, **kwargs: object) -> None:
        kwargs.setdefault("scenario", "tiny")
        super().__init__(**kwargs)  # type: ignore[arg-type]

    def make_codec(self) -> NodeCodec:
        return NodeCodec(self.n_nodes)

    def extra_reward_names(self) -> tuple[str, ...]:
        return ("carbon_tax",)

    def extra_reward_terms(self, outcome: IntervalOutcome) -> dict[str, float]:
        rate = TAX_USD_PER_T * self.streams.extra("tax_jitter").uniform(0.5, 1.5)
        usd = outcome.cpn_emissions_kg / 1000.0 * rate
        return {"carbon_tax": -usd / self.cfg.reward.reward_scale_usd}
