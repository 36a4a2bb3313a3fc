"""``CarbonCPN-EastWest-v0``: the "East Data, West Computing" family.

After "Carbon-Computing Coupling Optimization and Green Scheduling System for Intelligent
Computing Centers" (Xie, Wei; c3o), Tables 1-2, on the shared core
(:class:`~carbon_cpn.envs.cosim_env.CoSimEnv`): two regions, each a grid of its own dispatched
every interval (``carbon_cpn/envs/scenarios/east_west.toml``: a coal-heavy, load-heavy East on case30; a
West on case14 rich in wind and solar), GPU-dense eastern nodes (PUE 1.67) and CPU-rich
western nodes (PUE 1.22), and a cross-region link (``[link]``: latency, bandwidth, energy per
GB). Carbon intensities and prices come from the dispatched grids, not from a file.

Data locality. Each job's data lives in a home region, drawn at arrival (``link.home_share``)
from the family's own random stream ``"data_locality"``, so the arrivals are those the core
draws. A sub-task placed in the other region first pulls its job's data (the type's
``data_gb``) over the link: its servers are held ``latency + size / bandwidth`` longer than its
run. The transfer's network energy (``energy_kwh_per_gb``; the link's figure covers both ends
and the path, which c3o does not split) is drawn from the grid at the receiving node's bus in
the interval the transfer starts (the core's ``added_node_power_mw`` hook), so it is part of the
CPN's energy, cost and emissions; ``episode_metrics["transfer_mwh"]`` reports it.

Spaces, reward and the objective are those of ``CarbonCPN-v0`` (:mod:`carbon_cpn.envs.cpn_env`):
``Discrete(2 x nodes + 1)`` placements or defer, the same observation blocks over both regions'
nodes, farms and batteries, the objective reward against a shadow day of both grids.
``episode_metrics`` adds, per region (``east_``/``west_`` prefixes): the CPN's energy and
emissions and the demand-weighted mean MCI at the region's buses; and the western nodes' mean
server utilization, cross-region placements and transferred GB.

Migration (Table 4: assign, hold, migrate). After the queued sub-tasks of an interval, the
env asks about running sub-tasks with at least ``min_migration_h`` of work left, at most
``migration_questions`` per interval, those on the most degraded nodes (by the observed
telemetry) first, then those on the nodes with the highest marginal carbon intensity (the flag ``east_west.migration`` of the observation says which kind of
question it is). A placement action migrates the sub-task: checkpoint, transfer of its state
(``state_gb_per_server`` x servers; over the link between regions, else latency only) and
restart hold the new servers for the transfer time, then the work left runs there; defer holds
it where it is. A move between regions draws the link's energy for the state, as a data pull
does. The current pool and down nodes are masked.

Failures (``failure_rate_scale`` > 0). Components of every node fail and are repaired as in
:mod:`carbon_cpn.envs.failures` (Weibull up times, lognormal repairs, degradation telemetry
before a failure), drawn from the family's stream ``"failures"``. A node with a component down
takes no work; the sub-tasks running on a node when it fails lose their work and are ready
again (unless migrated before). ``episode_metrics``: ``failures``, ``lost_work_server_h``,
``mttr_min`` (mean time from a failure to the lost sub-tasks running again), ``migrations``,
``migration_overhead`` (server-hours held by migration transfers / server-hours of work).

Virtual carbon flow (c3o eqs. 4-5, :mod:`carbon_cpn.envs.carbon_field`). A 4000 x 2500 km map
of the country, the western nodes on its west side and the eastern on its east; each interval
every node emits its power x the marginal intensity at its bus (kg/h, none where that is
negative) into the field, which
diffuses, drifts west to east with the power the programme sends that way (``field_velocity``)
and decays (``field_decay_per_h``: the field shows recent carbon). The observation carries its
4 x 2 block means over its mean; ``render()`` in ``rgb_array`` mode draws the map (Fig. 2).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from carbon_cpn.envs.action_codec import Assignment
from carbon_cpn.envs.carbon_field import CarbonField, CarbonFieldConfig, render_map
from carbon_cpn.envs.cosim_env import CoSimEnv
from carbon_cpn.envs.cpn import RUNNING
from carbon_cpn.envs.east_west_observation import FIELD_BLOCKS, EastWestObservation
from carbon_cpn.envs.failures import FailureConfig, FailureProcess
from carbon_cpn.envs.outcome import IntervalOutcome
from carbon_cpn.envs.power_side import RegionalGrids
from carbon_cpn.envs.workload import JobBatch


#: Map positions [km] of the scenario's nodes (west to east, south to north), by name; a node
#: not listed goes to its region's side of the map.
NODE_XY_KM = {"eastern_01": (3300.0, 1500.0), "eastern_02": (3500.0, 1000.0), "western_01": (700.0, 1700.0),
              "western_02": (1000.0, 900.0), "western_03": (1400.0, 1300.0)}


class EastWestEnv(CoSimEnv):
    observation_class = EastWestObservation
    observation: EastWestObservation

    def __init__(self, scenario: Any = "east_west", render_mode: str | None = None, *,
                 failure_rate_scale: float = 5.0, migration_questions: int = 8, min_migration_h: float = 0.5,
                 state_gb_per_server: float = 2.0, field_velocity_km_per_h: float = 30.0,
                 field_decay_per_h: float = 0.2, **overrides: Any) -> None:
        for name, v in (("failure_rate_scale", failure_rate_scale), ("min_migration_h", min_migration_h),
                        ("state_gb_per_server", state_gb_per_server)):
            if not (isinstance(v, (int, float)) and np.isfinite(v) and v >= 0):
                raise ValueError(f"{name}={v!r}: expected a number >= 0")
        if not (isinstance(migration_questions, int) and migration_questions >= 0):
            raise ValueError(f"migration_questions={migration_questions!r}: expected an integer >= 0")
        self.failure_rate_scale = float(failure_rate_scale)
        self.migration_questions = migration_questions
        self.min_migration_h = float(min_migration_h)
        self.state_gb_per_server = float(state_gb_per_server)
        super().__init__(scenario, render_mode=render_mode, **overrides)
        self.field_config = CarbonFieldConfig(size_km=(4000.0, 2500.0), cells=(40, 25), diffusion_km2_per_h=2500.0,
                                              velocity_km_per_h=(float(field_velocity_km_per_h), 0.0),
                                              decay_per_h=float(field_decay_per_h))
        xy = [NODE_XY_KM.get(nd.name, (3400.0 if nd.region == "east" else 1000.0, 1250.0)) for nd in self.cfg.cpn.nodes]
        self.field = CarbonField(self.field_config, node_xy=xy)
        self.telemetry: np.ndarray | None = None
        if not isinstance(self.power, RegionalGrids):
            raise ValueError(f"scenario={self.cfg.name!r}: expected a scenario with [[regions]]")
        self.region_names = self.power.names
        self.node_region = np.array([self.power.region_index(nd.region) for nd in self.cfg.cpn.nodes], dtype=np.int64)
        n_reg = len(self.region_names)
        share = np.asarray(self.cfg.link.home_share or [1.0 / n_reg] * n_reg, dtype=float)
        self.home_cdf = np.cumsum(share / share.sum())
        self.type_data_gb = np.array([t.data_gb for t in self.cfg.workload.types])

    # ------------------------------------------------------------------ family hooks
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict[str, Any]]:
        self.job_home = np.zeros(0, dtype=np.int64)
        self.job_data_gb = np.zeros(0)
        self.transfer_gb = 0.0
        self.migration_gb = 0.0
        self.transfer_mwh = 0.0
        n_types = len(self.cfg.workload.types)
        self.pending_network_mwh = np.zeros((self.n_nodes, n_types))  # [receiving node, workload type]
        self.drawn_network_mwh = np.zeros((self.n_nodes, n_types))  # in the interval being dispatched
        self.cross_region = 0
        n_reg = len(self.region_names)
        self.region_cpn_mwh = np.zeros(n_reg)
        self.region_cpn_kg = np.zeros(n_reg)
        self.region_mci_mwh = np.zeros(n_reg)  # sum of MCI x demand
        self.region_demand_mwh = np.zeros(n_reg)
        self.west_busy = 0.0
        self.n_booked = 0
        self.busy_server_h = 0.0
        n_types = len(self.cfg.workload.types)
        self.type_kg = np.zeros(n_types)  # dynamic energy x MCI of each workload type's sub-tasks
        self.type_server_h = np.zeros(n_types)
        self.candidates: list[int] = []
        self.migrations = 0
        self.migration_server_h = 0.0
        self.lost_at: dict[int, float] = {}
        self.recovery_h: list[float] = []
        #: Node failures: [failure time, sub-tasks still to run again, time the last ran again,
        #: sub-tasks it stopped].
        self.incidents: list[list] = []
        self.incident_of: dict[int, int] = {}
        self.lost_work_server_h = 0.0
        self.failures = 0
        self.node_down = np.zeros(self.n_nodes, dtype=bool)
        self.failure_process: FailureProcess | None = None
        self.telemetry: np.ndarray | None = None
        self.observation.migration = False
        self.observation.node_down = self.node_down
        self.observation.degradation = np.zeros(self.n_nodes)
        self.field.reset()
        self.observation.field_summary = np.zeros(FIELD_BLOCKS[0] * FIELD_BLOCKS[1])
        return super().reset(seed=seed, options=options)

    def jobs_arrived(self, batch: JobBatch, first_job: int) -> None:
        rng = self.streams.extra("data_locality")
        u = rng.random(batch.n_jobs)
        home = np.minimum(np.searchsorted(self.home_cdf, u, side="right"), self.home_cdf.size - 1)
        self.job_home = np.concatenate([self.job_home, home])
        self.job_data_gb = np.concatenate([self.job_data_gb, self.type_data_gb[batch.type_index]])

    def action_masks(self) -> np.ndarray:
        mask = super().action_masks()
        head = self.queue.head
        if head >= 0 and not self.done:
            pools = mask[:-1].reshape(self.n_nodes, -1)
            pools[self.node_down] = False
            if self.cpn.t_status[head] == RUNNING:  # a migration question: not where it runs
                pools[self.cpn.t_node[head], self.cpn.t_rtype[head]] = False
        return mask

    def place(self, task: int, assignment: Assignment) -> bool:
        cpn = self.cpn
        if cpn.free[assignment.node, assignment.resource] < cpn.t_units[task] or self.node_down[assignment.node]:
            return False
        if cpn.t_status[task] == RUNNING:
            return self._migrate(task, assignment)
        job = int(cpn.t_job[task])
        delay = 0.0
        if self.node_region[assignment.node] != self.job_home[job]:
            gb = float(self.job_data_gb[job])
            delay = float(self.cfg.link.transfer_h(gb))
            self.transfer_gb += gb
            self._draw_transfer(assignment.node, job, gb)
            self.cross_region += 1
        if task in self.lost_at:
            self.recovery_h.append(self.now_h - self.lost_at.pop(task))
            inc = self.incidents[self.incident_of.pop(task)]
            inc[1].discard(task)
            inc[2] = max(inc[2], self.now_h)
        cpn.assign(task, assignment.node, assignment.resource, self.now_h, delay_h=delay)
        return True

    def _migrate(self, task: int, to: Assignment) -> bool:
        cpn = self.cpn
        if (cpn.t_node[task], cpn.t_rtype[task]) == (to.node, to.resource):
            return False
        delay = self.migration_delay_h(task, to.node)
        if self.node_region[to.node] != self.node_region[cpn.t_node[task]]:
            gb = self.state_gb_per_server * float(cpn.t_units[task])
            self.migration_gb += gb
            self._draw_transfer(to.node, int(cpn.t_job[task]), gb)
        cpn.migrate(task, to.node, to.resource, self.now_h, delay)
        self.migrations += 1
        self.migration_server_h += delay * float(cpn.t_units[task])
        return True

    def migration_delay_h(self, task: int, node: int) -> float:
        """Checkpoint, transfer and restart time of moving running ``task`` to ``node`` [h]: its
        state (``state_gb_per_server`` x servers) over the link between regions; within a region
        the local latency only (5-7 ms, c3o Table 1)."""
        if self.node_region[node] != self.node_region[self.cpn.t_node[task]]:
            return float(self.cfg.link.transfer_h(self.state_gb_per_server * float(self.cpn.t_units[task])))
        return self.cfg.link.latency_ms / 1000.0 / 3600.0 / 6.0

    def _draw_transfer(self, node: int, job: int, gb: float) -> None:
        mwh = gb * self.cfg.link.energy_kwh_per_gb / 1000.0
        self.pending_network_mwh[node, self.cpn.j_type[job]] += mwh
        self.transfer_mwh += mwh

    def added_node_power_mw(self, start_h: float, interval_h: float) -> np.ndarray:
        """The link energy of the transfers started at this interval's start, at the receiving
        nodes, as power over the interval."""
        self.drawn_network_mwh = self.pending_network_mwh
        self.pending_network_mwh = np.zeros_like(self.drawn_network_mwh)
        return self.drawn_network_mwh.sum(axis=1) / interval_h

    def next_question(self) -> bool:
        """Migration questions, after the queued sub-tasks (module docstring)."""
        cpn = self.cpn
        self.observation.migration = False
        while self.candidates and self.queue.decisions < self.queue.max_decisions:
            task = self.candidates.pop(0)
            if cpn.t_status[task] != RUNNING or cpn.t_end[task] - self.now_h < self.min_migration_h:
                continue
            self.queue.head = task
            self.observation.migration = True
            return True
        return False

    def interval_booked(self, o: IntervalOutcome) -> None:
        """Per-region totals of the interval; failures in it; the next interval's migration
        candidates."""
        self.observation.migration = False
        self._book_types(o)
        # kg/h per node; a negative marginal intensity (a battery or curtailed farm on the margin)
        # emits nothing into the field.
        self.field.step(o.interval_h, o.node_power_mw * np.maximum(o.node_mci_kg_per_mwh, 0.0))
        blocks = self.field.summary(FIELD_BLOCKS)
        mean = float(blocks.mean())
        self.observation.field_summary = blocks / mean if mean > 0 else np.zeros_like(blocks)
        self.busy_server_h += float((o.compute.utilization * self.cpn.capacity).sum()) * o.interval_h
        self._failures(o.start_h, o.interval_h)
        cpn = self.cpn
        run = cpn.running_on(~self.node_down)
        t1 = o.start_h + o.interval_h
        run = run[cpn.t_end[run] - t1 >= self.min_migration_h]
        # The most degraded nodes' work first (the telemetry in the observation), then the
        # highest marginal carbon intensity.
        node = cpn.t_node[run]
        order = np.lexsort((-o.node_mci_kg_per_mwh[node], -np.round(self.observation.degradation[node], 3)))
        self.candidates = run[order][: self.migration_questions].tolist()
        dt = o.interval_h
        e = o.node_energy_mwh
        self.region_cpn_mwh += np.bincount(self.node_region, weights=e, minlength=len(self.region_names))
        self.region_cpn_kg += np.bincount(self.node_region, weights=e * o.node_mci_kg_per_mwh,
                                          minlength=len(self.region_names))
        demand = (o.base_load_mw + o.cpn_load_mw) * dt
        reg = self.power.bus_region
        self.region_demand_mwh += np.bincount(reg, weights=demand, minlength=len(self.region_names))
        self.region_mci_mwh += np.bincount(reg, weights=demand * o.dispatch.mci_kg_per_mwh,
                                           minlength=len(self.region_names))
        west = self.node_region == self.region_names.index("west") if "west" in self.region_names else None
        if west is not None and west.any():
            util = o.compute.utilization[west]
            cap = self.cpn.capacity[west].astype(float)
            self.west_busy += float((util * cap).sum() / max(cap.sum(), 1.0))
        self.n_booked += 1

    def family_invariants(self, o: IntervalOutcome) -> list[str]:
        """Energy balance region by region (each grid is dispatched on its own)."""
        d, out = o.dispatch, []
        for name, sl in zip(self.region_names, self.power.slices):
            supply = (d.gen_mw[sl.gen].sum() + d.res_used_mw[sl.res].sum() + d.bess_discharge_mw[sl.bess].sum()
                      - d.bess_charge_mw[sl.bess].sum() + d.shed_mw[sl.bus].sum() - d.overgen_mw[sl.bus].sum())
            demand = o.base_load_mw[sl.bus].sum() + o.cpn_load_mw[sl.bus].sum()
            if abs(supply - demand) > 1e-5 + 1e-7 * abs(demand):
                out.append(f"{name} balance: supply {supply:.6f} MW != demand {demand:.6f} MW")
        return out

    def _book_types(self, o: IntervalOutcome) -> None:
        """Each workload type's server-hours in the interval and their emissions: the busy
        servers' dynamic power (PUE included) x the overlap x the MCI at their node, plus the link
        energy of the type's transfers x the MCI at the receiving node (c3o Table 8; the idle
        power, which no sub-task causes, is not attributed)."""
        cpn = self.cpn
        self.type_kg += o.node_mci_kg_per_mwh @ self.drawn_network_mwh
        n = cpn.n_tasks
        t0, t1 = o.start_h, o.start_h + o.interval_h
        placed = np.flatnonzero(cpn.t_node[:n] >= 0)
        overlap = np.clip(np.minimum(cpn.t_end[placed], t1) - np.maximum(cpn.t_start[placed], t0), 0.0, None)
        k = placed[overlap > 0]
        overlap = overlap[overlap > 0]
        if not k.size:
            return
        node, r = cpn.t_node[k], cpn.t_rtype[k]
        server_h = cpn.t_units[k] * overlap
        kg = server_h * cpn.dyn_mw_per_server[node, r] * o.node_mci_kg_per_mwh[node]
        types = cpn.j_type[cpn.t_job[k]]
        n_types = self.type_kg.size
        self.type_kg += np.bincount(types, weights=kg, minlength=n_types)
        self.type_server_h += np.bincount(types, weights=server_h, minlength=n_types)

    def _failures(self, t0: float, dt: float) -> None:
        if self.failure_rate_scale <= 0:
            return
        if self.failure_process is None:
            cfg = FailureConfig(rate_scale=self.failure_rate_scale)
            self.failure_process = FailureProcess(cfg, self.n_nodes, self.streams.extra("failures"))
            comps = cfg.components
            self._tele_base = np.array([c.baseline for c in comps], dtype=float)  # [comp, signal]
            self._tele_shift = np.array([c.shift for c in comps], dtype=float)
        st = self.failure_process.step(t0, dt)
        failed = st.failed.any(axis=1)
        t1 = t0 + dt
        if failed.any():
            self.failures += int(st.failed.sum())
            lost = self.cpn.running_on(failed)
            lost_node = self.cpn.t_node[lost].copy()
            self.lost_work_server_h += self.cpn.restart(lost, t1)
            for node in np.flatnonzero(failed).tolist():  # one incident per failed node
                mine = [k for k in lost[lost_node == node].tolist() if k not in self.lost_at]
                self.incidents.append([t1, set(mine), t1, len(mine)])
                for k in mine:
                    self.incident_of[k] = len(self.incidents) - 1
            for k in lost.tolist():
                self.lost_at.setdefault(k, t1)
        self.node_down[:] = self.failure_process.down_at(t1).any(axis=1)
        #: The last telemetry reading, ``[node, component, signal]`` (what a digital twin reads).
        self.telemetry = st.telemetry
        level = (st.telemetry - self._tele_base[None]) / self._tele_shift[None]
        self.observation.degradation = np.clip(level.max(axis=(1, 2)), -1.0, 2.0)

    def render(self) -> Any:
        if self.render_mode != "rgb_array":
            return super().render()
        import matplotlib

        matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(8, 5), dpi=80)
        render_map(ax, self.field, node_names=[nd.name for nd in self.cfg.cpn.nodes])
        ax.set_title(f"virtual carbon flow, day {self.day}  {self.now_h % 24:05.2f} h")
        ax.set_xlabel("km (west to east)")
        ax.set_ylabel("km")
        fig.tight_layout()
        fig.canvas.draw()
        img = np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()
        plt.close(fig)
        return img

    def episode_metrics(self) -> dict[str, float]:
        m = super().episode_metrics()
        m["field_mass_tco2"] = self.field.total_mass() / 1000.0
        for k, wt in enumerate(self.cfg.workload.types):
            h = self.type_server_h[k]
            m[f"type_{wt.name}_kg_per_server_h"] = float(self.type_kg[k] / h) if h > 0 else 0.0
        m["failures"] = float(self.failures)
        m["lost_work_server_h"] = self.lost_work_server_h
        m["mttr_min"] = 60.0 * float(np.mean(self.recovery_h)) if self.recovery_h else 0.0
        # Per node failure: until the last sub-task it stopped runs again (0 when it stopped none;
        # one still waiting counts until now, a lower bound).
        rec = [(max(end, self.now_h) if waiting else end) - t for t, waiting, end, _ in self.incidents]
        m["incident_recovery_min"] = 60.0 * float(np.mean(rec)) if rec else 0.0
        m["incidents_with_lost_work"] = float(sum(1 for *_, n in self.incidents if n > 0))
        m["migrations"] = float(self.migrations)
        m["migration_overhead"] = self.migration_server_h / self.busy_server_h if self.busy_server_h > 0 else 0.0
        m["busy_server_h"] = self.busy_server_h
        m["cpn_kg_per_server_h"] = m["cpn_emissions_tco2"] * 1000.0 / self.busy_server_h if self.busy_server_h > 0 else 0.0
        for k, name in enumerate(self.region_names):
            m[f"{name}_cpn_energy_mwh"] = float(self.region_cpn_mwh[k])
            m[f"{name}_cpn_emissions_tco2"] = float(self.region_cpn_kg[k]) / 1000.0
            m[f"{name}_mean_mci_kg_per_kwh"] = float(self.region_mci_mwh[k] / max(self.region_demand_mwh[k], 1e-9)) / 1000.0
        m["western_utilization"] = self.west_busy / max(self.n_booked, 1)
        m["cross_region_placements"] = float(self.cross_region)
        m["transfer_gb"] = self.transfer_gb
        m["migration_gb"] = self.migration_gb
        m["transfer_mwh"] = self.transfer_mwh
        return m


__all__ = ["EastWestEnv"]
