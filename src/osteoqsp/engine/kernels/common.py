"""Shared by the integrators: the scaled error norm, the step-size factor and its controller."""

# ruff: noqa: F821  (this text is appended to a generated module: see kernels/__init__.py)
import math as _math

from numba import njit as _njit

# EVENT, the record of one event (time, state index, amount), is written into the generated module by
# codegen.py from engine/events.py, its one definition.


@_njit(cache=True, nogil=True, error_model="numpy")
def _norm(err, y0, y1, rtol, atol):
    acc = 0.0
    n = err.shape[0]
    for i in range(n):
        sc = atol + rtol * max(abs(y0[i]), abs(y1[i]))
        acc += (err[i] / sc) ** 2
    return _math.sqrt(acc / max(n, 1))


@_njit(cache=True, nogil=True, error_model="numpy")
def _clip(t, t_end, h):
    """The next step size of a stretch ending at t_end, and whether that step ends the stretch."""
    if t + h >= t_end:
        return t_end - t, True
    return h, False


@_njit(cache=True, nogil=True, error_model="numpy")
def _control(e, h, t, expo):
    """The step-size controller of dopri5 and rodas4 (an I controller: the error's exponent expo = 1/(q+1)
    for an estimate of order q): whether the step with scaled error norm e is accepted, the next step size,
    and False when a rejected step would fall below 1e-14 x max(1, |t|)."""
    h_next = h * _step_factor(e, expo)
    if not e <= 1.0:  # rejected (or not finite): retry with a smaller step
        return False, h_next, h_next >= 1e-14 * max(1.0, abs(t))
    return True, h_next, True


@_njit(cache=True, nogil=True, error_model="numpy")
def _step_factor(e, expo):
    """Step-size factor from the scaled error norm e of a method whose error is O(h^(1/expo))."""
    if not _math.isfinite(e):
        return 0.1
    if e == 0.0:
        return 5.0
    return min(5.0, max(0.2, 0.9 * e ** (-expo)))
