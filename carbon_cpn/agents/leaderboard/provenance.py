"""Provenance of a leaderboard run: the checkout's commit, the package versions and the run's
``metadata.json`` (scenario, seeds, settings)."""

from __future__ import annotations

import platform
import time
from collections.abc import Sequence
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any

from carbon_cpn.agents.leaderboard.episodes import EpisodeRecord
from carbon_cpn.agents.leaderboard.settings import LeaderboardSettings


def git_sha(start: Path) -> str:
    """The checkout's commit, read from ``.git`` files (no git process), or "unknown"."""
    for d in (start, *start.parents):
        g = d / ".git"
        if g.is_file():  # a worktree: "gitdir: <path>"
            txt = g.read_text().strip()
            if txt.startswith("gitdir:"):
                g = (d / txt.split(":", 1)[1].strip()).resolve()
        if not g.is_dir():
            continue
        head = (g / "HEAD").read_text().strip() if (g / "HEAD").is_file() else ""
        if not head.startswith("ref:"):
            return head or "unknown"
        ref = head.split(":", 1)[1].strip()
        for base in (g, g.parent / "commondir"):
            p = base / ref
            if p.is_file():
                return p.read_text().strip()
        packed = g / "packed-refs"
        if packed.is_file():
            for line in packed.read_text().splitlines():
                if line.endswith(" " + ref):
                    return line.split()[0]
        return "unknown"
    return "unknown"


def versions() -> dict[str, str]:
    """Python's version and those of the packages a result depends on ("absent" if missing)."""
    out = {"python": platform.python_version()}
    for pkg in ("carbon-cpn", "numpy", "scipy", "gymnasium", "stable-baselines3", "sb3-contrib", "torch", "pyomo",
                "highspy", "pandapower", "matplotlib"):
        try:
            out[pkg] = importlib_metadata.version(pkg)
        except importlib_metadata.PackageNotFoundError:
            out[pkg] = "absent"
    return out


def run_metadata(s: LeaderboardSettings, cfg: Any, records: Sequence[EpisodeRecord]) -> dict[str, Any]:
    """``metadata.json`` of a run of ``s`` on the scenario ``cfg`` (the env's config) whose main
    table holds ``records``."""
    seeds = s.seeds
    return {
        "env_id": s.env_id, "scenario": cfg.name, "seeds": seeds,
        "days": sorted({int(r.extra["day"]) for r in records}),
        "carbon_price_usd_per_t": cfg.reward.carbon_price_usd_per_t,
        "deadline_penalty_usd": cfg.reward.deadline_penalty_usd, "reward": cfg.reward.__dict__,
        "commitment": cfg.commitment.__dict__, "episode": cfg.episode.__dict__,
        "oracle_time_limit_s": s.oracle_time_limit_s, "oracle_mip_rel_gap": 0.01,
        "sweep_prices_usd_per_t": list(s.sweep_prices), "sweep_seeds": seeds[: s.sweep_seeds],
        "methods": list(s.methods), "models": sorted({r.method for r in records if r.method.startswith("model:")}),
        "policy_parameters": {"co_opt": {"threshold": 0.15}, "dc_frame": {"improvement": 0.10},
                              "c3o_greedy": {"w1": 0.7, "w2": 0.3, "threshold": 0.25},
                              "deferral": {"margin": 2.0, "max_queue": "max_decisions_per_interval // 2"}},
        "statistics": "rliable IQM and mean, 95 % stratified bootstrap, 2000 reps, seed 0",
        "git_sha": git_sha(Path(__file__).resolve().parent), "versions": versions(),
        "created_unix": time.time(),
    }
