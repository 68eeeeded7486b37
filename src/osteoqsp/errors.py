"""The errors a user can meet, importable without the numerical stack (the command line catches them)."""

from __future__ import annotations


class ScenarioError(ValueError):
    """A user error in a scenario or trial file: one line naming the field and the reason."""


class SolveError(RuntimeError):
    """The integrator failed for a subject (step size underflow, too many steps, non-finite values)."""


class SteadyStateError(RuntimeError):
    """No homeostatic steady state was found for a subject's parameters."""
