"""carbon-cpn: Gymnasium environments for carbon-aware scheduling of Computing Power Networks.

Importing the package registers its environments::

    import gymnasium as gym
    import carbon_cpn  # noqa: F401
    env = gym.make("CarbonCPN-v0")
"""

from gymnasium.envs.registration import register, registry

__version__ = "0.1.0"

#: Registered environment ids and the scenario each one loads.
ENV_IDS: dict[str, str] = {
    "CarbonCPN-v0": "ieee30_5dc",
    "CarbonCPN-Tiny-v0": "tiny",
}

for _env_id, _scenario in ENV_IDS.items():
    if _env_id not in registry:
        register(id=_env_id, entry_point="carbon_cpn.envs.cpn_env:CarbonCPNEnv", kwargs={"scenario": _scenario})
