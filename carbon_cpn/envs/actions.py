"""One rule for what ``step()`` accepts as a ``Discrete`` action (issue #18).

Accepted: a Python or NumPy integer, or a NumPy integer array of one element (what
``model.predict`` returns for one observation), within ``[0, n_actions)``. Refused with a
``ValueError`` naming the value and what was expected: booleans, floats (even whole ones),
strings, bytes, None, arrays of any other size or dtype, and integers out of range. Nothing is
converted silently: 2.7, "4", b"1" and True are not actions.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def coerce_action(action: Any, n_actions: int) -> int:
    """``action`` as a Python int in ``[0, n_actions)`` (module docstring), else ValueError."""
    value: Any = action
    if isinstance(value, np.ndarray) and value.size == 1 and np.issubdtype(value.dtype, np.integer):
        value = value.reshape(-1)[0]
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"action={action!r}: expected an integer in [0, {n_actions - 1}] (a Python or NumPy "
                         f"integer, or a one-element integer array)")
    a = int(value)
    if not 0 <= a < n_actions:
        raise ValueError(f"action={action!r}: expected an integer in [0, {n_actions - 1}]")
    return a


__all__ = ["coerce_action"]
