"""Rendering of CarbonCPN-v0: a text summary and a matplotlib dashboard of the last interval."""

from __future__ import annotations

from typing import Any

import numpy as np


def _last_record(env: Any) -> dict[str, Any] | None:
    last = env.ledger.last
    return None if last is None else last.record()


def render_ansi(env: Any) -> str:
    """A text summary of a :class:`~carbon_cpn.envs.cosim_env.CoSimEnv`'s last interval."""
    rec = _last_record(env)
    lines = [f"day {env.day}  t={env.now_h:6.2f} h  interval {env.t}/{env.n_intervals}  head task {env.head_task}"]
    if rec is None:
        return lines[0] + "\n(no interval dispatched yet)\n"
    names = [nd.name for nd in env.cfg.cpn.nodes]
    lines.append(f"{'node':>8} {'bus':>4} {'CPU%':>5} {'GPU%':>5} {'MW':>6} {'LMP $/MWh':>10} {'MCI kg/MWh':>11}")
    for k, name in enumerate(names):
        b = env.node_bus[k]
        u = rec["utilization"][k]
        lines.append(f"{name:>8} {env.grid.bus_ids[b]:>4} {100 * u[0]:5.1f} {100 * u[1]:5.1f} "
                     f"{rec['node_power_mw'][k]:6.2f} {rec['lmp'][b]:10.2f} {rec['mci'][b]:11.1f}")
    lines.append(
        f"thermal {rec['gen_mw'].sum():6.1f} MW  renewables {rec['res_used_mw'].sum():6.1f} MW "
        f"(curtailed {rec['curtail_mw'].sum():5.1f})  battery +{rec['bess_charge_mw'].sum():4.1f}/-"
        f"{rec['bess_discharge_mw'].sum():4.1f} MW  shed {rec['shed_mw'].sum():4.1f} MW"
    )
    soc = rec["bess_soc_mwh"]
    lines.append("SOC " + " ".join(f"{s:5.1f}" for s in soc) + " MWh")
    c = env.cpn.job_counts()
    lines.append(f"jobs: {c['arrived']} arrived, {c['completed']} completed, {c['failed']} failed, {c['pending']} pending")
    return "\n".join(lines) + "\n"


def render_rgb(env: Any) -> np.ndarray:
    """A dashboard image of a :class:`~carbon_cpn.envs.cosim_env.CoSimEnv`'s last interval."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    rec = _last_record(env)
    fig, axes = plt.subplots(2, 2, figsize=(10, 7), dpi=80)
    names = [nd.name for nd in env.cfg.cpn.nodes]
    x = np.arange(len(names))
    if rec is not None:
        u = rec["utilization"]
        ax = axes[0, 0]
        ax.bar(x - 0.2, 100 * u[:, 0], 0.4, label="CPU")
        ax.bar(x + 0.2, 100 * u[:, 1], 0.4, label="GPU")
        ax.set_xticks(x, names, fontsize=8)
        ax.set_ylim(0, 100)
        ax.set_ylabel("utilization %")
        ax.set_title("CPN node load")
        ax.legend(fontsize=8)

        ax = axes[0, 1]
        b = env.node_bus
        ax.bar(x, rec["lmp"][b], 0.5, color="tab:orange")
        ax.set_ylabel("LMP $/MWh", color="tab:orange")
        ax.set_xticks(x, names, fontsize=8)
        ax2 = ax.twinx()
        ax2.plot(x, rec["mci"][b], "ko-", label="MCI")
        ax2.set_ylabel("MCI kg/MWh")
        ax.set_title("prices and marginal carbon at the nodes")

        ax = axes[1, 0]
        n_solar = len(env.cfg.grid.solar)
        parts = {
            "thermal": rec["gen_mw"].sum(),
            "solar": rec["res_used_mw"][:n_solar].sum(),
            "wind": rec["res_used_mw"][n_solar:].sum(),
            "battery": rec["bess_discharge_mw"].sum(),
            "curtailed": rec["curtail_mw"].sum(),
        }
        ax.bar(list(parts), list(parts.values()), color=["grey", "gold", "tab:blue", "tab:green", "tab:red"])
        ax.set_ylabel("MW")
        ax.set_title(f"generation mix (load {rec['base_load_mw'].sum() + rec['cpn_load_mw'].sum():.0f} MW)")

        ax = axes[1, 1]
        soc = rec["bess_soc_mwh"] / np.maximum([bt.energy_mwh for bt in env.cfg.grid.batteries], 1e-9)
        ax.bar([bt.name for bt in env.cfg.grid.batteries], 100 * soc, color="tab:green")
        ax.set_ylim(0, 100)
        ax.set_ylabel("SOC %")
        ax.set_title("battery state of charge")
        ax.tick_params(axis="x", labelsize=8)
    fig.suptitle(f"CarbonCPN-v0  day {env.day}  {env.now_h % 24:05.2f} h", fontsize=11)
    fig.tight_layout()
    fig.canvas.draw()
    img = np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()
    plt.close(fig)
    return img
