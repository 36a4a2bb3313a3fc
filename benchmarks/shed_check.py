"""Is load shed only where the grid is really short? Random and pfs over days spread over the year.

    python benchmarks/shed_check.py --days 61 --out benchmarks/results/shed_check

For each of ``--days`` days spread evenly over the year (day = k x 365 // N; seed = day) and
each policy, one episode of ``--env`` (default CarbonCPN-v0 with its shipped day-ahead plans):
load shed [MWh], intervals with any bus LMP above $1,000/MWh (VOLL-priced), curtailment, energy
from fast-start units and the plan's committed unit-hours against all units on all day. Prints
a table by season and the totals, and writes ``<out>.csv`` (one row per day and policy) and
``<out>.md`` (the tables) atomically.
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
from pathlib import Path

import gymnasium as gym
import numpy as np

import carbon_cpn  # noqa: F401
from carbon_cpn.agents.baselines import make_policy
from carbon_cpn.atomic_io import atomic_write_text

HIGH_LMP_USD_PER_MWH = 1000.0
SEASONS = (("winter", (334, 365), (0, 59)), ("spring", (59, 151)), ("summer", (151, 243)), ("autumn", (243, 334)))


def season(day: int) -> str:
    for name, *ranges in SEASONS:
        if any(lo <= day < hi for lo, hi in ranges):
            return name
    raise ValueError(f"day={day!r}: expected a day in [0, 364]")


def run_day(env_id: str, policy: str, day: int) -> dict[str, float | int | str]:
    env = gym.make(env_id)
    u = env.unwrapped
    obs, info = env.reset(seed=day, options={"day": day})
    pol = make_policy(policy, env, 0)
    high = n = 0

    def book(info: dict) -> None:
        nonlocal high, n
        for rec in info.get("intervals", []):
            n += 1
            high += int(rec["lmp"].max() > HIGH_LMP_USD_PER_MWH)

    book(info)
    done = False
    while not done:
        a, _ = pol.predict(obs)
        obs, _, term, trunc, info = env.step(int(a))
        done = term or trunc
        book(info)
    m = info["episode_metrics"]
    return {"day": day, "season": season(day), "policy": policy, "load_shed_mwh": m["load_shed_mwh"],
            "high_lmp_intervals": high, "intervals": n, "curtailment_mwh": m["curtailment_mwh"],
            "fast_start_mwh": m["fast_start_mwh"], "committed_unit_h": float(u.committed.sum() * u.interval_h),
            "all_on_unit_h": float(u.committed.size * u.interval_h), "objective_usd": m["objective_usd"],
            "job_success_rate": m["job_success_rate"]}


def tables(rows: list[dict]) -> str:
    out = ["| policy | season | days | shed MWh/day (mean) | days with shed | max shed MWh | intervals LMP > $1,000 "
           "| committed unit-h/day | all-on unit-h/day | fast-start MWh/day |",
           "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for pol in dict.fromkeys(r["policy"] for r in rows):
        for name in (*[s[0] for s in SEASONS], "all"):
            sel = [r for r in rows if r["policy"] == pol and (name == "all" or r["season"] == name)]
            if not sel:
                continue
            shed = np.array([r["load_shed_mwh"] for r in sel])
            hi, n = sum(r["high_lmp_intervals"] for r in sel), sum(r["intervals"] for r in sel)
            out.append(f"| {pol} | {name} | {len(sel)} | {shed.mean():.3f} | {int((shed > 1e-6).sum())} | "
                       f"{shed.max():.2f} | {hi} of {n} ({100 * hi / n:.2f} %) | "
                       f"{np.mean([r['committed_unit_h'] for r in sel]):.0f} | "
                       f"{np.mean([r['all_on_unit_h'] for r in sel]):.0f} | "
                       f"{np.mean([r['fast_start_mwh'] for r in sel]):.2f} |")
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--env", default="CarbonCPN-v0")
    ap.add_argument("--days", type=int, default=61, help="days spread evenly over the year")
    ap.add_argument("--policies", default="random,pfs")
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results/shed_check"))
    a = ap.parse_args(argv)
    if not 1 <= a.days <= 365:
        ap.error(f"--days={a.days}: expected 1 to 365")
    days = sorted({k * 365 // a.days for k in range(a.days)})
    rows = []
    for day in days:
        for pol in a.policies.split(","):
            rows.append(run_day(a.env, pol.strip(), day))
            r = rows[-1]
            print(f"day {day:3d} {r['policy']:>8s}: shed {r['load_shed_mwh']:.3f} MWh, LMP > $1,000 in "
                  f"{r['high_lmp_intervals']} intervals, {r['committed_unit_h']:.0f} unit-h", flush=True)
    text = tables(rows)
    print(text)
    a.out.parent.mkdir(parents=True, exist_ok=True)
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(rows[0]))
    w.writeheader()
    w.writerows(rows)
    atomic_write_text(a.out.with_suffix(".csv"), buf.getvalue())
    atomic_write_text(a.out.with_suffix(".md"), f"# Load shedding of {a.env} over {len(days)} days\n\n"
            f"`python benchmarks/shed_check.py --days {a.days} --env {a.env}`\n\n" + text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
