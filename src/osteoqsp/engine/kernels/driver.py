"""One subject over its output times and events; many subjects in threads; observables of many subjects.

Events are applied inside the compiled loop: the integrator stops exactly at each event time, adds the
amount to its state, and goes on. An explicit method (0, 2) hands a stretch between two stops to Rodas4 (1)
after switch_steps steps (a stiff stretch), and from then on keeps Rodas4 for that subject.
Status per subject: 0 ok, 1 ok after the fallback, 2 failed (step size underflow or too many steps),
3 non-finite values.
"""

# ruff: noqa: F821  (this text is appended to a generated module: see kernels/__init__.py)
import math as _math

import numpy as _np
from numba import njit as _njit
from numba import prange as _prange

DOPRI5, RODAS4, SPLIT = 0, 1, 2


@_njit(cache=True, nogil=True, error_model="numpy")
def _advance(method, t, t_end, y, p, h, rtol, atol, max_steps, dp5, ros, spl):
    if method == DOPRI5:
        return _dp5_to(t, t_end, y, p, h, rtol, atol, max_steps, dp5)
    if method == SPLIT:
        return _split_to(t, t_end, y, p, h, rtol, atol, max_steps, spl)
    return _rodas4_to(t, t_end, y, p, h, rtol, atol, max_steps, ros)


@_njit(cache=True, nogil=True, error_model="numpy")
def solve_one(y0, p, t0, t_out, events, n_events, rtol, atol, method, max_steps, switch_steps, out):
    """Integrate one subject from t0 over the output grid t_out (ascending, >= t0) with the first n_events
    of `events` (EVENT records in time order). Writes the states at t_out into out; returns (status, steps).
    Outputs due at a time are recorded before the events due then (a trough, as in NONMEM records)."""
    n = y0.shape[0]
    y = y0.copy()
    dp5 = dopri5_work(n)
    ros = rodas4_work(n)
    spl = split_work(n, method == SPLIT)
    if method == SPLIT:
        split_prepare(spl, p)
    ysave = _np.empty(n)
    t = t0
    h = 0.25 if method == SPLIT else 1e-3
    io = 0
    ie = 0
    steps = 0
    status = 0
    m = method
    n_out = t_out.shape[0]
    while io < n_out:
        while io < n_out and t_out[io] <= t:
            for i in range(n):
                out[io, i] = y[i]
            io += 1
        while ie < n_events and events[ie].time <= t:
            y[events[ie].state] += events[ie].amount
            if m == SPLIT:
                split_event(spl, events[ie].state)
            ie += 1
        if io >= n_out:
            break
        target = t_out[io]
        if ie < n_events and events[ie].time < target:
            target = events[ie].time
        for i in range(n):
            ysave[i] = y[i]
        hsave = h
        budget = min(max_steps, switch_steps) if m != RODAS4 else max_steps
        h, k, ok = _advance(m, t, target, y, p, h, rtol, atol, budget, dp5, ros, spl)
        steps += k
        if not ok and m != RODAS4:
            for i in range(n):
                y[i] = ysave[i]
            m = RODAS4
            status = 1
            h, k, ok = _advance(m, t, target, y, p, hsave, rtol, atol, max_steps, dp5, ros, spl)
            steps += k
        if not ok:
            return 2, steps
        for i in range(n):
            if not _math.isfinite(y[i]):
                return 3, steps
        t = target
    return status, steps


@_njit(cache=True, parallel=True, error_model="numpy")
def solve_batch(y0, p, t0, t_out, events, n_events, rtol, atol, method, max_steps, switch_steps):
    """Many subjects at once (threads over subjects). y0: (S, n), p: (S, P), t0: (S,), events: (S, E) EVENT
    records padded per row, n_events: (S,)."""
    n_sub = y0.shape[0]
    out = _np.full((n_sub, t_out.shape[0], y0.shape[1]), _np.nan)
    status = _np.zeros(n_sub, dtype=_np.int64)
    steps = _np.zeros(n_sub, dtype=_np.int64)
    for s in _prange(n_sub):
        st, k = solve_one(y0[s], p[s], t0[s], t_out, events[s], n_events[s], rtol, atol, method, max_steps,
                          switch_steps, out[s])
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
