"""Observed against simulated: `validate` (the mapped evidence targets) and `check_constraints` (the claims
calibration keeps as soft targets)."""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from osteoqsp.analyses.evidence.measures import measure
from osteoqsp.analyses.evidence.runs import RunKey, run, species_of
from osteoqsp.analyses.evidence.tables import constraints, interval, targets, validation_spec


@dataclass(frozen=True)
class Comparison:
    target: int
    study: str
    endpoint: str
    observed: float
    unit: str
    low: float
    high: float
    interval: str
    simulated: float
    scenario: str
    assume: str
    item: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)  # its validation.yaml entry

    @property
    def inside(self) -> bool:
        return self.low <= self.simulated <= self.high

    @property
    def residual(self) -> float:
        """simulated - observed, in the target's unit."""
        return self.simulated - self.observed


def validate(overrides: dict[str, dict[str, float]] | None = None, only: set[int] | None = None,
             threads: int = 2) -> tuple[list[Comparison], list[dict[str, str]]]:
    """Every mapped target compared; and the targets not compared (with their row).

    overrides: species -> {parameter: value in model units} applied to every scenario of that species (a
    study's own `parameters` win); only: the target ids to compare (default all mapped). The distinct
    scenarios run in `threads` threads (the compiled solver releases the GIL)."""
    rows = targets()
    spec = [dict(item, overrides=overrides) for item in validation_spec() if only is None or item["target"] in only]
    keys = list(dict.fromkeys(RunKey.of(item, overrides) for item in spec))
    refs = list(dict.fromkeys(RunKey.of(item, overrides, item["measure"]["reference"]) for item in spec
                              if "reference" in item["measure"]))
    if keys:
        run(keys[0])  # the first run compiles the model (once per process), before the threads start
    with ThreadPoolExecutor(max_workers=max(1, threads)) as pool:
        list(pool.map(run, keys + refs))
    out = []
    for item in spec:
        row = rows[item["target"] - 1]
        low, high, how = interval(row)
        name = item["scenario"] if isinstance(item["scenario"], str) else item["scenario"]["name"]
        out.append(Comparison(item["target"], row["study"], row["endpoint"], float(row["value"]), row["unit"],
                              low, high, how, measure(run(RunKey.of(item, overrides)), item["measure"], item),
                              name, item.get("assume", ""), item))
    mapped = {item["target"] for item in validation_spec()}
    missing = [dict(row, target=str(i)) for i, row in enumerate(rows, 1) if i not in mapped]
    return out, missing


def check_constraints(overrides: dict[str, dict[str, float]] | None = None,
                      species: str | None = None) -> list[Comparison]:
    """Each constraint as a Comparison (target 0, study = its claim) under the parameter overrides."""
    out = []
    for item in constraints():
        item = dict(item, overrides=overrides)
        if species is not None and species_of(item) != species:
            continue
        r = run(RunKey.of(item, overrides))
        if "above" in item or "below" in item:  # one-sided
            bound = float(item.get("above", item.get("below")))
            low, high = (bound, math.inf) if "above" in item else (-math.inf, bound)
            how = f"{'above' if 'above' in item else 'below'} {bound:g} (assumed, constraints.yaml)"
        else:
            bound, low, high = float(item["value"]), float(item["low"]), float(item["high"])
            how = "assumed (constraints.yaml)"
        out.append(Comparison(0, f"claim {item['claim']}", item["id"], bound, item["unit"], low, high, how,
                              measure(r, item["measure"], item), str(item["scenario"]), item["assume"], item))
    return out
