"""Performance harness: dispatch solve times against pandapower, and env step rates.

    python benchmarks/perf.py [--section dispatch|env|all] [--repeats N]

Prints Markdown tables. Timings are medians over ``--repeats`` calls in this process.
"""

from __future__ import annotations

import argparse
import logging
import platform
import statistics
import time
import warnings
from collections.abc import Callable

import numpy as np


def _median_ms(fn: Callable[[int], object], repeats: int, warmup: int = 5) -> float:
    for i in range(warmup):
        fn(i)
    times = []
    for i in range(repeats):
        t0 = time.perf_counter()
        fn(i)
        times.append(time.perf_counter() - t0)
    return 1e3 * statistics.median(times)


def bench_dispatch(repeats: int) -> None:
    import pandapower as pp
    import pandapower.networks as pn

    from carbon_cpn.envs.config import load_scenario
    from carbon_cpn.envs.grid_system import build_grid, grid_inputs, initial_soc_mwh, make_dispatch

    cfg = load_scenario("ieee30_5dc")
    grid = build_grid(cfg.grid)
    ed = make_dispatch(cfg, grid, 0.25)
    day = grid_inputs(cfg.grid, grid, 180, 96, 0.25)
    soc = initial_soc_mwh(cfg.grid)
    loads = day.base_load_mw
    avail = day.res_avail_mw

    def warm(i: int) -> object:
        return ed.solve(loads[i % 96], avail[i % 96], soc, compute_mci=False)

    def warm_mci(i: int) -> object:
        return ed.solve(loads[i % 96], avail[i % 96], soc)

    t_solve = _median_ms(warm, repeats)
    t_solve_mci = _median_ms(warm_mci, repeats)
    ed.solve(loads[0], avail[0], soc)
    t_mci = _median_ms(lambda i: ed.marginal_emissions(), repeats)

    # pandapower's DC OPF on the same network: same scaled costs and loads, renewables as
    # controllable zero-cost sgens capped at their availability, batteries as controllable
    # storage within their power ratings.
    net = pn.case30()
    for col in ("cp0_eur", "cp1_eur_per_mw", "cp2_eur_per_mw2"):
        net.poly_cost[col] *= cfg.grid.cost_scale
    sgens = [pp.create_sgen(net, u.bus, p_mw=0.0, controllable=True, min_p_mw=0.0, max_p_mw=u.capacity_mw)
             for u in (*cfg.grid.solar, *cfg.grid.wind)]
    for b in cfg.grid.batteries:
        pp.create_storage(net, b.bus, p_mw=0.0, max_e_mwh=b.energy_mwh, controllable=True,
                          min_p_mw=-b.power_mw, max_p_mw=b.power_mw)
    logging.getLogger("pandapower").setLevel(logging.ERROR)
    base_p = net.load.p_mw.to_numpy().copy()
    shape = loads.sum(axis=1) / grid.base_load_mw.sum()

    def rundcopp(i: int) -> object:
        net.load["p_mw"] = base_p * shape[i % 96]
        net.sgen.loc[sgens, "max_p_mw"] = avail[i % 96]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pp.rundcopp(net)
        return net.OPF_converged

    t_pp = _median_ms(rundcopp, max(10, repeats // 20), warmup=2)
    print(f"\n### Economic dispatch: {cfg.grid.case} + {grid.n_res} renewables + {grid.n_bess} batteries "
          f"({ed.n_cols} columns, {ed.n_rows} rows), {platform.processor() or platform.machine()}, Python {platform.python_version()}\n")
    print("| step | median ms | vs. rundcopp |")
    print("|---|---:|---:|")
    print(f"| warm solve (bounds + re-solve + read back) | {t_solve:.3f} | {t_pp / t_solve:.0f}x faster |")
    print(f"| MCI for all buses (basis-transpose solve) | {t_mci:.3f} | |")
    print(f"| warm solve + MCI | {t_solve_mci:.3f} | {t_pp / t_solve_mci:.0f}x faster |")
    print(f"| pandapower rundcopp, same network | {t_pp:.3f} | 1x |")


def bench_env(episodes: int) -> None:
    """Random-policy throughput of the registered envs, and the share of time in the dispatch."""
    import gymnasium as gym

    import carbon_cpn

    print("\n### Env throughput, random policy over feasible actions (one core)\n")
    print("| env | episodes | decision steps/s | intervals/s | steps per interval | dispatch share |")
    print("|---|---:|---:|---:|---:|---:|")
    for env_id in carbon_cpn.ENV_IDS:
        env = gym.make(env_id).unwrapped
        solve = env.dispatch.solve
        spent = [0.0]

        def timed_solve(*a: object, **k: object) -> object:
            t0 = time.perf_counter()
            out = solve(*a, **k)
            spent[0] += time.perf_counter() - t0
            return out

        env.dispatch.solve = timed_solve  # type: ignore[method-assign]
        rng = np.random.default_rng(0)
        steps = intervals = 0
        t0 = time.perf_counter()
        for ep in range(episodes):
            env.reset(seed=ep)
            done = False
            while not done:
                a = int(rng.choice(np.flatnonzero(env.action_masks())))
                _, _, done, _, _ = env.step(a)
                steps += 1
            intervals += env.n_intervals
        wall = time.perf_counter() - t0
        print(f"| {env_id} | {episodes} | {steps / wall:,.0f} | {intervals / wall:,.0f} | {steps / intervals:.1f} | "
              f"{100 * spent[0] / wall:.0f}% |")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--section", choices=["dispatch", "env", "all"], default="all")
    p.add_argument("--repeats", type=int, default=1000)
    p.add_argument("--episodes", type=int, default=5)
    args = p.parse_args()
    if args.section in ("dispatch", "all"):
        bench_dispatch(args.repeats)
    if args.section in ("env", "all"):
        bench_env(args.episodes)


if __name__ == "__main__":
    np.set_printoptions(precision=3)
    main()
