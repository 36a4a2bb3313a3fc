"""Reward terms as functions of an interval's outcome (``reward.mode`` of the scenario).

Each function returns the interval's terms in dollars with the sign they take in the reward
(before the scale); the env sums a step's intervals term by term and scales once
(:func:`scale_terms`), so ``info["reward_terms"]`` always sums to the reward. tsco is
"A Novel Hierarchical Co-Optimization Framework for Coordinated Task Scheduling and
Power Dispatch in Computing Power Networks" (Luo, Yang, Huang, Dustdar).
"""

from __future__ import annotations

from collections.abc import Mapping

from carbon_cpn.envs.config import RewardConfig
from carbon_cpn.envs.outcome import IntervalOutcome
from carbon_cpn.optim.objective import TERMS, ObjectiveTerms

#: Reward terms of ``reward.mode = "tsco"`` (tsco eq. 13).
TSCO_TERMS = ("revenue", "electricity_cost", "carbon", "deadline_penalty", "invalid_action")
#: Reward terms of ``reward.mode = "objective"`` (the objective's terms, then the action penalty).
OBJECTIVE_TERMS = (*TERMS, "invalid_action")


def term_names(cfg: RewardConfig) -> tuple[str, ...]:
    return OBJECTIVE_TERMS if cfg.mode == "objective" else TSCO_TERMS


def objective_terms_usd(o: IntervalOutcome, shadow: ObjectiveTerms) -> dict[str, float]:
    """``reward.mode = "objective"``: the objective's increment of the interval against the
    shadow day's same interval (CPN idle), each term signed as it enters ``J``."""
    return (o.booked - shadow).signed()


def tsco_terms_usd(o: IntervalOutcome, cfg: RewardConfig) -> dict[str, float]:
    """``reward.mode = "tsco"`` (tsco eq. 13): revenue, the CPN's electricity cost at the LMP,
    its carbon at the MCI x the carbon price, and the deadline penalty, each >= 0 in $."""
    return {
        "revenue": o.compute.revenue_usd,
        "electricity_cost": o.cpn_cost_usd,
        "carbon": o.cpn_emissions_kg / 1000.0 * cfg.carbon_price_usd_per_t,
        "deadline_penalty": o.compute.deadline_misses * cfg.deadline_penalty_usd,
    }


def interval_terms_usd(o: IntervalOutcome, shadow: ObjectiveTerms, cfg: RewardConfig) -> dict[str, float]:
    return objective_terms_usd(o, shadow) if cfg.mode == "objective" else tsco_terms_usd(o, cfg)


def settlement_terms_usd(settled: ObjectiveTerms, cfg: RewardConfig) -> dict[str, float]:
    """The end-of-episode settlement of unfinished jobs (their QoS penalty)."""
    return {"qos_penalty" if cfg.mode == "objective" else "deadline_penalty": settled.qos_penalty}


def scale_terms(terms_usd: Mapping[str, float], cfg: RewardConfig) -> dict[str, float]:
    """A step's summed terms in reward units: ``-J`` increments over ``reward_scale_usd``
    (objective), or tsco eq. 13's weights over ``reward_scale_usd`` (tsco). The invalid-action
    term is a cost in both."""
    s = cfg.reward_scale_usd
    if cfg.mode == "objective":
        return {k: -v / s for k, v in terms_usd.items()}
    w = {"revenue": cfg.w_rev / s, "electricity_cost": -cfg.w_cost / s, "carbon": -cfg.w_carb / s,
         "deadline_penalty": -cfg.w_pen / s, "invalid_action": -1.0 / s}
    return {k: w[k] * v for k, v in terms_usd.items()}


__all__ = ["OBJECTIVE_TERMS", "TSCO_TERMS", "interval_terms_usd", "objective_terms_usd", "scale_terms",
           "settlement_terms_usd", "term_names", "tsco_terms_usd"]
