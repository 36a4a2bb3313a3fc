"""The episode objective: one definition for the env's reward, the leaderboard and the oracle.

In dollars over an episode (lower is better)::

    J = generation + start-up + lost load + carbon - compute value + QoS penalty

* ``generation``: fuel cost of the thermal units under the dispatch's cost curves, the no-load
  cost of every committed unit, and the fast-start adder of units the real-time dispatch
  started (their start-up and no-load cost spread over their energy);
* ``start-up``: the start-up cost of the day-ahead plan's starts (``UnitCommitmentParams``);
  the plan is fixed before the day, so this is the same for every policy on a day;
* ``lost load``: value of lost load x load shed, plus the over-generation penalty x must-run
  output no load could absorb (both priced at the grid's VOLL);
* ``carbon``: carbon price x the system's CO2 emissions (all units, not only the CPN's share);
* ``compute value``: the workload's revenue, server-hours x price of every job finished by its
  deadline;
* ``QoS penalty``: ``deadline_penalty_usd`` for every job that does not finish by its deadline.
  Every job is settled at the end of the episode: a job still queued or running then is
  charged its miss like one whose deadline passed, so deferring past the horizon is never free.

``J`` is the leaderboard's ranking number (``episode_metrics["objective_usd"]``), the quantity
the perfect-foresight oracle (``carbon_cpn.optim.oracle``) minimizes and bounds from below, and
the default reward is its per-step decrement (``carbon_cpn.envs.cpn_env``). Nothing here
imports the env: the pieces are plain numbers and arrays.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

import numpy as np

#: Names of the objective's terms, in the order of the module docstring; "compute_value" is
#: subtracted, every other term added.
TERMS: tuple[str, ...] = ("generation", "startup", "lost_load", "carbon", "compute_value", "qos_penalty")


class ObjectiveError(ValueError):
    """A price or quantity of the objective that is not allowed."""


@dataclass(frozen=True)
class ObjectivePrices:
    """The prices that turn an episode's quantities into dollars."""

    #: Carbon price [$/t CO2].
    carbon_price_usd_per_t: float
    #: Penalty per job that misses its deadline (or is unfinished at the end) [$].
    deadline_penalty_usd: float

    def __post_init__(self) -> None:
        for f in fields(self):
            v = getattr(self, f.name)
            if not (isinstance(v, (int, float)) and math.isfinite(v) and v >= 0):
                raise ObjectiveError(f"{f.name}={v!r}: expected a finite number >= 0")


@dataclass(frozen=True)
class ObjectiveTerms:
    """The objective's terms [$] (each >= 0), over an interval or a whole episode."""

    generation: float = 0.0
    startup: float = 0.0
    lost_load: float = 0.0
    carbon: float = 0.0
    compute_value: float = 0.0
    qos_penalty: float = 0.0

    @property
    def total_usd(self) -> float:
        """``J``: every term added, the compute value subtracted."""
        return (self.generation + self.startup + self.lost_load + self.carbon - self.compute_value
                + self.qos_penalty)

    def signed(self) -> dict[str, float]:
        """Each term with the sign it enters ``J`` with."""
        return {name: (-1.0 if name == "compute_value" else 1.0) * getattr(self, name) for name in TERMS}

    def __add__(self, other: ObjectiveTerms) -> ObjectiveTerms:
        return ObjectiveTerms(**{n: getattr(self, n) + getattr(other, n) for n in TERMS})

    def __sub__(self, other: ObjectiveTerms) -> ObjectiveTerms:
        return ObjectiveTerms(**{n: getattr(self, n) - getattr(other, n) for n in TERMS})


def grid_terms(generation_usd: float, lost_load_usd: float, emissions_kg: float, prices: ObjectivePrices
               ) -> ObjectiveTerms:
    """The grid's part of an interval: generation cost, lost load and carbon [$]."""
    return ObjectiveTerms(generation=float(generation_usd), lost_load=float(lost_load_usd),
                          carbon=prices.carbon_price_usd_per_t * float(emissions_kg) / 1000.0)


def compute_terms(revenue_usd: float, misses: int | float, prices: ObjectivePrices) -> ObjectiveTerms:
    """The CPN's part: value of the work delivered, penalty of the misses [$]."""
    return ObjectiveTerms(compute_value=float(revenue_usd), qos_penalty=prices.deadline_penalty_usd * float(misses))


def energy_price_usd_per_mwh(fuel_usd_per_mwh: np.ndarray, emission_kg_per_mwh: np.ndarray,
                             prices: ObjectivePrices) -> np.ndarray:
    """What one MWh of a generator block costs in ``J``: fuel plus carbon [$/MWh]."""
    return np.asarray(fuel_usd_per_mwh, dtype=float) + prices.carbon_price_usd_per_t * np.asarray(
        emission_kg_per_mwh, dtype=float) / 1000.0


def startup_cost_usd(committed: np.ndarray, startup_usd: np.ndarray, initially_on: np.ndarray) -> float:
    """Start-up cost of a commitment ``[t, gen]`` (bool) whose units were ``initially_on``
    ``[gen]`` before its first interval: ``startup_usd[gen]`` per off-to-on change."""
    u = np.asarray(committed, dtype=bool)
    prev = np.vstack([np.asarray(initially_on, dtype=bool)[None, :], u[:-1]])
    return float((u & ~prev).sum(axis=0) @ np.asarray(startup_usd, dtype=float))
