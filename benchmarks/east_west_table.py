"""The heuristic baselines on CarbonCPN-EastWest-v0: tables in the layouts of c3o Tables 7 and 8.

"Carbon-Computing Coupling Optimization and Green Scheduling System for Intelligent Computing
Centers" (Xie, Wei; c3o) Table 7 compares PFS, EES, SCAS and its own system on carbon per unit
of computing, western utilization, QoS violations, migration overhead and MTTR. This script
runs every heuristic of ``carbon_cpn.agents.baselines`` on the same seeds and writes the
means (and the spread over seeds) to a Markdown table, atomically::

    python benchmarks/east_west_table.py --seeds 4 --out benchmarks/results/east_west_v0.md

Carbon is per busy server-hour (the env has no FLOP count), the CPN's own emissions at the
marginal intensity of its buses.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import gymnasium as gym

import carbon_cpn  # noqa: F401
from carbon_cpn.agents.baselines import HEURISTICS, make_policy
from carbon_cpn.agents.metric_table import header, play, row
from carbon_cpn.atomic_io import atomic_write_text
from carbon_cpn.envs.config import load_scenario

COLUMNS = (("objective_usd", "objective $", 0), ("job_success_rate", "job success", 3),
           ("cpn_emissions_tco2", "CPN t CO2", 1), ("cpn_kg_per_server_h", "kg CO2 / server-h", 3),
           ("western_utilization", "western util.", 3), ("qos_violation_rate", "QoS violations", 3),
           ("migration_overhead", "migration overhead", 4), ("mttr_min", "MTTR min", 1),
           ("lost_work_server_h", "lost server-h", 0), ("east_mean_mci_kg_per_kwh", "East MCI kg/kWh", 3),
           ("west_mean_mci_kg_per_kwh", "West MCI kg/kWh", 3))


def run(name: str, seeds: list[int]) -> list[dict[str, float]]:
    env = gym.make("CarbonCPN-EastWest-v0")
    return [play(env, make_policy(name, env, seed), seed) for seed in seeds]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=4, help="episodes per method (seeds 1000, 1001, ...)")
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results/east_west_v0.md"))
    a = ap.parse_args()
    if a.seeds < 1:
        ap.error(f"--seeds={a.seeds}: expected an integer >= 1")
    seeds = list(range(1000, 1000 + a.seeds))
    t0 = time.time()
    lines = ["# CarbonCPN-EastWest-v0: heuristic baselines (c3o Table 7 layout)", "",
             f"Seeds {seeds[0]}-{seeds[-1]}, one episode each (one day, 15-minute intervals, failures at 5x the "
             "default rate); mean, and in brackets the standard deviation over seeds. Made by "
             f"`python benchmarks/east_west_table.py --seeds {a.seeds}`.", "",
             *header(COLUMNS)]
    episodes = {name: run(name, seeds) for name in HEURISTICS}
    for name, ms in episodes.items():
        lines.append(row(name, ms, COLUMNS))
        print(lines[-1], flush=True)
    types = [wt.name for wt in load_scenario("east_west").workload.types]
    per_type = tuple((f"type_{t}_kg_per_server_h", t, 3) for t in types)
    lines += ["", "## Carbon by workload type (c3o Table 8 layout)", "",
              "kg CO2 per busy server-hour of each type's sub-tasks: their servers' dynamic power (PUE included) x "
              "the marginal intensity at their node; the idle power, which no sub-task causes, is left out.", "",
              *header(per_type)]
    lines += [row(name, ms, per_type) for name, ms in episodes.items()]
    lines += ["", f"Wall time {time.time() - t0:.0f} s."]
    atomic_write_text(a.out, "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
