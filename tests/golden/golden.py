"""Golden rollouts: what every registered env does on fixed seeds under fixed policies.

``python tests/golden/golden.py`` records them to ``rollouts.npz`` next to this file (``--missing``:
only the cases of ids added since);
``test_golden.py`` replays them and requires the same observations, rewards, reward terms,
interval records and episode metrics. A refactor that keeps behaviour keeps them; a change
that means to change behaviour re-records them in the same commit and says why.
"""

from __future__ import annotations

import sys
from pathlib import Path

import gymnasium as gym
import numpy as np

# Record from the working copy (a script's folder, not the repository root, heads sys.path).
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
import carbon_cpn  # noqa: E402
from carbon_cpn.agents.baselines import baselines_for, make_policy  # noqa: E402

PATH = Path(__file__).with_name("rollouts.npz")
SEEDS = (1, 1000, 2024)
#: Interval-record fields compared (every array the env reports per interval).
INTERVAL_KEYS = ("gen_mw", "res_used_mw", "curtail_mw", "shed_mw", "bess_charge_mw", "bess_discharge_mw",
                 "bess_soc_mwh", "base_load_mw", "cpn_load_mw", "node_power_mw", "utilization", "line_flow_mw",
                 "lmp", "mci", "cost", "emissions", "cpn_cost_usd", "cpn_emissions_kg", "objective_usd")


def cases() -> list[tuple[str, int, str]]:
    """(env id, seed, policy): a random policy on every id and seed, pfs (the Microgrid family:
    its energy-only schedule) on one seed each."""
    out = [(env_id, seed, "random") for env_id in carbon_cpn.ENV_IDS for seed in SEEDS]
    out += [(env_id, SEEDS[1], "pfs" if "pfs" in baselines_for(env_id) else "energy_only") for env_id in carbon_cpn.ENV_IDS]
    return out


def rollout(env_id: str, seed: int, policy: str) -> dict[str, np.ndarray]:
    """One full episode. ``random`` picks a valid action from its own seeded generator and, one
    step in twenty, any action (masked ones included, to exercise the penalty)."""
    env = gym.make(env_id)
    obs, info = env.reset(seed=seed)
    rng = np.random.default_rng(seed + 7)
    pol = make_policy(policy, env) if policy != "random" else None
    obs_l, rew_l, el_l, th_l, mask_l, act_l = [obs], [], [info["elapsed_h"]], [info["time_h"]], [info["action_mask"]], []
    terms_l: list[list[float]] = []
    term_names: tuple[str, ...] = ()
    recs: dict[str, list[np.ndarray]] = {k: [] for k in INTERVAL_KEYS}
    for rec in info.get("intervals", []):
        for k in INTERVAL_KEYS:
            recs[k].append(np.ravel(np.asarray(rec[k], dtype=float)))
    done = False
    while not done:
        if pol is None:
            mask = info["action_mask"]
            a = int(rng.integers(mask.size)) if rng.random() < 0.05 else int(rng.choice(np.flatnonzero(mask)))
        else:
            a = int(pol.predict(obs)[0])
        obs, r, term, trunc, info = env.step(a)
        done = term or trunc
        act_l.append(a)
        obs_l.append(obs)
        rew_l.append(r)
        el_l.append(info["elapsed_h"])
        th_l.append(info["time_h"])
        mask_l.append(info["action_mask"])
        term_names = tuple(sorted(info["reward_terms"]))
        terms_l.append([info["reward_terms"][k] for k in term_names])
        for rec in info.get("intervals", []):
            for k in INTERVAL_KEYS:
                recs[k].append(np.ravel(np.asarray(rec[k], dtype=float)))
    metrics = info["episode_metrics"]
    names = sorted(metrics)
    out = {
        "obs": np.asarray(obs_l), "reward": np.asarray(rew_l), "action": np.asarray(act_l),
        "elapsed_h": np.asarray(el_l), "time_h": np.asarray(th_l), "mask": np.asarray(mask_l),
        "terms": np.asarray(terms_l), "term_names": np.asarray(term_names),
        "metrics": np.array([metrics[k] for k in names], dtype=float), "metric_names": np.asarray(names),
        "day": np.asarray(info["day"]),
    }
    for k, v in recs.items():
        out[f"interval.{k}"] = np.concatenate(v) if v else np.zeros(0)
    env.close()
    return out


def key(env_id: str, seed: int, policy: str) -> str:
    return f"{env_id}/{seed}/{policy}"


def record(path: Path = PATH, missing_only: bool = False) -> None:
    """Record every case (``missing_only``: keep the recorded ones, add the cases of new ids)."""
    arrays: dict[str, np.ndarray] = {}
    if missing_only and path.exists():
        with np.load(path) as old:
            arrays = {k: old[k] for k in old.files}
    for case in cases():
        if any(k.startswith(key(*case) + "/") for k in arrays):
            continue
        for name, arr in rollout(*case).items():
            arrays[f"{key(*case)}/{name}"] = arr
        print("recorded", key(*case), file=sys.stderr)
    tmp = path.with_suffix(".tmp.npz")
    np.savez_compressed(tmp, **arrays)
    tmp.replace(path)


if __name__ == "__main__":
    record(missing_only="--missing" in sys.argv[1:])
