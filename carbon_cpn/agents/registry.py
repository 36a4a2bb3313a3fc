"""The algorithms the training CLI knows, and loading a saved model of any of them (issues #5, #14).

================  ============================  =================================================
name              class                         policy
================  ============================  =================================================
``dqn``           :class:`VanillaDQN`           ``MlpPolicy`` (SB3's Q-network)
``double_dqn``    :class:`DoubleDQN`            ``MlpPolicy``
``dueling_dqn``   :class:`DoubleDQN`            :class:`DuelingDQNPolicy` (Wang et al. 2016 built
                                                their dueling agent on Double DQN)
``rainbow``       :class:`Rainbow`              :class:`RainbowPolicy`
``maskable_ppo``  :class:`MaskablePPOAgent`     ``MlpPolicy`` (sb3-contrib's masked actor-critic;
                                                the policy-gradient reference row)
================  ============================  =================================================
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import NamedTuple

from sb3_contrib import MaskablePPO
from stable_baselines3 import DQN
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.policies import BasePolicy

from carbon_cpn.agents.double_dqn import DoubleDQN
from carbon_cpn.agents.dqn import VanillaDQN
from carbon_cpn.agents.maskable_ppo import MaskablePPOAgent
from carbon_cpn.agents.policies import DuelingDQNPolicy, RainbowPolicy
from carbon_cpn.agents.rainbow import Rainbow


class AlgoSpec(NamedTuple):
    cls: type[BaseAlgorithm]
    default_policy: str


ALGOS: dict[str, AlgoSpec] = {
    "dqn": AlgoSpec(VanillaDQN, "MlpPolicy"),
    "double_dqn": AlgoSpec(DoubleDQN, "MlpPolicy"),
    "dueling_dqn": AlgoSpec(DoubleDQN, "DuelingDQNPolicy"),
    "rainbow": AlgoSpec(Rainbow, "RainbowPolicy"),
    "maskable_ppo": AlgoSpec(MaskablePPOAgent, "MlpPolicy"),
}

#: Policy names a hyperparameter file may give.
POLICIES: dict[str, type[BasePolicy] | str] = {
    "MlpPolicy": "MlpPolicy",
    "DuelingDQNPolicy": DuelingDQNPolicy,
    "RainbowPolicy": RainbowPolicy,
}

#: ``algo_name`` saved in a model's zip -> the class that loads it.
_CLASS_OF_SAVED: dict[str, type[BaseAlgorithm]] = {
    "dqn": VanillaDQN, "double_dqn": DoubleDQN, "rainbow": Rainbow, "maskable_ppo": MaskablePPOAgent,
}


def algo_spec(algo: str) -> AlgoSpec:
    if algo not in ALGOS:
        raise ValueError(f"algo={algo!r}: expected one of {sorted(ALGOS)}")
    return ALGOS[algo]


def resolve_policy(name: str) -> type[BasePolicy] | str:
    if name not in POLICIES:
        raise ValueError(f"policy={name!r}: expected one of {sorted(POLICIES)}")
    return POLICIES[name]


def saved_class(path: str | Path) -> type[BaseAlgorithm]:
    """The class that saved the model at ``path`` (read from the zip's ``data``): an algorithm of
    :data:`ALGOS`, sb3-contrib's ``MaskablePPO`` (a maskable policy without ``algo_name``) or
    SB3's ``DQN``."""
    p = Path(path)
    if not p.exists() and p.with_suffix(".zip").exists():
        p = p.with_suffix(".zip")
    if not p.is_file():
        raise FileNotFoundError(f"model path={str(path)!r}: expected a model .zip saved by carbon-cpn train")
    with zipfile.ZipFile(p) as zf:
        data = json.loads(zf.read("data").decode())
    name = data.get("algo_name")
    if name in _CLASS_OF_SAVED:
        return _CLASS_OF_SAVED[name]
    policy_class = data.get("policy_class")
    policy_module = str(policy_class.get("__module__", "")) if isinstance(policy_class, dict) else ""
    if policy_module.startswith("sb3_contrib.common.maskable"):
        return MaskablePPO  # a plain sb3-contrib MaskablePPO model
    return DQN  # a plain SB3 DQN model


def load_algorithm(path: str | Path, **kwargs: object) -> BaseAlgorithm:
    """Load a model saved by any algorithm of :data:`ALGOS` (or SB3's DQN, sb3-contrib's MaskablePPO)."""
    return saved_class(path).load(path, **kwargs)  # type: ignore[arg-type]
