"""carbon-cpn: Gymnasium environments for carbon-aware scheduling of Computing Power Networks.

Importing the package registers its environments::

    import gymnasium as gym
    import carbon_cpn  # noqa: F401
    env = gym.make("CarbonCPN-v0")
"""

from gymnasium.envs.registration import register, registry

__version__ = "0.1.0"

#: Registered environment ids and the keyword arguments each passes to the env.
ENV_IDS: dict[str, dict[str, object]] = {
    # case30 + 5 farms + 4 batteries + 5 CPN nodes; thermal units committed by each day's
    # day-ahead stochastic unit-commitment plan (365 plans ship with the package).
    "CarbonCPN-v0": {"scenario": "ieee30_5dc"},
    # The same system with every thermal unit available all day (no unit commitment): the
    # ablation that shows what the day-ahead plan changes.
    "CarbonCPN-AllOn-v0": {"scenario": "ieee30_5dc", "commitment__mode": "all_on"},
    "CarbonCPN-Tiny-v0": {"scenario": "tiny"},
    # "East Data, West Computing": East and West regions with grids of their own, GPU-dense
    # eastern and CPU-rich western nodes, data locality over a cross-region link.
    "CarbonCPN-EastWest-v0": {"scenario": "east_west"},
    # AI data-center sites that are microgrids (on-site PV, wind, generator, battery, two-way
    # grid connection) on case30: rigid training jobs and inference routing among the sites.
    "CarbonCPN-Microgrid-v0": {"scenario": "microgrid"},
}
#: Entry points of the ids whose family is not the default one.
ENTRY_POINTS: dict[str, str] = {"CarbonCPN-EastWest-v0": "carbon_cpn.envs.east_west_env:EastWestEnv",
                                "CarbonCPN-Microgrid-v0": "carbon_cpn.envs.microgrid_env:MicrogridEnv"}

for _env_id, _kwargs in ENV_IDS.items():
    if _env_id not in registry:
        register(id=_env_id, entry_point=ENTRY_POINTS.get(_env_id, "carbon_cpn.envs.cpn_env:CarbonCPNEnv"),
                 kwargs=dict(_kwargs))

#: Wrappers of a registered env (not families of their own): CarbonCPN-v0 scheduled by choosing,
#: at each decision, which heuristic decides (carbon_cpn.agents.rule_selection).
#: RulesSeen also observes what every rule would do.
WRAPPED_IDS: dict[str, tuple[str, dict[str, object]]] = {
    "CarbonCPN-Rules-v0": ("carbon_cpn.agents.rule_selection:make_rule_env", {}),
    "CarbonCPN-RulesSeen-v0": ("carbon_cpn.agents.rule_selection:make_rule_env", {"proposals": True}),
}
for _env_id, (_entry, _kwargs) in WRAPPED_IDS.items():
    if _env_id not in registry:
        register(id=_env_id, entry_point=_entry, kwargs=dict(_kwargs))
