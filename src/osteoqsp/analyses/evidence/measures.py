"""How a simulated number is read from a run: one registry entry per `measure.kind` of validation.yaml and
constraints.yaml, with its value and the curve the value is read from (for the study figures)."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from osteoqsp.analyses.evidence.runs import RunKey, run, series
from osteoqsp.runs.results import Result


@dataclass(frozen=True)
class Reading:
    """What a measure reads: a run, the measure's entry (kind, observable, times...), and the whole item."""
    result: Result
    m: dict[str, Any]
    item: dict[str, Any]

    @property
    def t(self) -> np.ndarray:
        return self.result.time_day

    @property
    def y(self) -> np.ndarray:
        return series(self.result, self.m["observable"])

    @property
    def unit(self) -> str:
        """The observable's unit."""
        return self.result.observable_units.get(self.m["observable"], "1")

    def reference(self) -> Result:
        """The run of the measure's reference scenario, under the item's parameters and overrides."""
        return run(RunKey.of(self.item, self.item.get("overrides"), self.m["reference"]))


class Curve(NamedTuple):
    """The simulated curve a number is read from: time (day), values, y label, and whether the observed
    number is a point on that curve (at measure.time_day)."""
    time: np.ndarray
    values: np.ndarray
    label: str
    on_curve: bool


@dataclass(frozen=True)
class Measure:
    """A kind of measure: its value; its curve (given the target's unit); whether the value is a time in
    hours (drawn as a vertical line)."""
    kind: str
    value: Callable[[Reading], float]
    curve: Callable[[Reading, str], Curve]
    time_h: bool = False


# values --------------------------------------------------------------------------------------------------

def _value_at(r: Reading) -> float:
    return float(np.interp(r.m["time_day"], r.t, r.y)) * r.m.get("factor", 1.0)


def _tmax_h(r: Reading) -> float:
    y = r.y
    return float(r.t[np.argmax(y - y[0])] * 24)


def _half_life_h(r: Reading) -> float:
    m, y = r.m, r.y
    a, b = (np.interp(m[k] / 24, r.t, y - y[0]) for k in ("from_h", "to_h"))
    return float((m["to_h"] - m["from_h"]) * math.log(2) / math.log(a / b))


def _last_detectable_h(r: Reading) -> float:
    m, y = r.m, r.y
    above = [h for h in m["times_h"] if np.interp(h / 24, r.t, y - y[0]) >= m["threshold"]]
    return float(max(above)) if above else 0.0


def _auc_h(r: Reading) -> float:
    """Area under the curve from from_h to to_h (hours), above the value at the start when above_baseline,
    in the observable's unit x h, times `factor` (e.g. ng/mL -> nmol/L)."""
    m, t_h = r.m, r.t * 24.0
    y = r.y - (r.y[0] if m.get("above_baseline", True) else 0.0)
    grid = np.linspace(m["from_h"], m["to_h"], 2001)
    return float(np.trapezoid(np.interp(grid, t_h, y), grid)) * m.get("factor", 1.0)


def _cmax(r: Reading) -> float:
    """The highest value of the run (a peak concentration), times `factor`."""
    return float(np.max(r.y)) * r.m.get("factor", 1.0)


def _detectable(r: Reading) -> float:
    return float(np.max(r.y) >= r.m["threshold"])


def _rate_per_year(r: Reading) -> float:
    m, y = r.m, r.y
    a, b = (float(np.interp(m[k], r.t, y)) for k in ("from_day", "to_day"))
    return (b - a) / ((m["to_day"] - m["from_day"]) / 365.25)


def _change_at(r: Reading) -> float:  # absolute change from the start, in the observable's unit
    y = r.y
    return float(np.interp(r.m["time_day"], r.t, y) - y[0])


def _change_between(r: Reading) -> float:  # change from one time to another, in the observable's unit
    a, b = (float(np.interp(r.m[k], r.t, r.y)) for k in ("from_day", "to_day"))
    return b - a


def _pct_change(r: Reading) -> float:
    y = r.y
    return 100.0 * (float(np.interp(r.m["time_day"], r.t, y)) / y[0] - 1.0)


def _reference_at(r: Reading) -> float:
    ref = r.reference()
    return np.interp(r.m["time_day"], ref.time_day, series(ref, r.m["observable"]))


def _diff_vs(r: Reading) -> float:  # difference from another scenario at a time, in the observable's unit
    return float(np.interp(r.m["time_day"], r.t, r.y) - _reference_at(r))


def _ratio_vs(r: Reading) -> float:  # ratio to another scenario at a time (a risk ratio)
    return float(np.interp(r.m["time_day"], r.t, r.y) / _reference_at(r))


def _pct_vs(r: Reading) -> float:
    a = float(np.interp(r.m["time_day"], r.t, r.y))
    b = float(_reference_at(r))
    return 100.0 * (a / b - 1.0)


# curves --------------------------------------------------------------------------------------------------

def _scaled(r: Reading, unit: str) -> Curve:
    return Curve(r.t, r.y * r.m.get("factor", 1.0), f"{r.m['observable']} ({unit})", True)


def _change(r: Reading, unit: str) -> Curve:
    y = r.y
    return Curve(r.t, y - y[0], f"{r.m['observable']}, change ({r.unit})", True)


def _pct(r: Reading, unit: str) -> Curve:
    y = r.y
    return Curve(r.t, 100.0 * (y / y[0] - 1.0), f"{r.m['observable']}, change (%)", True)


def _pct_vs_curve(r: Reading, unit: str) -> Curve:
    ref = r.reference()
    return Curve(r.t, 100.0 * (r.y / np.interp(r.t, ref.time_day, series(ref, r.m["observable"])) - 1.0),
                 f"{r.m['observable']} vs {r.m['reference']} (%)", True)


def _ratio_vs_curve(r: Reading, unit: str) -> Curve:
    ref = r.reference()
    with np.errstate(invalid="ignore", divide="ignore"):
        y = r.y / np.interp(r.t, ref.time_day, series(ref, r.m["observable"]))
    return Curve(r.t, y, f"{r.m['observable']}, ratio to {r.m['reference']}", True)


def _above_baseline(r: Reading, unit: str) -> Curve:
    y = r.y
    return Curve(r.t, y - y[0], f"{r.m['observable']} above baseline ({r.unit})", False)


def _raw(r: Reading, unit: str) -> Curve:
    return Curve(r.t, r.y, f"{r.m['observable']} ({r.unit})", False)


MEASURES: dict[str, Measure] = {m.kind: m for m in (
    Measure("value_at", _value_at, _scaled),
    Measure("tmax_h", _tmax_h, _above_baseline, time_h=True),
    Measure("half_life_h", _half_life_h, _above_baseline),
    Measure("last_detectable_h", _last_detectable_h, _above_baseline, time_h=True),
    Measure("auc_h", _auc_h, _above_baseline),
    Measure("cmax", _cmax, _raw),
    Measure("detectable", _detectable, _raw),
    Measure("rate_per_year", _rate_per_year, _raw),
    Measure("change_at", _change_at, _change),
    Measure("change_between", _change_between, _raw),
    Measure("pct_change", _pct_change, _pct),
    Measure("diff_vs", _diff_vs, _raw),
    Measure("pct_vs", _pct_vs, _pct_vs_curve),
    Measure("ratio_vs", _ratio_vs, _ratio_vs_curve),
)}


def measure_of(kind: str) -> Measure:
    """The registry entry of a kind; an unknown kind is a ValueError."""
    if kind not in MEASURES:
        raise ValueError(f"unknown measure kind {kind!r}")
    return MEASURES[kind]


def measure(r: Result, m: dict[str, Any], spec: dict[str, Any]) -> float:
    """The simulated number of measure `m` read from run `r` (spec: the validation item, for a reference run)."""
    return measure_of(m["kind"]).value(Reading(r, m, spec))


def curve(r: Result, m: dict[str, Any], spec: dict[str, Any], unit: str) -> Curve:
    """The curve measure `m` reads from run `r`; unit: the target's unit (label of a value read as is)."""
    return measure_of(m["kind"]).curve(Reading(r, m, spec), unit)
