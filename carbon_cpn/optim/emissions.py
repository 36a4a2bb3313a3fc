"""CO2 emission factors of thermal units, with their source.

Factors are direct (stack) CO2 per MWh of electricity, computed as

    factor [kg/MWh] = fuel CO2 factor [kg/MMBtu] x heat rate [MMBtu/MWh]

Fuel CO2 factors: U.S. EPA, *Emission Factors for Greenhouse Gas Inventories* (2024), Table 1
(stationary combustion): bituminous coal 93.28, natural gas 53.06, distillate fuel oil No. 2
73.96 kg CO2/MMBtu.

Heat rates: U.S. EIA, *Electric Power Annual 2023*, Table 8.1 (average operating heat rate by
prime mover and energy source): coal steam turbine about 10.0, natural-gas combined cycle about
7.6, natural-gas combustion turbine about 11.1, petroleum combustion turbine about 13.2
MMBtu/MWh (rounded).

The resulting factors (rounded to 5 kg/MWh):

| fuel             | kg CO2/MWh |
|------------------|-----------:|
| coal             | 935        |
| gas_cc           | 405        |
| gas_ct           | 590        |
| oil              | 975        |

These are representative U.S. fleet averages, not values of any particular plant.
"""

from __future__ import annotations

from types import MappingProxyType

#: kg CO2 per MWh of electricity by fuel / technology (see module docstring for the source).
EMISSION_FACTOR_KG_PER_MWH: MappingProxyType[str, float] = MappingProxyType(
    {
        "coal": 935.0,
        "gas_cc": 405.0,
        "gas_ct": 590.0,
        "oil": 975.0,
        "solar": 0.0,
        "wind": 0.0,
    }
)

#: Default fuels of pandapower's ``case30`` units, in the order ``GridModel.from_pandapower``
#: lists units (ext_grid first, then ``net.gen`` in index order). ``case30`` (MATPOWER's
#: version of the IEEE 30-bus system) has linear cost coefficients 2.0 $/MWh (bus 1, the
#: ext_grid), 1.75 (bus 2), 1.0 (bus 22), 3.25 (bus 27), 3.0 (bus 23) and 3.0 (bus 13).
#: The two cheapest burn coal, the middle one gas in a combustion turbine, the three dearest
#: gas in combined cycle. The cheaper units
#: get the dirtier fuels on purpose: merit order then runs against carbon order, so the
#: marginal unit's intensity - and the marginal carbon intensity the agent sees - changes
#: with load and congestion instead of staying flat.
CASE30_DEFAULT_FUELS: tuple[str, ...] = ("gas_ct", "coal", "coal", "gas_cc", "gas_cc", "gas_cc")
