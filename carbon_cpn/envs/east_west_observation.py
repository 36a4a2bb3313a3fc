"""The EastWest observation: the CarbonCPN blocks plus the family's own block (the question
asked, the nodes that are down, the failure-risk telemetry of each node)."""

from __future__ import annotations

import numpy as np

from carbon_cpn.envs.cpn_observation import CPNObservation
from carbon_cpn.envs.observation import CPN_BLOCKS, ObsBlock, clip

#: The family's block, after the CarbonCPN blocks.
EAST_WEST_BLOCK = ObsBlock(
    "east_west",
    fields=(("migration", "1 when the head is a running sub-task (migrate it, or defer = hold)"),),
    per_item=(("down", "node down (a component failed, under repair)"),
              ("telemetry", "highest component telemetry / its healthy baseline - 1 (degradation)")),
    items="node")


class EastWestObservation(CPNObservation):
    blocks = (*CPN_BLOCKS, EAST_WEST_BLOCK)

    def __init__(self, *args: object) -> None:
        super().__init__(*args)  # type: ignore[arg-type]
        self.migration = False
        self.node_down = np.zeros(self.cpn.n_nodes, dtype=bool)
        self.degradation = np.zeros(self.cpn.n_nodes)
        self._flag = self.layout.field("east_west", "migration")
        self._nodes_ew = self.layout.items("east_west")

    def observe(self, head: int, waiting: np.ndarray, now_h: float) -> np.ndarray:
        o = super().observe(head, waiting, now_h)
        o[self._flag] = float(self.migration and head >= 0)
        per = o[self._nodes_ew].reshape(self.cpn.n_nodes, -1)
        per[:, 0] = self.node_down
        per[:, 1] = self.degradation
        return clip(o)


__all__ = ["EAST_WEST_BLOCK", "EastWestObservation"]
