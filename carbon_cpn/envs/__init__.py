"""The co-simulation and its Gymnasium environments."""

from carbon_cpn.envs.config import ScenarioConfig, ScenarioError, available_scenarios, load_scenario

__all__ = ["ScenarioConfig", "ScenarioError", "available_scenarios", "load_scenario"]
