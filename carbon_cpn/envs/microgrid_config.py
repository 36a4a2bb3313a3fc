"""The ``[microgrid]`` section of a scenario: AI data-center sites that are microgrids, and the
user regions whose inference demand they serve (``CarbonCPN-Microgrid-v0``).

After "Carbon-Aware Compute-Power Scheduling for AI Data Centers with Microgrid
Prosumer Operations" (the MILP paper). Each site is one CPN node (its GPU
servers, idle and peak power and PUE are the node's) plus its on-site energy; each user region
has an inference demand profile and a latency to every site.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from carbon_cpn.envs.config_checks import fraction, nonnegative, positive, require

#: The profile columns a site's renewables may follow (``carbon_cpn/envs/data/profiles_hourly.csv``).
SOLAR_PROFILES = ("solar_a", "solar_b", "solar_c")
WIND_PROFILES = ("wind_a", "wind_b")


@dataclass(frozen=True)
class SiteConfig:
    """One site: the CPN node it is, and its on-site energy."""

    #: Name of the CPN node that is this site's data center.
    node: str
    #: On-site PV capacity [MW] and the solar profile it follows.
    pv_mw: float = 0.0
    pv_profile: str = "solar_a"
    #: On-site wind capacity [MW] and the wind profile it follows.
    wind_mw: float = 0.0
    wind_profile: str = "wind_a"
    #: Dispatchable generator: capacity [MW], fuel cost [$/MWh], emissions [kg/MWh]. It runs
    #: anywhere in [0, capacity] (no minimum output, so the site dispatch is an LP).
    gen_mw: float = 0.0
    gen_usd_per_mwh: float = 120.0
    gen_kg_per_mwh: float = 490.0
    #: Battery: power [MW], energy [MWh], one-way efficiency, initial state of charge (share).
    bess_mw: float = 0.0
    bess_mwh: float = 0.0
    bess_efficiency: float = 0.95
    bess_soc0: float = 0.5
    #: Grid connection limits [MW].
    import_max_mw: float = 10.0
    export_max_mw: float = 5.0

    def __post_init__(self) -> None:
        k = f"microgrid.sites.{self.node}"
        for name in ("pv_mw", "wind_mw", "gen_mw", "gen_usd_per_mwh", "gen_kg_per_mwh", "bess_mw", "bess_mwh",
                     "import_max_mw", "export_max_mw"):
            nonnegative(f"{k}.{name}", getattr(self, name))
        require(self.pv_profile in SOLAR_PROFILES, f"{k}.pv_profile", self.pv_profile, f"one of {SOLAR_PROFILES}")
        require(self.wind_profile in WIND_PROFILES, f"{k}.wind_profile", self.wind_profile, f"one of {WIND_PROFILES}")
        require(isinstance(self.bess_efficiency, (int, float)) and 0.5 <= self.bess_efficiency <= 1.0,
                f"{k}.bess_efficiency", self.bess_efficiency, "a one-way efficiency in [0.5, 1]")
        fraction(f"{k}.bess_soc0", self.bess_soc0)


@dataclass(frozen=True)
class UserRegionConfig:
    """A region of users sending inference requests."""

    name: str
    #: Peak demand [GPU servers' worth of requests]; the demand follows the system load profile
    #: shifted by ``utc_offset_h`` (users' local time), with multiplicative noise.
    peak_gpus: float
    #: Latency from the region's users to each site [ms], in the order of ``sites``.
    latency_ms: tuple[float, ...]
    utc_offset_h: float = 0.0

    def __post_init__(self) -> None:
        k = f"microgrid.regions.{self.name}"
        positive(f"{k}.peak_gpus", self.peak_gpus)
        for i, v in enumerate(self.latency_ms):
            nonnegative(f"{k}.latency_ms[{i}]", v)
        require(isinstance(self.utc_offset_h, (int, float)) and -12 <= self.utc_offset_h <= 14,
                f"{k}.utc_offset_h", self.utc_offset_h, "hours in [-12, 14]")


@dataclass(frozen=True)
class MicrogridConfig:
    """Sites, user regions and the inference market (empty in scenarios of other families)."""

    sites: tuple[SiteConfig, ...] = ()
    regions: tuple[UserRegionConfig, ...] = ()
    #: A site serves a region only within this latency [ms].
    latency_limit_ms: float = 60.0
    #: Continuity: a region's share at a site changes by at most this much per interval.
    max_share_change: float = 0.25
    #: Value of serving one GPU server-hour of inference [$].
    inference_usd_per_gpu_h: float = 6.0
    #: An exported MWh earns this share of the LMP at the site's bus.
    export_price_share: float = 0.5
    #: Standard deviation of the multiplicative noise on each interval's demand.
    demand_noise: float = 0.1

    def __post_init__(self) -> None:
        nodes = [s.node for s in self.sites]
        require(len(set(nodes)) == len(nodes), "microgrid.sites.node", nodes, "one site per node")
        names = [r.name for r in self.regions]
        require(len(set(names)) == len(names), "microgrid.regions.name", names, "unique region names")
        for r in self.regions:
            require(len(r.latency_ms) == len(self.sites), f"microgrid.regions.{r.name}.latency_ms",
                    list(r.latency_ms), f"one latency per site ({len(self.sites)})")
            require(min(r.latency_ms, default=math.inf) <= self.latency_limit_ms, f"microgrid.regions.{r.name}.latency_ms",
                    list(r.latency_ms), f"at least one site within latency_limit_ms ({self.latency_limit_ms})")
        positive("microgrid.latency_limit_ms", self.latency_limit_ms)
        require(isinstance(self.max_share_change, (int, float)) and 0 < self.max_share_change <= 1,
                "microgrid.max_share_change", self.max_share_change, "a number in (0, 1]")
        nonnegative("microgrid.inference_usd_per_gpu_h", self.inference_usd_per_gpu_h)
        fraction("microgrid.export_price_share", self.export_price_share)
        require(isinstance(self.demand_noise, (int, float)) and 0 <= self.demand_noise <= 1,
                "microgrid.demand_noise", self.demand_noise, "a number in [0, 1]")


__all__ = ["MicrogridConfig", "SOLAR_PROFILES", "SiteConfig", "UserRegionConfig", "WIND_PROFILES"]
