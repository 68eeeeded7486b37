"""Dense linear algebra for small sparse matrices: LU with partial pivoting that visits only nonzeros, its
solve, the matrix product and the matrix exponential (Pade 6/6 with scaling and squaring)."""

# ruff: noqa: F821  (this text is appended to a generated module: see kernels/__init__.py)
import numpy as _np
from numba import njit as _njit

_PADE6 = (1.0, 0.5, 5.0 / 44.0, 1.0 / 66.0, 1.0 / 792.0, 1.0 / 15840.0, 1.0 / 665280.0)


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
