"""``CarbonCPN-v0``: a Computing Power Network scheduled on top of a dispatched power grid.

Description
-----------
Jobs (DAGs of sub-tasks, c3o Table 2 workload mix) arrive at a network of data centers that
sit at load buses of a power grid (tsco §III, §V.A). The agent places the sub-task at the head
of the ready queue on a (node, resource type), or defers it. When no decision is pending the
clock advances one grid interval: sub-tasks execute, the nodes' power (tsco eq. 9) joins the
base load, the economic dispatch (``carbon_cpn.optim.dispatch``) is solved with it, and the
interval's cost, emissions, curtailment and the new locational marginal prices (LMP) and
marginal carbon intensities (MCI) are booked and shown to the agent. The agent's load moves
the prices and intensities it sees.

Action space
------------
``Discrete(n_nodes * 2 + 1)``:

=====================  =========================================================
action                 meaning
=====================  =========================================================
``2 * n + 0``          run the head sub-task on node ``n``'s CPU servers
``2 * n + 1``          run the head sub-task on node ``n``'s GPU servers
``2 * n_nodes``        defer: the sub-task waits for the next interval
=====================  =========================================================

A sub-task placed on the resource it does not prefer runs ``gpu_on_cpu_slowdown`` /
``cpu_on_gpu_slowdown`` times longer. ``action_masks()`` marks the placements with enough
free servers (defer is always allowed). A masked action is a defer plus
``invalid_action_penalty_usd``, never an exception. Sub-tasks that fit nowhere are deferred
without asking the agent.

Observation space
-----------------
``Box(-10, 10, (obs_dim,), float32)`` (entries clipped to that range); the layout is ``env.unwrapped.obs_layout`` (name,
start, size, meaning) and, for the default scenario with 5 nodes and 4 batteries:

===================  ====  ======================================================
block                size  contents (normalization)
===================  ====  ======================================================
head task            9     present; prefers GPU; units / max units of its type;
                           run time / 8 h; time to deadline / 24 h; slack ratio
                           (time left / run time) / 10; high QoS; sub-tasks left
                           in its job / max_subtasks; job critical path / 8 h
queue                4     ready sub-tasks / queue_capacity; CPU servers asked /
                           free CPU; GPU servers asked / free GPU; nearest
                           deadline / 24 h
nodes                7 x N per node: free CPU share; free GPU share; head task fits
                           (CPU); head task fits (GPU); last interval's power /
                           peak; LMP / 100 $/MWh; MCI / 1000 kg/MWh
grid                 4 + B renewable availability of the coming interval / capacity;
                           last interval's curtailment / capacity; last interval's
                           base load / case load; share of demand met by
                           renewables; SOC per battery (fraction)
time                 3     sin, cos of the hour of day; episode progress
===================  ====  ======================================================

Rewards
-------
``reward.mode = "objective"`` (default): the decrement of the episode objective of
``carbon_cpn.optim.objective`` (generation, start-up, lost-load and carbon cost of the whole
system, minus the value of the computing delivered, plus ``deadline_penalty_usd`` per missed
job), booked interval by interval against a *shadow day*: the same grid, commitment and
renewables dispatched at reset with the CPN idle and no jobs. With ``J`` the episode's
objective and ``J_0`` the shadow day's (``episode_metrics["baseline_objective_usd"]``, fixed by
the day alone), the return is::

    sum_t r_t = -(J - J_0) / reward_scale_usd - invalid_action_penalty_usd x (masked actions) / reward_scale_usd

Subtracting the shadow day removes the day's base-load cost, which no action changes, from
every reward, so the rewards stay small and their variance low. The terms in
``info["reward_terms"]`` are ``generation``, ``startup`` (always 0: the plan's start-ups are a
constant), ``lost_load``, ``carbon``, ``compute_value`` (positive), ``qos_penalty`` and
``invalid_action``; they sum to the reward.

``reward.mode = "tsco"``: tsco eq. 13, ``R = w_rev Revenue - w_cost Cost - w_carb Carbon -
w_pen Penalty`` in units of ``reward_scale_usd``: ``revenue`` (server-hours x price of jobs
finished by their deadline), ``electricity_cost`` (the CPN's energy x the LMP at its bus; the
LMP includes the carbon price in the units' offers), ``carbon`` (the CPN's energy x the MCI
at its bus x the carbon price), ``deadline_penalty`` and ``invalid_action``.

Episode end
-----------
After ``episode.days`` days of ``episode.interval_min``-minute intervals (default one day of
15-minute intervals), ``terminated=True``; the observation carries the episode's progress, so
the horizon is part of the state. Every job still queued or running then is settled as a miss
(its penalty is booked, it earns nothing), so no job escapes the objective by being deferred
past the horizon; ``job_success_rate`` is completed jobs over all arrived jobs.
``info["episode_metrics"]`` then holds ``objective_usd`` and its terms (generation_cost_usd,
startup_cost_usd, lost_load_cost_usd, carbon_cost_usd, compute_value_usd, qos_penalty_usd),
baseline_objective_usd, total_cost_usd (generation + start-up + lost load), emissions_tco2,
curtailment_mwh, load_shed_mwh, fast_start_mwh (energy from units the real-time dispatch
started, see ``commitment.fast_start_fuels``), job_success_rate, mean_tardiness_s,
qos_violation_rate, cpn_energy_mwh, cpn_emissions_tco2 and job counts
(jobs_settled_unfinished among them).

Info
----
Every ``reset`` and ``step`` info holds ``time_h`` (simulated hours since the episode's start),
``day``, ``action_mask`` (of the returned observation) and ``elapsed_h``: the simulated hours
the call advanced (0 for a decision inside an interval, else a positive multiple of
``interval_h``; at reset, the intervals run before the first decision), the holding time of a
semi-Markov transition (``gamma_per_hour ** elapsed_h`` discounts it in the DQN family).

Version history
---------------
* v0: initial release (issue #3). The objective reward, end-of-episode settlement, carbon
  price in the offers, forecast-based day-ahead plans with reserve and fast-start recourse
  (issue #13) changed the numbers but not the spaces.
"""

from __future__ import annotations

import copy
from collections import deque
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from carbon_cpn.envs.config import ScenarioConfig, load_scenario
from carbon_cpn.envs.cpn import READY, CPNState, IntervalCompute
from carbon_cpn.envs.day_ahead import make_commitment
from carbon_cpn.envs.grid_system import (
    CommitmentSource,
    ShadowDay,
    build_grid,
    dispatch_cost_usd,
    fast_start_units,
    grid_inputs,
    initial_soc_mwh,
    make_dispatch,
    shadow_day,
)
from carbon_cpn.envs.views import Foresight, SchedulerView, foresight, nearest_node_of_farms, scheduler_view
from carbon_cpn.envs.workload import JobGenerator
from carbon_cpn.optim.commitment import default_uc_params
from carbon_cpn.optim.objective import TERMS, ObjectivePrices, ObjectiveTerms, compute_terms, grid_terms, startup_cost_usd

#: Observation entries are clipped to [-OBS_CLIP, OBS_CLIP] (an LMP at the value of lost load
#: would otherwise read 50).
OBS_CLIP = 10.0
#: Reward terms of ``reward.mode = "tsco"`` (tsco eq. 13).
TSCO_TERMS = ("revenue", "electricity_cost", "carbon", "deadline_penalty", "invalid_action")
#: Reward terms of ``reward.mode = "objective"`` (the objective's terms, then the action penalty).
OBJECTIVE_TERMS = (*TERMS, "invalid_action")


class CarbonCPNEnv(gym.Env[np.ndarray, int]):
    __doc__ = __doc__
    metadata = {"render_modes": ["ansi", "rgb_array"], "render_fps": 4}

    def __init__(
        self,
        scenario: str | ScenarioConfig = "ieee30_5dc",
        render_mode: str | None = None,
        commitment: CommitmentSource | None = None,
        **overrides: Any,
    ) -> None:
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode={render_mode!r}: expected None or one of {self.metadata['render_modes']}")
        self.render_mode = render_mode
        self.cfg: ScenarioConfig = load_scenario(scenario, **overrides)
        cfg = self.cfg
        self.interval_h = cfg.episode.interval_min / 60.0
        self.n_intervals = int(round(cfg.episode.days * 24 / self.interval_h))
        self.grid = build_grid(cfg.grid, cfg.commitment)
        self.dispatch = make_dispatch(cfg, self.grid, self.interval_h)
        self.commitment: CommitmentSource = make_commitment(cfg, self.grid) if commitment is None else commitment
        #: Units the real-time dispatch may start when the plan left them off, ``[gen]`` or None.
        self.fast_start = fast_start_units(cfg.commitment, self.grid)
        self.cpn = CPNState(cfg.cpn, cfg.workload)
        self.jobs = JobGenerator(cfg.workload)
        self.n_nodes = self.cpn.n_nodes
        self.node_bus = np.array([self.grid.bus_position(nd.bus) for nd in cfg.cpn.nodes], dtype=np.int64)
        self.n_actions = 2 * self.n_nodes + 1
        self.defer_action = self.n_actions - 1
        self.action_space = spaces.Discrete(self.n_actions)
        self.farm_node = nearest_node_of_farms(self)  # [res] node nearest each farm
        self._build_layout()
        self.observation_space = spaces.Box(low=-OBS_CLIP, high=OBS_CLIP, shape=(self._obs_dim,), dtype=np.float32)
        self._res_cap = np.array([u.capacity_mw for u in (*cfg.grid.solar, *cfg.grid.wind)])
        self._bess_energy = np.array([b.energy_mwh for b in cfg.grid.batteries])
        self._max_units = np.array([max(t.units_max for t in cfg.workload.types)] * 2, dtype=float)
        self._case_load_mw = float(self.grid.base_load_mw.sum())
        self._capacity_f = np.maximum(self.cpn.capacity, 1).astype(float)
        r = cfg.reward
        self.prices = ObjectivePrices(r.carbon_price_usd_per_t, r.deadline_penalty_usd)
        #: A second dispatch model for the shadow day (its own warm-start basis).
        self._shadow_dispatch = make_dispatch(cfg, self.grid, self.interval_h)
        self._startup_usd = np.array([p.startup_cost_usd for p in default_uc_params(self.grid)])
        self._idle_bus_mw = np.bincount(self.node_bus, weights=self.cpn.idle_mw, minlength=self.grid.n_bus)
        self._reward_names = OBJECTIVE_TERMS if r.mode == "objective" else TSCO_TERMS
        self._w = {
            "revenue": r.w_rev / r.reward_scale_usd,
            "electricity_cost": -r.w_cost / r.reward_scale_usd,
            "carbon": -r.w_carb / r.reward_scale_usd,
            "deadline_penalty": -r.w_pen / r.reward_scale_usd,
            "invalid_action": -1.0 / r.reward_scale_usd,
        }

    # ------------------------------------------------------------------ layout
    def _build_layout(self) -> None:
        nb = len(self.cfg.grid.batteries)
        blocks = [
            ("head_task", 9, "present, prefers GPU, units, run time, time to deadline, slack ratio, high QoS, tasks left, critical path"),
            ("queue", 4, "ready count, CPU asked/free, GPU asked/free, nearest deadline"),
            ("nodes", 7 * self.n_nodes, "per node: free CPU, free GPU, fits CPU, fits GPU, power/peak, LMP/100, MCI/1000"),
            ("grid", 4 + nb, "renewable availability, curtailment, base load, renewable share, SOC per battery"),
            ("time", 3, "sin hour, cos hour, episode progress"),
        ]
        layout, start = [], 0
        for name, size, meaning in blocks:
            layout.append((name, start, size, meaning))
            start += size
        self.obs_layout: list[tuple[str, int, int, str]] = layout
        self._obs_dim = start

    # ------------------------------------------------------------------ reset
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        ep = self.cfg.episode
        options = options or {}
        day = options.get("day")
        if day is None:
            day = int(self.np_random.integers(ep.first_day, ep.last_day + 1))
        elif not (isinstance(day, (int, np.integer)) and 0 <= day <= 365 - ep.days):
            raise ValueError(f"options['day']={day!r}: expected an integer day in [0, {365 - ep.days}]")
        self.day = int(day)
        self._rng_at_start = copy.deepcopy(self.np_random)  # for foresight(): arrivals ahead
        self.inputs = grid_inputs(self.cfg.grid, self.grid, self.day, self.n_intervals, self.interval_h)
        self.committed = self.commitment.commitment(self.grid, self.day, self.n_intervals, self.interval_h)
        self.cpn.reset()
        self.dispatch.reset_warm_start()  # same seed, same trajectory, whatever ran before
        self.soc = initial_soc_mwh(self.cfg.grid)
        self.t = 0  # index of the interval about to run
        self.now_h = 0.0
        self._pending: deque[int] = deque()
        self._deferred: list[int] = []
        self._head = -1
        self._decisions = 0
        self._terms = dict.fromkeys(self._reward_names, 0.0)
        # The objective's ledger: the plan's start-ups are a constant of the day, booked now.
        start = ObjectiveTerms(startup=startup_cost_usd(self.committed, self._startup_usd, np.ones(self.grid.n_gen, bool)))
        self._objective = start
        self._shadow = shadow_day(self._shadow_dispatch, self.grid, self.inputs, self.committed, self._idle_bus_mw,
                                  initial_soc_mwh(self.cfg.grid), self.fast_start, self.cfg.commitment.fast_start_usd_per_mwh)
        sh = self._shadow
        self._baseline = start + grid_terms(float(sh.generation_usd.sum()), float(sh.lost_load_usd.sum()),
                                            float(sh.emissions_kg.sum()), self.prices)
        self._intervals: list[dict[str, Any]] = []
        self._last: dict[str, Any] | None = None
        self._totals = dict.fromkeys(
            ("cost_usd", "emissions_kg", "curtail_mwh", "shed_mwh", "cpn_energy_mwh", "cpn_emissions_kg", "cpn_cost_usd",
             "load_mwh", "res_used_mwh", "revenue_usd", "deadline_misses", "fast_start_mwh", "settled_unfinished"), 0.0)
        self._lmp_node = np.zeros(self.n_nodes)
        self._mci_node = np.zeros(self.n_nodes)
        self._power_node = self.cpn.idle_mw.copy()
        self._last_curtail = 0.0
        self._last_res_share = 0.0
        self._last_base = 0.0
        self._done = False
        self._refresh_static_obs()
        self._next_decision()
        info = self._info()
        info["elapsed_h"] = self.t * self.interval_h  # intervals run before the first decision
        if self._intervals:  # intervals that ran before the first decision
            info["interval"] = self._intervals[-1]
            info["intervals"] = self._intervals
        return self._obs(), info

    # ------------------------------------------------------------------ step
    def step(self, action: int) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        if self._done:
            raise RuntimeError("step() called after the episode ended; call reset()")
        a = int(action)
        if not (0 <= a < self.n_actions):
            raise ValueError(f"action={action!r}: expected an integer in [0, {self.n_actions - 1}]")
        task = self._head
        if a != self.defer_action:
            node, rtype = divmod(a, 2)
            if self.cpn.free[node, rtype] >= self.cpn.t_units[task]:
                self.cpn.assign(task, node, rtype, self.now_h)
            else:
                self._terms["invalid_action"] += self.cfg.reward.invalid_action_penalty_usd
                self._deferred.append(task)
        else:
            self._deferred.append(task)
        self._decisions += 1
        self._intervals = []
        t_before = self.t
        self._next_decision()
        if self.cfg.reward.mode == "objective":
            terms = {k: -v / self.cfg.reward.reward_scale_usd for k, v in self._terms.items()}
        else:
            terms = {k: self._w[k] * v for k, v in self._terms.items()}
        reward = float(sum(terms.values()))
        self._terms = dict.fromkeys(self._reward_names, 0.0)
        info = self._info()
        info["reward_terms"] = terms
        info["elapsed_h"] = (self.t - t_before) * self.interval_h  # simulated hours this step advanced
        if self._intervals:
            info["interval"] = self._intervals[-1]
            info["intervals"] = self._intervals
        if self._done:
            info["episode_metrics"] = self.episode_metrics()
        return self._obs(), reward, self._done, False, info

    def action_masks(self) -> np.ndarray:
        """Feasible actions for the head sub-task, ``[n_actions]`` bool (defer always)."""
        mask = np.zeros(self.n_actions, dtype=bool)
        mask[-1] = True
        if self._head >= 0 and not self._done:
            mask[:-1] = self.cpn.feasible(self._head).ravel()
        return mask

    # ------------------------------------------------------------------ the loop
    def _next_decision(self) -> None:
        """Pop the next sub-task that can be placed somewhere; advance the clock while none."""
        cpn = self.cpn
        max_dec = self.cfg.episode.max_decisions_per_interval
        while True:
            if self._decisions < max_dec:
                while self._pending:
                    task = self._pending.popleft()
                    if cpn.t_status[task] != READY:  # dropped meanwhile
                        continue
                    if (cpn.free >= cpn.t_units[task]).any():
                        self._head = task
                        return
                    self._deferred.append(task)  # fits nowhere now: no decision to make
            if self._pending:
                left = np.fromiter(self._pending, dtype=np.int64, count=len(self._pending))
                self._deferred.extend(left[cpn.t_status[left] == READY].tolist())
            self._pending.clear()
            self._head = -1
            if self.t >= self.n_intervals:
                self._settle()
                self._done = True
                return
            self._advance_interval()

    def _advance_interval(self) -> None:
        cfg, cpn, t, dt = self.cfg, self.cpn, self.t, self.interval_h
        t0 = self.now_h
        t1 = t0 + dt
        comp: IntervalCompute = cpn.advance(t0, t1)
        cpn_bus_mw = np.bincount(self.node_bus, weights=comp.node_power_mw, minlength=self.grid.n_bus)
        base = self.inputs.base_load_mw[t]
        avail = self.inputs.res_avail_mw[t]
        res = self.dispatch.solve(base + cpn_bus_mw, avail, self.soc, self.committed[t], fast_start=self.fast_start,
                                   fast_start_usd_per_mwh=cfg.commitment.fast_start_usd_per_mwh)
        if not res.ok:
            raise RuntimeError(f"interval {t}: the dispatch returned status {res.status}")
        self.soc = np.clip(res.bess_soc_end_mwh, 0.0, self._bess_energy)
        lmp_node = res.lmp_usd_per_mwh[self.node_bus]
        mci_node = res.mci_kg_per_mwh[self.node_bus]
        energy_node = comp.node_power_mw * dt
        cpn_cost = float(energy_node @ lmp_node)
        cpn_emis = float(energy_node @ mci_node)
        r = cfg.reward
        gen_usd, lost_usd = dispatch_cost_usd(res, self.grid, dt)
        booked = grid_terms(gen_usd, lost_usd, res.emissions_kg_per_h * dt, self.prices) + compute_terms(
            comp.revenue_usd, comp.deadline_misses, self.prices)
        self._objective = self._objective + booked
        if r.mode == "objective":
            # The objective's increment against the shadow day's same interval (CPN idle).
            sh = self._shadow
            net = booked - grid_terms(float(sh.generation_usd[t]), float(sh.lost_load_usd[t]), float(sh.emissions_kg[t]),
                                      self.prices)
            for k, v in net.signed().items():
                self._terms[k] += v
        else:
            self._terms["revenue"] += comp.revenue_usd
            self._terms["electricity_cost"] += cpn_cost
            self._terms["carbon"] += cpn_emis / 1000.0 * r.carbon_price_usd_per_t
            self._terms["deadline_penalty"] += comp.deadline_misses * r.deadline_penalty_usd

        tot = self._totals
        tot["cost_usd"] += gen_usd + lost_usd
        tot["emissions_kg"] += res.emissions_kg_per_h * dt
        tot["curtail_mwh"] += float(res.curtail_mw.sum()) * dt
        tot["shed_mwh"] += float(res.shed_mw.sum()) * dt
        if res.started is not None and res.started.any():
            tot["fast_start_mwh"] += float(res.gen_mw[res.started].sum()) * dt
        tot["cpn_energy_mwh"] += float(energy_node.sum())
        tot["cpn_emissions_kg"] += cpn_emis
        tot["cpn_cost_usd"] += cpn_cost
        tot["load_mwh"] += float(base.sum() + cpn_bus_mw.sum()) * dt
        tot["res_used_mwh"] += float(res.res_used_mw.sum()) * dt
        tot["revenue_usd"] += comp.revenue_usd
        tot["deadline_misses"] += comp.deadline_misses

        record = {
            "t": t,
            "hour": t0,
            "gen_mw": res.gen_mw,
            "res_used_mw": res.res_used_mw,
            "curtail_mw": res.curtail_mw,
            "shed_mw": res.shed_mw,
            "started": res.started,
            "overgen_mw": res.overgen_mw,
            "bess_charge_mw": res.bess_charge_mw,
            "bess_discharge_mw": res.bess_discharge_mw,
            "bess_soc_mwh": self.soc.copy(),
            "base_load_mw": base.copy(),
            "cpn_load_mw": cpn_bus_mw,
            "node_power_mw": comp.node_power_mw,
            "utilization": comp.utilization,
            "line_flow_mw": res.line_flow_mw,
            "lmp": res.lmp_usd_per_mwh,
            "mci": res.mci_kg_per_mwh,
            "cost": res.cost_usd_per_h * dt,
            "emissions": res.emissions_kg_per_h * dt,
            "cpn_cost_usd": cpn_cost,
            "cpn_emissions_kg": cpn_emis,
            "objective_usd": booked.total_usd,
        }
        self._intervals.append(record)
        self._last = record
        self._lmp_node, self._mci_node, self._power_node = lmp_node, mci_node, comp.node_power_mw
        demand = float(base.sum() + cpn_bus_mw.sum())
        self._last_curtail = float(res.curtail_mw.sum())
        self._last_res_share = float(res.res_used_mw.sum()) / max(demand, 1e-9)
        self._last_base = float(base.sum())

        # Arrivals during [t0, t1) join the queue at t1, with successors released in the interval.
        batch = self.jobs.draw(self.np_random, t0, dt, float(self.inputs.hour_of_day[t]))
        if batch is not None:
            cpn.add_jobs(batch)
        self.t += 1
        self.now_h = t1
        self._decisions = 0
        new = np.fromiter(cpn.ready, dtype=np.int64, count=len(cpn.ready))
        cpn.ready.clear()
        self._pending = deque(self._deferred)
        self._pending.extend(new[cpn.t_status[new] == READY].tolist())
        self._deferred = []
        self._refresh_static_obs()

    def _settle(self) -> None:
        """The episode's end: every job not finished on time is charged its miss now (the
        settlement rule of ``carbon_cpn.optim.objective``)."""
        n = self.cpn.settle_unfinished()
        if n == 0:
            return
        settled = compute_terms(0.0, n, self.prices)
        self._objective = self._objective + settled
        self._totals["deadline_misses"] += n
        self._totals["settled_unfinished"] += n
        if self.cfg.reward.mode == "objective":
            self._terms["qos_penalty"] += settled.qos_penalty
        else:
            self._terms["deadline_penalty"] += settled.qos_penalty

    # ------------------------------------------------------------------ observation
    def _refresh_static_obs(self) -> None:
        """The parts of the observation that change only when the clock advances."""
        o = np.zeros(self._obs_dim, dtype=np.float32)
        n = self.n_nodes
        s = 13
        nodes = o[s : s + 7 * n].reshape(n, 7)
        nodes[:, 4] = self._power_node / self.cpn.peak_mw
        nodes[:, 5] = self._lmp_node / 100.0
        nodes[:, 6] = self._mci_node / 1000.0
        s += 7 * n
        t = min(self.t, self.n_intervals - 1)
        cap = max(self._res_cap.sum(), 1e-9)
        o[s] = self.inputs.res_avail_mw[t].sum() / cap
        o[s + 1] = self._last_curtail / cap
        o[s + 2] = self._last_base / max(self._case_load_mw, 1e-9)
        o[s + 3] = self._last_res_share
        nb = self._bess_energy.size
        o[s + 4 : s + 4 + nb] = self.soc / np.maximum(self._bess_energy, 1e-9)
        s += 4 + nb
        hour = self.now_h % 24.0
        o[s] = np.sin(2 * np.pi * hour / 24.0)
        o[s + 1] = np.cos(2 * np.pi * hour / 24.0)
        o[s + 2] = self.t / self.n_intervals
        self._static_obs = o

    def _obs(self) -> np.ndarray:
        cpn = self.cpn
        o = self._static_obs.copy()
        head = self._head
        now = self.now_h
        if head >= 0:
            j = int(cpn.t_job[head])
            pref = int(cpn.t_res[head])
            dur = float(cpn.t_dur[head])
            left = float(cpn.j_deadline[j]) - now
            o[0:9] = (
                1.0,
                pref,
                cpn.t_units[head] / self._max_units[pref],
                dur / 8.0,
                max(-1.0, min(1.0, left / 24.0)),
                max(-1.0, min(1.0, left / max(dur, 1e-6) / 10.0)),
                cpn.j_high[j],
                (cpn.j_ntasks[j] - cpn.j_ndone[j]) / self.cfg.workload.max_subtasks,
                cpn.j_crit[j] / 8.0,
            )
        # Queue summary over the sub-tasks still waiting for a decision or deferred.
        nq = len(self._pending) + len(self._deferred)
        if nq:
            q = np.fromiter((*self._pending, *self._deferred), dtype=np.int64, count=nq)
            units = cpn.t_units[q]
            gpu = cpn.t_res[q] == 1
            free = cpn.free.sum(axis=0)
            asked_gpu = float(units[gpu].sum())
            o[9] = min(nq / self.cfg.workload.queue_capacity, 4.0)
            o[10] = min((float(units.sum()) - asked_gpu) / max(free[0], 1), 4.0)
            o[11] = min(asked_gpu / max(free[1], 1), 4.0)
            o[12] = max(-1.0, min(1.0, (float(cpn.j_deadline[cpn.t_job[q]].min()) - now) / 24.0))
        n = self.n_nodes
        nodes = o[13 : 13 + 7 * n].reshape(n, 7)
        nodes[:, 0:2] = cpn.free / self._capacity_f
        if head >= 0:
            nodes[:, 2:4] = cpn.free >= cpn.t_units[head]
        return np.clip(o, -OBS_CLIP, OBS_CLIP, out=o)

    def _info(self) -> dict[str, Any]:
        return {"time_h": self.now_h, "day": self.day, "action_mask": self.action_masks()}

    # ------------------------------------------------------------------ metrics
    def episode_metrics(self) -> dict[str, float]:
        """The episode's booked quantities so far (complete at the episode's end)."""
        cpn = self.cpn
        tot = self._totals
        m = cpn.n_jobs
        st = cpn.j_status[:m]
        final = st != 0
        counts = cpn.job_counts()
        n_final = int(final.sum())
        high_final = final & cpn.j_high[:m]
        high_missed = high_final & (st == 2)
        obj = self._objective
        return {
            "objective_usd": obj.total_usd,
            "generation_cost_usd": obj.generation,
            "startup_cost_usd": obj.startup,
            "lost_load_cost_usd": obj.lost_load,
            "carbon_cost_usd": obj.carbon,
            "compute_value_usd": obj.compute_value,
            "qos_penalty_usd": obj.qos_penalty,
            "baseline_objective_usd": self._baseline.total_usd,
            "total_cost_usd": obj.generation + obj.startup + obj.lost_load,
            "emissions_tco2": tot["emissions_kg"] / 1000.0,
            "curtailment_mwh": tot["curtail_mwh"],
            "load_shed_mwh": tot["shed_mwh"],
            "fast_start_mwh": tot["fast_start_mwh"],
            "job_success_rate": float(np.sum(st == 1) / m) if m else 1.0,
            "mean_tardiness_s": float(cpn.j_tardiness[:m][final].mean() * 3600.0) if n_final else 0.0,
            "qos_violation_rate": float(high_missed.sum() / high_final.sum()) if high_final.any() else 0.0,
            "cpn_energy_mwh": tot["cpn_energy_mwh"],
            "cpn_emissions_tco2": tot["cpn_emissions_kg"] / 1000.0,
            "cpn_cost_usd": tot["cpn_cost_usd"],
            "revenue_usd": tot["revenue_usd"],
            "renewable_share": tot["res_used_mwh"] / max(tot["load_mwh"], 1e-9),
            "deadline_misses": tot["deadline_misses"],
            "jobs_arrived": float(counts["arrived"]),
            "jobs_completed": float(counts["completed"]),
            "jobs_failed": float(counts["failed"]),
            "jobs_pending": float(counts["pending"]),
            "jobs_settled_unfinished": tot["settled_unfinished"],
        }

    # ------------------------------------------------------------------ accessors for baselines
    @property
    def head_task(self) -> int:
        """Index of the sub-task awaiting a decision, or -1."""
        return self._head

    @property
    def shadow_day(self) -> ShadowDay:
        """The episode's grid dispatched with the CPN idle and no jobs, solved at reset: the
        reference of the default reward and a schedule-free price and carbon profile."""
        return self._shadow

    def scheduler_view(self) -> SchedulerView:
        """The structured state a heuristic scheduler may use (see ``carbon_cpn.envs.views``)."""
        return scheduler_view(self)

    def foresight(self) -> Foresight:
        """The whole episode ahead: grid inputs and every job arrival (for the oracle)."""
        return foresight(self)

    def render(self) -> Any:
        if self.render_mode is None:
            gym.logger.warn("render() called without a render_mode; pass render_mode='ansi' or 'rgb_array'")
            return None
        from carbon_cpn.envs.render import render_ansi, render_rgb

        return render_ansi(self) if self.render_mode == "ansi" else render_rgb(self)
