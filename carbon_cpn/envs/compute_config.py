"""Scenario configuration of the compute side: the CPN nodes and the workload (the ``[cpn]``
and ``[workload]`` tables of a scenario file; workload types after c3o, "Carbon-Computing
Coupling Optimization and Green Scheduling System for Intelligent Computing Centers", Table 2)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from carbon_cpn.envs.config_checks import fraction, nonnegative, positive, require


@dataclass(frozen=True)
class NodeConfig:
    """A CPN node (data center) at a load bus, with CPU and GPU server pools."""

    name: str
    #: pandapower bus label.
    bus: int
    #: Number of CPU servers.
    cpu_units: int
    #: Number of GPU servers.
    gpu_units: int
    #: Power of one CPU server idle / at full load [kW].
    cpu_idle_kw: float = 0.2
    cpu_peak_kw: float = 0.5
    #: Power of one GPU server (8 accelerators) idle / at full load [kW].
    gpu_idle_kw: float = 1.2
    gpu_peak_kw: float = 6.5
    #: Power usage effectiveness: facility power / IT power.
    pue: float = 1.3
    #: Relative speed of this node's servers (work units per server-hour = speed).
    speed: float = 1.0
    #: The region whose grid the node's bus belongs to (scenarios with ``[[regions]]``; else "").
    #: Left out of the repr, which keys the shipped day-ahead plans (regional scenarios have none).
    region: str = field(default="", repr=False)

    def __post_init__(self) -> None:
        for k in ("cpu_units", "gpu_units"):
            v = getattr(self, k)
            require(isinstance(v, int) and v >= 0, f"{self.name}.{k}", v, "an integer >= 0")
        require(self.cpu_units + self.gpu_units > 0, f"{self.name}.cpu_units+gpu_units", 0, "at least one server")
        for res in ("cpu", "gpu"):
            idle, peak = getattr(self, f"{res}_idle_kw"), getattr(self, f"{res}_peak_kw")
            nonnegative(f"{self.name}.{res}_idle_kw", idle)
            require(isinstance(peak, (int, float)) and peak >= idle, f"{self.name}.{res}_peak_kw", peak,
                     f"a number >= {res}_idle_kw ({idle})")
        require(isinstance(self.pue, (int, float)) and 1.0 <= self.pue <= 3.0, f"{self.name}.pue", self.pue,
                 "a number in [1, 3]")
        positive(f"{self.name}.speed", self.speed)


@dataclass(frozen=True)
class CPNConfig:
    nodes: tuple[NodeConfig, ...] = ()

    def __post_init__(self) -> None:
        require(len(self.nodes) >= 1, "cpn.nodes", len(self.nodes), "at least one node")
        names = [n.name for n in self.nodes]
        require(len(set(names)) == len(names), "cpn.nodes names", names, "unique names")


QOS_CLASSES = ("high", "medium", "low", "variable")


@dataclass(frozen=True)
class WorkloadType:
    """One workload class of c3o Table 2."""

    name: str
    #: Share of jobs of this type.
    share: float
    #: Probability that a sub-task of this type runs on GPU servers (else CPU).
    gpu_prob: float
    #: Run time of one sub-task at speed 1 [h], drawn log-uniformly in this range.
    duration_min_h: float
    duration_max_h: float
    #: Servers one sub-task occupies, drawn log-uniformly (integers) in this range.
    units_min: int
    units_max: int
    #: Deadline slack: deadline = arrival + slack x (critical-path run time at speed 1)
    #: + one interval per DAG level (sub-tasks start only at interval boundaries).
    slack: float
    #: QoS priority of c3o Table 2: "high", "medium", "low" or "variable" (variable draws the
    #: slack uniformly between 1.5 and 2 x slack per job).
    qos: str = "medium"
    #: Data a job of this type reads from its home region [GB] (c3o Table 2's data locality;
    #: used by families with regions).
    data_gb: float = 0.0

    def __post_init__(self) -> None:
        nonnegative(f"{self.name}.data_gb", self.data_gb)
        fraction(f"{self.name}.share", self.share)
        fraction(f"{self.name}.gpu_prob", self.gpu_prob)
        positive(f"{self.name}.duration_min_h", self.duration_min_h)
        require(isinstance(self.duration_max_h, (int, float)) and self.duration_max_h >= self.duration_min_h,
                 f"{self.name}.duration_max_h", self.duration_max_h, f"a number >= duration_min_h ({self.duration_min_h})")
        require(isinstance(self.units_min, int) and self.units_min >= 1, f"{self.name}.units_min", self.units_min,
                 "an integer >= 1")
        require(isinstance(self.units_max, int) and self.units_max >= self.units_min, f"{self.name}.units_max",
                 self.units_max, f"an integer >= units_min ({self.units_min})")
        require(isinstance(self.slack, (int, float)) and self.slack >= 1.0, f"{self.name}.slack", self.slack,
                 "a number >= 1")
        require(self.qos in QOS_CLASSES, f"{self.name}.qos", self.qos, f"one of {QOS_CLASSES}")


@dataclass(frozen=True)
class WorkloadConfig:
    """Poisson job arrivals with a daily cycle; DAG shapes; the workload mix."""

    #: Mean arrivals per hour over a day.
    jobs_per_hour: float = 40.0
    #: Relative amplitude of the daily cycle (rate x (1 + a cos(2 pi (h - peak_hour)/24))).
    daily_amplitude: float = 0.5
    #: Hour of peak arrivals.
    peak_hour: float = 14.0
    #: Probabilities of the DAG shapes single / chain / fork-join.
    p_single: float = 0.5
    p_chain: float = 0.3
    p_forkjoin: float = 0.2
    #: Sub-tasks per chain or fork-join job (max).
    max_subtasks: int = 4
    #: Queue length that reads as 1.0 in the observation (the queue itself is unbounded).
    queue_capacity: int = 64
    #: Run-time factor of a GPU-preferring sub-task placed on CPU servers, and the reverse.
    gpu_on_cpu_slowdown: float = 4.0
    cpu_on_gpu_slowdown: float = 1.0
    #: A job not finished this long after its deadline is dropped [h].
    drop_after_h: float = 2.0
    #: Revenue per server-hour of a job finished by its deadline [$], by resource type.
    cpu_price_usd_per_server_h: float = 0.4
    gpu_price_usd_per_server_h: float = 6.0
    types: tuple[WorkloadType, ...] = ()

    def __post_init__(self) -> None:
        positive("workload.jobs_per_hour", self.jobs_per_hour)
        # Arrivals are drawn per interval into arrays: an unbounded rate is an unbounded allocation.
        require(self.jobs_per_hour <= 10_000, "workload.jobs_per_hour", self.jobs_per_hour, "at most 10,000 jobs per hour")
        fraction("workload.daily_amplitude", self.daily_amplitude)
        require(isinstance(self.peak_hour, (int, float)) and 0 <= self.peak_hour < 24, "workload.peak_hour",
                 self.peak_hour, "an hour in [0, 24)")
        for k in ("p_single", "p_chain", "p_forkjoin"):
            fraction(f"workload.{k}", getattr(self, k))
        total = self.p_single + self.p_chain + self.p_forkjoin
        require(abs(total - 1.0) < 1e-9, "workload.p_single+p_chain+p_forkjoin", total, "1.0")
        require(isinstance(self.max_subtasks, int) and 4 <= self.max_subtasks <= 8, "workload.max_subtasks",
                 self.max_subtasks, "an integer in [4, 8]")
        require(isinstance(self.queue_capacity, int) and self.queue_capacity >= 1, "workload.queue_capacity",
                 self.queue_capacity, "an integer >= 1")
        positive("workload.drop_after_h", self.drop_after_h)
        for k in ("gpu_on_cpu_slowdown", "cpu_on_gpu_slowdown"):
            require(isinstance(getattr(self, k), (int, float)) and getattr(self, k) >= 1.0, f"workload.{k}",
                     getattr(self, k), "a number >= 1")
        nonnegative("workload.cpu_price_usd_per_server_h", self.cpu_price_usd_per_server_h)
        nonnegative("workload.gpu_price_usd_per_server_h", self.gpu_price_usd_per_server_h)
        names = [t.name for t in self.types]
        require(len(set(names)) == len(names), "workload.types names", names, "unique names")
        require(len(self.types) >= 1, "workload.types", len(self.types), "at least one type")
        share = sum(t.share for t in self.types)
        require(abs(share - 1.0) < 1e-6, "workload.types shares", share, "shares summing to 1")


@dataclass(frozen=True)
class LinkConfig:
    """The network link between regions (c3o Table 1: 32-38 ms cross-region latency)."""

    latency_ms: float = 35.0
    bandwidth_gbps: float = 100.0
    #: Network energy per GB moved [kWh/GB].
    energy_kwh_per_gb: float = 0.06
    #: Share of jobs whose data lives in each region, in the order of ``regions`` (empty: equal).
    home_share: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        nonnegative("link.latency_ms", self.latency_ms)
        positive("link.bandwidth_gbps", self.bandwidth_gbps)
        nonnegative("link.energy_kwh_per_gb", self.energy_kwh_per_gb)
        for k, s in enumerate(self.home_share):
            fraction(f"link.home_share[{k}]", s)
        if self.home_share:
            require(abs(sum(self.home_share) - 1.0) < 1e-9, "link.home_share", list(self.home_share), "shares summing to 1")

    def transfer_h(self, gb: float | np.ndarray) -> float | np.ndarray:
        """Time to move ``gb`` over the link: latency plus size / bandwidth [h]."""
        return (self.latency_ms / 1000.0 + np.asarray(gb) * 8.0 / self.bandwidth_gbps) / 3600.0


__all__ = ["CPNConfig", "LinkConfig", "NodeConfig", "QOS_CLASSES", "WorkloadConfig", "WorkloadType"]
