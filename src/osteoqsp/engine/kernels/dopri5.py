"""Method 0: adaptive Dormand-Prince 5(4), explicit, first-same-as-last (Hairer, Norsett & Wanner, Solving
ODEs I, table 5.2). A stretch that needs too many steps (a stiff one) is handed to Rodas4 by the driver."""

# ruff: noqa: F821  (this text is appended to a generated module: see kernels/__init__.py)
from collections import namedtuple as _namedtuple

import numpy as _np
from numba import njit as _njit

# The tableau: nodes c, stage weights a (row s: the weights of stages 0..s-1), solution weights b, and e,
# the difference between the order-5 and the embedded order-4 weights (over the 7 stages, FSAL included).
_DP5_C = (0.0, 0.2, 0.3, 0.8, 8.0 / 9.0, 1.0, 1.0)
_DP5_A = ((),
          (1.0 / 5.0,),
          (3.0 / 40.0, 9.0 / 40.0),
          (44.0 / 45.0, -56.0 / 15.0, 32.0 / 9.0),
          (19372.0 / 6561.0, -25360.0 / 2187.0, 64448.0 / 6561.0, -212.0 / 729.0),
          (9017.0 / 3168.0, -355.0 / 33.0, 46732.0 / 5247.0, 49.0 / 176.0, -5103.0 / 18656.0))
_DP5_B = (35.0 / 384.0, 0.0, 500.0 / 1113.0, 125.0 / 192.0, -2187.0 / 6784.0, 11.0 / 84.0)
_DP5_E = (71.0 / 57600.0, 0.0, -71.0 / 16695.0, 71.0 / 1920.0, -17253.0 / 339200.0, 22.0 / 525.0, -1.0 / 40.0)

# Scratch space of one subject: the seven stage derivatives, the stage state, the new state, the error.
Dopri5Work = _namedtuple("Dopri5Work", ["k", "ytmp", "ynew", "err"])


@_njit(cache=True, nogil=True, error_model="numpy")
def dopri5_work(n):
    return Dopri5Work(_np.empty((7, n)), _np.empty(n), _np.empty(n), _np.empty(n))


@_njit(cache=True, nogil=True, error_model="numpy")
def _dp5_to(t, t_end, y, p, h, rtol, atol, max_steps, w):
    """Advance y (in place) from t to t_end; returns (h_next, steps, ok). The stages are written out (the
    weights read from the tableau above) so that zero weights cost nothing."""
    n = y.shape[0]
    a, b, e, c = _DP5_A, _DP5_B, _DP5_E, _DP5_C
    k1, k2, k3, k4, k5, k6, k7 = w.k[0], w.k[1], w.k[2], w.k[3], w.k[4], w.k[5], w.k[6]
    ytmp, ynew, err = w.ytmp, w.ynew, w.err
    steps = 0
    rhs(t, y, p, k1)
    while t < t_end:
        if steps >= max_steps:
            return h, steps, False
        h, last = _clip(t, t_end, h)
        for i in range(n):
            ytmp[i] = y[i] + h * a[1][0] * k1[i]
        rhs(t + c[1] * h, ytmp, p, k2)
        for i in range(n):
            ytmp[i] = y[i] + h * (a[2][0] * k1[i] + a[2][1] * k2[i])
        rhs(t + c[2] * h, ytmp, p, k3)
        for i in range(n):
            ytmp[i] = y[i] + h * (a[3][0] * k1[i] + a[3][1] * k2[i] + a[3][2] * k3[i])
        rhs(t + c[3] * h, ytmp, p, k4)
        for i in range(n):
            ytmp[i] = y[i] + h * (a[4][0] * k1[i] + a[4][1] * k2[i] + a[4][2] * k3[i] + a[4][3] * k4[i])
        rhs(t + c[4] * h, ytmp, p, k5)
        for i in range(n):
            ytmp[i] = y[i] + h * (a[5][0] * k1[i] + a[5][1] * k2[i] + a[5][2] * k3[i] + a[5][3] * k4[i]
                                  + a[5][4] * k5[i])
        rhs(t + h, ytmp, p, k6)
        for i in range(n):
            ynew[i] = y[i] + h * (b[0] * k1[i] + b[2] * k3[i] + b[3] * k4[i] + b[4] * k5[i] + b[5] * k6[i])
        rhs(t + h, ynew, p, k7)
        for i in range(n):
            err[i] = h * (e[0] * k1[i] + e[2] * k3[i] + e[3] * k4[i] + e[4] * k5[i] + e[5] * k6[i] + e[6] * k7[i])
        steps += 1
        accepted, h_next, alive = _control(_norm(err, y, ynew, rtol, atol), h, t, 0.2)
        if not accepted:
            if not alive:
                return h_next, steps, False
            h = h_next
            continue
        t = t_end if last else t + h
        for i in range(n):
            y[i] = ynew[i]
            k1[i] = k7[i]  # first same as last
        if last:
            return max(h_next, h), steps, True
        h = h_next
    return h, steps, True
