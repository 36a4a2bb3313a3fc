"""The Microgrid observation: the CarbonCPN blocks (over the sites, whose nodes they are) plus
the family's blocks: the question asked, each site's on-site energy, and the inference routing."""

from __future__ import annotations

import numpy as np

from carbon_cpn.envs.cpn_observation import CPNObservation
from carbon_cpn.envs.observation import CPN_BLOCKS, ObsBlock, clip

MICROGRID_BLOCK = ObsBlock(
    "microgrid",
    fields=(("routing", "1 when the question routes a region's inference (else a training job's start)"),),
    per_item=(("renewables", "on-site renewables available in the coming interval / the site's peak load"),
              ("soc", "battery state of charge (fraction; 0 without one)"),
              ("grid_draw", "last interval's net draw from the grid / import limit (negative: export)"),
              ("inference", "last interval's inference servers / the site's GPU servers")),
    items="node")
REGION_BLOCK = ObsBlock(
    "inference", items="region",
    per_item=(("asked", "1 for the region the question routes"),
              ("demand", "coming interval's demand / the region's peak"),
              ("served", "last interval's served share of its demand")))
ROUTE_BLOCK = ObsBlock(
    "routing", items="route",
    per_item=(("share", "share of a region's demand routed to a site (region-major; 0 where out of reach)"),))


class MicrogridObservation(CPNObservation):
    blocks = (*CPN_BLOCKS, MICROGRID_BLOCK, REGION_BLOCK, ROUTE_BLOCK)

    @classmethod
    def item_counts(cls, cfg, n_nodes: int, n_batteries: int) -> dict[str, int]:  # type: ignore[no-untyped-def]
        n_reg = len(cfg.microgrid.regions)
        return {"node": n_nodes, "battery": n_batteries, "region": n_reg, "route": n_reg * n_nodes}

    def __init__(self, cfg, cpn, *args: object) -> None:  # type: ignore[no-untyped-def]
        super().__init__(cfg, cpn, *args)  # type: ignore[arg-type]
        n_reg = len(cfg.microgrid.regions)
        L = self.layout
        self._flag = L.field("microgrid", "routing")
        self._sites = L.items("microgrid")
        self._regions = L.items("inference")
        self._routes = L.items("routing")
        self.routing_region = -1
        self.site_values = np.zeros((cpn.n_nodes, len(MICROGRID_BLOCK.per_item)))
        self.region_values = np.zeros((n_reg, 2))  # demand, served
        self.shares = np.zeros((n_reg, cpn.n_nodes))

    def observe(self, head: int, waiting: np.ndarray, now_h: float) -> np.ndarray:
        o = super().observe(head, waiting, now_h)
        o[self._flag] = float(self.routing_region >= 0)
        o[self._sites] = self.site_values.ravel()
        reg = np.zeros((self.shares.shape[0], 3))
        if self.routing_region >= 0:
            reg[self.routing_region, 0] = 1.0
        reg[:, 1:] = self.region_values
        o[self._regions] = reg.ravel()
        o[self._routes] = self.shares.ravel()
        return clip(o)


__all__ = ["MICROGRID_BLOCK", "MicrogridObservation", "REGION_BLOCK", "ROUTE_BLOCK"]
