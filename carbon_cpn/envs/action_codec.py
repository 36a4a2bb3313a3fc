"""Action codecs: how a ``Discrete`` action index maps to a scheduling decision.

A codec has ``n_actions``, ``defer``, ``decode(action, preferred) -> Assignment | None`` and
``mask(feasible [node, resource], preferred) -> bool [n_actions]``, where ``preferred`` is the
head sub-task's preferred resource.

The co-simulation env (:mod:`carbon_cpn.envs.cosim_env`) asks a family's codec to turn the
agent's integer into a placement and to turn the compute model's feasibility into an action
mask; nothing else in the package writes the encoding out.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Assignment:
    """A decoded action: the head sub-task runs on ``node``'s ``resource`` servers."""

    node: int
    resource: int


@dataclass(frozen=True)
class NodeResourceCodec:
    """``Discrete(n_nodes * n_resources + 1)``: action ``n_resources * node + resource`` runs
    the head sub-task on ``node``'s pool of ``resource`` (0 CPU, 1 GPU); the last action
    defers it. Placement actions are the C-order flat index of a ``[node, resource]`` array,
    so per-placement arrays of that shape line up with the mask by ``ravel()``."""

    n_nodes: int
    n_resources: int = 2

    def __post_init__(self) -> None:
        for name in ("n_nodes", "n_resources"):
            v = getattr(self, name)
            if not (isinstance(v, (int, np.integer)) and v >= 1):
                raise ValueError(f"{name}={v!r}: expected an integer >= 1")

    @property
    def n_actions(self) -> int:
        return self.n_nodes * self.n_resources + 1

    @property
    def defer(self) -> int:
        """The defer action (always valid)."""
        return self.n_actions - 1

    def encode(self, node: int, resource: int) -> int:
        if not (0 <= node < self.n_nodes and 0 <= resource < self.n_resources):
            raise ValueError(f"(node, resource)=({node!r}, {resource!r}): expected node in [0, {self.n_nodes - 1}] "
                             f"and resource in [0, {self.n_resources - 1}]")
        return int(node) * self.n_resources + int(resource)

    def decode(self, action: int, preferred: int = -1) -> Assignment | None:
        """The placement of ``action``, or None for defer; ValueError outside the space.
        (``preferred``, the head's preferred resource, is part of the codec interface: a codec
        whose actions name only a node places on it; this one does not need it.)"""
        a = int(action)
        if not (0 <= a < self.n_actions):
            raise ValueError(f"action={action!r}: expected an integer in [0, {self.n_actions - 1}]")
        if a == self.defer:
            return None
        node, resource = divmod(a, self.n_resources)
        return Assignment(node, resource)

    def mask(self, feasible: np.ndarray | None, preferred: int = -1) -> np.ndarray:
        """The action mask from ``feasible [node, resource]`` bool (None: only defer)."""
        out = np.zeros(self.n_actions, dtype=bool)
        out[-1] = True
        if feasible is not None:
            out[:-1] = np.asarray(feasible, dtype=bool).reshape(-1)
        return out

    def placements(self, mask: np.ndarray) -> np.ndarray:
        """The valid placement actions of ``mask`` (defer excluded), ``[k]`` int."""
        return np.flatnonzero(np.asarray(mask)[:-1])


@dataclass(frozen=True)
class NodeCodec:
    """``Discrete(n_nodes + 1)``: action ``n`` runs the head on node ``n``'s servers of the
    resource it prefers (``preferred``), the last action defers."""

    n_nodes: int

    def __post_init__(self) -> None:
        if not (isinstance(self.n_nodes, (int, np.integer)) and self.n_nodes >= 1):
            raise ValueError(f"n_nodes={self.n_nodes!r}: expected an integer >= 1")

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
        """Defer, and the nodes where ``feasible [node, resource]`` holds for ``preferred``."""
        out = np.zeros(self.n_actions, dtype=bool)
        out[-1] = True
        if feasible is not None and preferred >= 0:
            out[:-1] = np.asarray(feasible, dtype=bool)[:, preferred]
        return out


__all__ = ["Assignment", "NodeCodec", "NodeResourceCodec"]
