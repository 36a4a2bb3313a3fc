"""Hourly per-unit profiles of renewable availability and base load (``carbon_cpn/envs/data/``).

The shipped file holds one year (8760 hours) of per-unit solar and wind availability at several
sites and a per-unit system load shape (peak 1.0), all derived from measured data; see
``carbon_cpn/envs/data/README.md`` for provenance and ``carbon_cpn/envs/data/make_profiles.py`` for the script that
made them. This module reads the file once and cuts windows of it at the grid interval.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from importlib import resources

import numpy as np

HOURS_PER_YEAR = 8760


@dataclass(frozen=True)
class Profiles:
    """The whole year: ``columns[name]`` is a ``[hour]`` array of per-unit values."""

    columns: dict[str, np.ndarray]

    def names(self) -> list[str]:
        return sorted(self.columns)

    def window(self, name: str, start_hour: float, n_intervals: int, interval_h: float) -> np.ndarray:
        """Per-unit values of column ``name`` at the midpoints of ``n_intervals`` intervals
        starting at ``start_hour`` (hours since Jan 1 00:00), linearly interpolated between
        hourly values (hourly values are taken at the half hour) and wrapping at year end."""
        if name not in self.columns:
            raise KeyError(f"profile={name!r}: expected one of {self.names()}")
        col = self.columns[name]
        t = start_hour + (np.arange(n_intervals) + 0.5) * interval_h - 0.5
        lo = np.floor(t).astype(np.int64)
        frac = t - lo
        return (1.0 - frac) * col[lo % HOURS_PER_YEAR] + frac * col[(lo + 1) % HOURS_PER_YEAR]


@functools.cache
def load_profiles() -> Profiles:
    """Read ``profiles_hourly.csv`` shipped with the package (cached)."""
    path = resources.files("carbon_cpn.envs") / "data" / "profiles_hourly.csv"
    with path.open("r") as fh:
        header = fh.readline().strip().split(",")
        data = np.loadtxt(fh, delimiter=",", dtype=np.float64)
    if data.shape != (HOURS_PER_YEAR, len(header)) or header[0] != "hour":
        raise ValueError(f"{path}: expected {HOURS_PER_YEAR} rows with an 'hour' column first, got {data.shape}")
    cols = {name: np.ascontiguousarray(data[:, k]) for k, name in enumerate(header) if name != "hour"}
    for arr in cols.values():
        arr.flags.writeable = False
    return Profiles(columns=cols)
