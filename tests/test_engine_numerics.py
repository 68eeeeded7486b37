"""The engine's numerics on a small declared toy model (no biology): convergence order of each method, the
generated Jacobian against finite differences, the matrix exponential against scipy, and event tables
against a hand-computed superposition of doses.

Toy model: an oral dose into a depot, first-order absorption (ka) into a central pool, first-order
elimination (ke) into a tally; an effect state driven non-linearly by the central amount and by a time
forcing. The depot, central pool and tally form the linear block (solved exactly by the split method); the
effect state is integrated by each method's Runge-Kutta or Rosenbrock stages.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pytest
import sympy as sp
from scipy.integrate import solve_ivp
from scipy.linalg import expm

from osteoqsp.engine import Engine, EventBatch, Events, SolverSettings
from osteoqsp.symbolic.declare import Model, ModelBuilder

VALUES = {"ka": 1.5, "ke": 0.3, "kin": 2.0, "kout": 1.0, "emax": 1.5, "ec50": 2.0}  # 1/day and amounts
UNITS = {"ka": "1/day", "ke": "1/day", "kin": "1/day", "kout": "1/day", "emax": "1", "ec50": "nmol"}


def toy_model() -> Model:
    m = ModelBuilder("toy", UNITS)
    m.layer("toy")
    depot = m.state("depot", "nmol", "dosed amount not yet absorbed")
    central = m.state("central", "nmol", "amount in the central pool")
    tally = m.state("eliminated", "nmol", "amount eliminated, cumulative", accumulator=True)
    effect = m.state("effect", "1", "a response driven by the central amount", initial=2.0)
    m.flux("absorption", m.p("ka", "1/day") * depot, depot, central, "nmol/day", "")
    m.flux("elimination", m.p("ke", "1/day") * central, central, tally, "nmol/day", "")
    drive = m.let("drive", 1 + m.p("emax", "1") * central**2 / (central**2 + m.p("ec50", "nmol") ** 2), "1", "")
    m.flux("effect_in", m.p("kin", "1/day") * drive * (1 + sp.exp(-m.t / 5)) / 2, None, effect, "1/day", "")
    m.flux("effect_out", m.p("kout", "1/day") * effect, effect, None, "1/day", "")
    m.observable("central_amount", central, "nmol", "the central pool")
    m.dose_target("drug", depot, "nmol", 1.0, max_dose=1e6)
    return m.build()


@lru_cache(maxsize=1)
def toy() -> Engine:
    return Engine(toy_model())


def _p(eng: Engine) -> np.ndarray:
    return eng.parameter_vector(VALUES)


def _y0(eng: Engine, dose: float = 10.0) -> np.ndarray:
    y = np.array([s.initial for s in eng.model.states], dtype=float)
    y[eng.state_index("depot")] = dose
    return y


def _reference(eng: Engine, y0: np.ndarray, t_end: float) -> np.ndarray:
    p = _p(eng)

    def f(t: float, y: np.ndarray) -> np.ndarray:
        dy = np.empty_like(y)
        eng.mod.rhs(t, y, p, dy)
        return dy

    sol = solve_ivp(f, (0.0, t_end), y0, method="DOP853", rtol=1e-13, atol=1e-14)
    assert sol.success
    return sol.y[:, -1]


def test_the_toy_model_has_the_expected_linear_block():
    eng = toy()
    names = eng.model.state_names
    assert {names[i] for i in eng.mod.LIN_IDX} == {"depot", "central", "eliminated"}
    assert [names[i] for i in eng.mod.NL_IDX] == ["effect"]
    assert [names[eng.mod.LIN_IDX[r]] for r in eng.mod.LIN_READ] == ["central"]


@pytest.mark.parametrize("method,order", [("dopri5", 5), ("rodas4", 4), ("split", 4)])
def test_convergence_order_on_fixed_steps(method, order):
    """N equal steps (each a stretch of its own, accepted whatever its error): the error at t = 2 day falls
    as h^order when h halves, at least (on this problem Rodas4's leading error term is small, so its rate
    at these steps is about 5; dopri5 and split approach 5 and 4 from above)."""
    eng = toy()
    mod, p = eng.mod, _p(eng)
    y0 = _y0(eng)
    ref = _reference(eng, y0, 2.0)
    n = y0.size
    errors = []
    for steps in (16, 32, 64, 128):
        y, h = y0.copy(), 2.0 / steps
        work = {"dopri5": lambda: mod.dopri5_work(n), "rodas4": lambda: mod.rodas4_work(n),
                "split": lambda: mod.split_work(n, True)}[method]()
        if method == "split":
            mod.split_prepare(work, p)  # what the driver does once per subject
        advance = {"dopri5": mod._dp5_to, "rodas4": mod._rodas4_to, "split": mod._split_to}[method]
        for k in range(steps):
            _, taken, ok = advance(k * h, (k + 1) * h, y, p, h, 1e12, 1e12, 10, work)
            assert ok and taken == 1
        errors.append(np.max(np.abs(y - ref)))
    rates = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    assert np.all(rates > order - 0.3) and order - 0.3 < rates[-1] < order + 1.3, (method, errors, rates)


@pytest.mark.parametrize("method", ["dopri5", "rodas4", "split"])
def test_adaptive_methods_meet_their_tolerance(method):
    eng = toy()
    y0 = _y0(eng)
    ref = _reference(eng, y0, 2.0)
    for rtol in (1e-6, 1e-9):
        out, status, _ = eng.solve(y0, _p(eng), np.array([0.0, 2.0]), None, SolverSettings(method=method, rtol=rtol,
                                                                                         atol=1e-14))
        assert status == 0
        assert np.max(np.abs(out[-1] - ref) / np.abs(ref).clip(1e-3)) < 50 * rtol, (method, rtol)


def test_generated_jacobian_matches_finite_differences():
    eng = toy()
    p = _p(eng)
    rng = np.random.default_rng(0)
    for t in (0.0, 0.7, 3.0):
        y = rng.uniform(0.1, 5.0, eng.n_states)
        jac = np.empty((eng.n_states, eng.n_states))
        eng.mod.jac(t, y, p, jac)
        fd = np.empty_like(jac)
        for j in range(eng.n_states):
            step = 1e-6 * max(1.0, abs(y[j]))
            up, down = y.copy(), y.copy()
            up[j] += step
            down[j] -= step
            f_up, f_down = np.empty(eng.n_states), np.empty(eng.n_states)
            eng.mod.rhs(t, up, p, f_up)
            eng.mod.rhs(t, down, p, f_down)
            fd[:, j] = (f_up - f_down) / (2 * step)
        assert np.allclose(jac, fd, rtol=1e-7, atol=1e-9)
    assert jac[eng.state_index("effect"), eng.state_index("central")] != 0  # the non-linear coupling is there


def test_matrix_exponential_matches_scipy():
    """Pade (6, 6) with scaling and squaring, for norms from 1e-3 to 1e3, sparse and dense."""
    mod = toy().mod
    rng = np.random.default_rng(1)
    for size in (1, 3, 6):
        for scale in (1e-3, 0.4, 7.0, 1e3):
            a = rng.normal(size=(size, size)) * scale / size
            if size == 6:
                a[rng.uniform(size=a.shape) < 0.5] = 0.0
            a -= np.eye(size) * abs(scale)  # decaying, as the block's compartments are
            out = np.empty_like(a)
            mod._expm(a, out)
            want = expm(a)
            assert np.allclose(out, want, rtol=1e-11, atol=1e-13 * max(1.0, np.abs(want).max())), (size, scale)


def _superposition(t: np.ndarray, times: list[float], amounts: list[float]) -> np.ndarray:
    """Central amount after first-order absorption of each dose, summed (outputs at a dose time are pre-dose)."""
    ka, ke = VALUES["ka"], VALUES["ke"]
    out = np.zeros_like(t)
    for td, d in zip(times, amounts):
        dt = np.clip(t - td, 0.0, None)
        out += np.where(t > td, d * ka / (ka - ke) * (np.exp(-ke * dt) - np.exp(-ka * dt)), 0.0)
    return out


@pytest.mark.parametrize("method", ["dopri5", "rodas4", "split"])
def test_event_table_against_superposition(method):
    """Irregular doses, two at one time, outputs on and between dose times: the central amount is the sum of
    each dose's own curve; what was dosed is all in the depot, the pool or the tally."""
    eng = toy()
    times = [0.0, 0.3, 0.3, 1.25, 2.0, 4.5]
    amounts = [10.0, 3.0, 4.0, 0.5, 12.0, 7.0]
    dep = eng.state_index("depot")
    events = Events.of(times, [dep] * len(times), amounts)
    t_out = np.unique(np.concatenate([np.linspace(0.0, 6.0, 49), times]))
    y0 = _y0(eng, dose=0.0)
    out, status, _ = eng.solve(y0, _p(eng), t_out, events, SolverSettings(method=method, rtol=1e-10, atol=1e-14))
    assert status == 0
    central = out[:, eng.state_index("central")]
    want = _superposition(t_out, times, amounts)
    assert np.max(np.abs(central - want)) < 1e-7 * max(amounts)
    dosed_so_far = np.array([sum(a for td, a in zip(times, amounts) if td < t) for t in t_out])
    pools = out[:, [dep, eng.state_index("central"), eng.state_index("eliminated")]].sum(axis=1)
    assert np.allclose(pools, dosed_so_far, rtol=1e-9, atol=1e-9)


def test_event_batches_give_each_subject_its_own_doses():
    """Padded rows of different lengths and per-subject amounts: each row as if solved alone."""
    eng = toy()
    dep = eng.state_index("depot")
    base = Events.of([0.0, 1.0, 2.0], [dep] * 3, [5.0, 5.0, 5.0])
    one = Events.of([0.5], [dep], [20.0])
    batch = EventBatch.stack([base, one, Events.none()])
    assert batch.table.shape == (3, 3) and batch.count.tolist() == [3, 1, 0]
    scaled = EventBatch.scaled(base, np.array([[1.0, 2.0, 0.5]]))
    assert scaled.table["amount"].tolist() == [[5.0, 10.0, 2.5]]
    t_out = np.linspace(0.0, 3.0, 13)
    y0 = np.tile(_y0(eng, dose=0.0), (3, 1))
    p = np.tile(_p(eng), (3, 1))
    states, status, _ = eng.solve_batch(y0, p, t_out, batch)
    assert np.all(status == 0)
    c = eng.state_index("central")
    assert np.allclose(states[0, :, c], _superposition(t_out, [0.0, 1.0, 2.0], [5.0] * 3), atol=1e-5)
    assert np.allclose(states[1, :, c], _superposition(t_out, [0.5], [20.0]), atol=1e-5)
    assert np.all(states[2, :, c] == 0.0)
    for s, ev in enumerate((base, one, Events.none())):
        alone, _, _ = eng.solve(y0[s], p[s], t_out, ev)
        assert np.array_equal(alone, states[s])
