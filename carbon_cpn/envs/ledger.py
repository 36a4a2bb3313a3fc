"""``EpisodeLedger``: the one place an episode's interval outcomes are booked.

The episode objective (:mod:`carbon_cpn.optim.objective`) and the physical totals behind
``episode_metrics`` accumulate here, outcome by outcome; the last outcome is kept for the
observation, the views and the render.
"""

from __future__ import annotations

from dataclasses import dataclass

from carbon_cpn.envs.cpn import JobSummary
from carbon_cpn.envs.outcome import IntervalOutcome
from carbon_cpn.optim.objective import ObjectivePrices, ObjectiveTerms, compute_terms


@dataclass
class EpisodeTotals:
    """Physical totals of the episode so far."""

    cost_usd: float = 0.0  # generation + lost load
    emissions_kg: float = 0.0
    curtail_mwh: float = 0.0
    shed_mwh: float = 0.0
    fast_start_mwh: float = 0.0
    cpn_energy_mwh: float = 0.0
    cpn_emissions_kg: float = 0.0
    cpn_cost_usd: float = 0.0
    load_mwh: float = 0.0
    res_used_mwh: float = 0.0
    revenue_usd: float = 0.0
    deadline_misses: float = 0.0
    settled_unfinished: float = 0.0


class EpisodeLedger:
    """Books :class:`IntervalOutcome` s and the end-of-episode settlement.

    ``opening`` is what is booked before the first interval (the day-ahead plan's start-ups);
    ``baseline`` is the shadow day's whole objective (``episode_metrics["baseline_objective_usd"]``).
    """

    def __init__(self, prices: ObjectivePrices, opening: ObjectiveTerms, baseline: ObjectiveTerms) -> None:
        self.prices = prices
        self.objective = opening
        self.baseline = baseline
        self.totals = EpisodeTotals()
        self.last: IntervalOutcome | None = None

    def book(self, o: IntervalOutcome) -> None:
        self.objective = self.objective + o.booked
        tot = self.totals
        res, dt = o.dispatch, o.interval_h
        tot.cost_usd += o.generation_usd + o.lost_load_usd
        tot.emissions_kg += o.emissions_kg
        tot.curtail_mwh += float(res.curtail_mw.sum()) * dt
        tot.shed_mwh += float(res.shed_mw.sum()) * dt
        tot.fast_start_mwh += o.fast_start_mwh
        tot.cpn_energy_mwh += float(o.node_energy_mwh.sum())
        tot.cpn_emissions_kg += o.cpn_emissions_kg
        tot.cpn_cost_usd += o.cpn_cost_usd
        tot.load_mwh += o.demand_mw * dt
        tot.res_used_mwh += float(res.res_used_mw.sum()) * dt
        tot.revenue_usd += o.compute.revenue_usd + o.family_value_usd
        tot.deadline_misses += o.compute.deadline_misses
        self.last = o

    def settle(self, n_unfinished: int) -> ObjectiveTerms:
        """Charge ``n_unfinished`` jobs their miss at the episode's end; returns the terms booked."""
        settled = compute_terms(0.0, n_unfinished, self.prices)
        self.objective = self.objective + settled
        self.totals.deadline_misses += n_unfinished
        self.totals.settled_unfinished += n_unfinished
        return settled

    def metrics(self, jobs: JobSummary) -> dict[str, float]:
        """``episode_metrics``: the objective and its terms, the totals and ``jobs``."""
        obj, tot = self.objective, self.totals
        return {
            "objective_usd": obj.total_usd,
            "generation_cost_usd": obj.generation,
            "startup_cost_usd": obj.startup,
            "lost_load_cost_usd": obj.lost_load,
            "carbon_cost_usd": obj.carbon,
            "compute_value_usd": obj.compute_value,
            "qos_penalty_usd": obj.qos_penalty,
            "baseline_objective_usd": self.baseline.total_usd,
            "total_cost_usd": obj.generation + obj.startup + obj.lost_load,
            "emissions_tco2": tot.emissions_kg / 1000.0,
            "curtailment_mwh": tot.curtail_mwh,
            "load_shed_mwh": tot.shed_mwh,
            "fast_start_mwh": tot.fast_start_mwh,
            "job_success_rate": float(jobs.completed / jobs.arrived) if jobs.arrived else 1.0,
            "mean_tardiness_s": jobs.mean_tardiness_s,
            "qos_violation_rate": jobs.qos_violation_rate,
            "cpn_energy_mwh": tot.cpn_energy_mwh,
            "cpn_emissions_tco2": tot.cpn_emissions_kg / 1000.0,
            "cpn_cost_usd": tot.cpn_cost_usd,
            "revenue_usd": tot.revenue_usd,
            "renewable_share": tot.res_used_mwh / max(tot.load_mwh, 1e-9),
            "deadline_misses": tot.deadline_misses,
            "jobs_arrived": float(jobs.arrived),
            "jobs_completed": float(jobs.completed),
            "jobs_failed": float(jobs.failed),
            "jobs_pending": float(jobs.pending),
            "jobs_settled_unfinished": tot.settled_unfinished,
        }


__all__ = ["EpisodeLedger", "EpisodeTotals"]
