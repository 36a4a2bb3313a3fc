"""Learning from a baseline's demonstrations, DQfD style (issue #14, carbon_cpn.agents.demonstrations)."""

from __future__ import annotations

from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
import torch as th
from stable_baselines3.common.vec_env import DummyVecEnv

import carbon_cpn  # noqa: F401
from carbon_cpn.agents.baselines import make_policy
from carbon_cpn.agents.demonstrations import margin_loss
from carbon_cpn.agents.double_dqn import DoubleDQN
from carbon_cpn.agents.dqn import VanillaDQN

ENV = "CarbonCPN-Tiny-v0"


def test_margin_loss_by_hand() -> None:
    q = th.tensor([[1.0, 2.0, 0.5], [3.0, 0.0, 2.9]])
    a = th.tensor([[0], [0]])
    # row 0: max(1 + 0, 2 + 1, 0.5 + 1) - 1 = 2; row 1: max(3, 0 + 1, 2.9 + 1) - 3 = 0.9
    assert margin_loss(q, a, None, 1.0).item() == pytest.approx((2.0 + 0.9) / 2)
    # masking action 1 out of row 0 and action 2 out of row 1: max(1, 1.5) - 1 = 0.5; max(3, 1) - 3 = 0
    masks = th.tensor([[True, False, True], [True, True, False]])
    assert margin_loss(q, a, masks, 1.0).item() == pytest.approx(0.25)
    # a demonstrated action that leads by more than the margin costs nothing
    assert margin_loss(th.tensor([[5.0, 1.0]]), th.tensor([[0]]), None, 2.0).item() == 0.0


def _pfs_episode(seed: int) -> dict[str, np.ndarray]:
    """pfs's first episode of ``ENV`` reset with ``seed``: actions, rewards, masks, elapsed hours."""
    env = gym.make(ENV)
    obs, _ = env.reset(seed=seed)
    pol = make_policy("pfs", env)
    rec: dict[str, list] = {"action": [], "reward": [], "mask": [], "elapsed": [], "obs": []}
    while True:
        a = int(np.asarray(pol.predict(obs)[0]).reshape(-1)[0])
        rec["mask"].append(env.unwrapped.action_masks().copy())
        rec["obs"].append(obs)
        obs, r, term, trunc, info = env.step(a)
        rec["action"].append(a)
        rec["reward"].append(r)
        rec["elapsed"].append(info["elapsed_h"])
        if term or trunc:
            return {k: np.asarray(v) for k, v in rec.items()}


def test_the_demonstrations_are_the_baselines_own_episode() -> None:
    model = DoubleDQN("MlpPolicy", DummyVecEnv([lambda: gym.make(ENV)]), demo="pfs", demo_episodes=1,
                      demo_pretrain_steps=0, gamma_per_hour=0.9, learning_starts=10**6, seed=3,
                      policy_kwargs=dict(net_arch=[8]))
    model.learn(48)  # a multiple of train_freq (4): SB3 collects whole rollouts
    demos = model._demo_buffer.arrays()
    ref = _pfs_episode(3)
    n = len(ref["action"])
    assert n > 100 and len(model._demo_buffer) == n and model._demo_buffer.episodes == 1
    assert demos["action"].tolist() == ref["action"].tolist()
    np.testing.assert_allclose(demos["reward"], ref["reward"], rtol=1e-6)
    np.testing.assert_allclose(demos["obs"], ref["obs"], rtol=1e-6)
    assert np.array_equal(demos["mask"], ref["mask"])
    assert np.array_equal(demos["next_mask"][:-1], ref["mask"][1:])  # next state's mask within the episode
    np.testing.assert_allclose(demos["discount"], 0.9 ** ref["elapsed"], rtol=1e-6)
    assert demos["done"][:-1].sum() == 0 and demos["done"][-1] == 1.0
    # the demonstration steps are extra interaction: the step count is the requested one
    assert model.num_timesteps == 48


def _agreement_and_margin(pretrain_steps: int) -> tuple[float, float]:
    """Share of demonstration states where the greedy action is pfs's, and the margin loss there,
    after ``pretrain_steps`` of pre-training (the same demonstrations for every count: same seed)."""
    model = VanillaDQN("MlpPolicy", DummyVecEnv([lambda: gym.make(ENV)]), demo="pfs", demo_episodes=2,
                       demo_pretrain_steps=pretrain_steps, demo_margin=1.0, learning_starts=10**6, seed=0,
                       learning_rate=1e-3, policy_kwargs=dict(net_arch=[64, 64]))
    model.learn(4)
    d = model._demo_buffer.arrays()
    greedy, _ = model.predict(d["obs"], deterministic=True, action_masks=d["mask"])
    with th.no_grad():
        q = model.q_net(th.as_tensor(d["obs"]))
    loss = margin_loss(q, th.as_tensor(d["action"]).reshape(-1, 1), th.as_tensor(d["mask"]), 1.0).item()
    return float(np.mean(greedy == d["action"])), loss


def test_pretraining_makes_the_greedy_policy_the_demonstrators() -> None:
    before, loss_before = _agreement_and_margin(0)
    after, loss_after = _agreement_and_margin(1500)
    assert before < 0.6 and loss_before > 0.9  # an untrained net: the demonstrated action rarely leads
    assert after >= 0.9 and loss_after < 0.25 * loss_before


def test_demo_settings_save_and_the_buffer_does_not(tmp_path: Path) -> None:
    model = VanillaDQN("MlpPolicy", DummyVecEnv([lambda: gym.make(ENV)]), demo="pfs", demo_episodes=1,
                       demo_pretrain_steps=20, demo_batch_size=8, learning_starts=30, seed=1,
                       policy_kwargs=dict(net_arch=[8]))
    model.learn(80)  # past learning_starts: demonstration rows join the sampled batches
    model.save(tmp_path / "m.zip")
    loaded = VanillaDQN.load(tmp_path / "m.zip")
    assert (loaded.demo, loaded.demo_episodes, loaded.demo_batch_size) == ("pfs", 1, 8)
    assert getattr(loaded, "_demo_buffer", None) is None
    env = gym.make(ENV)
    obs, _ = env.reset(seed=5)
    a, _ = loaded.predict(obs, deterministic=True, action_masks=env.unwrapped.action_masks())
    assert env.unwrapped.action_masks()[int(a)]


@pytest.mark.parametrize(("key", "value", "message"), [
    ("demo", 3, r"demo=3: expected None or the name of a baseline"),
    ("demo_episodes", 0, r"demo_episodes=0: expected an integer >= 1"),
    ("demo_pretrain_steps", -1, r"demo_pretrain_steps=-1: expected an integer >= 0"),
    ("demo_margin", float("nan"), r"demo_margin=nan: expected a finite number >= 0"),
    ("demo_weight", -0.5, r"demo_weight=-0.5: expected a finite number >= 0"),
])
def test_bad_demo_settings_are_named(key: str, value, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        VanillaDQN("MlpPolicy", DummyVecEnv([lambda: gym.make(ENV)]), **{"demo": "pfs", key: value})


def test_an_unknown_demonstrator_is_named() -> None:
    model = VanillaDQN("MlpPolicy", DummyVecEnv([lambda: gym.make(ENV)]), demo="nope", learning_starts=10, seed=0,
                       policy_kwargs=dict(net_arch=[8]))
    with pytest.raises(KeyError, match="name=.nope.: expected one of"):
        model.learn(10)


def test_train_cli_learns_from_demonstrations_and_resumes(tmp_path, capsys) -> None:
    import json

    import yaml

    from carbon_cpn.cli import build_parser

    hp = {ENV: {"policy": "MlpPolicy", "learning_starts": 50, "batch_size": 16, "buffer_size": 5000, "train_freq": 4,
                "target_update_interval": 100, "policy_kwargs": {"net_arch": [16]}, "eval_freq": 0,
                "checkpoint_freq": 100, "demo_episodes": 1, "demo_pretrain_steps": 30}}
    f = tmp_path / "hp.yml"
    f.write_text(yaml.safe_dump(hp))
    out = tmp_path / "run"
    args = build_parser().parse_args(["train", "--algo", "dqn", "--env", ENV, "--timesteps", "120", "--hyperparams",
                                      str(f), "--out", str(out), "--demo", "pfs", "--no-progress"])
    assert args.func(args) == 0
    assert json.loads((out / "run.json").read_text())["hyperparams"]["demo"] == "pfs"
    # a resumed run (its demonstrations are not in the checkpoint: they are collected again) ends at the requested steps
    args = build_parser().parse_args(["train", "--algo", "dqn", "--env", ENV, "--timesteps", "200", "--hyperparams",
                                      str(f), "--out", str(out), "--demo", "pfs", "--resume", "--no-progress"])
    assert args.func(args) == 0
    assert "done: 200 steps" in capsys.readouterr().out
    args = build_parser().parse_args(["train", "--algo", "rainbow", "--env", ENV, "--timesteps", "10", "--out",
                                      str(tmp_path / "r"), "--demo", "pfs", "--no-progress"])
    assert args.func(args) == 2
    assert "demo='pfs': algo='rainbow' does not learn from demonstrations" in capsys.readouterr().err


def test_demonstrations_in_two_envs_count_episodes_over_both() -> None:
    venv = DummyVecEnv([lambda: gym.make(ENV)] * 2)
    model = DoubleDQN("MlpPolicy", venv, demo="pfs", demo_episodes=2, demo_pretrain_steps=5, learning_starts=10**6,
                      seed=4, policy_kwargs=dict(net_arch=[8]))
    model.learn(8)
    buf = model._demo_buffer
    d = buf.arrays()
    # collection stops once the two envs have finished two episodes between them; every stored
    # action was valid in its state
    assert buf.episodes >= 2 and d["done"].sum() == buf.episodes
    assert d["mask"][np.arange(len(buf)), d["action"]].all()
    # rows alternate env 0, env 1; env 0's first episode is pfs's own on the seed
    first_env0 = _pfs_episode(4)["action"]
    assert d["action"][0::2][: len(first_env0)].tolist() == first_env0.tolist()
