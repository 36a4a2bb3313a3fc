"""Validation helpers of the scenario configuration: every bad value raises
:class:`ScenarioError` naming the key path, the value and what was expected."""

from __future__ import annotations

import math
from typing import Any


class ScenarioError(ValueError):
    """A scenario key or value that is not allowed."""


def require(cond: bool, key: str, value: Any, expected: str) -> None:
    if not cond:
        raise ScenarioError(f"{key}={value!r}: expected {expected}")


def positive(key: str, v: float) -> None:
    require(isinstance(v, (int, float)) and math.isfinite(v) and v > 0, key, v, "a finite number > 0")


def nonnegative(key: str, v: float) -> None:
    require(isinstance(v, (int, float)) and math.isfinite(v) and v >= 0, key, v, "a finite number >= 0")


def fraction(key: str, v: float) -> None:
    require(isinstance(v, (int, float)) and 0.0 <= v <= 1.0, key, v, "a number in [0, 1]")


__all__ = ["ScenarioError", "fraction", "nonnegative", "positive", "require"]
