"""Learning from a heuristic's demonstrations: DQfD's large-margin loss for the DQN family (issue #14).

Hester et al. 2018, "Deep Q-learning from Demonstrations" (DQfD). With ``demo="pfs"`` (any
baseline of the env, ``carbon_cpn.agents.baselines.make_policy``) an agent of the DQN family

1. plays ``demo_episodes`` episodes of the baseline in its own training envs before learning
   (the episodes come from the envs' own seeded reset stream, so never from the leaderboard's
   test days) and keeps their one-step transitions, with the mask of each state and of its
   next state, in a :class:`DemoBuffer` that nothing overwrites;
2. pre-trains on them alone for ``demo_pretrain_steps`` gradient steps;
3. then adds ``demo_batch_size`` demonstration transitions to every sampled batch.

On demonstration rows the loss adds, with weight ``demo_weight``, the large-margin term

    J_E(Q) = max_{a valid in s} [Q(s, a) + m 1(a != a_E)] - Q(s, a_E)

(``m = demo_margin`` in reward units): it is zero once the demonstrated action's value leads
every other valid action by ``m``, which grounds the values of the actions the demonstrator never
takes. The TD loss (the algorithm's own target: vanilla, double, dueling, time-based
discounting, masks) applies to agent and demonstration rows alike, so the agent can still learn
values above the demonstrator's where its own experience shows them. The demonstration steps are
extra environment interaction: ``num_timesteps`` does not count them; ``demo/transitions`` in the
logs does.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch as th
from stable_baselines3.common.vec_env import VecEnv

from carbon_cpn.agents.masked_buffers import MaskedReplayBufferSamples
from carbon_cpn.agents.masking import MASKED_Q, attach_next_masks, env_action_masks, stored_next_masks
from carbon_cpn.agents.smdp import elapsed_hours, step_discounts

__all__ = ["DemoBuffer", "check_demo", "collect_demonstrations", "margin_loss"]


def check_demo(demo: Any, episodes: Any, pretrain_steps: Any, batch_size: Any, margin: Any, weight: Any) -> dict[str, Any]:
    """The validated demonstration settings (module docstring), as a dict of the parameters' names."""
    if demo is not None and not (isinstance(demo, str) and demo):
        raise ValueError(f"demo={demo!r}: expected None or the name of a baseline (e.g. 'pfs')")

    def count(name: str, value: Any, low: int) -> int:
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
            raise ValueError(f"{name}={value!r}: expected an integer >= {low}")
        return int(value)

    def number(name: str, value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
                or not np.isfinite(value) or value < 0:
            raise ValueError(f"{name}={value!r}: expected a finite number >= 0")
        return float(value)

    out = {"demo": demo, "demo_episodes": count("demo_episodes", episodes, 1),
           "demo_pretrain_steps": count("demo_pretrain_steps", pretrain_steps, 0),
           "demo_batch_size": count("demo_batch_size", batch_size, 1),
           "demo_margin": number("demo_margin", margin), "demo_weight": number("demo_weight", weight)}
    return out


class DemoBuffer:
    """One-step demonstration transitions (grows as needed; sampled uniformly from its own
    generator). ``discount`` is the bootstrap discount of each row (``gamma``, or
    ``gamma_per_hour ** elapsed_h``); ``done`` is termination only (a truncation bootstraps)."""

    def __init__(self, obs_shape: tuple[int, ...], n_actions: int, seed: int | None) -> None:
        self.obs_shape, self.n_actions = tuple(obs_shape), int(n_actions)
        self._rows: dict[str, list[np.ndarray]] = {k: [] for k in
                                                   ("obs", "action", "reward", "next_obs", "done", "discount", "mask", "next_mask")}
        self._arrays: dict[str, np.ndarray] | None = None
        self.rng = np.random.default_rng(None if seed is None else [int(seed), 0xDF0])
        self.episodes = 0

    def __len__(self) -> int:
        return len(self._rows["action"])

    def add(self, **row: np.ndarray) -> None:
        for k, v in row.items():
            self._rows[k].append(np.asarray(v))
        self._arrays = None

    def arrays(self) -> dict[str, np.ndarray]:
        if self._arrays is None:
            self._arrays = {k: np.stack(v) if v else np.zeros((0,)) for k, v in self._rows.items()}
        return self._arrays

    def sample(self, batch_size: int, device: th.device | str) -> tuple[MaskedReplayBufferSamples, th.Tensor]:
        """A uniform batch (with replacement) as the masked buffers' samples, and the masks
        ``[batch, n_actions]`` of its states (for :func:`margin_loss`)."""
        if len(self) == 0:
            raise ValueError("demo buffer is empty: expected demonstrations collected before sampling")
        a = self.arrays()
        idx = self.rng.integers(0, len(self), size=int(batch_size))

        def t(x: np.ndarray, dtype: th.dtype = th.float32) -> th.Tensor:
            return th.as_tensor(x[idx], device=device, dtype=dtype)

        samples = MaskedReplayBufferSamples(
            observations=t(a["obs"]), actions=t(a["action"], th.long).reshape(-1, 1), next_observations=t(a["next_obs"]),
            dones=t(a["done"]).reshape(-1, 1), rewards=t(a["reward"]).reshape(-1, 1),
            discounts=t(a["discount"]).reshape(-1, 1), next_action_masks=t(a["next_mask"], th.bool))
        return samples, t(a["mask"], th.bool)


def collect_demonstrations(venv: VecEnv, act: Any, n_episodes: int, gamma: float, gamma_per_hour: float | None,
                           buffer: DemoBuffer, first_obs: np.ndarray | None = None,
                           max_steps: int = 10_000_000) -> DemoBuffer:
    """Play ``n_episodes`` (summed over the envs of ``venv``) with ``act(obs) -> actions`` and add
    every transition to ``buffer``. Starts from ``first_obs`` (the envs' first observations, just
    reset), or resets ``venv`` when None; leaves it mid-episode: the caller resets it."""
    n_envs = venv.num_envs
    obs = np.asarray(venv.reset() if first_obs is None else first_obs)
    masks = env_action_masks(venv)
    masks = np.ones((n_envs, buffer.n_actions), dtype=bool) if masks is None else masks
    done_episodes = steps = 0
    while done_episodes < n_episodes:
        if steps >= max_steps:
            raise RuntimeError(f"demonstrations: {n_episodes} episode(s) not finished after {max_steps} steps")
        actions = np.asarray(act(obs), dtype=np.int64).reshape(n_envs)
        new_obs, rewards, dones, infos = venv.step(actions)
        new_obs = np.asarray(new_obs)
        next_masks = env_action_masks(venv)
        next_masks = np.ones_like(masks) if next_masks is None else next_masks
        # the masks of the transitions' own next states (the terminal one where an episode ended)
        stored = stored_next_masks(attach_next_masks(infos, next_masks, dones), n_envs, buffer.n_actions)
        g = (step_discounts(gamma_per_hour, elapsed_hours(infos, n_envs)) if gamma_per_hour is not None
             else np.full(n_envs, float(gamma)))
        for i in range(n_envs):
            if dones[i]:  # the VecEnv has reset: the transition ends in the terminal state
                next_o = np.asarray(infos[i]["terminal_observation"])
                terminated = not infos[i].get("TimeLimit.truncated", False)
            else:
                next_o, terminated = new_obs[i], False
            buffer.add(obs=obs[i].astype(np.float32), action=actions[i], reward=np.float32(rewards[i]),
                       next_obs=next_o.astype(np.float32), done=np.float32(terminated), discount=np.float32(g[i]),
                       mask=masks[i].copy(), next_mask=stored[i])
        done_episodes += int(np.sum(dones))
        buffer.episodes += int(np.sum(dones))
        obs, masks = new_obs, next_masks
        steps += 1
    return buffer


def margin_loss(q: th.Tensor, actions: th.Tensor, masks: th.Tensor | None, margin: float) -> th.Tensor:
    """Mean over the batch of ``max_{a valid} [Q(s, a) + margin 1(a != a_E)] - Q(s, a_E)``.

    :param q: ``[batch, n_actions]`` final Q values; ``actions``: ``[batch, 1]`` demonstrated
        actions; ``masks``: ``[batch, n_actions]`` valid actions of ``s`` (None: all).
    """
    bonus = th.full_like(q, float(margin))
    bonus.scatter_(1, actions.long(), 0.0)
    scores = q + bonus
    if masks is not None:
        scores = scores.masked_fill(~masks, MASKED_Q)
    q_demo = th.gather(q, 1, actions.long())
    return (scores.max(dim=1, keepdim=True).values - q_demo).mean()
