"""The EastWest observation: the CarbonCPN blocks plus the family's own blocks (the question
asked, the nodes that are down, the failure-risk telemetry of each node; the virtual
carbon-flow field as block means relative to its mean)."""

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
#: The carbon-flow field's coarse summary: 4 x 2 blocks (west to east, south to north).
FIELD_BLOCKS = (4, 2)
CARBON_FIELD_BLOCK = ObsBlock(
    "carbon_field",
    fields=tuple((f"block_{i}", f"field block {i} (x-major) / the field's mean (0 while it is empty)")
                 for i in range(FIELD_BLOCKS[0] * FIELD_BLOCKS[1])))


class EastWestObservation(CPNObservation):
    blocks = (*CPN_BLOCKS, EAST_WEST_BLOCK, CARBON_FIELD_BLOCK)

    def __init__(self, *args: object) -> None:
        super().__init__(*args)  # type: ignore[arg-type]
        self.migration = False
        self.node_down = np.zeros(self.cpn.n_nodes, dtype=bool)
        self.degradation = np.zeros(self.cpn.n_nodes)
        self._flag = self.layout.field("east_west", "migration")
        self._nodes_ew = self.layout.items("east_west")
        self._field = self.layout.block("carbon_field")
        self.field_summary = np.zeros(FIELD_BLOCKS[0] * FIELD_BLOCKS[1])

    def observe(self, head: int, waiting: np.ndarray, now_h: float) -> np.ndarray:
        o = super().observe(head, waiting, now_h)
        o[self._flag] = float(self.migration and head >= 0)
        per = o[self._nodes_ew].reshape(self.cpn.n_nodes, -1)
        per[:, 0] = self.node_down
        per[:, 1] = self.degradation
        o[self._field] = self.field_summary
        return clip(o)


__all__ = ["CARBON_FIELD_BLOCK", "EAST_WEST_BLOCK", "FIELD_BLOCKS", "EastWestObservation"]
