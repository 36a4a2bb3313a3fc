"""The result stream: episode tasks run (in processes when asked), each record appended to
``episodes.stream.jsonl`` as soon as its episode ends, so that a killed run started again with
the same settings reads the episodes already there and runs only the rest."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from carbon_cpn.agents.leaderboard.episodes import EpisodeRecord, run_episode
from carbon_cpn.engine import run_unordered

#: One episode to run: (env id, method, seed, env overrides or None, oracle time limit [s]).
Task = tuple[str, str, int, "dict[str, Any] | None", float]


def _episode_task(task: Task) -> EpisodeRecord:
    env_id, method, seed, overrides, oracle_time_limit_s = task
    return run_episode(env_id, method, seed, overrides, oracle_time_limit_s=oracle_time_limit_s)


def task_key(task: Task) -> str:
    """What an episode's result depends on besides the code: env, method, seed, overrides and
    the oracle's time limit (the stream file's key)."""
    env_id, method, seed, overrides, tl = task
    return json.dumps([env_id, method, int(seed), sorted((overrides or {}).items()), float(tl)], default=str)


def record_json(key: str, rec: EpisodeRecord) -> str:
    """One stream line: the task key and the record."""
    return json.dumps({"key": key, "method": rec.method, "seed": rec.seed,
                       "carbon_price_usd_per_t": rec.carbon_price_usd_per_t, "metrics": rec.metrics,
                       "objective_usd": rec.objective_usd, "invalid_actions": rec.invalid_actions,
                       "decisions": rec.decisions, "wall_s": rec.wall_s, "extra": rec.extra}, default=float)


def read_stream(path: Path) -> dict[str, EpisodeRecord]:
    """Records already streamed to ``path`` (one JSON line each), by task key. A line cut short
    by a kill (the last one) is ignored: that episode runs again."""
    out: dict[str, EpisodeRecord] = {}
    if not path.is_file():
        return out
    for line in path.read_text().splitlines():
        try:
            d = json.loads(line)
            rec = EpisodeRecord(method=d["method"], seed=int(d["seed"]),
                                carbon_price_usd_per_t=float(d["carbon_price_usd_per_t"]),
                                metrics={k: float(v) for k, v in d["metrics"].items()},
                                objective_usd=float(d["objective_usd"]), invalid_actions=int(d["invalid_actions"]),
                                decisions=int(d["decisions"]), wall_s=float(d["wall_s"]), extra=dict(d["extra"]))
        except (ValueError, KeyError, TypeError):
            continue
        out[str(d["key"])] = rec
    return out


def append_line(path: Path, line: str) -> None:
    """Append one line and flush it to disk (a kill loses at most the line being written)."""
    with open(path, "a", encoding="utf-8") as f:
        f.write(line + "\n")
        f.flush()
        os.fsync(f.fileno())


def run_tasks(tasks: list[Task], jobs: int, log: Callable[[str], None], label: Callable[[EpisodeRecord], str],
              stream: Path | None = None, engine: str = "local", ray_address: str | None = None
              ) -> list[EpisodeRecord]:
    """Run episode tasks on ``engine`` (:mod:`carbon_cpn.engine`: ``local``, in ``jobs``
    processes when > 1, or ``ray``) and return their records in task order. With ``stream``,
    every record is appended to that file as soon as its episode ends, and tasks whose record is
    already there are not run again (a killed run resumes)."""
    if not (isinstance(jobs, int) and jobs >= 1):
        raise ValueError(f"jobs={jobs!r}: expected an integer >= 1")
    done = read_stream(stream) if stream is not None else {}
    if stream is not None and stream.is_file() and not stream.read_bytes().endswith(b"\n") and stream.stat().st_size:
        append_line(stream, "")  # end a line cut short by a kill, so that the next record starts its own
    keys = [task_key(t) for t in tasks]
    todo = [(k, t) for k, t in zip(keys, tasks) if k not in done]
    if len(todo) < len(tasks):
        log(f"  resuming: {len(tasks) - len(todo)} of {len(tasks)} episodes read from {stream}")

    def finish(key: str, rec: EpisodeRecord) -> None:
        done[key] = rec
        if stream is not None:
            append_line(stream, record_json(key, rec))
        log(label(rec))

    for i, rec in run_unordered(_episode_task, [t for _, t in todo], engine=engine, jobs=jobs, address=ray_address):
        finish(todo[i][0], rec)
    return [done[k] for k in keys]
