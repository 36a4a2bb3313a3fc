"""Training callbacks (issue #5): the env's episode metrics in TensorBoard, periodic evaluation
on a separate env, checkpoints, and a clean stop on Ctrl-C / SIGTERM.
"""

from __future__ import annotations

import contextlib
import json
import signal
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.callbacks import BaseCallback

from carbon_cpn.agents.evaluate import model_policy, run_episodes, summarize
from carbon_cpn.atomic_io import atomic_path, atomic_write_text

CHECKPOINT_MODEL = "model.zip"
CHECKPOINT_BUFFER = "replay_buffer.pkl"
CHECKPOINT_STATE = "state.json"


@contextlib.contextmanager
def signals_deferred() -> Iterator[None]:
    """SIGINT and SIGTERM wait until the block ends (a second SIGTERM during a checkpoint's save
    then stops the process after it, never in the middle; issue #18). Main thread only; a no-op
    where signals cannot be masked."""
    can = threading.current_thread() is threading.main_thread() and hasattr(signal, "pthread_sigmask")
    if can:
        old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    try:
        yield
    finally:
        if can:
            signal.pthread_sigmask(signal.SIG_SETMASK, old)


def save_checkpoint(model: BaseAlgorithm, ckpt_dir: Path, extra: dict[str, Any] | None = None) -> None:
    """Model (with its step count), replay buffer and a small ``state.json``, each written
    atomically, with SIGINT/SIGTERM deferred until all three are on disk (``state.json`` last:
    it names the step count the model and buffer hold)."""
    with signals_deferred():
        ckpt_dir.mkdir(parents=True, exist_ok=True)
        with atomic_path(ckpt_dir / CHECKPOINT_MODEL) as tmp:
            model.save(tmp)
        if hasattr(model, "save_replay_buffer") and getattr(model, "replay_buffer", None) is not None:
            with atomic_path(ckpt_dir / CHECKPOINT_BUFFER) as tmp:
                model.save_replay_buffer(tmp)  # type: ignore[attr-defined]
        state = {"num_timesteps": int(model.num_timesteps), **(extra or {})}
        atomic_write_text(ckpt_dir / CHECKPOINT_STATE, json.dumps(state, indent=2))


class EpisodeMetricsCallback(BaseCallback):
    """Averages ``info["episode_metrics"]`` of finished episodes into ``episode/<metric>``."""

    def _on_step(self) -> bool:
        for info in self.locals.get("infos", []):
            metrics = info.get("episode_metrics")
            if metrics:
                for k, v in metrics.items():
                    self.logger.record_mean(f"episode/{k}", float(v))
        return True


class StopFlag:
    """Set by a signal handler; :class:`StopOnFlagCallback` ends ``learn()`` at the next step."""

    def __init__(self) -> None:
        self.requested = False
        self.signal_name = ""


class StopOnFlagCallback(BaseCallback):
    def __init__(self, flag: StopFlag) -> None:
        super().__init__()
        self.flag = flag

    def _on_step(self) -> bool:
        return not self.flag.requested


class StopAtStepsCallback(BaseCallback):
    """Ends ``learn()`` when the model has taken ``target`` env steps (issue #18). SB3 finishes a
    rollout it has started (``train_freq`` steps of DQN, ``n_steps`` of PPO) past
    ``total_timesteps``, so a run resumed from a checkpoint saved mid-rollout overshot the
    requested count; this stops at the count instead. A rollout that ends at the target anyway
    is left to end (and be trained on) as before."""

    def __init__(self, target: int) -> None:
        super().__init__()
        self.target = int(target)

    def _on_step(self) -> bool:
        if self.model.num_timesteps < self.target:
            return True
        loc = self.locals
        freq = getattr(self.model, "train_freq", None)
        if "num_collected_steps" in loc and freq is not None and getattr(freq.unit, "value", "") == "step":
            return loc["num_collected_steps"] >= freq.frequency  # the off-policy rollout ends here
        if "n_rollout_steps" in loc and "n_steps" in loc:
            return loc["n_steps"] + 1 >= loc["n_rollout_steps"]  # the on-policy rollout ends here
        return False


class CheckpointEveryCallback(BaseCallback):
    """Overwrites the checkpoint in ``ckpt_dir`` every ``freq`` timesteps."""

    def __init__(self, ckpt_dir: Path, freq: int, extra: dict[str, Any] | None = None) -> None:
        super().__init__()
        if freq < 1:
            raise ValueError(f"checkpoint_freq={freq!r}: expected >= 1 timesteps")
        self.ckpt_dir, self.freq, self.extra = ckpt_dir, int(freq), extra
        self._next = 0

    def _on_training_start(self) -> None:
        self._next = (self.num_timesteps // self.freq + 1) * self.freq

    def _on_step(self) -> bool:
        if self.num_timesteps >= self._next:
            save_checkpoint(self.model, self.ckpt_dir, self.extra)
            self._next += self.freq
        return True


class EvalMetricsCallback(BaseCallback):
    """Every ``eval_freq`` timesteps: ``episodes`` deterministic episodes on a separate env.

    Records ``eval/<metric>`` (mean) and ``eval/<metric>_std`` for every episode metric, appends
    the row to ``out_dir/evaluations.jsonl`` and saves ``best_model.zip`` on a new best mean return.
    """

    def __init__(self, make_eval_env: Callable[[], gym.Env], eval_freq: int, episodes: int, seed: int, out_dir: Path) -> None:
        super().__init__()
        if eval_freq < 1 or episodes < 1:
            raise ValueError(f"eval_freq={eval_freq!r}, eval_episodes={episodes!r}: expected both >= 1")
        self.make_eval_env, self.eval_freq, self.episodes, self.seed = make_eval_env, int(eval_freq), int(episodes), int(seed)
        self.out_dir = out_dir
        self.best = -np.inf
        self._env: gym.Env | None = None
        self._next = 0

    def _on_training_start(self) -> None:
        self._next = (self.num_timesteps // self.eval_freq + 1) * self.eval_freq
        best_file = self.out_dir / "best_return.json"
        if best_file.is_file():
            self.best = float(json.loads(best_file.read_text())["episode_return"])

    def _on_step(self) -> bool:
        if self.num_timesteps < self._next:
            return True
        self._next += self.eval_freq
        if self._env is None:
            self._env = self.make_eval_env()
        result = summarize(run_episodes(model_policy(self.model, deterministic=True), self._env, self.episodes, self.seed))
        for k, v in result.items():
            self.logger.record(f"eval/{k}", v["mean"])
            self.logger.record(f"eval/{k}_std", v["std"], exclude=("stdout",))
        with (self.out_dir / "evaluations.jsonl").open("a") as fh:
            fh.write(json.dumps({"num_timesteps": self.num_timesteps, **result}) + "\n")
        ret = result["episode_return"]["mean"]
        if ret > self.best:
            self.best = ret
            with atomic_path(self.out_dir / "best_model.zip") as tmp:
                self.model.save(tmp)
            atomic_write_text(self.out_dir / "best_return.json",
                              json.dumps({"episode_return": ret, "num_timesteps": self.num_timesteps}))
        self.logger.dump(self.num_timesteps)
        return True

    def _on_training_end(self) -> None:
        if self._env is not None:
            self._env.close()
