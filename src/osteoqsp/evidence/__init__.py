"""Evidence: the packaged targets of the cited studies, and `validate`: observed against simulated.

`targets.csv` is the package's copy of shared/evidence/targets.csv (target id = 1-based row number).
`validation.yaml` says, for each target the model can be compared with, which scenario reproduces it and
how the simulated number is read. Each comparison is inside or outside the target's interval: its
reported dispersion (SD: value +/- SD; 95 % CI or range: the bounds), or +/- 25 % where none is given.
"""

from __future__ import annotations

import csv
import math
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import numpy as np
import yaml

from ..results import Result
from ..scenario import Scenario
from ..simulation import simulate

DEFAULT_BAND = 0.25


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

    @property
    def inside(self) -> bool:
        return self.low <= self.simulated <= self.high

    @property
    def residual(self) -> float:
        """simulated - observed, in the target's unit."""
        return self.simulated - self.observed


def targets() -> list[dict[str, str]]:
    text = resources.files("osteoqsp.evidence").joinpath("targets.csv").read_text()
    return list(csv.DictReader(text.splitlines()))


def interval(row: dict[str, str]) -> tuple[float, float, str]:
    """(low, high, how) from the row's dispersion."""
    value = float(row["value"])
    disp, kind = row["dispersion"].strip(), row["dispersion_kind"].strip()
    bounds = re.fullmatch(r"(-?[\d.]+)\s*(?:-|\.\.)\s*(-?[\d.]+)", disp)
    if bounds and ("CI" in kind or "range" in kind):
        lo, hi = float(bounds.group(1)), float(bounds.group(2))
        return min(lo, hi), max(lo, hi), kind
    number = re.match(r"[\d.]+", disp)
    if number and ("SD" in kind or "+/-" in kind or "SEM" in kind):
        sd = float(number.group(0))
        return value - sd, value + sd, f"+/- {sd:g} ({kind})"
    band = DEFAULT_BAND * abs(value) if value != 0 else 0.1
    return value - band, value + band, "+/- 25 % (no dispersion reported)"


@lru_cache(maxsize=None)
def _run(key: str) -> Result:
    spec = yaml.safe_load(key)
    scenario = spec["scenario"]
    if isinstance(scenario, str):
        sc = Scenario.from_yaml(resources.files("osteoqsp").joinpath("scenarios", f"{scenario}.yaml"))
    else:
        sc = Scenario.from_dict(scenario, source=f"validation:{scenario.get('name', '?')}")
    result = simulate(sc, parameters=spec.get("parameters") or None)
    assert isinstance(result, Result)
    return result


def _series(r: Result, name: str) -> np.ndarray:
    if name == "uc_to_c_ratio":
        return r["ucoc"] / r["coc"]
    return r[name]


def measure(r: Result, m: dict[str, Any], spec: dict[str, Any]) -> float:
    kind = m["kind"]
    y = _series(r, m["observable"])
    t = r.time_day
    if kind == "value_at":
        return float(np.interp(m["time_day"], t, y)) * m.get("factor", 1.0)
    if kind == "tmax_h":
        return float(t[np.argmax(y - y[0])] * 24)
    if kind == "half_life_h":
        a, b = (np.interp(m[k] / 24, t, y - y[0]) for k in ("from_h", "to_h"))
        return float((m["to_h"] - m["from_h"]) * math.log(2) / math.log(a / b))
    if kind == "last_detectable_h":
        above = [h for h in m["times_h"] if np.interp(h / 24, t, y - y[0]) >= m["threshold"]]
        return float(max(above)) if above else 0.0
    if kind == "detectable":
        return float(np.max(y) >= m["threshold"])
    if kind == "rate_per_year":
        a, b = (float(np.interp(m[k], t, y)) for k in ("from_day", "to_day"))
        return (b - a) / ((m["to_day"] - m["from_day"]) / 365.25)
    if kind == "change_at":  # absolute change from the start, in the observable's unit
        return float(np.interp(m["time_day"], t, y) - y[0])
    if kind == "pct_change":
        return 100.0 * (float(np.interp(m["time_day"], t, y)) / y[0] - 1.0)
    if kind == "pct_vs":
        ref = _run(yaml.safe_dump({"scenario": m["reference"], "parameters": spec.get("parameters")}))
        a = float(np.interp(m["time_day"], t, y))
        b = float(np.interp(m["time_day"], ref.time_day, _series(ref, m["observable"])))
        return 100.0 * (a / b - 1.0)
    raise ValueError(f"unknown measure kind {kind!r}")


def validation_spec() -> list[dict[str, Any]]:
    return yaml.safe_load(resources.files("osteoqsp.evidence").joinpath("validation.yaml").read_text())


def validate() -> tuple[list[Comparison], list[dict[str, str]]]:
    """Every mapped target compared; and the targets not compared (with their row)."""
    rows = targets()
    spec = validation_spec()
    out = []
    for item in spec:
        row = rows[item["target"] - 1]
        r = _run(yaml.safe_dump({"scenario": item["scenario"], "parameters": item.get("parameters")}))
        low, high, how = interval(row)
        name = item["scenario"] if isinstance(item["scenario"], str) else item["scenario"]["name"]
        out.append(Comparison(item["target"], row["study"], row["endpoint"], float(row["value"]), row["unit"],
                              low, high, how, measure(r, item["measure"], item), name, item.get("assume", "")))
    mapped = {item["target"] for item in spec}
    missing = [dict(row, target=str(i)) for i, row in enumerate(rows, 1) if i not in mapped]
    return out, missing
