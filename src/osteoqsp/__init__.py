"""osteoqsp: a QSP simulator of bone homeostasis under vitamin K2 (MK-7).

The package is layered; each layer imports only the ones above it:
    symbolic/   a small symbolic layer: declaring states, parameters, rates, observables; units (no biology)
    model/      the biology, declared once: one file per layer, parameter tables with references
    engine/     generic numerics: code generation, compiled integrators, event tables, burn-in
    runs/       scenarios, the built-in library, a prepared subject, simulate, populations, results
    analyses/   virtual trials, calibration, sensitivity, attribution, evidence and validation
    interop/    SBML and PEtab export
    shells/     the command line, the dashboard, the HTML report, the docs pages, the demo
The public names below load on first use, so that `import osteoqsp` and `osteoqsp --help` stay fast.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_PUBLIC = {
    "Scenario": "osteoqsp.runs.scenario", "ScenarioError": "osteoqsp.errors", "SolveError": "osteoqsp.errors",
    "SteadyStateError": "osteoqsp.errors", "SolverSettings": "osteoqsp.engine.settings",
    "Result": "osteoqsp.runs.results", "simulate": "osteoqsp.runs.simulation",
    "PopulationResult": "osteoqsp.runs.population", "simulate_population": "osteoqsp.runs.population",
    "prepare": "osteoqsp.runs.subject",
}

if TYPE_CHECKING:
    from osteoqsp.engine.settings import SolverSettings
    from osteoqsp.errors import ScenarioError, SolveError, SteadyStateError
    from osteoqsp.runs.population import PopulationResult, simulate_population
    from osteoqsp.runs.results import Result
    from osteoqsp.runs.scenario import Scenario
    from osteoqsp.runs.simulation import simulate
    from osteoqsp.runs.subject import prepare


def __getattr__(name: str) -> Any:
    if name in _PUBLIC:
        return getattr(import_module(_PUBLIC[name]), name)
    raise AttributeError(f"module 'osteoqsp' has no attribute {name!r}")


__all__ = [*_PUBLIC, "__version__"]
