"""Policies of ``CarbonCPN-Microgrid-v0``: the joint MILP with perfect foresight (the family's
oracle), the MILP paper's two baselines, a carbon-aware rule and the random policy.

The MILP (:mod:`carbon_cpn.optim.microgrid_milp`) is built from the episode at its start
(:func:`instance_from_env`): the env's intervals as periods, its sites, the training jobs of
the whole day (the core's arrival foresight: a job arriving in interval ``t`` may start from
``t + 1``; its run rounded up to whole intervals; a job left out forfeits its value and pays
the deadline penalty, so a job run is worth both), the day's inference demand (drawn at reset),
the renewables, and the day-ahead forecast of the LMP and MCI at the sites' buses (the MILP
takes prices as given; the env's grid responds to the sites' draw). A plan is replayed through
the env's actions: a training job starts where and when the plan starts it (or as soon after
as it fits there); a region's routing moves toward the plan's shares of the coming interval
(the action whose result is nearest in L1). The env's site LP dispatches the energy under any
policy, so the plans' energy schedules are not replayed, only their work.

* ``oracle``: the joint plan;
* ``compute_only``: the plan of work made without energy information (stage 1 of the
  compute-only baseline; the energy is then the env's, not the follow-the-load rule);
* ``energy_only``: the fixed schedule (nearest-site inference, training first come, first
  served), with the env's site LP optimizing the energy: the energy-only baseline as a policy;
* ``greenest``: training on the site with the most on-site renewables to spare this interval
  (then the lowest forecast import cost), routing toward the allowed site that has most;
* ``random``: uniform over the valid actions.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from typing import Any

import gymnasium as gym
import numpy as np

from carbon_cpn.envs.cpn import job_values_usd
from carbon_cpn.envs.views import foresight
from carbon_cpn.optim.microgrid_instance import MicrogridInstance
from carbon_cpn.optim.microgrid_milp import MicrogridMILP, MicrogridPlan
from carbon_cpn.optim.microgrid_schedule import fcfs_schedule

GPU = 1


def instance_from_env(env: gym.Env) -> MicrogridInstance:
    """The MILP instance of the episode under way (module docstring)."""
    u: Any = env.unwrapped
    cfg, dt, T = u.cfg, u.interval_h, u.n_intervals
    nodes = cfg.cpn.nodes
    fs = foresight(u)
    gpus, periods, release, deadline, value = [], [], [], [], []
    for t, b in enumerate(fs.batches):
        if b is None:
            continue
        vals = job_values_usd(b, cfg.workload) + cfg.reward.deadline_penalty_usd
        for k in range(b.n_jobs):
            task = np.flatnonzero(b.task_job == k)[0]
            gpus.append(int(b.task_units[task]))
            periods.append(max(1, math.ceil(float(b.task_duration_h[task]) / dt - 1e-9)))
            release.append(t + 1)
            deadline.append(min(T, int(math.floor(float(b.deadline_h[k]) / dt + 1e-9))))
            value.append(float(vals[k]))
    sc = u.site_cfg
    col = lambda k: np.array([getattr(s, k) for s in sc], dtype=float)  # noqa: E731
    mg = cfg.microgrid
    return MicrogridInstance(
        interval_h=dt, gpus=u.cpn.capacity[:, GPU].astype(float),
        busy_mw_per_gpu=np.array([nd.gpu_peak_kw / 1000.0 for nd in nodes]),
        idle_mw_per_gpu=np.array([nd.gpu_idle_kw / 1000.0 for nd in nodes]),
        pue=np.repeat(np.array([nd.pue for nd in nodes])[:, None], T, axis=1), renewable_mw=u.renewable_mw,
        gen_min_mw=np.zeros(len(sc)), gen_max_mw=col("gen_mw"), gen_usd_per_mwh=col("gen_usd_per_mwh"),
        gen_kg_per_mwh=col("gen_kg_per_mwh"), bess_mw=col("bess_mw"), bess_mwh=col("bess_mwh"),
        bess_efficiency=col("bess_efficiency"), bess_soc0_mwh=col("bess_soc0") * col("bess_mwh"),
        import_max_mw=col("import_max_mw"), export_max_mw=col("export_max_mw"),
        import_usd_per_mwh=u.forecast_lmp, import_kg_per_mwh=u.forecast_mci, export_usd_per_mwh=u.export_price,
        job_gpus=np.array(gpus, dtype=float), job_periods=np.array(periods, dtype=float),
        job_release=np.array(release, dtype=float), job_deadline=np.array(deadline, dtype=float),
        job_value_usd=np.array(value), demand_gpus=u.demand,
        inference_usd_per_gpu_h=np.full(u.n_regions, mg.inference_usd_per_gpu_h), latency_ms=u.latency_ms,
        latency_limit_ms=np.full(u.n_regions, mg.latency_limit_ms), max_share_change=mg.max_share_change,
        carbon_price_usd_per_t=cfg.reward.carbon_price_usd_per_t)


class MicrogridPolicy(ABC):
    """SB3's ``predict`` around ``train(view)`` and ``route(region)`` rules; the episode's
    start is noticed by the env's new inference log."""

    def __init__(self, env: gym.Env, seed: int | None = None) -> None:
        self.env = env
        self.u: Any = env.unwrapped
        if not hasattr(self.u, "route_region"):
            raise TypeError(f"env={env!r}: expected CarbonCPN-Microgrid-v0 (an env with inference routing)")
        self.rng = np.random.default_rng(seed)
        self._episode: object = None

    def start(self) -> None:
        """A new episode began (the env was reset)."""

    @abstractmethod
    def train(self, task: int, mask: np.ndarray) -> int:
        """The action for the waiting training job ``task`` (``mask``: the valid actions)."""

    @abstractmethod
    def route(self, region: int, mask: np.ndarray) -> int:
        """The routing action for user region ``region`` (``mask``: the valid actions)."""

    def predict(self, observation: np.ndarray, state: Any = None, episode_start: Any = None,
                deterministic: bool = True) -> tuple[np.ndarray, Any]:
        u = self.u
        if u.inference_log is not self._episode:
            self._episode = u.inference_log
            self.start()
        mask = u.action_masks()
        if u.route_region >= 0:
            a = self.route(int(u.route_region), mask)
        elif u.head_task >= 0 and mask[:-1].any():
            a = self.train(int(u.head_task), mask)
        else:
            a = int(u.defer_action)
        a = a if mask[a] else int(u.defer_action)
        return (np.array([a]) if np.asarray(observation).ndim > 1 else np.array(a)), state  # SB3's shapes

    def toward(self, region: int, mask: np.ndarray, target: np.ndarray, drop_weight: float = 0.0) -> int:
        """The routing action whose resulting shares are nearest ``target [s]`` (L1), plus
        ``drop_weight`` x the share of the coming interval's demand the sites could not take
        (with the other regions' shares as they are and the GPUs training leaves free)."""
        u = self.u
        now = u.shares[region]
        step = u.cfg.microgrid.max_share_change
        t = min(u.t, u.n_intervals - 1)
        demand = u.demand[:, t]
        free = u.cpn.free[:, GPU].astype(float)
        others = demand @ u.shares - demand[region] * now

        def score(new: np.ndarray) -> float:
            dropped = np.maximum(others + demand[region] * new - free, 0.0).sum() / max(float(demand.sum()), 1e-9)
            return float(np.abs(new - target).sum()) + drop_weight * float(dropped)

        best, best_d = int(u.defer_action), score(now)
        for s in np.flatnonzero(mask[:-1]).tolist():
            e = np.zeros_like(now)
            e[s] = 1.0
            diff = e - now
            m = float(np.abs(diff).max())
            d = score(now + (min(1.0, step / m) * diff if m > 0 else 0.0))
            if d < best_d - 1e-12:
                best, best_d = s, d
        return best


class RandomMicrogridPolicy(MicrogridPolicy):
    def train(self, task: int, mask: np.ndarray) -> int:
        return int(self.rng.choice(np.flatnonzero(mask)))

    route = train  # type: ignore[assignment]


class GreenestPolicy(MicrogridPolicy):
    def _spare(self) -> np.ndarray:
        u = self.u
        t = min(u.t, u.n_intervals - 1)
        load = u.cpn.idle_mw + (u.cpn.dyn_mw_per_server * (u.cpn.capacity - u.cpn.free)).sum(axis=1)
        return u.renewable_mw[:, t] - load

    def train(self, task: int, mask: np.ndarray) -> int:
        u = self.u
        t = min(u.t, u.n_intervals - 1)
        ok = np.flatnonzero(mask[:-1])
        order = np.lexsort((u.import_cost[ok, t], -self._spare()[ok]))
        return int(ok[order[0]])

    def route(self, region: int, mask: np.ndarray) -> int:
        ok = np.flatnonzero(mask[:-1])
        target = np.zeros(self.u.n_nodes)
        target[ok[int(np.argmax(self._spare()[ok]))]] = 1.0
        return self.toward(region, mask, target)


class PlanPolicy(MicrogridPolicy):
    """Replays a MILP plan (module docstring)."""

    mode = "joint"

    def __init__(self, env: gym.Env, seed: int | None = None, time_limit_s: float = 120.0) -> None:
        super().__init__(env, seed)
        self.time_limit_s = float(time_limit_s)
        self.plan: MicrogridPlan | None = None

    def make_plan(self, inst: MicrogridInstance) -> tuple[dict[int, tuple[int, int]], np.ndarray]:
        plan = MicrogridMILP(inst, gap=1e-4, time_limit_s=self.time_limit_s).solve(
            "joint" if self.mode == "joint" else "compute_only")
        if not plan.ok:
            raise RuntimeError(f"the {self.mode} MILP of day {self.u.day} found no plan ({plan.status})")
        self.plan = plan
        return {j: (s, t) for j, s, t in plan.starts}, plan.share

    def start(self) -> None:
        self.starts, self.share = self.make_plan(instance_from_env(self.env))

    def train(self, task: int, mask: np.ndarray) -> int:
        u = self.u
        planned = self.starts.get(int(u.cpn.t_job[task]))
        if planned is None or planned[1] > u.t or not mask[planned[0]]:
            return int(u.defer_action)
        return int(planned[0])

    def route(self, region: int, mask: np.ndarray) -> int:
        # Toward the plan's shares, steering clear of sites the replay has left too full.
        t = min(self.u.t, self.u.n_intervals - 1)
        return self.toward(region, mask, self.share[region, :, t], drop_weight=10.0)


class ComputeOnlyPolicy(PlanPolicy):
    mode = "compute_only"


class EnergyOnlyPolicy(PlanPolicy):
    mode = "energy_only"

    def make_plan(self, inst: MicrogridInstance) -> tuple[dict[int, tuple[int, int]], np.ndarray]:
        starts, share = fcfs_schedule(inst)
        return {j: (s, t) for j, s, t in starts}, share


#: name -> factory(env, seed): the family's rows on the leaderboard.
MICROGRID_BASELINES: dict[str, Any] = {"random": RandomMicrogridPolicy, "greenest": GreenestPolicy,
                                       "energy_only": EnergyOnlyPolicy, "compute_only": ComputeOnlyPolicy,
                                       "oracle": PlanPolicy}

__all__ = ["ComputeOnlyPolicy", "EnergyOnlyPolicy", "GreenestPolicy", "MICROGRID_BASELINES", "MicrogridPolicy",
           "PlanPolicy", "RandomMicrogridPolicy", "instance_from_env"]
