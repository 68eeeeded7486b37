"""`Engine`: a declared model compiled, and the calls that run subjects on it.

    engine = Engine(model)
    p = engine.parameter_vector(values)
    y0, p = engine.baseline(p, t_ref)            # steady state at t_ref, history to t = 0, references set
    states, status, steps = engine.solve(y0, p, t_out, events)
Many subjects: baseline_batch, solve_batch and observe_batch run in compiled code, threads over subjects.
"""

from __future__ import annotations

import numpy as np

from osteoqsp.engine.codegen import compile_model
from osteoqsp.engine.events import EventBatch, Events
from osteoqsp.engine.settings import SolverSettings
from osteoqsp.errors import SolveError, SteadyStateError
from osteoqsp.symbolic.declare import Model


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

    def steady_start(self, p: np.ndarray, t_ref: float = 0.0) -> tuple[np.ndarray, np.ndarray] | None:
        """The steady state of parameter vector p at frozen time t_ref and p with its steady references: the
        warm start of `baseline_batch` for subjects near p (None when no steady state is found)."""
        y_init = np.array([s.initial for s in self.model.states], dtype=float)
        p = np.array(p, dtype=float)
        y, ok = self.mod.steady_start(y_init, p, float(t_ref), self.free, self.n_params, self._ref_kinds())
        return (y, p) if ok else None

    def _ref_kinds(self) -> np.ndarray:
        return np.array([0 if k == "steady" else 1 for k in self.ref_kind], dtype=np.int64)

    def baseline_batch(self, p: np.ndarray, t_ref: np.ndarray, settings: SolverSettings | None = None,
                       warm: tuple[np.ndarray, np.ndarray] | None = None
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """`baseline` for many subjects: p (S, P), t_ref (S,) -> y0 (S, n), p with references set, status (S,):
        0 ok, 1 no steady state, 2 history failed. `warm` (from `steady_start`): every subject's steady-state
        search starts there (a population near its typical subject: about 5 times fewer Newton iterations)."""
        settings = settings or SolverSettings()
        y_init = np.array([s.initial for s in self.model.states], dtype=float)
        y_warm, p_warm = warm if warm is not None else (y_init, np.ones(p.shape[1]))
        return self.mod.baseline_batch(y_init, np.ascontiguousarray(p, dtype=float),
                                       np.asarray(t_ref, dtype=float), self.free, self.n_params, self._ref_kinds(),
                                       settings.rtol, settings.atol, settings.max_steps,
                                       np.ascontiguousarray(y_warm, dtype=float),
                                       np.ascontiguousarray(p_warm, dtype=float), warm is not None)

    def solve(self, y0: np.ndarray, p: np.ndarray, t_out: np.ndarray, events: Events | None = None,
              settings: SolverSettings | None = None) -> tuple[np.ndarray, int, int]:
        """One subject (one thread): states at t_out, status (0 ok, 1 after fallback, >= 2 failed), steps."""
        settings = settings or SolverSettings()
        events = events or Events.none()
        out = np.full((t_out.size, self.n_states), np.nan)
        status, steps = self.mod.solve_one(y0, p, 0.0, t_out, events.table, len(events), settings.rtol,
                                           settings.atol, settings.code, settings.max_steps,
                                           settings.switch_steps, out)
        return out, int(status), int(steps)

    def solve_batch(self, y0: np.ndarray, p: np.ndarray, t_out: np.ndarray, events: EventBatch | Events,
                    settings: SolverSettings | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Many subjects (threads over subjects): y0 (S, n), p (S, P); events per subject, or one table for
        all -> states (S, T, n), status (S,), steps (S,)."""
        settings = settings or SolverSettings()
        if isinstance(events, Events):
            events = EventBatch.repeat(events, y0.shape[0])
        return self.mod.solve_batch(y0, p, np.zeros(y0.shape[0]), t_out, events.table, events.count,
                                    settings.rtol, settings.atol, settings.code, settings.max_steps,
                                    settings.switch_steps)

    def observe(self, t_out: np.ndarray, states: np.ndarray, p: np.ndarray) -> np.ndarray:
        """Observables of one subject: states (T, n) -> (T, observables)."""
        return self.observe_batch(t_out, states[None], p[None])[0]

    def observe_batch(self, t_out: np.ndarray, states: np.ndarray, p: np.ndarray) -> np.ndarray:
        """Observables of many subjects: states (S, T, n), p (S, P) -> (S, T, observables)."""
        return self.mod.observe_batch(t_out, states, p)

    def lets(self, t: float, y: np.ndarray, p: np.ndarray) -> dict[str, float]:
        out = np.empty(len(self.gen.let_names))
        self.mod.lets(t, y, p, out)
        return dict(zip(self.gen.let_names, out.tolist()))
