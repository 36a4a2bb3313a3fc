"""Scenario loading and validation (issue #3, item 1)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from carbon_cpn.envs.config import ScenarioConfig, ScenarioError, available_scenarios, load_scenario


def test_shipped_scenarios_load() -> None:
    names = available_scenarios()
    assert {"ieee30_5dc", "tiny"} <= set(names)
    for name in names:
        cfg = load_scenario(name)
        assert isinstance(cfg, ScenarioConfig) and cfg.name == name
    cfg = load_scenario("ieee30_5dc")
    assert len(cfg.cpn.nodes) == 5 and len(cfg.grid.solar) == 3 and len(cfg.grid.wind) == 2
    assert len(cfg.grid.batteries) == 4
    shares = {t.name: t.share for t in cfg.workload.types}
    assert shares == {"ai_training": 0.35, "ai_inference": 0.25, "big_data": 0.20, "scientific": 0.15,
                      "web_services": 0.05}  # c3o Table 2


def test_overrides_apply_and_validate() -> None:
    cfg = load_scenario("ieee30_5dc", episode__days=3, **{"reward.carbon_price_usd_per_t": 120.0})
    assert cfg.episode.days == 3 and cfg.reward.carbon_price_usd_per_t == 120.0
    cfg = load_scenario("ieee30_5dc", **{"cpn.nodes.0.pue": 1.5})
    assert cfg.cpn.nodes[0].pue == 1.5
    with pytest.raises(ScenarioError, match=r"cpn.nodes.9: expected a list index < 5"):
        load_scenario("ieee30_5dc", **{"cpn.nodes.9.pue": 1.5})
    with pytest.raises(ScenarioError, match=r"dc_b2.pue=5.0: expected a number in \[1, 3\]"):
        load_scenario("ieee30_5dc", **{"cpn.nodes.0.pue": 5.0})
    with pytest.raises(ScenarioError, match=r"grid.n_segments=1.5: expected an integer"):
        load_scenario("ieee30_5dc", grid__n_segments=1.5)


def test_unknown_key_in_file(tmp_path: Path) -> None:
    text = Path(__file__).parents[2].joinpath("carbon_cpn/envs/scenarios/tiny.toml").read_text()
    bad = tmp_path / "bad.toml"
    bad.write_text(text.replace("jobs_per_hour = 6.0", "jobs_per_hour = 6.0\njobs_per_day = 3"))
    with pytest.raises(ScenarioError, match=r"workload.jobs_per_day: unknown key; expected one of"):
        load_scenario(bad)
    bad.write_text(text.replace("share = 0.5", "share = 0.9"))
    with pytest.raises(ScenarioError, match=r"workload.types shares=1.4: expected shares summing to 1"):
        load_scenario(bad)
    bad.write_text(text.replace('capacity_mw = 60.0', 'capacity_mw = -60.0'))
    with pytest.raises(ScenarioError, match=r"pv_a.capacity_mw=-60.0: expected a finite number >= 0"):
        load_scenario(bad)
    bad.write_text("[grid\n")
    with pytest.raises(ScenarioError, match="not valid TOML"):
        load_scenario(bad)


def test_battery_validation_comes_from_the_unit_model() -> None:
    with pytest.raises(ScenarioError, match=r"grid.batteries\[0\]: battery 'bess_6' eta_charge=1.5: expected a value in \(0, 1\]"):
        load_scenario("tiny", **{"grid.batteries.0.eta_charge": 1.5})
    with pytest.raises(ScenarioError, match=r"bess_6.soc_init_frac=0.95: expected soc_min_frac \(0.1\) <= soc_init_frac"):
        load_scenario("tiny", **{"grid.batteries.0.soc_init_frac": 0.95})
    assert load_scenario("tiny").grid.batteries[0].value_usd_per_mwh == 30.0


def test_fast_start_settings_validate() -> None:
    with pytest.raises(ScenarioError, match=r"commitment.fast_start_fuels=\['gas_xx'\]: expected fuel names among"):
        load_scenario("ieee30_5dc", commitment__fast_start_fuels=["gas_xx"])
    with pytest.raises(ScenarioError, match=r"commitment.fast_start_usd_per_mwh=-5.0"):
        load_scenario("ieee30_5dc", commitment__fast_start_usd_per_mwh=-5.0)


def test_line_ratings_reinforce_a_named_line_or_name_the_error() -> None:
    from carbon_cpn.envs.grid_system import build_grid

    cfg = load_scenario("ieee30_5dc")
    assert [(lr.from_bus, lr.to_bus, lr.rating_mw) for lr in cfg.grid.line_ratings] == [(5, 7, 65.0)]
    grid = build_grid(cfg.grid, cfg.commitment)
    plain = build_grid(load_scenario("ieee30_5dc", grid__line_ratings=[]).grid)
    changed = np.flatnonzero(~np.isclose(grid.branch_rating_mw, plain.branch_rating_mw))
    assert changed.size == 1 and grid.branch_rating_mw[changed[0]] == pytest.approx(65.0)
    assert plain.branch_rating_mw[changed[0]] == pytest.approx(32.0, rel=1e-3)
    bad = load_scenario("ieee30_5dc", grid__line_ratings=[{"from_bus": 0, "to_bus": 29, "rating_mw": 50.0}])
    with pytest.raises(ScenarioError, match="from_bus=0, to_bus=29: expected the bus labels of a line of case30"):
        build_grid(bad.grid)
    with pytest.raises(ScenarioError, match=r"rating_mw=-5"):
        load_scenario("ieee30_5dc", grid__line_ratings=[{"from_bus": 5, "to_bus": 7, "rating_mw": -5.0}])


def test_reserve_and_scenario_settings_validate() -> None:
    with pytest.raises(ScenarioError, match="commitment.reserve_rule='n-2'"):
        load_scenario("ieee30_5dc", commitment__reserve_rule="n-2")
    with pytest.raises(ScenarioError, match="commitment.scenarios='random'"):
        load_scenario("ieee30_5dc", commitment__scenarios="random")
    with pytest.raises(ScenarioError, match="commitment.envelope_weight=1.0"):
        load_scenario("ieee30_5dc", commitment__envelope_weight=1.0)
    with pytest.raises(ScenarioError, match="reward.mode='eq13'"):
        load_scenario("ieee30_5dc", reward__mode="eq13")


@pytest.mark.parametrize("key,value,expected", [
    ("workload.jobs_per_hour", float("inf"), "finite"),
    ("workload.jobs_per_hour", float("nan"), "finite"),
    ("workload.jobs_per_hour", 1e9, "at most 10,000"),
    ("workload.types.0.duration_max_h", 1e308, "magnitude"),
    ("cpn.nodes.0.gpu_units", 10**12, "magnitude"),
])
def test_non_finite_and_huge_values_are_refused_by_key(key: str, value: object, expected: str) -> None:
    # Issue #18: inf passed every >= check and huge integers overflowed server counts.
    with pytest.raises(ScenarioError, match=expected) as err:
        load_scenario("tiny", **{key: value})
    assert key.split(".")[-1] in str(err.value)


def test_numpy_scalars_are_numbers() -> None:
    c = load_scenario("tiny", **{"reward.carbon_price_usd_per_t": np.float32(40.0), "episode.days": np.int64(2)})
    assert c.reward.carbon_price_usd_per_t == 40.0 and c.episode.days == 2 and isinstance(c.episode.days, int)


def test_a_scenario_name_never_leaves_the_cache_folder() -> None:
    from carbon_cpn.envs.day_ahead import safe_stem

    assert safe_stem("../../etc/x") == "______etc_x" and safe_stem("ieee30_5dc") == "ieee30_5dc"
