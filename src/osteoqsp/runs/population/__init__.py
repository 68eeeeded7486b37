"""Virtual populations: variability and covariates (sampling.py), chunked runs streamed to disk with resume
and Dask (run.py), and their result (result.py)."""

from __future__ import annotations

from osteoqsp.runs.population.result import PopulationResult
from osteoqsp.runs.population.run import RunStopped, simulate_population
from osteoqsp.model.parameters import upper_bounds, variability
from osteoqsp.runs.population.sampling import Draw, sample_subjects

__all__ = ["Draw", "PopulationResult", "RunStopped", "simulate_population", "sample_subjects", "upper_bounds", "variability"]
