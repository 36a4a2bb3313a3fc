"""The joint compute-energy MILP (the MILP paper) on instances solved by hand, and its
baselines as feasible points of it (checked with numpy, not by the solver)."""

from __future__ import annotations

import numpy as np
import pytest

from carbon_cpn.optim.microgrid_instance import MicrogridInstance
from carbon_cpn.optim.microgrid_milp import MicrogridMILP, MicrogridPlan


def hand_instance(**kw) -> MicrogridInstance:
    """Two sites, one training job, one inference region, two 1-hour periods.

    Site A: PUE 1, 0.4 MW of PV in period 1 only, grid at $50 and 500 kg/MWh. Site B: PUE 1.5,
    no PV, grid at $20 / 100 kg then $100 / 900 kg. A busy GPU draws 0.1 MW IT, an idle one
    nothing. The job: 2 GPUs for 1 period, worth $100. Inference: 2 GPUs every period, $30 per
    GPU-hour, both sites within the latency limit."""
    z2 = np.zeros(2)
    base = dict(
        interval_h=1.0, gpus=[4, 4], busy_mw_per_gpu=[0.1, 0.1], idle_mw_per_gpu=z2, pue=[[1.0, 1.0], [1.5, 1.5]],
        renewable_mw=[[0.0, 0.4], [0.0, 0.0]], gen_min_mw=z2, gen_max_mw=z2, gen_usd_per_mwh=z2, gen_kg_per_mwh=z2,
        bess_mw=z2, bess_mwh=z2, bess_efficiency=[1.0, 1.0], bess_soc0_mwh=z2, import_max_mw=[10.0, 10.0],
        export_max_mw=z2, import_usd_per_mwh=[[50.0, 50.0], [20.0, 100.0]],
        import_kg_per_mwh=[[500.0, 500.0], [100.0, 900.0]], export_usd_per_mwh=np.zeros((2, 2)),
        job_gpus=[2], job_periods=[1], job_release=[0], job_deadline=[2], job_value_usd=[100.0],
        demand_gpus=[[2.0, 2.0]], inference_usd_per_gpu_h=[30.0], latency_ms=[[10.0, 50.0]],
        latency_limit_ms=[100.0], max_share_change=1.0)
    base.update(kw)
    return MicrogridInstance(**base)


def test_hand_solved_joint_plan() -> None:
    # A GPU-hour costs $5 at A and $3 at B in period 0; $0 at A (PV) and $15 at B in period 1.
    # Inference is worth $30 per GPU-hour: all served, at B then A; the job waits for A's PV.
    plan = MicrogridMILP(hand_instance()).solve()
    assert plan.status == "optimal"
    assert plan.benefit_usd == pytest.approx(100 + 120 - 6, abs=1e-6)
    assert plan.starts == ((0, 0, 1),)
    np.testing.assert_allclose(plan.share[0], [[0.0, 1.0], [1.0, 0.0]], atol=1e-7)
    assert plan.carbon_kg == pytest.approx(30.0, abs=1e-6)  # 0.3 MWh at B x 100 kg


def test_continuity_limits_how_fast_routing_moves() -> None:
    # |share change| <= 0.5: cost 10 a + 6 (1 - a) + 30 (1 - b) with b <= a + 0.5; a = 0.5, b = 1.
    plan = MicrogridMILP(hand_instance(max_share_change=0.5)).solve()
    assert plan.benefit_usd == pytest.approx(220 - 8, abs=1e-6)
    np.testing.assert_allclose(plan.share[0, 0], [0.5, 1.0], atol=1e-7)


def test_carbon_budget_holds_and_drops_the_least_valuable_work() -> None:
    # 20 kg: B's period-0 GPU-hours (15 kg, $27 net) fill it before A's (50 kg); 2/3 of the
    # period-0 demand is served at B, the rest dropped: 214 - 20 + 2.
    plan = MicrogridMILP(hand_instance(carbon_budget_kg=20.0)).solve()
    assert plan.carbon_kg == pytest.approx(20.0, abs=1e-6)
    assert plan.benefit_usd == pytest.approx(196.0, abs=1e-6)
    # The energy-only baseline's fixed schedule (inference at A, the nearest site) emits 100 kg
    # in period 0 whatever the energy side does: infeasible under this budget, and said so.
    assert MicrogridMILP(hand_instance(carbon_budget_kg=20.0)).solve("energy_only").status == "infeasible"


def test_energy_only_runs_the_fixed_schedule() -> None:
    # Inference at A (nearest) in both periods; the job first come, first served at release on
    # A (2 of 4 GPUs left after inference): A draws 0.4 MW in period 0 ($20, 200 kg); in period 1
    # its 0.2 MW come from PV.
    plan = MicrogridMILP(hand_instance()).solve("energy_only")
    assert plan.starts == ((0, 0, 0),)
    np.testing.assert_allclose(plan.share[0, 0], [1.0, 1.0])
    assert plan.benefit_usd == pytest.approx(200.0, abs=1e-6) and plan.carbon_kg == pytest.approx(200.0, abs=1e-6)


def violations(inst: MicrogridInstance, p: MicrogridPlan) -> list[str]:
    """The joint model's constraints, checked on a plan with numpy (empty: feasible)."""
    out, tol, dt = [], 1e-6, inst.interval_h
    S, T = inst.n_sites, inst.n_periods
    busy = np.einsum("ut,ust->st", inst.demand_gpus, p.share)
    for j, s, t in p.starts:
        if not (inst.job_release[j] <= t and t + inst.job_periods[j] <= inst.job_deadline[j]):
            out.append(f"job {j} at {t} outside its window")
        busy[s, t:t + int(inst.job_periods[j])] += inst.job_gpus[j]
    if len({j for j, _, _ in p.starts}) != len(p.starts):
        out.append("a job started twice")
    if (busy > inst.gpus[:, None] + tol).any():
        out.append("capacity")
    if (p.share < -tol).any() or (p.share.sum(axis=1) > 1 + tol).any() or (p.share[~inst.allowed] > tol).any():
        out.append("routing")
    if (np.abs(np.diff(p.share, axis=2)) > inst.max_share_change + tol).any():
        out.append("continuity")
    load = inst.pue * (inst.idle_mw_per_gpu[:, None] * inst.gpus[:, None]
                       + (inst.busy_mw_per_gpu - inst.idle_mw_per_gpu)[:, None] * busy)
    if not np.allclose(p.renewable_mw + p.gen_mw + p.discharge_mw - p.charge_mw + p.import_mw - p.export_mw, load,
                       atol=1e-5):
        out.append("balance")
    if (p.renewable_mw > inst.renewable_mw + tol).any() or (p.import_mw > inst.import_max_mw[:, None] + tol).any() \
            or (p.export_mw > inst.export_max_mw[:, None] + tol).any():
        out.append("limits")
    on = p.gen_mw > tol
    if (p.gen_mw > inst.gen_max_mw[:, None] + tol).any() or (on & (p.gen_mw < inst.gen_min_mw[:, None] - tol)).any():
        out.append("generator")
    prev = np.concatenate([inst.bess_soc0_mwh[:, None], p.soc_mwh[:, :-1]], axis=1)
    eff = inst.bess_efficiency[:, None]
    if not np.allclose(p.soc_mwh, prev + dt * (eff * p.charge_mw - p.discharge_mw / eff), atol=1e-5) \
            or (p.soc_mwh > inst.bess_mwh[:, None] + tol).any() or (p.soc_mwh[:, -1] < inst.bess_soc0_mwh - tol).any() \
            or (np.maximum(p.charge_mw, p.discharge_mw) > inst.bess_mw[:, None] + tol).any():
        out.append("battery")
    carbon = dt * float((inst.gen_kg_per_mwh[:, None] * p.gen_mw + inst.import_kg_per_mwh * p.import_mw).sum())
    if carbon > inst.carbon_budget_kg + 1e-5 or abs(carbon - p.carbon_kg) > 1e-5:
        out.append("carbon")
    value = sum(inst.job_value_usd[j] for j, _, _ in p.starts) + dt * float(
        (inst.inference_usd_per_gpu_h[:, None, None] * inst.demand_gpus[:, None, :] * p.share).sum())
    cost = dt * float((inst.import_usd_per_mwh * p.import_mw - inst.export_usd_per_mwh * p.export_mw
                       + inst.gen_usd_per_mwh[:, None] * p.gen_mw).sum())
    if abs(value - cost - inst.carbon_price_usd_per_t / 1000 * carbon - p.benefit_usd) > 1e-4:
        out.append("benefit")
    return out


def random_instance(seed: int) -> MicrogridInstance:
    rng = np.random.default_rng(seed)
    S, T, J, U = 3, 8, 5, 2
    gpus = rng.integers(8, 17, S).astype(float)
    price = rng.uniform(20, 120, (S, T))
    return MicrogridInstance(
        interval_h=1.0, gpus=gpus, busy_mw_per_gpu=rng.uniform(0.05, 0.1, S), idle_mw_per_gpu=rng.uniform(0, 0.02, S),
        pue=rng.uniform(1.1, 1.6, (S, T)), renewable_mw=rng.uniform(0, 1.0, (S, T)) * (rng.random((S, T)) < 0.6),
        gen_min_mw=np.array([0.2, 0.0, 0.2]), gen_max_mw=np.array([0.8, 0.0, 0.5]), gen_usd_per_mwh=np.full(S, 90.0),
        gen_kg_per_mwh=np.full(S, 450.0), bess_mw=np.array([0.5, 0.3, 0.0]), bess_mwh=np.array([1.0, 0.6, 0.0]),
        bess_efficiency=np.full(S, 0.95), bess_soc0_mwh=np.array([0.5, 0.3, 0.0]), import_max_mw=np.full(S, 1.2),
        export_max_mw=np.full(S, 0.5), import_usd_per_mwh=price, import_kg_per_mwh=rng.uniform(100, 900, (S, T)),
        export_usd_per_mwh=0.5 * price, job_gpus=rng.integers(2, 7, J), job_periods=rng.integers(1, 4, J),
        job_release=rng.integers(0, 3, J), job_deadline=np.full(J, T), job_value_usd=rng.uniform(20, 120, J),
        demand_gpus=rng.uniform(1, 6, (U, T)), inference_usd_per_gpu_h=rng.uniform(5, 20, U),
        latency_ms=rng.uniform(5, 80, (U, S)), latency_limit_ms=np.full(U, 60.0), max_share_change=0.3,
        carbon_price_usd_per_t=50.0)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_joint_beats_both_baselines_which_are_feasible_points_of_it(seed: int) -> None:
    inst = random_instance(seed)
    milp = MicrogridMILP(inst)
    joint = milp.solve("joint")
    assert joint.status == "optimal" and violations(inst, joint) == []
    for mode in ("compute_only", "energy_only"):
        p = milp.solve(mode)
        assert p.ok, mode
        assert violations(inst, p) == [], mode
        assert joint.benefit_usd >= p.benefit_usd - 1e-6, mode
    # The model is reused: the joint solve after the baselines is unchanged (nothing left fixed).
    assert milp.solve("joint").benefit_usd == pytest.approx(joint.benefit_usd, abs=1e-6)
    # A budget below the joint's emissions holds, at a lower benefit.
    budget = 0.8 * joint.carbon_kg
    milp.update(carbon_budget_kg=budget)
    tight = milp.solve("joint")
    if tight.ok:
        assert tight.carbon_kg <= budget + 1e-5 and violations(milp.inst, tight) == []
        assert tight.benefit_usd <= joint.benefit_usd + 1e-6


def test_fixed_routing_and_parameter_updates() -> None:
    inst = random_instance(5)
    milp = MicrogridMILP(inst)
    joint = milp.solve()
    share = np.zeros((inst.n_regions, inst.n_sites, inst.n_periods))
    for u in range(inst.n_regions):  # each region to its nearest allowed site, half of it
        s = int(np.argmin(np.where(inst.allowed[u], inst.latency_ms[u], np.inf)))
        share[u, s] = 0.5
    fixed = milp.solve(fixed_share=share)
    np.testing.assert_allclose(fixed.share, share, atol=1e-9)
    assert fixed.benefit_usd <= joint.benefit_usd + 1e-6 and violations(inst, fixed) == []
    # No battery: the optimum cannot rise.
    milp.update(bess_mw=np.zeros(3), bess_mwh=np.zeros(3), bess_soc0_mwh=np.zeros(3))
    nob = milp.solve()
    assert nob.benefit_usd <= joint.benefit_usd + 1e-6 and np.allclose(nob.soc_mwh, 0)
    # More PV: the optimum cannot fall.
    milp.update(bess_mw=inst.bess_mw, bess_mwh=inst.bess_mwh, bess_soc0_mwh=inst.bess_soc0_mwh,
                renewable_mw=inst.renewable_mw * 2)
    assert milp.solve().benefit_usd >= joint.benefit_usd - 1e-6


def test_bad_instances_are_named() -> None:
    with pytest.raises(ValueError, match="pue"):
        hand_instance(pue=[[0.5, 1.0], [1.0, 1.0]])
    with pytest.raises(ValueError, match="job_gpus"):
        hand_instance(job_gpus=[1.5])
    with pytest.raises(ValueError, match="renewable_mw: shape"):
        hand_instance(renewable_mw=[[0.0], [0.0]])
    with pytest.raises(ValueError, match="carbon_budget_kg"):
        hand_instance(carbon_budget_kg=float("nan"))
    with pytest.raises(ValueError, match="mode='both'"):
        MicrogridMILP(hand_instance()).solve("both")
