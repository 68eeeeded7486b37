"""Method 2, "split": the model's linear block exactly, the other states by RK4 with an embedded order-3
estimate.

The linear block (LIN_IDX, found by engine/linear.py) is advanced by its matrix exponential: over a step h,
[yL; 1] <- E(h) [yL; 1], with E = E0 + sum_k theta_k D_k (the slow factors theta_k held at their value at
the middle of the step). The other states (NL_IDX) take classical RK4 steps whose stages (at 0, h/2, h) read
the block's exact values there; the error estimate is h/6 (f(t+h, y1) - k4), of order 3, and that last
evaluation is the next step's first (FSAL). Step sizes are H / 2^l on a dyadic ladder (H divides the stretch
between two stops evenly, at most _H_MAX), so that the propagators are computed once per H: one matrix
exponential per factor at the finest half-step, then squaring upwards. The values at h/2 are computed only
for the block states the other rates read (LIN_READ). The error control sees only the other states: the
block's accuracy is that of the exponential, apart from theta held constant over a step (a relative error of
at most h/2 x theta'/theta on what leaves the source states: 3e-6 for a quarter-day step with theta falling
1 % a year).

The decaying leaves (LEAF_POS, found by linear.py: states that nothing else reads, with rate k (c - y), e.g.
clotting factors) are advanced by the exact exponential formula over the step, with c interpolated by the
parabola through its values at 0, h/2 and h, read off the RK4 stages (c = f / k + y; at h/2 the mean of
stages 2 and 3): their decay, fast against the others' dynamics (factor VII: half-life 6 h), sets no step and
they are left out of the error estimate; their error is that of the parabola, which the step size the other
states need keeps small (bench/README.md: the same largest error against a tight reference at 15 % fewer
steps, with rtol 5e-7 instead of 1e-6).

What the method keeps from one stretch to the next (SplitState): the H its propagators were made for and the
side of t = 0 (inputs may switch there), the size the next stretch starts at (at most the first step of this
one, grown only if that was accepted at once: the stretch after a periodic event is like the last), and
whether k1 still holds f(t, y) from the end of the last stretch. An event into a state that rhs_nl reads
makes that evaluation stale (split_event).
"""

# ruff: noqa: F821  (this text is appended to a generated module: see kernels/__init__.py)
import math as _math
from collections import namedtuple as _namedtuple

import numpy as _np
from numba import njit as _njit

_L_MAX = 10  # finest step H / 2^10
_H_MAX = 1.0  # the largest step, in model time units

SPLIT_STATE = _np.dtype([("h_made", _np.float64), ("side", _np.float64), ("h_first", _np.float64),
                         ("f_current", _np.bool_)])

# One subject's workspace: the propagators of every level (e0, dk; their block rows as CSR: rowptr, colidx,
# vals), the states rhs_nl reads, the state above, and the scratch vectors of a step: xa = [block; 1], its
# values at h/2 (mid) and h (end), theta, the full state the rates see (ys), the other states (z, znew),
# the RK4 stages k1-k4 and the FSAL evaluation k5, the parameter-only subexpressions q, and the loss rates of
# the decaying leaves (lk) and their weights for the current step size (lw, see _leaves).
SplitWork = _namedtuple("SplitWork", ["e0", "dk", "rowptr", "colidx", "vals", "reads", "state", "xa", "mid",
                                      "end", "th", "ys", "z", "znew", "k1", "k2", "k3", "k4", "k5", "q", "lk",
                                      "lw"])


@_njit(cache=True, nogil=True, error_model="numpy")
def split_work(n, used):
    """The workspace for n states; an empty one (no block) when the method is not used."""
    nl = N_LIN if used else 0
    nk = N_THETA if used else 0
    na = nl + 1
    nn = NL_IDX.shape[0]
    reads = _np.zeros(n, dtype=_np.bool_)
    if used:
        for i in range(nn):
            reads[NL_IDX[i]] = True
        for r in range(LIN_READ.shape[0]):
            reads[LIN_IDX[LIN_READ[r]]] = True
    return SplitWork(_np.zeros((_L_MAX + 2, na, na)), _np.zeros((_L_MAX + 2, nk, na, na)),
                     _np.zeros(na + 1, dtype=_np.int64), _np.zeros(na * na, dtype=_np.int64),
                     _np.zeros((_L_MAX + 2, 1 + nk, na * na)), reads, _np.zeros(1, dtype=SPLIT_STATE),
                     _np.zeros(N_LIN + 1), _np.zeros(N_LIN + 1), _np.zeros(N_LIN + 1), _np.zeros(max(N_THETA, 1)),
                     _np.zeros(n), _np.zeros(nn), _np.zeros(nn), _np.zeros(nn), _np.zeros(nn), _np.zeros(nn),
                     _np.zeros(nn), _np.zeros(nn), _np.zeros(max(N_DERIVED, 1)),
                     _np.zeros(max(LEAF_POS.shape[0], 1)), _np.zeros((max(LEAF_POS.shape[0], 1), 6)))


@_njit(cache=True, nogil=True, error_model="numpy")
def split_prepare(w, p):
    """What a subject's parameters fix, once per subject: the parameter-only subexpressions q and the loss
    rates of the decaying leaves (their weights made anew at the next step). A leaf whose rate is 0 takes RK4
    steps and stays in the error control, and so do all of them when they are all the states outside the
    block (their accuracy rests on the steps the other states need)."""
    derived(p, w.q)
    leaf_rates(p, w.lk)
    if LEAF_POS.shape[0] == NL_IDX.shape[0]:  # no other state would be left to set the step size: RK4 for all
        w.lk[:] = 0.0
    w.lw[:, 5] = -1.0


@_njit(cache=True, nogil=True, error_model="numpy")
def split_event(w, index):
    """An event changed state `index`: the saved evaluation is stale if rhs_nl reads that state."""
    if w.reads[index]:
        w.state[0].f_current = False


@_njit(cache=True, nogil=True, error_model="numpy")
def _split_setup(big_h, t_mid, p, w):
    """Propagators over a step H / 2^l at every level l = 0 .. L_MAX + 1: e0[l], dk[l, k]; the sparsity
    pattern of their block rows (rowptr/colidx, shared by all levels) and their values per level (vals[l, 0]:
    e0, vals[l, 1 + k]: dk)."""
    e0, dk, rowptr, colidx, vals = w.e0, w.dk, w.rowptr, w.colidx, w.vals
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
    vals[lev, 0] holds E0 and vals[lev, 1 + k] D_k, on the sparsity pattern rowptr/colidx (the workspace's
    arrays, passed one by one: handing over the whole workspace tuple costs a copy of its every array's
    descriptor at each call)."""
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
def _leaf_weights(x):
    """exp(-x) and I_n = int_0^1 exp(-x (1 - u)) u^n du for n = 0, 1, 2 (x = k h >= 0): a series below 0.1,
    where the closed forms lose digits."""
    if x < 0.1:
        i0 = i1 = i2 = 0.0
        term = 1.0  # (-x)^m / m!
        for m in range(12):
            i0 += term / (m + 1)
            i1 += term / ((m + 1) * (m + 2))
            i2 += 2.0 * term / ((m + 1) * (m + 2) * (m + 3))
            term *= -x / (m + 1)
        return _math.exp(-x), i0, i1, i2
    i0 = -_math.expm1(-x) / x
    i1 = (1.0 - i0) / x
    i2 = (1.0 - 2.0 * i1) / x
    return _math.exp(-x), i0, i1, i2


@_njit(cache=True, nogil=True, error_model="numpy")
def _leaves(hh, z, znew, k1, k2, k3, k5, lk, lw, ys):
    """The decaying leaves over a step (see above): znew and their entries of the state ys replaced by the
    exponential formula, k5 (the next step's k1) recomputed from them. lw[j] holds leaf j's weights for the
    step size in lw[j, 5] (made anew when the size changes): exp(-k h), the weights of c at 0, h/2 and h, and
    1 / k."""
    for j in range(LEAF_POS.shape[0]):
        k = lk[j]
        if not k > 0.0:  # no decay (a parameter set to 0): RK4 as for the others
            continue
        if lw[j, 5] != hh:
            ez, i0, i1, i2 = _leaf_weights(k * hh)
            lw[j, 0] = ez
            lw[j, 1] = k * hh * (i0 - 3.0 * i1 + 2.0 * i2)  # weight of c0
            lw[j, 2] = k * hh * (4.0 * i1 - 4.0 * i2)  # of cm
            lw[j, 3] = k * hh * (2.0 * i2 - i1)  # of c1
            lw[j, 4] = 1.0 / k
            lw[j, 5] = hh
        i = LEAF_POS[j]
        rk = lw[j, 4]
        c0 = k1[i] * rk + z[i]
        cm = 0.5 * ((k2[i] + k3[i]) * rk + 2.0 * z[i] + 0.5 * hh * (k1[i] + k2[i]))
        c1 = k5[i] * rk + znew[i]
        # c(u h) = c0 + (4 cm - 3 c0 - c1) u + 2 (c0 - 2 cm + c1) u^2, integrated against k h exp(-k h (1 - u))
        y1 = lw[j, 0] * z[i] + lw[j, 1] * c0 + lw[j, 2] * cm + lw[j, 3] * c1
        znew[i] = y1
        ys[NL_IDX[i]] = y1
        k5[i] = k * (c1 - y1)


@_njit(cache=True, nogil=True, error_model="numpy")
def _split_to(t, t_end, y, p, h, rtol, atol, max_steps, w):
    """Advance y (in place) from t to t_end; returns (h_next, steps, ok)."""
    st = w.state[0]
    nl = N_LIN
    nn = NL_IDX.shape[0]
    span = t_end - t
    n0 = max(1, int(_math.ceil(span / _H_MAX - 1e-9)))
    big_h = span / n0
    side = 1.0 if t + 0.5 * span > 0.0 else -1.0
    if st.h_made == 0.0 or abs(big_h - st.h_made) > 1e-12 * big_h or st.side != side:
        _split_setup(big_h, t + 0.5 * span, p, w)
        st.h_made = big_h
        st.side = side
    if st.h_first > 0.0:
        h = min(h, st.h_first)
    lev = 0
    while lev < _L_MAX and big_h / 2.0 ** lev > h * 1.000001:
        lev += 1
    unit = big_h / 2.0 ** _L_MAX
    total = n0 * 2 ** _L_MAX
    pos = 0
    xa, mid, end, th, ys, z, znew = w.xa, w.mid, w.end, w.th, w.ys, w.z, w.znew
    k1, k2, k3, k4, k5, q = w.k1, w.k2, w.k3, w.k4, w.k5, w.q
    for i in range(y.shape[0]):
        ys[i] = y[i]
    for i in range(nl):
        xa[i] = y[LIN_IDX[i]]
    xa[nl] = 1.0
    for i in range(nn):
        z[i] = y[NL_IDX[i]]
    if not st.f_current:  # else k1 still holds f at this (t, y): no event changed a state that rhs_nl reads
        rhs_nl(t, y, p, q, k1)
    st.f_current = False
    all_rows = _np.arange(nl)
    n_out = 0  # decaying leaves out of the error estimate (a rate of 0 keeps a leaf in): the RMS is over the rest
    for j in range(LEAF_POS.shape[0]):
        if w.lk[j] > 0.0:
            n_out += 1
    rms_scale = _math.sqrt(nn / max(nn - n_out, 1))
    steps = 0
    t0 = t
    while pos < total:
        if steps >= max_steps:
            return h, steps, False
        units = 2 ** (_L_MAX - lev)
        hh = units * unit
        tc = t0 + pos * unit
        lin_theta(tc + 0.5 * hh, p, th)
        _propagate(lev + 1, xa, th, w.vals, w.rowptr, w.colidx, LIN_READ, mid)  # at h/2: what the rates read
        _propagate(lev, xa, th, w.vals, w.rowptr, w.colidx, all_rows, end)
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
        _leaves(hh, z, znew, k1, k2, k3, k5, w.lk, w.lw, ys)
        for i in range(nn):
            k2[i] = hh / 6.0 * (k5[i] - k4[i])  # k2 reused as the error estimate
        for j in range(LEAF_POS.shape[0]):
            if w.lk[j] > 0.0:
                k2[LEAF_POS[j]] = 0.0
        e = _norm(k2, z, znew, rtol, atol) * rms_scale
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
            st.h_first = hh * 2.0 if up and steps == 1 else hh
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
    st.f_current = True  # k1 = f(t_end, y)
    return big_h / 2.0 ** lev, steps, True
