"""``CarbonCPN-Microgrid-v0``: AI data-center sites as microgrid prosumers.

After "Carbon-Aware Compute-Power Scheduling for AI Data Centers with Microgrid
Prosumer Operations" (the MILP paper), on the shared core
(:class:`~carbon_cpn.envs.cosim_env.CoSimEnv`). Scenario ``carbon_cpn/envs/scenarios/microgrid.toml``:
three GPU sites at load buses of IEEE 30-bus, each a microgrid (``[[microgrid.sites]]``: on-site
PV and wind from the measured profiles, a dispatchable generator at two, a battery, import and
export limits), rigid training jobs, and three user regions sending inference demand.

Decisions (``Discrete(n_sites + 1)``, the core's ``NodeCodec``). Each interval the env asks:

* about each waiting training job (the CarbonCPN head-task blocks describe it): action ``s``
  starts it whole on site ``s``'s GPU servers, where it runs without interruption for its
  duration (rigid); the last action defers it one interval;
* then about each user region (``microgrid.routing`` = 1, ``inference.asked`` names it): action
  ``s`` moves the region's routing shares toward site ``s`` by at most ``max_share_change``
  per share (continuity; sites beyond ``latency_limit_ms`` are masked), defer keeps them.

Inference (elastic). Region ``u``'s demand of interval ``t`` (GPU servers' worth) follows the
system load profile at the region's local time with lognormal noise (the family's stream
``"inference"``). Share ``y[u, s]`` of it is sent to site ``s``; a site serves what its GPU
servers left free by training can take (regions cut in proportion), the rest is dropped:
served + dropped = arrived, every interval. Served GPU-hours earn
``inference_usd_per_gpu_h`` (compute value of the objective) and draw the GPUs' busy power.

Site energy (an LP inside the step, :mod:`carbon_cpn.envs.microgrid_sites`). Each site's
facility load (idle + busy servers, PUE) is met by on-site renewables, generator, battery and
imports, surplus exported, at the least cost at the day-ahead forecast of the LMP and marginal
intensity at its bus (the shadow day: the grid dispatched without the sites' work); the grid
is then dispatched with every site's net draw as its bus load (exports as negative load), so
the LMP and MCI the sites see next respond to them. The generator's fuel cost and emissions
enter the objective as generation and system emissions.

Objective and reward: the core's (system generation cost, lost load, carbon of the grid's units
and the sites' generators, minus the value of training jobs finished by their deadline and of
inference served, plus deadline penalties). ``episode_metrics`` adds the inference served share,
values, and each energy flow of the sites (renewables used and curtailed, generator, battery,
imports, exports, and the sites' private bill at the LMP: imports paid, exports earning
``export_price_share`` of it).

The outdoor-temperature dependence of PUE that the paper allows is not modelled (PUE is each
node's constant).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from carbon_cpn.envs.action_codec import Assignment, NodeCodec
from carbon_cpn.envs.cosim_env import CoSimEnv
from carbon_cpn.envs.microgrid_observation import MicrogridObservation
from carbon_cpn.envs.microgrid_sites import SiteDispatch, SiteDispatchResult
from carbon_cpn.envs.outcome import IntervalOutcome, SiteExchange
from carbon_cpn.envs.profiles import load_profiles

GPU = 1


@dataclass(frozen=True)
class InferenceInterval:
    """One interval's inference: ``arrived [u]`` and ``served [u, s]`` GPU servers."""

    arrived: np.ndarray
    served: np.ndarray

    @property
    def dropped(self) -> np.ndarray:
        return self.arrived - self.served.sum(axis=1)


class MicrogridEnv(CoSimEnv):
    observation_class = MicrogridObservation
    observation: MicrogridObservation

    def __init__(self, scenario: Any = "microgrid", render_mode: str | None = None, **overrides: Any) -> None:
        super().__init__(scenario, render_mode=render_mode, **overrides)
        cfg, mg = self.cfg, self.cfg.microgrid
        names = [nd.name for nd in cfg.cpn.nodes]
        if sorted(s.node for s in mg.sites) != sorted(names) or not mg.regions:
            raise ValueError(f"scenario={cfg.name!r}: expected one [[microgrid.sites]] entry per CPN node {names} "
                             f"and at least one [[microgrid.regions]] entry")
        by_node = {s.node: s for s in mg.sites}
        self.site_cfg = [by_node[n] for n in names]  # in node order
        sc = self.site_cfg
        col = lambda k: np.array([getattr(s, k) for s in sc], dtype=float)  # noqa: E731
        self.gen_mw, self.gen_usd, self.gen_kg = col("gen_mw"), col("gen_usd_per_mwh"), col("gen_kg_per_mwh")
        self.bess_mwh, self.import_max_mw = col("bess_mwh"), col("import_max_mw")
        for k, s in enumerate(sc):
            if s.import_max_mw + s.gen_mw < self.cpn.peak_mw[k] - 1e-9:
                raise ValueError(f"microgrid.sites.{s.node}: import_max_mw + gen_mw = {s.import_max_mw + s.gen_mw} MW, "
                                 f"expected at least the site's peak load {self.cpn.peak_mw[k]:.3f} MW")
        self.sites = SiteDispatch(self.gen_mw, col("bess_mw"), self.bess_mwh, col("bess_efficiency"),
                                  self.import_max_mw, col("export_max_mw"), self.interval_h)
        self.latency_ms = np.array([r.latency_ms for r in mg.regions], dtype=float)  # [u, s]
        self.allowed = self.latency_ms <= mg.latency_limit_ms
        self.n_regions = len(mg.regions)
        self.peak_gpus = np.array([r.peak_gpus for r in mg.regions])
        #: The region the pending question routes (-1: a training job, or no question).
        self.route_region = -1
        self.inference_log: list[InferenceInterval] = []

    def make_codec(self) -> NodeCodec:
        return NodeCodec(self.n_nodes)

    # ------------------------------------------------------------------ the episode's inputs
    def episode_started(self) -> None:
        cfg, mg, n, dt = self.cfg, self.cfg.microgrid, self.n_intervals, self.interval_h
        prof = load_profiles()
        start = self.day * 24.0
        shape = np.stack([prof.window("load", start + r.utc_offset_h, n, dt) for r in mg.regions])
        noise = self.streams.extra("inference").lognormal(0.0, mg.demand_noise, shape.shape) if mg.demand_noise else 1.0
        #: Inference demand of every interval, ``[u, t]`` GPU servers (drawn at reset).
        self.demand = self.peak_gpus[:, None] * shape * noise
        #: On-site renewables available, ``[s, t]`` MW.
        self.renewable_mw = np.stack([s.pv_mw * prof.window(s.pv_profile, start, n, dt)
                                      + s.wind_mw * prof.window(s.wind_profile, start, n, dt) for s in self.site_cfg])
        sh = self.shadow_day
        cp = cfg.reward.carbon_price_usd_per_t / 1000.0
        lmp, mci = sh.lmp_usd_per_mwh[:, self.node_bus].T, sh.mci_kg_per_mwh[:, self.node_bus].T  # [s, t]
        #: The sites' day-ahead forecast at their buses, ``[s, t]``: import cost (carbon
        #: included), export price, and the LMP and MCI themselves.
        self.forecast_lmp, self.forecast_mci = lmp, mci
        self.import_cost = lmp + cp * mci
        self.export_price = mg.export_price_share * np.maximum(lmp, 0.0)
        self.gen_cost = self.gen_usd + cp * self.gen_kg
        self.stored_value = self.import_cost.mean(axis=1)
        self.site_soc = np.array([s.bess_soc0 * s.bess_mwh for s in self.site_cfg])
        lat = np.where(self.allowed, self.latency_ms, np.inf)
        #: Routing shares ``[u, s]``: each region starts at its nearest site.
        self.shares = np.zeros((self.n_regions, self.n_nodes))
        self.shares[np.arange(self.n_regions), np.argmin(lat, axis=1)] = 1.0
        self.route_pending = list(range(self.n_regions))
        self.route_region = -1
        self.inference_log: list[InferenceInterval] = []
        self.site_log: list[tuple[np.ndarray, np.ndarray, SiteDispatchResult]] = []  # load, available, result
        self.served_value_usd = 0.0
        self.private_bill = np.zeros(2)  # imports paid, exports earned [$]
        self._observe_sites(None, 0)

    # ------------------------------------------------------------------ questions and actions
    def next_question(self) -> bool:
        """The routing questions of the interval, one per region, after the training jobs."""
        if self.route_pending and self.queue.decisions < self.queue.max_decisions:
            self.route_region = self.route_pending.pop(0)
            self.observation.routing_region = self.route_region
            return True
        self.route_region = -1
        self.observation.routing_region = -1
        return False

    def action_masks(self) -> np.ndarray:
        if self.route_region >= 0 and not self.done:
            return np.append(self.allowed[self.route_region], True)
        return super().action_masks()

    def place(self, task: int, assignment: Assignment) -> bool:
        if self.route_region < 0:
            return super().place(task, assignment)
        u, s = self.route_region, assignment.node
        if not self.allowed[u, s]:
            return False
        target = np.zeros(self.n_nodes)
        target[s] = 1.0
        diff = target - self.shares[u]
        step = float(np.abs(diff).max())
        if step > 0:
            self.shares[u] += min(1.0, self.cfg.microgrid.max_share_change / step) * diff
        self.observation.shares = self.shares.copy()
        return True

    # ------------------------------------------------------------------ the interval
    def added_node_power_mw(self, start_h: float, interval_h: float) -> np.ndarray:
        """Serve the interval's inference on the GPU servers training leaves free."""
        t = self.t
        arrived = self.demand[:, t]
        asked = arrived[:, None] * self.shares  # [u, s]
        free = self.cpn.free[:, GPU].astype(float)
        total = asked.sum(axis=0)
        cut = np.where(total > free, free / np.maximum(total, 1e-12), 1.0)
        served = asked * cut[None, :]
        self.inference_log.append(InferenceInterval(arrived=arrived.copy(), served=served))
        self.served_value_usd = float(served.sum()) * interval_h * self.cfg.microgrid.inference_usd_per_gpu_h
        return served.sum(axis=0) * self.cpn.dyn_mw_per_server[:, GPU]

    def delivered_value_usd(self, t: int) -> float:
        return self.served_value_usd

    def site_exchange(self, node_mw: np.ndarray, t: int) -> SiteExchange:
        avail = self.renewable_mw[:, t]
        res = self.sites.solve(node_mw, avail, self.site_soc, self.import_cost[:, t], self.export_price[:, t],
                               self.gen_cost, self.stored_value)
        self.site_soc = res.soc_end_mwh
        self.site_log.append((node_mw.copy(), avail.copy(), res))
        dt = self.interval_h
        return SiteExchange(grid_mw=res.grid_mw, generation_usd=float(res.gen_mw @ self.gen_usd) * dt,
                            emissions_kg=float(res.gen_mw @ self.gen_kg) * dt)

    def interval_booked(self, o: IntervalOutcome) -> None:
        res = self.site_log[-1][2]
        lmp = o.node_lmp_usd_per_mwh
        self.private_bill += o.interval_h * np.array([
            float(res.import_mw @ lmp), float(res.export_mw @ (self.cfg.microgrid.export_price_share * np.maximum(lmp, 0)))])
        self.route_pending = list(range(self.n_regions))
        self._observe_sites(res, o.t + 1)

    def family_invariants(self, o: IntervalOutcome) -> list[str]:
        """Each site's power balance and limits; inference served + dropped = arrived."""
        load, avail, res = self.site_log[-1]
        out = []
        supply = res.renewable_mw + res.gen_mw + res.discharge_mw - res.charge_mw + res.import_mw - res.export_mw
        if not np.allclose(supply, load, rtol=1e-9, atol=1e-6):
            out.append(f"site balance: supply {supply.round(6).tolist()} MW != load {load.round(6).tolist()} MW")
        if (res.renewable_mw > avail + 1e-6).any() or (res.import_mw > self.import_max_mw + 1e-6).any():
            out.append(f"site limits: renewables {res.renewable_mw.tolist()} of {avail.tolist()}, "
                       f"imports {res.import_mw.tolist()} of {self.import_max_mw.tolist()} MW")
        if (res.soc_end_mwh < -1e-6).any() or (res.soc_end_mwh > self.bess_mwh + 1e-6).any():
            out.append(f"site SOC {res.soc_end_mwh.tolist()} MWh outside [0, {self.bess_mwh.tolist()}]")
        inf = self.inference_log[-1]
        if (inf.dropped < -1e-9).any() or (inf.served < -1e-12).any() or (inf.served[~self.allowed] > 0).any():
            out.append(f"inference: served {inf.served.round(6).tolist()} of arrived {inf.arrived.round(6).tolist()}")
        return out

    def _observe_sites(self, res: SiteDispatchResult | None, t_next: int) -> None:
        ob = self.observation
        t = min(t_next, self.n_intervals - 1)
        v = np.zeros_like(ob.site_values)
        v[:, 0] = self.renewable_mw[:, t] / np.maximum(self.cpn.peak_mw, 1e-9)
        v[:, 1] = self.site_soc / np.maximum(self.bess_mwh, 1e-9)
        if res is not None:
            v[:, 2] = res.grid_mw / np.maximum(self.import_max_mw, 1e-9)
            last = self.inference_log[-1]
            v[:, 3] = last.served.sum(axis=0) / np.maximum(self.cpn.capacity[:, GPU], 1)
            served_share = last.served.sum(axis=1) / np.maximum(last.arrived, 1e-9)
        else:
            served_share = np.ones(self.n_regions)
        ob.site_values = v
        ob.region_values = np.stack([self.demand[:, t] / self.peak_gpus, served_share], axis=1)
        ob.shares = self.shares.copy()

    # ------------------------------------------------------------------ metrics
    def episode_metrics(self) -> dict[str, float]:
        m = super().episode_metrics()
        dt = self.interval_h
        arrived = sum(float(x.arrived.sum()) for x in self.inference_log) * dt
        served = sum(float(x.served.sum()) for x in self.inference_log) * dt
        m["inference_arrived_gpu_h"] = arrived
        m["inference_served_gpu_h"] = served
        m["inference_served_share"] = served / arrived if arrived > 0 else 1.0
        m["inference_value_usd"] = served * self.cfg.microgrid.inference_usd_per_gpu_h
        m["training_value_usd"] = m["revenue_usd"] - m["inference_value_usd"]
        flows = {"site_renewable_used_mwh": "renewable_mw", "site_generator_mwh": "gen_mw",
                 "site_charge_mwh": "charge_mw", "site_discharge_mwh": "discharge_mw",
                 "site_import_mwh": "import_mw", "site_export_mwh": "export_mw"}
        for key, attr in flows.items():
            m[key] = sum(float(getattr(r, attr).sum()) for _, _, r in self.site_log) * dt
        m["site_renewable_curtailed_mwh"] = sum(float(a.sum()) for _, a, _ in self.site_log) * dt - m["site_renewable_used_mwh"]
        m["site_generator_tco2"] = m["site_generator_mwh"] and sum(
            float(r.gen_mw @ self.gen_kg) for _, _, r in self.site_log) * dt / 1000.0
        m["site_import_cost_usd"], m["site_export_revenue_usd"] = (float(x) for x in self.private_bill)
        return m


__all__ = ["InferenceInterval", "MicrogridEnv"]
