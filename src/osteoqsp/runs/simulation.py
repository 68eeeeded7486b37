"""The data path: scenario -> subject parameters + dose events -> compiled kernel -> observables -> Result."""

from __future__ import annotations

import tempfile
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from osteoqsp.engine import Engine, SolverSettings, SolveError
from osteoqsp.model import build_model, history_start, load_parameters
from osteoqsp.runs.results import Result
from osteoqsp.runs.scenario import Scenario, convert_override, dose_events, subject_parameters

if TYPE_CHECKING:
    from osteoqsp.runs.population import PopulationResult


@lru_cache(maxsize=None)
def engine_for(species: str) -> Engine:
    return Engine(build_model(species))


def parameter_values(scenario: Scenario, overrides: dict[str, float] | None = None) -> dict[str, float]:
    """Every model parameter in model units: species table, then scenario, then explicit overrides."""
    eng = engine_for(scenario.species)
    table = load_parameters(scenario.species)
    units = eng.model.parameter_units
    values = {name: table.value_in(name, units[name]) for name in eng.model.parameters}
    for name, v in subject_parameters(scenario, table.value_in).items():
        if name in values:
            values[name] = v
    for name, raw in scenario.parameters.items():
        if name not in units:
            raise scenario.error(f"parameters.{name}: not a parameter of the {scenario.species} model")
        values[name] = convert_override(name, raw, units[name], scenario.source)
    for name, v in (overrides or {}).items():
        if name not in units:
            raise KeyError(f"{name} is not a parameter of the {scenario.species} model")
        values[name] = float(v)
    return values


def simulate(scenario: Scenario, *, settings: SolverSettings | None = None,
             parameters: dict[str, float] | None = None, outdir: str | Path | None = None
             ) -> Result | PopulationResult:
    """Simulate one typical subject -> Result; with `population` in the scenario, a virtual population
    -> PopulationResult, whose files (timecourse.parquet, summary.csv, run.json, figures) go to outdir
    (a new temporary folder when outdir is None)."""
    if scenario.population is not None:
        from osteoqsp.runs.population import run_population

        if parameters:
            raise ValueError("parameters= applies to one typical subject; put population-wide changes in "
                             "the scenario's parameters block")
        return run_population(scenario, outdir or tempfile.mkdtemp(prefix="osteoqsp-population-"),
                              settings=settings)
    settings = settings or SolverSettings()
    eng = engine_for(scenario.species)
    values = parameter_values(scenario, parameters)
    p = eng.parameter_vector(values)
    y0, p = eng.baseline(p, history_start(scenario.species, values), settings)
    targets = {d.agent: (d.state, d.factor) for d in eng.model.dose_targets}
    events = dose_events(scenario, targets)
    ev_t = np.array([e.time for e in events], dtype=float)
    ev_i = np.array([eng.state_index(e.state) for e in events], dtype=np.int64)
    ev_a = np.array([e.amount for e in events], dtype=float)
    t_out = scenario.output_times()
    states, status, steps = eng.solve(y0, p, t_out, ev_t, ev_i, ev_a, settings)
    if status >= 2:
        raise SolveError(f"the solver failed for scenario {scenario.name!r} (status {status})")
    obs = eng.observe(t_out, states, p)
    return Result(scenario=scenario, time_day=t_out, observables=obs,
                  observable_names=list(eng.gen.observable_names),
                  observable_units={o.name: o.unit for o in eng.model.observables}, states=states,
                  state_names=eng.model.state_names, parameters=dict(zip(eng.gen.param_index, p.tolist())),
                  events=events, settings=settings, solver_status=status, solver_steps=steps)
