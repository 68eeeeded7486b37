"""osteoqsp: a QSP simulator of bone homeostasis under vitamin K2 (MK-7)."""

from __future__ import annotations

__version__ = "0.1.0"

from osteoqsp.engine import SolverSettings  # noqa: E402
from osteoqsp.runs.results import Result  # noqa: E402
from osteoqsp.runs.scenario import Scenario, ScenarioError  # noqa: E402
from osteoqsp.runs.simulation import simulate  # noqa: E402

__all__ = ["Scenario", "ScenarioError", "Result", "SolverSettings", "simulate", "__version__"]
