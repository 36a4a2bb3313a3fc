"""The ``carbon-cpn`` command line."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


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


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="carbon-cpn", description="Carbon-aware scheduling of Computing Power Networks.")
    sub = p.add_subparsers(dest="command", required=True)

    d = sub.add_parser("dispatch-day", help="dispatch the scenario's grid over a day and print a summary")
    d.add_argument("--scenario", default="ieee30_5dc", help="shipped scenario name or path to a TOML file")
    d.add_argument("--day", type=int, default=180, help="day of the profile year (0-364)")
    d.add_argument("--days", type=int, default=1, help="number of days (1-7)")
    d.set_defaults(func=_cmd_dispatch_day)

    from carbon_cpn.agents.cli_commands import add_evaluate_parser, add_train_parser
    from carbon_cpn.agents.leaderboard import add_leaderboard_parser
    from carbon_cpn.envs.day_ahead import add_plan_parser

    add_plan_parser(sub)
    add_train_parser(sub)
    add_evaluate_parser(sub)
    add_leaderboard_parser(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if hasattr(args, "day") and not (0 <= args.day <= 364):
        parser.error(f"--day={args.day}: expected a day in [0, 364]")
    if hasattr(args, "days") and not (1 <= args.days <= 7):
        parser.error(f"--days={args.days}: expected 1 to 7")
    if hasattr(args, "scenarios") and not (1 <= args.scenarios <= 365):
        parser.error(f"--scenarios={args.scenarios}: expected 1 to 365 (distinct analog days)")
    from carbon_cpn.envs.config import ScenarioError
    from carbon_cpn.optim.commitment import CommitmentError

    try:
        return int(args.func(args) or 0)
    except (ScenarioError, CommitmentError) as exc:
        print(f"carbon-cpn: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
