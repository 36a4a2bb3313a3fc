"""Scenario configuration: frozen, typed, validated dataclasses loaded from TOML (issue #3).

A scenario file has the tables ``[grid]``, ``[cpn]``, ``[workload]``, ``[reward]`` and
``[episode]``; each maps onto one dataclass below. Unknown keys and out-of-range values raise
:class:`ScenarioError` naming the key path, the value and what was expected. Keyword overrides
use the same paths with ``__`` or ``.`` between levels, e.g. ``episode__days=2`` or
``{"reward.carbon_price_usd_per_t": 100}``.
"""

from __future__ import annotations

import dataclasses
import math
import tomllib
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from carbon_cpn.envs.compute_config import QOS_CLASSES, CPNConfig, LinkConfig, NodeConfig, WorkloadConfig, WorkloadType
from carbon_cpn.envs.config_checks import ScenarioError, require
from carbon_cpn.envs.microgrid_config import MicrogridConfig
from carbon_cpn.envs.grid_config import BatteryConfig, GridConfig, LineRating, RegionConfig, RenewableConfig
from carbon_cpn.envs.run_config import CommitmentConfig, EpisodeConfig, RewardConfig


@dataclass(frozen=True)
class ScenarioConfig:
    name: str = "custom"
    grid: GridConfig = field(default_factory=GridConfig)
    cpn: CPNConfig = field(default_factory=lambda: CPNConfig(nodes=(NodeConfig("dc0", 0, 100, 10),)))
    workload: WorkloadConfig = field(default_factory=lambda: WorkloadConfig(types=(WorkloadType("generic", 1.0, 0.5, 0.25, 2.0, 1, 16, 3.0),)))
    reward: RewardConfig = field(default_factory=RewardConfig)
    episode: EpisodeConfig = field(default_factory=EpisodeConfig)
    commitment: CommitmentConfig = field(default_factory=CommitmentConfig)
    #: Regions with grids of their own; empty: the one grid of ``grid``.
    regions: tuple[RegionConfig, ...] = ()
    #: The network link between regions (scenarios with regions).
    link: LinkConfig = field(default_factory=LinkConfig)
    #: Microgrid sites and inference user regions (``CarbonCPN-Microgrid-v0``; else empty).
    microgrid: MicrogridConfig = field(default_factory=MicrogridConfig)

    def __post_init__(self) -> None:
        names = [r.name for r in self.regions]
        require(len(set(names)) == len(names), "regions.name", names, "unique region names")
        allowed = set(names) if names else {""}
        for nd in self.cpn.nodes:
            require(nd.region in allowed, f"{nd.name}.region", nd.region,
                    f"one of {sorted(allowed)}" if names else "'' (the scenario has no regions)")
        if self.link.home_share:
            require(len(self.link.home_share) == len(names), "link.home_share", list(self.link.home_share),
                    f"one share per region ({len(names)})")
        nodes = [nd.name for nd in self.cpn.nodes]
        for site in self.microgrid.sites:
            require(site.node in nodes, "microgrid.sites.node", site.node, f"one of the CPN's nodes {nodes}")
        if names:
            require(self.commitment.mode == "all_on", "commitment.mode", self.commitment.mode,
                    "'all_on' in a scenario with regions (their units are all available)")

    @property
    def grid_carbon_price_usd_per_t(self) -> float:
        """The carbon price in the units' offers [$/t], of the day-ahead plan and of the
        real-time dispatch: ``commitment.carbon_price_usd_per_t``, or the reward's carbon price
        where that is negative (the one place it is resolved)."""
        price = self.commitment.carbon_price_usd_per_t
        return self.reward.carbon_price_usd_per_t if price < 0 else price


# ----------------------------------------------------------------------------- loading
#: Bounds on every number a scenario may hold: beyond them sums overflow or rewards go infinite
#: (issue #18); no physical quantity of a scenario comes near them.
MAX_MAGNITUDE = 1e12
MAX_INTEGER = 10**9

def _convert(tp: Any, value: Any, key: str) -> Any:
    origin = typing.get_origin(tp)
    if dataclasses.is_dataclass(tp):
        require(isinstance(value, Mapping), key, value, f"a table of {tp.__name__} fields")
        return _build(tp, value, key)
    if origin is tuple:
        (item_tp, _) = typing.get_args(tp)
        require(isinstance(value, (list, tuple)), key, value, "a list")
        return tuple(_convert(item_tp, v, f"{key}[{i}]") for i, v in enumerate(value))
    if tp is float:
        # NumPy scalars are numbers too; inf and NaN are not (they pass every >= check and break the
        # simulation later: issue #18).
        require(isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_)),
                key, value, "a number")
        require(math.isfinite(float(value)) and abs(float(value)) <= MAX_MAGNITUDE, key, value,
                f"a finite number of magnitude <= {MAX_MAGNITUDE:g}")
        return float(value)
    if tp is int:
        require(isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)), key, value,
                "an integer")
        require(abs(int(value)) <= MAX_INTEGER, key, value, f"an integer of magnitude <= {MAX_INTEGER:,}")
        return int(value)
    if tp is str:
        require(isinstance(value, str), key, value, "a string")
        return value
    if isinstance(tp, types.UnionType):  # pragma: no cover - no optional fields yet
        return value
    return value


def _build(cls: type, data: Mapping[str, Any], path: str) -> Any:
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls) if f.init}
    for k in data:
        if k not in names:
            where = f"{path}.{k}" if path else k
            raise ScenarioError(f"{where}: unknown key; expected one of {sorted(names)}")
    kwargs = {k: _convert(hints[k], v, f"{path}.{k}" if path else k) for k, v in data.items()}
    try:
        return cls(**kwargs)
    except ScenarioError:
        raise
    except (TypeError, ValueError) as exc:  # a missing field, or a unit model's own validation
        raise ScenarioError(f"{path or cls.__name__}: {exc}") from exc


def _as_plain(obj: Any) -> Any:
    if dataclasses.is_dataclass(obj):
        return {f.name: _as_plain(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, tuple):
        return [_as_plain(v) for v in obj]
    return obj


def _apply_override(data: dict[str, Any], key: str, value: Any) -> None:
    parts = key.replace("__", ".").split(".")
    node: Any = data
    for i, p in enumerate(parts):
        where = ".".join(parts[: i + 1])
        if isinstance(node, list):
            if not (p.isdigit() and int(p) < len(node)):
                raise ScenarioError(f"{where}: expected a list index < {len(node)}")
            p_key: Any = int(p)
        elif isinstance(node, dict):
            if p not in node:
                raise ScenarioError(f"{where}: unknown key; expected one of {sorted(node)}")
            p_key = p
        else:
            raise ScenarioError(f"{where}: {'.'.join(parts[:i])} is a value, not a table")
        if i == len(parts) - 1:
            node[p_key] = value
        else:
            node = node[p_key]


SCENARIO_DIR = "scenarios"


def available_scenarios() -> list[str]:
    """Names of the scenarios shipped in ``carbon_cpn/envs/scenarios/``."""
    base = resources.files("carbon_cpn.envs") / SCENARIO_DIR
    return sorted(p.name[:-5] for p in base.iterdir() if p.name.endswith(".toml"))


def load_scenario(scenario: str | Path | ScenarioConfig = "ieee30_5dc", **overrides: Any) -> ScenarioConfig:
    """Load a shipped scenario by name, a TOML file by path, or pass a config through;
    apply keyword overrides (``episode__days=2``)."""
    if isinstance(scenario, ScenarioConfig):
        data: dict[str, Any] = _as_plain(scenario)
    else:
        path = Path(scenario)
        if path.suffix == ".toml" and path.exists():
            text = path.read_text()
            name = path.stem
        else:
            shipped = resources.files("carbon_cpn.envs") / SCENARIO_DIR / f"{scenario}.toml"
            if not shipped.is_file():
                raise ScenarioError(
                    f"scenario={str(scenario)!r}: expected a path to a .toml file or one of {available_scenarios()}"
                )
            text = shipped.read_text()
            name = str(scenario)
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ScenarioError(f"scenario={str(scenario)!r}: not valid TOML ({exc})") from exc
        data.setdefault("name", name)
    config = _build(ScenarioConfig, data, "")
    if not overrides:
        return config
    # Overrides apply to the full config, defaults included, and are validated like a file.
    plain = _as_plain(config)
    for key, value in overrides.items():
        _apply_override(plain, key, value)
    return _build(ScenarioConfig, plain, "")


#: The configuration classes, importable from here as from their modules.
__all__ = ["QOS_CLASSES", "BatteryConfig", "CPNConfig", "CommitmentConfig", "EpisodeConfig", "GridConfig", "LineRating", "LinkConfig",
           "NodeConfig", "RegionConfig", "RenewableConfig", "RewardConfig", "ScenarioConfig", "ScenarioError", "WorkloadConfig",
           "WorkloadType", "available_scenarios", "load_scenario"]
