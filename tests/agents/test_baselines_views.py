"""Each heuristic baseline of carbon_cpn.agents.baselines on hand-built SchedulerViews (issue #15):
views small enough that the action each rule must choose is worked out by hand in the comments.

The policies take an env at construction; :class:`ViewEnv` is the smallest stand-in their public
interface accepts (``unwrapped.scheduler_view()``, the action codec, ``n_actions``, ``n_nodes``,
``cfg``, ``day``), and every decision goes through ``predict`` so the policies' own mask check
runs too. SCAS and DC-Frame read grid signals computed from the env's grid
(``static_node_mci``, ``day_ahead_node_profile``); those two functions are replaced by hand-set
signals in the module that defines the rule. The ``oracle`` replays a perfect-foresight plan of
a real env's episode and has no view-level rule, so it is not covered here.

Action encoding: ``2 * node + resource`` with resource 0 CPU, 1 GPU; defer = ``2 * n_nodes`` = 4
for the two nodes used here (the env's action codec where the package has one).
"""

from __future__ import annotations

import dataclasses
import sys

import numpy as np
import pytest

from carbon_cpn.agents.baselines import BASELINES, make_policy
from carbon_cpn.agents.signals import NodeProfile
from carbon_cpn.envs.config import load_scenario
from carbon_cpn.envs.views import HeadTask, SchedulerView
from carbon_cpn.envs.workload import CPU, GPU

try:
    from carbon_cpn.envs.action_codec import NodeResourceCodec
except ImportError:  # before the codec module: the encoding of the env's docstring
    NodeResourceCodec = None

CFG = load_scenario("tiny")  # carbon price 50 $/t, max_decisions_per_interval 64 -> max_queue 32
N_NODES = 2
CODEC = NodeResourceCodec(N_NODES) if NodeResourceCodec is not None else None
DEFER = CODEC.defer if CODEC is not None else 2 * N_NODES
assert DEFER == 4


def place(node: int, res: int) -> int:
    return CODEC.encode(node, res) if CODEC is not None else 2 * node + res


def rule_module(name: str):
    """The module that defines baseline ``name``'s class (where its grid signals are looked up)."""
    return sys.modules[BASELINES[name].__module__]


class ViewEnv:
    """Stand-in env: serves whatever view the test sets."""

    def __init__(self) -> None:
        self.cfg = CFG
        self.n_nodes = N_NODES
        self.n_actions = 2 * N_NODES + 1
        self.codec = CODEC
        self.day = 0
        self.view: SchedulerView | None = None

    @property
    def unwrapped(self) -> ViewEnv:
        return self

    def scheduler_view(self) -> SchedulerView:
        return self.view


def make_view(head: dict | None = None, **kw) -> SchedulerView:
    """Two nodes of 100 CPU + 50 GPU servers, all free; interval 20 of 48 (0.5 h), now 10:00.
    The head: 10 CPU-preferring servers, 1 h everywhere, deadline 20:00, one task left.
    Facility MW per busy server: 0.0004 CPU, 0.004 GPU, so E = 0.004 MWh on CPU, 0.04 on GPU."""
    h = dict(task=0, job=0, units=10, prefers_gpu=False, run_time_h=np.ones((2, 2)), arrival_h=9.5, deadline_h=20.0,
             high_qos=False, workload_type="big_data", tasks_left_in_job=1)
    h.update(head or {})
    v = dict(
        now_h=10.0, hour_of_day=10.0, interval=20, n_intervals=48, interval_h=0.5, head=HeadTask(**h),
        free_servers=np.array([[100, 50], [100, 50]]), capacity_servers=np.array([[100, 50], [100, 50]]),
        node_bus=np.array([1, 29]), node_lmp_usd_per_mwh=np.array([30.0, 30.0]),
        node_mci_kg_per_mwh=np.array([300.0, 300.0]), node_power_mw=np.array([1.0, 1.0]),
        node_idle_mw=np.array([0.5, 0.5]), node_mw_per_busy_server=np.array([[0.0004, 0.004], [0.0004, 0.004]]),
        node_pue=np.array([1.5, 1.5]), node_speed=np.array([1.0, 1.0]), node_local_res_mw_next=np.zeros(2),
        res_avail_mw_next=np.zeros(1), queue_length=1, day_ahead_lmp_usd_per_mwh=None, day_ahead_mci_kg_per_mwh=None,
    )
    v.update(kw)
    mask = np.append((v["free_servers"] >= h["units"]).ravel(), True)  # as env.action_masks()
    return SchedulerView(action_mask=mask, **v)


def policy_for(name: str, **kw):
    env = ViewEnv()
    return BASELINES[name](env, **kw) if kw else make_policy(name, env, seed=0)


def decide(policy, view: SchedulerView) -> int:
    policy.unwrapped.view = view
    a, _ = policy.predict(np.zeros(3))
    return int(a)


def decide_after_warm_up(policy, view: SchedulerView, warm: SchedulerView, n_warm: int = 4) -> int:
    """Show ``warm`` at intervals 1..n_warm (four: the samples the running means need before
    they judge), then ``view``."""
    for t in range(1, n_warm + 1):
        decide(policy, dataclasses.replace(warm, interval=t, now_h=t * 0.5))
    return decide(policy, view)


# Slow cheap CPU on node 0, fast dearer CPU on node 1; GPUs far dearer:
#   T = [[2, 2], [1, 1]] h, MW per server [[0.0002, 0.005], [0.0006, 0.005]]
#   E = 10 x MW x T = [[0.004, 0.1], [0.006, 0.05]] MWh
SLOW_CHEAP_MW = np.array([[0.0002, 0.005], [0.0006, 0.005]])


def slow_cheap(deadline_h: float = 20.0, tasks_left: int = 1, **kw) -> SchedulerView:
    head = dict(run_time_h=np.array([[2.0, 2.0], [1.0, 1.0]]), deadline_h=deadline_h, tasks_left_in_job=tasks_left)
    return make_view(head=head, **{"node_mw_per_busy_server": SLOW_CHEAP_MW, **kw})


# ----------------------------------------------------------------------------- random
def test_random_picks_only_feasible_actions_and_is_seeded() -> None:
    # 10 servers fit only on node 1's GPUs: the feasible actions are 3 and defer.
    view = make_view(free_servers=np.array([[5, 5], [9, 50]]))
    pol = policy_for("random")
    picks = [decide(pol, view) for _ in range(40)]
    assert set(picks) == {place(1, GPU), DEFER}
    again = policy_for("random")
    assert [decide(again, view) for _ in range(40)] == picks


# ----------------------------------------------------------------------------- pfs
@pytest.mark.parametrize("free, expected", [
    # node 1 is twice as fast (T 0.5 h); its free shares CPU 100/200 = 0.5, GPU 90/100 = 0.9 -> GPU
    ([[100, 50], [100, 90]], place(1, GPU)),
    # shares 180/200 = 0.9, 50/100 = 0.5 -> CPU
    ([[100, 50], [180, 50]], place(1, CPU)),
    # node 1 full: node 0 (T 1 h), shares 30/100 vs 40/50 -> GPU
    ([[30, 40], [0, 0]], place(0, GPU)),
])
def test_pfs_takes_the_fastest_placement_then_the_emptiest_pool(free, expected) -> None:
    view = make_view(head=dict(run_time_h=np.array([[1.0, 1.0], [0.5, 0.5]])), free_servers=np.array(free),
                     capacity_servers=np.array([[100, 50], [200, 100]]))
    assert decide(policy_for("pfs"), view) == expected


# ----------------------------------------------------------------------------- ees
@pytest.mark.parametrize("deadline_h, tasks_left, expected", [
    (20.0, 1, place(0, CPU)),  # loose: least energy, 0.004 MWh on node 0
    (11.5, 1, place(1, CPU)),  # 10 + 2 > 11.5: node 0 is late; node 1 CPU 0.006 < GPU 0.05
    (10.5, 1, place(0, CPU)),  # nothing is on time: least energy over all
    # with two tasks left, the rest is estimated as 1 x (min T 1 + interval 0.5) = 1.5 h
    (13.0, 1, place(0, CPU)),  # one task: 10 + 2 <= 13
    (13.0, 2, place(1, CPU)),  # node 0: 10 + 2 + 1.5 = 13.5 > 13; node 1: 10 + 1 + 1.5 = 12.5
])
def test_ees_takes_the_least_energy_among_on_time_placements(deadline_h, tasks_left, expected) -> None:
    assert decide(policy_for("ees"), slow_cheap(deadline_h, tasks_left)) == expected


# ----------------------------------------------------------------------------- scas
@pytest.mark.parametrize("static_ci, mw, expected", [
    # E = [0.004, 0.006] on the CPUs: x [800, 200] = 3.2 vs 1.2 -> node 1 (EES would take node 0)
    ([800.0, 200.0], SLOW_CHEAP_MW, place(1, CPU)),
    # x [200, 800] = 0.8 vs 4.8 -> node 0
    ([200.0, 800.0], SLOW_CHEAP_MW, place(0, CPU)),
    # E = [0.012, 0.004] (node 0 CPU 0.0006 MW x 2 h x 10); CI -100 is floored at 1:
    # 0.012 x 1 = 0.012 > 0.004 x 2 = 0.008 -> node 1 (unfloored, node 0's -1.2 would win)
    ([-100.0, 2.0], np.array([[0.0006, 0.005], [0.0004, 0.005]]), place(1, CPU)),
])
def test_scas_weighs_energy_by_the_static_intensity(monkeypatch, static_ci, mw, expected) -> None:
    calls = []
    monkeypatch.setattr(rule_module("scas"), "static_node_mci", lambda env: calls.append(env) or np.array(static_ci))
    pol = policy_for("scas")
    # The view's own MCI says the opposite of the static one about node 1: ignored.
    view = slow_cheap(node_mw_per_busy_server=mw, node_mci_kg_per_mwh=np.array(static_ci[::-1]))
    assert decide(pol, view) == expected
    assert decide(pol, view) == expected
    assert len(calls) == 1  # computed once, at construction


# ----------------------------------------------------------------------------- rg_sched
@pytest.mark.parametrize("local_res, free, prefers_gpu, expected", [
    ([5.0, 30.0], [[100, 50], [100, 50]], True, place(1, GPU)),  # most renewables nearby, preferred GPU
    ([5.0, 30.0], [[100, 50], [100, 5]], True, place(1, CPU)),  # its GPUs full: the other resource
    ([5.0, 30.0], [[100, 50], [100, 50]], False, place(1, CPU)),
    ([5.0, 30.0], [[100, 50], [5, 5]], True, place(0, GPU)),  # node 1 full: the next node
    ([30.0, 30.0], [[100, 50], [100, 50]], True, place(0, GPU)),  # tie: lower node
])
def test_rg_sched_follows_the_nearby_renewables(local_res, free, prefers_gpu, expected) -> None:
    # Node 1 is dearer and dirtier: RG-Sched does not look.
    view = make_view(head=dict(prefers_gpu=prefers_gpu), free_servers=np.array(free),
                     node_local_res_mw_next=np.array(local_res), node_lmp_usd_per_mwh=np.array([10.0, 500.0]),
                     node_mci_kg_per_mwh=np.array([10.0, 900.0]))
    assert decide(policy_for("rg_sched"), view) == expected


# ----------------------------------------------------------------------------- co_opt
@pytest.mark.parametrize("lmp, expected", [
    ([50.0, 20.0], place(1, CPU)),  # 0.004 x 50 = 0.2 > 0.006 x 20 = 0.12
    ([20.0, 50.0], place(0, CPU)),  # 0.08 < 0.3
])
def test_co_opt_places_where_energy_costs_least(lmp, expected) -> None:
    assert decide(policy_for("co_opt"), slow_cheap(node_lmp_usd_per_mwh=np.array(lmp))) == expected


def test_co_opt_keeps_jobs_on_time_before_cost() -> None:
    # node 0 is cheaper (0.08 $ vs 0.3 $) but 10 + 2 > 11.5: node 1 CPU
    view = slow_cheap(11.5, node_lmp_usd_per_mwh=np.array([20.0, 50.0]))
    assert decide(policy_for("co_opt"), view) == place(1, CPU)


WARM_LMP = make_view(node_lmp_usd_per_mwh=np.array([20.0, 40.0]))  # cheapest price 20 in intervals 1..4


@pytest.mark.parametrize("lmp0, head, view_kw, expected", [
    # mean of the cheapest prices (4 x 20 + 30) / 5 = 22; 30 > 22 x 1.15 = 25.3: expensive.
    # The job can wait: 20 - 10 - 0.5 = 9.5 >= 2 x 1 x (1 + 0.5) = 3.
    (30.0, {}, {}, DEFER),
    # (4 x 20 + 22) / 5 = 20.4; 22 <= 23.46: not expensive -> node 0 (22 < 40)
    (22.0, {}, {}, place(0, CPU)),
    (30.0, {"high_qos": True}, {}, place(0, CPU)),  # high QoS never waits
    (30.0, {"deadline_h": 13.0}, {}, place(0, CPU)),  # 13 - 10 - 0.5 = 2.5 < 3: no slack
    (30.0, {}, {"queue_length": 32}, place(0, CPU)),  # queue at 64 // 2 = 32: no more waiting
    (30.0, {}, {"queue_length": 31}, DEFER),
    (30.0, {}, {"interval": 47}, place(0, CPU)),  # the last interval: nothing to wait for
])
def test_co_opt_defers_while_the_price_is_above_its_running_mean(lmp0, head, view_kw, expected) -> None:
    view = make_view(head=head, **{"interval": 5, "node_lmp_usd_per_mwh": np.array([lmp0, 40.0]), **view_kw})
    assert decide_after_warm_up(policy_for("co_opt"), view, WARM_LMP) == expected




# ----------------------------------------------------------------------------- dc_frame
def flat_profile(lmp0: float, lmp1: float, mci1: float = 0.0, cheap_from: int = 48, cheap_lmp0: float = 10.0):
    """48 intervals: node 0 at ``lmp0`` then ``cheap_lmp0`` from interval ``cheap_from``; node 1
    at ``lmp1`` with MCI ``mci1``. The day-ahead price is LMP + 50 $/t x MCI / 1000."""
    lmp = np.tile([lmp0, lmp1], (48, 1))
    lmp[cheap_from:, 0] = cheap_lmp0
    mci = np.tile([0.0, mci1], (48, 1))
    return NodeProfile(lmp_usd_per_mwh=lmp, mci_kg_per_mwh=mci, source="grid_only_dispatch")


@pytest.mark.parametrize("mci1, expected", [
    (600.0, place(0, CPU)),  # node 1: 10 + 50 x 0.6 = 40 $/MWh > 30: node 0
    (0.0, place(1, CPU)),  # node 1: 10 $/MWh < 30
])
def test_dc_frame_prices_carbon_into_the_day_ahead_price(monkeypatch, mci1, expected) -> None:
    calls = []
    monkeypatch.setattr(rule_module("dc_frame"), "day_ahead_node_profile",
                        lambda env: calls.append(env) or flat_profile(30.0, 10.0, mci1))
    pol = policy_for("dc_frame")
    # A flat profile gives no later start that is cheaper: place now, though the job could wait.
    assert decide(pol, make_view()) == expected
    assert decide(pol, make_view(interval=21, now_h=10.5)) == expected
    assert len(calls) == 1  # the profile is fixed at the first decision


@pytest.mark.parametrize("lmp0, lmp1, expected", [
    # Node 0: 2 h (intervals 20-23), 0.0002 MW x 10 x 2 = 0.004 MWh; node 1: 1 h (20-21), 0.0004 x 10 x 1 = 0.004.
    # Flat 30 vs 40: 0.12 $ < 0.16 $ -> node 0 (summed over the run's intervals it would be 0.48 vs 0.32).
    ([30.0] * 4, 40.0, place(0, CPU)),
    # Node 0 at 30, 30, 50, 50: mean 40 -> 0.16 $ > node 1 at 35: 0.14 $ -> node 1 (30 at the start alone: node 0).
    ([30.0, 30.0, 50.0, 50.0], 35.0, place(1, CPU)),
])
def test_dc_frame_costs_a_run_at_its_mean_price(monkeypatch, lmp0, lmp1, expected) -> None:
    profile = flat_profile(50.0, lmp1)
    profile.lmp_usd_per_mwh[20:24, 0] = lmp0
    monkeypatch.setattr(rule_module("dc_frame"), "day_ahead_node_profile", lambda env: profile)
    # Deadline 13: 13 - 10 - 0.5 = 2.5 < 2 x (1 + 0.5) = 3, no deferral; both placements on time (12, 11 <= 13).
    view = slow_cheap(13.0, node_mw_per_busy_server=np.array([[0.0002, 0.005], [0.0004, 0.005]]))
    assert decide(policy_for("dc_frame"), view) == expected


# Now: node 0 CPU from interval 20, 1 h = intervals 20 and 21 at 30 $/MWh: 0.004 x 30 = 0.12 $.
# Waiting pays when a later start costs < 0.9 x 0.12 = 0.108 $, i.e. a mean price < 27 $/MWh.
# Latest start kept: need = 2 x 1 x (1 + 0.5) = 3 h; 20 + int((20 - 10 - 3) / 0.5) = 34.
@pytest.mark.parametrize("cheap_from, cheap_lmp0, deadline_h, expected", [
    (30, 10.0, 20.0, DEFER),  # start 30: 0.004 x 10 = 0.04 $
    (35, 10.0, 20.0, DEFER),  # start 34 runs over 34 (30) and 35 (10): mean 20 -> 0.08 $
    (36, 10.0, 20.0, place(0, CPU)),  # only starts after 34 are cheaper
    (30, 26.0, 20.0, DEFER),  # 0.104 < 0.108
    (30, 28.0, 20.0, place(0, CPU)),  # 0.112: not 10 % cheaper
    (21, 10.0, 13.0, place(0, CPU)),  # 13 - 10 - 0.5 = 2.5 < 3: the job cannot wait
])
def test_dc_frame_defers_to_a_cheaper_start_within_the_slack(monkeypatch, cheap_from, cheap_lmp0, deadline_h,
                                                              expected) -> None:
    monkeypatch.setattr(rule_module("dc_frame"), "day_ahead_node_profile",
                        lambda env: flat_profile(30.0, 100.0, cheap_from=cheap_from, cheap_lmp0=cheap_lmp0))
    assert decide(policy_for("dc_frame"), make_view(head=dict(deadline_h=deadline_h))) == expected


# ----------------------------------------------------------------------------- c3o_greedy
# With equal PUE, the eta denominator alpha E_elec + beta E_cool is proportional to alpha x E,
# alpha = CI / mean CI. MCI [100, 300]: alpha [0.5, 1.5]; E 0.004 (CPU) and 0.04 (GPU) MWh:
#   alpha x E = node 0 CPU 0.002, GPU 0.02; node 1 CPU 0.006, GPU 0.06.
# Equal run times make the performance term equal, so the largest eta wins.
C3O_VIEW = make_view(node_mci_kg_per_mwh=np.array([100.0, 300.0]))


@pytest.mark.parametrize("free, expected", [
    ([[100, 50], [100, 50]], place(0, CPU)),  # 0.002
    ([[5, 50], [100, 50]], place(1, CPU)),  # node 0 CPU full: 0.006 < 0.02
])
def test_c3o_greedy_takes_the_most_carbon_efficient_placement(free, expected) -> None:
    view = make_view(free_servers=np.array(free), node_mci_kg_per_mwh=np.array([100.0, 300.0]))
    assert decide(policy_for("c3o_greedy"), view) == expected


def test_c3o_greedy_raises_a_nodes_intensity_with_the_load_placed_this_interval() -> None:
    pol = policy_for("c3o_greedy")
    view = dataclasses.replace(C3O_VIEW, node_power_mw=np.array([0.001, 1.0]))
    assert decide(pol, view) == place(0, CPU)
    # Placed 10 x 0.0004 MW x min(1, 1 / 0.5) = 0.004 MW on node 0 (last power 0.001 MW):
    # CI 100 x (1 + 4) = 500 vs 300 -> alpha [1.25, 0.75]: node 1 CPU 0.003 < node 0 CPU 0.005.
    assert decide(pol, view) == place(1, CPU)
    # node 1's CI 300 x (1 + 0.004 / 1.0) = 301.2 is still below 500.
    assert decide(pol, view) == place(1, CPU)
    # A new interval: the dispatch's measured MCI replaces the estimate.
    assert decide(pol, dataclasses.replace(view, interval=21, now_h=10.5)) == place(0, CPU)


def test_c3o_greedy_with_only_the_performance_weight_takes_the_fastest() -> None:
    # T [[2, 2], [1, 1]], MCI [100, 1000]. Default weights: alpha [2/11, 20/11], E CPU [0.008, 0.004]:
    # alpha x E = [0.00145, 0.00727], eta ratio node 1 / node 0 = 0.2; perf T / (20 - 10) = [0.2, 0.1]:
    # score node 0 = 0.7 + 0.3 x 0.8 = 0.94 > node 1 = 0.7 x 0.2 + 0.3 x 0.9 = 0.41.
    view = make_view(head=dict(run_time_h=np.array([[2.0, 2.0], [1.0, 1.0]])),
                     node_mci_kg_per_mwh=np.array([100.0, 1000.0]))
    assert decide(policy_for("c3o_greedy"), view) == place(0, CPU)
    # w1 = 0: score = 1 - perf = [0.8, 0.9] -> node 1 (CPU and GPU tie; lower action).
    assert decide(policy_for("c3o_greedy", w1=0.0, w2=1.0), view) == place(1, CPU)


def test_c3o_greedy_performance_term_outweighs_a_small_efficiency_edge() -> None:
    # T [[4, 4], [1, 1]], CPU MW per server [0.0001, 0.0004]: E CPU = 10 x 0.0001 x 4 = 10 x 0.0004 x 1 = 0.004.
    # MCI [100, 110]: eta node 1 / node 0 = 100 / 110 = 0.909; perf = T / 10 = [0.4, 0.1]:
    # score node 0 = 0.7 + 0.3 x 0.6 = 0.88 < node 1 = 0.7 x 0.909 + 0.3 x 0.9 = 0.906 -> node 1
    # (on efficiency alone node 0 would win).
    view = make_view(head=dict(run_time_h=np.array([[4.0, 4.0], [1.0, 1.0]])),
                     node_mw_per_busy_server=np.array([[0.0001, 0.004], [0.0004, 0.004]]),
                     node_mci_kg_per_mwh=np.array([100.0, 110.0]))
    assert decide(policy_for("c3o_greedy"), view) == place(1, CPU)


WARM_MCI = C3O_VIEW  # least MCI 100 in intervals 1..4


@pytest.mark.parametrize("mci0, high_qos, expected", [
    # (4 x 100 + 200) / 5 = 120; 200 > 120 x 1.25 = 150: expensive, the job can wait
    (200.0, False, DEFER),
    (200.0, True, place(0, CPU)),  # high QoS: node 0 (200 < 300)
    (130.0, False, place(0, CPU)),  # (400 + 130) / 5 = 106; 130 <= 132.5
])
def test_c3o_greedy_defers_while_intensity_is_above_its_running_mean(mci0, high_qos, expected) -> None:
    view = make_view(head=dict(high_qos=high_qos), interval=5, node_mci_kg_per_mwh=np.array([mci0, 300.0]))
    assert decide_after_warm_up(policy_for("c3o_greedy"), view, WARM_MCI) == expected


# ----------------------------------------------------------------------------- running means
# The same expensive interval for both deferring real-time rules: the cheapest price 30 after
# 20s (CO-Opt, threshold 15 %), the least MCI 200 after 100s (c3o greedy, threshold 25 %).
EXPENSIVE = {
    "co_opt": (WARM_LMP, dict(node_lmp_usd_per_mwh=np.array([30.0, 40.0]))),
    "c3o_greedy": (WARM_MCI, dict(node_mci_kg_per_mwh=np.array([200.0, 300.0]))),
}


@pytest.mark.parametrize("name", list(EXPENSIVE))
def test_running_mean_judges_only_after_four_samples(name) -> None:
    warm, kw = EXPENSIVE[name]
    # Intervals 1, 2 then 3: three samples, too few -> place on node 0 (the cheaper, cleaner one).
    # (Judged, it would defer: CO-Opt (20 + 20 + 30) / 3 = 23.3 and 30 > 1.15 x 23.3 = 26.8;
    # c3o (100 + 100 + 200) / 3 = 133.3 and 200 > 1.25 x 133.3 = 166.7.)
    assert decide_after_warm_up(policy_for(name), make_view(interval=3, **kw), warm, n_warm=2) == place(0, CPU)
    # Intervals 1..4 then 5: judged (the deferral cases above) -> defer.
    assert decide_after_warm_up(policy_for(name), make_view(interval=5, **kw), warm) == DEFER


@pytest.mark.parametrize("name", list(EXPENSIVE))
def test_running_mean_restarts_at_a_new_episode(name) -> None:
    warm, kw = EXPENSIVE[name]
    # After intervals 1..4, interval 2 means a new episode: one sample, too few to judge -> place.
    # Without the reset it would be a fifth sample and judged as at interval 5 -> defer.
    assert decide_after_warm_up(policy_for(name), make_view(interval=2, **kw), warm) == place(0, CPU)
