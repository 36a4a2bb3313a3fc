"""Discounting by simulated time (gamma_per_hour) in the DQN family: the env's info["elapsed_h"],
hand-computed one-step and n-step targets, the prioritized buffer, save/load and the CLI."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
import torch as th
import yaml
from gymnasium import spaces
from stable_baselines3.common.buffers import NStepReplayBuffer
from stable_baselines3.common.vec_env import DummyVecEnv

from carbon_cpn.agents.buffers import PrioritizedNStepReplayBuffer
from carbon_cpn.agents.double_dqn import DoubleDQN
from carbon_cpn.agents.dqn import VanillaDQN
from carbon_cpn.agents.evaluate import make_env
from carbon_cpn.agents.hyperparams import load_hyperparams
from carbon_cpn.agents.masked_buffers import MaskedNStepReplayBuffer, MaskedReplayBuffer
from carbon_cpn.agents.masking import NEXT_MASK_KEY
from carbon_cpn.agents.rainbow import Rainbow, estimate_return_range
from carbon_cpn.agents.registry import load_algorithm
from carbon_cpn.agents.smdp import ELAPSED_KEY
from carbon_cpn.cli import build_parser
from dqn_toy_envs import CountingEnv, TwoStateEnv

th.set_num_threads(1)

OBS = spaces.Box(-1e6, 1e6, (2,), np.float32)
ACT = spaces.Discrete(2)
GPH = 0.5  # gamma_per_hour of the hand-computed cases

# One env's steps: (reward, elapsed_h, done, truncated). Episode A ends by termination at step 3,
# episode B by truncation at step 5, episode C runs on (its last row is the buffer's newest).
SCRIPT = [
    (1.0, 0.0, False, False),
    (2.0, 1.0, False, False),
    (4.0, 0.5, False, False),
    (8.0, 0.0, True, False),
    (16.0, 2.0, False, False),
    (32.0, 0.25, True, True),
    (64.0, 1.0, False, False),
    (128.0, 0.0, False, False),
    (256.0, 3.0, False, False),
]


def g(t: int) -> float:
    """The hand-computed per-step discount of SCRIPT's step t: gamma_per_hour ** elapsed_h."""
    return GPH ** SCRIPT[t][1]


# (start step) -> (R, bootstrap discount, d, last step of the window), n = 3, computed by hand.
EXPECTED_N3 = {
    0: (1 + g(0) * 2 + g(0) * g(1) * 4, g(0) * g(1) * g(2), 0.0, 2),
    1: (2 + g(1) * 4 + g(1) * g(2) * 8, g(1) * g(2) * g(3), 1.0, 3),  # termination inside the window
    2: (4 + g(2) * 8, g(2) * g(3), 1.0, 3),
    3: (8.0, g(3), 1.0, 3),
    4: (16 + g(4) * 32, g(4) * g(5), 0.0, 5),  # truncation inside the window: bootstraps
    5: (32.0, g(5), 0.0, 5),
    6: (64 + g(6) * 128 + g(6) * g(7) * 256, g(6) * g(7) * g(8), 0.0, 8),
}


def _feed(buf, script=SCRIPT, elapsed: bool = True) -> None:
    """Add SCRIPT to a one-env buffer; observations are [0, t], next observations [0, t + 1]."""
    for t, (r, e, done, trunc) in enumerate(script):
        info: dict[str, Any] = {ELAPSED_KEY: e} if elapsed else {}
        if trunc:
            info["TimeLimit.truncated"] = True
        buf.add(np.array([[0, t]]), np.array([[0, t + 1]]), np.array([[0]]), np.array([r]), np.array([done]), [info])


def _rows(samples) -> list[tuple[float, float, float, float]]:
    """Per sampled row: (R, discount, d, next observation's t)."""
    return [(float(r), float(k), float(d), float(n)) for r, k, d, n in zip(
        samples.rewards.numpy().ravel(), samples.discounts.numpy().ravel(), samples.dones.numpy().ravel(),
        samples.next_observations.numpy()[:, 1])]


# ---------------------------------------------------------------------------- validation
@pytest.mark.parametrize("bad", [0.0, 1.5, -0.1, True, "0.9", float("nan")])
def test_gamma_per_hour_validated_everywhere(bad):
    match = r"gamma_per_hour=.*expected None or a discount per simulated hour in \(0, 1\]"
    with pytest.raises(ValueError, match=match):
        VanillaDQN("MlpPolicy", CountingEnv(), gamma_per_hour=bad)
    with pytest.raises(ValueError, match=match):
        Rainbow("MlpPolicy", CountingEnv(), gamma_per_hour=bad, v_min=0.0, v_max=1.0)
    with pytest.raises(ValueError, match=match):
        MaskedReplayBuffer(8, OBS, ACT, device="cpu", gamma_per_hour=bad)
    with pytest.raises(ValueError, match=match):
        PrioritizedNStepReplayBuffer(8, OBS, ACT, device="cpu", gamma_per_hour=bad)


def test_missing_elapsed_key_raises_the_named_error():
    for buf in (MaskedReplayBuffer(8, OBS, ACT, device="cpu", gamma_per_hour=GPH),
                MaskedNStepReplayBuffer(8, OBS, ACT, device="cpu", n_steps=3, gamma=0.9, gamma_per_hour=GPH),
                PrioritizedNStepReplayBuffer(8, OBS, ACT, device="cpu", gamma_per_hour=GPH)):
        with pytest.raises(ValueError, match=r"infos\[0\] has no 'elapsed_h' key"):
            _feed(buf, elapsed=False)
    # Through a rollout: an env that does not report simulated time fails at the first add.
    for model in (VanillaDQN("MlpPolicy", CountingEnv(), gamma_per_hour=GPH, learning_starts=10, buffer_size=100, device="cpu"),
                  Rainbow("MlpPolicy", CountingEnv(), gamma_per_hour=GPH, v_min=0.0, v_max=1.0, buffer_size=100, device="cpu")):
        with pytest.raises(ValueError, match="has no 'elapsed_h' key"):
            model.learn(5)
    # Without gamma_per_hour nothing is read.
    _feed(MaskedReplayBuffer(16, OBS, ACT, device="cpu"), elapsed=False)


# ---------------------------------------------------------------------------- buffers
def test_one_step_discount_is_gamma_per_hour_to_the_elapsed_hours():
    buf = MaskedReplayBuffer(16, OBS, ACT, device="cpu", gamma_per_hour=GPH)
    _feed(buf)
    data = buf._get_samples(np.arange(len(SCRIPT)))
    want = np.array([g(t) for t in range(len(SCRIPT))], dtype=np.float32)
    assert np.allclose(data.discounts.numpy().ravel(), want, rtol=1e-6, atol=0)
    assert data.discounts[0].item() == 1.0 and data.discounts[1].item() == 0.5  # elapsed 0 h and 1 h
    assert buf.elapsed_h[: len(SCRIPT), 0].tolist() == [s[1] for s in SCRIPT]


def test_n_step_return_and_bootstrap_discount_by_hand():
    buf = MaskedNStepReplayBuffer(16, OBS, ACT, device="cpu", n_steps=3, gamma=0.9, gamma_per_hour=GPH)
    _feed(buf)
    starts = np.array(sorted(EXPECTED_N3))
    got = _rows(buf._get_samples(starts))
    for s, row in zip(starts, got):
        r, k, d, last = EXPECTED_N3[s]
        assert row == pytest.approx((r, k, d, last + 1), rel=1e-6), s
    # The newest rows bootstrap from the newest state (no window reaches into older data).
    newest = _rows(buf._get_samples(np.array([7, 8])))
    assert newest[0] == pytest.approx((128 + g(7) * 256, g(7) * g(8), 0.0, 9), rel=1e-6)
    assert newest[1] == pytest.approx((256.0, g(8), 0.0, 9), rel=1e-6)


def test_prioritized_n_step_buffer_gives_the_same_windows():
    buf = PrioritizedNStepReplayBuffer(16, OBS, ACT, device="cpu", n_steps=3, gamma=0.9, alpha=0.0, seed=0,
                                       gamma_per_hour=GPH)
    _feed(buf)
    n = buf.size()
    assert n == len(EXPECTED_N3)  # steps 7, 8 still wait for their windows to fill
    got = _rows(buf._get_samples(np.arange(n)))
    starts = [int(t) for t in buf.observations[:n, 1]]
    for s, row in zip(starts, got):
        r, k, d, last = EXPECTED_N3[s]
        assert row == pytest.approx((r, k, d, last + 1), rel=1e-6), s


def test_gamma_per_hour_none_reproduces_the_per_decision_discounts_exactly():
    # One-step: no discounts (the algorithm uses gamma).
    one = MaskedReplayBuffer(16, OBS, ACT, device="cpu")
    _feed(one, elapsed=False)
    assert one._get_samples(np.arange(len(SCRIPT))).discounts is None
    # n-step: the former arithmetic exactly (gamma^k computed in float64, then float32), which is
    # SB3's NStepReplayBuffer up to SB3's float32 power in gamma^k (same global-RNG draws).
    ours = MaskedNStepReplayBuffer(16, OBS, ACT, device="cpu", n_steps=3, gamma=0.9)
    sb3 = NStepReplayBuffer(16, OBS, ACT, device="cpu", n_steps=3, gamma=0.9)
    _feed(ours, elapsed=False)
    _feed(sb3, elapsed=False)
    idx = np.arange(len(SCRIPT))
    np.random.seed(0)
    a = ours._get_samples(idx)
    np.random.seed(0)
    b = sb3._get_samples(idx)
    assert th.equal(a.rewards, b.rewards) and th.equal(a.dones, b.dones)
    assert th.allclose(a.discounts, b.discounts, rtol=1e-6, atol=0)
    last = np.array([EXPECTED_N3[s][3] if s in EXPECTED_N3 else 8 for s in idx])
    assert np.array_equal(a.discounts.numpy().ravel(), (0.9 ** (last - idx + 1)).astype(np.float32))
    # Prioritized: the former loop, R = sum_i gamma^i r_i and gamma^k, exactly.
    pri = PrioritizedNStepReplayBuffer(16, OBS, ACT, device="cpu", n_steps=3, gamma=0.9, alpha=0.0, seed=0)
    _feed(pri, elapsed=False)
    for row in range(pri.size()):
        s = int(pri.observations[row, 1])
        last = EXPECTED_N3[s][3]
        ret, disc = 0.0, 1.0
        for t in range(s, last + 1):
            ret += disc * SCRIPT[t][0]
            disc *= 0.9
        assert pri.rewards[row] == np.float32(ret) and pri.discounts[row] == np.float32(disc)


# ---------------------------------------------------------------------------- targets
def _set_linear(layer: th.nn.Linear, weight) -> None:
    with th.no_grad():
        layer.weight.copy_(th.as_tensor(np.asarray(weight, dtype=np.float32)))
        layer.bias.zero_()


def _set_stream(stream: th.nn.Sequential, out_weight) -> None:
    """A RainbowPolicy stream ``Linear(2, 2) -> ReLU -> Linear(2, out)``: identity, then ``out_weight``."""
    _set_linear(stream[0], np.eye(2))
    _set_linear(stream[2], out_weight)


S0, S1 = [1.0, 0.0], [0.0, 1.0]
Q_S1 = [[0, 5], [0, 1], [0, 3]]  # Q(s1) = [5, 1, 3]; action 0 is invalid in s1: max over valid = 3


def _two_state(algo: str):
    common = dict(gamma=0.99, gamma_per_hour=0.25, device="cpu", seed=0)
    if algo == "rainbow":
        model = Rainbow("MlpPolicy", TwoStateEnv(), policy_kwargs=dict(net_arch=[2]), double=False, dueling=False,
                        noisy=False, n_step=1, distributional=False, v_min=-1.0, v_max=1.0, **common)
        for net in (model.q_net, model.q_net_target):
            _set_stream(net.advantage, Q_S1)
        return model
    cls = DoubleDQN if algo == "double_dqn" else VanillaDQN
    model = cls("MlpPolicy", TwoStateEnv(), policy_kwargs=dict(net_arch=[]), **common)
    for net in (model.q_net, model.q_net_target):
        _set_linear(net.q_net[0], Q_S1)
    return model


@pytest.mark.parametrize("algo", ["dqn", "double_dqn", "rainbow"])
def test_one_step_target_by_hand(algo):
    """s0 --r=1--> s1, bootstrap value 3 (action 0 masked), gamma_per_hour = 0.25, so
    y = 1 + 0.25 ** elapsed x 3: elapsed 0 h (a decision inside an interval) -> 4, 0.5 h -> 2.5,
    2 h -> 1.1875; a termination -> 1 (the per-decision gamma 0.99 would give 3.97)."""
    model = _two_state(algo)
    mask = np.array([False, True, True])
    for elapsed, done in ((0.0, False), (0.5, False), (2.0, False), (0.5, True)):
        model.replay_buffer.add(np.array([S0]), np.array([S1]), np.array([[1]]), np.array([1.0]), np.array([done]),
                                [{NEXT_MASK_KEY: mask, ELAPSED_KEY: elapsed}])
    data = model.replay_buffer._get_samples(np.arange(4))
    y = model.td_target(data).numpy().ravel()
    assert y == pytest.approx([4.0, 2.5, 1.0 + 0.0625 * 3, 1.0], rel=1e-6)


def test_rainbow_c51_uses_the_time_discount():
    """Atoms -2, 0, ..., 12; s1's valid best action has all mass at 4. gamma_per_hour = 0.25,
    elapsed 0.5 h: T z = 1 + 0.5 x 4 = 3, half on the atoms 2 and 4."""
    model = Rainbow("MlpPolicy", TwoStateEnv(), gamma=0.99, gamma_per_hour=0.25, policy_kwargs=dict(net_arch=[2]),
                    device="cpu", seed=0, double=False, dueling=False, noisy=False, n_step=1, n_atoms=8,
                    v_min=-2.0, v_max=12.0)
    logits = np.zeros((3 * 8, 2))
    for action, atom in enumerate([7, 1, 3]):
        logits[action * 8 + atom, 1] = 40.0
    for net in (model.q_net, model.q_net_target):
        _set_stream(net.advantage, logits)
    model.replay_buffer.add(np.array([S0]), np.array([S1]), np.array([[1]]), np.array([1.0]), np.array([False]),
                            [{NEXT_MASK_KEY: np.array([False, True, True]), ELAPSED_KEY: 0.5}])
    expected = np.zeros(8)
    expected[[2, 3]] = 0.5
    assert np.allclose(model.target_distribution(model.replay_buffer._get_samples(np.array([0]))).numpy().ravel(),
                       expected, atol=1e-6)


# ---------------------------------------------------------------------------- rollouts, save / load
class TimedCountingEnv(CountingEnv):
    """CountingEnv that reports ``elapsed_h``: 0.5 h when the new step index is a multiple of 3."""

    def step(self, action: int):
        obs, r, term, trunc, info = super().step(action)
        return obs, r, term, trunc, {**info, ELAPSED_KEY: 0.5 if self.t % 3 == 0 else 0.0}


def _elapsed_of(next_obs: np.ndarray) -> np.ndarray:
    return np.where(next_obs[:, 1] % 3 == 0, 0.5, 0.0)


@pytest.mark.parametrize("algo", ["dqn", "dqn_nstep", "rainbow"])
def test_rollouts_store_elapsed_and_save_load_keeps_gamma_per_hour(algo, tmp_path):
    env_fn = lambda: TimedCountingEnv(length=7, truncate=True)  # noqa: E731
    kw = dict(gamma_per_hour=0.8, buffer_size=1000, learning_starts=20, batch_size=8, policy_kwargs=dict(net_arch=[8]), device="cpu", seed=0)
    if algo == "rainbow":
        model = Rainbow("MlpPolicy", DummyVecEnv([env_fn]), v_min=0.0, v_max=200.0, n_atoms=5, n_step=1, **kw)
    else:
        model = VanillaDQN("MlpPolicy", DummyVecEnv([env_fn]), n_steps=3 if algo == "dqn_nstep" else 1, **kw)
    model.learn(60)
    buf = model.replay_buffer
    assert buf.gamma_per_hour == 0.8
    data = buf.sample(32)
    if algo != "dqn_nstep":  # one-step: the discount is 0.8 ** (elapsed of the step into s')
        want = 0.8 ** _elapsed_of(data.next_observations.numpy())
        assert np.allclose(data.discounts.numpy().ravel(), want, rtol=1e-6)
    else:
        # windows of 3 steps hold at most one 0.5 h step: 0.8 ** 0.5 or 1
        assert np.all(np.isclose(data.discounts.numpy(), 1.0) | np.isclose(data.discounts.numpy(), 0.8**0.5))
        assert (data.discounts.numpy() < 1.0).any()
    model.save(tmp_path / "m.zip")
    model.save_replay_buffer(tmp_path / "buf.pkl")
    loaded = load_algorithm(tmp_path / "m.zip", device="cpu")
    assert loaded.gamma_per_hour == 0.8 and loaded.replay_buffer.gamma_per_hour == 0.8
    loaded.set_env(DummyVecEnv([env_fn]))
    loaded.load_replay_buffer(tmp_path / "buf.pkl")
    if algo != "rainbow":
        assert np.array_equal(loaded.replay_buffer.elapsed_h, buf.elapsed_h)
    loaded.learn(10, reset_num_timesteps=False)
    # A buffer saved with another setting is refused.
    other = VanillaDQN("MlpPolicy", DummyVecEnv([env_fn]), buffer_size=100, device="cpu") if algo != "rainbow" else Rainbow(
        "MlpPolicy", DummyVecEnv([env_fn]), v_min=0.0, v_max=1.0, buffer_size=100, device="cpu")
    with pytest.raises(ValueError, match=r"gamma_per_hour=0.8 differs from the model's gamma_per_hour=None"):
        other.load_replay_buffer(tmp_path / "buf.pkl")
    assert VanillaDQN("MlpPolicy", CountingEnv(), buffer_size=100, device="cpu").gamma_per_hour is None  # the default


def test_rainbow_support_estimate_discounts_by_time():
    """Rewards 0, 1, 2, 3; the step into t = 3 takes 0.5 h, the others 0 h; gamma_per_hour = 0.25:
    G_3 = 3, G_2 = 2 + 0.5 x 3 = 3.5, G_1 = 1 + 3.5 = 4.5, G_0 = 4.5 (per decision, gamma 0.9:
    G_1 = 1 + 0.9 x 4.7 = 5.23)."""
    assert estimate_return_range(TimedCountingEnv(length=4), 0.9, episodes=1, gamma_per_hour=0.25) == pytest.approx((3.0, 4.5))
    assert estimate_return_range(TimedCountingEnv(length=4), 0.9, episodes=1) == pytest.approx((3.0, 5.23))
    with pytest.raises(ValueError, match="has no 'elapsed_h' key"):
        estimate_return_range(CountingEnv(length=4), 0.9, episodes=1, gamma_per_hour=0.25)


# ---------------------------------------------------------------------------- the env
def test_tiny_env_reports_elapsed_hours():
    """A random masked policy over one Tiny episode (behind the Lyapunov wrapper): elapsed_h is 0
    for decisions inside an interval, a positive multiple of the interval when the clock moves,
    and the reset's plus the steps' elapsed_h add up to the episode's length in hours."""
    env = make_env("CarbonCPN-Tiny-v0", lyapunov_v=0.5, carbon_budget=100.0)
    base = env.unwrapped
    rng = np.random.default_rng(0)
    _, info = env.reset(seed=3)
    total, prev_time = info[ELAPSED_KEY], info["time_h"]
    assert total == pytest.approx(info["time_h"]) and total > 0  # at reset no job is queued yet
    zero = moved = 0
    done = False
    while not done:
        a = int(rng.choice(np.flatnonzero(base.action_masks())))
        _, _, term, trunc, info = env.step(a)
        done = term or trunc
        e = info[ELAPSED_KEY]
        k = e / base.interval_h
        assert e >= 0 and k == pytest.approx(round(k), abs=1e-9)
        assert e == pytest.approx(info["time_h"] - prev_time, abs=1e-9)
        assert round(k) == len(info.get("intervals", []))  # the intervals this step ran
        zero, moved = zero + (e == 0), moved + (e > 0)
        total += e
        prev_time = info["time_h"]
    assert zero > 50 and moved > 5
    assert total == pytest.approx(base.n_intervals * base.interval_h) and total == pytest.approx(24.0)


# ---------------------------------------------------------------------------- CLI / YAML
ENV = "CarbonCPN-Tiny-v0"


def test_cli_and_yaml(tmp_path, capsys):
    hp = tmp_path / "hp.yml"
    hp.write_text(yaml.safe_dump({ENV: {"policy": "MlpPolicy", "learning_starts": 60, "batch_size": 8,
                                        "buffer_size": 1000, "policy_kwargs": {"net_arch": [16]},
                                        "gamma_per_hour": "8e-1", "eval_freq": 0, "checkpoint_freq": 0}}))
    assert load_hyperparams("dqn", ENV, hp)["gamma_per_hour"] == 0.8  # YAML's 8e-1 string read as a number
    out = tmp_path / "run"
    args = build_parser().parse_args(["train", "--algo", "double_dqn", "--env", ENV, "--timesteps", "100", "--hyperparams",
                                 str(hp), "--out", str(out), "--gamma-per-hour", "0.9", "--no-progress"])
    assert args.func(args) == 0
    assert json.loads((out / "run.json").read_text())["gamma_per_hour"] == 0.9  # the flag overrides the file
    assert load_algorithm(out / "final_model.zip", device="cpu").gamma_per_hour == 0.9
    capsys.readouterr()
    # MaskablePPO refuses it, from the flag or from the file.
    args = build_parser().parse_args(["train", "--algo", "maskable_ppo", "--env", ENV, "--timesteps", "64",
                                 "--out", str(tmp_path / "p"), "--gamma-per-hour", "0.9", "--no-progress"])
    assert args.func(args) == 2
    assert "gamma_per_hour=0.9: algo='maskable_ppo' does not discount by simulated time" in capsys.readouterr().err
    args = build_parser().parse_args(["train", "--algo", "maskable_ppo", "--env", ENV, "--timesteps", "64",
                                 "--hyperparams", str(hp), "--out", str(tmp_path / "p"), "--no-progress"])
    assert args.func(args) == 2
    assert "gamma_per_hour (discounting by simulated time) is implemented for the DQN family" in capsys.readouterr().err
    # Out-of-range values: argparse (exit 2) and the file (ValueError naming the value).
    with pytest.raises(SystemExit) as exc:
        build_parser().parse_args(["train", "--algo", "dqn", "--gamma-per-hour", "1.5"])
    assert exc.value.code == 2
    hp.write_text(yaml.safe_dump({ENV: {"gamma_per_hour": 0}}))
    args = build_parser().parse_args(["train", "--algo", "dqn", "--env", ENV, "--hyperparams", str(hp),
                                 "--out", str(tmp_path / "z"), "--no-progress"])
    assert args.func(args) == 2
    assert "['gamma_per_hour']=0: expected a number in (0, 1]" in capsys.readouterr().err
