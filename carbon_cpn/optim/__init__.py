"""Solvers of carbon-cpn: the grid model and the economic dispatch. Knows nothing of Gymnasium."""

from carbon_cpn.optim.dispatch import DispatchInputError, DispatchResult, EconomicDispatch
from carbon_cpn.optim.grid import BatteryUnit, GridModel, GridModelError, RenewableUnit

__all__ = [
    "BatteryUnit",
    "DispatchInputError",
    "DispatchResult",
    "EconomicDispatch",
    "GridModel",
    "GridModelError",
    "RenewableUnit",
]
