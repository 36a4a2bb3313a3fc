"""Day-ahead forecasts and scenarios from measured errors (carbon_cpn.optim.forecast)."""

from __future__ import annotations

import numpy as np
import pytest

from carbon_cpn.envs.profiles import load_profiles
from carbon_cpn.optim.commitment import CommitmentError
from carbon_cpn.optim.forecast import DAY_AHEAD_NRMSE, day_ahead_forecast, lead_growth, residual_days

COLS = ("solar_a", "wind_a")
KINDS = ("solar", "wind")
CAP = np.array([100.0, 100.0])
BASE = np.array([60.0, 40.0])


def _fc(day: int, n: int = 3, seed: int = 0):
    prof = load_profiles()
    res = np.column_stack([prof.columns[c] for c in COLS])
    return day_ahead_forecast(res, KINDS, prof.columns["load"], CAP, BASE, day, n, seed)


def test_same_seed_same_forecast_and_other_seeds_differ() -> None:
    a, b = _fc(100), _fc(100)
    np.testing.assert_array_equal(a.res_avail_mw, b.res_avail_mw)
    np.testing.assert_array_equal(a.scenarios.load_mw, b.scenarios.load_mw)
    others = [_fc(100, seed=s) for s in (1, 2, 3)]
    assert any(not np.array_equal(a.scenarios.res_avail_mw, c.scenarios.res_avail_mw) for c in others)
    assert a.scenarios.n == 3 and a.scenarios.prob == pytest.approx(np.full(3, 1 / 3))
    assert a.scenarios.res_avail_mw.shape == (3, 24, 2) and a.scenarios.load_mw.shape == (3, 24, 2)


def test_forecast_is_not_the_day_but_near_it_and_physical() -> None:
    prof = load_profiles()
    day = 180
    f = _fc(day)
    actual_wind = prof.columns["wind_a"][24 * day: 24 * day + 24] * 100.0
    assert not np.allclose(f.res_avail_mw[:, 1], actual_wind)
    assert np.all((f.scenarios.res_avail_mw >= 0) & (f.scenarios.res_avail_mw <= 100.0))
    # No sun at night in the forecast or any scenario: solar errors are measured deviations.
    night = prof.columns["solar_a"][24 * day: 24 * day + 24] == 0
    assert night.any() and np.all(f.res_avail_mw[night, 0] == 0) and np.all(f.scenarios.res_avail_mw[:, night, 0] == 0)


def test_error_magnitude_matches_the_documented_accuracy_and_grows_with_lead() -> None:
    """Over the year, the wind forecast's RMS error at the hour with a 24-hour lead is the
    documented day-ahead accuracy (within sampling noise), and later hours err more."""
    prof = load_profiles()
    wind = prof.columns["wind_a"].reshape(365, 24)
    err = np.stack([(_fc(d, n=1).res_avail_mw[:, 1] / 100.0 - wind[d]) for d in range(0, 365, 2)])
    rms = np.sqrt((err**2).mean(axis=0))  # [hour]
    hour_24h = 11  # lead 12 + 11 + 1 = 24 h
    assert lead_growth(np.array([hour_24h]))[0] == pytest.approx(1.0)
    assert rms[hour_24h] == pytest.approx(DAY_AHEAD_NRMSE["wind"], rel=0.35)
    assert rms[18:].mean() > rms[:6].mean()


def test_residuals_are_deviations_from_the_neighbouring_days() -> None:
    x = np.tile(np.arange(24, dtype=float), 365)  # the same day every day
    assert np.allclose(residual_days(x), 0.0)


def test_bad_inputs_name_the_parameter() -> None:
    prof = load_profiles()
    res = np.column_stack([prof.columns[c] for c in COLS])
    with pytest.raises(CommitmentError, match="res_kinds"):
        day_ahead_forecast(res, ("solar", "hydro"), prof.columns["load"], CAP, BASE, 10, 3, 0)
    with pytest.raises(CommitmentError, match="day=400"):
        day_ahead_forecast(res, KINDS, prof.columns["load"], CAP, BASE, 400, 3, 0)
    with pytest.raises(CommitmentError, match="n=0"):
        day_ahead_forecast(res, KINDS, prof.columns["load"], CAP, BASE, 10, 0, 0)
