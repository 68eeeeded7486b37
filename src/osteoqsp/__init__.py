"""osteoqsp: a QSP simulator of bone homeostasis under vitamin K2 (MK-7)."""

from __future__ import annotations

__version__ = "0.1.0"

from .engine import SolverSettings  # noqa: E402
from .results import Result  # noqa: E402
from .scenario import Scenario, ScenarioError  # noqa: E402
from .simulation import simulate  # noqa: E402

__all__ = ["Scenario", "ScenarioError", "Result", "SolverSettings", "simulate", "__version__"]
