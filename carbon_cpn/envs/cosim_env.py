"""``CoSimEnv``: the base of every scenario family's env — reset, step and the decision loop.

A step places (or defers) the sub-task at the head of the :class:`DecisionQueue`; when no
decision is pending, the clock advances one grid interval: the compute model runs, its node
power joins the base load, the economic dispatch is solved with it, and the interval's
:class:`IntervalOutcome` is booked in the :class:`EpisodeLedger`. A family fills these hooks
(the HighwayEnv ``AbstractEnv`` pattern):

* :meth:`make_codec` — its action codec (default: a (node, resource) placement or defer);
* :meth:`place` — carry out a decoded action on the compute model;
* :meth:`make_observation` — the observation builder (default: the CarbonCPN blocks);
* :meth:`extra_reward_terms` — reward terms the family adds, from the outcome (in $);
* :meth:`jobs_arrived`, :meth:`interval_booked` — what a family tracks per job and interval;
* :meth:`make_commitment` — the unit commitment source of the real-time dispatch.

Randomness comes from :class:`EpisodeStreams`; no family draws from the arrival stream.
"""

from __future__ import annotations

import os
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from carbon_cpn.envs.action_codec import Assignment, NodeResourceCodec
from carbon_cpn.envs.actions import coerce_action
from carbon_cpn.envs import invariants
from carbon_cpn.envs.config import ScenarioConfig, load_scenario
from carbon_cpn.envs.cpn import READY, CPNState
from carbon_cpn.envs.cpn_observation import CPNObservation
from carbon_cpn.envs.day_ahead import make_commitment as day_ahead_commitment
from carbon_cpn.envs.decision_queue import DecisionQueue
from carbon_cpn.envs.grid_system import CommitmentSource, ShadowDay
from carbon_cpn.envs.ledger import EpisodeLedger
from carbon_cpn.envs.observation import OBS_CLIP
from carbon_cpn.envs.outcome import IntervalOutcome, SiteExchange
from carbon_cpn.envs.power_side import RegionalGrids, SingleGrid
from carbon_cpn.envs.rewards import interval_terms_usd, scale_terms, settlement_terms_usd, term_names
from carbon_cpn.envs.streams import EpisodeReplay, EpisodeStreams
from carbon_cpn.envs.views import Foresight, SchedulerView, foresight, scheduler_view
from carbon_cpn.envs.workload import JobBatch, JobGenerator
from carbon_cpn.optim.dispatch import EconomicDispatch
from carbon_cpn.optim.grid import GridModel
from carbon_cpn.optim.objective import ObjectivePrices, ObjectiveTerms, compute_terms, grid_terms, startup_cost_usd


class CoSimEnv(gym.Env[np.ndarray, int]):
    """Data centers scheduled on a dispatched grid; see :mod:`carbon_cpn.envs.cpn_env` for the
    spaces, rewards and metrics of the default family."""

    metadata = {"render_modes": ["ansi", "rgb_array"], "render_fps": 4}
    #: The observation builder :meth:`make_observation` makes (a family may name a subclass).
    observation_class: type[CPNObservation] = CPNObservation

    def __init__(self, scenario: str | ScenarioConfig = "ieee30_5dc", render_mode: str | None = None,
                 commitment: CommitmentSource | None = None, check_invariants: bool | None = None,
                 **overrides: Any) -> None:
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode={render_mode!r}: expected None or one of {self.metadata['render_modes']}")
        self.render_mode = render_mode
        #: Check every interval's invariants (:mod:`carbon_cpn.envs.invariants`); default: the
        #: environment variable CARBON_CPN_CHECK_INVARIANTS=1.
        self.check_invariants = (os.environ.get("CARBON_CPN_CHECK_INVARIANTS") == "1" if check_invariants is None
                                 else bool(check_invariants))
        self.cfg: ScenarioConfig = load_scenario(scenario, **overrides)
        cfg = self.cfg
        self.interval_h = cfg.episode.interval_min / 60.0
        self.n_intervals = int(round(cfg.episode.days * 24 / self.interval_h))
        #: The grid side: one dispatched grid, or regional grids stacked (``carbon_cpn/envs/power_side.py``).
        self.power: SingleGrid | RegionalGrids = self.make_power(commitment)
        self.cpn = CPNState(cfg.cpn, cfg.workload)
        self.jobs = JobGenerator(cfg.workload)
        self.n_nodes = self.cpn.n_nodes
        self.node_bus = np.array([self.power.bus_position(nd.bus, nd.region) for nd in cfg.cpn.nodes], dtype=np.int64)
        self.codec = self.make_codec()
        self.n_actions = self.codec.n_actions
        self.defer_action = self.codec.defer
        self.action_space = spaces.Discrete(self.n_actions)
        self.farm_node = self.power.nearest_node_of_farms(self.node_bus)  # [res] node nearest each farm
        self.observation = self.make_observation()
        self.obs_layout: list[tuple[str, int, int, str]] = self.observation.layout.entries
        self.observation_space = spaces.Box(low=-OBS_CLIP, high=OBS_CLIP, shape=(self.observation.layout.dim,),
                                            dtype=np.float32)
        self.bess_energy_mwh = self.power.bess_energy_mwh
        self.prices = ObjectivePrices(cfg.reward.carbon_price_usd_per_t, cfg.reward.deadline_penalty_usd)
        self.idle_bus_mw = np.bincount(self.node_bus, weights=self.cpn.idle_mw, minlength=self.power.n_bus)
        self.reward_names = term_names(cfg.reward)
        self.queue = DecisionQueue(cfg.episode.max_decisions_per_interval)
        self.episodes_since_seed = 0
        self.done = True
        self.ended_in_reset = False  # the day ran to its end inside reset() (see reset())
        #: Whether reset() was called once (step() before it is refused, saying so).
        self.started = False

    # ------------------------------------------------------------------ family hooks
    def make_power(self, commitment: CommitmentSource | None) -> SingleGrid | RegionalGrids:
        """The grid side: regional grids when the scenario lists ``regions``, else its one grid
        with ``commitment`` (None: :meth:`make_commitment`)."""
        if self.cfg.regions:
            if commitment is not None:
                raise ValueError("commitment: a scenario with regions commits every unit (all_on); expected None")
            return RegionalGrids(self.cfg, self.interval_h)
        power = SingleGrid(self.cfg, self.cfg.grid, self.interval_h)
        power.commitment = self.make_commitment(power.grid) if commitment is None else commitment
        return power

    def make_commitment(self, grid: GridModel) -> CommitmentSource:
        return day_ahead_commitment(self.cfg, grid)

    def make_codec(self) -> Any:
        return NodeResourceCodec(self.n_nodes)

    def make_observation(self) -> CPNObservation:
        return self.observation_class(self.cfg, self.cpn, self.power.res_capacity_mw, self.power.bess_energy_mwh,
                                      self.power.case_load_mw)

    def place(self, task: int, assignment: Assignment) -> bool:
        """Run ``task`` as ``assignment`` says if it fits; False (a masked action) otherwise."""
        if self.cpn.free[assignment.node, assignment.resource] >= self.cpn.t_units[task]:
            self.cpn.assign(task, assignment.node, assignment.resource, self.now_h)
            return True
        return False

    def next_question(self) -> bool:
        """When no queued sub-task is left to ask about in this interval: a family may make
        something else the head (e.g. a running task to migrate) and return True."""
        return False

    def interval_booked(self, outcome: IntervalOutcome) -> None:
        """An interval's outcome was just booked (a family keeps its own totals here)."""

    def episode_started(self) -> None:
        """The episode's day, inputs, streams and shadow day exist; no interval has run and no
        question was asked yet (a family draws its episode's own inputs here)."""

    def added_node_power_mw(self, start_h: float, interval_h: float) -> np.ndarray:
        """Power the family adds at each node in the interval about to run, besides the compute
        model's sub-tasks (``[node]`` MW; part of the nodes' load, energy, cost and emissions).
        Called once per interval, before the compute model runs it (what the family serves
        in the interval, e.g. inference, is settled here)."""
        return np.zeros(self.n_nodes)

    def site_exchange(self, node_mw: np.ndarray, t: int) -> SiteExchange:
        """How the nodes' load ``node_mw [node]`` of interval ``t`` meets the grid (a family
        with on-site energy dispatches it here); by default all of it is drawn from the buses."""
        return SiteExchange.from_grid(node_mw)

    def family_invariants(self, outcome: IntervalOutcome) -> list[str]:
        """Invariants the family adds to :mod:`carbon_cpn.envs.invariants` (broken ones, as lines)."""
        return []

    def delivered_value_usd(self, t: int) -> float:
        """Value of the work the family delivered in interval ``t`` outside the compute
        model's jobs [$] (booked as compute value)."""
        return 0.0

    def jobs_arrived(self, batch: JobBatch, first_job: int) -> None:
        """Jobs ``first_job ..`` of ``batch`` just arrived (a family adds what it tracks per job)."""

    def extra_reward_names(self) -> tuple[str, ...]:
        """Names of the terms :meth:`extra_reward_terms` adds."""
        return ()

    def extra_reward_terms(self, outcome: IntervalOutcome) -> dict[str, float]:
        """Terms a family adds to an interval's reward, in reward units."""
        return {}

    # ------------------------------------------------------------------ reset
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        self.started = True
        self.episodes_since_seed = 0 if seed is not None else self.episodes_since_seed + 1
        ep = self.cfg.episode
        options = options or {}
        day = options.get("day")
        replay = options.get("replay")
        if replay is not None and not isinstance(replay, EpisodeReplay):
            raise ValueError(f"options['replay']={replay!r}: expected the EpisodeReplay of env.episode_replay()")
        if replay is not None:  # the episode another env of this spec was reset to
            self.np_random, self.episodes_since_seed, day = replay.arrivals_generator(), replay.episode, replay.day
        if day is None:
            day = int(self.np_random.integers(ep.first_day, ep.last_day + 1))
        elif not (isinstance(day, (int, np.integer)) and 0 <= day <= 365 - ep.days):
            raise ValueError(f"options['day']={day!r}: expected an integer day in [0, {365 - ep.days}]")
        self.day = int(day)
        self.streams = EpisodeStreams(self.np_random, self.episodes_since_seed)
        self.inputs = self.power.inputs(self.day, self.n_intervals)
        self.committed = self.power.committed(self.day, self.n_intervals)
        self.cpn.reset()
        self.power.reset_warm_start()  # same seed, same trajectory, whatever ran before
        self.soc = self.power.initial_soc_mwh()
        self.t = 0  # index of the interval about to run
        self.now_h = 0.0
        self.queue.reset()
        self.step_terms_usd = dict.fromkeys(self.reward_names, 0.0)
        self.step_outcomes: list[IntervalOutcome] = []
        # The plan's start-ups are a constant of the day, booked now.
        opening = ObjectiveTerms(startup=startup_cost_usd(self.committed, self.power.startup_usd,
                                                          np.ones(self.power.n_gen, bool)))
        self.shadow = self.power.shadow(self.inputs, self.committed, self.idle_bus_mw)
        sh = self.shadow
        baseline = opening + grid_terms(float(sh.generation_usd.sum()), float(sh.lost_load_usd.sum()),
                                        float(sh.emissions_kg.sum()), self.prices)
        self.ledger = EpisodeLedger(self.prices, opening, baseline)
        self.done = False
        self.episode_started()
        self._refresh_observation()
        self._next_decision()
        # A day without a single question ran to its end here; reset() never returns a finished
        # episode (Gymnasium's API): one more step, whose reward holds the day's terms, ends it.
        self.ended_in_reset = self.done
        self.done = False
        info = self._info()
        info["elapsed_h"] = self.t * self.interval_h  # intervals run before the first decision
        self._add_intervals(info)
        return self.observation.observe(self.queue.head, self.queue.waiting(), self.now_h), info

    # ------------------------------------------------------------------ step
    def step(self, action: int) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        if self.done:
            when = "after the episode ended" if self.started else "before reset()"
            raise RuntimeError(f"step() called {when}; call reset() first")
        action = coerce_action(action, self.n_actions)
        assignment = self.codec.decode(action, self.head_preference())
        task = self.queue.head
        placed = assignment is not None and not self.ended_in_reset and self.place(task, assignment)
        if assignment is not None and not placed:
            self.step_terms_usd["invalid_action"] += self.cfg.reward.invalid_action_penalty_usd
        # A running head or none (a family's question) stays put.
        if not placed and task >= 0 and self.cpn.t_status[task] == READY:
            self.queue.defer(task)
        self.queue.decided()
        self.step_outcomes = []
        t_before = self.t
        if self.ended_in_reset:
            self.ended_in_reset, self.done = False, True
        else:
            self._next_decision()
        terms = scale_terms(self.step_terms_usd, self.cfg.reward)
        for name in self.extra_reward_names():
            terms[name] = 0.0
        for o in self.step_outcomes:
            for k, v in self.extra_reward_terms(o).items():
                terms[k] += v
        reward = float(sum(terms.values()))
        self.step_terms_usd = dict.fromkeys(self.reward_names, 0.0)
        info = self._info()
        info["reward_terms"] = terms
        info["elapsed_h"] = (self.t - t_before) * self.interval_h  # simulated hours this step advanced
        self._add_intervals(info)
        if self.done:
            info["episode_metrics"] = self.episode_metrics()
        return self.observation.observe(self.queue.head, self.queue.waiting(), self.now_h), reward, self.done, False, info

    def head_preference(self) -> int:
        """The head sub-task's preferred resource (-1 when there is none)."""
        h = self.queue.head
        return int(self.cpn.t_res[h]) if h >= 0 else -1

    def action_masks(self) -> np.ndarray:
        """Feasible actions for the head sub-task, ``[n_actions]`` bool (defer always)."""
        head = self.queue.head
        if head < 0 or self.done:
            return self.codec.mask(None, -1)
        return self.codec.mask(self.cpn.feasible(head), int(self.cpn.t_res[head]))

    # ------------------------------------------------------------------ the loop
    def _next_decision(self) -> None:
        """Pop the next sub-task that can be placed somewhere; advance the clock while none."""
        while not self.queue.next_head(self.cpn) and not self.next_question():
            if self.t >= self.n_intervals:
                self._settle()
                self.done = True
                return
            self._advance_interval()

    def _advance_interval(self) -> None:
        cfg, cpn, t, dt = self.cfg, self.cpn, self.t, self.interval_h
        t0 = self.now_h
        added_mw = self.added_node_power_mw(t0, dt)
        comp = cpn.advance(t0, t0 + dt)
        node_mw = comp.node_power_mw + added_mw
        site = self.site_exchange(node_mw, t)
        cpn_bus_mw = np.bincount(self.node_bus, weights=site.grid_mw, minlength=self.power.n_bus)
        base = self.inputs.base_load_mw[t]
        res = self.power.solve(base + cpn_bus_mw, self.inputs.res_avail_mw[t], self.soc, self.committed[t])
        if not res.ok:
            raise RuntimeError(f"interval {t}: the dispatch returned status {res.status}")
        self.soc = np.clip(res.bess_soc_end_mwh, 0.0, self.bess_energy_mwh)
        lmp_node = res.lmp_usd_per_mwh[self.node_bus]
        mci_node = res.mci_kg_per_mwh[self.node_bus]
        draw_node = site.grid_mw * dt
        gen_usd, lost_usd = self.power.cost_usd(res)
        gen_usd += site.generation_usd
        family_value = self.delivered_value_usd(t)
        booked = grid_terms(gen_usd, lost_usd, res.emissions_kg_per_h * dt + site.emissions_kg, self.prices) + \
            compute_terms(comp.revenue_usd + family_value, comp.deadline_misses, self.prices)
        outcome = IntervalOutcome(
            t=t, start_h=t0, interval_h=dt, compute=comp, dispatch=res, base_load_mw=base.copy(),
            cpn_load_mw=cpn_bus_mw, soc_end_mwh=self.soc.copy(), node_lmp_usd_per_mwh=lmp_node,
            node_mci_kg_per_mwh=mci_node, cpn_cost_usd=float(draw_node @ lmp_node) + site.generation_usd,
            cpn_emissions_kg=float(draw_node @ mci_node) + site.emissions_kg, generation_usd=gen_usd,
            lost_load_usd=lost_usd, booked=booked, added_mw=added_mw, site=site, family_value_usd=family_value)
        self.ledger.book(outcome)
        self.interval_booked(outcome)
        if self.check_invariants:
            invariants.check(self, outcome)
        self.step_outcomes.append(outcome)
        sh = self.shadow
        shadow_t = grid_terms(float(sh.generation_usd[t]), float(sh.lost_load_usd[t]), float(sh.emissions_kg[t]),
                              self.prices)
        for k, v in interval_terms_usd(outcome, shadow_t, cfg.reward).items():
            self.step_terms_usd[k] += v
        # Arrivals during [t0, t1) join the queue at t1, with successors released in the interval.
        batch = self.jobs.draw(self.streams.arrivals, t0, dt, float(self.inputs.hour_of_day[t]))
        if batch is not None:
            first_job = cpn.n_jobs
            cpn.add_jobs(batch)
            self.jobs_arrived(batch, first_job)
        self.t += 1
        self.now_h = t0 + dt
        released = cpn.take_ready()
        self.queue.new_interval(released, cpn)
        self._refresh_observation()

    def _settle(self) -> None:
        """The episode's end: every job not finished on time is charged its miss now (the
        settlement rule of ``carbon_cpn.optim.objective``)."""
        n = self.cpn.settle_unfinished()
        if n == 0:
            return
        settled = self.ledger.settle(n)
        for k, v in settlement_terms_usd(settled, self.cfg.reward).items():
            self.step_terms_usd[k] += v

    def _refresh_observation(self) -> None:
        t = min(self.t, self.n_intervals - 1)
        self.observation.refresh(self.ledger.last, self.inputs.res_avail_mw[t], self.soc, self.now_h, self.t,
                                 self.n_intervals)

    def _info(self) -> dict[str, Any]:
        return {"time_h": self.now_h, "day": self.day, "action_mask": self.action_masks()}

    def _add_intervals(self, info: dict[str, Any]) -> None:
        if self.step_outcomes:  # intervals that ran in this call
            records = [o.record() for o in self.step_outcomes]
            info["interval"] = records[-1]
            info["intervals"] = records

    # ------------------------------------------------------------------ metrics and views
    def episode_metrics(self) -> dict[str, float]:
        """The episode's booked quantities so far (complete at the episode's end)."""
        return self.ledger.metrics(self.cpn.job_summary())

    def _single(self, name: str) -> SingleGrid:
        if not isinstance(self.power, SingleGrid):
            raise AttributeError(f"{name}: this scenario has regional grids {list(self.power.names)}; "
                                 f"expected env.power.parts[k].{name}")
        return self.power

    @property
    def grid(self) -> GridModel:
        """The grid model (one-grid scenarios)."""
        return self._single("grid").grid

    @property
    def dispatch(self) -> EconomicDispatch:
        """The real-time dispatch (one-grid scenarios)."""
        return self._single("dispatch").dispatch

    @property
    def commitment(self) -> CommitmentSource | None:
        """The unit commitment source (None with regional grids: every unit on)."""
        return self.power.commitment

    @property
    def fast_start(self) -> np.ndarray | None:
        """Units the real-time dispatch may start, ``[gen]`` bool, or None."""
        return self.power.fast_start

    @property
    def head_task(self) -> int:
        """Index of the sub-task awaiting a decision, or -1."""
        return self.queue.head

    @property
    def shadow_day(self) -> ShadowDay:
        """The episode's grid dispatched with the CPN idle and no jobs, solved at reset: the
        reference of the default reward and a schedule-free price and carbon profile."""
        return self.shadow

    def scheduler_view(self) -> SchedulerView:
        """The structured state a heuristic scheduler may use (see ``carbon_cpn.envs.views``)."""
        return scheduler_view(self)

    def episode_replay(self) -> EpisodeReplay:
        """``reset(options={"replay": env.episode_replay()})`` resets another env of this spec to
        this episode (day, arrivals, family streams), seeded or not."""
        if not self.started:
            raise RuntimeError("episode_replay() called before reset(); reset the env first")
        return EpisodeReplay(day=self.day, episode=self.episodes_since_seed, arrivals=self.streams.arrivals_replay())

    def foresight(self) -> Foresight:
        """The whole episode ahead: grid inputs and every job arrival (for the oracle)."""
        return foresight(self)

    def render(self) -> Any:
        if self.render_mode is None:
            gym.logger.warn("render() called without a render_mode; pass render_mode='ansi' or 'rgb_array'")
            return None
        from carbon_cpn.envs.render import render_ansi, render_rgb

        return render_ansi(self) if self.render_mode == "ansi" else render_rgb(self)


__all__ = ["CoSimEnv"]
