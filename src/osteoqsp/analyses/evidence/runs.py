"""The simulations behind the comparisons, each run once per process: cached under a frozen `RunKey`."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from osteoqsp.runs.library import scenario_of
from osteoqsp.runs.results import Result
from osteoqsp.runs.scenario import Scenario
from osteoqsp.runs.simulation import simulate

Overrides = Mapping[str, Mapping[str, float]]  # species -> {parameter: value in model units}


def _frozen(spec: str | Mapping[str, Any]) -> str:
    """A scenario spec (a built-in name, or an inline mapping) as a hashable string: the name, or the
    mapping's canonical JSON (which starts with '{', as no name does)."""
    return json.dumps(spec, sort_keys=True) if isinstance(spec, Mapping) else str(spec)


@lru_cache(maxsize=256)
def _scenario(frozen: str) -> Scenario:
    return scenario_of(json.loads(frozen) if frozen.startswith("{") else frozen, where="validation")


def scenario(spec: str | Mapping[str, Any]) -> Scenario:
    """The scenario of a validation item: a built-in name or an inline scenario (validated once)."""
    return _scenario(_frozen(spec))


def species_of(item: Mapping[str, Any]) -> str:
    """The species of a validation item's scenario."""
    return scenario(item["scenario"]).species


@dataclass(frozen=True)
class RunKey:
    """One simulation: the scenario (frozen by `_frozen`) and the parameters in force, sorted by name."""
    scenario: str
    parameters: tuple[tuple[str, float], ...]

    @classmethod
    def of(cls, item: Mapping[str, Any], overrides: Overrides | None,
           scenario_spec: str | Mapping[str, Any] | None = None) -> RunKey:
        """The run of a validation item (or of `scenario_spec` under the item's parameters): the overrides
        of its species, and over them the item's own parameters (assumptions of that study)."""
        spec = item["scenario"] if scenario_spec is None else scenario_spec
        species = scenario(spec).species
        params = {**((overrides or {}).get(species) or {}), **(item.get("parameters") or {})}
        return cls(_frozen(spec), tuple(sorted(params.items())))


@lru_cache(maxsize=256)
def run(key: RunKey) -> Result:
    """The simulation of a key (cached: validation runs each distinct key once)."""
    return simulate(_scenario(key.scenario), parameters=dict(key.parameters) or None)


def series(r: Result, name: str) -> np.ndarray:
    """An observable, or a ratio the evidence reports (uc_to_c_ratio: ucOC / cOC)."""
    if name == "uc_to_c_ratio":
        return r["ucoc"] / r["coc"]
    return r[name]
