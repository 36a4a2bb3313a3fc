"""What a leaderboard run evaluates: env, seeds, methods, the carbon-price sweep, the oracle's
time limit, processes and the output folder (checked on construction)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import gymnasium as gym

import carbon_cpn  # noqa: F401  (registers the env ids)
from carbon_cpn.agents.baselines import baselines_for
from carbon_cpn.engine import check_engine

#: Evaluation seeds are ``SEED_BASE + k`` for k = 0..n_seeds-1.
SEED_BASE = 1000
#: tsco Fig. 4's range of carbon prices [$/t].
SWEEP_PRICES_USD_PER_T: tuple[float, ...] = (25.0, 50.0, 100.0, 150.0)
QUICK_SWEEP_PRICES_USD_PER_T: tuple[float, ...] = (25.0, 150.0)


@dataclass(frozen=True)
class LeaderboardSettings:
    env_id: str
    n_seeds: int
    out: Path
    models_dir: Path | None
    oracle_time_limit_s: float
    sweep_prices: tuple[float, ...]
    sweep_seeds: int
    methods: tuple[str, ...]
    jobs: int = 1
    #: Ignore the episodes streamed by an earlier (killed) run instead of resuming it.
    fresh: bool = False
    #: Where episodes run (``carbon_cpn.engine``): "local" or "ray"; the Ray cluster to join.
    engine: str = "local"
    ray_address: str | None = None

    def __post_init__(self) -> None:
        if not (isinstance(self.jobs, int) and self.jobs >= 1):
            raise ValueError(f"jobs={self.jobs!r}: expected an integer >= 1")
        if self.n_seeds < 1:
            raise ValueError(f"seeds={self.n_seeds!r}: expected at least 1")
        if not (1 <= self.sweep_seeds <= self.n_seeds):
            raise ValueError(f"sweep_seeds={self.sweep_seeds!r}: expected 1..seeds ({self.n_seeds})")
        if self.env_id not in gym.registry:
            raise ValueError(f"env={self.env_id!r}: expected a registered id such as 'CarbonCPN-v0'")
        known = baselines_for(self.env_id)
        unknown = set(self.methods) - set(known)
        if unknown:
            raise ValueError(f"methods={sorted(unknown)}: expected names from {sorted(known)} (for {self.env_id})")
        check_engine(self.engine, self.ray_address)
        if not (self.oracle_time_limit_s > 0):
            raise ValueError(f"oracle_time_limit_s={self.oracle_time_limit_s!r}: expected seconds > 0")

    @classmethod
    def with_defaults(cls, *, quick: bool = False, env_id: str | None = None, n_seeds: int | None = None,
                      sweep_seeds: int | None = None, oracle_time_limit_s: float | None = None,
                      out: Path = Path("benchmarks/results"), models_dir: Path | None = Path("runs"),
                      methods: tuple[str, ...] | None = None, jobs: int = 1,
                      fresh: bool = False, engine: str = "local", ray_address: str | None = None
                      ) -> LeaderboardSettings:
        """Settings with every ``None`` filled in: the full run (CarbonCPN-v0, 10 seeds, a 120 s
        oracle, four sweep prices, every seed in the sweep), or with ``quick`` a smoke run
        (CarbonCPN-Tiny-v0, 1 seed, a 30 s oracle, two sweep prices)."""
        n = n_seeds if n_seeds is not None else (1 if quick else 10)
        env_id = env_id or ("CarbonCPN-Tiny-v0" if quick else "CarbonCPN-v0")
        methods = tuple(baselines_for(env_id)) if methods is None else methods
        return cls(env_id=env_id, n_seeds=n, out=Path(out),
                   models_dir=models_dir,
                   oracle_time_limit_s=oracle_time_limit_s if oracle_time_limit_s is not None else
                   (30.0 if quick else 120.0),
                   sweep_prices=QUICK_SWEEP_PRICES_USD_PER_T if quick else SWEEP_PRICES_USD_PER_T,
                   sweep_seeds=sweep_seeds if sweep_seeds is not None else n, methods=tuple(methods), jobs=jobs,
                   fresh=fresh, engine=engine, ray_address=ray_address)

    @property
    def seeds(self) -> list[int]:
        """The evaluation seeds, ``SEED_BASE + k`` for k = 0..n_seeds-1."""
        return [SEED_BASE + k for k in range(self.n_seeds)]
