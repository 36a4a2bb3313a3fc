"""The day-ahead plan as the env's commitment source, cached on disk (issue #4, item 4).

:class:`PlanCommitment` draws the day's renewable/load scenarios from the measured profiles
(with the CPN's expected load added at its buses), solves the stochastic unit commitment by
Benders decomposition, and caches the plan, plus the day-ahead LMP and MCI profile it implies,
in ``<cache_dir>/<scenario hash>_s<seed>_d<day>.npz``. Later resets of the same day read the
file. ``run_plan`` backs the ``carbon-cpn plan`` command.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

from carbon_cpn.atomic_io import atomic_path, atomic_write_text, writable_folder
from carbon_cpn.envs.config import ScenarioConfig, load_scenario
from carbon_cpn.envs.cpn import node_power_mw
from carbon_cpn.envs.grid_system import AllUnitsCommitted, CommitmentSource, build_grid
from carbon_cpn.envs.profiles import load_profiles
from carbon_cpn.optim.commitment import (
    CommitmentPlan,
    DayScenarios,
    ReserveRule,
    UCSystem,
    day_ahead_prices,
    default_uc_params,
    draw_day_scenarios,
    solve_suc,
)
from carbon_cpn.optim.forecast import day_ahead_forecast
from carbon_cpn.optim.grid import GridModel


#: What turns a scenario into one with day-ahead unit commitment (the default scenario has
#: them in its TOML; ``carbon-cpn plan`` adds them to a scenario without any): thermal units
#: with a 30 % minimum stable output and a no-load cost, so that switching them off matters.
UC_OVERRIDES: dict[str, object] = {
    "commitment__mode": "day_ahead",
    "commitment__pmin_frac": 0.3,
    "commitment__no_load_usd_per_mw_h": 2.0,
}



def safe_stem(name: str) -> str:
    """``name`` as a file-name part: every character but letters, digits, ``_`` and ``-``
    becomes ``_`` (a scenario named ``../x`` never leaves the cache folder; issue #18)."""
    return re.sub(r"[^A-Za-z0-9_-]", "_", name) or "_"

def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "carbon-cpn" / "plans"


#: Commitment settings of the real-time dispatch alone, which no plan depends on.
REAL_TIME_ONLY = ("fast_start_fuels", "fast_start_usd_per_mwh")


class _Raw(str):
    def __repr__(self) -> str:
        return str(self)


def plan_hash(cfg: ScenarioConfig) -> str:
    """Hash of everything a day-ahead plan depends on (the key of shipped and cached plans):
    the grid, the CPN's nodes (their buses and power envelope), the commitment settings but
    the real-time ones, the resolved carbon price and the profile data. The workload, the
    reward weights and the episode settings do not enter the day-ahead problem, so they are
    not part of the key."""
    prof = load_profiles()
    data = hashlib.sha256(b"".join(prof.columns[k].tobytes() for k in sorted(prof.columns))).hexdigest()
    # The real-time recourse (fast-start units) does not enter the day-ahead problem: the key
    # spells the commitment settings as their dataclass repr without those fields.
    c = cfg.commitment
    shown = ", ".join(f"{f.name}={getattr(c, f.name)!r}" for f in dataclasses.fields(c)
                      if f.name not in REAL_TIME_ONLY and f.name != "carbon_price_usd_per_t")
    key = repr((cfg.grid, cfg.cpn, _Raw(f"CommitmentConfig({shown})"), cfg.grid_carbon_price_usd_per_t, data))
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def solve_day(cfg: ScenarioConfig, grid: GridModel, day: int, log: Callable[[str], None] | None = None,
              time_limit_s: float | None = None) -> tuple[CommitmentPlan, np.ndarray, np.ndarray]:
    """Solve ``day``'s plan as ``cfg.commitment`` says; returns it with its day-ahead LMP and MCI."""
    c = cfg.commitment
    system, sc = uc_inputs(cfg, grid, day, c.n_scenarios, c.seed)
    # A hard day may converge slowly; past the limit the best plan found so far is used.
    plan = solve_suc(system, sc, c.method, gap=c.gap, log=log,
                     time_limit_s=c.time_limit_s if time_limit_s is None else time_limit_s)
    lmp, mci = day_ahead_prices(system, plan, sc, cfg.grid.cost_model)
    return plan, lmp, mci


def cpn_envelope_mw(cfg: ScenarioConfig) -> tuple[np.ndarray, np.ndarray]:
    """The CPN's power envelope by node [MW]: every server idle, and every one busy."""
    idle, per_server = node_power_mw(cfg.cpn)
    capacity = np.array([[n.cpu_units, n.gpu_units] for n in cfg.cpn.nodes], dtype=float)
    return idle, idle + (per_server * capacity).sum(axis=1)


def uc_inputs(cfg: ScenarioConfig, grid: GridModel, day: int, n: int, seed: int) -> tuple[UCSystem, DayScenarios]:
    """The day-ahead problem of ``day``: the grid, unit parameters by fuel, the reserve rule and
    N scenarios. ``commitment.scenarios = "forecast"`` (default): a day-ahead forecast of the
    day with measured forecast errors around it (``carbon_cpn.optim.forecast``); ``"analog"``:
    analog days within +-15 days (or +-n/2 days when more scenarios are asked for).

    The CPN enters as its load envelope: its expected load (idle plus half its dynamic range)
    in every scenario, and its peak in the load the reserve rule covers."""
    prof = load_profiles()
    c = cfg.commitment
    units = (*cfg.grid.solar, *cfg.grid.wind)
    kinds = tuple(["solar"] * len(cfg.grid.solar) + ["wind"] * len(cfg.grid.wind))
    res_pu = np.column_stack([prof.columns[u.profile] for u in units]) if units else np.zeros((8760, 0))
    cap = np.array([u.capacity_mw for u in units])
    idle, peak = cpn_envelope_mw(cfg)
    at_bus = np.zeros((len(cfg.cpn.nodes), grid.n_bus))
    at_bus[np.arange(len(cfg.cpn.nodes)), [grid.bus_position(nd.bus) for nd in cfg.cpn.nodes]] = 1.0
    expected = 0.5 * (idle + peak) @ at_bus  # [bus]
    system = UCSystem(grid, default_uc_params(grid), period_h=1.0, carbon_price_usd_per_t=cfg.grid_carbon_price_usd_per_t,
                      soc0_mwh=np.array([b.soc_init_frac * b.energy_mwh for b in cfg.grid.batteries]),
                      n_segments=cfg.grid.n_segments, reserve=ReserveRule(c.reserve_rule, c.reserve_share))
    extra = np.broadcast_to(expected, (system.n_periods, grid.n_bus))
    if c.scenarios == "analog":
        sc = draw_day_scenarios(res_pu, prof.columns["load"], cap, grid.base_load_mw, day, n, seed,
                                window_days=max(15, (n + 1) // 2), extra_load_mw=extra)
        env_load = sc.prob @ sc.load_mw.sum(axis=2) + float(peak.sum() - expected.sum())
        env_res = sc.prob @ sc.res_avail_mw.sum(axis=2)
    else:
        fc = day_ahead_forecast(res_pu, kinds, prof.columns["load"], cap, grid.base_load_mw, day, n, seed,
                                extra_load_mw=extra)
        sc = fc.scenarios
        env_load = fc.base_load_mw.sum(axis=1) + float(peak.sum())
        env_res = fc.res_avail_mw.sum(axis=1)
    sc = dataclasses.replace(sc, envelope_load_mw=env_load, envelope_res_mw=env_res)
    if c.envelope_weight > 0:
        # The envelope's upper edge as one more scenario: the forecast day with every node at
        # its peak power, so that the plan's network dispatch sees where a node's full load
        # cannot be delivered (a unit near it must then be on).
        if c.scenarios == "analog":
            res_top = np.tensordot(sc.prob, sc.res_avail_mw, axes=1)
            base_top = np.tensordot(sc.prob, sc.load_mw, axes=1) - extra
        else:
            res_top, base_top = fc.res_avail_mw, fc.base_load_mw
        top = base_top + peak @ at_bus
        w = float(c.envelope_weight)
        sc = dataclasses.replace(
            sc, res_avail_mw=np.concatenate([sc.res_avail_mw, res_top[None]]),
            load_mw=np.concatenate([sc.load_mw, top[None]]), prob=np.append((1.0 - w) * sc.prob, w),
            source_days=np.append(sc.source_days, day))
    return system, sc


#: Where the precomputed plans of the shipped scenarios live (one ``.npz`` per scenario hash).
SHIPPED_PLANS_DIR = Path(__file__).resolve().parent / "data" / "plans"


class PlanCommitment:
    """Commitment from the day-ahead stochastic unit-commitment plan of each episode day.

    Implements the ``CommitmentSource`` protocol of :mod:`carbon_cpn.envs.grid_system`. A day's
    plan is looked up in this order: this object's memory; the plans shipped with the package
    (:data:`SHIPPED_PLANS_DIR`, made by ``benchmarks/make_plans.py``; :meth:`shipped_days`
    lists the days it holds); the disk cache (``cache_dir``, default
    ``~/.cache/carbon-cpn/plans``); otherwise it is solved (``cfg.commitment``: method, number
    of scenarios, scenario seed, gap, time limit) and written to the cache. Shipped and cached
    plans are keyed by a hash of everything the plan depends on (grid, CPN, workload,
    commitment settings, carbon price), so a changed scenario never reads a stale plan.
    """

    def __init__(self, cfg: ScenarioConfig, grid: GridModel | None = None, cache_dir: str | Path | None = None,
                 log: Callable[[str], None] | None = None, time_limit_s: float | None = None,
                 shipped_dir: str | Path | None = SHIPPED_PLANS_DIR) -> None:
        self.cfg = cfg
        self.time_limit_s = cfg.commitment.time_limit_s if time_limit_s is None else time_limit_s
        self.grid = grid if grid is not None else build_grid(cfg.grid, cfg.commitment)
        self.cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
        self.log = log
        self._hash = plan_hash(cfg)
        self._memo: dict[int, dict[str, np.ndarray]] = {}
        self._shipped: dict[str, np.ndarray] | None = None
        if shipped_dir is not None:
            packed = Path(shipped_dir) / f"{safe_stem(self.cfg.name)}_{self._hash}_s{cfg.commitment.seed}.npz"
            if packed.exists():
                with np.load(packed) as f:
                    self._shipped = {k: f[k] for k in f.files}
        #: day of the year -> row of the shipped arrays (a pack may hold only some days).
        self._shipped_index = {} if self._shipped is None else {int(d): i for i, d in enumerate(self._shipped["days"])}

    def shipped_days(self) -> list[int]:
        """The days whose plan ships with the package (never solved at a reset)."""
        return sorted(self._shipped_index)

    def path(self, day: int) -> Path:
        return self.cache_dir / f"{safe_stem(self.cfg.name)}_{self._hash}_s{self.cfg.commitment.seed}_d{day}.npz"

    def _day(self, day: int) -> dict[str, np.ndarray]:
        day = int(day) % 365
        if day in self._memo:
            return self._memo[day]
        if self._shipped is not None and day in self._shipped_index:
            i = self._shipped_index[day]
            data = {k: self._shipped[k][i] for k in ("commitment", "lmp", "mci", "objective_usd")}
            data["lmp"], data["mci"] = data["lmp"].astype(float), data["mci"].astype(float)
            self._memo[day] = data
            return data
        path = self.path(day)
        if os.environ.get("CARBON_CPN_PLAN_LOG"):  # which days a run asks for (make_plans --first)
            with open(os.environ["CARBON_CPN_PLAN_LOG"], "a") as fh:
                fh.write(f"{day}\n")
        data = self._read_cached(path) if path.exists() else None
        if data is None:
            plan, lmp, mci = solve_day(self.cfg, self.grid, day, self.log, self.time_limit_s)
            data = {"commitment": plan.commitment, "lmp": lmp, "mci": mci,
                    "objective_usd": np.array(plan.objective_usd), "gap": np.array(plan.gap),
                    "status": np.array(plan.status), "solve_time_s": np.array(plan.solve_time_s)}
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}.tmp.npz")
            np.savez_compressed(tmp, **data)
            tmp.replace(path)  # atomic: a half-written file is never read
        self._memo[day] = data
        return data

    def _read_cached(self, path: Path) -> dict[str, np.ndarray] | None:
        """A cached plan, or None when the file cannot be read or lacks a plan's arrays (a
        corrupt file is removed and the day solved again; issue #18)."""
        try:
            with np.load(path) as f:
                data = {k: f[k] for k in f.files}
            if {"commitment", "lmp", "mci", "objective_usd"} - set(data):
                raise ValueError(f"missing arrays {sorted({'commitment', 'lmp', 'mci', 'objective_usd'} - set(data))}")
            return data
        except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile) as exc:  # what np.load raises on garbage
            reason = exc
        if self.log is not None:
            self.log(f"plan cache {path}: unreadable ({type(reason).__name__}: {reason}); solving the day again")
        path.unlink(missing_ok=True)
        return None

    def commitment(self, grid: GridModel, day: int, n_intervals: int, interval_h: float) -> np.ndarray:
        """``[t, gen]`` bool at the env's interval; multi-day episodes use each day's plan."""
        t_h = np.arange(n_intervals) * interval_h
        out = np.zeros((n_intervals, grid.n_gen), dtype=bool)
        for d in np.unique((t_h // 24).astype(int)):
            u = self._day(day + int(d))["commitment"]  # [gen, period]
            sel = (t_h // 24).astype(int) == d
            period = ((t_h[sel] % 24) / (24 / u.shape[1])).astype(int)
            out[sel] = u[:, period].T
        return out

    def day_ahead_profile(self, day: int) -> tuple[np.ndarray, np.ndarray]:
        """Expected day-ahead LMP and MCI, ``[period, bus]``, the plan implies (for DC-Frame)."""
        d = self._day(day)
        return d["lmp"], d["mci"]


def make_commitment(cfg: ScenarioConfig, grid: GridModel) -> CommitmentSource:
    """The scenario's commitment source: the day-ahead plan (``commitment.mode = "day_ahead"``)
    or every unit on."""
    return PlanCommitment(cfg, grid) if cfg.commitment.mode == "day_ahead" else AllUnitsCommitted()


def run_plan(scenario: str, day: int, n_scenarios: int, method: str, gap: float, workers: int, seed: int,
             out: Path, echo: Callable[[str], None] = print, engine: str = "local",
             ray_address: str | None = None) -> CommitmentPlan:
    """Solve one day's plan, printing the bound history, and write ``.npz`` + ``.json`` into
    ``out`` (checked writable before anything is solved)."""
    writable_folder(out, "out")
    cfg = load_scenario(scenario)
    if cfg.commitment.mode == "all_on":  # a scenario without its own day-ahead settings
        cfg = load_scenario(cfg, **UC_OVERRIDES)
    grid = build_grid(cfg.grid, cfg.commitment)
    system, sc = uc_inputs(cfg, grid, day, n_scenarios, seed)
    echo(f"day {day}: {grid.n_gen} units x {system.n_periods} periods, {sc.n} scenarios (analog days "
         f"{sorted(int(d) for d in sc.source_days)}), method {method}, gap {gap}")
    plan = solve_suc(system, sc, method, gap=gap, workers=workers, log=echo, engine=engine, ray_address=ray_address)
    stem = out / f"plan_{safe_stem(cfg.name)}_d{day}_{method}_n{n_scenarios}"
    with atomic_path(stem.with_suffix(".npz")) as tmp:
        np.savez_compressed(tmp, commitment=plan.commitment, startup=plan.startup,
                            shutdown=plan.shutdown, lower_bounds=np.array(plan.lower_bounds),
                            upper_bounds=np.array(plan.upper_bounds), prob=sc.prob, source_days=sc.source_days)
    summary = {
        "scenario": cfg.name, "day": day, "method": method, "n_scenarios": n_scenarios, "seed": seed,
        "objective_usd": plan.objective_usd, "gap": plan.gap, "iterations": plan.iterations,
        "solve_time_s": plan.solve_time_s, "expected_shed_mwh": plan.expected_shed_mwh,
        "expected_curtail_mwh": plan.expected_curtail_mwh, "expected_emissions_t": plan.expected_emissions_t,
        "units": list(grid.gen_names), "committed_hours": plan.commitment.sum(axis=1).tolist(),
    }
    atomic_write_text(stem.with_suffix(".json"), json.dumps(summary, indent=2))
    echo(f"objective {plan.objective_usd:.2f} $  gap {100 * plan.gap:.4f} %  {plan.iterations} iterations  "
         f"{plan.solve_time_s:.1f} s  -> {stem}.npz/.json")
    echo("committed hours per unit: " + ", ".join(f"{n}={h}" for n, h in zip(grid.gen_names, summary["committed_hours"])))
    return plan
