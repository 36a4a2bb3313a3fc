"""carbon_cpn.envs.carbon_field (issue #16): the virtual carbon-flow field of eqs. 4-5.

Every expected value is computed here from a closed form: the spreading (and drifting) Gaussian
of the advection-diffusion equation, a translated bump for pure advection, sum(rate) * dt for a
constant source, Q/k + (M0 - Q/k) exp(-k t) for the mass under decay, the centroid of a
bilinear deposit and block means taken by slicing. Convergence is read off errors at three
resolutions, halving the cell size and the time step together.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from carbon_cpn.envs.carbon_field import CarbonField, CarbonFieldConfig, render_map

SIZE = (16.0, 12.0)
BASE_CELLS = (32, 24)  # h = 0.5 km at refinement 1
X0, Y0 = 7.6, 5.7


def gaussian(x, y, x0, y0, tau, d, mass=1.0):
    """Free-space solution of C_t = D lap C from a point mass, at age ``tau``."""
    return mass / (4 * math.pi * d * tau) * np.exp(-((x - x0) ** 2 + (y - y0) ** 2) / (4 * d * tau))


def grid(field: CarbonField):
    xc, yc = field.cell_centers()
    return np.meshgrid(xc, yc, indexing="ij")


def l2(field: CarbonField, exact: np.ndarray) -> float:
    return float(np.sqrt(((field.values - exact) ** 2).sum() * field.dx * field.dy))


def make(refine: int, **kw) -> CarbonField:
    cells = (BASE_CELLS[0] * refine, BASE_CELLS[1] * refine)
    return CarbonField(CarbonFieldConfig(size_km=SIZE, cells=cells, **kw))


def orders(errors: list[float]) -> list[float]:
    return [math.log2(errors[i] / errors[i + 1]) for i in range(len(errors) - 1)]


def test_cell_centres_and_spacing_follow_the_map():
    f = CarbonField(CarbonFieldConfig(size_km=(10.0, 6.0), cells=(5, 4)))
    xc, yc = f.cell_centers()
    assert (f.dx, f.dy) == (2.0, 1.5)
    np.testing.assert_allclose(xc, [1, 3, 5, 7, 9])
    np.testing.assert_allclose(yc, [0.75, 2.25, 3.75, 5.25])


# --- (1) diffusion (and drift) of a Gaussian against the analytic solution -----------------------


def gaussian_errors(velocity, scheme, d=0.5, t_end=1.0, tau0=1.0) -> list[float]:
    errs = []
    for r in (1, 2, 4):
        f = make(r, diffusion_km2_per_h=d, velocity_km_per_h=velocity, advection=scheme)
        x, y = grid(f)
        f.reset(gaussian(x, y, X0, Y0, tau0, d))
        dt = 0.1 / r
        for _ in range(round(t_end / dt)):
            f.step(dt)
        assert f.time_h == pytest.approx(t_end)
        exact = gaussian(x, y, X0 + velocity[0] * t_end, Y0 + velocity[1] * t_end, tau0 + t_end, d)
        errs.append(l2(f, exact))
    return errs


@pytest.mark.parametrize("velocity", [(0.0, 0.0), (0.8, 0.5)])
def test_gaussian_converges_at_second_order_with_central_advection(velocity):
    errs = gaussian_errors(velocity, "central")
    assert errs[-1] < 1e-3
    assert all(e1 / e2 >= 3.0 for e1, e2 in zip(errs, errs[1:])), errs
    assert all(1.8 <= p <= 2.3 for p in orders(errs)), orders(errs)


def test_gaussian_converges_at_first_order_with_upwind_advection():
    errs = gaussian_errors((0.8, 0.5), "upwind")
    assert all(0.75 <= p <= 1.3 for p in orders(errs)), orders(errs)


# --- (2) pure advection of a smooth bump ------------------------------------------------------------


def bump(x, y, x0, y0, width=0.8):
    return np.exp(-((x - x0) ** 2 + (y - y0) ** 2) / (2 * width**2))


@pytest.mark.parametrize("scheme", ["central", "upwind"])
def test_advected_bump_centroid_moves_at_v_t(scheme):
    v, t_end = (1.5, -0.8), 2.0
    errs = []
    for r in (1, 2, 4):
        f = make(r, diffusion_km2_per_h=0.0, velocity_km_per_h=v, advection=scheme)
        x, y = grid(f)
        f.reset(bump(x, y, 5.0, 7.0))
        dt = 0.1 / r
        for _ in range(round(t_end / dt)):
            f.step(dt)
        c = f.values
        m = c.sum()
        assert (x * c).sum() / m == pytest.approx(5.0 + v[0] * t_end, abs=1e-4)
        assert (y * c).sum() / m == pytest.approx(7.0 + v[1] * t_end, abs=1e-4)
        errs.append(l2(f, bump(x, y, 5.0 + v[0] * t_end, 7.0 + v[1] * t_end)))
    assert errs[0] > errs[1] > errs[2]
    if scheme == "central":
        assert all(e1 / e2 >= 3.0 for e1, e2 in zip(errs, errs[1:])), errs


def test_per_cell_velocity_equal_everywhere_matches_the_uniform_velocity():
    v = (0.7, -0.3)
    uniform = make(1, diffusion_km2_per_h=0.2, velocity_km_per_h=v)
    per_cell = make(1, diffusion_km2_per_h=0.2, velocity_km_per_h=np.broadcast_to(v, (*BASE_CELLS, 2)))
    x, y = grid(uniform)
    for f in (uniform, per_cell):
        f.reset(bump(x, y, 6.0, 6.0))
        for _ in range(10):
            f.step(0.2)
    np.testing.assert_allclose(per_cell.values, uniform.values, rtol=0, atol=1e-14)


# --- (3) mass conservation with zero-flux walls -----------------------------------------------------


def random_map(rng, velocity, scheme, d):
    cells = (int(rng.integers(5, 30)), int(rng.integers(5, 30)))
    size = (float(rng.uniform(1, 50)), float(rng.uniform(1, 50)))
    vel = velocity(cells) if callable(velocity) else velocity
    return CarbonField(CarbonFieldConfig(size_km=size, cells=cells, diffusion_km2_per_h=d,
                                         velocity_km_per_h=vel, advection=scheme))


def assert_mass_conserved(f: CarbonField, rng, dts) -> None:
    init = rng.uniform(0, 10, size=f.config.cells)
    f.reset(init)
    m0 = init.sum() * f.config.size_km[0] * f.config.size_km[1] / init.size
    for dt in dts:
        f.step(float(dt))
        assert f.total_mass() == pytest.approx(m0, rel=1e-12)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_mass_is_conserved_to_round_off_with_a_uniform_velocity_and_long_steps(seed):
    rng = np.random.default_rng(seed)
    f = random_map(rng, tuple(rng.normal(0, 3, size=2)), "central", float(rng.uniform(0, 5)))
    assert_mass_conserved(f, rng, rng.uniform(0.01, 2.0, size=300))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_mass_is_conserved_and_c_stays_nonnegative_with_a_random_velocity_field(seed):
    rng = np.random.default_rng(seed)
    f = random_map(rng, lambda cells: rng.normal(0, 3, size=(*cells, 2)), "upwind", float(rng.uniform(0, 5)))
    assert_mass_conserved(f, rng, rng.uniform(0.05, 1.0, size=300) * f.monotone_dt_h())
    assert f.values.min() >= 0.0


def test_central_with_a_random_velocity_field_conserves_mass_below_peclet_two():
    rng = np.random.default_rng(4)
    f = random_map(rng, lambda cells: rng.uniform(-0.5, 0.5, size=(*cells, 2)), "central", 30.0)
    assert f.config.stability_numbers(1.0)["cell_peclet"] <= 2.0
    assert_mass_conserved(f, rng, rng.uniform(0.05, 1.0, size=300) * f.monotone_dt_h())
    assert f.values.min() >= 0.0


def test_monotone_step_follows_the_upwind_diagonal():
    # interior cells: |v_x|/dx + 2D/dx^2 + k/2 = 7.2 and |v_y|/dy + 2D/dy^2 + k/2 = 24.2 per hour
    cfg = dict(size_km=(10.0, 6.0), cells=(10, 12), diffusion_km2_per_h=2.0, velocity_km_per_h=(3.0, -4.0),
               decay_per_h=0.4)
    assert CarbonField(CarbonFieldConfig(**cfg, advection="upwind")).monotone_dt_h() == pytest.approx(2 / 24.2)
    # central (cell Peclet numbers 1.5 and 1, <= 2): the diagonal is 2D/h^2 + k/2, largest in y at 16.2
    assert CarbonField(CarbonFieldConfig(**cfg)).monotone_dt_h() == pytest.approx(2 / (16 + 0.2))
    cfg["diffusion_km2_per_h"] = 0.1  # Peclet 20: central has negative couplings
    assert CarbonField(CarbonFieldConfig(**cfg)).monotone_dt_h() is None


# --- (4) sources and decay ---------------------------------------------------------------------------


def test_constant_sources_add_rate_times_dt_per_step():
    rng = np.random.default_rng(7)
    f = make(1, diffusion_km2_per_h=1.0, velocity_km_per_h=(2.0, -1.0))
    # interior, on a wall, in a corner, at a cell centre
    pts = np.array([[3.3, 4.1, 5.0], [0.0, 6.0, 2.5], [16.0, 12.0, 1.5], [0.25, 0.25, 4.0]])
    init = rng.uniform(0, 1, size=BASE_CELLS)
    f.reset(init)
    mass = init.sum() * f.dx * f.dy
    for dt in rng.uniform(0.05, 1.5, size=50):
        f.step(float(dt), pts)
        mass += pts[:, 2].sum() * dt
        assert f.total_mass() == pytest.approx(mass, rel=1e-12)


def test_per_node_rates_are_power_times_intensity():
    nodes = np.array([[2.0, 3.0], [12.5, 9.0], [8.0, 0.0]])
    power_mw, ci_kg_per_mwh = np.array([10.0, 25.0, 4.0]), np.array([780.0, 210.0, 500.0])
    f = CarbonField(CarbonFieldConfig(size_km=SIZE, cells=BASE_CELLS, diffusion_km2_per_h=0.5), node_xy=nodes)
    for _ in range(4):
        f.step(0.25, power_mw * ci_kg_per_mwh)
    assert f.total_mass() == pytest.approx(1.0 * float(power_mw @ ci_kg_per_mwh), rel=1e-12)


def test_a_point_source_is_deposited_at_its_location():
    f = CarbonField(CarbonFieldConfig(size_km=(10.0, 8.0), cells=(20, 16), diffusion_km2_per_h=0.0))
    x, y = grid(f)
    f.step(0.5, [[3.37, 5.81, 2.0]])  # no transport: C = dt * S
    c = f.values
    assert c.sum() * f.dx * f.dy == pytest.approx(1.0)
    assert (x * c).sum() / c.sum() == pytest.approx(3.37)
    assert (y * c).sum() / c.sum() == pytest.approx(5.81)
    assert np.count_nonzero(c) == 4
    f.reset()
    f.step(2.0, [[x[4, 0], y[0, 9], 3.0]])  # exactly on a cell centre: one cell only
    expected = np.zeros((20, 16))
    expected[4, 9] = 3.0 * 2.0 / (f.dx * f.dy)
    np.testing.assert_allclose(f.values, expected, atol=1e-12)


def test_mass_under_decay_and_a_source_converges_at_second_order_in_time():
    k, q, t_end = 0.8, 3.0, 2.0
    rng = np.random.default_rng(3)
    init = rng.uniform(0, 2, size=BASE_CELLS)
    errs = []
    for n in (10, 20, 40):
        f = make(1, diffusion_km2_per_h=0.3, velocity_km_per_h=(0.5, 0.2), decay_per_h=k)
        f.reset(init)
        m0 = f.total_mass()
        for _ in range(n):
            f.step(t_end / n, [[8.0, 6.0, q]])
        exact = q / k + (m0 - q / k) * math.exp(-k * t_end)
        errs.append(abs(f.total_mass() - exact))
    assert errs[-1] < 1e-3 * abs(exact)
    assert all(e1 / e2 >= 3.0 for e1, e2 in zip(errs, errs[1:])), errs


# --- observation summary and the map -----------------------------------------------------------------


def test_summary_is_the_block_means():
    f = CarbonField(CarbonFieldConfig(size_km=(5.0, 4.0), cells=(5, 4)))
    c = np.arange(20.0).reshape(5, 4) ** 1.5
    f.reset(c)
    expected = [c[0:2, 0:2].mean(), c[0:2, 2:4].mean(), c[2:5, 0:2].mean(), c[2:5, 2:4].mean()]
    np.testing.assert_allclose(f.summary(2), expected)
    np.testing.assert_allclose(f.summary((1, 1)), [c.mean()])
    np.testing.assert_allclose(f.summary((5, 4)), c.ravel())


def test_render_map_draws_the_field():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    f = CarbonField(CarbonFieldConfig(size_km=(10.0, 6.0), cells=(10, 6), velocity_km_per_h=(1.0, 0.0)),
                    node_xy=[[2.0, 2.0], [8.0, 4.0]])
    f.step(1.0, [1.0, 2.0])
    fig, ax = plt.subplots()
    try:
        im = render_map(ax, f, node_names=["east-1", "west-1"])
        np.testing.assert_array_equal(np.asarray(im.get_array()), f.values.T)
        assert [t.get_text() for t in ax.texts] == ["east-1", "west-1"]
    finally:
        plt.close(fig)


# --- (5) bad inputs ----------------------------------------------------------------------------------


@pytest.mark.parametrize("kw, name", [
    ({"size_km": (0.0, 5.0)}, "size_km"),
    ({"size_km": (5.0,)}, "size_km"),
    ({"size_km": (5.0, math.nan)}, "size_km"),
    ({"cells": (1, 10)}, "cells"),
    ({"cells": (10.0, 10)}, "cells"),
    ({"diffusion_km2_per_h": -1.0}, "diffusion_km2_per_h"),
    ({"diffusion_km2_per_h": math.inf}, "diffusion_km2_per_h"),
    ({"decay_per_h": -0.1}, "decay_per_h"),
    ({"advection": "quick"}, "advection"),
    ({"velocity_km_per_h": (1.0, 2.0, 3.0)}, "velocity_km_per_h"),
    ({"velocity_km_per_h": np.zeros((3, 4, 2))}, "velocity_km_per_h"),
    ({"velocity_km_per_h": (math.nan, 0.0)}, "velocity_km_per_h"),
    ({"velocity_km_per_h": "east"}, "velocity_km_per_h"),
])
def test_bad_config_raises_naming_the_parameter(kw, name):
    with pytest.raises(ValueError, match=rf"^{name}=.*: expected "):
        CarbonFieldConfig(**{"size_km": (10.0, 10.0), "cells": (10, 10), **kw})


def test_bad_field_inputs_raise_naming_the_parameter():
    cfg = CarbonFieldConfig(size_km=(10.0, 10.0), cells=(10, 10))
    with pytest.raises(ValueError, match=r"^node_xy=.*inside the map"):
        CarbonField(cfg, node_xy=[[11.0, 1.0]])
    with pytest.raises(ValueError, match=r"^node_xy=.*shape \(n, 2\)"):
        CarbonField(cfg, node_xy=[1.0, 2.0])
    f = CarbonField(cfg, node_xy=[[1.0, 1.0], [9.0, 9.0]])
    cases = [
        (lambda: f.step(0.0), r"^dt_h="),
        (lambda: f.step(math.nan), r"^dt_h="),
        (lambda: f.step(1.0, [1.0, 2.0, 3.0]), r"^sources=.*one finite rate >= 0 per node \(2 nodes\)"),
        (lambda: f.step(1.0, [1.0, -2.0]), r"^sources=.*rate >= 0"),
        (lambda: f.step(1.0, [[5.0, -0.1, 1.0]]), r"^sources=.*inside the map"),
        (lambda: f.step(1.0, [[5.0, 5.0, -1.0]]), r"^sources=.*rates >= 0"),
        (lambda: f.step(1.0, [[5.0, 5.0]]), r"^sources=.*shape \(n, 3\)"),
        (lambda: CarbonField(cfg).step(1.0, [1.0]), r"^sources=.*no node_xy"),
        (lambda: f.reset(np.zeros((10, 9))), r"^initial=.*shape \(10, 10\)"),
        (lambda: f.summary(0), r"^n_blocks="),
        (lambda: f.summary((2, 11)), r"^n_blocks="),
        (lambda: f.summary((2, 2, 2)), r"^n_blocks="),
    ]
    for call, pattern in cases:
        with pytest.raises(ValueError, match=pattern):
            call()
    assert f.total_mass() == 0.0  # the failed calls changed nothing


def test_stability_numbers_follow_their_definitions():
    cfg = CarbonFieldConfig(size_km=(10.0, 6.0), cells=(10, 12), diffusion_km2_per_h=2.0,
                            velocity_km_per_h=(3.0, -4.0))
    nums = cfg.stability_numbers(0.1)  # dx = 1.0, dy = 0.5
    assert nums == pytest.approx({"diffusion_number": 2.0 * 0.1 / 0.5**2,
                                  "courant": max(3.0 * 0.1 / 1.0, 4.0 * 0.1 / 0.5),
                                  "cell_peclet": max(3.0 * 1.0, 4.0 * 0.5) / 2.0})
