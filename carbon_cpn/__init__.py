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
    "CarbonCPN-v0": {"scenario": "ieee30_5dc"},
    "CarbonCPN-Tiny-v0": {"scenario": "tiny"},
    # The default system with day-ahead stochastic unit commitment (issue #4); see
    # carbon_cpn.envs.day_ahead.UC_OVERRIDES. The first reset of a day solves its plan.
    "CarbonCPN-UC-v0": {
        "scenario": "ieee30_5dc",
        "commitment__mode": "day_ahead",
        "commitment__pmin_frac": 0.3,
        "commitment__no_load_usd_per_mw_h": 2.0,
    },
}

for _env_id, _kwargs in ENV_IDS.items():
    if _env_id not in registry:
        register(id=_env_id, entry_point="carbon_cpn.envs.cpn_env:CarbonCPNEnv", kwargs=dict(_kwargs))
