"""Argument types shared by the ``carbon-cpn`` commands: each parses one value and rejects it
with a message naming the value and what was expected (argparse adds the option's name)."""

from __future__ import annotations

import argparse
from collections.abc import Callable


def int_in(lo: int, hi: int | None, what: str) -> Callable[[str], int]:
    """An argparse type: an integer in ``[lo, hi]`` (no upper limit when ``hi`` is None)."""

    def parse(text: str) -> int:
        try:
            v = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r}: expected an integer, {what}") from None
        if v < lo or (hi is not None and v > hi):
            raise argparse.ArgumentTypeError(f"{text!r}: expected {what}")
        return v

    parse.__name__ = "int"  # argparse names the type in its messages
    return parse


positive_int = int_in(1, None, "an integer >= 1")
day_of_year = int_in(0, 364, "a day in [0, 364]")
n_days = int_in(1, 7, "1 to 7 days")
n_analog_days = int_in(1, 365, "1 to 365 (distinct analog days)")


def positive_float(text: str) -> float:
    """An argparse type: a finite number > 0."""
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected a number > 0") from None
    if not (0.0 < v < float("inf")):
        raise argparse.ArgumentTypeError(f"{text!r}: expected a number > 0")
    return v


def gamma_per_hour(text: str) -> float:
    """An argparse type: a discount per simulated hour in (0, 1]."""
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected a discount per simulated hour in (0, 1]") from None
    if not (0.0 < v <= 1.0):
        raise argparse.ArgumentTypeError(f"{text!r}: expected a discount per simulated hour in (0, 1]")
    return v


def name_list(text: str) -> tuple[str, ...]:
    """An argparse type: comma-separated names (at least one)."""
    names = tuple(m.strip() for m in text.split(",") if m.strip())
    if not names:
        raise argparse.ArgumentTypeError(f"{text!r}: expected comma-separated names")
    return names
