"""Generic batched integrators, compiled with numba.

This file is included verbatim after the generated model functions `rhs(t, y, p, dy)` and
`jac(t, y, p, J)` (see codegen.py); it names no molecule. Doses are events inside the compiled loop: the
integrator stops exactly at each dose time, adds the amount to its state, and goes on.

Methods: 0 = adaptive Dormand-Prince 5(4) (explicit), falling back to method 1 for a subject whose
explicit solve fails (too many steps: a stiff stretch); 1 = Rodas4, the six-stage L-stable, stiffly accurate
Rosenbrock method of Hairer & Wanner (Solving ODEs II, 1996; coefficients of their RODAS code), order 4 with
an embedded order-3 estimate, using the generated Jacobian. The explicit time derivative of the right-hand
side (slow forcing by age and menopause) is a finite difference taken inside the step, so that a switch at
the step's start (a diet from t = 0) is not differentiated. 2 = split: the model's linear block (the
pharmacokinetics, found by linear.py) advanced exactly by its matrix exponential, the other states by RK4 with
an embedded order-3 estimate on a dyadic ladder of step sizes (see the section below); it falls back to
method 1 like method 0.
Burn-in (baseline_one, baseline_batch): the steady state at a frozen time by pseudo-transient continuation and
Newton on the free states (accumulators held at zero), the derived "steady" parameters set from it and the
solve repeated so that states normalised by them settle at exactly 1; then the history up to t = 0 by Rodas4.
Status per subject: 0 ok, 1 ok after fallback, 2 failed (step size underflow or too many steps),
3 non-finite values.
"""

# ruff: noqa: F821  (rhs, jac and N_STATES are defined by the generated module above this text)
import math as _math

import numpy as _np
from numba import njit as _njit
from numba import prange as _prange

_A21 = 1.0 / 5.0
_A31, _A32 = 3.0 / 40.0, 9.0 / 40.0
_A41, _A42, _A43 = 44.0 / 45.0, -56.0 / 15.0, 32.0 / 9.0
_A51, _A52, _A53, _A54 = 19372.0 / 6561.0, -25360.0 / 2187.0, 64448.0 / 6561.0, -212.0 / 729.0
_A61, _A62, _A63, _A64, _A65 = 9017.0 / 3168.0, -355.0 / 33.0, 46732.0 / 5247.0, 49.0 / 176.0, -5103.0 / 18656.0
_B1, _B3, _B4, _B5, _B6 = 35.0 / 384.0, 500.0 / 1113.0, 125.0 / 192.0, -2187.0 / 6784.0, 11.0 / 84.0
_E1, _E3, _E4, _E5, _E6, _E7 = (71.0 / 57600.0, -71.0 / 16695.0, 71.0 / 1920.0, -17253.0 / 339200.0,
                                22.0 / 525.0, -1.0 / 40.0)
_C2, _C3, _C4, _C5 = 0.2, 0.3, 0.8, 8.0 / 9.0


@_njit(cache=True, nogil=True, error_model="numpy")
def _norm(err, y0, y1, rtol, atol):
    acc = 0.0
    n = err.shape[0]
    for i in range(n):
        sc = atol + rtol * max(abs(y0[i]), abs(y1[i]))
        acc += (err[i] / sc) ** 2
    return _math.sqrt(acc / max(n, 1))


@_njit(cache=True, nogil=True, error_model="numpy")
def _step_factor(e, expo):
    """Step-size factor from the scaled error norm e of a method whose error is O(h^(1/expo))."""
    if not _math.isfinite(e):
        return 0.1
    if e == 0.0:
        return 5.0
    return min(5.0, max(0.2, 0.9 * e ** (-expo)))


@_njit(cache=True, nogil=True, error_model="numpy")
def _dp5_to(t, t_end, y, p, h, rtol, atol, max_steps, work):
    """Advance y (in place) from t to t_end with DP5; returns (h_next, steps, ok)."""
    n = y.shape[0]
    k1, k2, k3, k4, k5, k6, k7 = work[0], work[1], work[2], work[3], work[4], work[5], work[6]
    ytmp, ynew, err = work[7], work[8], work[9]
    steps = 0
    rhs(t, y, p, k1)
    while t < t_end:
        if steps >= max_steps:
            return h, steps, False
        last = False
        if t + h >= t_end:
            h = t_end - t
            last = True
        for i in range(n):
            ytmp[i] = y[i] + h * _A21 * k1[i]
        rhs(t + _C2 * h, ytmp, p, k2)
        for i in range(n):
            ytmp[i] = y[i] + h * (_A31 * k1[i] + _A32 * k2[i])
        rhs(t + _C3 * h, ytmp, p, k3)
        for i in range(n):
            ytmp[i] = y[i] + h * (_A41 * k1[i] + _A42 * k2[i] + _A43 * k3[i])
        rhs(t + _C4 * h, ytmp, p, k4)
        for i in range(n):
            ytmp[i] = y[i] + h * (_A51 * k1[i] + _A52 * k2[i] + _A53 * k3[i] + _A54 * k4[i])
        rhs(t + _C5 * h, ytmp, p, k5)
        for i in range(n):
            ytmp[i] = y[i] + h * (_A61 * k1[i] + _A62 * k2[i] + _A63 * k3[i] + _A64 * k4[i] + _A65 * k5[i])
        rhs(t + h, ytmp, p, k6)
        for i in range(n):
            ynew[i] = y[i] + h * (_B1 * k1[i] + _B3 * k3[i] + _B4 * k4[i] + _B5 * k5[i] + _B6 * k6[i])
        rhs(t + h, ynew, p, k7)
        for i in range(n):
            err[i] = h * (_E1 * k1[i] + _E3 * k3[i] + _E4 * k4[i] + _E5 * k5[i] + _E6 * k6[i] + _E7 * k7[i])
        e = _norm(err, y, ynew, rtol, atol)
        steps += 1
        factor = _step_factor(e, 0.2)
        if not e <= 1.0:  # rejected (or not finite): retry with a smaller step
            h *= factor
            if h < 1e-14 * max(1.0, abs(t)):
                return h, steps, False
            continue
        t = t_end if last else t + h
        for i in range(n):
            y[i] = ynew[i]
            k1[i] = k7[i]  # first same as last
        if last:
            return max(h * factor, h), steps, True
        h *= factor
    return h, steps, True


@_njit(cache=True, nogil=True, error_model="numpy")
def _lu(a, piv):
    """LU with partial pivoting, in place; the updates visit only the nonzeros of the pivot row (the model's
    Jacobians are sparse)."""
    n = a.shape[0]
    nz = _np.empty(n, dtype=_np.int64)
    for k in range(n):
        m = k
        big = abs(a[k, k])
        for i in range(k + 1, n):
            if abs(a[i, k]) > big:
                big = abs(a[i, k])
                m = i
        piv[k] = m
        if big == 0.0:
            return False
        if m != k:
            for j in range(n):
                tmp = a[k, j]
                a[k, j] = a[m, j]
                a[m, j] = tmp
        m = 0
        for j in range(k + 1, n):
            if a[k, j] != 0.0:
                nz[m] = j
                m += 1
        inv = 1.0 / a[k, k]
        for i in range(k + 1, n):
            f = a[i, k]
            if f != 0.0:
                f *= inv
                a[i, k] = f
                for q in range(m):
                    j = nz[q]
                    a[i, j] -= f * a[k, j]
    return True


@_njit(cache=True, nogil=True, error_model="numpy")
def _lu_pattern(a, ptr, idx):
    """Nonzeros of the factors in a (after _lu), row by row: row i's entries left of the diagonal are
    idx[ptr[i]:ptr[n + i]], right of it idx[ptr[n + i]:ptr[i + 1]] (ptr has 2n + 1 entries)."""
    n = a.shape[0]
    q = 0
    for i in range(n):
        ptr[i] = q
        for j in range(i):
            if a[i, j] != 0.0:
                idx[q] = j
                q += 1
        ptr[n + i] = q
        for j in range(i + 1, n):
            if a[i, j] != 0.0:
                idx[q] = j
                q += 1
    ptr[2 * n] = q


@_njit(cache=True, nogil=True, error_model="numpy")
def _lu_solve(a, piv, b, ptr, idx):
    """Solve with the factors of _lu (pivots piv), visiting the nonzeros that _lu_pattern found."""
    n = a.shape[0]
    for k in range(n):
        m = piv[k]
        if m != k:
            tmp = b[k]
            b[k] = b[m]
            b[m] = tmp
    for i in range(n):
        s = b[i]
        for q in range(ptr[i], ptr[n + i]):
            s -= a[i, idx[q]] * b[idx[q]]
        b[i] = s
    for i in range(n - 1, -1, -1):
        s = b[i]
        end = ptr[i + 1] if i + 1 < n else ptr[2 * n]
        for q in range(ptr[n + i], end):
            s -= a[i, idx[q]] * b[idx[q]]
        b[i] = s / a[i, i]


# Rodas4 coefficients (Hairer & Wanner 1996, RODAS), in the transformed-variable form
_RG = 0.25
_RC2, _RC3, _RC4 = 0.386, 0.21, 0.63
_RA21 = 1.544
_RA31, _RA32 = 0.9466785280815826, 0.2557011698983284
_RA41, _RA42, _RA43 = 3.314825187068521, 2.896124015972201, 0.9986419139977817
_RA51, _RA52, _RA53, _RA54 = 1.221224509226641, 6.019134481288629, 12.53708332932087, -0.6878860361058950
_RD1, _RD2, _RD3, _RD4 = 0.25, -0.1043, 0.1035, -0.0362
_RC21 = -5.6688
_RC31, _RC32 = -2.430093356833875, -0.2063599157091915
_RC41, _RC42, _RC43 = -0.1073529058151375, -9.594562251023355, -20.47028614809616
_RC51, _RC52, _RC53, _RC54 = 7.496443313967647, -10.24680431464352, -33.99990352819905, 11.70890893206160
_RC61, _RC62, _RC63, _RC64, _RC65 = (8.083246795921522, -7.981132988064893, -31.52159432874371,
                                     16.31930543123136, -6.058818238834054)


@_njit(cache=True, nogil=True, error_model="numpy")
def _rodas4_to(t, t_end, y, p, h, rtol, atol, max_steps, work, jmat, wmat, piv):
    """Advance y (in place) from t to t_end with Rodas4; returns (h_next, steps, ok)."""
    n = y.shape[0]
    k1, k2, k3, k4, k5, k6 = work[0], work[1], work[2], work[3], work[4], work[5]
    ytmp, ynew, f, ft = work[6], work[7], work[8], work[9]
    ptr = _np.empty(2 * n + 1, dtype=_np.int64)
    idx = _np.empty(n * n, dtype=_np.int64)
    steps = 0
    while t < t_end:
        if steps >= max_steps:
            return h, steps, False
        last = False
        if t + h >= t_end:
            h = t_end - t
            last = True
        jac(t, y, p, jmat)
        inv = 1.0 / (_RG * h)
        for i in range(n):
            for j in range(n):
                wmat[i, j] = -jmat[i, j]
            wmat[i, i] += inv
        if not _lu(wmat, piv):
            return h, steps, False
        _lu_pattern(wmat, ptr, idx)
        dt = 1e-7 * max(1.0, abs(t), h)
        rhs(t + dt, y, p, ft)
        rhs(t + 2.0 * dt, y, p, f)
        for i in range(n):
            ft[i] = (f[i] - ft[i]) / dt  # d(rhs)/dt inside the step
        rhs(t, y, p, f)
        for i in range(n):
            k1[i] = f[i] + h * _RD1 * ft[i]
        _lu_solve(wmat, piv, k1, ptr, idx)
        for i in range(n):
            ytmp[i] = y[i] + _RA21 * k1[i]
        rhs(t + _RC2 * h, ytmp, p, f)
        for i in range(n):
            k2[i] = f[i] + (_RC21 * k1[i]) / h + h * _RD2 * ft[i]
        _lu_solve(wmat, piv, k2, ptr, idx)
        for i in range(n):
            ytmp[i] = y[i] + _RA31 * k1[i] + _RA32 * k2[i]
        rhs(t + _RC3 * h, ytmp, p, f)
        for i in range(n):
            k3[i] = f[i] + (_RC31 * k1[i] + _RC32 * k2[i]) / h + h * _RD3 * ft[i]
        _lu_solve(wmat, piv, k3, ptr, idx)
        for i in range(n):
            ytmp[i] = y[i] + _RA41 * k1[i] + _RA42 * k2[i] + _RA43 * k3[i]
        rhs(t + _RC4 * h, ytmp, p, f)
        for i in range(n):
            k4[i] = f[i] + (_RC41 * k1[i] + _RC42 * k2[i] + _RC43 * k3[i]) / h + h * _RD4 * ft[i]
        _lu_solve(wmat, piv, k4, ptr, idx)
        for i in range(n):
            ytmp[i] = y[i] + _RA51 * k1[i] + _RA52 * k2[i] + _RA53 * k3[i] + _RA54 * k4[i]
        rhs(t + h, ytmp, p, f)
        for i in range(n):
            k5[i] = f[i] + (_RC51 * k1[i] + _RC52 * k2[i] + _RC53 * k3[i] + _RC54 * k4[i]) / h
        _lu_solve(wmat, piv, k5, ptr, idx)
        for i in range(n):
            ytmp[i] += k5[i]  # embedded order-3 solution
        rhs(t + h, ytmp, p, f)
        for i in range(n):
            k6[i] = f[i] + (_RC61 * k1[i] + _RC62 * k2[i] + _RC63 * k3[i] + _RC64 * k4[i] + _RC65 * k5[i]) / h
        _lu_solve(wmat, piv, k6, ptr, idx)
        for i in range(n):
            ynew[i] = ytmp[i] + k6[i]
        e = _norm(k6, y, ynew, rtol, atol)  # k6 is the difference between the order-4 and order-3 solutions
        steps += 1
        factor = _step_factor(e, 0.25)
        if not e <= 1.0:  # rejected (or not finite): retry with a smaller step
            h *= factor
            if h < 1e-14 * max(1.0, abs(t)):
                return h, steps, False
            continue
        t = t_end if last else t + h
        for i in range(n):
            y[i] = ynew[i]
        if last:
            return max(h * factor, h), steps, True
        h *= factor
    return h, steps, True


# ---- method 2, "split": the linear block exactly, the other states by RK4 with an embedded order-3 estimate
#
# The model's linear block (LIN_IDX, see linear.py) is advanced by its matrix exponential: over a step h,
# [yL; 1] <- E(h) [yL; 1], with E = E0 + sum_k theta_k D_k (the slow factors theta_k held at their value at
# the middle of the step). The other states (NL_IDX) take classical RK4 steps whose stages (at 0, h/2, h) read
# the block's exact values there; the error estimate is h/6 (f(t+h, y1) - k4), of order 3, and that last
# evaluation is the next step's first (FSAL). Step sizes are H / 2^l on a dyadic ladder (H divides the stretch
# between two stops evenly, at most H_MAX), so that the propagators are computed once per H: one matrix
# exponential (Pade 6/6 with scaling and squaring) per factor at the finest half-step, then squaring upwards.
# The values at h/2 are computed only for the block states the other rates read (LIN_READ). Within the
# split, the error control sees only the other states: the block's accuracy is that of the exponential,
# apart from theta held constant over a step (a relative error of at most h/2 x theta'/theta on the absorbed
# amounts: 3e-6 for a step of a quarter day with absorption falling 1 % a year).

_L_MAX = 10  # finest step H / 2^10
_H_MAX = 1.0  # day: the largest step
_PADE6 = (1.0, 0.5, 5.0 / 44.0, 1.0 / 66.0, 1.0 / 792.0, 1.0 / 15840.0, 1.0 / 665280.0)


@_njit(cache=True, nogil=True, error_model="numpy")
def _matmul(a, b, out):
    """out = a @ b, skipping the zeros of a (the block matrices are sparse)."""
    n = a.shape[0]
    for i in range(n):
        for j in range(n):
            out[i, j] = 0.0
        for k in range(n):
            aik = a[i, k]
            if aik != 0.0:
                for j in range(n):
                    out[i, j] += aik * b[k, j]


@_njit(cache=True, nogil=True, error_model="numpy")
def _expm(a, out):
    """Matrix exponential: Pade (6, 6) after scaling to a 1-norm of at most 1/2, then squaring."""
    n = a.shape[0]
    norm = 0.0
    for j in range(n):
        col = 0.0
        for i in range(n):
            col += abs(a[i, j])
        norm = max(norm, col)
    s = 0
    while norm > 0.5:
        norm *= 0.5
        s += 1
    x = a * (0.5 ** s)
    x2 = _np.empty((n, n))
    x4 = _np.empty((n, n))
    x6 = _np.empty((n, n))
    _matmul(x, x, x2)
    _matmul(x2, x2, x4)
    _matmul(x4, x2, x6)
    c = _PADE6
    inner = c[1] * _np.eye(n) + c[3] * x2 + c[5] * x4
    u = _np.empty((n, n))
    _matmul(x, inner, u)
    v = c[0] * _np.eye(n) + c[2] * x2 + c[4] * x4 + c[6] * x6
    num = v + u
    den = v - u
    piv = _np.empty(n, dtype=_np.int64)
    _lu(den, piv)
    ptr = _np.empty(2 * n + 1, dtype=_np.int64)
    idx = _np.empty(n * n, dtype=_np.int64)
    _lu_pattern(den, ptr, idx)
    col = _np.empty(n)
    for j in range(n):
        for i in range(n):
            col[i] = num[i, j]
        _lu_solve(den, piv, col, ptr, idx)
        for i in range(n):
            out[i, j] = col[i]
    tmp = _np.empty((n, n))
    for _ in range(s):
        _matmul(out, out, tmp)
        out[:, :] = tmp


@_njit(cache=True, nogil=True, error_model="numpy")
def _split_setup(big_h, t_mid, p, e0, dk, rowptr, colidx, vals):
    """Propagators over a step H / 2^l at every level l = 0 .. L_MAX + 1: e0[l], dk[l, k]; the sparsity
    pattern of their block rows (rowptr/colidx, shared by all levels) and their values per level (vals[l, 0]:
    e0, vals[l, 1 + k]: dk)."""
    nl = N_LIN
    na = nl + 1
    a0 = _np.zeros((nl, nl))
    ath = _np.zeros((N_THETA, nl, nl))
    lin_matrices(p, a0, ath)
    b = _np.zeros(nl)
    lin_input(t_mid, p, b)
    dt = big_h / 2.0 ** (_L_MAX + 1)
    m = _np.zeros((na, na))
    for i in range(nl):
        for j in range(nl):
            m[i, j] = a0[i, j] * dt
        m[i, nl] = b[i] * dt
    _expm(m, e0[_L_MAX + 1])
    mk = _np.empty((na, na))
    for k in range(N_THETA):
        mk[:, :] = m
        for i in range(nl):
            for j in range(nl):
                mk[i, j] += ath[k, i, j] * dt
        _expm(mk, dk[_L_MAX + 1, k])
        dk[_L_MAX + 1, k] -= e0[_L_MAX + 1]
    tmp = _np.empty((na, na))
    for lev in range(_L_MAX + 1, 0, -1):  # E(2h) = E(h)^2; D(2h) = E D + D E (D^2 = 0: D acts on sources only)
        _matmul(e0[lev], e0[lev], e0[lev - 1])
        for k in range(N_THETA):
            _matmul(e0[lev], dk[lev, k], dk[lev - 1, k])
            _matmul(dk[lev, k], e0[lev], tmp)
            dk[lev - 1, k] += tmp
    nnz = 0
    for i in range(nl):
        rowptr[i] = nnz
        for j in range(na):
            used = False
            for lev in range(_L_MAX + 2):
                if e0[lev, i, j] != 0.0:
                    used = True
                for k in range(N_THETA):
                    if dk[lev, k, i, j] != 0.0:
                        used = True
                if used:
                    break
            if used:
                colidx[nnz] = j
                nnz += 1
    rowptr[nl] = nnz
    for lev in range(_L_MAX + 2):
        for i in range(nl):
            for q in range(rowptr[i], rowptr[i + 1]):
                vals[lev, 0, q] = e0[lev, i, colidx[q]]
                for k in range(N_THETA):
                    vals[lev, 1 + k, q] = dk[lev, k, i, colidx[q]]


@_njit(cache=True, nogil=True, error_model="numpy")
def _propagate(lev, xa, th, vals, rowptr, colidx, rows, out):
    """out[rows] = (E(theta) [x; 1])[rows] over a step of level lev (xa holds [x; 1]); other rows untouched.
    vals[lev, 0] holds E0 and vals[lev, 1 + k] D_k, on the sparsity pattern rowptr/colidx."""
    nl = N_LIN
    for r in range(rows.shape[0]):
        i = rows[r]
        acc = 0.0
        for q in range(rowptr[i], rowptr[i + 1]):
            v = vals[lev, 0, q]
            for k in range(N_THETA):
                v += th[k] * vals[lev, 1 + k, q]
            acc += v * xa[colidx[q]]
        out[i] = acc
    out[nl] = 1.0


@_njit(cache=True, nogil=True, error_model="numpy")
def _split_to(t, t_end, y, p, h, rtol, atol, max_steps, sw, e0, dk, rowptr, colidx, vals, sbuf):
    """Advance y (in place) from t to t_end with the split method; returns (h_next, steps, ok).
    sw[0] holds the H the propagators were made for (0: none), sw[1] the side of t = 0 they were made on,
    sw[2] the size the next stretch starts at (at most: the first step of this one, grown only if it was
    accepted at once; the stretch after a daily dose is like the last, and its start is the hard part), sw[3]
    1 when sbuf still holds f(t, y) from the end of the last stretch (the solver clears it when a dose changes a
    state that rhs_nl reads); sbuf (13 rows of at least N_STATES + 1 and N_DERIVED) is scratch space,
    allocated once per subject."""
    nl = N_LIN
    nn = NL_IDX.shape[0]
    span = t_end - t
    n0 = max(1, int(_math.ceil(span / _H_MAX - 1e-9)))
    big_h = span / n0
    side = 1.0 if t + 0.5 * span > 0.0 else -1.0
    if sw[0] == 0.0 or abs(big_h - sw[0]) > 1e-12 * big_h or sw[1] != side:
        _split_setup(big_h, t + 0.5 * span, p, e0, dk, rowptr, colidx, vals)
        sw[0] = big_h
        sw[1] = side
    if sw[2] > 0.0:
        h = min(h, sw[2])
    lev = 0
    while lev < _L_MAX and big_h / 2.0 ** lev > h * 1.000001:
        lev += 1
    unit = big_h / 2.0 ** _L_MAX
    total = n0 * 2 ** _L_MAX
    pos = 0
    xa, mid, end, th = sbuf[0, :nl + 1], sbuf[1, :nl + 1], sbuf[2, :nl + 1], sbuf[3, :max(N_THETA, 1)]
    ys = sbuf[4, :y.shape[0]]
    z, znew, k1, k2, k3, k4, k5 = (sbuf[5, :nn], sbuf[6, :nn], sbuf[7, :nn], sbuf[8, :nn], sbuf[9, :nn],
                                   sbuf[10, :nn], sbuf[11, :nn])
    for i in range(y.shape[0]):
        ys[i] = y[i]
    for i in range(nl):
        xa[i] = y[LIN_IDX[i]]
    xa[nl] = 1.0
    for i in range(nn):
        z[i] = y[NL_IDX[i]]
    q = sbuf[12, :max(N_DERIVED, 1)]
    derived(p, q)
    if sw[3] == 0.0:  # else k1 still holds f at this (t, y): the stop changed no state that rhs_nl reads
        rhs_nl(t, y, p, q, k1)
    sw[3] = 0.0
    all_rows = _np.arange(nl)
    steps = 0
    t0 = t
    while pos < total:
        if steps >= max_steps:
            return h, steps, False
        units = 2 ** (_L_MAX - lev)
        hh = units * unit
        tc = t0 + pos * unit
        lin_theta(tc + 0.5 * hh, p, th)
        _propagate(lev + 1, xa, th, vals, rowptr, colidx, LIN_READ, mid)  # at h/2: what the rates read
        _propagate(lev, xa, th, vals, rowptr, colidx, all_rows, end)
        for i in range(nl):
            ys[LIN_IDX[i]] = mid[i]
        for i in range(nn):
            ys[NL_IDX[i]] = z[i] + 0.5 * hh * k1[i]
        rhs_nl(tc + 0.5 * hh, ys, p, q, k2)
        for i in range(nn):
            ys[NL_IDX[i]] = z[i] + 0.5 * hh * k2[i]
        rhs_nl(tc + 0.5 * hh, ys, p, q, k3)
        for i in range(nl):
            ys[LIN_IDX[i]] = end[i]
        for i in range(nn):
            ys[NL_IDX[i]] = z[i] + hh * k3[i]
        rhs_nl(tc + hh, ys, p, q, k4)
        for i in range(nn):
            znew[i] = z[i] + hh / 6.0 * (k1[i] + 2.0 * k2[i] + 2.0 * k3[i] + k4[i])
            ys[NL_IDX[i]] = znew[i]
        t_next = t0 + (pos + units) * unit if pos + units < total else t_end
        rhs_nl(t_next, ys, p, q, k5)
        for i in range(nn):
            k2[i] = hh / 6.0 * (k5[i] - k4[i])  # k2 reused as the error estimate
        e = _norm(k2, z, znew, rtol, atol)
        steps += 1
        factor = _step_factor(e, 0.25)
        if not e <= 1.0:  # rejected: down the ladder
            drop = 1
            while factor < 0.5 ** drop and drop < 4:
                drop += 1
            lev += drop
            if lev > _L_MAX:
                return hh, steps, False
            continue
        up = factor >= 2.0 and lev > 0
        if pos == 0 and units < total:  # the first step of the stretch; steps == 1: accepted at once
            sw[2] = hh * 2.0 if up and steps == 1 else hh
        pos += units
        for i in range(nl + 1):
            xa[i] = end[i]
        for i in range(nn):
            z[i] = znew[i]
            k1[i] = k5[i]
        if up and pos % (2 * units) == 0:
            lev -= 1
    for i in range(nl):
        y[LIN_IDX[i]] = xa[i]
    for i in range(nn):
        y[NL_IDX[i]] = z[i]
    sw[3] = 1.0  # k1 = f(t_end, y)
    return big_h / 2.0 ** lev, steps, True


@_njit(cache=True, nogil=True, error_model="numpy")
def _advance(method, t, t_end, y, p, h, rtol, atol, max_steps, work, jmat, wmat, piv, sw, e0, dk, rowptr,
             colidx, vals, sbuf):
    if method == 0:
        return _dp5_to(t, t_end, y, p, h, rtol, atol, max_steps, work)
    if method == 2:
        return _split_to(t, t_end, y, p, h, rtol, atol, max_steps, sw, e0, dk, rowptr, colidx, vals, sbuf)
    return _rodas4_to(t, t_end, y, p, h, rtol, atol, max_steps, work, jmat, wmat, piv)


@_njit(cache=True, nogil=True, error_model="numpy")
def solve_one(y0, p, t0, t_out, ev_t, ev_i, ev_a, n_ev, rtol, atol, method, max_steps, switch_steps, out):
    """Integrate one subject from t0 over the output grid t_out (ascending, >= t0) with dose events
    (ev_t ascending; the first n_ev used). Writes states at t_out into out; returns (status, steps).
    The explicit method hands a stretch between two stops to the implicit one after switch_steps steps
    (a stiff stretch); the implicit one fails after max_steps."""
    n = y0.shape[0]
    y = y0.copy()
    work = _np.empty((10, n))
    jmat = _np.empty((n, n))
    wmat = _np.empty((n, n))
    piv = _np.empty(n, dtype=_np.int64)
    na = N_LIN + 1 if method == 2 else 1
    nk = N_THETA if method == 2 else 0
    sw = _np.zeros(4)
    e0 = _np.zeros((_L_MAX + 2, na, na))
    dk = _np.zeros((_L_MAX + 2, nk, na, na))
    rowptr = _np.zeros(na + 1, dtype=_np.int64)
    colidx = _np.zeros(na * na, dtype=_np.int64)
    vals = _np.zeros((_L_MAX + 2, 1 + nk, na * na))
    sbuf = _np.zeros((13, max(n + 1, N_DERIVED)))
    ysave = _np.empty(n)
    read = _np.zeros(n, dtype=_np.bool_)  # the states rhs_nl reads
    if method == 2:
        for i in range(NL_IDX.shape[0]):
            read[NL_IDX[i]] = True
        for r in range(LIN_READ.shape[0]):
            read[LIN_IDX[LIN_READ[r]]] = True
    t = t0
    h = 1e-3 if method != 2 else 0.25
    io = 0
    ie = 0
    steps = 0
    status = 0
    m = method
    n_out = t_out.shape[0]
    while io < n_out:
        # outputs due now are recorded before the doses due now (a trough, as in NONMEM records)
        while io < n_out and t_out[io] <= t:
            for i in range(n):
                out[io, i] = y[i]
            io += 1
        while ie < n_ev and ev_t[ie] <= t:
            y[ev_i[ie]] += ev_a[ie]
            if read[ev_i[ie]]:
                sw[3] = 0.0  # the split method's last rate evaluation is stale
            ie += 1
        if io >= n_out:
            break
        target = t_out[io]
        if ie < n_ev and ev_t[ie] < target:
            target = ev_t[ie]
        for i in range(n):
            ysave[i] = y[i]
        hsave = h
        budget = min(max_steps, switch_steps) if m != 1 else max_steps
        h, k, ok = _advance(m, t, target, y, p, h, rtol, atol, budget, work, jmat, wmat, piv, sw, e0, dk, rowptr,
                            colidx, vals, sbuf)
        steps += k
        if not ok and m != 1:
            for i in range(n):
                y[i] = ysave[i]
            m = 1
            status = 1
            h, k, ok = _advance(m, t, target, y, p, hsave, rtol, atol, max_steps, work, jmat, wmat, piv, sw, e0, dk,
                                rowptr, colidx, vals, sbuf)
            steps += k
        if not ok:
            return 2, steps
        for i in range(n):
            if not _math.isfinite(y[i]):
                return 3, steps
        t = target
    return status, steps


@_njit(cache=True, parallel=True, error_model="numpy")
def solve_batch(y0, p, t0, t_out, ev_t, ev_i, ev_a, n_ev, rtol, atol, method, max_steps, switch_steps):
    """Many subjects at once (threads over subjects). y0: (S, n), p: (S, P), t0: (S,), events: (S, E)."""
    n_sub = y0.shape[0]
    out = _np.full((n_sub, t_out.shape[0], y0.shape[1]), _np.nan)
    status = _np.zeros(n_sub, dtype=_np.int64)
    steps = _np.zeros(n_sub, dtype=_np.int64)
    for s in _prange(n_sub):
        st, k = solve_one(y0[s], p[s], t0[s], t_out, ev_t[s], ev_i[s], ev_a[s], n_ev[s], rtol, atol, method,
                          max_steps, switch_steps, out[s])
        status[s] = st
        steps[s] = k
    return out, status, steps


@_njit(cache=True, parallel=True, error_model="numpy")
def observe_batch(t_out, states, p):
    """Observables of many subjects: states (S, T, n) and p (S, P) -> (S, T, N_OBS)."""
    n_sub, n_t = states.shape[0], states.shape[1]
    out = _np.empty((n_sub, n_t, N_OBS))
    for s in _prange(n_sub):
        for k in range(n_t):
            observe(t_out[k], states[s, k], p[s], out[s, k])
    return out


# ---- burn-in in compiled code: the steady state (pseudo-transient Newton, as steady.py) and the history


@_njit(cache=True, nogil=True, error_model="numpy")
def _newton_steady(y, p, t, free, tol, max_iter):
    """Solve rhs(t, y, p) = 0 for the free entries of y, in place; True when converged."""
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
    dt = 1e-2
    rhs(t, y, p, f)
    for i in range(m):
        r[i] = f[idx[i]]
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
    out = _np.empty(ref_kind.shape[0])
    references(t, y, p, out)
    for j in range(ref_kind.shape[0]):
        if ref_kind[j] == kind:
            p[n_base + j] = out[j]


@_njit(cache=True, nogil=True, error_model="numpy")
def baseline_one(y_init, p, t_ref, free, n_base, ref_kind, rtol, atol, max_steps):
    """Steady state at frozen time t_ref (<= 0), references (kind 0 'steady') set from it, then the history
    from t_ref to 0 by Rodas4 and the references of kind 1 ('start'). Returns (y0, status): 0 ok, 1 no steady
    state, 2 history failed. p is updated in place."""
    y = y_init.copy()
    for it in range(3):
        if not _newton_steady(y, p, t_ref, free, 1e-11, 400):
            return y, 1
        if it < 2:
            _set_refs(t_ref, y, p, n_base, ref_kind, 0)
    for i in range(y.shape[0]):
        if abs(y[i]) < 1e-100:
            y[i] = 0.0  # remnants of the solve where the true steady state is zero
    if t_ref < 0:
        out = _np.empty((1, y.shape[0]))
        status, _ = solve_one(y, p, t_ref, _np.zeros(1), _np.empty(0), _np.empty(0, dtype=_np.int64), _np.empty(0),
                              0, rtol, atol, 1, max_steps, max_steps, out)
        if status >= 2:
            return y, 2
        for i in range(y.shape[0]):
            y[i] = out[0, i]
    for i in range(y.shape[0]):
        if not free[i]:
            y[i] = 0.0
    _set_refs(0.0, y, p, n_base, ref_kind, 1)
    return y, 0


@_njit(cache=True, parallel=True, error_model="numpy")
def baseline_batch(y_init, p, t_ref, free, n_base, ref_kind, rtol, atol, max_steps):
    """baseline_one for many subjects (threads over subjects): p (S, P) and t_ref (S,) -> y0 (S, n), p, status."""
    n_sub = p.shape[0]
    y0 = _np.empty((n_sub, y_init.shape[0]))
    p_out = p.copy()
    status = _np.zeros(n_sub, dtype=_np.int64)
    for s in _prange(n_sub):
        y, st = baseline_one(y_init, p_out[s], t_ref[s], free, n_base, ref_kind, rtol, atol, max_steps)
        y0[s] = y
        status[s] = st
    return y0, p_out, status
