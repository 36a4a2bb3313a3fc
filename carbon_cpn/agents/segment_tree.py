"""Array-backed segment trees for proportional prioritized replay (issue #5).

Schaul et al. 2016, "Prioritized Experience Replay", Appendix B.2.1: a sum tree gives the
total priority and samples index ``i`` with probability ``p_i / sum_j p_j`` in O(log N); a min
tree gives ``min_j p_j`` for the largest importance weight. Both are stored as one array of
``2 * capacity`` nodes (``capacity`` a power of two): node 1 is the root, node ``k`` has children
``2k`` and ``2k + 1``, leaf ``i`` sits at node ``capacity + i``. Updates and queries work on whole
batches of indices at once, one numpy operation per tree level.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np


def _next_power_of_two(n: int) -> int:
    return 1 << max(0, int(n) - 1).bit_length()


class _SegmentTree(ABC):
    """Common storage and batched update; ``_combine`` is the associative operation."""

    _neutral: float = 0.0

    def __init__(self, capacity: int) -> None:
        if not (isinstance(capacity, (int, np.integer)) and capacity >= 1):
            raise ValueError(f"capacity={capacity!r}: expected an integer >= 1")
        self.capacity = int(capacity)  # number of usable leaves
        self._size = _next_power_of_two(self.capacity)  # leaves in the array, power of two
        self.tree = np.full(2 * self._size, self._neutral, dtype=np.float64)  # [node]

    @staticmethod
    @abstractmethod
    def _combine(left: np.ndarray, right: np.ndarray) -> np.ndarray:
        """Combine two children (sum or min); each tree implements it."""

    def __setitem__(self, indices: np.ndarray | int, values: np.ndarray | float) -> None:
        idx = np.atleast_1d(np.asarray(indices, dtype=np.int64))
        val = np.broadcast_to(np.asarray(values, dtype=np.float64), idx.shape)
        if idx.size == 0:
            return
        if idx.min() < 0 or idx.max() >= self.capacity:
            raise IndexError(f"indices out of [0, {self.capacity}): {idx[(idx < 0) | (idx >= self.capacity)][:5]}")
        nodes = idx + self._size
        self.tree[nodes] = val  # with duplicate indices the last value wins, as in a loop
        if self._size == 1:  # the leaf is the root
            return
        if idx.size == 1:  # the common single-transition insert: a scalar walk to the root
            k, tree, comb = int(nodes[0]) // 2, self.tree, self._combine_scalar
            while k >= 1:
                tree[k] = comb(tree[2 * k], tree[2 * k + 1])
                k //= 2
            return
        nodes = np.sort(nodes) // 2
        while True:
            nodes = nodes[np.concatenate(([True], nodes[1:] != nodes[:-1]))]  # sorted -> unique
            self.tree[nodes] = self._combine(self.tree[2 * nodes], self.tree[2 * nodes + 1])
            if nodes[0] == 1:
                break
            nodes = nodes // 2

    def __getitem__(self, indices: np.ndarray | int) -> np.ndarray:
        return self.tree[np.asarray(indices, dtype=np.int64) + self._size]

    def root(self) -> float:
        """The operation over all leaves."""
        return float(self.tree[1])


class SumSegmentTree(_SegmentTree):
    """Sum of priorities; :meth:`find_prefix_sum` samples proportionally."""

    _neutral = 0.0

    @staticmethod
    def _combine(left: np.ndarray, right: np.ndarray) -> np.ndarray:
        return left + right

    _combine_scalar = staticmethod(float.__add__)

    def total(self) -> float:
        return self.root()

    def find_prefix_sum(self, mass: np.ndarray) -> np.ndarray:
        """For each ``m`` in ``mass`` ``[batch]`` the smallest leaf ``i`` with ``sum_{j<=i} p_j > m``.

        Descends all queries together: at node ``k`` go left if ``m < tree[2k]``, else subtract
        the left sum and go right. ``m`` must lie in ``[0, total())``.
        """
        m = np.asarray(mass, dtype=np.float64).copy()
        nodes = np.ones(m.shape, dtype=np.int64)
        while nodes[0] < self._size if nodes.size else False:
            left = self.tree[2 * nodes]
            go_right = m >= left
            m = np.where(go_right, m - left, m)
            nodes = 2 * nodes + go_right
        leaves = nodes - self._size
        # Rounding can push a query onto a zero-priority leaf past the last stored one.
        return np.minimum(leaves, self.capacity - 1)


class MinSegmentTree(_SegmentTree):
    """Minimum of priorities (unused leaves hold +inf)."""

    _neutral = float("inf")

    @staticmethod
    def _combine(left: np.ndarray, right: np.ndarray) -> np.ndarray:
        return np.minimum(left, right)

    _combine_scalar = staticmethod(min)

    def min(self) -> float:
        return self.root()
