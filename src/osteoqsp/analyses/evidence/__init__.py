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
from dataclasses import dataclass, field
from pathlib import Path
from functools import lru_cache
from importlib import resources
from typing import Any

import numpy as np
import yaml

from osteoqsp.runs.results import Result
from osteoqsp.runs.scenario import Scenario
from osteoqsp.runs.simulation import simulate

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
    item: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)  # its validation.yaml entry

    @property
    def inside(self) -> bool:
        return self.low <= self.simulated <= self.high

    @property
    def residual(self) -> float:
        """simulated - observed, in the target's unit."""
        return self.simulated - self.observed


def targets() -> list[dict[str, str]]:
    text = resources.files("osteoqsp.analyses.evidence").joinpath("targets.csv").read_text()
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


def _scenario(spec: Any) -> Scenario:
    if isinstance(spec, str):
        return Scenario.from_yaml(resources.files("osteoqsp").joinpath("scenarios", f"{spec}.yaml"))
    return Scenario.from_dict(spec, source=f"validation:{spec.get('name', '?')}")


@lru_cache(maxsize=256)
def _run(key: str) -> Result:
    """key: YAML of {scenario, parameters, overrides: {species: {name: value}}}; the item's own parameters
    (assumptions of that study) win over the overrides (a parameter set under test, e.g. in calibration)."""
    spec = yaml.safe_load(key)
    sc = _scenario(spec["scenario"])
    params = {**((spec.get("overrides") or {}).get(sc.species) or {}), **(spec.get("parameters") or {})}
    result = simulate(sc, parameters=params or None)
    assert isinstance(result, Result)
    return result


def _key(item: dict[str, Any], overrides: dict[str, dict[str, float]] | None, scenario: Any = None) -> str:
    return yaml.safe_dump({"scenario": item["scenario"] if scenario is None else scenario,
                           "parameters": item.get("parameters"), "overrides": overrides or None})


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
    if kind == "diff_vs":  # difference from another scenario at a time, in the observable's unit
        ref = _run(_key(spec, spec.get("overrides"), m["reference"]))
        return float(np.interp(m["time_day"], t, y) - np.interp(m["time_day"], ref.time_day,
                                                                 _series(ref, m["observable"])))
    if kind == "pct_vs":
        ref = _run(_key(spec, spec.get("overrides"), m["reference"]))
        a = float(np.interp(m["time_day"], t, y))
        b = float(np.interp(m["time_day"], ref.time_day, _series(ref, m["observable"])))
        return 100.0 * (a / b - 1.0)
    raise ValueError(f"unknown measure kind {kind!r}")


def validation_spec() -> list[dict[str, Any]]:
    return yaml.safe_load(resources.files("osteoqsp.analyses.evidence").joinpath("validation.yaml").read_text())


def validate(overrides: dict[str, dict[str, float]] | None = None, only: set[int] | None = None,
             threads: int = 2) -> tuple[list[Comparison], list[dict[str, str]]]:
    """Every mapped target compared; and the targets not compared (with their row).

    overrides: species -> {parameter: value in model units} applied to every scenario of that species (a
    study's own `parameters` win); only: the target ids to compare (default all mapped). The distinct
    scenarios run in `threads` threads (the compiled solver releases the GIL)."""
    from concurrent.futures import ThreadPoolExecutor

    rows = targets()
    spec = [dict(item, overrides=overrides) for item in validation_spec() if only is None or item["target"] in only]
    keys = list(dict.fromkeys(_key(item, overrides) for item in spec))
    refs = list(dict.fromkeys(_key(item, overrides, item["measure"]["reference"]) for item in spec
                              if "reference" in item["measure"]))
    if keys:
        _run(keys[0])  # the first run compiles the model (once per process), before the threads start
    with ThreadPoolExecutor(max_workers=max(1, threads)) as pool:
        list(pool.map(_run, keys + refs))
    out = []
    for item in spec:
        row = rows[item["target"] - 1]
        r = _run(_key(item, overrides))
        low, high, how = interval(row)
        name = item["scenario"] if isinstance(item["scenario"], str) else item["scenario"]["name"]
        out.append(Comparison(item["target"], row["study"], row["endpoint"], float(row["value"]), row["unit"],
                              low, high, how, measure(r, item["measure"], item), name, item.get("assume", ""),
                              item))
    mapped = {item["target"] for item in validation_spec()}
    missing = [dict(row, target=str(i)) for i, row in enumerate(rows, 1) if i not in mapped]
    return out, missing


def constraints() -> list[dict[str, Any]]:
    """The claims without evidence numbers that calibration keeps as soft targets (constraints.yaml)."""
    return yaml.safe_load(resources.files("osteoqsp.analyses.evidence").joinpath("constraints.yaml").read_text())


def check_constraints(overrides: dict[str, dict[str, float]] | None = None,
                      species: str | None = None) -> list[Comparison]:
    """Each constraint as a Comparison (target 0, study = its claim) under the parameter overrides."""
    out = []
    for item in constraints():
        item = dict(item, overrides=overrides)
        if species is not None and species_of(item) != species:
            continue
        r = _run(_key(item, overrides))
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


def species_of(item: dict[str, Any]) -> str:
    """The species of a validation item's scenario."""
    return _scenario(item["scenario"]).species


def _curve(c: Comparison) -> tuple[np.ndarray, np.ndarray, str, bool]:
    """The simulated curve a comparison reads its number from: time (day), values, y label, and whether the
    observed number is a point on that curve (at measure.time_day)."""
    item, m = c.item, c.item["measure"]
    r = _run(_key(item, item.get("overrides")))
    y, t, kind = _series(r, m["observable"]), r.time_day, m["kind"]
    unit = r.observable_units.get(m["observable"], "1")
    if kind == "value_at":
        return t, y * m.get("factor", 1.0), f"{m['observable']} ({c.unit})", True
    if kind == "change_at":
        return t, y - y[0], f"{m['observable']}, change ({unit})", True
    if kind == "pct_change":
        return t, 100.0 * (y / y[0] - 1.0), f"{m['observable']}, change (%)", True
    if kind == "pct_vs":
        ref = _run(_key(item, item.get("overrides"), m["reference"]))
        return t, 100.0 * (y / np.interp(t, ref.time_day, _series(ref, m["observable"])) - 1.0), \
            f"{m['observable']} vs {m['reference']} (%)", True
    if kind in ("tmax_h", "half_life_h", "last_detectable_h"):
        return t, y - y[0], f"{m['observable']} above baseline ({unit})", False
    return t, y, f"{m['observable']} ({unit})", False


def study_figures(comparisons: list[Comparison], folder: str | Path) -> list[Path]:
    """One figure per study: each target's simulated curve, with the observed value and its interval as an
    error bar where the target is a point of that curve, or observed against simulated in the panel's title
    for derived numbers (time of the maximum, half-life, rates)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    by_study: dict[str, list[Comparison]] = {}
    for c in comparisons:
        by_study.setdefault(c.study, []).append(c)
    files = []
    for study, cs in by_study.items():
        cols = min(3, len(cs))
        rows = int(math.ceil(len(cs) / cols))
        fig, axes = plt.subplots(rows, cols, figsize=(4.3 * cols, 3.1 * rows), squeeze=False)
        for ax, c in zip(axes.flat, cs):
            t, y, label, on_curve = _curve(c)
            scale, xunit = (24.0, "h") if t[-1] <= 4 else ((1 / 365.25, "year") if t[-1] > 730 else (1.0, "day"))
            ax.plot(t * scale, y, color="tab:blue", lw=1.2, label=f"simulated ({c.scenario})")
            colour = "tab:green" if c.inside else "tab:red"
            if on_curve:
                x = c.item["measure"]["time_day"] * scale
                ax.errorbar([x], [c.observed], yerr=[[c.observed - c.low], [c.high - c.observed]], fmt="o",
                            color="black", capsize=3, label=f"observed ({c.interval})")
                ax.plot([x], [c.simulated], "D", color=colour, ms=5, label="simulated value")
            elif c.item["measure"]["kind"] in ("tmax_h", "last_detectable_h"):  # times, in hours
                ax.axvline(c.observed / 24 * scale, color="black", ls="--", lw=1, label=f"observed ({c.unit})")
                ax.axvspan(c.low / 24 * scale, c.high / 24 * scale, color="0.85", label="interval")
                ax.axvline(c.simulated / 24 * scale, color=colour, lw=1, label="simulated")
            if "threshold" in c.item["measure"]:
                ax.axhline(c.item["measure"]["threshold"], color="0.4", ls=":", lw=1, label="detection limit")
            ax.set_title(f"target {c.target}: {c.endpoint[:40]}\nobserved {c.observed:g}, simulated "
                         f"{c.simulated:.3g} {c.unit} ({'inside' if c.inside else 'OUTSIDE'})", fontsize=8,
                         color="black" if c.inside else "tab:red")
            ax.set_xlabel(f"time ({xunit})", fontsize=8)
            ax.set_ylabel(label, fontsize=8)
            ax.grid(alpha=0.3)
            ax.legend(fontsize=6)
        for ax in list(axes.flat)[len(cs):]:
            ax.axis("off")
        fig.suptitle(study, fontsize=10)
        fig.tight_layout()
        files.append(folder / f"{re.sub(r'[^A-Za-z0-9_-]', '_', study)}.png")
        fig.savefig(files[-1], dpi=100)
        plt.close(fig)
    return files
