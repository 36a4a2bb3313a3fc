"""Heuristic schedulers for the leaderboard (issue #6), with the prediction API of SB3 agents.

Every policy has ``predict(observation, state=None, episode_start=None, deterministic=True)
-> (actions, state)`` like a trained SB3 model, so the evaluation loop treats them alike. A
heuristic needs the env's structured state, so it takes the env at construction,
``Policy(env)``, and at each call reads ``env.unwrapped.scheduler_view()`` (a
:class:`carbon_cpn.envs.views.SchedulerView`: the head sub-task with its run time on every
(node, resource), free servers, the last interval's LMP/MCI at every node, the facility MW per
busy server, the renewable availability near every node, the day-ahead signals when the
commitment source publishes them). The observation argument is ignored; the view is the state.
Only actions with ``view.action_mask`` True are ever returned (defer is always allowed).

Quantities shared by the rules, for the head sub-task placed on (node n, resource r) now:

* run time ``T[n, r]`` [h] = ``view.head.run_time_h`` (speed and resource slowdown included);
* facility energy ``E[n, r] = units x node_mw_per_busy_server[n, r] x T[n, r]`` [MWh]
  (tsco eq. 9's dynamic part times PUE; the idle part does not depend on the decision).

Deferral: the rules that may wait (``co_opt``, ``dc_frame``, ``c3o_greedy``) defer only a
sub-task whose job has slack: ``deadline - now - interval >= margin x tasks_left x (min_T +
interval)``, i.e. even if every remaining sub-task of the job were as long as this one and
waited a whole interval to start, the job would still finish ``margin`` times over; only jobs
that are not high-QoS (c3o Table 2: AI inference and web services are not deferrable); and
only while fewer than half of ``max_decisions_per_interval`` sub-tasks wait (see
:func:`can_defer`). Placements that rank energy, cost or carbon are chosen among those that
keep the job on time when there is one (:func:`on_time`).

Layout: the shared helpers are in :mod:`carbon_cpn.agents.heuristic_base`, the rules in
:mod:`carbon_cpn.agents.heuristic_rules`, the perfect-foresight ``oracle`` replay in
:mod:`carbon_cpn.agents.oracle_policy`. This module is the registry: :data:`BASELINES` maps a
name to a factory ``(env, seed) -> policy`` and :func:`make_policy` builds one by name.
"""


from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from carbon_cpn.agents.heuristic_base import (MCI_FLOOR_KG_PER_MWH, HeuristicPolicy, argmin_feasible, can_defer,
                                              energy_mwh, on_time, placements)
from carbon_cpn.agents.heuristic_rules import (HEURISTICS, CarbonEfficiencyGreedy, CostOnly, DecoupledFramework,
                                               EnergyEfficient, PerformanceFirst, PolicyFactory, RandomPolicy,
                                               RenewableGreedy, StaticCarbonAware)
from carbon_cpn.agents.microgrid_policies import MICROGRID_BASELINES
from carbon_cpn.agents.oracle_policy import OraclePolicy

#: name -> factory(env, seed). Heuristics first, then the perfect-foresight replay.
BASELINES: dict[str, PolicyFactory] = {**HEURISTICS, "oracle": OraclePolicy}
#: Env ids whose family has rows of its own (its actions are not node-resource placements).
FAMILY_BASELINES: dict[str, dict[str, PolicyFactory]] = {"CarbonCPN-Microgrid-v0": MICROGRID_BASELINES}


def baselines_for(env_id: str | None) -> dict[str, PolicyFactory]:
    """The rows that apply to ``env_id``: its family's own, else :data:`BASELINES`."""
    return FAMILY_BASELINES.get(env_id or "", BASELINES)


def make_policy(name: str, env: gym.Env, seed: int = 0) -> Any:
    """Build the baseline ``name`` for ``env`` (see :func:`baselines_for`)."""
    spec = getattr(env, "spec", None)  # None for envs built by hand (no registry entry)
    registry = baselines_for(spec.id if spec is not None else None)
    if name not in registry:
        raise KeyError(f"name={name!r}: expected one of {sorted(registry)}")
    if not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed={seed!r}: expected an integer")
    return registry[name](env, int(seed))


def policy_action(policy: Any, observation: np.ndarray) -> int:
    """A baseline's action for one observation, as a Python int (its ``predict`` answers with
    SB3's shapes: ``()`` or ``(1,)``)."""
    return int(np.asarray(policy.predict(observation)[0]).reshape(-1)[0])


__all__ = ["BASELINES", "FAMILY_BASELINES", "baselines_for", "MCI_FLOOR_KG_PER_MWH", "CarbonEfficiencyGreedy", "CostOnly", "DecoupledFramework",
           "EnergyEfficient", "HeuristicPolicy", "PerformanceFirst", "RandomPolicy", "RenewableGreedy",
           "StaticCarbonAware", "argmin_feasible", "can_defer", "energy_mwh", "make_policy", "on_time", "placements", "policy_action"]
