"""The MILP paper's findings, measured on CarbonCPN-Microgrid-v0's days with its joint MILP.

For each seed the env is reset (the seed picks the day, the training jobs and the inference
demand) and the MILP of that day is built from it (``carbon_cpn.agents.microgrid_policies.
instance_from_env``: perfect foresight of the day, the grid's prices and intensities taken from
the day-ahead forecast at the sites' buses). Then, per day:

* joint against compute-only and energy-only (total benefit, emissions);
* the value of routing flexibility: the joint MILP with each region's inference fixed at its
  nearest site (the ablation ``fixed routing``);
* the value of the battery: the joint MILP without the sites' batteries;
* local-generation-rich sites: the three plans again with the sites' PV capacity scaled.

Each day's numbers are appended to a JSON-lines file as soon as they are solved, so a killed
run resumes where it stopped; the Markdown table and the chart are rewritten (atomically) at
the end::

    python benchmarks/microgrid_findings.py --seeds 5 --pv-scales 0,1,2,4
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import gymnasium as gym
import numpy as np

import carbon_cpn  # noqa: F401
from carbon_cpn.agents.microgrid_policies import instance_from_env
from carbon_cpn.atomic_io import atomic_save_figure, atomic_write_text
from carbon_cpn.optim.microgrid_milp import MicrogridMILP, MicrogridPlan
from carbon_cpn.optim.microgrid_schedule import nearest_share

ENV_ID = "CarbonCPN-Microgrid-v0"


def day_instance(seed: int, pv_scale: float):  # type: ignore[no-untyped-def]
    env = gym.make(ENV_ID)
    u = env.unwrapped
    over = {f"microgrid.sites.{k}.pv_mw": s.pv_mw * pv_scale for k, s in enumerate(u.cfg.microgrid.sites)}
    env = gym.make(ENV_ID, **over)
    env.reset(seed=seed)
    return env.unwrapped.day, instance_from_env(env)


def summary(p: MicrogridPlan) -> dict[str, float | str]:
    return {"status": p.status, "benefit_usd": p.benefit_usd, "carbon_kg": p.carbon_kg,
            "inference_value_usd": p.inference_value_usd, "training_value_usd": p.training_value_usd,
            "import_cost_usd": p.import_cost_usd, "export_revenue_usd": p.export_revenue_usd,
            "generator_cost_usd": p.generator_cost_usd}


def solve_day(seed: int, pv_scales: list[float], gap: float, limit_s: float) -> dict:
    out: dict = {"seed": seed}
    for scale in pv_scales:
        day, inst = day_instance(seed, scale)
        out["day"] = day
        milp = MicrogridMILP(inst, gap=gap, time_limit_s=limit_s)
        key = f"pv{scale:g}"
        out[key] = {m: summary(milp.solve(m)) for m in ("joint", "compute_only", "energy_only")}
        if scale == 1.0:
            out[key]["fixed_routing"] = summary(milp.solve(fixed_share=nearest_share(inst)))
            z = np.zeros(inst.n_sites)
            milp.update(bess_mw=z, bess_mwh=z, bess_soc0_mwh=z)
            out[key]["no_battery"] = summary(milp.solve())
    return out


def _mean_std(xs: list[float]) -> str:
    a = np.asarray(xs, dtype=float)
    a = a[np.isfinite(a)]
    if not a.size:
        return "n/a"
    return f"{a.mean():,.0f} ({a.std():,.0f})"


def report(days: list[dict], pv_scales: list[float], out: Path, cmd: str, gap: float) -> None:
    base = "pv1"
    rows = [("joint", "joint MILP"), ("compute_only", "compute-only"), ("energy_only", "energy-only"),
            ("fixed_routing", "joint, routing fixed at the nearest site"), ("no_battery", "joint, no battery")]
    lines = [f"# CarbonCPN-Microgrid-v0: the MILP paper's findings on {len(days)} days", "",
             f"Seeds {', '.join(str(d['seed']) for d in days)} (days {', '.join(str(d['day']) for d in days)}); "
             f"96 quarter-hour periods, 3 sites, 3 user regions; MILP gap {gap:g}. Made by `{cmd}`. Mean (std over days). "
             "Benefit = value of training jobs run (value + the deadline penalty avoided) and inference served "
             "- imports - generator fuel + exports - carbon price x emissions, at the day-ahead forecast prices.", "",
             "| plan | benefit $ | vs joint $ | emissions kg CO2 | vs joint kg | infeasible days |",
             "|---|---:|---:|---:|---:|---:|"]
    for key, label in rows:
        ben = [d[base][key]["benefit_usd"] for d in days if key in d[base]]
        kg = [d[base][key]["carbon_kg"] for d in days if key in d[base]]
        dben = [d[base][key]["benefit_usd"] - d[base]["joint"]["benefit_usd"] for d in days if key in d[base]]
        dkg = [d[base][key]["carbon_kg"] - d[base]["joint"]["carbon_kg"] for d in days if key in d[base]]
        bad = sum(d[base][key]["status"] == "infeasible" for d in days if key in d[base])
        lines.append(f"| {label} | {_mean_std(ben)} | {_mean_std(dben)} | {_mean_std(kg)} | {_mean_std(dkg)} | {bad} |")
    lines += ["", "## Local generation: the sites' PV capacity scaled", "",
              "| PV x | joint benefit $ | joint - compute-only $ | joint - energy-only $ | joint kg CO2 |",
              "|---:|---:|---:|---:|---:|"]
    for s in pv_scales:
        k = f"pv{s:g}"
        j = [d[k]["joint"]["benefit_usd"] for d in days]
        c = [d[k]["joint"]["benefit_usd"] - d[k]["compute_only"]["benefit_usd"] for d in days]
        e = [d[k]["joint"]["benefit_usd"] - d[k]["energy_only"]["benefit_usd"] for d in days]
        kg = [d[k]["joint"]["carbon_kg"] for d in days]
        lines.append(f"| {s:g} | {_mean_std(j)} | {_mean_std(c)} | {_mean_std(e)} | {_mean_std(kg)} |")
    atomic_write_text(out.with_suffix(".md"), "\n".join(lines) + "\n")

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(1, 2, figsize=(11, 4))
    keys = [k for k, _ in rows]
    vals = [np.nanmean([d[base][k]["benefit_usd"] for d in days]) for k in keys]
    ax[0].bar(range(len(keys)), vals)
    ax[0].set_xticks(range(len(keys)), ["joint", "compute\nonly", "energy\nonly", "fixed\nrouting", "no\nbattery"])
    ax[0].set_ylabel("benefit $ / day")
    lo = np.nanmin(vals)
    ax[0].set_ylim(lo - 0.05 * abs(lo), max(vals) + 0.02 * abs(max(vals)))
    for m, lab in (("compute_only", "joint - compute-only"), ("energy_only", "joint - energy-only")):
        ax[1].plot(pv_scales, [np.nanmean([d[f"pv{s:g}"]["joint"]["benefit_usd"] - d[f"pv{s:g}"][m]["benefit_usd"]
                                           for d in days]) for s in pv_scales], marker="o", label=lab)
    ax[1].set_xlabel("sites' PV capacity (x scenario)")
    ax[1].set_ylabel("joint's advantage $ / day")
    ax[1].legend()
    fig.tight_layout()
    atomic_save_figure(fig, out.with_suffix(".png"), dpi=100)
    plt.close(fig)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=5, help="days (seeds 1000, 1001, ...)")
    ap.add_argument("--pv-scales", default="0,1,2,4", help="comma-separated PV capacity multipliers (1 included)")
    ap.add_argument("--gap", type=float, default=1e-3, help="relative MILP gap")
    ap.add_argument("--time-limit", type=float, default=120.0, help="seconds per MILP solve")
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results/microgrid_findings"))
    a = ap.parse_args()
    scales = sorted({float(x) for x in a.pv_scales.split(",") if x.strip()} | {1.0})
    if a.seeds < 1 or any(s < 0 for s in scales):
        raise SystemExit(f"--seeds={a.seeds} --pv-scales={a.pv_scales}: expected seeds >= 1 and scales >= 0")
    stream = a.out.with_suffix(".jsonl")
    done = {}
    if stream.exists():
        for line in stream.read_text().splitlines():
            try:
                rec = json.loads(line)
            except json.JSONDecodeError:  # a line cut by a kill: that day is solved again
                continue
            done[rec["seed"]] = rec
    a.out.parent.mkdir(parents=True, exist_ok=True)
    for seed in range(1000, 1000 + a.seeds):
        if seed in done and all(f"pv{s:g}" in done[seed] for s in scales):
            continue
        t = time.perf_counter()
        rec = solve_day(seed, scales, a.gap, a.time_limit)
        done[seed] = rec
        with stream.open("a") as f:  # one line per finished day: a killed run resumes after it
            f.write(json.dumps(rec) + "\n")
        print(f"seed {seed} (day {rec['day']}): joint ${rec['pv1']['joint']['benefit_usd']:,.0f} "
              f"({time.perf_counter() - t:.0f} s)", flush=True)
    days = [done[s] for s in range(1000, 1000 + a.seeds)]
    cmd = f"python benchmarks/microgrid_findings.py --seeds {a.seeds} --pv-scales {','.join(f'{s:g}' for s in scales)}"
    report(days, scales, a.out, cmd, a.gap)
    print(f"wrote {a.out.with_suffix('.md')}")


if __name__ == "__main__":
    main()
