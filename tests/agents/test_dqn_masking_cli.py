"""Masks on the real env, through wrappers and VecEnvs; MaskablePPO and --no-masking through the
CLI; invalid_actions in evaluate --json (issue #14)."""

from __future__ import annotations

import json

import gymnasium as gym
import numpy as np
import pytest
import torch as th
import yaml
from sb3_contrib import MaskablePPO
from stable_baselines3.common.env_util import make_vec_env

from carbon_cpn.agents.dqn import VanillaDQN
from carbon_cpn.agents.evaluate import make_env, model_policy, run_episodes
from carbon_cpn.agents.hyperparams import load_hyperparams
from carbon_cpn.agents.maskable_ppo import MaskablePPOAgent
from carbon_cpn.agents.rainbow import Rainbow
from carbon_cpn.agents.registry import load_algorithm, saved_class
from carbon_cpn.agents.train import train
from carbon_cpn.cli import build_parser
from dqn_toy_envs import InvalidActionCounter, MaskedCountingEnv, counting_mask

th.set_num_threads(1)
ENV = "CarbonCPN-Tiny-v0"


def _agent(algo: str, env, use_masking: bool = True):
    kw = dict(learning_starts=150, batch_size=16, buffer_size=2000, train_freq=4, target_update_interval=200,
              policy_kwargs=dict(net_arch=[32, 32]), device="cpu", seed=0, use_masking=use_masking)
    if algo == "dqn":
        return VanillaDQN("MlpPolicy", env, exploration_fraction=0.5, **kw)
    return Rainbow("MlpPolicy", env, v_min=-100.0, v_max=300.0, n_atoms=11, **kw)


def _counts(venv) -> np.ndarray:
    """Per attribute (invalid actions, restricted steps, steps) the sum over the envs."""
    return np.array([sum(venv.get_attr(k)) for k in ("invalid_taken", "restricted_steps", "steps_taken")])


@pytest.mark.parametrize("algo", ["dqn", "rainbow"])
def test_masked_agent_takes_no_masked_action_on_tiny(algo):
    """Two Tiny envs (rainbow's behind the Lyapunov wrapper): warm-up, epsilon-greedy / noisy
    rollouts and a full greedy evaluation episode take no action the env masks (while the masks
    do forbid actions); the same agent without masks takes some."""
    lyap = (0.5, 100.0) if algo == "rainbow" else (None, None)
    venv = make_vec_env(lambda: InvalidActionCounter(make_env(ENV, *lyap)), n_envs=2, seed=0)
    model = _agent(algo, venv)
    model.learn(600)
    invalid, restricted, steps = _counts(venv)
    assert steps >= 600 and restricted > 20 and invalid == 0
    rows = run_episodes(model_policy(model), venv.envs[0], 1, seed=7)  # one full episode, greedy
    assert rows[0]["invalid_actions"] == 0.0 and rows[0]["episode_length"] > 100
    invalid, restricted_after, _ = _counts(venv)
    assert invalid == 0 and restricted_after > restricted
    _agent(algo, venv, use_masking=False).learn(600)
    assert _counts(venv)[0] > 0


def test_maskable_ppo_trains_saves_and_evaluates_through_the_cli(tmp_path, capsys):
    hp = tmp_path / "ppo.yml"
    hp.write_text(yaml.safe_dump({ENV: {"policy": "MlpPolicy", "n_envs": 2, "n_steps": 64, "batch_size": 32,
                                        "n_epochs": 2, "policy_kwargs": {"net_arch": [32, 32]}, "ent_coef": "1e-2",
                                        "eval_freq": 128, "eval_episodes": 1, "checkpoint_freq": 0}}))
    out = tmp_path / "ppo"
    args = build_parser().parse_args(["train", "--algo", "maskable_ppo", "--env", ENV, "--timesteps", "128", "--seed", "0",
                                 "--hyperparams", str(hp), "--out", str(out), "--no-progress"])
    assert args.func(args) == 0
    assert json.loads((out / "run.json").read_text())["use_masking"] is True
    assert saved_class(out / "final_model.zip") is MaskablePPOAgent
    assert isinstance(load_algorithm(out / "final_model.zip", device="cpu"), MaskablePPO)
    evals = [json.loads(line) for line in (out / "evaluations.jsonl").read_text().splitlines()]
    assert evals and evals[-1]["invalid_actions"]["mean"] == 0.0
    capsys.readouterr()
    args = build_parser().parse_args(["evaluate", "--model", str(out / "final_model.zip"), "--env", ENV,
                                 "--episodes", "1", "--seed", "3", "--json"])
    assert args.func(args) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["invalid_actions"] == {"mean": 0.0, "std": 0.0} and "episode_return" in result
    # MaskablePPO is the masked reference: no unmasked variant.
    args = build_parser().parse_args(["train", "--algo", "maskable_ppo", "--env", ENV, "--timesteps", "64",
                                 "--hyperparams", str(hp), "--out", str(tmp_path / "x"), "--no-masking", "--no-progress"])
    assert args.func(args) == 2
    assert "use_masking=False: algo='maskable_ppo' always masks" in capsys.readouterr().err
    # The shipped file has both envs.
    assert load_hyperparams("maskable_ppo", "CarbonCPN-v0")["n_envs"] >= 1


def test_plain_sb3_contrib_maskable_ppo_zip_is_recognised(tmp_path):
    MaskablePPO("MlpPolicy", MaskedCountingEnv(), n_steps=16, batch_size=16, device="cpu").save(tmp_path / "p.zip")
    assert saved_class(tmp_path / "p.zip") is MaskablePPO


def test_no_masking_flag_recorded_evaluated_and_checked_on_resume(tmp_path, capsys):
    hp = tmp_path / "dqn.yml"
    hp.write_text(yaml.safe_dump({ENV: {"policy": "MlpPolicy", "learning_starts": 50, "batch_size": 16,
                                        "buffer_size": 2000, "policy_kwargs": {"net_arch": [16]},
                                        "eval_freq": 0, "checkpoint_freq": 0}}))
    out = tmp_path / "dqn"
    args = build_parser().parse_args(["train", "--algo", "dqn", "--env", ENV, "--timesteps", "100", "--hyperparams", str(hp),
                                 "--out", str(out), "--no-masking", "--no-progress"])
    assert args.func(args) == 0
    assert json.loads((out / "run.json").read_text())["use_masking"] is False
    assert load_algorithm(out / "final_model.zip", device="cpu").use_masking is False
    capsys.readouterr()
    args = build_parser().parse_args(["evaluate", "--model", str(out / "final_model.zip"), "--env", ENV,
                                 "--episodes", "1", "--json"])
    assert args.func(args) == 0
    result = json.loads(capsys.readouterr().out)
    assert set(result["invalid_actions"]) == {"mean", "std"} and result["invalid_actions"]["mean"] >= 0
    with pytest.raises(ValueError, match="use_masking=True differs from the checkpoint's False"):
        train("dqn", ENV, timesteps=200, hyperparams_file=hp, out_dir=out, resume=True, progress_bar=False)
    # use_masking is also a hyperparameter-file key of every DQN-family algorithm.
    hp.write_text(yaml.safe_dump({ENV: {"use_masking": False}}))
    assert load_hyperparams("rainbow", ENV, hp) == {"use_masking": False}


def test_evaluate_counts_invalid_actions_of_a_model_without_masks():
    """A model whose predict takes no masks gets none; run_episodes counts the masked actions it
    takes (per episode) through the TimeLimit / OrderEnforcing wrappers."""

    class AlwaysZero:
        def predict(self, obs, deterministic=True):
            return np.array(0), None

    env = gym.wrappers.OrderEnforcing(gym.wrappers.TimeLimit(MaskedCountingEnv(tag=0, length=6), 100))
    rows = run_episodes(model_policy(AlwaysZero()), env, 2, seed=0)
    expected = sum(not counting_mask(0, t)[0] for t in range(6))  # action 0 masked at t = 0, 4, 5
    assert expected == 3
    assert [r["invalid_actions"] for r in rows] == [3.0, 3.0] and env.unwrapped.invalid_taken == 6


def test_subprocess_envs_train_with_masks_and_match_in_process_envs(tmp_path):
    """--vec-env subproc: the masks reach the agent from the worker processes, and the run is
    the same as with the envs stepped in the training process (same seed, same result)."""
    hp = tmp_path / "dqn.yml"
    hp.write_text(yaml.safe_dump({ENV: {"policy": "MlpPolicy", "n_envs": 2, "learning_starts": 100, "batch_size": 16,
                                        "buffer_size": 2000, "train_freq": 4, "target_update_interval": 100,
                                        "policy_kwargs": {"net_arch": [16]}, "eval_freq": 0, "checkpoint_freq": 0,
                                        "gamma_per_hour": 0.9}}))
    from carbon_cpn.agents.evaluate import evaluate

    results = []
    for kind in ("dummy", "subproc"):
        out = tmp_path / kind
        args = build_parser().parse_args(["train", "--algo", "dqn", "--env", ENV, "--timesteps", "300", "--seed", "3",
                                     "--hyperparams", str(hp), "--out", str(out), "--no-progress", "--vec-env", kind])
        assert args.func(args) == 0
        results.append(evaluate(str(out / "final_model.zip"), ENV, episodes=1, seed=11))
    assert results[0]["invalid_actions"]["mean"] == 0.0
    assert results[0]["episode_return"] == results[1]["episode_return"]
