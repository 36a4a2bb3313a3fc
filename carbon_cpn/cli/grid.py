"""``carbon-cpn dispatch-day`` (the scenario's grid dispatched over whole days, an hourly
summary) and ``carbon-cpn plan`` (one day's day-ahead stochastic unit commitment, solved and
written by ``carbon_cpn.envs.day_ahead.run_plan``)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from carbon_cpn.cli.arguments import day_of_year, n_analog_days, n_days, positive_float, positive_int
from carbon_cpn.engine import ENGINES, check_engine


def _cmd_dispatch_day(args: argparse.Namespace) -> int:
    import numpy as np

    from carbon_cpn.envs.config import load_scenario
    from carbon_cpn.envs.day_dispatch import dispatch_days

    cfg = load_scenario(args.scenario)
    dt = cfg.episode.interval_min / 60.0
    d = dispatch_days(cfg, args.day, args.days, dt)
    per_hour = int(round(1 / dt))
    n_hours = d.load_mw.size // per_hour

    def hourly(x: np.ndarray) -> np.ndarray:
        return x[: n_hours * per_hour].reshape(n_hours, per_hour, *x.shape[1:]).mean(axis=1)

    print(f"Grid dispatch of scenario {cfg.name!r} ({cfg.grid.case}, the env's grid and commitment, no CPN load), "
          f"day {args.day} of the profile year, {args.days} day(s) at {cfg.episode.interval_min}-minute intervals, "
          f"carbon price ${cfg.grid_carbon_price_usd_per_t:g}/t in the offers; hourly means:")
    head = (f"{'hour':>4} {'load':>7} {'thermal':>7} {'solar':>6} {'wind':>6} {'curtail':>7} {'bess+':>6} "
            f"{'bess-':>6} {'shed':>5} {'LMP min..max $/MWh':>19} {'MCI min..max kg/MWh':>20}")
    print(head)
    print("-" * len(head))
    cols = [hourly(x) for x in (d.load_mw, d.thermal_mw, d.solar_mw, d.wind_mw, d.curtail_mw, d.bess_charge_mw,
                                d.bess_discharge_mw, d.shed_mw)]
    lmp, mci = hourly(d.lmp_usd_per_mwh), hourly(d.mci_kg_per_mwh)
    for h in range(n_hours):
        v = [c[h] for c in cols]
        print(f"{h % 24:>4} {v[0]:7.1f} {v[1]:7.1f} {v[2]:6.1f} {v[3]:6.1f} {v[4]:7.1f} {v[5]:6.1f} {v[6]:6.1f} "
              f"{v[7]:5.1f} {lmp[h].min():8.1f} ..{lmp[h].max():8.1f} {mci[h].min():8.0f} ..{mci[h].max():8.0f}")
    e = d.interval_h
    load_mwh = d.load_mw.sum() * e
    ren_mwh = (d.solar_mw.sum() + d.wind_mw.sum()) * e
    print("-" * len(head))
    print(f"energy served        {load_mwh:10.1f} MWh   (shed {d.shed_mw.sum() * e:.1f} MWh)")
    print(f"renewable share      {100 * ren_mwh / load_mwh:10.1f} %     (curtailed {d.curtail_mw.sum() * e:.1f} MWh)")
    print(f"battery throughput   {d.bess_discharge_mw.sum() * e:10.1f} MWh discharged, {d.bess_charge_mw.sum() * e:.1f} MWh charged")
    print(f"committed            {d.committed_unit_hours:10.0f} unit-hours (the scenario's commitment)")
    print(f"fuel cost            {d.cost_usd.sum():10.0f} $")
    print(f"emissions            {d.emissions_kg.sum() / 1000:10.1f} t CO2 ({d.emissions_kg.sum() / load_mwh:.0f} kg/MWh average)")
    print(f"congested intervals  {int(np.sum(np.ptp(d.lmp_usd_per_mwh, axis=1) > 1e-6)):10d} of {d.load_mw.size}")
    return 0


def _cmd_plan(args: argparse.Namespace) -> int:
    from carbon_cpn.envs.day_ahead import run_plan

    check_engine(args.engine, args.ray_address)
    run_plan(args.scenario, args.day, args.scenarios, args.method, args.gap, args.workers, args.seed, args.out,
             engine=args.engine, ray_address=args.ray_address)
    return 0


def _add_scenario_day(p: argparse.ArgumentParser, scenario_help: str) -> None:
    p.add_argument("--scenario", default="ieee30_5dc", help=scenario_help)
    p.add_argument("--day", type=day_of_year, default=180, help="day of the profile year (0-364)")


def add_dispatch_day_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``dispatch-day`` on an ``argparse`` subparsers object; ``args.func(args)`` runs it."""
    p = subparsers.add_parser("dispatch-day", help="dispatch the scenario's grid over a day and print a summary")
    _add_scenario_day(p, "shipped scenario name or path to a TOML file")
    p.add_argument("--days", type=n_days, default=1, help="number of days (1-7)")
    p.set_defaults(func=_cmd_dispatch_day)
    return p


def add_plan_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``plan`` on an ``argparse`` subparsers object; ``args.func(args)`` runs it."""
    p = subparsers.add_parser("plan", help="solve the day-ahead stochastic unit commitment of one day")
    _add_scenario_day(p, "shipped scenario name or TOML path (these UC settings unless it has day-ahead settings "
                         "of its own)")
    p.add_argument("--scenarios", type=n_analog_days, default=5, help="number of renewable/load scenarios")
    p.add_argument("--method", choices=["benders", "extensive"], default="benders")
    p.add_argument("--gap", type=positive_float, default=1e-3, help="relative optimality gap")
    p.add_argument("--workers", type=positive_int, default=1, help="parallel workers for the Benders subproblems")
    p.add_argument("--engine", choices=ENGINES, default="local",
                   help="where the workers run: local processes, or Ray actors (pip install carbon-cpn[ray])")
    p.add_argument("--ray-address", default=None, help="a Ray cluster to join (--engine ray; default: a local instance)")
    p.add_argument("--seed", type=int, default=0, help="scenario draw seed")
    p.add_argument("--out", type=Path, default=Path("plans"),
                   help="output folder, checked writable before solving (default: plans/ under the current folder)")
    p.set_defaults(func=_cmd_plan)
    return p
