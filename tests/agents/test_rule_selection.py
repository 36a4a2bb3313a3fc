"""Rule selection (issue #14, carbon_cpn.agents.rule_selection): an action picks the heuristic
that takes the decision."""

from __future__ import annotations

import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from stable_baselines3.common.env_checker import check_env as sb3_check_env

import carbon_cpn  # noqa: F401
from carbon_cpn.agents.baselines import make_policy
from carbon_cpn.agents.rule_selection import DEFAULT_RULES, RuleSelectionEnv

TINY = "CarbonCPN-Tiny-v0"


def _play(env: gym.Env, seed: int, choose) -> tuple[list[float], dict]:
    obs, info = env.reset(seed=seed)
    rewards, done = [], False
    while not done:
        obs, r, term, trunc, info = env.step(choose(obs, env))
        rewards.append(r)
        done = term or trunc
    return rewards, info["episode_metrics"]


def test_the_registered_id_passes_both_env_checkers() -> None:
    env = gym.make("CarbonCPN-Rules-v0")
    assert env.action_space.n == len(DEFAULT_RULES)
    with warnings.catch_warnings():  # the check is meant for the wrapper: it is the env
        warnings.filterwarnings("ignore", message=".*is different from the unwrapped version")
        check_env(env, skip_render_check=True)
    sb3_check_env(RuleSelectionEnv(gym.make("CarbonCPN-v0")), warn=False)


@pytest.mark.parametrize("k, rule", [(0, "pfs"), (1, "ees")])
def test_always_one_rule_plays_that_rules_episode(k: int, rule: str) -> None:
    # Independently: the rule as a policy on the plain env, the same seed.
    plain = gym.make(TINY)
    pol = make_policy(rule, plain)
    want_r, want = _play(plain, 7, lambda obs, env: int(np.asarray(pol.predict(obs)[0]).reshape(-1)[0]))
    got_r, got = _play(RuleSelectionEnv(gym.make(TINY), ("pfs", "ees")), 7, lambda obs, env: k)
    assert got_r == want_r
    assert got["objective_usd"] == want["objective_usd"] and got["jobs_completed"] == want["jobs_completed"]


def test_same_seed_same_episode_and_the_base_action_is_valid() -> None:
    def run() -> tuple[list[float], list[int]]:
        env = RuleSelectionEnv(gym.make(TINY), ("pfs", "scas", "ees"))
        rng = np.random.default_rng(3)
        obs, info = env.reset(seed=11)
        rewards, bases, done = [], [], False
        while not done:
            mask = env.unwrapped.action_masks()
            assert env.action_masks().all()
            obs, r, term, trunc, info = env.step(int(rng.integers(3)))
            assert mask[info["base_action"]]
            rewards.append(r)
            bases.append(info["base_action"])
            done = term or trunc
        return rewards, bases

    assert run() == run()


def test_bad_rules_and_actions_are_named() -> None:
    with pytest.raises(ValueError, match=r"rules=\['pfs', 'random'\]"):
        RuleSelectionEnv(gym.make(TINY), ("pfs", "random"))
    with pytest.raises(ValueError, match=r"rules=\['nope'\]"):
        RuleSelectionEnv(gym.make(TINY), ("nope",))
    env = RuleSelectionEnv(gym.make(TINY), ("pfs", "ees"))
    with pytest.raises(RuntimeError, match="before reset"):
        env.step(0)
    env.reset(seed=0)
    with pytest.raises(ValueError, match=r"action=2: expected an integer in \[0, 1\]"):
        env.step(2)
    with pytest.raises(ValueError, match=r"action=0.5"):
        env.step(0.5)


def test_proposals_show_each_rules_answer_and_the_chosen_one_is_taken() -> None:
    rules = ("pfs", "ees", "scas")
    env = RuleSelectionEnv(gym.make(TINY), rules, proposals=True)
    n_base = gym.make(TINY).action_space.n
    obs, _ = env.reset(seed=7)
    base_dim = gym.make(TINY).observation_space.shape[0]
    assert obs.shape == env.observation_space.shape == (base_dim + len(rules) * n_base,)
    rng = np.random.default_rng(0)
    for _ in range(200):
        onehot = obs[base_dim:].reshape(len(rules), n_base)
        assert (onehot.sum(axis=1) == 1).all()
        k = int(rng.integers(len(rules)))
        obs, _, term, trunc, info = env.step(k)
        assert info["base_action"] == int(onehot[k].argmax())
        if term or trunc:
            break
    # Always the first rule: pfs's own episode, as without proposals.
    plain = gym.make(TINY)
    pol = make_policy("pfs", plain)
    _, want = _play(plain, 7, lambda o, e: int(np.asarray(pol.predict(o)[0]).reshape(-1)[0]))
    _, got = _play(RuleSelectionEnv(gym.make(TINY), rules, proposals=True), 7, lambda o, e: 0)
    assert got["objective_usd"] == want["objective_usd"]
    sb3_check_env(RuleSelectionEnv(gym.make(TINY), rules, proposals=True), warn=False)
