"""Property-based tests (hypothesis) of what users type: actions, scenario values and CLI
arguments (issue #18). Each either works or is refused with a message naming what was wrong;
nothing ends in a traceback from deep inside the simulation."""

from __future__ import annotations

import math

import gymnasium as gym
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import carbon_cpn  # noqa: F401
from carbon_cpn.cli import main
from carbon_cpn.envs.actions import coerce_action
from carbon_cpn.envs.config import ScenarioError, load_scenario

ANYTHING = st.one_of(st.none(), st.booleans(), st.integers(-10**20, 10**20), st.floats(allow_nan=True),
                     st.text(max_size=5), st.binary(max_size=5),
                     st.lists(st.integers(-3, 8), max_size=3).map(np.array),
                     st.integers(-3, 8).map(np.int64), st.floats(-3, 8).map(np.float32))


@given(ANYTHING)
def test_an_action_is_an_integer_in_range_or_refused_by_name(action: object) -> None:
    integer = (isinstance(action, (int, np.integer)) and not isinstance(action, (bool, np.bool_))) or (
        isinstance(action, np.ndarray) and action.size == 1 and np.issubdtype(action.dtype, np.integer))
    valid = integer and 0 <= int(np.asarray(action).reshape(-1)[0]) < 5
    if valid:
        assert coerce_action(action, 5) == int(np.asarray(action).reshape(-1)[0])
    else:
        with pytest.raises(ValueError, match="action="):
            coerce_action(action, 5)


#: Numeric keys of the tiny scenario a user would plausibly change.
KEYS = ("workload.jobs_per_hour", "workload.types.0.duration_max_h", "workload.types.0.slack",
        "cpn.nodes.0.gpu_units", "cpn.nodes.0.pue", "reward.carbon_price_usd_per_t", "reward.deadline_penalty_usd",
        "grid.load_scale", "grid.cost_scale", "episode.interval_min", "workload.drop_after_h")
VALUES = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-10**15, 10**15),
                   st.floats(0.0, 5.0), st.integers(0, 50))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(KEYS), VALUES)
def test_a_fuzzed_scenario_runs_with_its_invariants_or_names_the_key(key: str, value: float) -> None:
    try:
        cfg = load_scenario("tiny", **{key: value})
    except ScenarioError as exc:
        assert key.split(".")[-1] in str(exc)
        return
    try:
        env = gym.make("CarbonCPN-Tiny-v0", scenario=cfg, check_invariants=True)
    except (ScenarioError, ValueError) as exc:  # a check across sections, at build time
        assert str(exc)
        return
    obs, info = env.reset(seed=0)
    rng = np.random.default_rng(0)
    done, steps, total = False, 0, 0.0
    while not done and steps < 5000:
        obs, r, done, _, info = env.step(int(rng.choice(np.flatnonzero(info["action_mask"]))))
        total += r
        steps += 1
    assert math.isfinite(total) and np.isfinite(obs).all()


BAD_COUNTS = st.one_of(st.integers(max_value=0).map(str), st.text(max_size=6).filter(lambda s: not s.strip().isdigit()))
BAD_FLOATS = st.one_of(st.sampled_from(["inf", "-inf", "nan", "0", "-1", "x", ""]), st.floats(max_value=0).map(str))


@settings(max_examples=40, deadline=None)
@given(st.sampled_from([("leaderboard", "--seeds"), ("leaderboard", "--jobs"), ("train", "--timesteps"),
                        ("train", "--n-envs"), ("evaluate", "--episodes")]), BAD_COUNTS)
def test_bad_counts_exit_2_without_running(option: tuple[str, str], value: str) -> None:
    cmd, flag = option
    extra = ["--model", "random"] if cmd == "evaluate" else (["--algo", "dqn"] if cmd == "train" else [])
    with pytest.raises(SystemExit) as exc:
        main([cmd, *extra, flag, value])
    assert exc.value.code == 2


@settings(max_examples=30, deadline=None)
@given(st.sampled_from([("leaderboard", "--oracle-time-limit"), ("train", "--lyapunov-v"),
                        ("train", "--carbon-budget"), ("train", "--gamma-per-hour")]), BAD_FLOATS)
def test_bad_numbers_exit_2_without_running(option: tuple[str, str], value: str) -> None:
    cmd, flag = option
    extra = ["--algo", "dqn"] if cmd == "train" else []
    with pytest.raises(SystemExit) as exc:
        main([cmd, *extra, f"{flag}={value}"])
    assert exc.value.code == 2
