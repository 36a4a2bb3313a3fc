"""How often a baseline would take the oracle's decision, along the oracle's own episodes.

    python benchmarks/oracle_agreement.py --seeds 1003 --baseline pfs --time-limit 120

At every decision of the oracle's replay (``carbon_cpn.agents.oracle_policy``) the baseline is
asked what it would do in the same state; the decision is counted as the same action, the
oracle deferring where the baseline places, the baseline deferring where the oracle places,
another node, or another resource on the same node. The shares say how far imitating the
baseline is from imitating the oracle, and how much of the oracle's behaviour is waiting (its
plan's start times), which an agent cannot read from its observation.
"""

from __future__ import annotations

import argparse
import collections
import sys

import gymnasium as gym

import carbon_cpn  # noqa: F401
from carbon_cpn.agents.baselines import make_policy, policy_action
from carbon_cpn.agents.oracle_policy import OraclePolicy

KINDS = ("same", "oracle defers, baseline places", "oracle places, baseline defers", "other node", "other resource")


def agreement(env_id: str, seed: int, baseline: str, time_limit_s: float) -> tuple[dict[str, int], float]:
    """Counts of :data:`KINDS` over one oracle episode, and the oracle's objective on it."""
    env = gym.make(env_id)
    obs, _ = env.reset(seed=seed)
    u = env.unwrapped
    oracle = OraclePolicy(env, seed, time_limit_s=time_limit_s)
    other = make_policy(baseline, env, seed)
    counts = dict.fromkeys(KINDS, 0)
    while True:
        a, b = policy_action(oracle, obs[None]), policy_action(other, obs[None])
        if a == b:
            kind = KINDS[0]
        elif a == u.defer_action or b == u.defer_action:
            kind = KINDS[1] if a == u.defer_action else KINDS[2]
        else:
            ca, cb = u.codec.decode(a, u.head_preference()), u.codec.decode(b, u.head_preference())
            kind = KINDS[3] if ca.node != cb.node else KINDS[4]
        counts[kind] += 1
        obs, _, term, trunc, info = env.step(a)
        if term or trunc:
            return counts, float(info["episode_metrics"]["objective_usd"])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--env", default="CarbonCPN-v0")
    p.add_argument("--seeds", default="1003", help="comma-separated episode seeds")
    p.add_argument("--baseline", default="pfs")
    p.add_argument("--time-limit", type=float, default=120.0, help="the oracle's solve limit [s]")
    args = p.parse_args(argv)
    total: collections.Counter[str] = collections.Counter()
    for seed in (int(s) for s in args.seeds.split(",") if s.strip()):
        counts, objective = agreement(args.env, seed, args.baseline, args.time_limit)
        n = sum(counts.values())
        total.update(counts)
        print(f"seed {seed}: {n} decisions, oracle objective ${objective:,.0f}; "
              + ", ".join(f"{k} {v / n:.1%}" for k, v in counts.items()), flush=True)
    n = sum(total.values())
    print("all: " + ", ".join(f"{k} {v / n:.1%}" for k, v in total.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
