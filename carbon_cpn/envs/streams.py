"""The random streams of an episode.

Every draw of an episode comes from a stream of :class:`EpisodeStreams`, all derived from the
env's seeded ``np_random``:

* the day (when ``reset`` is not given one) and then the job arrivals come from ``np_random``
  itself, in that fixed order (the layout of the v0 ids, kept so that their episodes stay
  the same); the arrival stream is owned by the workload: nothing else draws from it, and a
  copy taken at reset replays the episode's arrivals (``env.foresight()``);
* anything a scenario family adds (failures, prices, request traces) draws from its own
  stream, ``streams.extra(name)``, spawned from the seed sequence of ``np_random`` with a
  child key fixed by ``name``; so adding a stream, or drawing more from one, never moves the
  arrivals or another stream.
"""

from __future__ import annotations

import copy
import zlib
from dataclasses import dataclass

import numpy as np


class EpisodeStreams:
    def __init__(self, np_random: np.random.Generator, episode: int) -> None:
        self.arrivals = np_random
        self._arrivals_at_start = copy.deepcopy(np_random)
        seq = getattr(np_random.bit_generator, "seed_seq", None)
        if not isinstance(seq, np.random.SeedSequence):
            raise ValueError(f"np_random={np_random!r}: expected a generator seeded through a numpy SeedSequence "
                             "(what gymnasium's reset(seed=...) makes)")
        self._seq = seq
        self._episode = int(episode)
        self._extra: dict[str, np.random.Generator] = {}

    def arrivals_replay(self) -> np.random.Generator:
        """A fresh copy of the arrival stream as it was at the episode's start."""
        return copy.deepcopy(self._arrivals_at_start)

    def extra(self, name: str) -> np.random.Generator:
        """The stream ``name`` of this episode (the same generator on every call)."""
        if name not in self._extra:
            key = (*self._seq.spawn_key, self._episode, zlib.crc32(name.encode()))
            child = np.random.SeedSequence(self._seq.entropy, spawn_key=key, pool_size=self._seq.pool_size)
            self._extra[name] = np.random.Generator(np.random.PCG64(child))
        return self._extra[name]


@dataclass(frozen=True)
class EpisodeReplay:
    """An episode's day, its index since the last seeded reset, and its arrival stream as it was
    at the start: enough for another env of the same spec to reset to the same episode (the
    family streams follow from the stream's seed sequence and the index)."""

    day: int
    episode: int
    arrivals: np.random.Generator

    def arrivals_generator(self) -> np.random.Generator:
        """A fresh copy of the arrival stream (the replay can be used more than once)."""
        return copy.deepcopy(self.arrivals)


__all__ = ["EpisodeReplay", "EpisodeStreams"]
