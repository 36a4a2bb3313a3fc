"""Training loop, TensorBoard, checkpoints, resume, stop signals and the CLI (issue #5)."""

from __future__ import annotations

import json
import os
import signal

import pytest
import yaml

from carbon_cpn.agents.callbacks import StopFlag
from carbon_cpn.agents.hyperparams import load_hyperparams
from carbon_cpn.agents.train import _install_stop_handlers, train
from carbon_cpn.cli import build_parser

ENV = "CarbonCPN-Tiny-v0"


def _hp_file(tmp_path, algo_extra=None):
    hp = {ENV: {"policy": "MlpPolicy", "learning_starts": 100, "batch_size": 16, "buffer_size": 5000,
                "train_freq": 4, "target_update_interval": 200, "policy_kwargs": "dict(net_arch=[32, 32], activation_fn=nn.Tanh)",
                "eval_freq": 300, "eval_episodes": 1, "checkpoint_freq": 250, **(algo_extra or {})}}
    f = tmp_path / "hp.yml"
    f.write_text(yaml.safe_dump(hp))
    return f


def test_train_checkpoint_resume_and_evaluate(tmp_path, capsys):
    out = tmp_path / "run"
    hp = _hp_file(tmp_path)
    res = train("double_dqn", ENV, timesteps=500, seed=1, n_envs=1, hyperparams_file=hp, out_dir=out, progress_bar=False)
    assert not res.interrupted and res.num_timesteps >= 500
    state = json.loads((out / "checkpoint" / "state.json").read_text())
    assert state["num_timesteps"] == res.num_timesteps
    assert (out / "checkpoint" / "replay_buffer.pkl").is_file() and (out / "final_model.zip").is_file()
    assert (out / "evaluations.jsonl").is_file() and (out / "best_model.zip").is_file()
    # Resume: the step count continues (reset_num_timesteps=False), same TensorBoard run.
    res2 = train("double_dqn", ENV, timesteps=900, seed=1, hyperparams_file=hp, out_dir=out, resume=True, progress_bar=False)
    assert res.num_timesteps < res2.num_timesteps and 900 <= res2.num_timesteps <= 904
    assert json.loads((out / "checkpoint" / "state.json").read_text())["num_timesteps"] == res2.num_timesteps
    assert [p.name for p in (out / "tb").iterdir()] == ["double_dqn_1"]

    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    tags = set()
    for f in (out / "tb" / "double_dqn_1").iterdir():
        ea = EventAccumulator(str(f))
        ea.Reload()
        tags |= set(ea.Tags()["scalars"])
    # (no training episode of Tiny ends within 900 steps here: episode/* is tested below)
    assert {"train/mean_q", "train/loss", "eval/episode_return", "eval/total_cost_usd", "eval/job_success_rate"} <= tags

    # CLI evaluate on the final model, JSON output.
    args = build_parser().parse_args(["evaluate", "--model", str(out / "final_model.zip"), "--env", ENV,
                                 "--episodes", "1", "--seed", "5", "--json"])
    assert args.func(args) == 0
    result = json.loads(capsys.readouterr().out)
    assert {"total_cost_usd", "emissions_tco2", "job_success_rate", "episode_return"} <= set(result)
    assert set(result["emissions_tco2"]) == {"mean", "std"}


def test_rainbow_cli_train_with_lyapunov(tmp_path, capsys):
    hp = _hp_file(tmp_path, {"policy": "RainbowPolicy", "v_min": -100.0, "v_max": 300.0, "n_atoms": 11, "eval_freq": 0})
    out = tmp_path / "rb"
    args = build_parser().parse_args(["train", "--algo", "rainbow", "--env", ENV, "--timesteps", "300", "--seed", "2",
                                 "--n-envs", "2", "--hyperparams", str(hp), "--out", str(out), "--no-progress",
                                 "--lyapunov-v", "0.5", "--carbon-budget", "100"])
    assert args.func(args) == 0
    cfg = json.loads((out / "run.json").read_text())
    assert cfg["lyapunov_v"] == 0.5 and cfg["result"]["num_timesteps"] >= 300
    from carbon_cpn.agents.registry import load_algorithm

    model = load_algorithm(out / "final_model.zip")
    assert model.observation_space.shape == (36,)  # Tiny's 35 + the carbon queue


def test_stop_signal_sets_flag_and_handlers_restored():
    flag = StopFlag()
    before = signal.getsignal(signal.SIGTERM)
    previous = _install_stop_handlers(flag)
    try:
        os.kill(os.getpid(), signal.SIGTERM)
        assert flag.requested and flag.signal_name == "SIGTERM"
    finally:
        for sig, h in previous.items():
            signal.signal(sig, h)
    assert signal.getsignal(signal.SIGTERM) == before


def test_bad_inputs_named(tmp_path, capsys):
    with pytest.raises(ValueError, match="algo='ppo'"):
        train("ppo", ENV, timesteps=10, out_dir=tmp_path)
    with pytest.raises(ValueError, match="env_id='Nope-v0'"):
        load_hyperparams("dqn", "Nope-v0")
    bad = tmp_path / "bad.yml"
    bad.write_text(yaml.safe_dump({ENV: {"learning_rat": 1e-3}}))
    with pytest.raises(ValueError, match="learning_rat"):
        load_hyperparams("dqn", ENV, bad)
    with pytest.raises(ValueError, match="carbon_budget"):
        train("dqn", ENV, timesteps=10, out_dir=tmp_path, lyapunov_v=1.0)
    with pytest.raises(FileNotFoundError, match="resume"):
        train("dqn", ENV, timesteps=10, out_dir=tmp_path / "empty", resume=True)
    args = build_parser().parse_args(["evaluate", "--model", str(tmp_path / "missing.zip"), "--env", ENV])
    assert args.func(args) == 2
    assert "missing.zip" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        build_parser().parse_args(["train", "--algo", "a2c"])


def test_episode_metrics_reach_tensorboard(tmp_path):
    import gymnasium as gym
    from stable_baselines3.common.env_util import make_vec_env
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    from carbon_cpn.agents.callbacks import EpisodeMetricsCallback
    from carbon_cpn.agents.dqn import VanillaDQN
    from dqn_toy_envs import ContextBanditEnv

    class WithMetrics(gym.Wrapper):
        def step(self, action):
            obs, r, term, trunc, info = self.env.step(action)
            if term or trunc:
                info["episode_metrics"] = {"emissions_tco2": 1.5, "job_success_rate": 0.5}
            return obs, r, term, trunc, info

    env = make_vec_env(lambda: WithMetrics(ContextBanditEnv(horizon=5)), 2, seed=0)
    model = VanillaDQN("MlpPolicy", env, learning_starts=20, seed=0, tensorboard_log=str(tmp_path), device="cpu")
    model.learn(100, callback=EpisodeMetricsCallback(), log_interval=1, tb_log_name="m")
    ea = EventAccumulator(str(next((tmp_path / "m_1").iterdir())))
    ea.Reload()
    assert [e.value for e in ea.Scalars("episode/emissions_tco2")][-1] == pytest.approx(1.5)
    assert "episode/job_success_rate" in ea.Tags()["scalars"]


def test_sigterm_mid_training_checkpoints_and_resume_finishes(tmp_path, monkeypatch):
    """A real SIGTERM during learn(): training stops at a step boundary, the checkpoint holds
    that step count, and --resume finishes the run with the same total."""
    import carbon_cpn.agents.train as train_mod

    class SignalAt300(train_mod.StopOnFlagCallback):
        def _on_step(self) -> bool:
            if self.num_timesteps == 300:
                os.kill(os.getpid(), signal.SIGTERM)  # handled by train()'s handler -> flag
            return super()._on_step()

    monkeypatch.setattr(train_mod, "StopOnFlagCallback", SignalAt300)
    hp = _hp_file(tmp_path, {"eval_freq": 0, "checkpoint_freq": 10_000})
    out = tmp_path / "sig"
    res = train("dqn", ENV, timesteps=800, seed=3, hyperparams_file=hp, out_dir=out, progress_bar=False)
    assert res.interrupted and res.num_timesteps == 300
    assert json.loads((out / "checkpoint" / "state.json").read_text())["num_timesteps"] == 300
    assert not (out / "final_model.zip").exists()
    monkeypatch.undo()
    res2 = train("dqn", ENV, timesteps=800, seed=3, hyperparams_file=hp, out_dir=out, resume=True, progress_bar=False)
    assert not res2.interrupted and res2.num_timesteps == 800 and (out / "final_model.zip").is_file()


def test_long_term_carbon_queue_through_train_and_evaluate(tmp_path, capsys):
    hp = _hp_file(tmp_path, {"policy": "MlpPolicy", "learning_starts": 50, "eval_freq": 0, "checkpoint_freq": 0,
                             "policy_kwargs": {"net_arch": [16]}})
    out = tmp_path / "lt"
    args = build_parser().parse_args(["train", "--algo", "dqn", "--env", ENV, "--timesteps", "200", "--seed", "1",
                                      "--hyperparams", str(hp), "--out", str(out), "--no-progress",
                                      "--lyapunov-v", "0.5", "--carbon-budget", "0.01", "--carbon-queue", "long_term"])
    assert args.func(args) == 0
    assert json.loads((out / "run.json").read_text())["carbon_queue"] == "long_term"
    model = out / "final_model.zip"
    from carbon_cpn.agents.evaluate import evaluate

    # evaluate reads the run's queue: two days behind one queue
    own = evaluate(model, ENV, episodes=2, seed=7)
    same = evaluate(model, ENV, episodes=2, seed=7, lyapunov_v=0.5, carbon_budget=0.01, carbon_queue="long_term")
    fresh = evaluate(model, ENV, episodes=2, seed=7, lyapunov_v=0.5, carbon_budget=0.01, carbon_queue="episode")
    assert own["episode_return"]["mean"] == pytest.approx(same["episode_return"]["mean"], rel=1e-12)
    # with a budget far below a day's emissions, day 2 pays for day 1's queue as well
    assert own["episode_return"]["mean"] < fresh["episode_return"]["mean"]
    # a long-term queue needs a queue
    args = build_parser().parse_args(["evaluate", "--model", "random", "--env", ENV, "--carbon-queue", "long_term"])
    assert args.func(args) == 2
    assert "carbon_queue='long_term'" in capsys.readouterr().err
    with pytest.raises(ValueError, match="carbon_queue='weekly'"):
        train("dqn", ENV, timesteps=10, out_dir=tmp_path / "bad", lyapunov_v=1.0, carbon_budget=1.0,
              carbon_queue="weekly")
