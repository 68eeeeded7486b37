"""Burn-in in compiled code: the steady state at a frozen time by pseudo-transient continuation and Newton
on the free states (accumulators held at zero), the derived "steady" parameters set from it and the solve
repeated so that states normalised by them settle at exactly 1; then the history up to t = 0 by Rodas4 and
the derived "start" parameters."""

# ruff: noqa: F821  (this text is appended to a generated module: see kernels/__init__.py)
import math as _math

import numpy as _np
from numba import njit as _njit
from numba import prange as _prange


_REF_ITERATIONS = 40


_DT_COLD = 1e-2  # the first pseudo-time step from a far start
_DT_WARM = 1e3  # from a start near the steady state (a Newton step, undamped in effect; it backs off if it fails)


@_njit(cache=True, nogil=True, error_model="numpy")
def _newton_steady(y, p, t, free, tol, max_iter, dt0):
    """Solve rhs(t, y, p) = 0 for the free entries of y, in place, starting with pseudo-time step dt0; True
    when converged."""
    n = y.shape[0]
    idx = _np.flatnonzero(free)
    m = idx.shape[0]
    f = _np.empty(n)
    jm = _np.empty((n, n))
    a = _np.empty((m, m))
    piv = _np.empty(m, dtype=_np.int64)
    lu_ptr = _np.empty(2 * m + 1, dtype=_np.int64)
    lu_idx = _np.empty(m * m, dtype=_np.int64)
    dx = _np.empty(m)
    r = _np.empty(m)
    r_new = _np.empty(m)
    y_new = y.copy()
    eps = 2.220446049250313e-16
    dt = dt0
    rhs(t, y, p, f)
    for i in range(m):
        r[i] = f[idx[i]]
    done = True
    for i in range(m):  # already steady (a warm start, or references that did not move): no Jacobian needed
        if not abs(r[i]) / max(abs(y[idx[i]]), 1e-9) < tol:
            done = False
            break
    if done:
        return True
    for _ in range(max_iter):
        jac(t, y, p, jm)
        for i in range(m):
            for j in range(m):
                a[i, j] = -jm[idx[i], idx[j]]
            a[i, i] += 1.0 / dt
        if not _lu(a, piv):
            dt *= 0.1
            continue
        _lu_pattern(a, lu_ptr, lu_idx)
        for i in range(m):
            dx[i] = r[i]
        _lu_solve(a, piv, dx, lu_ptr, lu_idx)
        step = 1.0
        for i in range(m):  # keep positive quantities positive (fraction to the boundary)
            yi = y[idx[i]]
            if yi > 0 and yi + dx[i] < 0:
                step = min(step, 0.9 * yi / -dx[i])
        for i in range(n):
            y_new[i] = y[i]
        for i in range(m):
            y_new[idx[i]] += step * dx[i]
        rhs(t, y_new, p, f)
        ok = True
        old = 0.0
        new = 0.0
        for i in range(m):
            r_new[i] = f[idx[i]]
            if not _math.isfinite(r_new[i]):
                ok = False
            sc = max(abs(y[idx[i]]), 1e-12)
            old += (r[i] / sc) ** 2
            new += (r_new[i] / sc) ** 2
        if ok and _math.sqrt(new) <= _math.sqrt(old) * 1.5:
            for i in range(n):
                y[i] = y_new[i]
            for i in range(m):
                r[i] = r_new[i]
            dt = min(dt * 4.0, 1e12)
        else:
            dt *= 0.25
            if dt < 1e-14:
                return False
        done = True
        for i in range(m):  # rounding floor of each residual: fast turnover makes d/dt noisy at machine precision
            floor = 1e3 * eps * abs(jm[idx[i], idx[i]])
            if not abs(r[i]) / max(abs(y[idx[i]]), 1e-9) < tol + floor:
                done = False
                break
        if done:
            return True
    return False


@_njit(cache=True, nogil=True, error_model="numpy")
def _set_refs(t, y, p, n_base, ref_kind, kind):
    """Set the references of `kind` from state y; returns the largest relative change of one of them."""
    out = _np.empty(ref_kind.shape[0])
    references(t, y, p, out)
    moved = 0.0
    for j in range(ref_kind.shape[0]):
        if ref_kind[j] == kind:
            old = p[n_base + j]
            moved = max(moved, abs(out[j] - old) / max(abs(out[j]), 1e-300))
            p[n_base + j] = out[j]
    return moved


@_njit(cache=True, nogil=True, error_model="numpy")
def _steady_with_refs(y, p, t_ref, free, n_base, ref_kind, dt0):
    """The steady state (y, in place) and the references it defines (kind 0 'steady', in p), solved in turn
    until the references stand still (a reference may feed back into the rates that define the steady state);
    the first solve starts with pseudo-time step dt0, the later ones warm. True when found."""
    for _ in range(_REF_ITERATIONS):
        if not _newton_steady(y, p, t_ref, free, 1e-11, 400, dt0):
            return False
        dt0 = _DT_WARM
        if _set_refs(t_ref, y, p, n_base, ref_kind, 0) < 1e-13:
            return True  # the references stood still: y is the steady state under them
    return _newton_steady(y, p, t_ref, free, 1e-11, 400, _DT_WARM)


@_njit(cache=True, nogil=True, error_model="numpy")
def baseline_one(y_init, p, t_ref, free, n_base, ref_kind, rtol, atol, max_steps, warm):
    """Steady state at frozen time t_ref (<= 0), references (kind 0 'steady') set from it, then the history
    from t_ref to 0 by Rodas4 and the references of kind 1 ('start'). Returns (y0, status): 0 ok, 1 no steady
    state, 2 history failed. p is updated in place. `warm`: y_init is near the steady state (another
    subject's), so the solve starts with long pseudo-time steps."""
    y = y_init.copy()
    if not _steady_with_refs(y, p, t_ref, free, n_base, ref_kind, _DT_WARM if warm else _DT_COLD):
        return y, 1
    for i in range(y.shape[0]):
        if abs(y[i]) < 1e-100:
            y[i] = 0.0  # remnants of the solve where the true steady state is zero
    if t_ref < 0:
        out = _np.empty((1, y.shape[0]))
        status, _ = solve_one(y, p, t_ref, _np.zeros(1), _np.empty(0, dtype=EVENT), 0, rtol, atol, RODAS4,
                              max_steps, max_steps, out)
        if status >= 2:
            return y, 2
        for i in range(y.shape[0]):
            y[i] = out[0, i]
    for i in range(y.shape[0]):
        if not free[i]:
            y[i] = 0.0
    _set_refs(0.0, y, p, n_base, ref_kind, 1)
    return y, 0


@_njit(cache=True, nogil=True, error_model="numpy")
def steady_start(y_init, p, t_ref, free, n_base, ref_kind):
    """The steady state of one parameter set at frozen time t_ref, with its steady references set in p (in
    place): a warm start for many subjects near it. Returns (y, ok)."""
    y = y_init.copy()
    return y, _steady_with_refs(y, p, t_ref, free, n_base, ref_kind, _DT_COLD)


@_njit(cache=True, parallel=True, error_model="numpy")
def baseline_batch(y_init, p, t_ref, free, n_base, ref_kind, rtol, atol, max_steps, y_warm, p_warm, warm):
    """baseline_one for many subjects (threads over subjects): p (S, P) and t_ref (S,) -> y0 (S, n), p, status.
    With `warm`, every subject starts from y_warm and the steady references of p_warm (steady_start of a
    typical subject: the same start whatever the chunk, so results do not depend on chunking); a subject too
    far from it starts again from y_init."""
    n_sub = p.shape[0]
    y0 = _np.empty((n_sub, y_init.shape[0]))
    p_out = p.copy()
    status = _np.zeros(n_sub, dtype=_np.int64)
    for s in _prange(n_sub):
        st = 1
        if warm:
            for j in range(ref_kind.shape[0]):
                if ref_kind[j] == 0:
                    p_out[s, n_base + j] = p_warm[n_base + j]
            y, st = baseline_one(y_warm, p_out[s], t_ref[s], free, n_base, ref_kind, rtol, atol, max_steps, True)
        if st == 1:
            for j in range(p.shape[1]):
                p_out[s, j] = p[s, j]
            y, st = baseline_one(y_init, p_out[s], t_ref[s], free, n_base, ref_kind, rtol, atol, max_steps,
                                    False)
        y0[s] = y
        status[s] = st
    return y0, p_out, status
