"""Component failures of data-center nodes, and the degradation telemetry that precedes them.

The digital twin of "Carbon-Computing Coupling Optimization and Green Scheduling System for
Intelligent Computing Centers" (Xie, Wei; c3o; Algorithm 3, Table 5) watches the cooling, power
supply, network and thermal state of every node and predicts failures from their telemetry.
This module is the physical side it watches: per node and component an alternating renewal
process (up for a Weibull time, then down for a lognormal repair), as fitted to the LANL field
data by "A large-scale study of failures in high-performance computing systems" (Schroeder,
Gibson; DSN 2006): times between failures follow a Weibull distribution with shape 0.7-0.8
(a decreasing hazard: a component that just failed is the likeliest to fail again), and repair
times a lognormal distribution with a mean several times its median.

Default components (hours; ``FailureConfig.rate_scale`` divides every Weibull scale):

=========  =====  =========  ========  ===========  =====  ========
component  shape  scale [h]  MTBF [h]  repair med.  sigma  MTTR [h]
=========  =====  =========  ========  ===========  =====  ========
cooling    0.70   450        570       2.0 h        0.9    3.0
power      0.75   700        833       1.0 h        0.8    1.4
network    0.70   500        633       0.75 h       0.9    1.1
thermal    0.80   550        623       1.5 h        0.8    2.1
=========  =====  =========  ========  ===========  =====  ========

Signals, healthy baseline (+ shift at the failure level): cooling: supply air 22 °C (+5), pump
vibration 2 mm/s (+2.5), return water 18 °C (+4); power: PSU temperature 45 °C (+8), voltage
ripple 20 mV (+25), ECC errors 0.5/h (+3); network: packet errors 1/Mpkt (+5), latency 0.5 ms
(+0.6), retransmits 0.1 % (+0.6); thermal: inlet 24 °C (+6), CPU 65 °C (+15), throttling
events 0.2/h (+3). The noise std of each is in ``DEFAULT_COMPONENTS``.

Rationale: the shapes are the field fits' 0.7-0.8. The field MTBF of one component of one node
is months; the scales are shortened so that four nodes see about four failures a week (about
one per node), enough to matter within a simulated week. The repair medians sit around c3o's
120-min MTTR baseline (Table 7); sigma is below the field data's (whose mean repair is several
times the median) so that a repair rarely outlasts an episode.

Telemetry: every component reports three signals at the end of every interval: its healthy
baseline + AR(1) noise (std ``noise_std``, correlation time ``noise_corr_h``) + ``shift`` times
a degradation level. Before each failure the level ramps from 0 to a per-failure amplitude
(``amplitude``) as ((t - start) / lead)^``ramp_power``, starting a lead time drawn uniformly in
``lead_h`` before the failure (clipped to the preceding up time), on a random subset of the
signals (each with probability ``degrade_prob``, at least one); it holds the amplitude while the
component is down and drops to 0 at the repair. Benign transients (Poisson, ``transient_rate_per_h``;
a triangular pulse of ``transient_duration_h`` and ``transient_amplitude`` times the shift on one
signal) look like degradation to a threshold, but pass without a failure. Readings are clipped
at 0 (every signal is a non-negative quantity).

The process starts ``warmup_h`` before time 0 so that an episode begins in the middle of the
components' lives, not with all of them new. Draws come in fixed-size chunks from three
generators spawned from the given one (failures, transients, noise): the same generator state
gives the same failures and telemetry, however far ahead they are asked for.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from carbon_cpn.envs.config_checks import fraction, nonnegative, positive, require


@dataclass(frozen=True)
class ComponentSpec:
    """One component kind: its failure and repair laws (hours) and its telemetry signals."""

    name: str
    weibull_shape: float
    weibull_scale_h: float
    repair_median_h: float
    repair_sigma: float
    signals: tuple[str, ...]
    baseline: tuple[float, ...]
    noise_std: tuple[float, ...]
    shift: tuple[float, ...]

    def __post_init__(self) -> None:
        key = f"failures.components[{self.name}]"
        require(isinstance(self.name, str) and self.name != "", f"{key}.name", self.name, "a non-empty string")
        for attr in ("weibull_shape", "weibull_scale_h", "repair_median_h"):
            positive(f"{key}.{attr}", getattr(self, attr))
        nonnegative(f"{key}.repair_sigma", self.repair_sigma)
        n = len(self.signals)
        require(n >= 1, f"{key}.signals", self.signals, "at least one signal name")
        for attr in ("baseline", "noise_std", "shift"):
            vals = getattr(self, attr)
            require(len(vals) == n, f"{key}.{attr}", vals, f"{n} numbers (one per signal)")
            for v in vals:
                require(isinstance(v, (int, float)) and math.isfinite(v), f"{key}.{attr}", vals, "finite numbers")
        require(all(v >= 0 for v in self.noise_std), f"{key}.noise_std", self.noise_std, "numbers >= 0")
        require(all(v != 0 for v in self.shift), f"{key}.shift", self.shift, "non-zero numbers")

    def mean_tbf_h(self) -> float:
        """Mean of the Weibull time between failures, scale * Gamma(1 + 1/shape)."""
        return self.weibull_scale_h * math.gamma(1.0 + 1.0 / self.weibull_shape)

    def mean_repair_h(self) -> float:
        """Mean of the lognormal repair time, median * exp(sigma^2 / 2)."""
        return self.repair_median_h * math.exp(self.repair_sigma ** 2 / 2.0)


DEFAULT_COMPONENTS = (
    ComponentSpec("cooling", 0.70, 450.0, 2.0, 0.9, ("supply_air_c", "pump_vibration_mm_s", "return_water_c"),
                  (22.0, 2.0, 18.0), (0.5, 0.3, 0.4), (5.0, 2.5, 4.0)),
    ComponentSpec("power", 0.75, 700.0, 1.0, 0.8, ("psu_temp_c", "voltage_ripple_mv", "ecc_errors_per_h"),
                  (45.0, 20.0, 0.5), (1.0, 3.0, 0.3), (8.0, 25.0, 3.0)),
    ComponentSpec("network", 0.70, 500.0, 0.75, 0.9, ("packet_errors_per_mpkt", "latency_ms", "retransmit_pct"),
                  (1.0, 0.5, 0.1), (0.4, 0.08, 0.06), (5.0, 0.6, 0.6)),
    ComponentSpec("thermal", 0.80, 550.0, 1.5, 0.8, ("inlet_c", "cpu_c", "throttles_per_h"),
                  (24.0, 65.0, 0.2), (0.6, 2.0, 0.2), (6.0, 15.0, 3.0)),
)


def _interval(key: str, v: tuple[float, float], low_ok: float = 0.0) -> None:
    ok = (isinstance(v, tuple) and len(v) == 2 and all(isinstance(x, (int, float)) and math.isfinite(x) for x in v)
          and low_ok < v[0] <= v[1])
    require(ok, key, v, f"a pair (low, high) with {low_ok} < low <= high")


@dataclass(frozen=True)
class FailureConfig:
    """The failure process and its telemetry (see the module docstring)."""

    components: tuple[ComponentSpec, ...] = DEFAULT_COMPONENTS
    rate_scale: float = 1.0
    lead_h: tuple[float, float] = (1.0, 6.0)
    ramp_power: float = 2.0
    amplitude: tuple[float, float] = (0.6, 1.4)
    degrade_prob: float = 0.7
    noise_scale: float = 1.0
    noise_corr_h: float = 0.5
    transient_rate_per_h: float = 1.0 / 24.0
    transient_duration_h: tuple[float, float] = (0.25, 1.0)
    transient_amplitude: tuple[float, float] = (0.5, 1.2)
    warmup_h: float = 2000.0
    chunk: int = 16

    def __post_init__(self) -> None:
        comps = self.components
        require(isinstance(comps, tuple) and len(comps) >= 1 and all(isinstance(c, ComponentSpec) for c in comps),
                "failures.components", comps, "a non-empty tuple of ComponentSpec")
        names = [c.name for c in comps]
        require(len(set(names)) == len(names), "failures.components", names, "distinct component names")
        n_sig = {len(c.signals) for c in comps}
        require(len(n_sig) == 1, "failures.components", names, "the same number of signals for every component")
        for key in ("rate_scale", "ramp_power", "noise_corr_h"):
            positive(f"failures.{key}", getattr(self, key))
        for key in ("noise_scale", "transient_rate_per_h", "warmup_h"):
            nonnegative(f"failures.{key}", getattr(self, key))
        fraction("failures.degrade_prob", self.degrade_prob)
        for key in ("lead_h", "amplitude", "transient_duration_h", "transient_amplitude"):
            _interval(f"failures.{key}", getattr(self, key))
        require(isinstance(self.chunk, int) and self.chunk >= 1, "failures.chunk", self.chunk, "an integer >= 1")

    @property
    def n_signals(self) -> int:
        return len(self.components[0].signals)

    @property
    def component_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.components)


@dataclass(frozen=True)
class FailureStep:
    """One interval [t0_h, t0_h + dt_h): ``down`` and ``failed`` are bool[node, component]
    (down at some time in it; a failure started in it), ``telemetry`` float[node, component,
    signal] read at its end."""

    t0_h: float
    dt_h: float
    down: np.ndarray
    failed: np.ndarray
    telemetry: np.ndarray


@dataclass(frozen=True)
class FailureSchedule:
    """Failures as flat arrays sorted by ``fail_h``; ``degraded`` is bool[event, signal]."""
    node: np.ndarray
    component: np.ndarray
    fail_h: np.ndarray
    repair_end_h: np.ndarray
    lead_h: np.ndarray
    amplitude: np.ndarray
    degraded: np.ndarray

    @property
    def ramp_start_h(self) -> np.ndarray:
        return self.fail_h - self.lead_h

    @property
    def repair_h(self) -> np.ndarray:
        return self.repair_end_h - self.fail_h


class FailureProcess:
    """The failures and telemetry of ``n_nodes`` nodes, each with every component of ``config``."""

    def __init__(self, config: FailureConfig, n_nodes: int, rng: np.random.Generator) -> None:
        require(isinstance(config, FailureConfig), "config", config, "a FailureConfig")
        require(isinstance(n_nodes, (int, np.integer)) and n_nodes >= 1, "n_nodes", n_nodes, "an integer >= 1")
        require(isinstance(rng, np.random.Generator), "rng", rng, "a numpy Generator (np.random.default_rng(seed))")
        self.config, self.n_nodes = config, int(n_nodes)
        comps = config.components
        self.n_components, self.n_signals = len(comps), config.n_signals
        p, s = self.n_nodes * self.n_components, self.n_signals

        def per_process(values: list) -> np.ndarray:  # component-major values -> [P, ...] node-major
            return np.tile(np.asarray(values, dtype=float), (self.n_nodes,) + (1,) * (np.ndim(values) - 1))

        self._shape = per_process([c.weibull_shape for c in comps])
        self._scale = per_process([c.weibull_scale_h for c in comps]) / config.rate_scale
        self._mu = np.log(per_process([c.repair_median_h for c in comps]))
        self._sigma = per_process([c.repair_sigma for c in comps])
        self._baseline = per_process([c.baseline for c in comps])
        self._noise_std = per_process([c.noise_std for c in comps]) * config.noise_scale
        self._shift = per_process([c.shift for c in comps])
        self._fail_rng, self._transient_rng, self._noise_rng = rng.spawn(3)
        empty = np.empty((p, 0))
        self._fail, self._end, self._lead, self._amp = empty, empty, empty, empty
        self._mask = np.empty((p, 0, s), dtype=bool)
        self._next_up = np.full(p, -config.warmup_h)
        self._tr_start, self._tr_dur, self._tr_amp = empty, empty, empty
        self._tr_onehot = np.empty((p, 0, s))
        self._tr_clock = np.full(p, -config.transient_duration_h[1])
        self._ar = self._noise_rng.standard_normal((p, s))
        self.t_h = 0.0

    # -- drawing ---------------------------------------------------------------------------
    def _extend(self, until_h: float) -> None:
        """Draw chunks until every process has an event ending after ``until_h`` (and a
        transient starting after it)."""
        cfg, k = self.config, self.config.chunk
        p, s = self._next_up.size, self.n_signals
        while self._next_up.min() <= until_h:
            g = self._fail_rng
            up = self._scale[:, None] * g.weibull(np.broadcast_to(self._shape[:, None], (p, k)))
            rep = np.exp(self._mu[:, None] + self._sigma[:, None] * g.standard_normal((p, k)))
            lead = g.uniform(*cfg.lead_h, size=(p, k))
            amp = g.uniform(*cfg.amplitude, size=(p, k))
            mask = g.random((p, k, s)) < cfg.degrade_prob
            mask[np.arange(p)[:, None], np.arange(k), g.integers(s, size=(p, k))] = True
            cycle_end = self._next_up[:, None] + np.cumsum(up + rep, axis=1)
            fail = cycle_end - rep
            self._fail = np.hstack([self._fail, fail])
            self._end = np.hstack([self._end, cycle_end])
            self._lead = np.hstack([self._lead, np.minimum(lead, up)])
            self._amp = np.hstack([self._amp, amp])
            self._mask = np.concatenate([self._mask, mask], axis=1)
            self._next_up = cycle_end[:, -1]
        while cfg.transient_rate_per_h > 0 and self._tr_clock.min() <= until_h:
            g = self._transient_rng
            start = self._tr_clock[:, None] + np.cumsum(g.exponential(1.0 / cfg.transient_rate_per_h, (p, k)), axis=1)
            self._tr_start = np.hstack([self._tr_start, start])
            self._tr_dur = np.hstack([self._tr_dur, g.uniform(*cfg.transient_duration_h, size=(p, k))])
            self._tr_amp = np.hstack([self._tr_amp, g.uniform(*cfg.transient_amplitude, size=(p, k))])
            self._tr_onehot = np.concatenate([self._tr_onehot, np.eye(s)[g.integers(s, size=(p, k))]], axis=1)
            self._tr_clock = start[:, -1]

    # -- state at a time -------------------------------------------------------------------
    def _current(self, t_h: float) -> np.ndarray:
        """Index [P] of every process's first event whose repair ends after ``t_h``."""
        self._extend(t_h)
        return (self._end <= t_h).sum(axis=1)

    def _level(self, t_h: float) -> np.ndarray:
        """Degradation [P, S] in units of the shift: ramp, failed level, transients."""
        rows = np.arange(self._fail.shape[0])
        j = self._current(t_h)
        fail, lead = self._fail[rows, j], self._lead[rows, j]
        frac = np.clip((t_h - (fail - lead)) / np.maximum(lead, 1e-12), 0.0, 1.0)
        level = (frac ** self.config.ramp_power * self._amp[rows, j])[:, None] * self._mask[rows, j]
        if self._tr_start.shape[1]:
            phase = (t_h - self._tr_start) / self._tr_dur
            pulse = np.where((phase >= 0) & (phase < 1), 1.0 - np.abs(2.0 * phase - 1.0), 0.0) * self._tr_amp
            level = level + np.einsum("pe,pes->ps", pulse, self._tr_onehot)
        return level

    def down_at(self, t_h: float) -> np.ndarray:
        """bool[node, component]: down at time ``t_h``."""
        rows = np.arange(self._fail.shape[0])
        return (self._fail[rows, self._current(t_h)] <= t_h).reshape(self.n_nodes, self.n_components)

    def is_down(self, node: int, t_h: float | None = None) -> bool:
        """Whether any component of ``node`` is down at ``t_h`` (default: the end of the last step)."""
        require(isinstance(node, (int, np.integer)) and 0 <= node < self.n_nodes, "node", node,
                f"an integer in [0, {self.n_nodes})")
        return bool(self.down_at(self.t_h if t_h is None else float(t_h))[node].any())

    def step(self, t0_h: float, dt_h: float) -> FailureStep:
        """The interval [t0_h, t0_h + dt_h); advances the telemetry noise by ``dt_h``."""
        require(isinstance(t0_h, (int, float)) and math.isfinite(t0_h) and t0_h >= 0, "t0_h", t0_h, "a number >= 0")
        positive("dt_h", dt_h)
        t1 = float(t0_h) + float(dt_h)
        rows = np.arange(self._fail.shape[0])
        self._extend(t1)
        down = self._fail[rows, self._current(t0_h)] < t1
        failed = ((self._fail >= t0_h) & (self._fail < t1)).any(axis=1)
        rho = math.exp(-dt_h / self.config.noise_corr_h)
        self._ar = rho * self._ar + math.sqrt(1.0 - rho * rho) * self._noise_rng.standard_normal(self._ar.shape)
        values = self._baseline + self._noise_std * self._ar + self._shift * self._level(t1)
        shape = (self.n_nodes, self.n_components)
        self.t_h = t1
        return FailureStep(float(t0_h), float(dt_h), down.reshape(shape), failed.reshape(shape),
                           np.maximum(values, 0.0).reshape(*shape, self.n_signals))

    def schedule(self, until_h: float) -> FailureSchedule:
        """The failures that start before ``until_h`` and whose repair ends after time 0."""
        self._extend(until_h)
        keep = (self._fail < until_h) & (self._end > 0.0)
        proc, _ = np.nonzero(keep)
        order = np.argsort(self._fail[keep], kind="stable")
        return FailureSchedule(node=(proc // self.n_components)[order], component=(proc % self.n_components)[order],
                               fail_h=self._fail[keep][order], repair_end_h=self._end[keep][order],
                               lead_h=self._lead[keep][order], amplitude=self._amp[keep][order],
                               degraded=self._mask[keep][order])


__all__ = ["DEFAULT_COMPONENTS", "ComponentSpec", "FailureConfig", "FailureProcess", "FailureSchedule",
           "FailureStep"]
