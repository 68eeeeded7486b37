"""The packaged tables: the evidence targets (targets.csv), their intervals, and the two YAML files that say
how targets (validation.yaml) and claims without numbers (constraints.yaml) are read from simulations."""

from __future__ import annotations

import csv
import re
from importlib import resources
from typing import Any

import yaml

DEFAULT_BAND = 0.25


def _text(name: str) -> str:
    return resources.files("osteoqsp.analyses.evidence").joinpath(name).read_text()


def targets() -> list[dict[str, str]]:
    """The rows of targets.csv (target id = 1-based row number)."""
    return list(csv.DictReader(_text("targets.csv").splitlines()))


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


TRIAL_COLUMNS = ("trial", "form", "dose", "co_intervention", "population", "arm", "n_arm", "site", "outcome",
                 "timepoint_months", "value", "unit", "dispersion", "dispersion_kind", "quote", "source", "how_found")
FORMS = ("K1", "MK-4", "MK-7", "none", "pooled")  # none: a control arm; pooled: a meta-analysis


def trials() -> list[dict[str, str]]:
    """The trial-level evidence on vitamin K and bone (trials.csv): one row per arm, site and time point of a
    randomised trial of K1, MK-4 or MK-7 with a BMD or BMC outcome, and the pooled estimates of the
    meta-analyses; each with the quote that holds its number and where it stands (SOURCES.md says how it was
    gathered). A number not found is written "not found" in `value` (or "not applicable", "not pooled")."""
    reader = csv.DictReader(_text("trials.csv").splitlines())
    if tuple(reader.fieldnames or ()) != TRIAL_COLUMNS:
        raise ValueError(f"trials.csv: columns {reader.fieldnames} are not {TRIAL_COLUMNS}")
    rows = list(reader)
    for i, row in enumerate(rows, 2):
        if row["form"] not in FORMS:
            raise ValueError(f"trials.csv line {i}: form {row['form']!r} not in {FORMS}")
        if not row["source"].strip() or not (row["quote"].strip() or row["value"].startswith("not ")):
            raise ValueError(f"trials.csv line {i}: a number needs its quote and its source")
    return rows


def validation_spec() -> list[dict[str, Any]]:
    """The entries of validation.yaml: target, scenario, optional parameters and assume, measure."""
    return yaml.safe_load(_text("validation.yaml"))


def constraints() -> list[dict[str, Any]]:
    """The claims without evidence numbers that calibration keeps as soft targets (constraints.yaml)."""
    return yaml.safe_load(_text("constraints.yaml"))
