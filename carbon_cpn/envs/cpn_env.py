"""``CarbonCPN-v0``: a Computing Power Network scheduled on top of a dispatched power grid.

Papers: tsco is "A Novel Hierarchical Co-Optimization Framework for Coordinated Task Scheduling and Power Dispatch in Computing Power Networks" (Luo, Yang, Huang, Dustdar; tsco below);
c3o is "Carbon-Computing Coupling Optimization and Green Scheduling System for Intelligent Computing Centers" (Xie, Wei; c3o below).

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
``Box(-10, 10, (obs_dim,), float32)`` (entries clipped to that range); the layout is
``env.unwrapped.obs_layout`` (name, start, size, meaning), built from the block table
``carbon_cpn.envs.observation.CPN_BLOCKS`` (N nodes, B batteries; 59 entries for the default
scenario with 5 nodes and 4 batteries):

{observation_table}

Scales are the named constants of ``carbon_cpn.envs.observation``.

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

from carbon_cpn.envs.cosim_env import CoSimEnv
from carbon_cpn.envs.observation import CPN_BLOCKS, layout_table

__doc__ = __doc__.replace("{observation_table}", layout_table(CPN_BLOCKS))


class CarbonCPNEnv(CoSimEnv):
    """The tsco family: a data-center network on one grid (every hook of
    :class:`~carbon_cpn.envs.cosim_env.CoSimEnv` at its default)."""


CarbonCPNEnv.__doc__ = __doc__

__all__ = ["CarbonCPNEnv"]
