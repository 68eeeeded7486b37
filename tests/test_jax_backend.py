"""The JAX right-hand side generated from the declaration (engine/jax_backend.py, for the benchmark against
diffrax) equals the numba one at random states, times and parameter values."""

from __future__ import annotations

import numpy as np
import pytest

from osteoqsp import Scenario
from osteoqsp.engine.jax_backend import rhs_source
from osteoqsp.runs.subject import engine_for, parameter_values

SCENARIO = {"name": "jax-rhs", "species": "human",
            "subject": {"sex": "female", "age": "58 year", "menopause_age": "51 year"},
            "intake": [{"agent": "MK-7", "dose": "180 ug", "every": "1 day"}], "duration": "10 day"}


def test_source_is_generated_without_jax():
    model = engine_for("human").model
    src = rhs_source(model)
    compile(src, "<jax rhs>", "exec")  # valid Python, whether or not jax is installed
    assert src.count("\n    _") == len(model.lets) + len(model.fluxes)


def test_jax_rhs_equals_numba_rhs():
    jax = pytest.importorskip("jax")
    from osteoqsp.engine.jax_backend import jax_rhs

    eng = engine_for("human")
    f = jax.jit(jax_rhs(eng.model))
    base = eng.parameter_vector(parameter_values(Scenario.from_dict(SCENARIO)))
    y_typ = np.array([max(s.initial, 1.0) for s in eng.model.states])
    rng = np.random.default_rng(16)
    for t in (-30.0, 0.0, *rng.uniform(0.0, 1000.0, 3)):  # before and after the start (Piecewise on t > 0)
        y = y_typ * rng.lognormal(0.0, 0.5, y_typ.size)
        p = base * rng.lognormal(0.0, 0.1, base.size)
        dy = np.empty(eng.n_states)
        eng.mod.rhs(t, y, p, dy)
        dj = np.asarray(f(t, y, p))
        assert dj.dtype == np.float64
        assert np.all(np.isfinite(dy))
        np.testing.assert_allclose(dj, dy, rtol=1e-11, atol=1e-14 * np.abs(dy).max())
