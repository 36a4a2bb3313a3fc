"""Make ``profiles_hourly.csv``: one year of hourly per-unit solar, wind and load shapes.

Run offline in a throwaway environment (these packages are not dependencies of carbon-cpn)::

    python3 -m venv /tmp/datavenv
    /tmp/datavenv/bin/pip install pvlib==0.16.1 windpowerlib==0.2.2 demandlib==0.2.2 pandas
    /tmp/datavenv/bin/python carbon_cpn/envs/data/make_profiles.py

Every input is measured data shipped inside those packages; see README.md beside this file.
The script is deterministic.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pvlib
from demandlib import bdew
from windpowerlib import data as wind_data

OUT = Path(__file__).with_name("profiles_hourly.csv")
PVLIB_DATA = Path(pvlib.__file__).parent / "data"
HOURS = 8760

# The three typical-meteorological-year files pvlib ships (NSRDB TMY3 and TMY2).
SITES = {
    "greensboro": ("tmy3", "723170TYA.CSV"),  # Greensboro Piedmont Triad Intl, NC (TMY3)
    "miami": ("tmy2", "12839.tm2"),  # Miami Intl, FL (TMY2)
    "sand_point": ("tmy3", "703165TY.csv"),  # Sand Point, AK (TMY3)
}


def read_site(name: str) -> tuple[pd.DataFrame, dict]:
    """Hourly ghi, dni, dhi [W/m2], temp_air [C], wind_speed [m/s at 10 m] in file order."""
    kind, fname = SITES[name]
    if kind == "tmy3":
        df, meta = pvlib.iotools.read_tmy3(PVLIB_DATA / fname, map_variables=True)
    else:
        df, meta = pvlib.iotools.read_tmy2(PVLIB_DATA / fname)
        df = df.rename(columns={"GHI": "ghi", "DNI": "dni", "DHI": "dhi", "DryBulb": "temp_air", "Wspd": "wind_speed"})
        # TMY2 stores dry-bulb temperature and wind speed in tenths (NREL TMY2 user manual).
        df["temp_air"] = df["temp_air"] / 10.0
        df["wind_speed"] = df["wind_speed"] / 10.0
    assert len(df) == HOURS, (name, len(df))
    # TMY rows are hour-ending and mix source years per month; place them on one calendar year
    # (2019, not a leap year), at the middle of each hour for the sun's position.
    tz = f"Etc/GMT{int(-meta['TZ']):+d}" if meta["TZ"] else "UTC"
    idx = pd.date_range("2019-01-01 00:30", periods=HOURS, freq="h", tz=tz)
    out = pd.DataFrame({c: df[c].to_numpy(dtype=float) for c in ("ghi", "dni", "dhi", "temp_air", "wind_speed")}, index=idx)
    meta = {"latitude": float(meta["latitude"]), "longitude": float(meta["longitude"]), "altitude": float(meta.get("altitude", 0.0))}
    return out, meta


def pv_per_unit(df: pd.DataFrame, meta: dict) -> np.ndarray:
    """AC output per unit of inverter rating: fixed tilt = latitude, facing south, PVWatts."""
    loc = pvlib.location.Location(meta["latitude"], meta["longitude"], altitude=meta["altitude"])
    sp = loc.get_solarposition(df.index, temperature=df["temp_air"])
    poa = pvlib.irradiance.get_total_irradiance(
        surface_tilt=meta["latitude"], surface_azimuth=180.0, solar_zenith=sp["apparent_zenith"],
        solar_azimuth=sp["azimuth"], dni=df["dni"], ghi=df["ghi"], dhi=df["dhi"],
        dni_extra=pvlib.irradiance.get_extra_radiation(df.index), model="haydavies",
    )
    params = pvlib.temperature.TEMPERATURE_MODEL_PARAMETERS["sapm"]["open_rack_glass_glass"]
    t_cell = pvlib.temperature.sapm_cell(poa["poa_global"], df["temp_air"], df["wind_speed"], **params)
    dc_ratio = 1.2  # DC/AC ratio of a typical utility plant: the inverter clips at noon peaks
    pdc = pvlib.pvsystem.pvwatts_dc(poa["poa_global"].fillna(0.0), t_cell, pdc0=dc_ratio, gamma_pdc=-0.0035)
    pdc = pdc * (1.0 - 0.14)  # PVWatts default system losses (soiling, wiring, mismatch, ...)
    ac = pvlib.inverter.pvwatts(pdc, pdc0=1.0 / 0.96, eta_inv_nom=0.96)
    return np.clip(ac.fillna(0.0).to_numpy(), 0.0, 1.0)


def turbine_curve(turbine: str) -> tuple[np.ndarray, np.ndarray, float]:
    """Power curve [m/s] -> [kW] of ``turbine`` from the OpenEnergy turbine library copy that
    windpowerlib ships (manufacturer data)."""
    path = Path(wind_data.__file__).parent / "data" / "default_turbine_data" / "power_curves.csv"
    pc = pd.read_csv(path)
    row = pc[pc["turbine_type"] == turbine]
    if row.empty:
        raise KeyError(turbine)
    row = row.drop(columns=[c for c in pc.columns if not c.replace(".", "", 1).isdigit()]).iloc[0].dropna()
    speeds = np.array([float(s) for s in row.index])
    power = row.to_numpy(dtype=float)
    order = np.argsort(speeds)
    return speeds[order], power[order], float(power.max())


def wind_per_unit(df: pd.DataFrame, hub_m: float, alpha: float, turbine: str) -> np.ndarray:
    """Farm output per unit of rating from measured 10 m wind speed.

    Power-law shear v_hub = v_10 (hub/10)^alpha; the turbine's power curve; a farm made of
    turbines spread over some kilometres responds to the 3-hour mean speed rather than to one
    anemometer, so the speed is smoothed over 3 hours (centred); 10 % wake and electrical losses.
    """
    v10 = df["wind_speed"].to_numpy()
    v_hub = v10 * (hub_m / 10.0) ** alpha
    v_farm = pd.Series(v_hub).rolling(3, center=True, min_periods=1).mean().to_numpy()
    speeds, power, rated = turbine_curve(turbine)
    p = np.interp(v_farm, speeds, power, left=0.0, right=0.0) / rated
    return np.clip(0.9 * p, 0.0, 1.0)


def load_shape(temp_air_c: np.ndarray) -> np.ndarray:
    """System load shape, peak 1.0.

    Base: BDEW standard load profiles (derived by the German utility association from
    measured customer classes): households with the BDEW dynamization ("h0_dyn") 40 %,
    commerce ("g0") 40 %, agriculture ("l0") 20 %. Standard profiles repeat by season and
    day type, so a weather term makes days differ as real days do: +1.5 % per cooling degree
    and +0.8 % per heating degree of the daily mean of measured air temperature (base 18 C,
    Greensboro TMY3), typical sensitivities of a US utility's load.
    """
    slp = bdew.ElecSlp(2019, holidays=None)
    prof = slp.get_scaled_power_profiles({"h0_dyn": 0.4 * 1e6, "g0": 0.4 * 1e6, "l0": 0.2 * 1e6})
    hourly = prof.sum(axis=1).resample("h").mean().to_numpy()[:HOURS]
    daily_t = temp_air_c.reshape(365, 24).mean(axis=1)
    cdd = np.maximum(daily_t - 18.0, 0.0)
    hdd = np.maximum(18.0 - daily_t, 0.0)
    factor = np.repeat(1.0 + 0.015 * cdd + 0.008 * hdd, 24)
    shaped = hourly * factor
    return shaped / shaped.max()


def main() -> None:
    data = {name: read_site(name) for name in SITES}
    cols: dict[str, np.ndarray] = {}
    cols["solar_a"] = pv_per_unit(*data["greensboro"])
    cols["solar_b"] = pv_per_unit(*data["miami"])
    cols["solar_c"] = pv_per_unit(*data["sand_point"])
    cols["wind_a"] = wind_per_unit(data["sand_point"][0], hub_m=100.0, alpha=1 / 7, turbine="E-82/2300")
    cols["wind_b"] = wind_per_unit(data["greensboro"][0], hub_m=120.0, alpha=0.25, turbine="E-126/4200")
    cols["load"] = load_shape(data["greensboro"][0]["temp_air"].to_numpy())
    frame = pd.DataFrame({"hour": np.arange(HOURS), **{k: np.round(v, 4) for k, v in cols.items()}})
    frame.to_csv(OUT, index=False, float_format="%.4f")
    print(f"wrote {OUT} ({os.path.getsize(OUT) / 1024:.0f} KiB)")
    print("| column | mean (capacity factor) | max | distinct days |")
    print("|---|---:|---:|---:|")
    for k, v in cols.items():
        days = len({tuple(np.round(v[d * 24:(d + 1) * 24], 4)) for d in range(365)})
        print(f"| {k} | {v.mean():.3f} | {v.max():.3f} | {days} |")


if __name__ == "__main__":
    main()
