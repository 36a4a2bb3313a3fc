"""Issue #13: the oracle's rehearsal of a heuristic on a copy of the episode, its warm start,
and the replay's plan ledger."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import carbon_cpn  # noqa: F401
from carbon_cpn.agents.baselines import make_policy
from carbon_cpn.agents.oracle_policy import PlanLedger, oracle_problem
from carbon_cpn.agents.rehearsal import rehearse_schedule
from carbon_cpn.optim.oracle import Placement, solve_oracle

ENV_ID = "CarbonCPN-Tiny-v0"


def _run(env: gym.Env, act, seed: int = 7) -> dict[str, float]:
    obs, _ = env.reset(seed=seed)
    done = False
    while not done:
        obs, _, term, trunc, info = env.step(act(env))
        done = term or trunc
    return info["episode_metrics"]


def _player(schedule: dict[int, Placement]):
    """Actions that start every scheduled sub-task where and when the schedule says, else defer."""
    def play(e: gym.Env) -> int:
        u = e.unwrapped
        p = schedule.get(int(u.head_task))
        return u.n_actions - 1 if p is None or p.start != u.t else 2 * p.node + p.resource
    return play


def test_rehearsed_schedule_replays_to_the_same_episode() -> None:
    """Playing the recorded schedule back as fixed actions in the original env gives exactly the
    episode the heuristic produces there itself."""
    env = gym.make(ENV_ID, reward__carbon_price_usd_per_t=80.0)
    env.reset(seed=7)
    schedule = rehearse_schedule(env, lambda e: make_policy("ees", e, 0))
    assert schedule and all(isinstance(p, Placement) for p in schedule.values())

    ees = make_policy("ees", env, 0)
    direct = _run(env, lambda e: int(ees.predict(None)[0]))
    played = _run(env, _player(schedule))
    assert played["objective_usd"] == pytest.approx(direct["objective_usd"], rel=1e-12)
    assert played["jobs_completed"] == direct["jobs_completed"]


def _play_to_end(env: gym.Env, act) -> dict[str, float]:
    done = False
    while not done:
        _, _, term, trunc, info = env.step(act(env))
        done = term or trunc
    return info["episode_metrics"]


def test_rehearsal_of_an_unseeded_episode_inside_a_wrapper() -> None:
    """A training env: Monitor-wrapped, its second episode reset without a seed. The rehearsal
    faces that episode (not the seeded first one) and its schedule plays it back exactly."""
    from stable_baselines3.common.monitor import Monitor

    env = Monitor(gym.make(ENV_ID))
    env.reset(seed=3)
    first_day, first_arrivals = env.unwrapped.day, env.unwrapped.foresight().first_task
    env.reset()  # the second episode of the seed's stream
    assert (env.unwrapped.day, env.unwrapped.foresight().first_task.tolist()) != (first_day, first_arrivals.tolist())
    replay = env.unwrapped.episode_replay()
    schedule = rehearse_schedule(env, lambda e: make_policy("ees", e, 0))
    ees = make_policy("ees", env, 0)
    direct = _play_to_end(env, lambda e: int(ees.predict(None)[0]))

    again = gym.make(ENV_ID)
    again.reset(options={"replay": replay})
    played = _play_to_end(again, _player(schedule))
    assert played["objective_usd"] == pytest.approx(direct["objective_usd"], rel=1e-12)
    assert played["jobs_completed"] == direct["jobs_completed"] > 0


def test_a_bad_replay_option_is_named() -> None:
    env = gym.make(ENV_ID)
    with pytest.raises(ValueError, match=r"options\['replay'\]=3: expected the EpisodeReplay"):
        env.reset(options={"replay": 3})
    with pytest.raises(RuntimeError, match="before reset"):
        gym.make(ENV_ID).unwrapped.episode_replay()


def test_warm_started_plan_is_no_worse_than_the_heuristic() -> None:
    """The restricted MILP started from pfs's schedule: in the relaxation the plan costs at most
    what pfs's schedule costs there, which is at most what pfs costs in the env."""
    env = gym.make(ENV_ID)
    env.reset(seed=1003)
    schedule = rehearse_schedule(env, lambda e: make_policy("pfs", e, 0))
    problem = oracle_problem(env)
    pfs = make_policy("pfs", env, 0)
    pfs_objective = float(_run(env, lambda e: int(pfs.predict(None)[0]), 1003)["objective_usd"])
    env.reset(seed=1003)
    res = solve_oracle(problem, time_limit_s=60.0, full_milp_max_binaries=0, incumbent=schedule)
    assert res.status == "restricted_milp"
    assert res.best_bound_usd <= res.objective_usd <= pfs_objective + 1e-6 * abs(pfs_objective)


def test_plan_ledger_books_reservations_and_placements() -> None:
    env = gym.make(ENV_ID)
    env.reset(seed=5)
    problem = oracle_problem(env)
    u = env.unwrapped
    view = u.scheduler_view()
    h = view.head
    assert h is not None
    cap = problem.dc_capacity
    dt = problem.interval_h
    steps = np.ceil(h.run_time_h / dt - 1e-9).astype(int)
    # Another (fictitious) planned task fills node 0's CPUs from the next interval on: the head
    # may not run there if it would still run then; its own reservation never blocks it.
    other = problem.task_job.size - 1
    assert other != h.task
    plan = {h.task: Placement(node=0, resource=0, start=view.interval)}
    ledger = PlanLedger(problem, plan)
    ledger.occupy(0, 0, view.interval + 1, dt, int(cap[0, 0]))
    clear = ledger.clear(view, h.task)
    assert clear[0, 0] == (steps[0, 0] <= 1)
    assert clear[1, 1] == (h.units <= cap[1, 1])
    # Dropping the head's reservation does not free what was occupied.
    ledger.release(h.task)
    assert ledger.reserved.sum() == 0 and ledger.busy[view.interval + 1, 0, 0] == cap[0, 0]
