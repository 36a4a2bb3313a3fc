"""The virtual carbon-flow field: a 2-D advection-diffusion map of carbon emitted by computing nodes.

After eqs. 4-5 and Fig. 2 of "Carbon-Computing Coupling Optimization and Green Scheduling System
for Intelligent Computing Centers" (Xie, Wei), the carbon concentration C(x, y, t) on a
rectangular map [0, Lx] x [0, Ly] obeys

    dC/dt = D (d2C/dx2 + d2C/dy2) - div(v C) + S(x, y, t) - k C,
    S = sum_i P_i * CI_i * delta(x - x_i)                                          (eq. 5)

with D the diffusion coefficient, v the velocity of the "flow" of carbon that stands for the
direction of inter-regional power transmission (uniform, or one vector per cell), S the node
emissions and k >= 0 an optional decay (absorption) rate. The paper writes the advection as
-v.grad C; the flux form -div(v C) used here is the same for a divergence-free v (a uniform v in
particular) and is the form that conserves mass.

Units: x, y in km, t in hours, C in kg CO2 per km^2, D in km^2/h, v in km/h, k in 1/h; a node's
rate P * CI is in kg/h (MW x kg/MWh) and ``total_mass()`` in kg.

Space: cell-centred finite volumes (nx x ny cells of dx = Lx/nx, dy = Ly/ny). The flux through
an interior face is F = v_f C_f - D (C_right - C_left)/h, with v_f the mean of the two cells'
velocities and C_f either the mean of the two cells ("central", second order in space, the
default) or the upwind cell ("upwind", first order, monotone, adds a numerical diffusion
|v| h / 2). Boundaries: zero flux (homogeneous Neumann, and no advective flux through the
walls), so without sources and decay the discrete mass sum(C) dx dy is conserved to round-off.
A point source is spread onto the (up to) four nearest cell centres with bilinear
(cloud-in-cell) weights that sum to one and keep its centroid; it lands whole in the nearest
cell within half a cell of a wall.

Time: Peaceman-Rachford ADI. With A_x, A_y the x and y operators (decay split k/2 on each):

    (I - dt/2 A_x) C*      = (I + dt/2 A_y) C^n + dt/2 S     (implicit in x, explicit in y)
    (I - dt/2 A_y) C^{n+1} = (I + dt/2 A_x) C*  + dt/2 S     (implicit in y, explicit in x)

Each half step is a batch of tridiagonal solves (Thomas algorithm, vectorised over the lines,
factorised once per dt). The scheme is second order in time, so the field is O(dt^2 + h^2)
accurate with central advection and O(dt^2 + h) with upwind (the tests measure orders 2.0 and
0.9 on a drifting Gaussian); a source held constant over a step adds exactly rate * dt of mass.

Stability and accuracy: for a uniform velocity the scheme is unconditionally stable (von
Neumann) but not unconditionally accurate: modes with D dt/h^2 >> 1 are barely damped (their
amplification tends to -1, as in Crank-Nicolson), so a sharp source can leave a checkerboard
ripple, and central advection with a cell Peclet number |v| h/D > 2 is not monotone and can make
C slightly negative. Keep D dt/h^2 and the Courant number |v| dt/h of order one for accurate
transients and take "upwind" when the Peclet number is large (see
:meth:`CarbonFieldConfig.stability_numbers`). With a per-cell velocity the x and y operators do
not commute and a long step can be unstable. Whenever all off-diagonal couplings are >= 0 (always
with "upwind"; with "central" when the cell Peclet number is <= 2), any dt_h <=
:meth:`CarbonField.monotone_dt_h` keeps C >= 0 and the scheme L1-stable: the explicit half steps
are then non-negative matrices and the implicit ones M-matrices, all with column sums <= 1.
"""

from __future__ import annotations

import math
import reprlib
from dataclasses import dataclass
from typing import Any

import numpy as np

ADVECTION_SCHEMES = ("central", "upwind")


def _fail(name: str, value: Any, expected: str) -> None:
    shown = f"array(shape={value.shape})" if isinstance(value, np.ndarray) else reprlib.repr(value)
    raise ValueError(f"{name}={shown}: expected {expected}")


def _pair(name: str, value: Any, integer: bool) -> tuple:
    kind, low, what = ((int, np.integer), 2, "two integers >= 2 (nx, ny)") if integer else \
        ((int, float), 0, "two finite numbers > 0 (Lx, Ly) in km")
    def good(v: Any) -> bool:
        return isinstance(v, kind) and not isinstance(v, bool) and math.isfinite(v) and v >= low and v > 0

    if not (isinstance(value, (tuple, list)) and len(value) == 2 and all(good(v) for v in value)):
        _fail(name, value, what)
    return tuple(int(v) if integer else float(v) for v in value)


@dataclass(frozen=True, eq=False)
class CarbonFieldConfig:
    """The map, its grid and the transport coefficients (see the module docstring for units).

    ``velocity_km_per_h`` is a uniform ``(vx, vy)`` or an ``(nx, ny, 2)`` array, one vector per cell.
    """

    size_km: tuple[float, float] = (4000.0, 2500.0)
    cells: tuple[int, int] = (80, 50)
    diffusion_km2_per_h: float = 2500.0
    velocity_km_per_h: Any = (0.0, 0.0)
    decay_per_h: float = 0.0
    advection: str = "central"

    def __post_init__(self) -> None:
        object.__setattr__(self, "size_km", _pair("size_km", self.size_km, integer=False))
        object.__setattr__(self, "cells", _pair("cells", self.cells, integer=True))
        for name in ("diffusion_km2_per_h", "decay_per_h"):
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and v >= 0):
                _fail(name, v, "a finite number >= 0")
        if self.advection not in ADVECTION_SCHEMES:
            _fail("advection", self.advection, f"one of {ADVECTION_SCHEMES}")
        try:
            vel = np.array(self.velocity_km_per_h, dtype=float)
        except (TypeError, ValueError):
            vel = None
        nx, ny = self.cells
        if vel is None or vel.shape not in ((2,), (nx, ny, 2)) or not np.all(np.isfinite(vel)):
            _fail("velocity_km_per_h", self.velocity_km_per_h,
                  f"finite (vx, vy) or a finite array of shape ({nx}, {ny}, 2) in km/h")
        vel.setflags(write=False)
        object.__setattr__(self, "velocity_km_per_h", vel)

    @property
    def spacing_km(self) -> tuple[float, float]:
        return (self.size_km[0] / self.cells[0], self.size_km[1] / self.cells[1])

    def velocity_field(self) -> np.ndarray:
        """The ``(nx, ny, 2)`` velocity of every cell in km/h."""
        return np.broadcast_to(self.velocity_km_per_h, (*self.cells, 2)).copy()

    def stability_numbers(self, dt_h: float) -> dict[str, float]:
        """The largest D dt/h^2, Courant number |v_x| dt/dx or |v_y| dt/dy, and cell Peclet |v| h/D."""
        (dx, dy), d = self.spacing_km, self.diffusion_km2_per_h
        vx, vy = (float(np.abs(self.velocity_field()[..., a]).max()) for a in (0, 1))
        adv = max(vx * dx, vy * dy)
        peclet = adv / d if d > 0 else (math.inf if adv > 0 else 0.0)
        return {"diffusion_number": d * dt_h / min(dx, dy) ** 2, "courant": max(vx / dx, vy / dy) * dt_h,
                "cell_peclet": peclet}


def _operator(face_v: np.ndarray, d: float, h: float, k: float, upwind: bool) -> tuple:
    """Diagonals (lower, main, upper), each ``(n, m)``, of the 1-D operator along axis 0.

    ``face_v`` is ``(n + 1, m)``: the velocity on every face, the two walls included (set to 0).
    The flux through face f is ``alpha_f C_{f-1} + beta_f C_f``.
    """
    if upwind:
        alpha, beta = np.maximum(face_v, 0.0) + d / h, np.minimum(face_v, 0.0) - d / h
    else:
        alpha, beta = face_v / 2 + d / h, face_v / 2 - d / h
    alpha[0] = alpha[-1] = beta[0] = beta[-1] = 0.0  # zero-flux walls
    return alpha[:-1] / h, (beta[:-1] - alpha[1:]) / h - k / 2, -beta[1:] / h


def _apply(diags: tuple, c: np.ndarray) -> np.ndarray:
    lo, di, up = diags
    out = di * c
    out[1:] += lo[1:] * c[:-1]
    out[:-1] += up[:-1] * c[1:]
    return out


def _factor(diags: tuple, half_dt: float) -> tuple:
    """Thomas factors of ``I - half_dt * A`` for all lines at once: (lower, 1/pivot, c')."""
    lo, di, up = diags
    a, b, c = -half_dt * lo, 1.0 - half_dt * di, -half_dt * up
    inv_piv, cp = np.empty_like(b), np.empty_like(b)
    inv_piv[0] = 1.0 / b[0]
    cp[0] = c[0] * inv_piv[0]
    for i in range(1, b.shape[0]):
        inv_piv[i] = 1.0 / (b[i] - a[i] * cp[i - 1])
        cp[i] = c[i] * inv_piv[i]
    return a, inv_piv, cp


def _solve(factors: tuple, rhs: np.ndarray) -> np.ndarray:
    a, inv_piv, cp = factors
    x = np.empty_like(rhs)
    x[0] = rhs[0] * inv_piv[0]
    for i in range(1, rhs.shape[0]):
        x[i] = (rhs[i] - a[i] * x[i - 1]) * inv_piv[i]
    for i in range(rhs.shape[0] - 2, -1, -1):
        x[i] -= cp[i] * x[i + 1]
    return x


class CarbonField:
    """C(x, y, t) on the grid of ``config``; ``values[i, j]`` is the cell at x-index i, y-index j.

    ``node_xy`` (``(n_nodes, 2)``, km) lets :meth:`step` take one rate per node (kg/h).
    """

    def __init__(self, config: CarbonFieldConfig, node_xy: Any = None) -> None:
        self.config = config
        self.nodes = None if node_xy is None else self._points("node_xy", node_xy, 2)
        (self.dx, self.dy), (nx, ny) = config.spacing_km, config.cells
        vel, d, k = config.velocity_field(), config.diffusion_km2_per_h, config.decay_per_h
        up = config.advection == "upwind"
        fx = np.zeros((nx + 1, ny))
        fx[1:-1] = (vel[1:, :, 0] + vel[:-1, :, 0]) / 2
        fy = np.zeros((ny + 1, nx))
        fy[1:-1] = ((vel[:, 1:, 1] + vel[:, :-1, 1]) / 2).T
        self._ax = _operator(fx, d, self.dx, k, up)  # along axis 0 of C
        self._ay = _operator(fy, d, self.dy, k, up)  # along axis 0 of C.T
        self._factors: dict[float, tuple] = {}
        self.reset()

    def _points(self, name: str, pts: Any, cols: int) -> np.ndarray:
        arr = np.array(pts, dtype=float)
        lx, ly = self.config.size_km
        if arr.ndim != 2 or arr.shape[1] != cols or not np.all(np.isfinite(arr)):
            _fail(name, pts, f"a finite array of shape (n, {cols})")
        if np.any((arr[:, 0] < 0) | (arr[:, 0] > lx) | (arr[:, 1] < 0) | (arr[:, 1] > ly)):
            _fail(name, pts, f"points inside the map [0, {lx}] x [0, {ly}] km")
        if cols == 3 and np.any(arr[:, 2] < 0):
            _fail(name, pts, "rates >= 0 (kg/h)")
        return arr

    def monotone_dt_h(self) -> float | None:
        """Largest step that keeps C >= 0 (see the module docstring); None if no step does."""
        diags = (*self._ax, *self._ay)
        if min(float(d.min()) for d in diags[0::3] + diags[2::3]) < 0:
            return None
        worst = max(float(np.abs(self._ax[1]).max()), float(np.abs(self._ay[1]).max()))
        return math.inf if worst == 0 else 2.0 / worst

    def reset(self, initial: Any = None) -> np.ndarray:
        """Time 0 and an empty map, or a copy of ``initial`` (``(nx, ny)``, kg/km^2)."""
        shape = self.config.cells
        if initial is None:
            self._c = np.zeros(shape)
        else:
            c = np.array(initial, dtype=float)
            if c.shape != shape or not np.all(np.isfinite(c)):
                _fail("initial", initial, f"a finite array of shape {shape}")
            self._c = c
        self.time_h = 0.0
        return self.values

    @property
    def values(self) -> np.ndarray:
        """The grid (read-only view), kg CO2/km^2."""
        v = self._c.view()
        v.setflags(write=False)
        return v

    def total_mass(self) -> float:
        """Carbon on the map in kg: sum of C times the cell area."""
        return float(self._c.sum() * self.dx * self.dy)

    def cell_centers(self) -> tuple[np.ndarray, np.ndarray]:
        """x (``nx``) and y (``ny``) of the cell centres in km."""
        nx, ny = self.config.cells
        return (np.arange(nx) + 0.5) * self.dx, (np.arange(ny) + 0.5) * self.dy

    def source_density(self, sources: Any) -> np.ndarray:
        """S on the grid (kg/km^2/h) from ``(m, 3)`` rows ``(x, y, rate)`` or one rate per node."""
        nx, ny = self.config.cells
        s = np.zeros((nx, ny))
        if sources is None:
            return s
        arr = np.asarray(sources, dtype=float)
        if arr.ndim == 1:
            if self.nodes is None or arr.shape != (len(self.nodes),) or not np.all(np.isfinite(arr) & (arr >= 0)):
                n = "no node_xy given at construction" if self.nodes is None else f"{len(self.nodes)} nodes"
                _fail("sources", sources, f"one finite rate >= 0 per node ({n})")
            pts = np.column_stack([self.nodes, arr])
        else:
            pts = self._points("sources", arr, 3)
        # bilinear weights; next to a wall both indices clip to the wall cell, which then takes it all
        fx, fy = pts[:, 0] / self.dx - 0.5, pts[:, 1] / self.dy - 0.5
        ix, iy = np.floor(fx).astype(int), np.floor(fy).astype(int)
        for a, wa in ((ix, 1 - fx + ix), (ix + 1, fx - ix)):
            for b, wb in ((iy, 1 - fy + iy), (iy + 1, fy - iy)):
                np.add.at(s, (np.clip(a, 0, nx - 1), np.clip(b, 0, ny - 1)), wa * wb * pts[:, 2])
        return s / (self.dx * self.dy)

    def step(self, dt_h: float, sources: Any = None) -> np.ndarray:
        """Advance by ``dt_h`` hours with ``sources`` (kg/h) held constant; returns :attr:`values`."""
        if not (isinstance(dt_h, (int, float, np.floating)) and math.isfinite(dt_h) and dt_h > 0):
            _fail("dt_h", dt_h, "a finite number > 0 (hours)")
        dt = float(dt_h)
        half_s = 0.5 * dt * self.source_density(sources)
        if dt not in self._factors:
            if len(self._factors) >= 8:
                self._factors.clear()
            self._factors[dt] = (_factor(self._ax, dt / 2), _factor(self._ay, dt / 2))
        fx, fy = self._factors[dt]
        c = self._c
        star = _solve(fx, c + 0.5 * dt * _apply(self._ay, np.ascontiguousarray(c.T)).T + half_s)
        rhs = star + 0.5 * dt * _apply(self._ax, star) + half_s
        self._c = np.ascontiguousarray(_solve(fy, np.ascontiguousarray(rhs.T)).T)
        self.time_h += dt
        return self.values

    def summary(self, n_blocks: Any) -> np.ndarray:
        """Block means of C on a ``bx x by`` coarse grid (``n_blocks`` int or pair), x-major, flat."""
        nx, ny = self.config.cells
        pair = (n_blocks, n_blocks) if isinstance(n_blocks, (int, np.integer)) else n_blocks
        ok = isinstance(pair, (tuple, list)) and len(pair) == 2
        ok = ok and all(isinstance(b, (int, np.integer)) and not isinstance(b, bool) for b in pair)
        bx, by = pair if ok else (0, 0)
        if not (1 <= bx <= nx and 1 <= by <= ny):
            _fail("n_blocks", n_blocks, f"an integer or pair with 1 <= bx <= {nx} and 1 <= by <= {ny}")
        ex, ey = np.arange(bx + 1) * nx // bx, np.arange(by + 1) * ny // by
        sums = np.add.reduceat(np.add.reduceat(self._c, ex[:-1], axis=0), ey[:-1], axis=1)
        return (sums / np.outer(np.diff(ex), np.diff(ey))).ravel()


def render_map(ax: Any, field: CarbonField, node_names: Any = None, arrows: int = 12) -> Any:
    """Draw the carbon-efficiency map (as Fig. 2 of the paper) on the matplotlib axes ``ax``.

    Colour: C (green low, red high); white arrows: the carbon-flow velocity on a coarse
    ``arrows x arrows`` lattice (0 for none); black dots: the nodes, labelled with ``node_names``.
    Returns the image artist.
    """
    lx, ly = field.config.size_km
    im = ax.imshow(field.values.T, origin="lower", extent=(0.0, lx, 0.0, ly), cmap="RdYlGn_r", aspect="auto")
    ax.figure.colorbar(im, ax=ax, label="carbon concentration (kg CO$_2$/km$^2$)")
    vel = field.config.velocity_field()
    if arrows and np.any(vel != 0):
        (nx, ny), (xc, yc) = field.config.cells, field.cell_centers()
        ix = np.linspace(0, nx - 1, min(arrows, nx)).astype(int)
        iy = np.linspace(0, ny - 1, min(arrows, ny)).astype(int)
        sub = vel[np.ix_(ix, iy)]
        ax.quiver(*np.meshgrid(xc[ix], yc[iy], indexing="ij"), sub[..., 0], sub[..., 1], color="white", alpha=0.8)
    if field.nodes is not None:
        ax.scatter(field.nodes[:, 0], field.nodes[:, 1], c="black", s=25, zorder=3)
        for name, xy in zip(node_names if node_names is not None else (), field.nodes):
            ax.annotate(str(name), tuple(xy), xytext=(4, 4), textcoords="offset points", fontsize=8)
    ax.set_xlabel("x (km)")
    ax.set_ylabel("y (km)")
    ax.set_title("Carbon efficiency map (virtual carbon flow field)")
    return im


__all__ = ["ADVECTION_SCHEMES", "CarbonField", "CarbonFieldConfig", "render_map"]
