"""The digital twin against the same policy without it, on CarbonCPN-EastWest-v0 (c3o Algorithm 3).

Trains the twin's LSTM once on simulated telemetry (its own seed), then runs each base
heuristic with and without the twin on the same seeds and writes lost work, MTTR and the rest
to a Markdown table, atomically::

    python benchmarks/twin_mttr.py --seeds 4 --out benchmarks/results/twin_mttr.md
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import gymnasium as gym
import torch

import carbon_cpn  # noqa: F401
from carbon_cpn.agents.baselines import make_policy
from carbon_cpn.agents.digital_twin import DigitalTwinPolicy, train_twin
from carbon_cpn.agents.metric_table import header, play, row
from carbon_cpn.atomic_io import atomic_write_text
from carbon_cpn.envs.failures import FailureConfig

COLUMNS = (("failures", "failures", 1), ("incidents_with_lost_work", "failures that stopped work", 1),
           ("lost_work_server_h", "lost server-h", 0), ("incident_recovery_min", "recovery per failure min", 1),
           ("mttr_min", "MTTR per sub-task min", 1),
           ("migrations", "migrations", 1), ("job_success_rate", "job success", 3),
           ("cpn_emissions_tco2", "CPN t CO2", 1), ("objective_usd", "objective $", 0))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=4, help="episodes per row (seeds 1000, 1001, ...)")
    ap.add_argument("--bases", default="pfs,c3o_greedy", help="comma-separated base heuristics")
    ap.add_argument("--rate-scale", type=float, default=5.0, help="failure rate multiplier of the env")
    ap.add_argument("--threshold", type=float, default=0.5, help="risk above which the twin acts")
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results/twin_mttr.md"))
    a = ap.parse_args()
    if a.seeds < 1:
        ap.error(f"--seeds={a.seeds}: expected an integer >= 1")
    torch.set_num_threads(1)
    t0 = time.time()
    predictor = train_twin(FailureConfig(rate_scale=a.rate_scale), seed=0)
    train_s = time.time() - t0
    env = gym.make("CarbonCPN-EastWest-v0", failure_rate_scale=a.rate_scale)
    seeds = list(range(1000, 1000 + a.seeds))
    lines = ["# The digital twin on CarbonCPN-EastWest-v0 (c3o Algorithm 3)", "",
             f"Seeds {seeds[0]}-{seeds[-1]}, one day each, failures at {a.rate_scale:g}x the default rate; twin threshold "
             f"{a.threshold}; LSTM trained in {train_s:.0f} s on simulated histories (seed 10000). Mean (std over seeds). "
             f"Made by `python benchmarks/twin_mttr.py --seeds {a.seeds}`. Recovery per failure: minutes from a node's failure "
             "until the last sub-task it stopped runs again (0 when it stopped none; c3o's MTTR is this kind of "
             "number); MTTR per sub-task: the mean over the stopped sub-tasks; lost server-h: work the failures threw "
             "away.", "",
             *header(COLUMNS, first="policy")]
    for base in a.bases.split(","):
        for twin in (False, True):
            rows = [play(env, DigitalTwinPolicy(env, seed, base=base, predictor=predictor, threshold=a.threshold) if twin
                         else make_policy(base, env, seed), seed) for seed in seeds]
            lines.append(row(f"{base}{' + twin' if twin else ''}", rows, COLUMNS))
            print(lines[-1], flush=True)
    lines += ["", f"Wall time {time.time() - t0:.0f} s."]
    atomic_write_text(a.out, "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
