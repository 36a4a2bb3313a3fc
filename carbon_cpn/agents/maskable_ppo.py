"""MaskablePPO (sb3-contrib; Huang & Ontanon 2022, "A Closer Look at Invalid Action Masking in
Policy Gradient Algorithms") as the policy-gradient reference row of the training CLI (issue #14):
``carbon-cpn train --algo maskable_ppo``.

:class:`MaskablePPOAgent` is sb3-contrib's ``MaskablePPO`` unchanged; it only records
``algo_name`` in the saved zip so that ``carbon-cpn evaluate`` and the leaderboard load it with
the right class (``carbon_cpn.agents.registry.saved_class``). Its zips load with plain
``sb3_contrib.MaskablePPO.load`` too. Masks come from the envs' ``action_masks()`` (through
wrappers and VecEnvs), in rollouts and, with ``predict(obs, action_masks=...)``, in evaluation.
"""

from __future__ import annotations

from sb3_contrib import MaskablePPO


class MaskablePPOAgent(MaskablePPO):
    """sb3-contrib's ``MaskablePPO``, the ``maskable_ppo`` of the training CLI."""

    #: Name under which the training CLI knows the algorithm; saved with the model.
    algo_name = "maskable_ppo"

    def _setup_model(self) -> None:
        super()._setup_model()
        self.algo_name = type(self).algo_name  # instance attribute: stored in the saved zip
