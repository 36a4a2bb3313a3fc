"""Scenario configuration: frozen, typed, validated dataclasses loaded from TOML (issue #3).

A scenario file has the tables ``[grid]``, ``[cpn]``, ``[workload]``, ``[reward]`` and
``[episode]``; each maps onto one dataclass below. Unknown keys and out-of-range values raise
:class:`ScenarioError` naming the key path, the value and what was expected. Keyword overrides
use the same paths with ``__`` or ``.`` between levels, e.g. ``episode__days=2`` or
``{"reward.carbon_price_usd_per_t": 100}``.
"""

from __future__ import annotations

import dataclasses
import math
import tomllib
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from carbon_cpn.optim.grid import BatteryUnit


class ScenarioError(ValueError):
    """A scenario key or value that is not allowed."""


def _require(cond: bool, key: str, value: Any, expected: str) -> None:
    if not cond:
        raise ScenarioError(f"{key}={value!r}: expected {expected}")


def _pos(key: str, v: float) -> None:
    _require(isinstance(v, (int, float)) and math.isfinite(v) and v > 0, key, v, "a finite number > 0")


def _nonneg(key: str, v: float) -> None:
    _require(isinstance(v, (int, float)) and math.isfinite(v) and v >= 0, key, v, "a finite number >= 0")


def _frac(key: str, v: float) -> None:
    _require(isinstance(v, (int, float)) and 0.0 <= v <= 1.0, key, v, "a number in [0, 1]")


# ----------------------------------------------------------------------------- grid
@dataclass(frozen=True)
class RenewableConfig:
    """A curtailable farm whose availability follows a column of the profile file."""

    #: Unique name.
    name: str
    #: pandapower bus label.
    bus: int
    #: Nameplate capacity [MW].
    capacity_mw: float
    #: Column of ``envs/data/profiles_hourly.csv`` (per-unit availability).
    profile: str

    def __post_init__(self) -> None:
        _nonneg(f"{self.name}.capacity_mw", self.capacity_mw)


@dataclass(frozen=True)
class BatteryConfig(BatteryUnit):
    """A battery (tsco eq. 2): the dispatch model's :class:`BatteryUnit` fields, validated
    there, plus its state of charge at the start of an episode."""

    #: Value of stored energy [$/MWh]: between the night-time and evening marginal costs of
    #: the default grid (cost_scale 10), so batteries charge on cheap or spilled energy.
    value_usd_per_mwh: float = 30.0
    #: SOC at the start of an episode, fraction of energy_mwh.
    soc_init_frac: float = 0.5

    def __post_init__(self) -> None:
        super().__post_init__()
        _frac(f"{self.name}.soc_init_frac", self.soc_init_frac)
        _require(
            self.soc_min_frac <= self.soc_init_frac <= self.soc_max_frac,
            f"{self.name}.soc_init_frac", self.soc_init_frac,
            f"soc_min_frac ({self.soc_min_frac}) <= soc_init_frac <= soc_max_frac ({self.soc_max_frac})",
        )


@dataclass(frozen=True)
class LineRating:
    """A new thermal rating for one line of the case (a reinforced connection)."""

    #: pandapower bus labels of the line's ends (either order).
    from_bus: int
    to_bus: int
    #: Rating [MW] (DC model: the MVA rating at unity power factor).
    rating_mw: float

    def __post_init__(self) -> None:
        _pos(f"grid.line_ratings[{self.from_bus}-{self.to_bus}].rating_mw", self.rating_mw)


@dataclass(frozen=True)
class GridConfig:
    """The power system: a pandapower case plus renewables and batteries."""

    #: A function of ``pandapower.networks`` (case14, case30, case57, case118, ...).
    case: str = "case30"
    #: Cost curve of the dispatch: "pwl", "linear" or "quadratic".
    cost_model: str = "pwl"
    #: Piecewise-linear segments per unit (pwl mode).
    n_segments: int = 4
    #: Multiplier on the case's cost coefficients. case30's are 1-3.25 $/MWh, an order below
    #: today's fuel costs; 10 gives 20-70 $/MWh marginal costs.
    cost_scale: float = 10.0
    #: Multiplier on the case's loads; the daily load shape (peak 1.0) multiplies this.
    load_scale: float = 1.0
    #: Multiplier on every line and transformer rating.
    rating_scale: float = 1.0
    #: Value of lost load [$/MWh].
    voll_usd_per_mwh: float = 5000.0
    #: Fuel of each unit (names in carbon_cpn.optim.emissions); empty = the case's default.
    fuels: tuple[str, ...] = ()
    solar: tuple[RenewableConfig, ...] = ()
    wind: tuple[RenewableConfig, ...] = ()
    batteries: tuple[BatteryConfig, ...] = ()
    #: Lines whose rating the scenario changes (applied after ``rating_scale``).
    line_ratings: tuple[LineRating, ...] = ()

    def __post_init__(self) -> None:
        _require(self.cost_model in ("pwl", "linear", "quadratic"), "grid.cost_model", self.cost_model,
                 "one of 'pwl', 'linear', 'quadratic'")
        _require(isinstance(self.n_segments, int) and 1 <= self.n_segments <= 50, "grid.n_segments", self.n_segments,
                 "an integer in [1, 50]")
        for k in ("cost_scale", "load_scale", "rating_scale", "voll_usd_per_mwh"):
            _pos(f"grid.{k}", getattr(self, k))
        names = [u.name for u in (*self.solar, *self.wind, *self.batteries)]
        dup = {n for n in names if names.count(n) > 1}
        _require(not dup, "grid unit names", sorted(dup), "unique names")


# ----------------------------------------------------------------------------- CPN
@dataclass(frozen=True)
class NodeConfig:
    """A CPN node (data center) at a load bus, with CPU and GPU server pools."""

    name: str
    #: pandapower bus label.
    bus: int
    #: Number of CPU servers.
    cpu_units: int
    #: Number of GPU servers.
    gpu_units: int
    #: Power of one CPU server idle / at full load [kW].
    cpu_idle_kw: float = 0.2
    cpu_peak_kw: float = 0.5
    #: Power of one GPU server (8 accelerators) idle / at full load [kW].
    gpu_idle_kw: float = 1.2
    gpu_peak_kw: float = 6.5
    #: Power usage effectiveness: facility power / IT power.
    pue: float = 1.3
    #: Relative speed of this node's servers (work units per server-hour = speed).
    speed: float = 1.0

    def __post_init__(self) -> None:
        for k in ("cpu_units", "gpu_units"):
            v = getattr(self, k)
            _require(isinstance(v, int) and v >= 0, f"{self.name}.{k}", v, "an integer >= 0")
        _require(self.cpu_units + self.gpu_units > 0, f"{self.name}.cpu_units+gpu_units", 0, "at least one server")
        for res in ("cpu", "gpu"):
            idle, peak = getattr(self, f"{res}_idle_kw"), getattr(self, f"{res}_peak_kw")
            _nonneg(f"{self.name}.{res}_idle_kw", idle)
            _require(isinstance(peak, (int, float)) and peak >= idle, f"{self.name}.{res}_peak_kw", peak,
                     f"a number >= {res}_idle_kw ({idle})")
        _require(isinstance(self.pue, (int, float)) and 1.0 <= self.pue <= 3.0, f"{self.name}.pue", self.pue,
                 "a number in [1, 3]")
        _pos(f"{self.name}.speed", self.speed)


@dataclass(frozen=True)
class CPNConfig:
    nodes: tuple[NodeConfig, ...] = ()

    def __post_init__(self) -> None:
        _require(len(self.nodes) >= 1, "cpn.nodes", len(self.nodes), "at least one node")
        names = [n.name for n in self.nodes]
        _require(len(set(names)) == len(names), "cpn.nodes names", names, "unique names")


QOS_CLASSES = ("high", "medium", "low", "variable")


@dataclass(frozen=True)
class WorkloadType:
    """One workload class of c3o Table 2."""

    name: str
    #: Share of jobs of this type.
    share: float
    #: Probability that a sub-task of this type runs on GPU servers (else CPU).
    gpu_prob: float
    #: Run time of one sub-task at speed 1 [h], drawn log-uniformly in this range.
    duration_min_h: float
    duration_max_h: float
    #: Servers one sub-task occupies, drawn log-uniformly (integers) in this range.
    units_min: int
    units_max: int
    #: Deadline slack: deadline = arrival + slack x (critical-path run time at speed 1)
    #: + one interval per DAG level (sub-tasks start only at interval boundaries).
    slack: float
    #: QoS priority of c3o Table 2: "high", "medium", "low" or "variable" (variable draws the
    #: slack uniformly between 1.5 and 2 x slack per job).
    qos: str = "medium"

    def __post_init__(self) -> None:
        _frac(f"{self.name}.share", self.share)
        _frac(f"{self.name}.gpu_prob", self.gpu_prob)
        _pos(f"{self.name}.duration_min_h", self.duration_min_h)
        _require(isinstance(self.duration_max_h, (int, float)) and self.duration_max_h >= self.duration_min_h,
                 f"{self.name}.duration_max_h", self.duration_max_h, f"a number >= duration_min_h ({self.duration_min_h})")
        _require(isinstance(self.units_min, int) and self.units_min >= 1, f"{self.name}.units_min", self.units_min,
                 "an integer >= 1")
        _require(isinstance(self.units_max, int) and self.units_max >= self.units_min, f"{self.name}.units_max",
                 self.units_max, f"an integer >= units_min ({self.units_min})")
        _require(isinstance(self.slack, (int, float)) and self.slack >= 1.0, f"{self.name}.slack", self.slack,
                 "a number >= 1")
        _require(self.qos in QOS_CLASSES, f"{self.name}.qos", self.qos, f"one of {QOS_CLASSES}")


@dataclass(frozen=True)
class WorkloadConfig:
    """Poisson job arrivals with a daily cycle; DAG shapes; the workload mix."""

    #: Mean arrivals per hour over a day.
    jobs_per_hour: float = 40.0
    #: Relative amplitude of the daily cycle (rate x (1 + a cos(2 pi (h - peak_hour)/24))).
    daily_amplitude: float = 0.5
    #: Hour of peak arrivals.
    peak_hour: float = 14.0
    #: Probabilities of the DAG shapes single / chain / fork-join.
    p_single: float = 0.5
    p_chain: float = 0.3
    p_forkjoin: float = 0.2
    #: Sub-tasks per chain or fork-join job (max).
    max_subtasks: int = 4
    #: Queue length that reads as 1.0 in the observation (the queue itself is unbounded).
    queue_capacity: int = 64
    #: Run-time factor of a GPU-preferring sub-task placed on CPU servers, and the reverse.
    gpu_on_cpu_slowdown: float = 4.0
    cpu_on_gpu_slowdown: float = 1.0
    #: A job not finished this long after its deadline is dropped [h].
    drop_after_h: float = 2.0
    #: Revenue per server-hour of a job finished by its deadline [$], by resource type.
    cpu_price_usd_per_server_h: float = 0.4
    gpu_price_usd_per_server_h: float = 6.0
    types: tuple[WorkloadType, ...] = ()

    def __post_init__(self) -> None:
        _pos("workload.jobs_per_hour", self.jobs_per_hour)
        _frac("workload.daily_amplitude", self.daily_amplitude)
        _require(isinstance(self.peak_hour, (int, float)) and 0 <= self.peak_hour < 24, "workload.peak_hour",
                 self.peak_hour, "an hour in [0, 24)")
        for k in ("p_single", "p_chain", "p_forkjoin"):
            _frac(f"workload.{k}", getattr(self, k))
        total = self.p_single + self.p_chain + self.p_forkjoin
        _require(abs(total - 1.0) < 1e-9, "workload.p_single+p_chain+p_forkjoin", total, "1.0")
        _require(isinstance(self.max_subtasks, int) and 4 <= self.max_subtasks <= 8, "workload.max_subtasks",
                 self.max_subtasks, "an integer in [4, 8]")
        _require(isinstance(self.queue_capacity, int) and self.queue_capacity >= 1, "workload.queue_capacity",
                 self.queue_capacity, "an integer >= 1")
        _pos("workload.drop_after_h", self.drop_after_h)
        for k in ("gpu_on_cpu_slowdown", "cpu_on_gpu_slowdown"):
            _require(isinstance(getattr(self, k), (int, float)) and getattr(self, k) >= 1.0, f"workload.{k}",
                     getattr(self, k), "a number >= 1")
        _nonneg("workload.cpu_price_usd_per_server_h", self.cpu_price_usd_per_server_h)
        _nonneg("workload.gpu_price_usd_per_server_h", self.gpu_price_usd_per_server_h)
        names = [t.name for t in self.types]
        _require(len(set(names)) == len(names), "workload.types names", names, "unique names")
        _require(len(self.types) >= 1, "workload.types", len(self.types), "at least one type")
        share = sum(t.share for t in self.types)
        _require(abs(share - 1.0) < 1e-6, "workload.types shares", share, "shares summing to 1")


# ----------------------------------------------------------------------------- reward/episode
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
        _require(self.mode in ("objective", "tsco"), "reward.mode", self.mode, "'objective' or 'tsco'")
        for f in dataclasses.fields(self):
            if f.name != "mode":
                _nonneg(f"reward.{f.name}", getattr(self, f.name))
        _pos("reward.reward_scale_usd", self.reward_scale_usd)


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
        _require(isinstance(self.days, int) and 1 <= self.days <= 7, "episode.days", self.days, "an integer in [1, 7]")
        _require(isinstance(self.interval_min, int) and self.interval_min in (5, 10, 15, 20, 30, 60),
                 "episode.interval_min", self.interval_min, "one of 5, 10, 15, 20, 30, 60")
        _require(isinstance(self.first_day, int) and 0 <= self.first_day <= 364, "episode.first_day", self.first_day,
                 "a day in [0, 364]")
        _require(isinstance(self.last_day, int) and self.first_day <= self.last_day <= 365 - self.days,
                 "episode.last_day", self.last_day, f"a day in [first_day, {365 - self.days}]")
        _require(isinstance(self.max_decisions_per_interval, int) and self.max_decisions_per_interval >= 1,
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
            _require(f in EMISSION_FACTOR_KG_PER_MWH, "commitment.fast_start_fuels", list(self.fast_start_fuels),
                     f"fuel names among {sorted(EMISSION_FACTOR_KG_PER_MWH)}")
        _nonneg("commitment.fast_start_usd_per_mwh", self.fast_start_usd_per_mwh)
        _require(self.mode in ("all_on", "day_ahead"), "commitment.mode", self.mode, "'all_on' or 'day_ahead'")
        _require(isinstance(self.n_scenarios, int) and 1 <= self.n_scenarios <= 31, "commitment.n_scenarios",
                 self.n_scenarios, "an integer in [1, 31]")
        _require(isinstance(self.seed, int) and self.seed >= 0, "commitment.seed", self.seed, "an integer >= 0")
        _require(isinstance(self.gap, (int, float)) and 0 < self.gap < 1, "commitment.gap", self.gap, "a number in (0, 1)")
        _require(isinstance(self.pmin_frac, (int, float)) and 0 <= self.pmin_frac < 1, "commitment.pmin_frac",
                 self.pmin_frac, "a number in [0, 1)")
        _nonneg("commitment.no_load_usd_per_mw_h", self.no_load_usd_per_mw_h)
        _require(self.method in ("benders", "extensive"), "commitment.method", self.method,
                 "'benders' or 'extensive'")
        _require(self.scenarios in ("forecast", "analog"), "commitment.scenarios", self.scenarios,
                 "'forecast' or 'analog'")
        _require(self.reserve_rule in ("none", "share_of_load", "largest_unit"), "commitment.reserve_rule",
                 self.reserve_rule, "'none', 'share_of_load' or 'largest_unit'")
        _require(isinstance(self.envelope_weight, (int, float)) and 0 <= self.envelope_weight < 1,
                 "commitment.envelope_weight", self.envelope_weight, "a probability in [0, 1)")
        _require(isinstance(self.reserve_share, (int, float)) and 0 <= self.reserve_share <= 1,
                 "commitment.reserve_share", self.reserve_share, "a share of load in [0, 1]")
        _require(isinstance(self.time_limit_s, (int, float)) and self.time_limit_s > 0, "commitment.time_limit_s",
                 self.time_limit_s, "a number of seconds > 0")


@dataclass(frozen=True)
class ScenarioConfig:
    name: str = "custom"
    grid: GridConfig = field(default_factory=GridConfig)
    cpn: CPNConfig = field(default_factory=lambda: CPNConfig(nodes=(NodeConfig("dc0", 0, 100, 10),)))
    workload: WorkloadConfig = field(default_factory=lambda: WorkloadConfig(types=(WorkloadType("generic", 1.0, 0.5, 0.25, 2.0, 1, 16, 3.0),)))
    reward: RewardConfig = field(default_factory=RewardConfig)
    episode: EpisodeConfig = field(default_factory=EpisodeConfig)
    commitment: CommitmentConfig = field(default_factory=CommitmentConfig)

    @property
    def grid_carbon_price_usd_per_t(self) -> float:
        """The carbon price in the units' offers [$/t], of the day-ahead plan and of the
        real-time dispatch: ``commitment.carbon_price_usd_per_t``, or the reward's carbon price
        where that is negative (the one place it is resolved)."""
        price = self.commitment.carbon_price_usd_per_t
        return self.reward.carbon_price_usd_per_t if price < 0 else price


# ----------------------------------------------------------------------------- loading
def _convert(tp: Any, value: Any, key: str) -> Any:
    origin = typing.get_origin(tp)
    if dataclasses.is_dataclass(tp):
        _require(isinstance(value, Mapping), key, value, f"a table of {tp.__name__} fields")
        return _build(tp, value, key)
    if origin is tuple:
        (item_tp, _) = typing.get_args(tp)
        _require(isinstance(value, (list, tuple)), key, value, "a list")
        return tuple(_convert(item_tp, v, f"{key}[{i}]") for i, v in enumerate(value))
    if tp is float:
        _require(isinstance(value, (int, float)) and not isinstance(value, bool), key, value, "a number")
        return float(value)
    if tp is int:
        _require(isinstance(value, int) and not isinstance(value, bool), key, value, "an integer")
        return value
    if tp is str:
        _require(isinstance(value, str), key, value, "a string")
        return value
    if isinstance(tp, types.UnionType):  # pragma: no cover - no optional fields yet
        return value
    return value


def _build(cls: type, data: Mapping[str, Any], path: str) -> Any:
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls) if f.init}
    for k in data:
        if k not in names:
            where = f"{path}.{k}" if path else k
            raise ScenarioError(f"{where}: unknown key; expected one of {sorted(names)}")
    kwargs = {k: _convert(hints[k], v, f"{path}.{k}" if path else k) for k, v in data.items()}
    try:
        return cls(**kwargs)
    except ScenarioError:
        raise
    except (TypeError, ValueError) as exc:  # a missing field, or a unit model's own validation
        raise ScenarioError(f"{path or cls.__name__}: {exc}") from exc


def _as_plain(obj: Any) -> Any:
    if dataclasses.is_dataclass(obj):
        return {f.name: _as_plain(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, tuple):
        return [_as_plain(v) for v in obj]
    return obj


def _apply_override(data: dict[str, Any], key: str, value: Any) -> None:
    parts = key.replace("__", ".").split(".")
    node: Any = data
    for i, p in enumerate(parts):
        where = ".".join(parts[: i + 1])
        if isinstance(node, list):
            if not (p.isdigit() and int(p) < len(node)):
                raise ScenarioError(f"{where}: expected a list index < {len(node)}")
            p_key: Any = int(p)
        elif isinstance(node, dict):
            if p not in node:
                raise ScenarioError(f"{where}: unknown key; expected one of {sorted(node)}")
            p_key = p
        else:
            raise ScenarioError(f"{where}: {'.'.join(parts[:i])} is a value, not a table")
        if i == len(parts) - 1:
            node[p_key] = value
        else:
            node = node[p_key]


SCENARIO_DIR = "scenarios"


def available_scenarios() -> list[str]:
    """Names of the scenarios shipped in ``envs/scenarios/``."""
    base = resources.files("carbon_cpn.envs") / SCENARIO_DIR
    return sorted(p.name[:-5] for p in base.iterdir() if p.name.endswith(".toml"))


def load_scenario(scenario: str | Path | ScenarioConfig = "ieee30_5dc", **overrides: Any) -> ScenarioConfig:
    """Load a shipped scenario by name, a TOML file by path, or pass a config through;
    apply keyword overrides (``episode__days=2``)."""
    if isinstance(scenario, ScenarioConfig):
        data: dict[str, Any] = _as_plain(scenario)
    else:
        path = Path(scenario)
        if path.suffix == ".toml" and path.exists():
            text = path.read_text()
            name = path.stem
        else:
            shipped = resources.files("carbon_cpn.envs") / SCENARIO_DIR / f"{scenario}.toml"
            if not shipped.is_file():
                raise ScenarioError(
                    f"scenario={str(scenario)!r}: expected a path to a .toml file or one of {available_scenarios()}"
                )
            text = shipped.read_text()
            name = str(scenario)
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ScenarioError(f"scenario={str(scenario)!r}: not valid TOML ({exc})") from exc
        data.setdefault("name", name)
    config = _build(ScenarioConfig, data, "")
    if not overrides:
        return config
    # Overrides apply to the full config, defaults included, and are validated like a file.
    plain = _as_plain(config)
    for key, value in overrides.items():
        _apply_override(plain, key, value)
    return _build(ScenarioConfig, plain, "")
