"""Generic numerics over a declared model: compiled kernels, steady-state burn-in, dosing events.

Nothing here names a molecule. `Engine` turns a `Model` into compiled functions and runs subjects:
    engine = Engine(model)
    p = engine.parameter_vector(values)
    y0, p = engine.baseline(p, t_ref)          # steady state at t_ref, history to t = 0, references set
                                               # (compiled: kernel.baseline_one; many subjects: baseline_batch)
    Y, status = engine.solve(y0, p, t_out, events)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from osteoqsp.symbolic.declare import Model
from osteoqsp.engine.codegen import compile_model

METHODS = {"dopri5": 0, "rodas4": 1, "split": 2}


@dataclass(frozen=True)
class SolverSettings:
    method: str = "dopri5"
    rtol: float = 1e-7
    atol: float = 1e-13
    max_steps: int = 2_000_000  # per stretch between two stops (output times, doses)
    switch_steps: int = 20_000  # explicit steps in one stretch before handing it to the implicit method

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {list(METHODS)}")
        if not (0 < self.rtol < 1 and 0 < self.atol):
            raise ValueError("tolerances must be positive (rtol < 1)")


# Populations and trials: many subjects under daily doses, where the split method's exact pharmacokinetics
# saves most of the steps (bench/README.md). At rtol 1e-6 their outputs stay within about 4e-5 of each
# observable's scale of a tight reference (BMD within 1e-4 percentage points; measured by
# bench/population_scale.py); the split method holds slow factors (absorption falling with age) constant
# over a step, which bounds its accuracy at about 1e-6 of the absorbed amounts whatever the tolerance.
POPULATION_SETTINGS = SolverSettings(method="split", rtol=1e-6)


class SolveError(RuntimeError):
    pass


class SteadyStateError(RuntimeError):
    pass


class Engine:
    def __init__(self, model: Model) -> None:
        self.model = model
        self.gen = compile_model(model)
        self.mod = self.gen.module
        self.n_states = len(model.states)
        self.n_params = len(model.parameters)
        self.free = np.array([not s.accumulator for s in model.states])
        self.ref_kind = np.array([r.kind for r in model.references])

    def state_index(self, name: str) -> int:
        return self.gen.state_index[name]

    def parameter_vector(self, values: dict[str, float]) -> np.ndarray:
        missing = [n for n in self.model.parameters if n not in values]
        if missing:
            raise KeyError(f"no value for parameters {missing}")
        p = np.ones(self.n_params + len(self.model.references))
        for i, name in enumerate(self.model.parameters):
            p[i] = values[name]
        return p

    def baseline(self, p: np.ndarray, t_ref: float = 0.0, settings: SolverSettings | None = None
                 ) -> tuple[np.ndarray, np.ndarray]:
        """Steady state at frozen time t_ref (<= 0), then the subject's history from t_ref to 0."""
        y0, p_out, status = self.baseline_batch(p[None, :], np.array([t_ref]), settings)
        if status[0] == 1:
            raise SteadyStateError("no steady state found")
        if status[0] == 2:
            raise SolveError(f"history from t = {t_ref:.1f} day failed")
        return y0[0], p_out[0]

    def baseline_batch(self, p: np.ndarray, t_ref: np.ndarray, settings: SolverSettings | None = None
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """`baseline` for many subjects in compiled code, threads over subjects: p (S, P), t_ref (S,) ->
        y0 (S, n), p with references set, status (S,): 0 ok, 1 no steady state, 2 history failed."""
        settings = settings or SolverSettings()
        y_init = np.array([s.initial for s in self.model.states], dtype=float)
        kinds = np.array([0 if k == "steady" else 1 for k in self.ref_kind], dtype=np.int64)
        return self.mod.baseline_batch(y_init, np.ascontiguousarray(p, dtype=float),
                                       np.asarray(t_ref, dtype=float), self.free, self.n_params, kinds,
                                       settings.rtol, settings.atol, settings.max_steps)

    def solve(self, y0: np.ndarray, p: np.ndarray, t_out: np.ndarray, ev_t: np.ndarray, ev_i: np.ndarray,
              ev_a: np.ndarray, settings: SolverSettings | None = None) -> tuple[np.ndarray, int, int]:
        """One subject: states at t_out, status (0 ok, 1 after fallback, >= 2 failed) and step count."""
        settings = settings or SolverSettings()
        out = np.full((t_out.size, self.n_states), np.nan)
        status, steps = self.mod.solve_one(y0, p, 0.0, t_out, ev_t, ev_i.astype(np.int64), ev_a, ev_t.size,
                                           settings.rtol, settings.atol, METHODS[settings.method],
                                           settings.max_steps, settings.switch_steps, out)
        return out, int(status), int(steps)

    def solve_batch(self, y0: np.ndarray, p: np.ndarray, t_out: np.ndarray, ev_t: np.ndarray, ev_i: np.ndarray,
                    ev_a: np.ndarray, n_ev: np.ndarray, settings: SolverSettings | None = None
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        settings = settings or SolverSettings()
        return self.mod.solve_batch(y0, p, np.zeros(y0.shape[0]), t_out, ev_t, ev_i.astype(np.int64), ev_a,
                                    n_ev.astype(np.int64), settings.rtol, settings.atol, METHODS[settings.method],
                                    settings.max_steps, settings.switch_steps)

    def observe(self, t_out: np.ndarray, states: np.ndarray, p: np.ndarray) -> np.ndarray:
        out = np.empty((t_out.size, len(self.model.observables)))
        row = np.empty(len(self.model.observables))
        for k in range(t_out.size):
            self.mod.observe(float(t_out[k]), states[k], p, row)
            out[k] = row
        return out

    def lets(self, t: float, y: np.ndarray, p: np.ndarray) -> dict[str, float]:
        out = np.empty(len(self.gen.let_names))
        self.mod.lets(t, y, p, out)
        return dict(zip(self.gen.let_names, out.tolist()))


__all__ = ["Engine", "SolverSettings", "SolveError", "SteadyStateError", "METHODS", "POPULATION_SETTINGS"]
