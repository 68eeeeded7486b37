"""Method 1: Rodas4, the six-stage L-stable, stiffly accurate Rosenbrock method of Hairer & Wanner (Solving
ODEs II, 1996; the coefficients of their RODAS code, in the transformed-variable form), order 4 with an
embedded order-3 estimate, on the generated Jacobian. The explicit time derivative of the right-hand side
(slow forcing) is a finite difference taken inside the step, so that a switch at the step's start is not
differentiated."""

# ruff: noqa: F821  (this text is appended to a generated module: see kernels/__init__.py)
from collections import namedtuple as _namedtuple

import numpy as _np
from numba import njit as _njit

# The tableau. Stage s (0-5) is evaluated at t + c[s] h and y + sum_j a[s, j] k_j; its increment solves
# (I/(gamma h) - J) k_s = f + sum_j g[s, j] k_j / h + h d[s] df/dt. Stage 5 (a[5] = a[4] plus k_4) is the
# embedded order-3 solution, and y + sum over stages of k, the order-4 one: k_5 is their difference.
_RODAS4_GAMMA = 0.25
_RODAS4_C = _np.array([0.0, 0.386, 0.21, 0.63, 1.0, 1.0])
_RODAS4_D = _np.array([0.25, -0.1043, 0.1035, -0.0362, 0.0, 0.0])
_RODAS4_A = _np.array([
    [0.0, 0.0, 0.0, 0.0, 0.0],
    [1.544, 0.0, 0.0, 0.0, 0.0],
    [0.9466785280815826, 0.2557011698983284, 0.0, 0.0, 0.0],
    [3.314825187068521, 2.896124015972201, 0.9986419139977817, 0.0, 0.0],
    [1.221224509226641, 6.019134481288629, 12.53708332932087, -0.6878860361058950, 0.0],
    [1.221224509226641, 6.019134481288629, 12.53708332932087, -0.6878860361058950, 1.0]])
_RODAS4_G = _np.array([
    [0.0, 0.0, 0.0, 0.0, 0.0],
    [-5.6688, 0.0, 0.0, 0.0, 0.0],
    [-2.430093356833875, -0.2063599157091915, 0.0, 0.0, 0.0],
    [-0.1073529058151375, -9.594562251023355, -20.47028614809616, 0.0, 0.0],
    [7.496443313967647, -10.24680431464352, -33.99990352819905, 11.70890893206160, 0.0],
    [8.083246795921522, -7.981132988064893, -31.52159432874371, 16.31930543123136, -6.058818238834054]])

# Scratch space of one subject: stage increments, stage state, new state, f and df/dt, the Jacobian, the
# iteration matrix and its LU (pivots, and the nonzeros of the factors as found by _lu_pattern).
Rodas4Work = _namedtuple("Rodas4Work", ["k", "ytmp", "ynew", "f", "ft", "jmat", "wmat", "piv", "ptr", "idx"])


@_njit(cache=True, nogil=True, error_model="numpy")
def rodas4_work(n):
    return Rodas4Work(_np.empty((6, n)), _np.empty(n), _np.empty(n), _np.empty(n), _np.empty(n),
                      _np.empty((n, n)), _np.empty((n, n)), _np.empty(n, dtype=_np.int64),
                      _np.empty(2 * n + 1, dtype=_np.int64), _np.empty(n * n, dtype=_np.int64))


@_njit(cache=True, nogil=True, error_model="numpy")
def _rodas4_to(t, t_end, y, p, h, rtol, atol, max_steps, w):
    """Advance y (in place) from t to t_end; returns (h_next, steps, ok)."""
    n = y.shape[0]
    k, ytmp, f, ft, wmat = w.k, w.ytmp, w.f, w.ft, w.wmat
    steps = 0
    while t < t_end:
        if steps >= max_steps:
            return h, steps, False
        h, last = _clip(t, t_end, h)
        jac(t, y, p, w.jmat)
        inv = 1.0 / (_RODAS4_GAMMA * h)
        for i in range(n):
            for j in range(n):
                wmat[i, j] = -w.jmat[i, j]
            wmat[i, i] += inv
        if not _lu(wmat, w.piv):
            return h, steps, False
        _lu_pattern(wmat, w.ptr, w.idx)
        dt = 1e-7 * max(1.0, abs(t), h)
        rhs(t + dt, y, p, ft)
        rhs(t + 2.0 * dt, y, p, f)
        for i in range(n):
            ft[i] = (f[i] - ft[i]) / dt  # d(rhs)/dt inside the step
        for s in range(6):
            for i in range(n):
                acc = y[i]
                for j in range(s):
                    acc += _RODAS4_A[s, j] * k[j, i]
                ytmp[i] = acc
            rhs(t + _RODAS4_C[s] * h, ytmp, p, f)
            for i in range(n):
                acc = 0.0
                for j in range(s):
                    acc += _RODAS4_G[s, j] * k[j, i]
                k[s, i] = f[i] + acc / h + h * _RODAS4_D[s] * ft[i]
            _lu_solve(wmat, w.piv, k[s], w.ptr, w.idx)
        for i in range(n):
            w.ynew[i] = ytmp[i] + k[5, i]
        steps += 1  # k_5: the order-4 solution minus the order-3 one
        accepted, h_next, alive = _control(_norm(k[5], y, w.ynew, rtol, atol), h, t, 0.25)
        if not accepted:
            if not alive:
                return h_next, steps, False
            h = h_next
            continue
        t = t_end if last else t + h
        for i in range(n):
            y[i] = w.ynew[i]
        if last:
            return max(h_next, h), steps, True
        h = h_next
    return h, steps, True
