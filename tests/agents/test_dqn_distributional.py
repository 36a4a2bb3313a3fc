"""C51 projection against hand computations (issue #5)."""

import pytest
import torch as th

from carbon_cpn.agents.distributional import make_support, project_distribution

SUPPORT = make_support(0.0, 4.0, 5)  # atoms 0, 1, 2, 3, 4; dz = 1


def proj(p, r, d=0.0, g=1.0):
    return project_distribution(th.tensor([p], dtype=th.float64), th.tensor([r]), th.tensor([d]), th.tensor([g]), SUPPORT.double())[0]


def test_between_atoms_splits_mass_linearly():
    # Tz = 0.5 + z: atom 1 -> 1.5 (0.25 to atoms 1 and 2), atom 2 -> 2.5 (0.25 to 2 and 3).
    out = proj([0.0, 0.5, 0.5, 0.0, 0.0], 0.5)
    assert th.allclose(out, th.tensor([0.0, 0.25, 0.5, 0.25, 0.0], dtype=th.float64))


def test_atom_landing_exactly_on_a_support_point():
    out = proj([0.0, 0.5, 0.5, 0.0, 0.0], 1.0)  # 1 -> 2, 2 -> 3 exactly
    assert th.allclose(out, th.tensor([0.0, 0.0, 0.5, 0.5, 0.0], dtype=th.float64))
    out = proj([0.2, 0.0, 0.0, 0.0, 0.8], 0.0)  # identity; includes the top atom b = N - 1
    assert th.allclose(out, th.tensor([0.2, 0.0, 0.0, 0.0, 0.8], dtype=th.float64))


def test_discount_and_clipping():
    # gamma 0.5: Tz = 1 + 0.5 z = [1, 1.5, 2, 2.5, 3]
    out = proj([0.2] * 5, 1.0, g=0.5)
    assert th.allclose(out, th.tensor([0.0, 0.3, 0.4, 0.3, 0.0], dtype=th.float64))
    out = proj([0.2] * 5, 10.0)  # everything above v_max -> the top atom
    assert th.allclose(out, th.tensor([0.0, 0.0, 0.0, 0.0, 1.0], dtype=th.float64))
    out = proj([0.2] * 5, -3.0)  # Tz = [-3..1] -> 4 x 0.2 clipped to atom 0, one at 1
    assert th.allclose(out, th.tensor([0.8, 0.2, 0.0, 0.0, 0.0], dtype=th.float64))


def test_terminal_puts_all_mass_at_the_reward():
    out = proj([0.1, 0.2, 0.3, 0.2, 0.2], 2.3, d=1.0)
    assert th.allclose(out, th.tensor([0.0, 0.0, 0.7, 0.3, 0.0], dtype=th.float64))


def test_mass_conserved_on_random_batches():
    g = th.Generator().manual_seed(0)
    support = make_support(-7.0, 13.0, 51).double()
    p = th.softmax(th.randn(64, 51, generator=g, dtype=th.float64), dim=1)
    r = th.randn(64, generator=g, dtype=th.float64) * 10
    d = (th.rand(64, generator=g) < 0.3).double()
    out = project_distribution(p, r, d, th.full((64,), 0.97, dtype=th.float64), support)
    assert th.allclose(out.sum(1), th.ones(64, dtype=th.float64))
    assert (out >= 0).all()
    # The mean is preserved where nothing is clipped: E[Tz] = r + (1-d) gamma E[z].
    mean_in = r + (1 - d) * 0.97 * (p * support).sum(1)
    inside = (mean_in > -5) & (mean_in < 11) & (d == 1)
    assert th.allclose((out * support).sum(1)[inside], mean_in[inside])


def test_bad_support_rejected():
    with pytest.raises(ValueError, match="v_min"):
        make_support(1.0, 1.0, 5)
    with pytest.raises(ValueError, match="n_atoms"):
        make_support(0.0, 1.0, 1)
