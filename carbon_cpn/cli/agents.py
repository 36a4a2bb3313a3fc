"""``carbon-cpn train`` and ``carbon-cpn evaluate`` (issues #5, #14).

    carbon-cpn train --algo dqn|double_dqn|dueling_dqn|rainbow|maskable_ppo --env ID --timesteps N
                     --seed S --n-envs K --hyperparams FILE --out DIR [--resume]
                     [--lyapunov-v V --carbon-budget T [--carbon-queue episode|long_term]]
                     [--no-masking] [--gamma-per-hour G] [--demo BASELINE] [--no-progress]
    carbon-cpn evaluate --model PATH|random|BASELINE --env ID --episodes K --seed S [--json]
                     [--lyapunov-v V --carbon-budget T [--carbon-queue episode|long_term]]

``--carbon-queue long_term`` carries the Lyapunov queue over from one episode (day) to the next
(tsco eq. 10's long-term budget: the mean over days); ``episode`` (the default) empties it at
every reset. ``evaluate`` of a trained model defaults to the queue in its ``run.json``.

``--no-masking`` trains a DQN-family agent without invalid-action masks (the ablation; the
model then ignores masks in evaluation too). ``evaluate`` passes the env's masks to every model
whose ``predict`` accepts ``action_masks`` and reports ``invalid_actions`` (per episode: mean
and std, like every metric).

``--gamma-per-hour G`` (DQN family; overrides the file's ``gamma_per_hour``) discounts each
transition by ``G ** info["elapsed_h"]``, the simulated hours it advanced, instead of ``gamma``
per decision (``carbon_cpn.agents.smdp``); ``maskable_ppo`` refuses it (exit code 2).

``--demo BASELINE`` (DQN, Double DQN, Dueling DQN) learns from the baseline's demonstrations,
DQfD style (``carbon_cpn.agents.demonstrations``); the other algorithms refuse it (exit code 2).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from carbon_cpn.cli.arguments import gamma_per_hour, positive_float, positive_int

#: The baselines ``evaluate --model`` accepts by name (listed in its help).
_BASELINE_NAMES = "pfs, ees, scas, rg_sched, co_opt, dc_frame, c3o_greedy, oracle"


def _cmd_train(args: argparse.Namespace) -> int:
    from carbon_cpn.agents.train import train

    out = args.out if args.out is not None else f"runs/{args.algo}-{args.env}-{args.seed}"
    try:
        res = train(
            args.algo, args.env, timesteps=args.timesteps, seed=args.seed, n_envs=args.n_envs,
            hyperparams_file=args.hyperparams, out_dir=out, lyapunov_v=args.lyapunov_v,
            carbon_budget=args.carbon_budget, resume=args.resume, progress_bar=not args.no_progress,
            verbose=args.verbose, torch_threads=args.torch_threads,
            use_masking=False if args.no_masking else None, gamma_per_hour=args.gamma_per_hour,
            vec_env=args.vec_env, demo=args.demo, carbon_queue=args.carbon_queue or "episode",
        )
    except (ValueError, FileNotFoundError) as exc:
        print(f"carbon-cpn train: error: {exc}", file=sys.stderr)
        return 2
    state = "interrupted" if res.interrupted else "done"
    print(f"{state}: {res.num_timesteps} steps, {res.steps_per_s:.1f} steps/s, model {res.model_path}")
    return 130 if res.interrupted else 0


def _cmd_evaluate(args: argparse.Namespace) -> int:
    from carbon_cpn.agents.evaluate import evaluate, format_table

    try:
        result = evaluate(args.model, args.env, episodes=args.episodes, seed=args.seed,
                          lyapunov_v=args.lyapunov_v, carbon_budget=args.carbon_budget,
                          carbon_queue=args.carbon_queue)
    except (ValueError, FileNotFoundError) as exc:
        print(f"carbon-cpn evaluate: error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(result, indent=2) if args.json else format_table(result))
    return 0


def _add_lyapunov(p: argparse.ArgumentParser) -> None:
    from carbon_cpn.envs.wrappers import CARBON_QUEUES

    p.add_argument("--lyapunov-v", type=positive_float, default=None, help="V of the Lyapunov carbon queue (with --carbon-budget)")
    p.add_argument("--carbon-budget", type=positive_float, default=None, help="carbon budget [t CO2 per episode] of the queue")
    p.add_argument("--carbon-queue", choices=CARBON_QUEUES, default=None,
                   help="the queue starts empty every episode (episode, the default) or carries over from one "
                        "episode to the next (long_term: the budget bounds the mean over days, tsco eq. 10)")


def add_train_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``train`` on an ``argparse`` subparsers object; ``args.func(args)`` runs it."""
    from carbon_cpn.agents.registry import ALGOS

    p = subparsers.add_parser("train", help="train a DQN-family agent or MaskablePPO (TensorBoard logs, checkpoints)")
    p.add_argument("--algo", required=True, choices=sorted(ALGOS), help="algorithm")
    p.add_argument("--env", default="CarbonCPN-v0", help="registered env id")
    p.add_argument("--timesteps", type=positive_int, default=None, help="total env steps (default: the file's n_timesteps)")
    p.add_argument("--seed", type=int, default=0, help="seed of every random stream")
    p.add_argument("--n-envs", type=positive_int, default=None, help="parallel envs (default: the file's n_envs or 1)")
    p.add_argument("--vec-env", choices=("dummy", "subproc"), default="dummy",
                   help="with --n-envs > 1: envs stepped in the training process (dummy) or one process each (subproc)")
    p.add_argument("--hyperparams", default=None, help="YAML keyed by env id (default: the shipped <algo>.yml)")
    p.add_argument("--out", default=None, help="output folder (default runs/<algo>-<env>-<seed>)")
    p.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint")
    p.add_argument("--no-masking", action="store_true",
                   help="DQN family: ignore the env's action masks in acting and in the targets (ablation)")
    p.add_argument("--gamma-per-hour", type=gamma_per_hour, default=None,
                   help="DQN family: discount per simulated hour, gamma_per_hour ** elapsed_h per transition "
                        "(default: the file's gamma_per_hour, else gamma per decision)")
    p.add_argument("--demo", default=None, metavar="BASELINE",
                   help="DQN, Double DQN, Dueling DQN: learn from this baseline's demonstrations (DQfD), e.g. pfs "
                        "(default: the file's demo, else none)")
    _add_lyapunov(p)
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--verbose", type=int, choices=(0, 1, 2), default=0, help="SB3 verbosity (0, 1, 2)")
    p.add_argument("--torch-threads", type=positive_int, default=1, help="torch.set_num_threads (default 1)")
    p.set_defaults(func=_cmd_train)
    return p


def add_evaluate_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``evaluate`` on an ``argparse`` subparsers object; ``args.func(args)`` runs it."""
    p = subparsers.add_parser("evaluate", help="evaluate a saved agent (or 'random') on the episode metrics")
    p.add_argument("--model", required=True, help="model .zip from carbon-cpn train, 'random' (uniform over feasible "
                                                  f"actions) or a baseline ({_BASELINE_NAMES})")
    p.add_argument("--env", default="CarbonCPN-v0", help="registered env id")
    p.add_argument("--episodes", type=positive_int, default=3, help="episodes (episode i reset with seed + i)")
    p.add_argument("--seed", type=int, default=0, help="seed of the first episode")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    _add_lyapunov(p)
    p.set_defaults(func=_cmd_evaluate)
    return p
