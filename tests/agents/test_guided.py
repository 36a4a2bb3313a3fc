"""Heuristic-guided exploration of the DQN family (issue #14, carbon_cpn.agents.guided)."""

from __future__ import annotations

from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv

import carbon_cpn  # noqa: F401
from carbon_cpn.agents.baselines import make_policy
from carbon_cpn.agents.dqn import VanillaDQN
from carbon_cpn.agents.rainbow import Rainbow

ENV = "CarbonCPN-Tiny-v0"


def _pfs_actions(seed: int, n: int) -> list[int]:
    """pfs's actions on the first episode of ``ENV`` reset with ``seed`` (at most ``n``)."""
    env = gym.make(ENV)
    obs, _ = env.reset(seed=seed)
    pol = make_policy("pfs", env)
    out = []
    for _ in range(n):
        a = int(np.asarray(pol.predict(obs)[0]).reshape(-1)[0])
        out.append(a)
        obs, _, term, trunc, _ = env.step(a)
        if term or trunc:
            break
    return out


@pytest.mark.parametrize("cls", [VanillaDQN, Rainbow])
def test_guide_prob_one_explores_exactly_as_the_guide(cls) -> None:
    # Every warm-up action (learning_starts is never reached) is an exploratory one, so with
    # guide_prob 1 the replay buffer holds pfs's own episode, action for action.
    extra = {"v_min": -10.0, "v_max": 10.0, "n_atoms": 11} if cls is Rainbow else {}
    model = cls("MlpPolicy", DummyVecEnv([lambda: gym.make(ENV)]), guide="pfs", guide_prob=1.0,
                learning_starts=10**6, seed=3, policy_kwargs=dict(net_arch=[8]), **extra)
    model.learn(300)
    ref = _pfs_actions(3, 300)
    stored = model.replay_buffer.actions[: len(ref), 0].reshape(-1).astype(int)
    assert len(ref) > 100 and stored.tolist() == ref


def test_guide_prob_zero_never_asks_the_guide(monkeypatch) -> None:
    from carbon_cpn.agents.guided import GuideSet

    def refuse(*_a, **_k):
        raise AssertionError("the guide was asked with guide_prob=0")

    monkeypatch.setattr(GuideSet, "actions", refuse)
    model = VanillaDQN("MlpPolicy", DummyVecEnv([lambda: gym.make(ENV)]), guide="pfs", guide_prob=0.0,
                       learning_starts=50, seed=0, policy_kwargs=dict(net_arch=[8]))
    model.learn(200)
    assert model.num_timesteps == 200


def test_a_guided_model_saves_and_acts_without_its_guide(tmp_path: Path) -> None:
    env = gym.make(ENV)
    model = VanillaDQN("MlpPolicy", DummyVecEnv([lambda: gym.make(ENV)]), guide="pfs", guide_prob=0.5,
                       learning_starts=20, seed=1, policy_kwargs=dict(net_arch=[8]))
    model.learn(100)
    model.save(tmp_path / "m.zip")
    loaded = VanillaDQN.load(tmp_path / "m.zip")
    assert loaded.guide == "pfs" and loaded.guide_prob == 0.5
    obs, _ = env.reset(seed=5)
    a, _ = loaded.predict(obs, deterministic=True, action_masks=env.unwrapped.action_masks())
    assert env.unwrapped.action_masks()[int(a)]


def test_bad_guide_settings_are_named() -> None:
    venv = DummyVecEnv([lambda: gym.make(ENV)])
    with pytest.raises(ValueError, match=r"guide_prob=1.5: expected a probability in \[0, 1\]"):
        VanillaDQN("MlpPolicy", venv, guide="pfs", guide_prob=1.5)
    with pytest.raises(ValueError, match="guide_prob=0.3 without a guide"):
        VanillaDQN("MlpPolicy", venv, guide_prob=0.3)
    with pytest.raises(ValueError, match="guide=3"):
        VanillaDQN("MlpPolicy", venv, guide=3, guide_prob=0.3)


def test_the_guide_needs_envs_in_this_process() -> None:
    venv = SubprocVecEnv([lambda: gym.make(ENV)] * 2, start_method="fork")
    try:
        model = VanillaDQN("MlpPolicy", venv, guide="pfs", guide_prob=1.0, learning_starts=10, seed=0,
                           policy_kwargs=dict(net_arch=[8]))
        with pytest.raises(ValueError, match="SubprocVecEnv; expected envs in this process"):
            model.learn(10)
    finally:
        venv.close()
