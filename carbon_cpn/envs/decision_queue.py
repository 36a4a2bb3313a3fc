"""The decision queue: which sub-task the agent is asked about next.

Sub-tasks released in an interval wait in ``pending`` (in release order, the ones deferred
before them first); the head is the first pending sub-task that fits somewhere. A deferred
sub-task, or one that fits nowhere, waits in ``deferred`` and is asked again after the next
interval. At most ``max_decisions`` questions are asked per interval; the rest wait.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable

import numpy as np

from carbon_cpn.envs.cpn import READY, CPNState


class DecisionQueue:
    def __init__(self, max_decisions: int) -> None:
        self.max_decisions = int(max_decisions)
        self.reset()

    def reset(self) -> None:
        self.pending: deque[int] = deque()
        self.deferred: list[int] = []
        self.head = -1
        self.decisions = 0

    def defer(self, task: int) -> None:
        self.deferred.append(task)

    def decided(self) -> None:
        """One more question asked in this interval."""
        self.decisions += 1

    def next_head(self, cpn: CPNState) -> bool:
        """Make the next pending sub-task that fits somewhere the head; False when none is left
        to ask about in this interval (every other pending one then waits in ``deferred``)."""
        if self.decisions < self.max_decisions:
            while self.pending:
                task = self.pending.popleft()
                if cpn.t_status[task] != READY:  # dropped meanwhile
                    continue
                if (cpn.free >= cpn.t_units[task]).any():
                    self.head = task
                    return True
                self.deferred.append(task)  # fits nowhere now: no decision to make
        if self.pending:
            left = np.fromiter(self.pending, dtype=np.int64, count=len(self.pending))
            self.deferred.extend(left[cpn.t_status[left] == READY].tolist())
        self.pending.clear()
        self.head = -1
        return False

    def new_interval(self, released: Iterable[int], cpn: CPNState) -> None:
        """After an interval: the deferred sub-tasks, then those ``released`` that are still
        ready, become pending; the question count restarts."""
        new = np.fromiter(released, dtype=np.int64)
        self.decisions = 0
        self.pending = deque(self.deferred)
        self.pending.extend(new[cpn.t_status[new] == READY].tolist())
        self.deferred = []

    def waiting(self) -> np.ndarray:
        """Sub-tasks waiting for a decision or deferred (the head excluded), ``[k]`` int."""
        n = len(self.pending) + len(self.deferred)
        return np.fromiter((*self.pending, *self.deferred), dtype=np.int64, count=n)

    def __len__(self) -> int:
        """Sub-tasks waiting, the head included."""
        return len(self.pending) + len(self.deferred) + (1 if self.head >= 0 else 0)


__all__ = ["DecisionQueue"]
