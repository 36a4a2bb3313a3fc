"""Marginal carbon intensity (MCI) of a solved dispatch: d(emissions)/d(load) at every node.

See the module docstring of :mod:`carbon_cpn.optim.dispatch` for what the numbers mean (under
congestion they can be negative or above every unit's factor)."""

from __future__ import annotations

import highspy
import numpy as np
import scipy.sparse as sp

__all__ = ["mci_from_basis", "mci_from_kkt"]


def mci_from_basis(h: highspy.Highs, emission: np.ndarray, n_node: int) -> np.ndarray:
    """MCI of an LP from its optimal basis B: the basic variables move as dx_B = B^-1 e_i per
    unit of load at node i, so one solve B^T y = e_B (the basic columns' emission factors)
    gives y_i for every node at once. The balance rows must be the first ``n_node`` rows."""
    _, basic = h.getBasicVariables()
    basic = np.asarray(basic)
    e_b = np.where(basic >= 0, emission[np.maximum(basic, 0)], 0.0)
    _, y = h.getBasisTransposeSolve(e_b)
    return np.asarray(y)[:n_node]


def mci_from_kkt(h: highspy.Highs, a: sp.csc_matrix, x: np.ndarray, hessian_diag: np.ndarray,
                 emission: np.ndarray, fixed_col: int, n_node: int) -> np.ndarray:
    """MCI of a QP from its KKT system at the optimal active set.

    Columns strictly between their bounds are free (``fixed_col``, the reference angle, never
    is), rows at a bound (and every balance row, the first ``n_node``) are active; the
    sensitivity dx of the free columns to the active rows' right-hand sides solves
    [[Q_FF, A_F^T], [A_F, 0]] [dx; -dlam] = [0; drhs]. By symmetry one solve with right-hand
    side [e_F; 0] gives d(emissions)/d(rhs) for every active row.
    """
    tol = 1e-7
    lp = h.getLp()
    lo = np.asarray(lp.col_lower_)
    hi = np.asarray(lp.col_upper_)
    free = np.flatnonzero((x > lo + tol) & (x < hi - tol))
    free = free[free != fixed_col]
    rows_val = a @ x
    rlo = np.asarray(lp.row_lower_)
    rhi = np.asarray(lp.row_upper_)
    active = np.flatnonzero((np.arange(a.shape[0]) < n_node) | (rows_val <= rlo + tol) | (rows_val >= rhi - tol))
    a_f = a[active][:, free].toarray()
    nf, na = free.size, active.size
    kkt = np.zeros((nf + na, nf + na))
    kkt[:nf, :nf] = np.diag(hessian_diag[free])
    kkt[:nf, nf:] = a_f.T
    kkt[nf:, :nf] = a_f
    rhs = np.concatenate([emission[free], np.zeros(na)])
    sol = np.linalg.lstsq(kkt, rhs, rcond=None)[0]
    out = np.zeros(n_node)
    bal = active < n_node
    out[active[bal]] = sol[nf:][bal]
    return out
