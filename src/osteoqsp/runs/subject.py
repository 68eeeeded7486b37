"""A subject prepared for the engine, in one place: scenario (+ parameter overrides) -> parameter values,
the burn-in (steady state and history before t = 0), the doses as an event table, the output times.

    subject = prepare(scenario)                      # one typical subject
    subjects = prepare_many(scenario, values_list)   # many (a population chunk, a sensitivity sample):
                                                     # burn-in threaded in compiled code, status per subject
Every caller (simulate, populations, sensitivity, SBML export, benches, tests) uses these.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from osteoqsp.engine import Engine, EventBatch, Events, SolverSettings
from osteoqsp.model import build_model, history_start, load_parameters
from osteoqsp.runs.scenario import DoseEvent, Scenario, convert_override, dose_events, subject_parameters


@lru_cache(maxsize=None)
def engine_for(species: str) -> Engine:
    """The compiled model of a species (compiled once per process, cached on disk)."""
    return Engine(build_model(species))


def parameter_values(scenario: Scenario, overrides: Mapping[str, float] | None = None) -> dict[str, float]:
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


@dataclass(frozen=True)
class Dosing:
    """A scenario's administrations: labelled (for results) and as the engine's events (state index, amount
    in the state's unit), with the agent of each event, so that subjects can have their own doses."""

    doses: tuple[DoseEvent, ...]
    events: Events
    agents: np.ndarray  # (E,) agent of each event

    @classmethod
    def of(cls, scenario: Scenario, engine: Engine) -> Dosing:
        doses = tuple(dose_events(scenario, engine.model))
        events = Events.of([d.time for d in doses], [engine.state_index(d.state) for d in doses],
                           [d.amount for d in doses])
        return cls(doses, events, np.array([d.agent for d in doses], dtype=object))

    def per_subject(self, factors: Sequence[Mapping[str, float]]) -> EventBatch:
        """One row per subject, each amount times that subject's factor for the agent (1 where none given)."""
        if not any(factors):
            return EventBatch.repeat(self.events, len(factors))
        scale = np.ones((len(factors), len(self.events)))
        for s, f in enumerate(factors):
            for agent, x in f.items():
                scale[s, self.agents == agent] = x
        return EventBatch.scaled(self.events, scale)


@dataclass(frozen=True)
class Subject:
    """One subject ready for the engine: states at t = 0 after the burn-in, parameters with the references
    set, doses, output times."""

    scenario: Scenario
    values: dict[str, float]
    y0: np.ndarray
    p: np.ndarray
    dosing: Dosing
    t_out: np.ndarray

    @property
    def events(self) -> Events:
        return self.dosing.events


@dataclass(frozen=True)
class Subjects:
    """Many subjects of one scenario; status per subject from the burn-in (0 ok, 1 no steady state, 2 the
    history before t = 0 failed): solve only the ones with status 0."""

    scenario: Scenario
    values: list[dict[str, float]]
    y0: np.ndarray  # (S, n)
    p: np.ndarray  # (S, P)
    status: np.ndarray  # (S,)
    events: EventBatch
    t_out: np.ndarray

    @property
    def ok(self) -> np.ndarray:
        return self.status == 0


def prepare(scenario: Scenario, overrides: Mapping[str, float] | None = None,
            settings: SolverSettings | None = None) -> Subject:
    """The scenario's typical subject (with `overrides` in model units): raises SteadyStateError or SolveError
    when its burn-in fails."""
    eng = engine_for(scenario.species)
    values = parameter_values(scenario, overrides)
    y0, p = eng.baseline(eng.parameter_vector(values), history_start(scenario.species, values), settings)
    return Subject(scenario, values, y0, p, Dosing.of(scenario, eng), scenario.output_times())


def prepare_many(scenario: Scenario, values: Sequence[dict[str, float]], settings: SolverSettings | None = None,
                 dose_factors: Sequence[Mapping[str, float]] | None = None,
                 t_out: np.ndarray | None = None, warm: bool = False) -> Subjects:
    """Subjects with the given parameter values (each a full set, e.g. from parameter_values or a population
    draw) and, optionally, each one's dose factors per agent; t_out defaults to the scenario's output times.
    `warm`: the subjects are near the scenario's typical subject (a population, a sensitivity sample), whose
    steady state starts each one's burn-in (the same start for any chunk of them)."""
    eng = engine_for(scenario.species)
    p = np.array([eng.parameter_vector(v) for v in values])
    start = None
    if warm:
        typical = parameter_values(scenario)
        start = eng.steady_start(eng.parameter_vector(typical), history_start(scenario.species, typical))
    y0, p, status = eng.baseline_batch(p, np.array([history_start(scenario.species, v) for v in values]), settings,
                                       start)
    events = Dosing.of(scenario, eng).per_subject(dose_factors or [{}] * len(values))
    return Subjects(scenario, list(values), y0, p, status, events,
                    scenario.output_times() if t_out is None else t_out)
