"""Prioritized sampling, importance weights and n-step returns (issue #5)."""

import numpy as np
import pytest
from gymnasium import spaces

from carbon_cpn.agents.buffers import PrioritizedNStepReplayBuffer
from carbon_cpn.agents.segment_tree import MinSegmentTree, SumSegmentTree

OBS = spaces.Box(-1e6, 1e6, (2,), np.float32)
ACT = spaces.Discrete(2)


def test_segment_trees_match_direct_computation():
    rng = np.random.default_rng(0)
    s, m = SumSegmentTree(13), MinSegmentTree(13)
    vals = rng.random(13) + 0.1
    s[np.arange(13)] = vals
    m[np.arange(13)] = vals
    for i in rng.integers(0, 13, 20):  # scalar updates
        vals[i] = rng.random() + 0.1
        s[i] = vals[i]
        m[i] = vals[i]
    assert s.total() == pytest.approx(vals.sum())
    assert m.min() == pytest.approx(vals.min())
    cum = np.cumsum(vals)
    mass = rng.random(200) * vals.sum()
    assert np.array_equal(s.find_prefix_sum(mass), np.searchsorted(cum, mass, side="right"))


def _filled(alpha=0.6, beta=0.4, n=6):
    buf = PrioritizedNStepReplayBuffer(8, OBS, ACT, device="cpu", n_envs=1, n_steps=1, gamma=0.9, alpha=alpha, beta0=beta, seed=0)
    for t in range(n):
        buf.add(np.array([[0, t]]), np.array([[0, t + 1]]), np.array([0]), np.array([1.0]), np.array([False]), [{}])
    return buf


def test_probabilities_and_importance_weights_against_direct_formula():
    buf = _filled()
    errors = np.array([0.5, 2.0, 0.1, 1.0, 3.0, 0.7])
    buf.update_priorities(np.arange(6), errors)
    p_alpha = (errors + buf.priority_eps) ** 0.6
    P = p_alpha / p_alpha.sum()
    assert np.allclose(buf.probabilities(np.arange(6)), P)
    buf.beta = 0.4
    w = (6 * P) ** -0.4
    assert np.allclose(buf.importance_weights(np.arange(6)), w / w.max())
    # Sampling frequencies follow P (stratified sampling, 60k draws).
    counts = np.zeros(6)
    for _ in range(2000):
        batch = buf.sample(30)
        counts += np.bincount(batch.indices, minlength=6)
        assert np.allclose(batch.weights.numpy().ravel(), (w / w.max())[batch.indices], rtol=1e-5)
    assert np.allclose(counts / counts.sum(), P, atol=0.01)
    assert buf.max_priority == pytest.approx(3.0 + buf.priority_eps)


def test_new_transitions_get_max_priority_and_alpha_zero_is_uniform():
    buf = _filled()
    buf.update_priorities(np.array([0]), np.array([5.0]))
    buf.add(np.array([[0, 9]]), np.array([[0, 10]]), np.array([1]), np.array([0.0]), np.array([False]), [{}])
    assert buf.sum_tree[6] == pytest.approx((5.0 + buf.priority_eps) ** 0.6)
    uni = _filled(alpha=0.0)
    uni.update_priorities(np.arange(6), np.arange(6) + 1.0)
    assert np.allclose(uni.probabilities(np.arange(6)), 1 / 6)
    assert np.allclose(uni.importance_weights(np.arange(6)), 1.0)


def test_n_step_returns_across_termination_and_timeout_with_two_envs():
    """n = 2, gamma = 0.5. Env 0 terminates after 3 steps then starts a new episode; env 1 is
    truncated (time limit) after 4 steps. Observations are (env, t)."""
    g = 0.5
    buf = PrioritizedNStepReplayBuffer(32, OBS, ACT, device="cpu", n_envs=2, n_steps=2, gamma=g, alpha=0.0, seed=0)
    # per step: ((t, t_next, reward, done, truncated) for env 0, same for env 1)
    script = [
        ((0, 1, 1.0, False, False), (0, 1, 10.0, False, False)),
        ((1, 2, 2.0, False, False), (1, 2, 20.0, False, False)),
        ((2, 3, 4.0, True, False), (2, 3, 40.0, False, False)),
        ((10, 11, 100.0, False, False), (3, 4, 80.0, True, True)),
        ((11, 12, 200.0, False, False), (10, 11, 1000.0, False, False)),
    ]
    for step in script:
        obs = np.array([[e, s[0]] for e, s in enumerate(step)], dtype=np.float32)
        nxt = np.array([[e, s[1]] for e, s in enumerate(step)], dtype=np.float32)
        rew = np.array([s[2] for s in step])
        done = np.array([s[3] for s in step])
        infos = [{"TimeLimit.truncated": True} if s[4] else {} for s in step]
        buf.add(obs, nxt, np.array([0, 1]), rew, done, infos)
    n = buf.size()
    rows = {(int(buf.observations[i, 0]), int(buf.observations[i, 1])): i for i in range(n)}
    assert sorted(rows) == [(0, 0), (0, 1), (0, 2), (0, 10), (1, 0), (1, 1), (1, 2), (1, 3)]

    def row(env, t):
        i = rows[(env, t)]
        return (float(buf.rewards[i]), *map(float, buf.next_observations[i]), float(buf.dones[i]), float(buf.discounts[i]))

    # Env 0: a full 2-step window, then at termination the pending windows are flushed, d = 1.
    assert row(0, 0) == pytest.approx((1 + g * 2, 0, 2, 0.0, g**2))
    assert row(0, 1) == pytest.approx((2 + g * 4, 0, 3, 1.0, g**2))
    assert row(0, 2) == pytest.approx((4.0, 0, 3, 1.0, g))
    # Its next episode never mixes with the first one.
    assert row(0, 10) == pytest.approx((100 + g * 200, 0, 12, 0.0, g**2))
    # Env 1: truncation flushes too, but bootstraps (d = 0) from the last observation reached.
    assert row(1, 0) == pytest.approx((10 + g * 20, 1, 2, 0.0, g**2))
    assert row(1, 1) == pytest.approx((20 + g * 40, 1, 3, 0.0, g**2))
    assert row(1, 2) == pytest.approx((40 + g * 80, 1, 4, 0.0, g**2))
    assert row(1, 3) == pytest.approx((80.0, 1, 4, 0.0, g))
    # Pending windows are not pickled (a resumed run starts from reset envs).
    import pickle

    assert all(len(q) == 0 for q in pickle.loads(pickle.dumps(buf))._queues)
    assert len(buf._queues[1]) == 1


def test_bad_parameters_named():
    with pytest.raises(ValueError, match="n_steps=0"):
        PrioritizedNStepReplayBuffer(8, OBS, ACT, n_steps=0)
    with pytest.raises(ValueError, match="beta0=2"):
        PrioritizedNStepReplayBuffer(8, OBS, ACT, beta0=2)
