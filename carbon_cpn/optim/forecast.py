"""Day-ahead forecasts of one day and the scenarios of the unit commitment around them.

A system operator commits units at noon of the day before, on a forecast of the next day's
load and renewables, and the real day then differs from that forecast. This module makes both
from the measured year (``carbon_cpn/envs/data/profiles_hourly.csv``):

* **Measured errors.** For every series (each farm's per-unit availability, the per-unit load)
  the residual of a day is its deviation, hour by hour, from the mean of the same hour on the
  three days before and after it: ``r[d, h] = x[d, h] - mean_{0 < |k| <= 3} x[d + k, h]``.
  Residual days carry the measured shape of an error (zero at night for solar, persistent
  over hours for wind, correlated between farms of the same weather) without a model of it.
* **Magnitude and lead time.** A residual is scaled so that its root-mean-square, at a lead time
  of 24 hours, equals a typical day-ahead accuracy of the technology
  (:data:`DAY_AHEAD_NRMSE`, as a share of capacity for renewables and of peak load for load),
  and grows with the lead time ``L`` as ``(1 - exp(-L / tau)) / (1 - exp(-24 / tau))``
  (``tau`` = 12 h): forecasts are issued at noon of the day before, so hour ``h`` of the day
  has a lead of ``12 + h + 1`` hours.
* **Forecast and scenarios.** The forecast of day ``d`` is the measured day plus one drawn error
  trajectory; each of the ``n`` scenarios is the forecast plus another, independent error
  trajectory (equal probabilities). The real day then is, like any scenario, the forecast plus
  an error drawn from the same model. Every draw takes one residual day (within
  ``+-window_days``, the same season) for all series at once, so farms that see the same
  weather err together. Availability is clipped to [0, 1] per unit, load to >= 0.

All draws come from ``numpy.random.default_rng([seed, day])``: the same seed and day give the
same forecast and scenarios, and no other day's plan changes when one day is re-solved.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

from carbon_cpn.optim.uc_system import CommitmentError, DayScenarios, check_year_profiles

#: Root-mean-square day-ahead forecast error at a 24-hour lead, by series kind: per unit of
#: capacity for solar and wind, of peak for load. Representative published accuracies of
#: operational day-ahead forecasts: wind about 10-15 % of capacity, solar about 5-10 % of
#: capacity (daylight hours), system load about 2-4 % (mean absolute percentage errors of
#: 1.5-3 %).
DAY_AHEAD_NRMSE: dict[str, float] = {"solar": 0.08, "wind": 0.12, "load": 0.03}
#: Time constant of the error growth with lead time [h].
ERROR_GROWTH_TAU_H = 12.0
#: Hours between the forecast's issue (noon of the day before) and the start of the day.
ISSUE_LEAD_H = 12.0
#: Half-width of the neighbourhood whose hourly mean a residual is measured against [days].
RESIDUAL_HALF_WIDTH_DAYS = 3


@dataclass(frozen=True)
class DayForecast:
    """The day-ahead forecast of one day (hourly) and the scenarios drawn around it."""

    day: int
    res_avail_mw: np.ndarray  # [t, res] forecast availability
    base_load_mw: np.ndarray  # [t, bus] forecast base load (without the CPN)
    scenarios: DayScenarios


def lead_growth(period_h: np.ndarray) -> np.ndarray:
    """Error multiplier of the hours ``period_h`` of the day (1.0 at a 24-hour lead)."""
    lead = ISSUE_LEAD_H + np.asarray(period_h, dtype=float) + 1.0
    return (1.0 - np.exp(-lead / ERROR_GROWTH_TAU_H)) / (1.0 - math.exp(-24.0 / ERROR_GROWTH_TAU_H))


def residual_days(series_pu: np.ndarray) -> np.ndarray:
    """Measured residuals ``[day, hour]`` of an 8760-hour series (module docstring)."""
    x = np.asarray(series_pu, dtype=float).reshape(365, 24)
    k = RESIDUAL_HALF_WIDTH_DAYS
    neigh = sum(np.roll(x, s, axis=0) for s in range(-k, k + 1) if s != 0) / (2 * k)
    return x - neigh


@functools.lru_cache(maxsize=32)
def _scaled_residuals(series_bytes: bytes, kind: str) -> np.ndarray:
    series = np.frombuffer(series_bytes, dtype=float)
    r = residual_days(series)
    active = np.abs(series.reshape(365, 24)) > 1e-6  # daylight hours for solar
    rms = float(np.sqrt(np.mean(r[active] ** 2))) if active.any() else 0.0
    scale = DAY_AHEAD_NRMSE[kind] / rms if rms > 0 else 0.0
    out = r * scale
    out.flags.writeable = False
    return out


def day_ahead_forecast(
    res_profiles_pu: np.ndarray,
    res_kinds: tuple[str, ...],
    load_profile_pu: np.ndarray,
    res_capacity_mw: np.ndarray,
    base_load_mw: np.ndarray,
    day: int,
    n: int,
    seed: int,
    *,
    window_days: int = 30,
    extra_load_mw: np.ndarray | None = None,
) -> DayForecast:
    """The forecast of ``day`` and ``n`` scenarios around it (module docstring), hourly.

    ``res_profiles_pu`` is ``[hour, res]`` over the year with ``res_kinds`` "solar" or "wind" per
    column; ``load_profile_pu`` ``[hour]``; ``extra_load_mw`` ``[t, bus]`` (the CPN's expected
    load) is added to every scenario's load, not to the forecast base load.
    """
    res_profiles_pu, load_profile_pu = check_year_profiles(res_profiles_pu, load_profile_pu, day)
    if len(res_kinds) != res_profiles_pu.shape[1] or any(k not in ("solar", "wind") for k in res_kinds):
        raise CommitmentError(f"res_kinds={res_kinds!r}: expected 'solar' or 'wind' for each of the "
                              f"{res_profiles_pu.shape[1]} renewable columns")
    if not (isinstance(n, (int, np.integer)) and 1 <= n <= 2 * window_days):
        raise CommitmentError(f"n={n!r}: expected 1 to {2 * window_days} scenarios")
    if not (isinstance(seed, (int, np.integer)) and seed >= 0):
        raise CommitmentError(f"seed={seed!r}: expected an integer >= 0")
    rng = np.random.default_rng([int(seed), int(day)])
    hours = np.arange(24)
    growth = lead_growth(hours)  # [t]
    res_err = [_scaled_residuals(np.ascontiguousarray(res_profiles_pu[:, j]).tobytes(), res_kinds[j])
               for j in range(res_profiles_pu.shape[1])]
    load_err = _scaled_residuals(np.ascontiguousarray(load_profile_pu).tobytes(), "load")
    offsets = np.concatenate([np.arange(-window_days, 0), np.arange(1, window_days + 1)])
    # One residual day for the forecast, then n distinct others for the scenarios.
    picks = (day + rng.choice(offsets, size=n + 1, replace=False)) % 365
    sl = slice(24 * day, 24 * day + 24)
    actual_res = res_profiles_pu[sl]  # [t, res]
    actual_load = load_profile_pu[sl]  # [t]
    cap = np.asarray(res_capacity_mw, dtype=float)

    def perturb(res_pu: np.ndarray, load_pu: np.ndarray, d: int) -> tuple[np.ndarray, np.ndarray]:
        e_res = np.column_stack([e[d] for e in res_err]) if res_err else np.zeros((24, 0))
        r = np.clip(res_pu + growth[:, None] * e_res, 0.0, 1.0)
        ld = np.maximum(load_pu + growth * load_err[d], 0.0)
        return r, ld

    f_res, f_load = perturb(actual_res, actual_load, int(picks[0]))
    base = np.asarray(base_load_mw, dtype=float)
    extra = np.zeros((24, base.size)) if extra_load_mw is None else np.asarray(extra_load_mw, dtype=float)
    res_s, load_s = [], []
    for d in picks[1:]:
        r, ld = perturb(f_res, f_load, int(d))
        res_s.append(r * cap[None, :])
        load_s.append(ld[:, None] * base[None, :] + extra)
    sc = DayScenarios(np.stack(res_s), np.stack(load_s), np.full(n, 1.0 / n), picks[1:].astype(np.int64))
    return DayForecast(day=int(day), res_avail_mw=f_res * cap[None, :], base_load_mw=f_load[:, None] * base[None, :],
                       scenarios=sc)
