"""Invalid-action masking in the DQN family (issue #14): acting, targets, replay, save/load."""

from __future__ import annotations

import numpy as np
import pytest
import torch as th

from carbon_cpn.agents.double_dqn import DoubleDQN
from carbon_cpn.agents.dqn import VanillaDQN
from carbon_cpn.agents.masked_buffers import MaskedNStepReplayBuffer, MaskedReplayBuffer
from carbon_cpn.agents.masking import MASKED_Q, NEXT_MASK_KEY, sample_valid_actions
from carbon_cpn.agents.policies import DuelingDQNPolicy
from carbon_cpn.agents.rainbow import Rainbow
from carbon_cpn.agents.registry import load_algorithm
from dqn_toy_envs import MaskedCountingEnv, TwoStateEnv, counting_mask

th.set_num_threads(1)

COMMON = dict(learning_starts=50, target_update_interval=100, batch_size=16, gamma=0.9, learning_rate=1e-3,
              train_freq=1, policy_kwargs=dict(net_arch=[16, 16]), device="cpu")


def make(algo: str, env, seed: int = 0, **kw):
    kw = {**COMMON, **kw}
    if algo == "dqn":
        return VanillaDQN("MlpPolicy", env, seed=seed, **kw)
    if algo == "dqn_nstep":
        return VanillaDQN("MlpPolicy", env, seed=seed, n_steps=3, **kw)
    if algo == "double_dqn":
        return DoubleDQN("MlpPolicy", env, seed=seed, **kw)
    if algo == "dueling_dqn":
        return DoubleDQN(DuelingDQNPolicy, env, seed=seed, **kw)
    if algo == "rainbow":  # every component on (noisy: no epsilon)
        return Rainbow("MlpPolicy", env, seed=seed, v_min=-5.0, v_max=50.0, n_atoms=11, **kw)
    if algo == "rainbow_eps":  # the epsilon-greedy ablation of Rainbow
        return Rainbow("MlpPolicy", env, seed=seed, v_min=-5.0, v_max=50.0, n_atoms=11, noisy=False, **kw)
    raise AssertionError(algo)


ALGOS = ["dqn", "dqn_nstep", "double_dqn", "dueling_dqn", "rainbow", "rainbow_eps"]


def _random_masks(rng: np.random.Generator, rows: int, n: int) -> np.ndarray:
    masks = rng.random((rows, n)) < 0.4
    masks[np.arange(rows), rng.integers(0, n, rows)] = True  # at least one valid action per row
    return masks


# ---------------------------------------------------------------------------- acting
def test_sample_valid_actions_uniform_over_the_valid_set():
    rng = np.random.default_rng(0)
    masks = np.tile(np.array([True, False, True, True, False]), (30_000, 1))
    a = sample_valid_actions(rng, masks)
    freq = np.bincount(a, minlength=5) / a.size
    assert freq[1] == freq[4] == 0.0
    assert np.allclose(freq[[0, 2, 3]], 1 / 3, atol=0.015)
    one = np.zeros((4, 5), dtype=bool)
    one[np.arange(4), [4, 0, 2, 3]] = True  # a single valid action: always that one
    assert np.array_equal(sample_valid_actions(rng, one), [4, 0, 2, 3])


@pytest.mark.parametrize("algo", ALGOS)
def test_masked_greedy_and_epsilon_actions_always_valid(algo):
    rng = np.random.default_rng(1)
    model = make(algo, MaskedCountingEnv())
    obs = rng.normal(0, 3, (300, 2)).astype(np.float32)
    masks = _random_masks(rng, 300, 5)
    greedy, _ = model.predict(obs, deterministic=True, action_masks=masks)
    assert greedy.shape == (300,) and masks[np.arange(300), greedy].all()
    unmasked, _ = model.predict(obs, deterministic=True)
    assert not masks[np.arange(300), unmasked].all()  # the mask changed something: the test has teeth
    # The greedy action is the argmax of the final Q values over the valid ones.
    if isinstance(model, Rainbow):
        model.policy.set_noise(False)  # deterministic acting is the mean network
    with th.no_grad():
        q = model.q_net(th.as_tensor(obs)).numpy()
    assert np.array_equal(greedy, np.where(masks, q, MASKED_Q).argmax(axis=1))
    # Exploration (epsilon = 1, or noisy nets): every action drawn is valid.
    model.exploration_rate = 1.0 if model.exploration_schedule(1.0) > 0 else 0.0
    for _ in range(5):
        explored, _ = model.predict(obs, deterministic=False, action_masks=masks)
        assert masks[np.arange(300), explored].all()
    # A single observation with its mask gives a scalar action.
    a, _ = model.predict(obs[0], deterministic=False, action_masks=masks[0])
    assert np.shape(a) == () and masks[0, int(a)]


def test_bad_action_masks_named():
    model = make("dqn", MaskedCountingEnv())
    obs = np.zeros((3, 2), dtype=np.float32)
    with pytest.raises(ValueError, match=r"action_masks: shape \(5,\); expected \(3, 5\)"):
        model.predict(obs, action_masks=np.ones(5, dtype=bool))
    with pytest.raises(ValueError, match=r"row\(s\) \[1\] allow no action"):
        model.predict(obs, action_masks=np.array([[1, 1, 1, 1, 1], [0, 0, 0, 0, 0], [1, 0, 0, 0, 0]]))
    with pytest.raises(ValueError, match="use_masking=1"):
        VanillaDQN("MlpPolicy", MaskedCountingEnv(), use_masking=1)


# ---------------------------------------------------------------------------- targets
def _set_linear(layer: th.nn.Linear, weight) -> None:
    with th.no_grad():
        layer.weight.copy_(th.as_tensor(np.asarray(weight, dtype=np.float32)))
        layer.bias.zero_()


def _set_stream(stream: th.nn.Sequential, out_weight, out_bias: float = 0.0) -> None:
    """A ConfigurableQNetwork stream ``Linear(2, 2) -> ReLU -> Linear(2, out)``: identity, then
    ``out_weight`` (column j = the output in state s_j)."""
    _set_linear(stream[0], np.eye(2))
    _set_linear(stream[2], out_weight)
    with th.no_grad():
        stream[2].bias.fill_(out_bias)


S0, S1 = [1.0, 0.0], [0.0, 1.0]
MASK_S1 = np.array([False, True, True])  # action 0 is invalid in s1


def _one_transition_batch(model):
    """The buffer of ``model`` holds one transition s0 --a=1, r=1--> s1 with s1's mask; sample it."""
    model.replay_buffer.add(np.array([S0]), np.array([S1]), np.array([[1]]), np.array([1.0]), np.array([False]),
                            [{NEXT_MASK_KEY: MASK_S1}])
    return model.replay_buffer.sample(1)


def _target(model, data):
    return float(model.td_target(data).reshape(()))


def test_dqn_target_ignores_invalid_next_actions():
    """Q_target(s1) = [5, 1, 3], action 0 invalid in s1, gamma = 0.5, r = 1:
    y = 1 + 0.5 x max(1, 3) = 2.5 (the invalid best action would give 1 + 0.5 x 5 = 3.5)."""
    model = VanillaDQN("MlpPolicy", TwoStateEnv(), gamma=0.5, policy_kwargs=dict(net_arch=[]), device="cpu", seed=0)
    _set_linear(model.q_net_target.q_net[0], [[0, 5], [0, 1], [0, 3]])
    data = _one_transition_batch(model)
    assert isinstance(model.replay_buffer, MaskedReplayBuffer)
    assert data.next_action_masks.tolist() == [MASK_S1.tolist()]
    assert _target(model, data) == pytest.approx(2.5)
    model.use_masking = False  # the ablation bootstraps from the invalid action
    assert _target(model, data) == pytest.approx(3.5)


def test_double_dqn_online_selection_uses_the_next_mask():
    """Online Q(s1) = [9, 2, 1] selects among the valid {1, 2}: a* = 1; target Q(s1) = [5, 1, 3]:
    y = 1 + 0.5 x 1 = 1.5 (unmasked: a* = 0, y = 1 + 0.5 x 5 = 3.5)."""
    model = DoubleDQN("MlpPolicy", TwoStateEnv(), gamma=0.5, policy_kwargs=dict(net_arch=[]), device="cpu", seed=0)
    _set_linear(model.q_net.q_net[0], [[0, 9], [0, 2], [0, 1]])
    _set_linear(model.q_net_target.q_net[0], [[0, 5], [0, 1], [0, 3]])
    data = _one_transition_batch(model)
    assert _target(model, data) == pytest.approx(1.5)
    model.use_masking = False
    assert _target(model, data) == pytest.approx(3.5)


def test_dueling_target_masks_the_final_q_not_the_advantages():
    """V(s1) = 10, A(s1) = [5, 1, 3] -> Q = V + A - mean A = [12, 8, 10]. Masked: a* = 2,
    y = 1 + 0.5 x 10 = 6. (Masking the advantages before the mean would change the mean: the
    valid mean 2 gives Q = 11 for action 2, y = 6.5.) Unmasked: a* = 0, y = 1 + 0.5 x 12 = 7."""
    model = DoubleDQN(DuelingDQNPolicy, TwoStateEnv(), gamma=0.5, policy_kwargs=dict(net_arch=[2]), device="cpu", seed=0)
    for net in (model.q_net, model.q_net_target):
        _set_stream(net.advantage, [[0, 5], [0, 1], [0, 3]])
        _set_stream(net.value, [[0, 0]], out_bias=10.0)
    data = _one_transition_batch(model)
    assert _target(model, data) == pytest.approx(6.0)
    model.use_masking = False
    assert _target(model, data) == pytest.approx(7.0)


def _rainbow_two_state(**kw):
    return Rainbow("MlpPolicy", TwoStateEnv(), gamma=0.5, policy_kwargs=dict(net_arch=[2]), device="cpu", seed=0,
                   double=False, dueling=False, noisy=False, n_step=1, **kw)


def test_rainbow_expected_value_target_uses_the_next_mask():
    model = _rainbow_two_state(distributional=False, v_min=-1.0, v_max=1.0)
    for net in (model.q_net, model.q_net_target):
        _set_stream(net.advantage, [[0, 5], [0, 1], [0, 3]])
    data = _one_transition_batch(model)
    assert data.next_action_masks.tolist() == [MASK_S1.tolist()]
    assert _target(model, data) == pytest.approx(2.5)
    model.use_masking = False
    assert _target(model, data) == pytest.approx(3.5)


def test_c51_target_masks_the_expectation():
    """Atoms -2, 0, ..., 12 (dz = 2). In s1 each action's distribution is (almost) a point mass:
    action 0 at 12, action 1 at 0, action 2 at 4. Masked: a* = 2, T z = 1 + 0.5 x 4 = 3, half
    way between the atoms 2 and 4 (indices 2, 3). Unmasked: a* = 0, T z = 7 -> indices 4, 5."""
    model = _rainbow_two_state(n_atoms=8, v_min=-2.0, v_max=12.0)
    logits = np.zeros((3 * 8, 2))
    for action, atom in enumerate([7, 1, 3]):
        logits[action * 8 + atom, 1] = 40.0
    for net in (model.q_net, model.q_net_target):
        _set_stream(net.advantage, logits)
    data = _one_transition_batch(model)
    expected = np.zeros(8)
    expected[[2, 3]] = 0.5
    assert np.allclose(model.target_distribution(data).numpy().ravel(), expected, atol=1e-6)
    model.use_masking = False
    expected = np.zeros(8)
    expected[[4, 5]] = 0.5
    assert np.allclose(model.target_distribution(data).numpy().ravel(), expected, atol=1e-6)


# ---------------------------------------------------------------------------- replay
@pytest.mark.parametrize("algo", ["dqn", "dqn_nstep", "rainbow"])
def test_rollouts_store_the_bootstrap_state_mask_with_two_envs(algo, tmp_path):
    """Two envs (one ends by termination, one by truncation), warm-up only. Every stored or
    sampled transition's mask must be the mask of its next observation (for n-step: the n-th
    next state; at episode ends: the terminal state, from info["action_mask"])."""
    fns = [lambda: MaskedCountingEnv(tag=0, length=4), lambda: MaskedCountingEnv(tag=1, length=5, truncate=True)]
    from stable_baselines3.common.vec_env import DummyVecEnv

    venv = DummyVecEnv(fns)
    model = make(algo, venv, learning_starts=10_000)
    model.learn(60)
    assert sum(venv.get_attr("invalid_taken")) == 0  # warm-up actions are valid too
    buf = model.replay_buffer
    if algo == "rainbow":  # flat rows: check every stored row
        n = buf.size()
        nxt, masks = buf.next_observations[:n], buf.next_action_masks[:n]
    else:
        n = buf.pos
        nxt, masks = buf.next_observations[:n].reshape(-1, 2), buf.next_action_masks[:n].reshape(-1, 5)
        acts, obs = buf.actions[:n].reshape(-1), buf.observations[:n].reshape(-1, 2)
        assert all(counting_mask(*o)[a] for o, a in zip(obs, acts))  # the actions taken were valid
    assert n > 20
    assert all(np.array_equal(m, counting_mask(*o)) for o, m in zip(nxt, masks))
    if algo == "rainbow":  # uneven priorities, so that prioritized sampling picks rows unevenly
        buf.update_priorities(np.arange(n), np.random.default_rng(0).exponential(1.0, n))
    # Sampled batches (uniform, n-step windows, prioritized) carry the mask of next_observations.
    for _ in range(5):
        data = buf.sample(32)
        got = data.next_action_masks.numpy()
        want = np.array([counting_mask(*o) for o in data.next_observations.numpy()])
        assert np.array_equal(got, want)
    if algo == "dqn_nstep":
        assert isinstance(buf, MaskedNStepReplayBuffer) and (data.discounts.numpy() < 0.9**2).any()
    # The masks survive save_replay_buffer / load_replay_buffer and the model's save / load.
    model.save_replay_buffer(tmp_path / "buf.pkl")
    model.save(tmp_path / "m.zip")
    loaded = load_algorithm(tmp_path / "m.zip", device="cpu")
    loaded.set_env(DummyVecEnv(fns))
    loaded.load_replay_buffer(tmp_path / "buf.pkl")
    assert np.array_equal(loaded.replay_buffer.next_action_masks, buf.next_action_masks)
    assert loaded.use_masking and type(loaded.replay_buffer) is type(buf)


def test_truncated_final_transition_without_info_mask_is_all_valid():
    """An env that does not report the terminal mask in its info: the done rows store all-valid
    (the documented choice; the bootstrap of a truncation then maxes over every action)."""
    from stable_baselines3.common.vec_env import DummyVecEnv

    venv = DummyVecEnv([lambda: MaskedCountingEnv(tag=0, length=3, truncate=True, info_mask=False)])
    model = make("dqn", venv, learning_starts=10_000)
    model.learn(9)
    masks, dones = model.replay_buffer.next_action_masks[:9, 0], model.replay_buffer.dones[:9, 0]
    assert masks[dones == 1].all() and (~masks[dones == 0]).any(axis=1).all()


def test_unmasked_flag_saved_and_masks_ignored(tmp_path):
    model = make("double_dqn", MaskedCountingEnv(), use_masking=False, learning_starts=20)
    model.learn(40)
    assert model.replay_buffer.next_action_masks.all()  # nothing read from the env
    assert sum(model.get_env().get_attr("invalid_taken")) > 0  # uniform over all 5 actions
    model.save(tmp_path / "u.zip")
    loaded = load_algorithm(tmp_path / "u.zip", device="cpu")
    assert loaded.use_masking is False
    obs = np.zeros((4, 2), dtype=np.float32)
    masks = np.eye(5, dtype=bool)[:4]
    a_masked_arg, _ = loaded.predict(obs, deterministic=True, action_masks=masks)
    a_plain, _ = loaded.predict(obs, deterministic=True)
    assert np.array_equal(a_masked_arg, a_plain)  # the ablation ignores masks, also in evaluation


@pytest.mark.parametrize("algo", ["dqn", "rainbow_eps"])
def test_masked_training_is_reproducible_from_the_seed(algo):
    runs = []
    for _ in range(2):
        model = make(algo, MaskedCountingEnv(length=7), seed=5, learning_starts=40)
        model.learn(120)
        runs.append((model.replay_buffer.actions.copy(), th.cat([p.detach().flatten() for p in model.q_net.parameters()])))
    assert np.array_equal(runs[0][0], runs[1][0]) and th.equal(runs[0][1], runs[1][1])
