"""Generic numerics over a declared model: code generation, compiled integrators, event tables, burn-in.

Nothing here names a molecule; it imports only the symbolic layer. Layout:
    settings.py   SolverSettings, the method codes, POPULATION_SETTINGS
    events.py     Events (one subject) and EventBatch (many, padded)
    codegen.py    the declaration -> a numba module (rates, Jacobian, observables, the linear block)
    linear.py     the linear block, found symbolically (for the split method)
    kernels/      the integrators as numba source (dopri5, rodas4, split, the driver, the steady state)
    engine.py     Engine: compile a model, burn-in, solve one subject or a batch, observe
    jax_backend.py  the right-hand side printed for JAX (optional, for bench/; jax imported on use)
`Engine` (and with it sympy and numba) loads on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from osteoqsp.engine.settings import METHODS, POPULATION_SETTINGS, SolverSettings
from osteoqsp.errors import SolveError, SteadyStateError

if TYPE_CHECKING:
    from osteoqsp.engine.engine import Engine
    from osteoqsp.engine.events import EventBatch, Events


def __getattr__(name: str) -> Any:
    if name == "Engine":
        from osteoqsp.engine.engine import Engine

        return Engine
    if name in ("Events", "EventBatch"):
        from osteoqsp.engine import events

        return getattr(events, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["Engine", "Events", "EventBatch", "SolverSettings", "SolveError", "SteadyStateError", "METHODS",
           "POPULATION_SETTINGS"]
