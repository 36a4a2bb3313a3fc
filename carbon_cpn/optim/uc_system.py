"""What the day-ahead unit commitment knows: unit parameters, the reserve rule, the system
(:class:`UCSystem`) and the day's scenarios (:class:`DayScenarios`, drawn from analog days by
:func:`draw_day_scenarios`); the solver is :func:`carbon_cpn.optim.commitment.solve_suc`."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from carbon_cpn.optim.grid import GridModel

__all__ = ["RESERVE_MODES", "CommitmentError", "DayScenarios", "ReserveRule", "UCSystem", "UnitCommitmentParams",
           "check_year_profiles", "default_uc_params", "draw_day_scenarios", "reserve_requirement_mw"]


class CommitmentError(ValueError):
    """Bad input to the unit commitment."""


# Unit parameters by fuel: minimum up/down times [h], start-up cost [$ per MW of capacity],
# ramp rate [share of Pmax per hour]. Representative values for the technologies (coal steam
# slow and costly to start, combined cycle intermediate, combustion turbines fast), in the range
# used by the IEEE RTS-96 and NREL's RTS-GMLC unit tables.
_FUEL_UC = {
    "coal": (6.0, 4.0, 60.0, 0.35),
    "gas_cc": (4.0, 3.0, 35.0, 0.60),
    "gas_ct": (1.0, 1.0, 10.0, 1.00),
    "oil": (1.0, 1.0, 15.0, 1.00),
}


@dataclass(frozen=True)
class UnitCommitmentParams:
    """Inter-temporal limits and costs of one thermal unit."""

    min_up_h: float
    min_down_h: float
    startup_cost_usd: float
    shutdown_cost_usd: float
    ramp_up_mw_per_h: float
    ramp_down_mw_per_h: float
    #: State before the first period, and how long it has been in it [h].
    initial_on: bool = True
    initial_hours_in_state: float = 24.0

    def __post_init__(self) -> None:
        for name in ("min_up_h", "min_down_h", "startup_cost_usd", "shutdown_cost_usd", "ramp_up_mw_per_h",
                     "ramp_down_mw_per_h", "initial_hours_in_state"):
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and math.isfinite(v) and v >= 0):
                raise CommitmentError(f"{name}={v!r}: expected a finite number >= 0")


def default_uc_params(grid: GridModel) -> tuple[UnitCommitmentParams, ...]:
    """Parameters from each unit's fuel (``grid.gen_fuels``) and capacity; all units start on."""
    out = []
    for fuel, pmax in zip(grid.gen_fuels, grid.gen_pmax_mw):
        up, down, su_per_mw, ramp = _FUEL_UC.get(fuel, _FUEL_UC["gas_cc"])
        out.append(UnitCommitmentParams(up, down, su_per_mw * pmax, 0.0, ramp * pmax, ramp * pmax))
    return tuple(out)


#: Spinning-reserve rules of the day-ahead plan (:class:`ReserveRule`).
RESERVE_MODES = ("none", "share_of_load", "largest_unit")


@dataclass(frozen=True)
class ReserveRule:
    """The spinning reserve the plan commits on top of the forecast (a first-stage constraint).

    Per period ``t``, with ``L_t`` the day's load envelope (forecast base load plus the CPN at
    its peak power) and ``N_t = L_t - forecast renewables`` (``DayScenarios.envelope_*``):

    * ``"share_of_load"``: committed capacity ``sum_g Pmax_g u_gt >= N_t + share x L_t``;
    * ``"largest_unit"``: that, and after losing any one online unit ``i`` the rest still
      covers ``N_t`` (``sum_{g != i} Pmax_g u_gt >= N_t``, the N-1 rule);
    * ``"none"``: no requirement (the scenarios alone decide).

    A requirement above what every unit together can give is capped at that, so the plan
    always exists; the scenarios then price the shortfall at VOLL.
    """

    mode: str = "none"
    share: float = 0.1

    def __post_init__(self) -> None:
        if self.mode not in RESERVE_MODES:
            raise CommitmentError(f"reserve mode={self.mode!r}: expected one of {RESERVE_MODES}")
        if not (isinstance(self.share, (int, float)) and math.isfinite(self.share) and 0 <= self.share <= 1):
            raise CommitmentError(f"reserve share={self.share!r}: expected a share of load in [0, 1]")


@dataclass(frozen=True)
class UCSystem:
    """What the day-ahead problem knows about the system."""

    grid: GridModel
    params: tuple[UnitCommitmentParams, ...]
    #: Length of a day-ahead period [h]; the day has round(24 / period_h) periods.
    period_h: float = 1.0
    carbon_price_usd_per_t: float = 50.0
    #: Battery SOC at the start of the day [MWh], ``[bess]``; default: middle of the band.
    soc0_mwh: np.ndarray | None = None
    #: Piecewise-linear segments per unit, as in the real-time dispatch.
    n_segments: int = 4
    #: Spinning reserve (needs the scenarios' load envelope).
    reserve: ReserveRule = ReserveRule()

    def __post_init__(self) -> None:
        if len(self.params) != self.grid.n_gen:
            raise CommitmentError(f"params: {len(self.params)} entries; expected {self.grid.n_gen}, one per unit")
        if not (self.period_h > 0 and (24.0 / self.period_h).is_integer()):
            raise CommitmentError(f"period_h={self.period_h!r}: expected a divisor of 24 h")
        if not (math.isfinite(self.carbon_price_usd_per_t) and self.carbon_price_usd_per_t >= 0):
            raise CommitmentError(f"carbon_price_usd_per_t={self.carbon_price_usd_per_t!r}: expected >= 0")

    @property
    def n_periods(self) -> int:
        return int(round(24.0 / self.period_h))

    def soc0(self) -> np.ndarray:
        if self.soc0_mwh is not None:
            return np.asarray(self.soc0_mwh, dtype=float)
        return np.array([0.5 * (b.soc_min_mwh + b.soc_max_mwh) for b in self.grid.batteries])


@dataclass(frozen=True)
class DayScenarios:
    """Joint renewable and load scenarios of one day."""

    res_avail_mw: np.ndarray  # [w, t, res]
    load_mw: np.ndarray  # [w, t, bus]
    prob: np.ndarray  # [w], sums to 1
    source_days: np.ndarray  # [w] day of the profile year each scenario was drawn from
    #: The day-ahead load envelope [MW], ``[t]``: forecast base load plus the CPN at its peak
    #: power, and the forecast renewable availability (what the reserve rule covers).
    envelope_load_mw: np.ndarray | None = None
    envelope_res_mw: np.ndarray | None = None

    @property
    def n(self) -> int:
        return int(self.prob.size)


def check_year_profiles(res_profiles_pu: np.ndarray, load_profile_pu: np.ndarray, day: int
                        ) -> tuple[np.ndarray, np.ndarray]:
    """Check the measured year's renewable ``[8760, res]`` and load ``[8760]`` profiles and a day
    of it; returns them as float arrays."""
    res = np.asarray(res_profiles_pu, dtype=float)
    if res.ndim != 2 or res.shape[0] != 8760:
        raise CommitmentError(f"res_profiles_pu: shape {res.shape}; expected (8760, n_res)")
    load = np.asarray(load_profile_pu, dtype=float)
    if load.shape != (8760,):
        raise CommitmentError(f"load_profile_pu: shape {load.shape}; expected (8760,)")
    if not (isinstance(day, (int, np.integer)) and 0 <= day <= 364):
        raise CommitmentError(f"day={day!r}: expected a day in [0, 364]")
    return res, load


def draw_day_scenarios(
    res_profiles_pu: np.ndarray,
    load_profile_pu: np.ndarray,
    res_capacity_mw: np.ndarray,
    base_load_mw: np.ndarray,
    day: int,
    n: int,
    seed: int,
    *,
    window_days: int = 15,
    period_h: float = 1.0,
    extra_load_mw: np.ndarray | None = None,
) -> DayScenarios:
    """N scenarios for ``day``: analog days of the measured year within +-``window_days``.

    Each scenario takes the renewable and load shapes of one distinct analog day (drawn
    without replacement, nearer days more likely: weight exp(-(d / window)^2)); its
    probability is its normalized weight. ``res_profiles_pu`` is ``[hour, res]`` and
    ``load_profile_pu`` ``[hour]`` over the 8760-hour year; ``extra_load_mw`` ``[t, bus]``
    (e.g. an expected CPN load) is added to every scenario. Reproducible from ``seed``.
    """
    res_profiles_pu, load_profile_pu = check_year_profiles(res_profiles_pu, load_profile_pu, day)
    if not (isinstance(n, (int, np.integer)) and 1 <= n <= 2 * window_days + 1):
        raise CommitmentError(f"n={n!r}: expected 1 to {2 * window_days + 1} scenarios (distinct days in the window)")
    rng = np.random.default_rng(seed)
    offsets = np.arange(-window_days, window_days + 1)
    weight = np.exp(-((offsets / window_days) ** 2))
    pick = rng.choice(offsets.size, size=n, replace=False, p=weight / weight.sum())
    days = (day + offsets[pick]) % 365
    prob = weight[pick] / weight[pick].sum()
    T = int(round(24 / period_h))
    steps = np.arange(T) * period_h
    res, load = [], []
    for d in days:
        hours = 24 * d + steps
        lo = np.floor(hours).astype(int)
        # hourly values, averaged over each period when periods are longer than an hour
        idx = (lo[:, None] + np.arange(max(int(period_h), 1))[None, :]) % 8760
        res.append(res_profiles_pu[idx].mean(axis=1) * np.asarray(res_capacity_mw)[None, :])
        shape = np.asarray(load_profile_pu)[idx].mean(axis=1)
        ld = shape[:, None] * np.asarray(base_load_mw)[None, :]
        if extra_load_mw is not None:
            ld = ld + extra_load_mw
        load.append(ld)
    return DayScenarios(np.stack(res), np.stack(load), prob, days)


def reserve_requirement_mw(system: UCSystem, sc: DayScenarios) -> tuple[np.ndarray, np.ndarray]:
    """Committed capacity the reserve rule asks for ``[t]``, and the N-1 requirement ``[t]``
    (zeros where the rule has none), both capped at what the units can give."""
    T = system.n_periods
    rule = system.reserve
    if rule.mode == "none" or sc.envelope_load_mw is None or sc.envelope_res_mw is None:
        return np.zeros(T), np.zeros(T)
    pmax = system.grid.gen_pmax_mw
    load = np.asarray(sc.envelope_load_mw, dtype=float)
    net = load - np.asarray(sc.envelope_res_mw, dtype=float)
    share = np.minimum(np.maximum(net + rule.share * load, 0.0), pmax.sum())
    n1 = np.minimum(np.maximum(net, 0.0), pmax.sum() - pmax.max()) if rule.mode == "largest_unit" else np.zeros(T)
    return share, n1
