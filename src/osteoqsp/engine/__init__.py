"""Generic numerics over a declared model: compiled kernels, steady-state burn-in, dosing events.

Nothing here names a molecule. `Engine` turns a `Model` into compiled functions and runs subjects:
    engine = Engine(model)
    p = engine.parameter_vector(values)
    y0, p = engine.baseline(p, t_ref)          # steady state at t_ref, history to t = 0, references set
    Y, status = engine.solve(y0, p, t_out, events)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..model.declare import Model
from .codegen import compile_model
from .steady import SteadyStateError, newton_steady

METHODS = {"dopri5": 0, "rodas4": 1}


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


class SolveError(RuntimeError):
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

    def _set_refs(self, t: float, y: np.ndarray, p: np.ndarray, kind: str) -> None:
        out = np.empty(len(self.model.references))
        self.mod.references(t, y, p, out)
        sel = self.ref_kind == kind
        p[self.n_params:][sel] = out[sel]

    def baseline(self, p: np.ndarray, t_ref: float = 0.0, settings: SolverSettings | None = None
                 ) -> tuple[np.ndarray, np.ndarray]:
        """Steady state at frozen time t_ref (<= 0), then the subject's history from t_ref to 0."""
        settings = settings or SolverSettings()
        p = p.copy()
        y = np.array([s.initial for s in self.model.states], dtype=float)
        for _ in range(2):
            y = newton_steady(self.mod.rhs, self.mod.jac, y, p, t_ref, self.free)
            self._set_refs(t_ref, y, p, "steady")
        y = newton_steady(self.mod.rhs, self.mod.jac, y, p, t_ref, self.free)
        y[np.abs(y) < 1e-100] = 0.0  # remnants of the solve where the true steady state is zero
        if t_ref < 0:
            out = np.empty((1, self.n_states))
            status, _ = self.mod.solve_one(y, p, t_ref, np.array([0.0]), np.empty(0), np.empty(0, np.int64),
                                           np.empty(0), 0, settings.rtol, settings.atol, METHODS["rodas4"],
                                           settings.max_steps, settings.switch_steps, out)
            if status >= 2:
                raise SolveError(f"history from t = {t_ref:.1f} day failed (status {status})")
            y = out[0].copy()
        y[~self.free] = 0.0
        self._set_refs(0.0, y, p, "start")
        return y, p

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


__all__ = ["Engine", "SolverSettings", "SolveError", "SteadyStateError", "METHODS"]
