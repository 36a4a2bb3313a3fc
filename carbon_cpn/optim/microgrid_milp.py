"""The joint compute-energy MILP of AI data-center microgrids, and the paper's two baselines.

After "Carbon-Aware Compute-Power Scheduling for AI Data Centers with Microgrid
Prosumer Operations" (the MILP paper). One pyomo model per instance
(:class:`~carbon_cpn.optim.microgrid_instance.MicrogridInstance`), built once and solved by
HiGHS; the renewable availability, the battery sizes, the grid's prices and intensities and
the carbon budget are mutable parameters (:meth:`MicrogridMILP.update`), and the baselines fix
variables of the same model, so every baseline's plan is a feasible point of the joint model.

Variables (``Δ`` = ``interval_h``):

* ``x[j, s, τ]`` ∈ {0, 1}: training job ``j`` starts at site ``s`` in period ``τ`` (only where it
  fits and ends by its deadline); ``Σ x[j, ·, ·] <= 1`` (a job may be left out);
* ``y[u, s, t]`` ∈ [0, 1]: share of region ``u``'s inference demand served at site ``s`` (only
  within the latency limit); ``Σ_s y <= 1`` (the rest is dropped); continuity
  ``|y[u, s, t] - y[u, s, t-1]| <= max_share_change``;
* busy GPUs ``B[s, t] = Σ running jobs' GPUs + Σ_u demand[u, t] y[u, s, t] <= gpus[s]``;
  facility load ``L[s, t] = pue[s, t] (idle x gpus + (busy - idle) x B)`` [MW];
* energy: renewables used ``r <= available``, generator ``gen`` with an on/off binary
  (``min x on <= gen <= max x on``), battery ``ch, dis <= bess_mw``, ``soc <= bess_mwh``,
  ``soc[t] = soc[t-1] + Δ (eff ch - dis / eff)``, ``soc[T-1] >= soc0``; ``imp <= import_max``,
  ``exp <= export_max``; balance ``r + gen + dis - ch + imp - exp = L``;
* carbon ``E = Σ Δ (gen_kg gen + import_kg imp)`` [kg] ``<= carbon_budget_kg`` (exports earn
  no credit; the import intensity is the grid's marginal one, negative where the margin is
  curtailed renewables).

Objective (maximized, the paper's total benefit): value of the work served (``job_value`` per
job run, ``inference_usd_per_gpu_h`` per GPU-hour served) - energy cost (imports, generator
fuel) + export revenue - carbon price x E.

Baselines (the paper's two, each a joint model with variables fixed):

* ``compute_only``: the work optimized without energy information (stage 1: the most work
  value under the same limits, the earliest starts and nearest sites among equals), then the
  energy follows the load — renewables first, then imports, the generator only where imports
  cannot cover, surplus renewables exported, the battery idle;
* ``energy_only``: the work on a fixed schedule (:mod:`carbon_cpn.optim.microgrid_schedule`:
  inference at the nearest site, training first come, first served at release), the energy
  side optimized (the joint objective) under it. Infeasible where that schedule breaks a
  limit of the instance (e.g. the carbon budget).

``fixed_routing`` (an ablation of the joint) fixes the inference shares and optimizes the rest.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from carbon_cpn.optim.microgrid_instance import MicrogridInstance
from carbon_cpn.optim.microgrid_schedule import fcfs_schedule

MODES = ("joint", "compute_only", "energy_only")


@dataclass(frozen=True)
class MicrogridPlan:
    """A solved plan: status, the benefit and its parts [$, kg], and the schedule."""

    mode: str
    status: str  # "optimal", "time_limit", "infeasible"
    benefit_usd: float  # the joint objective of the plan (nan when infeasible)
    bound_usd: float  # the solver's bound on the objective of the last solve
    training_value_usd: float
    inference_value_usd: float
    import_cost_usd: float
    export_revenue_usd: float
    generator_cost_usd: float
    carbon_kg: float
    carbon_cost_usd: float
    starts: tuple[tuple[int, int, int], ...]  # (job, site, period) of the jobs run
    share: np.ndarray  # [u, s, t]
    busy_gpus: np.ndarray  # [s, t]
    load_mw: np.ndarray  # [s, t] facility load
    renewable_mw: np.ndarray  # [s, t] used
    gen_mw: np.ndarray  # [s, t]
    charge_mw: np.ndarray  # [s, t]
    discharge_mw: np.ndarray  # [s, t]
    soc_mwh: np.ndarray  # [s, t] at period end
    import_mw: np.ndarray  # [s, t]
    export_mw: np.ndarray  # [s, t]

    @property
    def ok(self) -> bool:
        return self.status in ("optimal", "time_limit")


class MicrogridMILP:
    """The model of one instance (module docstring); :meth:`solve` per mode."""

    def __init__(self, inst: MicrogridInstance, gap: float = 1e-6, time_limit_s: float = 120.0) -> None:
        import pyomo.environ as pyo

        if not (0.0 <= gap < 1.0):
            raise ValueError(f"gap={gap!r}: expected a relative gap in [0, 1)")
        if not (time_limit_s > 0):
            raise ValueError(f"time_limit_s={time_limit_s!r}: expected seconds > 0")
        self.inst, self.gap, self.time_limit_s = inst, float(gap), float(time_limit_s)
        S, T, U, dt = inst.n_sites, inst.n_periods, inst.n_regions, inst.interval_h
        m = self.m = pyo.ConcreteModel()
        m.S, m.T = pyo.RangeSet(0, S - 1), pyo.RangeSet(0, T - 1)
        st = [(s, t) for s in range(S) for t in range(T)]
        mut = dict(mutable=True)
        m.ren_avail = pyo.Param(st, initialize=lambda _, s, t: float(inst.renewable_mw[s, t]), **mut)
        m.imp_usd = pyo.Param(st, initialize=lambda _, s, t: float(inst.import_usd_per_mwh[s, t]), **mut)
        m.imp_kg = pyo.Param(st, initialize=lambda _, s, t: float(inst.import_kg_per_mwh[s, t]), **mut)
        m.exp_usd = pyo.Param(st, initialize=lambda _, s, t: float(inst.export_usd_per_mwh[s, t]), **mut)
        m.bess_mw = pyo.Param(m.S, initialize=lambda _, s: float(inst.bess_mw[s]), **mut)
        m.bess_mwh = pyo.Param(m.S, initialize=lambda _, s: float(inst.bess_mwh[s]), **mut)
        m.soc0 = pyo.Param(m.S, initialize=lambda _, s: float(inst.bess_soc0_mwh[s]), **mut)
        m.budget = pyo.Param(initialize=_finite_budget(inst.carbon_budget_kg), **mut)

        # ---- work
        self.options = [(j, s, t) for j in range(inst.n_jobs) for s, t in inst.start_options(j)]
        m.x = pyo.Var(range(len(self.options)), domain=pyo.Binary)
        self.routes = [(u, s) for u in range(U) for s in range(S) if inst.allowed[u, s]]
        m.y = pyo.Var([(u, s, t) for u, s in self.routes for t in range(T)], bounds=(0.0, 1.0))
        by_job: dict[int, list[int]] = {}
        running: dict[tuple[int, int], list[Any]] = {}
        for k, (j, s, t0) in enumerate(self.options):
            by_job.setdefault(j, []).append(k)
            for t in range(t0, t0 + int(inst.job_periods[j])):
                running.setdefault((s, t), []).append(float(inst.job_gpus[j]) * m.x[k])
        m.once = pyo.Constraint(list(by_job), rule=lambda _, j: sum(m.x[k] for k in by_job[j]) <= 1)
        m.routed = pyo.Constraint(range(U), range(T), rule=lambda _, u, t: sum(
            m.y[u, s, t] for uu, s in self.routes if uu == u) <= 1 if any(uu == u for uu, _ in self.routes)
            else pyo.Constraint.Skip)
        d = float(inst.max_share_change)
        m.up = pyo.Constraint([(u, s, t) for u, s in self.routes for t in range(1, T)],
                              rule=lambda _, u, s, t: m.y[u, s, t] - m.y[u, s, t - 1] <= d)
        m.down = pyo.Constraint([(u, s, t) for u, s in self.routes for t in range(1, T)],
                                rule=lambda _, u, s, t: m.y[u, s, t - 1] - m.y[u, s, t] <= d)
        m.busy = pyo.Expression(st, rule=lambda _, s, t: sum(running.get((s, t), [])) + sum(
            float(inst.demand_gpus[u, t]) * m.y[u, s, t] for u, ss in self.routes if ss == s))
        m.capacity = pyo.Constraint(st, rule=lambda _, s, t: m.busy[s, t] <= float(inst.gpus[s]))
        m.pue = pyo.Param(st, initialize=lambda _, s, t: float(inst.pue[s, t]), **mut)
        m.site_load = pyo.Expression(st, rule=lambda _, s, t: m.pue[s, t] * (
            float(inst.idle_mw_per_gpu[s] * inst.gpus[s])
            + float(inst.busy_mw_per_gpu[s] - inst.idle_mw_per_gpu[s]) * m.busy[s, t]))

        # ---- energy
        m.ren = pyo.Var(st, bounds=(0.0, None))
        m.ren_cap = pyo.Constraint(st, rule=lambda _, s, t: m.ren[s, t] <= m.ren_avail[s, t])
        m.gen = pyo.Var(st, bounds=(0.0, None))
        m.on = pyo.Var(st, domain=pyo.Binary)
        m.gen_hi = pyo.Constraint(st, rule=lambda _, s, t: m.gen[s, t] <= float(inst.gen_max_mw[s]) * m.on[s, t])
        m.gen_lo = pyo.Constraint(st, rule=lambda _, s, t: m.gen[s, t] >= float(inst.gen_min_mw[s]) * m.on[s, t])
        m.ch, m.dis, m.soc = (pyo.Var(st, bounds=(0.0, None)) for _ in range(3))
        m.ch_cap = pyo.Constraint(st, rule=lambda _, s, t: m.ch[s, t] <= m.bess_mw[s])
        m.dis_cap = pyo.Constraint(st, rule=lambda _, s, t: m.dis[s, t] <= m.bess_mw[s])
        m.soc_cap = pyo.Constraint(st, rule=lambda _, s, t: m.soc[s, t] <= m.bess_mwh[s])
        eff = inst.bess_efficiency
        m.soc_dyn = pyo.Constraint(st, rule=lambda _, s, t: m.soc[s, t] == (m.soc[s, t - 1] if t else m.soc0[s])
                                   + dt * (float(eff[s]) * m.ch[s, t] - m.dis[s, t] / float(eff[s])))
        m.soc_end = pyo.Constraint(m.S, rule=lambda _, s: m.soc[s, T - 1] >= m.soc0[s])
        m.imp = pyo.Var(st, bounds=lambda _, s, t: (0.0, float(inst.import_max_mw[s])))
        m.exp = pyo.Var(st, bounds=lambda _, s, t: (0.0, float(inst.export_max_mw[s])))
        m.balance = pyo.Constraint(st, rule=lambda _, s, t: m.ren[s, t] + m.gen[s, t] + m.dis[s, t] - m.ch[s, t]
                                   + m.imp[s, t] - m.exp[s, t] == m.site_load[s, t])
        m.carbon = pyo.Expression(expr=dt * sum(float(inst.gen_kg_per_mwh[s]) * m.gen[s, t]
                                                + m.imp_kg[s, t] * m.imp[s, t] for s, t in st))
        m.budget_row = pyo.Constraint(expr=m.carbon <= m.budget)

        # ---- value and cost
        m.training_value = pyo.Expression(expr=sum(float(inst.job_value_usd[j]) * m.x[k]
                                                   for k, (j, _, _) in enumerate(self.options)))
        m.inference_value = pyo.Expression(expr=dt * sum(
            float(inst.inference_usd_per_gpu_h[u] * inst.demand_gpus[u, t]) * m.y[u, s, t]
            for u, s in self.routes for t in range(T)))
        m.import_cost = pyo.Expression(expr=dt * sum(m.imp_usd[s, t] * m.imp[s, t] for s, t in st))
        m.export_revenue = pyo.Expression(expr=dt * sum(m.exp_usd[s, t] * m.exp[s, t] for s, t in st))
        m.gen_cost = pyo.Expression(expr=dt * sum(float(inst.gen_usd_per_mwh[s]) * m.gen[s, t] for s, t in st))
        m.carbon_cost = pyo.Expression(expr=float(inst.carbon_price_usd_per_t) / 1000.0 * m.carbon)
        m.benefit = pyo.Expression(expr=m.training_value + m.inference_value - m.import_cost + m.export_revenue
                                   - m.gen_cost - m.carbon_cost)
        # Stage 1 of the baselines: work value alone; earliest starts and nearest sites break ties.
        eps = 1e-6 * (1.0 + float(np.abs(inst.job_value_usd).sum()) + float(inst.inference_usd_per_gpu_h.sum()))
        lat = inst.latency_ms / max(float(inst.latency_ms.max()), 1.0)
        m.work_plan = pyo.Expression(expr=m.training_value + m.inference_value - eps * (
            sum((t / max(T, 1)) * m.x[k] for k, (_, _, t) in enumerate(self.options))
            + sum(float(lat[u, s]) * m.y[u, s, t] for u, s in self.routes for t in range(T))))
        # The compute-only energy rule: renewables first, then imports, the generator last.
        big = 1e3
        m.follow_load = pyo.Expression(expr=sum(m.imp[s, t] + big * m.gen[s, t] - 1e-3 * m.exp[s, t]
                                                + big * (m.ch[s, t] + m.dis[s, t]) for s, t in st))
        m.obj = pyo.Objective(expr=m.benefit, sense=pyo.maximize)
        self._pyo = pyo

    # ------------------------------------------------------------------ parameters
    def update(self, *, renewable_mw: np.ndarray | None = None, bess_mw: np.ndarray | None = None,
               bess_mwh: np.ndarray | None = None, bess_soc0_mwh: np.ndarray | None = None,
               carbon_budget_kg: float | None = None) -> None:
        """Change parameters in place (the model is not rebuilt); the instance follows."""
        inst, m = self.inst, self.m
        changes: dict[str, Any] = {}
        if renewable_mw is not None:
            changes["renewable_mw"] = np.asarray(renewable_mw, dtype=float)
        if bess_mw is not None:
            changes["bess_mw"] = np.asarray(bess_mw, dtype=float)
        if bess_mwh is not None:
            changes["bess_mwh"] = np.asarray(bess_mwh, dtype=float)
        if bess_soc0_mwh is not None:
            changes["bess_soc0_mwh"] = np.asarray(bess_soc0_mwh, dtype=float)
        if carbon_budget_kg is not None:
            changes["carbon_budget_kg"] = float(carbon_budget_kg)
        self.inst = inst = inst.replace(**changes)  # validated
        for s in range(inst.n_sites):
            m.bess_mw[s] = float(inst.bess_mw[s])
            m.bess_mwh[s] = float(inst.bess_mwh[s])
            m.soc0[s] = float(inst.bess_soc0_mwh[s])
            for t in range(inst.n_periods):
                m.ren_avail[s, t] = float(inst.renewable_mw[s, t])
        m.budget = _finite_budget(inst.carbon_budget_kg)

    # ------------------------------------------------------------------ solving
    def solve(self, mode: str = "joint", fixed_share: np.ndarray | None = None) -> MicrogridPlan:
        """The plan of ``mode`` (module docstring); ``fixed_share`` ``[u, s, t]`` fixes the
        inference routing (the fixed-routing ablation)."""
        if mode not in MODES:
            raise ValueError(f"mode={mode!r}: expected one of {MODES}")
        m, pyo = self.m, self._pyo
        fixed: list[Any] = []
        try:
            if fixed_share is not None:
                fixed_share = np.asarray(fixed_share, dtype=float)
                shape = (self.inst.n_regions, self.inst.n_sites, self.inst.n_periods)
                if fixed_share.shape != shape:
                    raise ValueError(f"fixed_share: shape {fixed_share.shape}, expected {shape}")
                for (u, s, t), v in m.y.items():
                    v.fix(float(fixed_share[u, s, t]))
                    fixed.append(v)
            if mode == "joint":
                status, bound = self._run(m.benefit, pyo.maximize)
                return self._read(mode, status, bound)
            if mode == "energy_only":
                starts, share = fcfs_schedule(self.inst)
                chosen = {self.options.index(o) for o in starts}
                for k, v in m.x.items():
                    v.fix(1 if k in chosen else 0)
                    fixed.append(v)
                for (u, s, t), v in m.y.items():
                    v.fix(float(share[u, s, t]))
                    fixed.append(v)
                status, bound = self._run(m.benefit, pyo.maximize)
                return self._read(mode, status, bound)
            status, _ = self._run(m.work_plan, pyo.maximize)  # stage 1: the work plan
            if status == "infeasible":
                return self._read(mode, status, math.nan)
            for v in list(m.x.values()) + list(m.y.values()):
                if not v.fixed:
                    v.fix(round(v.value) if v.is_binary() else min(max(v.value, 0.0), 1.0))  # solver round-off
                    fixed.append(v)
            status, bound = self._run(m.follow_load, pyo.minimize)
            return self._read(mode, status, bound)
        finally:
            for v in fixed:
                v.unfix()

    def _run(self, expr: Any, sense: Any) -> tuple[str, float]:
        from pyomo.contrib.appsi.solvers import Highs

        m = self.m
        m.obj.set_value(expr)
        m.obj.sense = sense
        solver = Highs()
        solver.config.stream_solver = False
        solver.config.mip_gap = self.gap
        solver.config.time_limit = self.time_limit_s
        solver.config.load_solution = False
        res = solver.solve(m)
        found = res.best_feasible_objective is not None and math.isfinite(res.best_feasible_objective)
        if not found:
            return "infeasible", math.nan
        res.solution_loader.load_vars()
        status = "optimal" if str(res.termination_condition).endswith("optimal") else "time_limit"
        return status, float(res.best_objective_bound)

    def _read(self, mode: str, status: str, bound: float) -> MicrogridPlan:
        inst, m, pyo = self.inst, self.m, self._pyo
        S, T, U = inst.n_sites, inst.n_periods, inst.n_regions
        if status == "infeasible":
            nan = math.nan
            z = np.full((S, T), np.nan)
            return MicrogridPlan(mode, status, nan, nan, nan, nan, nan, nan, nan, nan, nan, (),
                                 np.full((U, S, T), np.nan), z, z, z, z, z, z, z, z, z)

        def arr(var: Any) -> np.ndarray:
            return np.array([[pyo.value(var[s, t]) for t in range(T)] for s in range(S)], dtype=float)

        share = np.zeros((U, S, T))
        for (u, s, t), v in m.y.items():
            share[u, s, t] = v.value
        starts = tuple(self.options[k] for k, v in m.x.items() if v.value is not None and v.value > 0.5)
        val = lambda e: float(pyo.value(e))  # noqa: E731
        return MicrogridPlan(
            mode=mode, status=status, benefit_usd=val(m.benefit), bound_usd=bound,
            training_value_usd=val(m.training_value), inference_value_usd=val(m.inference_value),
            import_cost_usd=val(m.import_cost), export_revenue_usd=val(m.export_revenue),
            generator_cost_usd=val(m.gen_cost), carbon_kg=val(m.carbon), carbon_cost_usd=val(m.carbon_cost),
            starts=starts, share=share, busy_gpus=np.array([[val(m.busy[s, t]) for t in range(T)] for s in range(S)]),
            load_mw=np.array([[val(m.site_load[s, t]) for t in range(T)] for s in range(S)]), renewable_mw=arr(m.ren),
            gen_mw=arr(m.gen), charge_mw=arr(m.ch), discharge_mw=arr(m.dis), soc_mwh=arr(m.soc),
            import_mw=arr(m.imp), export_mw=arr(m.exp))


def _finite_budget(kg: float) -> float:
    """The budget row's right-hand side (a huge finite number stands for no budget)."""
    return float(kg) if math.isfinite(kg) else 1e15


__all__ = ["MODES", "MicrogridMILP", "MicrogridPlan"]
