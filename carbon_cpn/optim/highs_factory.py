"""One place that makes HiGHS solver objects, quiet from the start.

From highspy 1.16 the first ``highspy.Highs()`` of a process writes a two-line copyright banner
to the C-level standard output, before ``output_flag`` can be switched off. It would land in
the middle of ``carbon-cpn evaluate --json`` output and of anything else a user pipes, so
:func:`new_highs` makes that first object with file descriptor 1 pointed at ``/dev/null``
(later objects print nothing; HiGHS writes the banner once per process). Where descriptors
cannot be swapped (no descriptor 1, no C library to flush) it makes the object plainly.
"""

from __future__ import annotations

import ctypes
import os
import sys

import highspy

__all__ = ["new_highs"]

_first_made = False


def _flush_c_stdio() -> None:
    try:
        ctypes.CDLL(None).fflush(None)
    except (OSError, AttributeError):  # no process-wide C library handle (e.g. Windows)
        pass


def _make_silently() -> highspy.Highs:
    try:
        sys.stdout.flush()
    except (AttributeError, ValueError):  # stdout replaced or closed
        pass
    _flush_c_stdio()
    try:
        saved = os.dup(1)
    except OSError:
        return highspy.Highs()
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 1)
        h = highspy.Highs()
        _flush_c_stdio()  # out of the C buffer while fd 1 is still /dev/null
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        os.close(devnull)
    return h


def new_highs() -> highspy.Highs:
    """A ``highspy.Highs`` with ``output_flag`` off and no banner on standard output."""
    global _first_made
    if _first_made:
        h = highspy.Highs()
    else:
        h = _make_silently()
        _first_made = True
    h.setOptionValue("output_flag", False)
    return h
