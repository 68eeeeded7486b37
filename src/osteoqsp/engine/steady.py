"""Steady-state burn-in: pseudo-transient continuation + Newton on d(state)/dt = 0 at a frozen time.

Accumulator states (bookkeeping of eliminated or excreted amounts) are held at zero and left out of the
solve. Derived parameters ("steady" references) are set from the steady state and the solve repeated, so
that states normalised by them (relative bone mass) settle at exactly 1.
"""

from __future__ import annotations

import numpy as np


class SteadyStateError(RuntimeError):
    pass


def newton_steady(rhs, jac, y0: np.ndarray, p: np.ndarray, t: float, free: np.ndarray,
                  tol: float = 1e-11, max_iter: int = 400) -> np.ndarray:
    """Solve rhs(t, y, p) = 0 for y[free]; the other entries of y stay as given."""
    y = y0.astype(float).copy()
    n = y.size
    f = np.empty(n)
    jm = np.empty((n, n))
    idx = np.flatnonzero(free)
    dt = 1e-2

    def resid(yy: np.ndarray) -> np.ndarray:
        rhs(t, yy, p, f)
        return f[idx].copy()

    scale = np.maximum(np.abs(y[idx]), 1e-12)
    r = resid(y)
    for _ in range(max_iter):
        jac(t, y, p, jm)
        a = np.eye(idx.size) / dt - jm[np.ix_(idx, idx)]
        try:
            dx = np.linalg.solve(a, r)
        except np.linalg.LinAlgError:
            dt *= 0.1
            continue
        # keep positive quantities positive (fraction to the boundary)
        step = 1.0
        pos = y[idx] > 0
        neg = pos & (y[idx] + dx < 0)
        if np.any(neg):
            step = min(1.0, 0.9 * float(np.min(y[idx][neg] / -dx[neg])))
        y_new = y.copy()
        y_new[idx] += step * dx
        r_new = resid(y_new)
        if np.all(np.isfinite(r_new)) and np.linalg.norm(r_new / scale) <= np.linalg.norm(r / scale) * 1.5:
            y, r = y_new, r_new
            dt = min(dt * 4.0, 1e12)
        else:
            dt *= 0.25
            if dt < 1e-14:
                break
        scale = np.maximum(np.abs(y[idx]), 1e-12)
        # rounding floor of each residual: fast turnover (large |J_ii|) makes d/dt noisy at machine precision
        floor = 1e3 * np.finfo(float).eps * np.abs(np.diag(jm)[idx])
        if np.all(np.abs(r) / np.maximum(np.abs(y[idx]), 1e-9) < tol + floor):
            return y
    raise SteadyStateError(f"no steady state found (max relative residual {np.max(np.abs(r) / scale):.3g})")
