"""Parameter tables: one row per parameter with value, unit, status and reference.

`params/common.csv` holds what both species share; `params/<species>.csv` adds or overrides. Status is one
of: literature (value read from the reference), assumed (a choice stated in the reference column),
fitted (chosen so that the model meets the target named in the reference column; `osteoqsp calibrate`
refits them and its result ships as params/calibrated-<species>.csv), reused (a value fitted to another
species' targets and taken unchanged: no data of this species fixes it; the reference says which data
would), scenario (set by the scenario file; the value is the default). Values are converted with pint to the unit each equation uses.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from osteoqsp.symbolic.units import convert

STATUSES = ("literature", "assumed", "fitted", "reused", "scenario")


@dataclass(frozen=True)
class Parameter:
    name: str
    value: float
    unit: str
    status: str
    reference: str
    description: str


@dataclass(frozen=True)
class ParameterTable:
    species: str
    rows: dict[str, Parameter]

    def value_in(self, name: str, unit: str) -> float:
        row = self.rows[name]
        return convert(row.value, row.unit, unit)


def _read(filename: str) -> dict[str, Parameter]:
    text = resources.files("osteoqsp.model").joinpath("params", filename).read_text()
    rows: dict[str, Parameter] = {}
    for rec in csv.DictReader(line for line in text.splitlines() if not line.startswith("#")):
        name = rec["name"].strip()
        status = rec["status"].strip()
        if status not in STATUSES:
            raise ValueError(f"{filename}: {name}: status {status!r} not in {STATUSES}")
        if not rec["reference"].strip():
            raise ValueError(f"{filename}: {name}: no reference")
        rows[name] = Parameter(name, float(rec["value"]), rec["unit"].strip(), status, rec["reference"].strip(),
                               rec["description"].strip())
    return rows


@lru_cache(maxsize=None)
def load_parameters(species: str, calibrated: bool = True) -> ParameterTable:
    """common.csv, then <species>.csv; then, unless calibrated=False, the values of the shipped calibration
    (calibrated-<species>.csv, written by `osteoqsp calibrate --install`), which must all be fitted ones."""
    rows = _read("common.csv")
    rows.update(_read(f"{species}.csv"))
    if calibrated and resources.files("osteoqsp.model").joinpath("params", f"calibrated-{species}.csv").is_file():
        for name, row in _read(f"calibrated-{species}.csv").items():
            if name not in rows or rows[name].status != "fitted" or rows[name].unit != row.unit:
                raise ValueError(f"calibrated-{species}.csv: {name} is not a fitted parameter in {row.unit}")
            rows[name] = row
    return ParameterTable(species, rows)


def _variability_rows() -> list[dict[str, str]]:
    text = resources.files("osteoqsp.model").joinpath("params", "variability.csv").read_text()
    return list(csv.DictReader(line for line in text.splitlines() if not line.startswith("#")))


@lru_cache(maxsize=1)
def variability() -> dict[str, float]:
    """params/variability.csv: parameter -> coefficient of variation between subjects (log-normal)."""
    return {r["name"]: float(r["cv"]) for r in _variability_rows()}


@lru_cache(maxsize=1)
def upper_bounds() -> dict[str, float]:
    """params/variability.csv: parameter -> hard upper bound of a drawn value (absorbed fractions <= 1)."""
    return {r["name"]: float(r["upper"]) for r in _variability_rows() if r["upper"].strip()}


@lru_cache(maxsize=4)
def posterior(species: str) -> list[dict[str, float]]:
    """params/posterior-<species>.csv (written by `osteoqsp mbma --install`): parameter sets drawn from the
    posterior of the trial fit, one dict per draw (parameter -> value in the table's unit); [] if none ships.
    Columns that are not parameters of the table (tau, log_posterior) are left out."""
    f = resources.files("osteoqsp.model").joinpath("params", f"posterior-{species}.csv")
    if not f.is_file():
        return []
    known = load_parameters(species, calibrated=False).rows
    rows = csv.DictReader(line for line in f.read_text().splitlines() if not line.startswith("#"))
    return [{k: float(v) for k, v in r.items() if k in known} for r in rows]


def posterior_draws(species: str, n: int) -> list[dict[str, float]]:
    """The first n parameter sets of the shipped posterior; a ValueError when it holds fewer."""
    sets = posterior(species)[:n]
    if len(sets) < n:
        raise ValueError(f"{n} draws asked, the shipped posterior has {len(sets)} (osteoqsp mbma --install)")
    return sets
