"""Scenario configuration of the power grid: the case, its farms, batteries and line ratings
(the ``[grid]`` table of a scenario file). tsco is "A Novel Hierarchical Co-Optimization Framework for Coordinated Task Scheduling and
Power Dispatch in Computing Power Networks" (Luo, Yang, Huang, Dustdar)."""

from __future__ import annotations

from dataclasses import dataclass, field

from carbon_cpn.envs.config_checks import fraction, nonnegative, positive, require
from carbon_cpn.optim.grid import BatteryUnit


@dataclass(frozen=True)
class RenewableConfig:
    """A curtailable farm whose availability follows a column of the profile file."""

    #: Unique name.
    name: str
    #: pandapower bus label.
    bus: int
    #: Nameplate capacity [MW].
    capacity_mw: float
    #: Column of ``carbon_cpn/envs/data/profiles_hourly.csv`` (per-unit availability).
    profile: str

    def __post_init__(self) -> None:
        nonnegative(f"{self.name}.capacity_mw", self.capacity_mw)


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
        fraction(f"{self.name}.soc_init_frac", self.soc_init_frac)
        require(
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
        positive(f"grid.line_ratings[{self.from_bus}-{self.to_bus}].rating_mw", self.rating_mw)


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
        require(self.cost_model in ("pwl", "linear", "quadratic"), "grid.cost_model", self.cost_model,
                 "one of 'pwl', 'linear', 'quadratic'")
        require(isinstance(self.n_segments, int) and 1 <= self.n_segments <= 50, "grid.n_segments", self.n_segments,
                 "an integer in [1, 50]")
        for k in ("cost_scale", "load_scale", "rating_scale", "voll_usd_per_mwh"):
            positive(f"grid.{k}", getattr(self, k))
        names = [u.name for u in (*self.solar, *self.wind, *self.batteries)]
        dup = {n for n in names if names.count(n) > 1}
        require(not dup, "grid unit names", sorted(dup), "unique names")


@dataclass(frozen=True)
class RegionConfig:
    """A region with a grid of its own (the ``[[regions]]`` list of a scenario file): its grid is
    dispatched on its own every interval; nodes name their region."""

    name: str
    grid: GridConfig = field(default_factory=GridConfig)

    def __post_init__(self) -> None:
        require(isinstance(self.name, str) and self.name != "", "regions.name", self.name, "a non-empty string")


__all__ = ["BatteryConfig", "GridConfig", "LineRating", "RegionConfig", "RenewableConfig"]
