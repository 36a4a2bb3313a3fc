"""Hyperparameter files in the rl-baselines3-zoo schema (issue #5).

A YAML file per algorithm maps an env id to its settings::

    CarbonCPN-v0:
      n_timesteps: 200000          # default --timesteps
      policy: MlpPolicy            # MlpPolicy | DuelingDQNPolicy | RainbowPolicy (maskable_ppo: MlpPolicy)
      n_envs: 1                    # default --n-envs
      learning_rate: 1.0e-4
      policy_kwargs: {net_arch: [256, 256]}   # or the zoo's string "dict(net_arch=[256, 256])"
      gamma_per_hour: 0.9          # DQN family: discount per simulated hour (absent/null: gamma per decision)
      ...                          # any other constructor argument of the algorithm

Besides the constructor's arguments, ``eval_freq`` (timesteps between evaluations),
``eval_episodes`` and ``checkpoint_freq`` (timesteps between checkpoints) are read by
:func:`carbon_cpn.agents.train.train`. Any other key is an error naming the allowed ones
(the constructor's arguments are collected along the class hierarchy where an ``__init__``
forwards ``**kwargs``, e.g. ``use_masking`` of the DQN family plus SB3 ``DQN``'s).
The shipped files are ``carbon_cpn/agents/hyperparams/<algo>.yml``.
"""

from __future__ import annotations

import math

import ast
import inspect
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from torch import nn

from carbon_cpn.agents.registry import algo_spec

#: Keys the training loop reads (not passed to the algorithm).
TRAIN_KEYS = ("n_timesteps", "policy", "n_envs", "eval_freq", "eval_episodes", "checkpoint_freq")
#: Constructor arguments the training loop sets itself.
_RESERVED = ("self", "policy", "env", "tensorboard_log", "verbose", "seed", "device", "_init_setup_model")
_ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU, "tanh": nn.Tanh, "elu": nn.ELU, "leaky_relu": nn.LeakyReLU, "gelu": nn.GELU, "silu": nn.SiLU,
}


def default_hyperparams_file(algo: str) -> Path:
    algo_spec(algo)
    return Path(str(resources.files("carbon_cpn.agents").joinpath("hyperparams", f"{algo}.yml")))


def _literal_call(node: ast.AST) -> Any:
    """Evaluate ``dict(k=v, ...)``, literals, lists and ``nn.X`` names without ``eval``."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "dict" and not node.args:
        return {kw.arg: _literal_call(kw.value) for kw in node.keywords}
    if isinstance(node, ast.Attribute):  # nn.ReLU, th.nn.ReLU
        return node.attr
    if isinstance(node, (ast.List, ast.Tuple)):
        return [_literal_call(e) for e in node.elts]
    if isinstance(node, ast.Dict):
        return {_literal_call(k): _literal_call(v) for k, v in zip(node.keys, node.values)}
    return ast.literal_eval(node)


def parse_policy_kwargs(value: Any) -> dict[str, Any]:
    """A mapping or the zoo's ``"dict(...)"`` string -> kwargs with ``activation_fn`` a class."""
    if isinstance(value, str):
        try:
            value = _literal_call(ast.parse(value, mode="eval").body)
        except (ValueError, SyntaxError) as exc:
            raise ValueError(f"policy_kwargs={value!r}: expected a mapping or 'dict(key=literal, ...)' ({exc})") from None
    if not isinstance(value, dict):
        raise ValueError(f"policy_kwargs={value!r}: expected a mapping")
    out = dict(value)
    act = out.get("activation_fn")
    if isinstance(act, str):
        key = act.lower().replace("nn.", "")
        if key not in _ACTIVATIONS:
            raise ValueError(f"policy_kwargs['activation_fn']={act!r}: expected one of {sorted(_ACTIVATIONS)}")
        out["activation_fn"] = _ACTIVATIONS[key]
    return out


def constructor_parameters(cls: type) -> set[str]:
    """Named ``__init__`` parameters of ``cls``, following ``**kwargs`` up the hierarchy."""
    names: set[str] = set()
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is None:
            continue
        params = inspect.signature(init).parameters.values()
        names |= {p.name for p in params if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)}
        if not any(p.kind == p.VAR_KEYWORD for p in params):
            break
    return names


def allowed_keys(algo: str) -> set[str]:
    return (constructor_parameters(algo_spec(algo).cls) - set(_RESERVED)) | set(TRAIN_KEYS)


def load_hyperparams(algo: str, env_id: str, path: str | Path | None = None) -> dict[str, Any]:
    """The settings of ``env_id`` in ``path`` (default: the shipped file of ``algo``), validated."""
    file = default_hyperparams_file(algo) if path is None else Path(path)
    if not file.is_file():
        raise FileNotFoundError(f"hyperparams_file={str(file)!r}: no such file")
    try:
        with file.open() as fh:
            table = yaml.safe_load(fh) or {}
    except yaml.YAMLError as exc:
        where = " ".join(str(exc).split())
        raise ValueError(f"hyperparams_file={str(file)!r}: not valid YAML ({where})") from None
    if not isinstance(table, dict):
        raise ValueError(f"hyperparams_file={str(file)!r}: expected a mapping of env id -> settings")
    if env_id not in table:
        raise ValueError(f"env_id={env_id!r}: no hyperparameters for it in {str(file)!r}; expected one of {sorted(table)}")
    hp = dict(table[env_id] or {})
    unknown = set(hp) - allowed_keys(algo)
    if "gamma_per_hour" in unknown:
        raise ValueError(
            f"{str(file)!r}[{env_id!r}]: gamma_per_hour (discounting by simulated time) is implemented for the DQN "
            f"family only, not for algo={algo!r}; expected no gamma_per_hour key"
        )
    if unknown:
        raise ValueError(
            f"{str(file)!r}[{env_id!r}]: unknown key(s) {sorted(unknown)} for algo={algo!r}; "
            f"expected among {sorted(allowed_keys(algo))}"
        )
    if "policy_kwargs" in hp:
        hp["policy_kwargs"] = parse_policy_kwargs(hp["policy_kwargs"])
    for key in ("learning_rate", "gamma", "gamma_per_hour", "v_min", "v_max", "alpha", "beta0", "exploration_fraction",
                "exploration_final_eps", "exploration_initial_eps", "tau", "sigma0", "max_grad_norm", "demo_margin", "demo_weight",
                "gae_lambda", "clip_range", "ent_coef", "vf_coef"):
        if key in hp and isinstance(hp[key], str):  # YAML reads 1e-4 (no dot) as a string
            try:
                hp[key] = float(hp[key])
            except ValueError:
                raise ValueError(f"{str(file)!r}[{env_id!r}][{key!r}]={hp[key]!r}: expected a number") from None
    check_ranges(hp, f"{str(file)!r}[{env_id!r}]")
    return hp


#: key -> (low, high, low inclusive): the values a setting may take (issue #18: a discount of 5 or
#: a negative buffer trained without complaint).
RANGES: dict[str, tuple[float, float, bool]] = {
    "gamma": (0.0, 1.0, False), "gamma_per_hour": (0.0, 1.0, False), "learning_rate": (0.0, math.inf, False),
    "exploration_fraction": (0.0, 1.0, True), "exploration_final_eps": (0.0, 1.0, True),
    "exploration_initial_eps": (0.0, 1.0, True), "tau": (0.0, 1.0, False), "alpha": (0.0, math.inf, True),
    "beta0": (0.0, 1.0, True), "max_grad_norm": (0.0, math.inf, False), "gae_lambda": (0.0, 1.0, True),
    "clip_range": (0.0, math.inf, False), "ent_coef": (0.0, math.inf, True), "vf_coef": (0.0, math.inf, True),
    "sigma0": (0.0, math.inf, True), "guide_prob": (0.0, 1.0, True),
    "demo_margin": (0.0, math.inf, True), "demo_weight": (0.0, math.inf, True)}
#: Counts that must be whole numbers >= the bound.
COUNTS: dict[str, int] = {"n_timesteps": 1, "n_envs": 1, "buffer_size": 1, "learning_starts": 0, "batch_size": 1,
                          "gradient_steps": 1, "target_update_interval": 1, "n_steps": 1,
                          "n_epochs": 1, "eval_freq": 0, "eval_episodes": 1, "checkpoint_freq": 0, "n_step": 1,
                          "n_atoms": 2, "demo_episodes": 1, "demo_pretrain_steps": 0, "demo_batch_size": 1}


def check_ranges(hp: dict[str, Any], where: str) -> None:
    """Every known setting of ``hp`` in its range, else ValueError naming key, value and range."""
    for key, (lo, hi, lo_ok) in RANGES.items():
        if key not in hp:
            continue
        v = hp[key]
        ok = isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and v <= hi and (
            v >= lo if lo_ok else v > lo)
        if not ok:
            raise ValueError(f"{where}[{key!r}]={v!r}: expected a number in {'[' if lo_ok else '('}{lo:g}, {hi:g}]")
    for key, lo in COUNTS.items():
        if key in hp and not (isinstance(hp[key], int) and not isinstance(hp[key], bool) and hp[key] >= lo):
            raise ValueError(f"{where}[{key!r}]={hp[key]!r}: expected an integer >= {lo}")
