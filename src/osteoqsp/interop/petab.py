"""PEtab export of the calibration problem: one PEtab (format 1) problem per study scenario.

Each scenario of `evidence/validation.yaml` has its own subject (age, menopause, history before t = 0) and
doses, so it becomes its own PEtab problem, in a folder of its own: the SBML export of its typical subject
(doses as events, states at t = 0 from osteoqsp's burn-in), one condition, the observables and
measurements of its targets, and a parameter table with the parameters marked fitted (log10 scale, the
bounds of `model/params/bounds.csv`, in model units). Targets measured at one time point (`value_at`) are
exported; the others are derived quantities (time of the maximum, half-life, change from the start or
against another arm, rate over an interval) that PEtab's measurement table cannot state, and are listed in
index.tsv with that reason. The noise of each measurement is the half-width of its interval (as in
`osteoqsp calibrate`).

Caveat, written in each problem's README: the states at t = 0 are numbers from osteoqsp's burn-in at the
nominal parameters; a tool that changes the parameters does not redo that burn-in.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import Any

import yaml

from osteoqsp.analyses.calibration import fit_parameters
from osteoqsp.analyses.evidence import RunKey, interval, targets, validation_spec
from osteoqsp.model import build_model
from osteoqsp.runs.library import scenario_of
from osteoqsp.runs.subject import parameter_values
from osteoqsp.interop.sbml import sbml_ids, write_sbml

EXPORTED = ("value_at",)


def _tsv(path: Path, rows: list[dict[str, Any]]) -> None:
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]), delimiter="\t", lineterminator="\n")
        w.writeheader()
        w.writerows(rows)


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", text)


def export_petab(outdir: str | Path, species: str | None = None) -> list[Path]:
    """Write the problems under outdir (one folder each) and outdir/index.tsv; returns the problem files."""
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    rows = targets()
    groups: dict[RunKey, list[dict[str, Any]]] = {}
    for item in validation_spec():  # one problem per simulation: a scenario with its own parameters
        groups.setdefault(RunKey.of(item, None), []).append(item)
    index: list[dict[str, Any]] = []
    problems: list[Path] = []
    used: set[str] = set()
    for items in groups.values():
        sc = scenario_of(items[0]["scenario"], where="validation")
        if species is not None and sc.species != species:
            continue
        kept = [i for i in items if i["measure"]["kind"] in EXPORTED and i.get("calibrate", True)]
        for i in items:
            if i not in kept:
                reason = (f"measure {i['measure']['kind']} is derived, not a time-point measurement"
                          if i["measure"]["kind"] not in EXPORTED else
                          "left out of the calibration problem (calibrate: false in validation.yaml)")
                index.append({"target": i["target"], "problem": "", "exported": "no", "reason": reason})
        if not kept:
            continue
        name = _slug(sc.name)
        while name in used:
            name += "_"
        used.add(name)
        problems.append(_problem(out / name, sc, kept, items[0].get("parameters") or {}, rows))
        index += [{"target": i["target"], "problem": f"{name}/problem.yaml", "exported": "yes", "reason": ""}
                  for i in kept]
    index.sort(key=lambda r: int(r["target"]))
    _tsv(out / "index.tsv", index)
    return problems


def _problem(folder: Path, sc: Any, items: list[dict[str, Any]], params: dict[str, float],
             rows: list[dict[str, str]]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    write_sbml(sc, folder / "model.xml", parameters=params or None)
    model = build_model(sc.species)
    ids = sbml_ids(model)
    observables, measurements = {}, []
    for item in items:
        m = item["measure"]
        factor = float(m.get("factor", 1.0))
        obs_id = f"obs_{m['observable']}" + ("" if factor == 1.0 else f"_x{_slug(f'{factor:g}')}")
        row = rows[item["target"] - 1]
        low, high, _ = interval(row)
        observables[obs_id] = {"observableId": obs_id, "observableName": f"{m['observable']} ({row['unit']})",
                               "observableFormula": m["observable"] if factor == 1.0 else f"{factor!r} * {m['observable']}",
                               "observableTransformation": "lin", "noiseFormula": f"noiseParameter1_{obs_id}",
                               "noiseDistribution": "normal"}
        measurements.append({"observableId": obs_id, "simulationConditionId": "c0", "measurement": float(row["value"]),
                             "time": float(m["time_day"]), "noiseParameters": max((high - low) / 2, 1e-12),
                             "datasetId": f"target_{item['target']}"})
    _tsv(folder / "observables.tsv", list(observables.values()))
    _tsv(folder / "measurements.tsv", measurements)
    _tsv(folder / "conditions.tsv", [{"conditionId": "c0", "conditionName": sc.name}])
    values = parameter_values(sc, params or None)
    prows = []
    for p in fit_parameters(sc.species):
        if p.name in params:  # fixed by this study's own assumption
            continue
        prows.append({"parameterId": ids[("parameter", p.name)], "parameterName": f"{p.name} (model units)",
                      "parameterScale": "log10", "lowerBound": p.lower * p.model_factor,
                      "upperBound": p.upper * p.model_factor, "nominalValue": values[p.name], "estimate": 1})
    if not prows:  # PEtab needs a parameter table; keep one fixed entry
        first = next(iter(model.parameters))
        prows.append({"parameterId": ids[("parameter", first)], "parameterName": first, "parameterScale": "lin",
                      "lowerBound": values[first], "upperBound": values[first], "nominalValue": values[first],
                      "estimate": 0})
    _tsv(folder / "parameters.tsv", prows)
    problem = {"format_version": 1, "parameter_file": "parameters.tsv",
               "problems": [{"sbml_files": ["model.xml"], "condition_files": ["conditions.tsv"],
                             "measurement_files": ["measurements.tsv"], "observable_files": ["observables.tsv"]}]}
    path = folder / "problem.yaml"
    path.write_text(yaml.safe_dump(problem, sort_keys=False))
    (folder / "README.md").write_text(
        f"# {sc.name}\n\nPEtab problem written by `osteoqsp export petab`: targets "
        f"{', '.join(str(i['target']) for i in items)} of osteoqsp's evidence table. Time in day; observables "
        f"in the units of osteoqsp's SPEC. The states at t = 0 are osteoqsp's burn-in of this subject at the "
        f"nominal parameters (numbers in model.xml): changing a parameter does not redo that burn-in.\n")
    return path


def lint(problem_yaml: str | Path) -> list[str]:
    """Errors that petab's own validator finds in one exported problem (empty when it passes)."""
    import logging

    import petab.v1 as petab

    messages: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.levelno >= logging.ERROR:
                messages.append(record.getMessage())

    handler = Collect()
    logging.getLogger("petab").addHandler(handler)
    try:
        problem = petab.Problem.from_yaml(str(problem_yaml))
        failed = petab.lint_problem(problem)
    finally:
        logging.getLogger("petab").removeHandler(handler)
    if failed and not messages:
        messages.append("petab lint failed")
    return messages


__all__ = ["export_petab", "lint", "EXPORTED"]
