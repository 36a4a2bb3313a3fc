"""Scenario configuration of an episode's rules: the reward, the episode's clock and the unit
commitment source (the ``[reward]``, ``[episode]`` and ``[commitment]`` tables). tsco is
"A Novel Hierarchical Co-Optimization Framework for Coordinated Task Scheduling and
Power Dispatch in Computing Power Networks" (Luo, Yang, Huang, Dustdar)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from carbon_cpn.envs.config_checks import nonnegative, positive, require


@dataclass(frozen=True)
class RewardConfig:
    """Weights of tsco eq. 13: R = w_rev Rev - w_cost Cost - w_carb Carbon - w_pen Penalty."""

    w_rev: float = 1.0
    w_cost: float = 1.0
    w_carb: float = 1.0
    w_pen: float = 1.0
    #: Carbon price that turns emissions into dollars [$/t CO2].
    carbon_price_usd_per_t: float = 50.0
    #: Penalty per job that misses its deadline [$].
    deadline_penalty_usd: float = 200.0
    #: Penalty for choosing a masked (infeasible) action [$]; the action becomes a defer.
    invalid_action_penalty_usd: float = 5.0
    #: Scale dividing every term so rewards are O(1) for learning [$ per reward unit].
    reward_scale_usd: float = 100.0
    #: "objective": the reward is the episode objective's per-step decrement, booked against a
    #: shadow day with the CPN idle (``carbon_cpn.optim.objective``; the w_* weights do not
    #: apply); "tsco": tsco eq. 13 with the w_* weights (LMP x energy, MCI x energy x price).
    mode: str = "objective"

    def __post_init__(self) -> None:
        require(self.mode in ("objective", "tsco"), "reward.mode", self.mode, "'objective' or 'tsco'")
        for f in dataclasses.fields(self):
            if f.name != "mode":
                nonnegative(f"reward.{f.name}", getattr(self, f.name))
        positive("reward.reward_scale_usd", self.reward_scale_usd)


@dataclass(frozen=True)
class EpisodeConfig:
    #: Episode length [days], at most a week.
    days: int = 1
    #: Grid interval [minutes]; divides 60.
    interval_min: int = 15
    #: Days of the profile year an episode may start on ([first, last], inclusive, 0-based).
    first_day: int = 0
    last_day: int = 357
    #: Decisions allowed per interval before the clock advances on its own.
    max_decisions_per_interval: int = 64

    def __post_init__(self) -> None:
        require(isinstance(self.days, int) and 1 <= self.days <= 7, "episode.days", self.days, "an integer in [1, 7]")
        require(isinstance(self.interval_min, int) and self.interval_min in (5, 10, 15, 20, 30, 60),
                 "episode.interval_min", self.interval_min, "one of 5, 10, 15, 20, 30, 60")
        require(isinstance(self.first_day, int) and 0 <= self.first_day <= 364, "episode.first_day", self.first_day,
                 "a day in [0, 364]")
        require(isinstance(self.last_day, int) and self.first_day <= self.last_day <= 365 - self.days,
                 "episode.last_day", self.last_day, f"a day in [first_day, {365 - self.days}]")
        require(isinstance(self.max_decisions_per_interval, int) and self.max_decisions_per_interval >= 1,
                 "episode.max_decisions_per_interval", self.max_decisions_per_interval, "an integer >= 1")


@dataclass(frozen=True)
class CommitmentConfig:
    """Where the real-time dispatch's unit commitment comes from (issue #4)."""

    #: "all_on": every thermal unit available all day (a placeholder rule);
    #: "day_ahead": the stochastic unit-commitment plan of the day (solved once per day and
    #: scenario seed, then cached on disk).
    mode: str = "all_on"
    #: Renewable/load scenarios of the day-ahead problem, and the seed they are drawn with.
    n_scenarios: int = 3
    seed: int = 0
    #: Relative optimality gap of the Benders decomposition.
    gap: float = 1e-3
    #: Minimum stable output of the thermal units as a share of Pmax (0 keeps the case's Pmin).
    pmin_frac: float = 0.0
    #: No-load cost of a committed unit [$ per MW of capacity per hour].
    no_load_usd_per_mw_h: float = 0.0
    #: Carbon price in the units' offers [$/t], in the day-ahead plan and the real-time dispatch
    #: (a carbon tax on generation); negative means the reward's carbon price (read it as
    #: ``ScenarioConfig.grid_carbon_price_usd_per_t``, where it is resolved).
    carbon_price_usd_per_t: float = -1.0
    #: Where the day's scenarios come from: "forecast" (a day-ahead forecast of the day itself
    #: with measured forecast errors around it, ``carbon_cpn.optim.forecast``) or "analog"
    #: (whole measured days within +-15 days of it, the earlier rule).
    scenarios: str = "forecast"
    #: Spinning reserve of the plan (``carbon_cpn.optim.commitment.ReserveRule``): "none",
    #: "share_of_load" (committed capacity >= forecast net load envelope + reserve_share x
    #: load envelope) or "largest_unit" (that, and N-1: the loss of any one online unit).
    reserve_rule: str = "share_of_load"
    reserve_share: float = 0.1
    #: Probability of the plan's envelope scenario: the forecast day with every CPN node at its
    #: peak power (the other scenarios share the rest); 0 leaves it out.
    envelope_weight: float = 0.1
    #: How a day's plan is solved: "benders" or "extensive" (the deterministic equivalent,
    #: faster for a handful of scenarios), and the time limit of one day's solve [s] (the
    #: best plan found by then is used; its status and gap are stored with it).
    method: str = "benders"
    time_limit_s: float = 300.0
    #: Fuels whose units the real-time dispatch may start within an interval when the plan
    #: left them off (e.g. ["gas_ct"]): the real-time recourse of the plan. The day-ahead
    #: problem itself does not count on it, so it is not part of a plan's key.
    fast_start_fuels: tuple[str, ...] = ("gas_ct",)
    #: What a fast start costs on top of the unit's fuel cost [$/MWh]: its start-up and
    #: no-load cost spread over its energy; it makes the start the last resort before shedding.
    fast_start_usd_per_mwh: float = 100.0

    def __post_init__(self) -> None:
        from carbon_cpn.optim.emissions import EMISSION_FACTOR_KG_PER_MWH

        for f in self.fast_start_fuels:
            require(f in EMISSION_FACTOR_KG_PER_MWH, "commitment.fast_start_fuels", list(self.fast_start_fuels),
                     f"fuel names among {sorted(EMISSION_FACTOR_KG_PER_MWH)}")
        nonnegative("commitment.fast_start_usd_per_mwh", self.fast_start_usd_per_mwh)
        require(self.mode in ("all_on", "day_ahead"), "commitment.mode", self.mode, "'all_on' or 'day_ahead'")
        require(isinstance(self.n_scenarios, int) and 1 <= self.n_scenarios <= 31, "commitment.n_scenarios",
                 self.n_scenarios, "an integer in [1, 31]")
        require(isinstance(self.seed, int) and self.seed >= 0, "commitment.seed", self.seed, "an integer >= 0")
        require(isinstance(self.gap, (int, float)) and 0 < self.gap < 1, "commitment.gap", self.gap, "a number in (0, 1)")
        require(isinstance(self.pmin_frac, (int, float)) and 0 <= self.pmin_frac < 1, "commitment.pmin_frac",
                 self.pmin_frac, "a number in [0, 1)")
        nonnegative("commitment.no_load_usd_per_mw_h", self.no_load_usd_per_mw_h)
        require(self.method in ("benders", "extensive"), "commitment.method", self.method,
                 "'benders' or 'extensive'")
        require(self.scenarios in ("forecast", "analog"), "commitment.scenarios", self.scenarios,
                 "'forecast' or 'analog'")
        require(self.reserve_rule in ("none", "share_of_load", "largest_unit"), "commitment.reserve_rule",
                 self.reserve_rule, "'none', 'share_of_load' or 'largest_unit'")
        require(isinstance(self.envelope_weight, (int, float)) and 0 <= self.envelope_weight < 1,
                 "commitment.envelope_weight", self.envelope_weight, "a probability in [0, 1)")
        require(isinstance(self.reserve_share, (int, float)) and 0 <= self.reserve_share <= 1,
                 "commitment.reserve_share", self.reserve_share, "a share of load in [0, 1]")
        require(isinstance(self.time_limit_s, (int, float)) and self.time_limit_s > 0, "commitment.time_limit_s",
                 self.time_limit_s, "a number of seconds > 0")


__all__ = ["CommitmentConfig", "EpisodeConfig", "RewardConfig"]
