"""Issues #6, #13: the perfect-foresight oracle minimizes the episode objective, bounds every policy from
below and replays in the env."""

from __future__ import annotations

import dataclasses

import gymnasium as gym
import numpy as np
import pytest

import carbon_cpn  # noqa: F401
from carbon_cpn.agents.baselines import BASELINES, make_policy
from carbon_cpn.agents.leaderboard import objective_usd
from carbon_cpn.agents.oracle_policy import OraclePolicy, oracle_problem
from carbon_cpn.optim.highs_factory import new_highs
from carbon_cpn.optim.oracle import OracleError, OracleResult, solve_oracle

ENV_ID = "CarbonCPN-Tiny-v0"
SEED = 1000


def _objective(env: gym.Env, policy) -> float:
    return _objective_at(env, policy, SEED)


def _objective_at(env: gym.Env, policy, seed: int) -> float:
    obs, _ = env.reset(seed=seed)
    done = False
    while not done:
        a, _ = policy.predict(obs)
        obs, _, term, trunc, info = env.step(int(a))
        done = term or trunc
    return objective_usd(info["episode_metrics"])


@pytest.fixture(scope="module")
def solved() -> tuple[OracleResult, float, int]:
    env = gym.make(ENV_ID)
    env.reset(seed=SEED)
    oracle = OraclePolicy(env, 0, time_limit_s=60.0)
    replay = _objective(env, oracle)  # solves at the first decision, then replays
    assert oracle.result is not None
    return oracle.result, replay, oracle.fallbacks


def test_result_is_consistent(solved: tuple[OracleResult, float, int]) -> None:
    res, _, _ = solved
    assert np.isfinite(res.best_bound_usd)
    assert res.best_bound_usd <= res.objective_usd + 1e-6 * abs(res.objective_usd)
    assert res.n_binaries == res.n_candidates + res.size_notes["job_cols"]
    assert res.n_cols > res.n_binaries and res.n_nonzeros > 0
    # Every scheduled sub-task starts inside the episode; on-time jobs have all of theirs.
    assert all(0 <= p.start < 48 for p in res.schedule.values())


def test_bound_is_below_every_policy(solved: tuple[OracleResult, float, int]) -> None:
    res, replay, _ = solved
    env = gym.make(ENV_ID)
    tol = 1e-6 * abs(res.best_bound_usd)
    assert res.best_bound_usd <= replay + tol
    for name in BASELINES:
        if name == "oracle":
            continue
        env.reset(seed=SEED)
        j = _objective(env, make_policy(name, env, 0))
        assert res.best_bound_usd <= j + tol, f"bound {res.best_bound_usd:.0f} above {name}'s objective {j:.0f}"


@pytest.mark.parametrize("seed", [1001, 1002])
def test_lp_bound_is_below_every_baseline_on_other_seeds(seed: int) -> None:
    """The LP bound alone (no full MILP) on more episodes: below every baseline's objective."""
    env = gym.make(ENV_ID)
    env.reset(seed=seed)
    res = solve_oracle(oracle_problem(env), time_limit_s=60.0, full_milp_max_binaries=0)
    assert np.isfinite(res.best_bound_usd) and res.best_bound_usd == res.lp_bound_usd
    for name in BASELINES:
        if name == "oracle":
            continue
        env.reset(seed=seed)
        j = _objective_at(env, make_policy(name, env, 0), seed)
        assert res.best_bound_usd <= j + 1e-6 * abs(j), f"seed {seed}: bound {res.best_bound_usd:.0f} above {name}'s {j:.0f}"


def test_replay_completes_and_beats_the_heuristics(solved: tuple[OracleResult, float, int]) -> None:
    res, replay, fallbacks = solved
    env = gym.make(ENV_ID)
    heuristics = {name: _objective(env, make_policy(name, env, 0)) for name in BASELINES if name != "oracle"}
    assert np.isfinite(replay) and replay < min(heuristics.values()), heuristics
    assert fallbacks < max(5, len(res.schedule) // 5)


def test_bad_input_is_named() -> None:
    env = gym.make(ENV_ID)
    env.reset(seed=SEED)
    p = oracle_problem(env)
    with pytest.raises(OracleError, match="fixed_load_mw"):
        dataclasses.replace(p, fixed_load_mw=p.fixed_load_mw[:-1])
    with pytest.raises(OracleError, match="time_limit_s"):
        solve_oracle(p, time_limit_s=0.0)
    with pytest.raises(OracleError, match="max_candidates"):
        solve_oracle(p, max_candidates=10)


def test_solves_whatever_thread_count_the_process_started_with() -> None:
    """HiGHS sizes one thread scheduler per process at its first solve; the oracle must still
    solve when an earlier solve sized it differently (highspy 1.16 refuses such a solve)."""
    import highspy

    def solve_tiny_lp(threads: int) -> None:
        h = new_highs()
        h.setOptionValue("threads", threads)
        h.addVar(0.0, 1.0)
        h.changeColCost(0, 1.0)
        highspy.Highs.resetGlobalScheduler(True)
        assert h.run() == highspy.HighsStatus.kOk

    env = gym.make(ENV_ID)
    env.reset(seed=SEED)
    p = oracle_problem(env)
    results = []
    for first, oracle_threads in [(2, 1), (1, 2)]:
        solve_tiny_lp(first)
        results.append(solve_oracle(p, time_limit_s=60.0, threads=oracle_threads))
    for res in results:
        assert res.status in ("optimal", "time_limit", "restricted_milp"), res.status
        assert np.isfinite(res.best_bound_usd) and np.isfinite(res.objective_usd)
    # The LP bound does not depend on the thread count.
    assert results[0].lp_bound_usd == pytest.approx(results[1].lp_bound_usd, rel=1e-9)
    # The env's own dispatch still solves after the oracle resized the scheduler (the env raises
    # when a grid interval's dispatch fails): run it across two grid intervals.
    _, _, _, _, info = env.step(0)
    start_h = info["time_h"]
    while info["time_h"] < start_h + 2 * env.unwrapped.cfg.episode.interval_min / 60:
        _, _, term, trunc, info = env.step(0)
        assert not (term or trunc)
