"""Train a DQN-family agent, or the MaskablePPO reference, on a carbon-cpn env (issues #5, #14):
``carbon-cpn train``.

Output folder ``out_dir``::

    run.json              algo, env, seed, n_envs, Lyapunov settings, use_masking,
                          gamma_per_hour, hyperparameters, timing
    tb/<algo>_1/          TensorBoard: SB3's scalars, episode/<metric> (the env's episode
                          metrics), train/mean_q, train/per_beta (Rainbow), eval/<metric>
    checkpoint/           model.zip + replay_buffer.pkl (off-policy) + state.json, every checkpoint_freq
                          steps and on Ctrl-C / SIGTERM; ``resume=True`` continues from it
    evaluations.jsonl     one line per periodic evaluation
    best_model.zip        best mean evaluation return so far
    final_model.zip       the model at the end of training

Seeding: the algorithm (torch, its exploration and replay generators, SB3's action-space
sampling) gets ``seed``; training env ``i`` is reset first with ``seed + i``; the periodic
evaluation env uses ``seed + 10_000 + episode``. On resume every stream is reseeded with
``seed + num_timesteps`` (the interrupted streams cannot be restored exactly; the
step count, networks, optimizer and replay buffer are).

Masking (issue #14): every algorithm acts on the envs' ``action_masks()``; the DQN family also
masks its targets. ``use_masking=False`` (``--no-masking``) trains the DQN family unmasked (the
ablation); ``maskable_ppo`` is always masked.

Discounting by simulated time: ``gamma_per_hour`` (the file's key, or ``--gamma-per-hour``,
which overrides it) makes the DQN family discount each transition by ``gamma_per_hour **
info["elapsed_h"]`` instead of ``gamma`` per decision (``carbon_cpn.agents.smdp``); recorded in
run.json and the saved model. ``maskable_ppo`` refuses it.

Demonstrations: ``demo`` (the file's key, or ``--demo BASELINE``) makes DQN, Double DQN and
Dueling DQN learn from a baseline's episodes as DQfD does (``carbon_cpn.agents.demonstrations``).
"""

from __future__ import annotations

import json
import signal
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch as th
from stable_baselines3.common.callbacks import CallbackList
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv

from carbon_cpn.atomic_io import atomic_path, atomic_write_text
from carbon_cpn.agents.callbacks import (
    CHECKPOINT_BUFFER,
    CHECKPOINT_MODEL,
    CheckpointEveryCallback,
    EpisodeMetricsCallback,
    EvalMetricsCallback,
    StopFlag,
    StopAtStepsCallback,
    StopOnFlagCallback,
    save_checkpoint,
)
from carbon_cpn.agents.evaluate import make_env
from carbon_cpn.agents.hyperparams import allowed_keys, load_hyperparams
from carbon_cpn.agents.registry import algo_spec, resolve_policy
from carbon_cpn.agents.smdp import check_gamma_per_hour

EVAL_SEED_OFFSET = 10_000


@dataclass(frozen=True)
class TrainResult:
    """What :func:`train` did."""

    model_path: str  #: final model (or the checkpoint's model when interrupted)
    num_timesteps: int  #: env steps done in total (across resumes)
    interrupted: bool  #: stopped by Ctrl-C / SIGTERM; resume with resume=True
    wall_time_s: float  #: duration of this call's learn()
    steps_per_s: float  #: env steps of this call / wall_time_s


def _install_stop_handlers(flag: StopFlag) -> dict[int, Any]:
    """SIGINT/SIGTERM set the flag (learn() stops at a step boundary); a second SIGINT raises."""
    if threading.current_thread() is not threading.main_thread():
        return {}
    previous: dict[int, Any] = {}

    def handler(signum: int, frame: Any) -> None:
        if flag.requested and signum == signal.SIGINT:
            raise KeyboardInterrupt
        flag.requested = True
        flag.signal_name = signal.Signals(signum).name

    for sig in (signal.SIGINT, signal.SIGTERM):
        previous[sig] = signal.signal(sig, handler)
    return previous


#: ``vec_env`` choices: the envs in the training process, one after another, or one process each
#: (the env's dispatch LPs then run in parallel; worth it only with free cores).
VEC_ENVS: dict[str, Any] = {"dummy": DummyVecEnv, "subproc": SubprocVecEnv}


def train(
    algo: str,
    env_id: str,
    timesteps: int | None = None,
    seed: int = 0,
    n_envs: int | None = None,
    hyperparams_file: str | Path | None = None,
    out_dir: str | Path = "runs/run",
    lyapunov_v: float | None = None,
    carbon_budget: float | None = None,
    resume: bool = False,
    progress_bar: bool = True,
    verbose: int = 0,
    torch_threads: int | None = 1,
    eval_freq: int | None = None,
    eval_episodes: int | None = None,
    checkpoint_freq: int | None = None,
    use_masking: bool | None = None,
    gamma_per_hour: float | None = None,
    vec_env: str = "dummy",
    demo: str | None = None,
    carbon_queue: str = "episode",
) -> TrainResult:
    """Train ``algo`` on ``env_id`` for ``timesteps`` env steps in all (see the module docstring).

    ``timesteps``, ``n_envs``, ``eval_freq``, ``eval_episodes`` and ``checkpoint_freq`` default to
    the hyperparameter file's ``n_timesteps``, ``n_envs``, ... (``eval_freq`` 0 disables
    evaluation). ``torch_threads`` sets ``torch.set_num_threads`` (1 is fastest for these small
    MLPs on a shared CPU; None leaves torch's default). ``use_masking`` None keeps the file's
    ``use_masking`` (default True); False trains a DQN-family agent without masks.
    ``gamma_per_hour`` None keeps the file's ``gamma_per_hour`` (default: per-decision ``gamma``);
    a value in (0, 1] overrides it (DQN family only; ValueError for ``maskable_ppo``).
    ``demo`` None keeps the file's ``demo``; a baseline's name overrides it: the agent learns from
    that baseline's demonstrations (``carbon_cpn.agents.demonstrations``; DQN, Double DQN and
    Dueling DQN only, ValueError otherwise). ``carbon_queue`` is the Lyapunov queue's scope
    (``"episode"``: empty at every reset; ``"long_term"``: carried over, tsco eq. 10).
    """
    spec = algo_spec(algo)
    hp = load_hyperparams(algo, env_id, hyperparams_file)
    timesteps = int(hp.pop("n_timesteps", 100_000) if timesteps is None else timesteps)
    hp.pop("n_timesteps", None)
    n_envs = int(hp.pop("n_envs", 1) if n_envs is None else n_envs)
    hp.pop("n_envs", None)
    eval_freq = int(hp.pop("eval_freq", 10_000) if eval_freq is None else eval_freq)
    hp.pop("eval_freq", None)
    eval_episodes = int(hp.pop("eval_episodes", 2) if eval_episodes is None else eval_episodes)
    hp.pop("eval_episodes", None)
    checkpoint_freq = int(hp.pop("checkpoint_freq", 10_000) if checkpoint_freq is None else checkpoint_freq)
    hp.pop("checkpoint_freq", None)
    policy = resolve_policy(hp.pop("policy", spec.default_policy))
    masking_is_arg = "use_masking" in allowed_keys(algo)
    if use_masking is not None:
        if not isinstance(use_masking, bool):
            raise ValueError(f"use_masking={use_masking!r}: expected True, False or None (the file's setting)")
        if not masking_is_arg and not use_masking:
            raise ValueError(f"use_masking=False: algo={algo!r} always masks; expected True or None "
                             "(unmasked training is an ablation of the DQN family)")
        if masking_is_arg:
            hp["use_masking"] = use_masking
    effective_masking = bool(hp.get("use_masking", True))
    if gamma_per_hour is not None:
        if "gamma_per_hour" not in allowed_keys(algo):
            raise ValueError(f"gamma_per_hour={gamma_per_hour!r}: algo={algo!r} does not discount by simulated time "
                             "(implemented for the DQN family only); expected no gamma_per_hour with this algo")
        hp["gamma_per_hour"] = check_gamma_per_hour(gamma_per_hour)
    elif "gamma_per_hour" in hp:
        hp["gamma_per_hour"] = check_gamma_per_hour(hp["gamma_per_hour"])
    effective_gamma_per_hour = hp.get("gamma_per_hour")
    if demo is not None:
        if "demo" not in allowed_keys(algo):
            raise ValueError(f"demo={demo!r}: algo={algo!r} does not learn from demonstrations (implemented for "
                             "dqn, double_dqn and dueling_dqn); expected no demo with this algo")
        hp["demo"] = demo
    if timesteps < 1:
        raise ValueError(f"timesteps={timesteps!r}: expected >= 1")
    if n_envs < 1:
        raise ValueError(f"n_envs={n_envs!r}: expected >= 1")
    if not isinstance(seed, int):
        raise ValueError(f"seed={seed!r}: expected an integer")
    make_env(env_id, lyapunov_v, carbon_budget, carbon_queue).close()  # validates the id and the Lyapunov pair early
    if torch_threads is not None:
        th.set_num_threads(int(torch_threads))

    out = Path(out_dir)
    ckpt_dir = out / "checkpoint"
    tb_dir = out / "tb"
    run_cfg = {
        "algo": algo, "env_id": env_id, "timesteps": timesteps, "seed": seed, "n_envs": n_envs,
        "lyapunov_v": lyapunov_v, "carbon_budget": carbon_budget, "carbon_queue": carbon_queue,
        "use_masking": effective_masking,
        "gamma_per_hour": effective_gamma_per_hour,
        "hyperparams": {k: (v if isinstance(v, (int, float, str, bool, list, type(None))) else repr(v)) for k, v in hp.items()},
    }

    start_seed = seed
    if resume:
        if not (ckpt_dir / CHECKPOINT_MODEL).is_file():
            raise FileNotFoundError(f"resume=True: no checkpoint at {str(ckpt_dir / CHECKPOINT_MODEL)!r}; train without resume first")
        prev = json.loads((out / "run.json").read_text()) if (out / "run.json").is_file() else {}
        prev.setdefault("carbon_queue", "episode")
        for key in ("algo", "env_id", "lyapunov_v", "carbon_budget", "carbon_queue", "use_masking", "gamma_per_hour"):
            if key in prev and prev[key] != run_cfg[key]:
                raise ValueError(f"resume=True: {key}={run_cfg[key]!r} differs from the checkpoint's {prev[key]!r}")
        state = json.loads((ckpt_dir / "state.json").read_text())
        start_seed = seed + int(state["num_timesteps"])
    out.mkdir(parents=True, exist_ok=True)

    def env_fn() -> Any:
        return make_env(env_id, lyapunov_v, carbon_budget, carbon_queue)

    if vec_env not in VEC_ENVS:
        raise ValueError(f"vec_env={vec_env!r}: expected one of {sorted(VEC_ENVS)}")
    vec_env = make_vec_env(env_fn, n_envs=n_envs, seed=start_seed, vec_env_cls=VEC_ENVS[vec_env])

    if resume:
        model = spec.cls.load(ckpt_dir / CHECKPOINT_MODEL, env=vec_env, device="cpu", tensorboard_log=str(tb_dir))
        model.set_random_seed(start_seed)
        model.seed = seed
        if (ckpt_dir / CHECKPOINT_BUFFER).is_file() and hasattr(model, "load_replay_buffer"):
            model.load_replay_buffer(ckpt_dir / CHECKPOINT_BUFFER)
    else:
        model = spec.cls(policy, vec_env, seed=seed, device="cpu", tensorboard_log=str(tb_dir), verbose=verbose, **hp)
    atomic_write_text(out / "run.json", json.dumps(run_cfg, indent=2))

    flag = StopFlag()
    callbacks = [EpisodeMetricsCallback(), StopOnFlagCallback(flag), StopAtStepsCallback(timesteps)]
    extra = {"algo": algo, "env_id": env_id, "seed": seed}
    if checkpoint_freq > 0:
        callbacks.append(CheckpointEveryCallback(ckpt_dir, checkpoint_freq, extra))
    if eval_freq > 0:
        eval_seed = seed + EVAL_SEED_OFFSET
        callbacks.append(EvalMetricsCallback(env_fn, eval_freq, eval_episodes, eval_seed, out))

    remaining = timesteps - model.num_timesteps
    steps_before = model.num_timesteps
    previous = _install_stop_handlers(flag)
    t0 = time.perf_counter()
    interrupted = False
    try:
        if remaining > 0:
            model.learn(
                total_timesteps=remaining, callback=CallbackList(callbacks), log_interval=1, tb_log_name=algo,
                reset_num_timesteps=not resume, progress_bar=progress_bar,
            )
        interrupted = flag.requested
    except KeyboardInterrupt:
        interrupted = True
    finally:
        for sig, h in previous.items():
            signal.signal(sig, h)
        wall = time.perf_counter() - t0
        vec_env.close()
    save_checkpoint(model, ckpt_dir, extra)
    done_steps = model.num_timesteps - steps_before
    if interrupted:
        model_path = ckpt_dir / CHECKPOINT_MODEL
        print(f"training interrupted ({flag.signal_name or 'KeyboardInterrupt'}) at {model.num_timesteps} steps; "
              f"checkpoint saved in {ckpt_dir}; continue with resume=True (--resume)")
    else:
        model_path = out / "final_model.zip"
        with atomic_path(model_path) as tmp:  # a failed save keeps the previous final model
            model.save(tmp)
    result = TrainResult(str(model_path), int(model.num_timesteps), interrupted, wall, done_steps / max(wall, 1e-9))
    run_cfg["result"] = asdict(result)
    atomic_write_text(out / "run.json", json.dumps(run_cfg, indent=2))
    return result
