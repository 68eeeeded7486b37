"""Inter-individual variability: each subject's parameters are the typical values times exp(eta),
eta ~ N(0, log(1 + cv^2)), for the parameters of `model/params/variability.csv` (with the scenario's
correlations), then the scenario's covariates. Subject i draws from a generator seeded by (seed, i), so a
subject is the same whatever the chunking, and a resumed run draws the same subjects."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from osteoqsp.model import build_model
from osteoqsp.model.parameters import upper_bounds, variability

def _eta_factor(names: list[str], omega: np.ndarray, correlations: dict[str, float]) -> np.ndarray:
    """Matrix turning independent standard normals into correlated etas: L diag(omega)."""
    corr = np.eye(len(names))
    for pair, rho in correlations.items():
        a, b = (x.strip() for x in pair.split(","))
        if a not in names or b not in names:
            raise KeyError(f"correlation {pair!r}: both must be parameters of the variability table")
        i, j = names.index(a), names.index(b)
        corr[i, j] = corr[j, i] = rho
    try:
        chol = np.linalg.cholesky(corr)
    except np.linalg.LinAlgError:
        raise ValueError("the correlations do not form a valid correlation matrix") from None
    return np.diag(omega) @ chol


@dataclass(frozen=True)
class Draw:
    """One subject of a population: its parameter values (model units) and its own daily dose of each agent
    that a dose covariate sets (in the agent's dose unit per day)."""

    values: dict[str, float]
    daily_doses: dict[str, float] = field(default_factory=dict)


def sample_subjects(typical: dict[str, float], ids: np.ndarray, seed: int, population: Any = None,
                    species: str = "human") -> list[Draw]:
    """The subjects `ids`; subject i draws from a generator seeded by (seed, i), so a subject is the same
    whatever the chunking (and a resumed run draws the same subjects). `population` (the scenario's) adds
    correlations and covariates (the species model's vocabulary, drawn in its order after the etas)."""
    cvs = {k: v for k, v in variability().items() if k in typical}
    names = sorted(cvs)
    omega = np.array([math.sqrt(math.log1p(cvs[n] ** 2)) for n in names])
    factor = _eta_factor(names, omega, population.correlations if population is not None else {})
    upper = upper_bounds()
    covariates = build_model(species).covariates if population is not None and population.covariates else ()
    draws = _draws(species, population, typical)
    out = []
    for sid in ids:
        person, d = (population.person(int(sid)), population.draw(int(sid))) if draws else (int(sid), 0)
        rng = np.random.default_rng([seed, person])  # the same person under every parameter draw
        row = factor @ rng.standard_normal(len(names))
        values = {**typical, **draws[d]} if draws else dict(typical)
        for name, e in zip(names, row):
            values[name] = min(values[name] * math.exp(e), upper.get(name, math.inf))
        doses: dict[str, float] = {}
        for cov in covariates:
            spec = population.covariate(cov.name, cov.unit)
            if spec is None:
                continue
            kind, a, b = spec
            x = rng.uniform(a, b) if kind == "uniform" else rng.normal(a, b)
            x = x if cov.signed else max(x, 0.0)
            if cov.scales_doses_of is not None:
                doses[cov.scales_doses_of] = x
            else:
                assert cov.update is not None
                values.update(cov.update(values, x))
        out.append(Draw(values, doses))
    return out


def _draws(species: str, population: Any, typical: dict[str, float]) -> list[dict[str, float]]:
    """The first `uncertainty.draws` parameter sets of the shipped posterior, in model units ([] without)."""
    if population is None or getattr(population, "uncertainty", None) is None:
        return []
    from osteoqsp.model.parameters import load_parameters, posterior
    from osteoqsp.symbolic.units import convert

    model = build_model(species)
    table = load_parameters(species)
    return [{k: convert(v, table.rows[k].unit, model.parameter_units[k]) for k, v in row.items() if k in typical}
            for row in posterior(species)[:population.uncertainty.draws]]
