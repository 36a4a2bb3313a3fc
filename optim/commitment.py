"""Day-ahead stochastic unit commitment (tsco §IV.A-B, Algorithm 1 stage 1).

First stage: binary commitment u[g, t], start-ups v and shut-downs w, minimum up and down
times, start-up/shut-down and no-load costs (tsco eq. 11). Second stage, per renewable/load
scenario w: the multi-period DC dispatch with ramping, batteries over time, shedding and
curtailment slacks and a carbon price (tsco eq. 12), see :mod:`carbon_cpn.optim.uc_subproblem`.

``solve_suc(system, scenarios, method="benders")`` runs multi-cut Benders decomposition: a
pyomo master (HiGHS MILP through pyomo's persistent APPSI interface) with one cost-to-go
variable theta_w per scenario, and the scenario subproblems as persistent highspy LPs whose
commitment is fixed through bounds; optimality cuts come from their duals. The slacks make
every subproblem feasible, so no feasibility cuts are needed. ``method="extensive"`` solves the
deterministic equivalent (all scenarios in one pyomo MILP) directly: the reference.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from carbon_cpn.optim.dispatch import EconomicDispatch
from carbon_cpn.optim.grid import GridModel
from carbon_cpn.optim.uc_subproblem import ScenarioLP, SubproblemResult


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


@dataclass(frozen=True)
class CommitmentPlan:
    """The day-ahead plan and how it was found."""

    commitment: np.ndarray  # [gen, t] bool
    startup: np.ndarray  # [gen, t] bool
    shutdown: np.ndarray  # [gen, t] bool
    objective_usd: float  # first-stage cost + expected recourse cost of the commitment
    lower_bounds: tuple[float, ...]
    upper_bounds: tuple[float, ...]
    iterations: int
    solve_time_s: float
    method: str
    #: "optimal" (within the gap), "time_limit" or "iteration_limit" (best plan found is
    #: returned), or "no_incumbent" (extensive form only: every unit on, evaluated).
    status: str
    gap: float
    expected_shed_mwh: float
    expected_curtail_mwh: float
    expected_emissions_t: float
    scenario_cost_usd: np.ndarray = field(default_factory=lambda: np.zeros(0))  # [w]
    #: Each scenario's dispatch under the plan: unit output and battery SOC at period ends.
    scenario_gen_mw: np.ndarray = field(default_factory=lambda: np.zeros((0, 0, 0)))  # [w, t, gen]
    scenario_soc_mwh: np.ndarray = field(default_factory=lambda: np.zeros((0, 0, 0)))  # [w, t, bess]


# --------------------------------------------------------------------------- first stage
def _first_stage(m: object, system: UCSystem, sc: DayScenarios | None = None) -> None:
    """Commitment logic, the reserve rule and the first-stage cost on pyomo model ``m``
    (tsco eq. 11)."""
    import pyomo.environ as pyo

    g, T, dt = system.grid, system.n_periods, system.period_h
    G = range(g.n_gen)
    P = range(T)
    m.u = pyo.Var(G, P, within=pyo.Binary)
    m.v = pyo.Var(G, P, within=pyo.Binary)  # start-up in t
    m.w = pyo.Var(G, P, within=pyo.Binary)  # shut-down in t
    prm = system.params
    u0 = {i: 1.0 if prm[i].initial_on else 0.0 for i in G}

    def logic(m: object, i: int, t: int) -> object:
        prev = m.u[i, t - 1] if t > 0 else u0[i]
        return m.u[i, t] - prev == m.v[i, t] - m.w[i, t]

    m.logic = pyo.Constraint(G, P, rule=logic)
    ups = {i: max(1, int(math.ceil(prm[i].min_up_h / dt))) for i in G}
    downs = {i: max(1, int(math.ceil(prm[i].min_down_h / dt))) for i in G}

    def min_up(m: object, i: int, t: int) -> object:
        return sum(m.v[i, s] for s in range(max(0, t - ups[i] + 1), t + 1)) <= m.u[i, t]

    def min_down(m: object, i: int, t: int) -> object:
        return sum(m.w[i, s] for s in range(max(0, t - downs[i] + 1), t + 1)) <= 1 - m.u[i, t]

    m.min_up = pyo.Constraint(G, P, rule=min_up)
    m.min_down = pyo.Constraint(G, P, rule=min_down)
    # Units that have not yet served their initial minimum time keep their state.
    for i in G:
        need = (ups[i] if prm[i].initial_on else downs[i]) - int(prm[i].initial_hours_in_state / dt)
        for t in range(max(0, min(need, T))):
            m.u[i, t].fix(u0[i])
    _add_reserve(m, system, sc)
    m.first_stage_cost = pyo.Expression(
        expr=sum(prm[i].startup_cost_usd * m.v[i, t] + prm[i].shutdown_cost_usd * m.w[i, t]
                 + g.gen_c0_usd_per_h[i] * dt * m.u[i, t] for i in G for t in P)
    )


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


def _add_reserve(m: object, system: UCSystem, sc: DayScenarios | None) -> None:
    import pyomo.environ as pyo

    if sc is None:
        return
    share, n1 = reserve_requirement_mw(system, sc)
    g = system.grid
    G, P = range(g.n_gen), range(system.n_periods)
    pmax = [float(x) for x in g.gen_pmax_mw]
    m.reserve = pyo.Constraint(P, rule=lambda m, t: sum(pmax[i] * m.u[i, t] for i in G) >= float(share[t])
                               if share[t] > 0 else pyo.Constraint.Skip)
    m.reserve_n1 = pyo.Constraint(G, P, rule=lambda m, j, t: sum(pmax[i] * m.u[i, t] for i in G if i != j)
                                  >= float(n1[t]) if n1[t] > 0 else pyo.Constraint.Skip)


def _first_stage_cost(system: UCSystem, u: np.ndarray, v: np.ndarray, w: np.ndarray) -> float:
    g, dt = system.grid, system.period_h
    su = np.array([p.startup_cost_usd for p in system.params])
    sd = np.array([p.shutdown_cost_usd for p in system.params])
    return float(su @ v.sum(axis=1) + sd @ w.sum(axis=1) + dt * g.gen_c0_usd_per_h @ u.sum(axis=1))


def _read_first_stage(m: object, system: UCSystem) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    import pyomo.environ as pyo

    G, T = system.grid.n_gen, system.n_periods
    get = lambda var: np.array([[round(pyo.value(var[i, t])) for t in range(T)] for i in range(G)], dtype=float)  # noqa: E731
    return get(m.u), get(m.v), get(m.w)


# --------------------------------------------------------------------------- subproblems
def _make_lps(system: UCSystem, scenarios: DayScenarios, which: Sequence[int]) -> dict[int, ScenarioLP]:
    p = system.params
    ru = np.array([x.ramp_up_mw_per_h for x in p]) * system.period_h
    rd = np.array([x.ramp_down_mw_per_h for x in p]) * system.period_h
    return {
        k: ScenarioLP(system.grid, scenarios.load_mw[k], scenarios.res_avail_mw[k], system.soc0(), ru, rd,
                      system.period_h, system.carbon_price_usd_per_t, system.n_segments)
        for k in which
    }


_WORKER: dict[str, object] = {}


def _worker_init(system: UCSystem, scenarios: DayScenarios) -> None:
    _WORKER["system"], _WORKER["scenarios"], _WORKER["lps"] = system, scenarios, {}


def _worker_solve(args: tuple[list[int], np.ndarray]) -> list[tuple[int, SubproblemResult]]:
    ks, u = args
    lps: dict[int, ScenarioLP] = _WORKER["lps"]  # type: ignore[assignment]
    missing = [k for k in ks if k not in lps]
    if missing:  # each worker keeps its persistent models between iterations
        lps.update(_make_lps(_WORKER["system"], _WORKER["scenarios"], missing))  # type: ignore[arg-type]
    return [(k, lps[k].solve(u)) for k in ks]


# --------------------------------------------------------------------------- solvers
def solve_suc(
    system: UCSystem,
    scenarios: DayScenarios,
    method: str = "benders",
    *,
    gap: float = 1e-3,
    workers: int = 1,
    max_iter: int = 200,
    time_limit_s: float = 600.0,
    log: Callable[[str], None] | None = None,
    master_relaxation: str = "auto",
) -> CommitmentPlan:
    """Solve the two-stage stochastic unit commitment; see the module docstring.

    ``master_relaxation`` (Benders only) puts a relaxation of the second stage into the master
    so that its first solutions are already good: ``"scenario"`` a copper-plate (network-free)
    copy of every scenario's dispatch, ``"mean"`` one copy for the probability-weighted mean
    scenario, ``"none"`` only the shortfall bounds; ``"auto"`` is ``"scenario"`` up to 10
    scenarios and ``"mean"`` above. The cuts then only have to learn what the network costs.
    """
    if method not in ("benders", "extensive"):
        raise CommitmentError(f"method={method!r}: expected 'benders' or 'extensive'")
    if master_relaxation not in ("auto", "both", "network", "scenario", "mean", "none"):
        raise CommitmentError(f"master_relaxation={master_relaxation!r}: expected 'auto', 'network', 'scenario', "
                              "'mean' or 'none'")
    if master_relaxation == "auto":
        master_relaxation = "scenario" if scenarios.n <= 10 else "mean"
    if not (0 < gap < 1):
        raise CommitmentError(f"gap={gap!r}: expected a relative gap in (0, 1)")
    if not (isinstance(workers, int) and workers >= 1):
        raise CommitmentError(f"workers={workers!r}: expected an integer >= 1")
    g, T = system.grid, system.n_periods
    if scenarios.load_mw.shape[1:] != (T, g.n_bus) or scenarios.res_avail_mw.shape[1:] != (T, g.n_res):
        raise CommitmentError(
            f"scenarios: load {scenarios.load_mw.shape[1:]}, renewables {scenarios.res_avail_mw.shape[1:]}; "
            f"expected ({T}, {g.n_bus}) and ({T}, {g.n_res})"
        )
    if abs(scenarios.prob.sum() - 1.0) > 1e-9 or np.any(scenarios.prob < 0):
        raise CommitmentError(f"scenarios.prob sums to {scenarios.prob.sum()!r}; expected probabilities summing to 1")
    if method == "extensive":
        return _solve_extensive(system, scenarios, gap, time_limit_s, log)
    return _solve_benders(system, scenarios, gap, workers, max_iter, time_limit_s, log, master_relaxation)


def _solve_benders(system: UCSystem, sc: DayScenarios, gap: float, workers: int, max_iter: int,
                   time_limit_s: float, log: Callable[[str], None] | None,
                   master_relaxation: str = "scenario") -> CommitmentPlan:
    import pyomo.environ as pyo
    from pyomo.contrib.appsi.solvers import Highs

    t_start = time.perf_counter()
    G, T, W = system.grid.n_gen, system.n_periods, sc.n
    m = pyo.ConcreteModel()
    _first_stage(m, system, sc)
    m.theta = pyo.Var(range(W), within=pyo.NonNegativeReals)  # all recourse costs are >= 0
    m.obj = pyo.Objective(expr=m.first_stage_cost + sum(float(sc.prob[k]) * m.theta[k] for k in range(W)))
    _add_shortfall_bounds(m, system, sc)
    if master_relaxation in ("network", "both"):
        # The mean scenario's full network LP in the master; Jensen (see _add_copper_plate).
        mean = _make_lps(system, DayScenarios(np.tensordot(sc.prob, sc.res_avail_mw, axes=1)[None],
                                              np.tensordot(sc.prob, sc.load_mw, axes=1)[None], np.ones(1),
                                              sc.source_days[:1]), [0])[0]
        m.mean_lp = pyo.Block()
        mean_cost = _add_scenario_block(m, m.mean_lp, system, mean)
        m.mean_bound = pyo.Constraint(expr=sum(float(sc.prob[k]) * m.theta[k] for k in range(W)) >= mean_cost)
    if master_relaxation in ("scenario", "mean", "both"):
        _add_copper_plate(m, system, sc, per_scenario=master_relaxation != "mean")
    m.cuts = pyo.ConstraintList()
    solver = Highs()
    solver.config.stream_solver = False
    solver.config.mip_gap = gap / 10.0

    pool = None
    if workers > 1:
        pool = ProcessPoolExecutor(max_workers=workers, initializer=_worker_init, initargs=(system, sc))
        chunks = [list(range(k, W, workers)) for k in range(workers)]
    else:
        lps = _make_lps(system, sc, range(W))

    lbs: list[float] = []
    ubs: list[float] = []
    best: tuple[float, np.ndarray, np.ndarray, np.ndarray, dict[int, SubproblemResult]] | None = None
    it = 0
    def add_cuts(u: np.ndarray, results: dict[int, SubproblemResult]) -> None:
        # Multi-cut: one optimality cut per scenario (module docstring of uc_subproblem).
        for k in range(W):
            r = results[k]
            m.cuts.add(m.theta[k] >= r.cost_usd + sum(
                float(r.grad[i, t]) * (m.u[i, t] - float(u[i, t])) for i in range(G) for t in range(T)
                if r.grad[i, t] != 0.0))

    def evaluate(u: np.ndarray) -> dict[int, SubproblemResult]:
        if pool is not None:
            return dict(r for part in pool.map(_worker_solve, [(c, u) for c in chunks]) for r in part)
        return {k: lps[k].solve(u) for k in range(W)}

    try:
        if master_relaxation == "none":
            # Warm start: cuts at "every unit on" describe the well-supplied region that the
            # optimum lies in; without them the first masters wander through shedding plans.
            # (With a relaxation in the master they are not needed, and their large
            # coefficients slow the master MILP down.)
            add_cuts(np.ones((G, T)), evaluate(np.ones((G, T))))
        rel = 1.0
        seen: set[bytes] = set()
        tight = False
        while it < max_iter:
            it += 1
            # The master needs to be solved only as tightly as the current gap requires, until
            # it proposes a commitment already evaluated: its cuts are in, so only a tighter
            # master solve can make progress from there on.
            solver.config.mip_gap = gap / 4.0 if tight else max(gap / 4.0, min(0.05, rel / 4.0))
            res = solver.solve(m)
            # Every master bound is valid; a looser master may report a lower one than before.
            lb = max(float(res.best_objective_bound), lbs[-1] if lbs else -math.inf)
            u, v, w = _read_first_stage(m, system)
            key = u.astype(np.int8).tobytes()
            if key in seen and not tight:
                tight = True
            seen.add(key)
            results = evaluate(u)
            ub_k = _first_stage_cost(system, u, v, w) + sum(sc.prob[k] * results[k].cost_usd for k in range(W))
            if best is None or ub_k < best[0]:
                best = (ub_k, u, v, w, results)
            lbs.append(lb)
            ubs.append(best[0])
            rel = (best[0] - lb) / max(abs(best[0]), 1e-9)
            if log is not None:
                log(f"iter {it:3d}  LB {lb:14.2f}  UB {best[0]:14.2f}  gap {100 * rel:8.4f} %  "
                    f"{time.perf_counter() - t_start:7.2f} s")
            # The master's bound is valid however loosely it was solved, so the gap is exact.
            if rel <= gap or time.perf_counter() - t_start > time_limit_s:
                break
            add_cuts(u, results)
    finally:
        if pool is not None:
            pool.shutdown()
    assert best is not None
    ub, u, v, w, results = best
    rel = (ubs[-1] - lbs[-1]) / max(abs(ubs[-1]), 1e-9)
    status = "optimal" if rel <= gap else ("iteration_limit" if it >= max_iter else "time_limit")
    return _plan(system, sc, u, v, w, results, ub, lbs, ubs, it, time.perf_counter() - t_start, "benders", status)


def _add_shortfall_bounds(m: object, system: UCSystem, sc: DayScenarios) -> None:
    """Valid lower bounds on each theta_w that the master knows from the start.

    Whatever the dispatch, load above the most the system can supply in a period (committed
    Pmax + all renewables + every battery at full discharge) is shed at VOLL, and must-run
    output (committed Pmin) above load plus full battery charging is spilled at the
    over-generation penalty; the network can only make both worse. Without these, early
    masters try plans that shed load, and each such plan costs an iteration to rule out.
    """
    import pyomo.environ as pyo

    g, T, dt, W = system.grid, system.n_periods, system.period_h, sc.n
    p_bess = float(sum(b.power_mw for b in g.batteries))
    demand = sc.load_mw.sum(axis=2)  # [w, t]
    res = sc.res_avail_mw.sum(axis=2)  # [w, t]
    m.short = pyo.Var(range(W), range(T), within=pyo.NonNegativeReals)
    m.spill = pyo.Var(range(W), range(T), within=pyo.NonNegativeReals)
    G = range(g.n_gen)
    m.short_def = pyo.Constraint(range(W), range(T), rule=lambda m, k, t: m.short[k, t] >= float(
        demand[k, t] - res[k, t] - p_bess) - sum(float(g.gen_pmax_mw[i]) * m.u[i, t] for i in G))
    m.spill_def = pyo.Constraint(range(W), range(T), rule=lambda m, k, t: m.spill[k, t] >= sum(
        float(g.gen_pmin_mw[i]) * m.u[i, t] for i in G) - float(demand[k, t] + p_bess))
    m.theta_floor = pyo.Constraint(range(W), rule=lambda m, k: m.theta[k] >= dt * sum(
        g.voll_usd_per_mwh * m.short[k, t] + g.overgen_penalty_usd_per_mwh * m.spill[k, t] for t in range(T)))


def _add_copper_plate(m: object, system: UCSystem, sc: DayScenarios, per_scenario: bool) -> None:
    """Network-free copies of the second stage in the master (a partial Benders decomposition).

    Each copy is the scenario LP of :mod:`carbon_cpn.optim.uc_subproblem` with the nodal
    balances summed into one system balance and the line limits dropped: the same cost blocks
    (bounds ``lo x u``, ``hi x u``), ramping, batteries, shedding and over-generation. Summing a
    feasible network dispatch over the nodes gives a feasible copy with the same cost (the
    network terms sum to zero), so the copy's cost is a lower bound on Q_w(u): with
    ``per_scenario``, ``theta_w >= copy_w``. Otherwise one copy of the mean scenario bounds the
    expectation: an LP's value is convex in its right-hand sides and bounds, where the
    scenario data enter, so E[Q_w(u)] >= Q(u, E[data]) (Jensen).
    """
    import pyomo.environ as pyo

    g, T, dt = system.grid, system.n_periods, system.period_h
    ng, nr, nb = g.n_gen, g.n_res, g.n_bess
    blk_cost, blk_lo, blk_hi = g.cost_blocks(system.n_segments)
    blk_cost = blk_cost + system.carbon_price_usd_per_t / 1000.0 * g.gen_emission_kg_per_mwh[:, None]
    bpg = blk_cost.shape[1]
    demand = sc.load_mw.sum(axis=2)  # [w, t]
    res = sc.res_avail_mw  # [w, t, res]
    if per_scenario:
        copies = list(range(sc.n))
    else:
        demand = (sc.prob @ demand)[None]
        res = np.tensordot(sc.prob, res, axes=1)[None]
        copies = [0]
    p = system.params
    ru = np.array([x.ramp_up_mw_per_h for x in p]) * dt
    rd = np.array([x.ramp_down_mw_per_h for x in p]) * dt
    soc0 = system.soc0()
    bats = g.batteries
    K, G, B, R, P = copies, range(ng), range(nb), range(nr), range(T)
    m.cp_blk = pyo.Var(K, P, G, range(bpg), within=pyo.NonNegativeReals)
    m.cp_res = pyo.Var(K, P, R, within=pyo.NonNegativeReals, bounds=lambda m, k, t, r: (0.0, float(res[k, t, r])))
    m.cp_ch = pyo.Var(K, P, B, bounds=lambda m, k, t, b: (0.0, bats[b].power_mw))
    m.cp_dis = pyo.Var(K, P, B, bounds=lambda m, k, t, b: (0.0, bats[b].power_mw))
    m.cp_soc = pyo.Var(K, P, B, bounds=lambda m, k, t, b: (
        max(bats[b].soc_min_mwh, min(float(soc0[b]), bats[b].soc_max_mwh)) if t == T - 1 else bats[b].soc_min_mwh,
        bats[b].soc_max_mwh))
    m.cp_shed = pyo.Var(K, P, bounds=lambda m, k, t: (0.0, max(float(demand[k, t]), 0.0)))
    m.cp_over = pyo.Var(K, P, within=pyo.NonNegativeReals)
    m.cp_hi = pyo.Constraint(K, P, G, range(bpg), rule=lambda m, k, t, i, j: m.cp_blk[k, t, i, j] <= float(
        blk_hi[i, j]) * m.u[i, t])
    m.cp_lo = pyo.Constraint(K, P, G, rule=lambda m, k, t, i: m.cp_blk[k, t, i, 0] >= float(blk_lo[i, 0]) * m.u[i, t])
    gen = lambda m, k, t, i: sum(m.cp_blk[k, t, i, j] for j in range(bpg))  # noqa: E731
    m.cp_balance = pyo.Constraint(K, P, rule=lambda m, k, t: sum(gen(m, k, t, i) for i in G) + sum(
        m.cp_res[k, t, r] for r in R) + sum(m.cp_dis[k, t, b] - m.cp_ch[k, t, b] for b in B)
        + m.cp_shed[k, t] - m.cp_over[k, t] == float(demand[k, t]))
    m.cp_soc_def = pyo.Constraint(K, P, B, rule=lambda m, k, t, b: m.cp_soc[k, t, b] == (
        m.cp_soc[k, t - 1, b] if t > 0 else float(soc0[b])) + bats[b].eta_charge * dt * m.cp_ch[k, t, b]
        - dt / bats[b].eta_discharge * m.cp_dis[k, t, b])
    pmax = g.gen_pmax_mw
    m.cp_ramp_up = pyo.Constraint(K, range(1, T), G, rule=lambda m, k, t, i: gen(m, k, t, i) - gen(m, k, t - 1, i)
                                  <= float(ru[i]) + float(pmax[i]) * (1 - m.u[i, t - 1]))
    m.cp_ramp_dn = pyo.Constraint(K, range(1, T), G, rule=lambda m, k, t, i: gen(m, k, t - 1, i) - gen(m, k, t, i)
                                  <= float(rd[i]) + float(pmax[i]) * (1 - m.u[i, t]))
    cost = {k: dt * sum(sum(float(blk_cost[i, j]) * m.cp_blk[k, t, i, j] for i in G for j in range(bpg))
                        + g.voll_usd_per_mwh * m.cp_shed[k, t] + g.overgen_penalty_usd_per_mwh * m.cp_over[k, t]
                        for t in P) for k in K}
    if per_scenario:
        m.cp_bound = pyo.Constraint(K, rule=lambda m, k: m.theta[k] >= cost[k])
    else:
        m.cp_bound = pyo.Constraint(expr=sum(float(sc.prob[k]) * m.theta[k] for k in range(sc.n)) >= cost[0])


def _plan(system: UCSystem, sc: DayScenarios, u: np.ndarray, v: np.ndarray, w: np.ndarray,
          results: dict[int, SubproblemResult], objective: float, lbs: list[float], ubs: list[float], it: int,
          elapsed: float, method: str, status: str) -> CommitmentPlan:
    p = sc.prob
    W = sc.n
    return CommitmentPlan(
        commitment=u.astype(bool), startup=v.astype(bool), shutdown=w.astype(bool), objective_usd=objective,
        lower_bounds=tuple(lbs), upper_bounds=tuple(ubs), iterations=it, solve_time_s=elapsed, method=method,
        status=status,
        gap=(ubs[-1] - lbs[-1]) / max(abs(ubs[-1]), 1e-9) if ubs else float("nan"),
        expected_shed_mwh=float(sum(p[k] * results[k].shed_mwh for k in range(W))),
        expected_curtail_mwh=float(sum(p[k] * results[k].curtail_mwh for k in range(W))),
        expected_emissions_t=float(sum(p[k] * results[k].emissions_kg for k in range(W))) / 1000.0,
        scenario_cost_usd=np.array([results[k].cost_usd for k in range(W)]),
        scenario_gen_mw=np.stack([results[k].gen_mw for k in range(W)]),
        scenario_soc_mwh=np.stack([results[k].soc_mwh for k in range(W)]),
    )


def _add_scenario_block(m: object, b: object, system: UCSystem, s: ScenarioLP) -> object:
    """Scenario LP ``s`` as pyomo block ``b`` of model ``m`` with the commitment ``m.u`` as
    constraints (block bounds ``lo u <= x <= hi u``, ramp rows ``<= R + Pmax (1 - u)``).

    The matrix is the one the subproblem solves, read back from its highspy model. Returns
    the block's recourse cost (a linear expression).
    """
    import pyomo.environ as pyo
    import scipy.sparse as sp
    from pyomo.core.expr.numeric_expr import LinearExpression

    G, T = system.grid.n_gen, system.n_periods
    lp = s._h.getLp()
    ncol = lp.num_col_
    lo, hi = np.asarray(lp.col_lower_), np.asarray(lp.col_upper_)
    blk = s._blk_cols  # [t, blk]
    is_blk = np.zeros(ncol, dtype=bool)
    is_blk[blk.ravel()] = True
    bounds = {j: (None if not np.isfinite(lo[j]) else float(lo[j]), None if not np.isfinite(hi[j]) else float(hi[j]))
              for j in range(ncol)}
    for j in np.flatnonzero(is_blk):
        bounds[j] = (0.0, None)
    b.x = pyo.Var(range(ncol), bounds=lambda _b, j: bounds[j])
    xs = [b.x[j] for j in range(ncol)]
    gen_of = s._blk_gen
    b.link = pyo.ConstraintList()
    for t in range(T):
        for q, j in enumerate(blk[t]):
            i = int(gen_of[q])
            b.link.add(xs[j] <= float(s.blk_hi[q]) * m.u[i, t])
            if s.blk_lo[q] > 0:
                b.link.add(xs[j] >= float(s.blk_lo[q]) * m.u[i, t])
    a = lp.a_matrix_
    csc = sp.csc_matrix((np.asarray(a.value_), np.asarray(a.index_), np.asarray(a.start_)), shape=(lp.num_row_, ncol))
    csr = csc.tocsr()
    rlo, rhi = np.asarray(lp.row_lower_), np.asarray(lp.row_upper_)
    ramp_rhs: dict[int, object] = {}
    for t in range(1, T):
        for i in range(G):
            ramp_rhs[int(s._ramp_up_rows[t, i])] = float(s._ramp_up[i] + s._pmax[i]) - float(s._pmax[i]) * m.u[i, t - 1]
            ramp_rhs[int(s._ramp_dn_rows[t, i])] = float(s._ramp_dn[i] + s._pmax[i]) - float(s._pmax[i]) * m.u[i, t]
    b.rows = pyo.ConstraintList()
    for r_ in range(lp.num_row_):
        st, en = csr.indptr[r_], csr.indptr[r_ + 1]
        expr = LinearExpression(constant=0.0, linear_coefs=csr.data[st:en].tolist(),
                                linear_vars=[xs[j] for j in csr.indices[st:en]])
        if r_ in ramp_rhs:
            b.rows.add(expr <= ramp_rhs[r_])
        elif rlo[r_] == rhi[r_]:
            b.rows.add(expr == float(rlo[r_]))
        else:
            if np.isfinite(rlo[r_]):
                b.rows.add(expr >= float(rlo[r_]))
            if np.isfinite(rhi[r_]):
                b.rows.add(expr <= float(rhi[r_]))
    cost = np.asarray(lp.col_cost_) * system.period_h
    nz = np.flatnonzero(cost)
    return LinearExpression(constant=0.0, linear_coefs=cost[nz].tolist(), linear_vars=[xs[j] for j in nz])


def _solve_extensive(system: UCSystem, sc: DayScenarios, gap: float, time_limit_s: float,
                     log: Callable[[str], None] | None) -> CommitmentPlan:
    """The deterministic equivalent: first stage plus every scenario's LP in one pyomo MILP.

    The scenario LPs' constraint matrices are taken from the same :class:`ScenarioLP`
    builders the subproblems use; the commitment enters as constraints instead of bounds.
    """
    import pyomo.environ as pyo
    from pyomo.contrib.appsi.solvers import Highs
    from pyomo.core.expr.numeric_expr import LinearExpression

    t_start = time.perf_counter()
    G, T, W = system.grid.n_gen, system.n_periods, sc.n
    m = pyo.ConcreteModel()
    _first_stage(m, system, sc)
    lps = _make_lps(system, sc, range(W))
    m.x = pyo.Block(range(W))
    recourse = [_add_scenario_block(m, m.x[k], system, lps[k]) for k in range(W)]
    m.obj = pyo.Objective(expr=m.first_stage_cost + sum(float(sc.prob[k]) * recourse[k] for k in range(W)))
    solver = Highs()
    solver.config.stream_solver = False
    solver.config.mip_gap = gap
    solver.config.time_limit = time_limit_s
    solver.config.load_solution = False
    res = solver.solve(m)
    incumbent = res.best_feasible_objective is not None and math.isfinite(res.best_feasible_objective)
    if incumbent:
        res.solution_loader.load_vars()
        u, v, w = _read_first_stage(m, system)
        status = "optimal" if str(res.termination_condition).endswith("optimal") else "time_limit"
    else:
        # No commitment found within the time limit: report every unit on (feasible through
        # the slacks), evaluated like any plan, and say so in the status.
        u = np.ones((G, T))
        v, w = _transitions(system, u)
        status = "no_incumbent"
    results = {k: lps[k].solve(u) for k in range(W)}
    ub = _first_stage_cost(system, u, v, w) + sum(sc.prob[k] * results[k].cost_usd for k in range(W))
    bound = res.best_objective_bound
    lb = float(bound) if bound is not None and math.isfinite(bound) else 0.0
    if log is not None:
        log(f"extensive form ({status}): LB {lb:.2f}  UB {ub:.2f}  {time.perf_counter() - t_start:.2f} s")
    return _plan(system, sc, u, v, w, results, ub, [lb], [ub], 1, time.perf_counter() - t_start, "extensive",
                 status)


def _transitions(system: UCSystem, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start-ups and shut-downs ``[gen, t]`` of a commitment, from the units' initial states."""
    u0 = np.array([1.0 if p.initial_on else 0.0 for p in system.params])
    prev = np.column_stack([u0, u[:, :-1]])
    return np.maximum(u - prev, 0.0), np.maximum(prev - u, 0.0)


# --------------------------------------------------------------------------- day-ahead signals
def day_ahead_prices(system: UCSystem, plan: CommitmentPlan, scenarios: DayScenarios,
                     cost_model: str = "pwl") -> tuple[np.ndarray, np.ndarray]:
    """Expected LMP and MCI ``[t, bus]`` the plan implies: each scenario dispatched period by
    period by the real-time economic dispatch within the plan's commitment, batteries carried
    over, averaged with the scenario probabilities. The DC-Frame baseline schedules on these."""
    g, T = system.grid, system.n_periods
    ed = EconomicDispatch(g, cost_model, n_segments=system.n_segments, interval_h=system.period_h,  # type: ignore[arg-type]
                          carbon_price_usd_per_t=system.carbon_price_usd_per_t)
    lmp = np.zeros((T, g.n_bus))
    mci = np.zeros((T, g.n_bus))
    for k in range(scenarios.n):
        soc = system.soc0()
        for t in range(T):
            r = ed.solve(scenarios.load_mw[k, t], scenarios.res_avail_mw[k, t], soc, plan.commitment[:, t])
            soc = np.clip(r.bess_soc_end_mwh, 0.0, None)
            lmp[t] += scenarios.prob[k] * r.lmp_usd_per_mwh
            mci[t] += scenarios.prob[k] * r.mci_kg_per_mwh
    return lmp, mci
