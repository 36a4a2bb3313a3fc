"""carbon-cpn's agents: the DQN family with invalid-action masks (SB3 extensions), the
MaskablePPO reference, the heuristic baselines, the oracle and the leaderboard.

The algorithms are importable from here (``from carbon_cpn.agents import Rainbow``); they are
loaded on first use, so that ``import carbon_cpn`` and the envs never pull in torch.
"""

from __future__ import annotations

import importlib
from typing import Any

#: Public name -> module that defines it.
_EXPORTS = {
    "VanillaDQN": "carbon_cpn.agents.dqn",
    "DoubleDQN": "carbon_cpn.agents.double_dqn",
    "Rainbow": "carbon_cpn.agents.rainbow",
    "DuelingDQNPolicy": "carbon_cpn.agents.policies",
    "RainbowPolicy": "carbon_cpn.agents.policies",
    "PrioritizedNStepReplayBuffer": "carbon_cpn.agents.buffers",
    "MaskablePPOAgent": "carbon_cpn.agents.maskable_ppo",
    "make_policy": "carbon_cpn.agents.baselines",
    "OraclePolicy": "carbon_cpn.agents.oracle_policy",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'carbon_cpn.agents' has no attribute {name!r}; expected one of {__all__}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
