"""One subject: scenario -> prepared subject -> compiled kernel -> observables -> Result.

A scenario with a population is run by `osteoqsp.runs.population.simulate_population`."""

from __future__ import annotations

from collections.abc import Mapping

from osteoqsp.engine import SolverSettings
from osteoqsp.errors import SolveError
from osteoqsp.runs.results import Result
from osteoqsp.runs.scenario import Scenario
from osteoqsp.runs.subject import engine_for, prepare


def simulate(scenario: Scenario, *, settings: SolverSettings | None = None,
             parameters: Mapping[str, float] | None = None) -> Result:
    """Simulate the scenario's typical subject; `parameters` overrides model parameters (model units)."""
    if scenario.population is not None:
        raise ValueError(f"scenario {scenario.name!r} has a population: run it with simulate_population "
                         "(or drop its population field for one typical subject)")
    settings = settings or SolverSettings()
    subject = prepare(scenario, parameters, settings)
    eng = engine_for(scenario.species)
    states, status, steps = eng.solve(subject.y0, subject.p, subject.t_out, subject.events, settings)
    if status >= 2:
        raise SolveError(f"the solver failed for scenario {scenario.name!r} (status {status})")
    return Result(scenario=scenario, time_day=subject.t_out, observables=eng.observe(subject.t_out, states, subject.p),
                  observable_names=list(eng.gen.observable_names),
                  observable_units={o.name: o.unit for o in eng.model.observables}, states=states,
                  state_names=eng.model.state_names,
                  parameters=dict(zip(eng.gen.param_index, subject.p.tolist())),
                  events=list(subject.dosing.doses), settings=settings, solver_status=status, solver_steps=steps)
