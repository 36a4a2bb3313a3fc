"""Noise control, save/load round trips and learning of the DQN family (issue #5)."""

from __future__ import annotations

import numpy as np
import pytest
import torch as th
from stable_baselines3.common.env_util import make_vec_env

from carbon_cpn.agents.double_dqn import DoubleDQN
from carbon_cpn.agents.dqn import VanillaDQN
from carbon_cpn.agents.evaluate import model_policy, random_policy, run_episodes
from carbon_cpn.agents.noisy import NoisyLinear, noisy_modules
from carbon_cpn.agents.policies import DuelingDQNPolicy
from carbon_cpn.agents.rainbow import Rainbow
from carbon_cpn.agents.registry import load_algorithm
from dqn_toy_envs import ContextBanditEnv

th.set_num_threads(1)

COMMON = dict(learning_starts=200, target_update_interval=200, batch_size=32, gamma=0.9, learning_rate=1e-3,
              train_freq=1, policy_kwargs=dict(net_arch=[32, 32]), device="cpu")
EPS = dict(exploration_fraction=0.3, exploration_final_eps=0.02)


def make(algo: str, env, seed: int = 0, **kw):
    if algo == "dqn":
        return VanillaDQN("MlpPolicy", env, seed=seed, **COMMON, **EPS, **kw)
    if algo == "double_dqn":
        return DoubleDQN("MlpPolicy", env, seed=seed, **COMMON, **EPS, **kw)
    if algo == "dueling_dqn":
        return DoubleDQN(DuelingDQNPolicy, env, seed=seed, **COMMON, **EPS, **kw)
    if algo == "rainbow":
        return Rainbow("MlpPolicy", env, seed=seed, v_min=-2.0, v_max=12.0, n_atoms=21, **COMMON, **kw)
    raise AssertionError(algo)


ALGOS = ["dqn", "double_dqn", "dueling_dqn", "rainbow"]


def test_noise_active_in_rollouts_absent_when_deterministic():
    model = make("rainbow", ContextBanditEnv())
    assert model.exploration_rate == 0.0 and model.exploration_schedule(1.0) == 0.0
    model.policy.set_training_mode(False)  # as SB3 during rollouts: noise must not depend on it
    obs = th.as_tensor(np.eye(4, dtype=np.float32))
    net = model.q_net
    with th.no_grad():
        model.policy._predict(obs, deterministic=True)
        assert not any(m.noise_enabled for m in noisy_modules(net))
        q_det = [net(obs).clone() for _ in range(3)]
        model.policy._predict(obs, deterministic=False)
        assert all(m.noise_enabled for m in noisy_modules(net))
        q1 = net(obs).clone()
        model.policy._predict(obs, deterministic=False)  # resampled each call
        q2 = net(obs).clone()
    assert all(th.equal(q_det[0], q) for q in q_det)
    assert not th.allclose(q1, q_det[0]) and not th.allclose(q1, q2)
    # Deterministic predictions repeat; stochastic ones differ somewhere over many calls.
    x = np.eye(4, dtype=np.float32)
    a_det = {tuple(model.predict(x, deterministic=True)[0]) for _ in range(5)}
    assert len(a_det) == 1
    # ...and the mean network (noise off) gives the same Q as mu-only weights.
    lin: NoisyLinear = noisy_modules(net)[0]
    lin.noise_enabled = False
    z = th.randn(2, lin.in_features)
    assert th.allclose(lin(z), z @ lin.weight_mu.T + lin.bias_mu)


def test_noise_seeded_from_the_run_seed():
    a, b = make("rainbow", ContextBanditEnv(), seed=3), make("rainbow", ContextBanditEnv(), seed=3)
    a.policy.reset_noise()
    b.policy.reset_noise()
    assert all(th.equal(x.eps_in, y.eps_in) for x, y in zip(noisy_modules(a.q_net), noisy_modules(b.q_net)))


@pytest.mark.parametrize("algo", ALGOS)
def test_save_load_round_trip(algo, tmp_path):
    model = make(algo, ContextBanditEnv())
    model.learn(400)
    path = tmp_path / f"{algo}.zip"
    model.save(path)
    model.save_replay_buffer(tmp_path / "buf.pkl")
    loaded = load_algorithm(path, device="cpu")
    assert type(loaded) is type(model) and type(loaded.policy) is type(model.policy)
    obs = th.as_tensor(np.eye(4, dtype=np.float32))
    if algo == "rainbow":  # compare the mean networks (noise off, online and target)
        model.policy.set_noise(False)
        loaded.policy.set_noise(False)
    with th.no_grad():
        assert th.allclose(model.q_net(obs), loaded.q_net(obs))
        assert th.allclose(model.q_net_target(obs), loaded.q_net_target(obs))
    assert loaded.num_timesteps == model.num_timesteps
    if algo == "rainbow":
        assert (loaded.v_min, loaded.v_max, loaded.n_step, loaded.noisy) == (-2.0, 12.0, 3, True)
        loaded.set_env(make_vec_env(ContextBanditEnv, 1, seed=1))
        loaded.load_replay_buffer(tmp_path / "buf.pkl")
        assert loaded.replay_buffer.size() == model.replay_buffer.size()
        assert np.array_equal(loaded.replay_buffer.sum_tree.tree, model.replay_buffer.sum_tree.tree)
        loaded.learn(50, reset_num_timesteps=False)  # trains on after loading


@pytest.mark.parametrize("algo", ALGOS)
def test_learns_the_context_bandit_better_than_random(algo):
    """Optimal return 10, uniform random 2.5; each algorithm must clearly beat random."""
    env = make_vec_env(lambda: ContextBanditEnv(horizon=10), n_envs=2, seed=0)
    model = make(algo, env)
    model.learn(2500)
    eval_env = ContextBanditEnv(horizon=10)
    trained = np.mean([r["episode_return"] for r in run_episodes(model_policy(model), eval_env, 10, seed=100)])
    rand = np.mean([r["episode_return"] for r in run_episodes(random_policy(0), eval_env, 10, seed=100)])
    assert rand < 4.0
    assert trained >= rand + 4.0, (algo, trained, rand)


def test_rainbow_ablation_flags_and_estimated_support():
    env = ContextBanditEnv(horizon=10, truncate=True)
    import gymnasium as gym

    gym.register("DQNTestBandit-v0", entry_point=ContextBanditEnv)
    m = Rainbow("MlpPolicy", make_vec_env("DQNTestBandit-v0", 1, seed=0), seed=0, learning_starts=50, n_atoms=11,
                gamma=0.9, double=False, dueling=False, prioritized=False, noisy=False, n_step=1, device="cpu")
    assert m.v_min <= 0.0 < m.v_max  # estimated from random returns-to-go of the env copy
    assert m.replay_buffer.alpha == 0.0 and m.exploration_schedule(1.0) == 1.0
    assert not noisy_modules(m.q_net) and m.q_net.value is None
    m.learn(150)
    m2 = Rainbow("MlpPolicy", env, seed=0, distributional=False, learning_starts=50, device="cpu", v_min=0.0, v_max=1.0)
    assert m2.q_net.n_atoms == 1
    m2.learn(150)
    with pytest.raises(ValueError, match="n_step=0"):
        Rainbow("MlpPolicy", env, n_step=0)
    with pytest.raises(ValueError, match="v_min"):
        Rainbow("MlpPolicy", env, v_min=1.0, v_max=None)
