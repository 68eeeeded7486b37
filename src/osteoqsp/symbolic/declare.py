"""A small symbolic layer: the model is declared once, here, as sympy expressions.

A layer file (intake_pk, vitamin_k_cycle, bone_cells, mk7_actions, readouts) calls the builder to declare
states, parameters, intermediate quantities ("lets"), fluxes between states and observables. Every backend
(the numba kernel, the Jacobian, the SBML export, the docs) is generated from the frozen `Model`.

Units are strings in a fixed model unit system: time in day, amounts in nmol (vitamers), mg (drugs),
concentrations in nM or pM, cells in pM (Pivonka 2008), everything else dimensionless ("1").
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import sympy as sp

TIME = sp.Symbol("t", real=True)


@dataclass(frozen=True)
class State:
    name: str
    unit: str
    description: str
    initial: float
    accumulator: bool = False  # bookkeeping (eliminated, excreted amounts): feeds nothing back


@dataclass(frozen=True)
class Let:
    name: str
    expr: sp.Expr
    unit: str
    description: str


@dataclass(frozen=True)
class Flux:
    name: str
    expr: sp.Expr
    source: str | None
    target: str | None
    unit: str
    description: str


@dataclass(frozen=True)
class Reference:
    """A derived parameter set by the engine: the value of `expr` at the subject's reference point.

    kind == "steady": evaluated at the homeostatic steady state found in the burn-in (used by the model's own
    equations, e.g. the formation/resorption balance of a bone site); kind == "start": evaluated at the start
    of the scenario (used by observables reported relative to the subject's own baseline).
    """

    name: str
    expr: sp.Expr
    kind: str


@dataclass(frozen=True)
class Observable:
    name: str
    expr: sp.Expr
    unit: str
    description: str


@dataclass(frozen=True)
class DoseTarget:
    """Where a dose of an agent goes, the factor turning the dosed unit into the state's unit, and the
    largest dose (in dose_unit) that is not absurd for one administration."""

    agent: str
    state: str
    dose_unit: str
    factor: float
    max_dose: float
    route: str = "oral"


@dataclass(frozen=True)
class Switch:
    """A mechanism a user can switch off: its switch parameter is 1 (on) or 0 (off)."""

    name: str
    parameter: str


@dataclass(frozen=True)
class DietTarget:
    """A diet given as content per amount of food (rats): `parameter` (per day) = content x daily food intake."""

    agent: str
    parameter: str


@dataclass(frozen=True)
class Covariate:
    """A characteristic that varies between the subjects of a population, drawn in `unit`. `update` turns a
    drawn value into parameter values (given the subject's values so far); or `scales_doses_of` names an
    agent whose daily dose the covariate is, scaling each subject's doses of it."""

    name: str
    unit: str
    description: str
    update: Callable[[Mapping[str, float], float], dict[str, float]] | None = None
    scales_doses_of: str | None = None
    signed: bool = False  # may be negative (a score); otherwise drawn values are clipped at 0


@dataclass(frozen=True)
class Hazard:
    """An event type whose first occurrence has the hazard `rate` (per year): the model integrates the
    cumulative hazard in the accumulator state `state` and reports `<name>_hazard` (1/year) and
    `<name>_cumulative` (probability of a first event since the start, 0-1)."""

    name: str
    state: str
    description: str


@dataclass(frozen=True)
class Model:
    species: str
    states: tuple[State, ...]
    parameters: tuple[str, ...]
    parameter_units: dict[str, str]  # the unit each parameter has in the equations
    lets: tuple[Let, ...]
    fluxes: tuple[Flux, ...]
    references: tuple[Reference, ...]
    observables: tuple[Observable, ...]
    dose_targets: tuple[DoseTarget, ...]
    layer_of: dict[str, str]  # name of a state, let, flux or observable -> layer that declared it
    switches: tuple[Switch, ...] = ()
    diets: tuple[DietTarget, ...] = ()
    covariates: tuple[Covariate, ...] = ()
    hazards: tuple[Hazard, ...] = ()

    @property
    def state_names(self) -> list[str]:
        return [s.name for s in self.states]

    @property
    def observable_names(self) -> list[str]:
        return [o.name for o in self.observables]

    def rates(self) -> dict[str, sp.Expr]:
        """d(state)/dt as the sum of its in- and out-fluxes."""
        rates: dict[str, sp.Expr] = {s.name: sp.Integer(0) for s in self.states}
        for f in self.fluxes:
            sym = sp.Symbol(f.name, real=True)
            if f.source is not None:
                rates[f.source] -= sym
            if f.target is not None:
                rates[f.target] += sym
        return rates

    def signature(self) -> str:
        """A text that changes whenever any equation, name or order changes (for code caches)."""
        parts = [self.species]
        parts += [f"S {s.name} {s.initial!r} {s.accumulator}" for s in self.states]
        parts += [f"P {p}" for p in self.parameters]
        parts += [f"L {x.name} {sp.srepr(x.expr)}" for x in self.lets]
        parts += [f"F {x.name} {x.source} {x.target} {sp.srepr(x.expr)}" for x in self.fluxes]
        parts += [f"R {x.name} {x.kind} {sp.srepr(x.expr)}" for x in self.references]
        parts += [f"O {x.name} {sp.srepr(x.expr)}" for x in self.observables]
        return "\n".join(parts)


@dataclass
class ModelBuilder:
    """Collects declarations; `build()` checks that every name is defined before use and freezes them."""

    species: str
    parameter_units: dict[str, str]  # the species' parameter table: name -> unit
    _states: list[State] = field(default_factory=list)
    _params: dict[str, str] = field(default_factory=dict)  # parameter -> unit the equations use
    _lets: list[Let] = field(default_factory=list)
    _fluxes: list[Flux] = field(default_factory=list)
    _refs: list[Reference] = field(default_factory=list)
    _obs: list[Observable] = field(default_factory=list)
    _doses: list[DoseTarget] = field(default_factory=list)
    _switches: list[Switch] = field(default_factory=list)
    _diets: list[DietTarget] = field(default_factory=list)
    _covariates: list[Covariate] = field(default_factory=list)
    _hazards: list[Hazard] = field(default_factory=list)
    _layer: str = ""
    _layer_of: dict[str, str] = field(default_factory=dict)
    _names: set[str] = field(default_factory=set)

    t = TIME

    def layer(self, name: str) -> None:
        self._layer = name

    def _claim(self, name: str) -> sp.Symbol:
        if name in self._names:
            raise ValueError(f"name declared twice: {name}")
        self._names.add(name)
        self._layer_of[name] = self._layer
        return sp.Symbol(name, real=True)

    def p(self, name: str, unit: str) -> sp.Symbol:
        """A parameter from the species table, which must hold it in (a unit convertible to) `unit`."""
        if name not in self.parameter_units:
            raise KeyError(f"parameter {name!r} is not in the {self.species} parameter table")
        if name not in self._params:
            self._params[name] = unit
            self._names.add(name)
            self._layer_of[name] = self._layer
        elif self._params[name] != unit:
            raise ValueError(f"parameter {name} used in {unit} and in {self._params[name]}")
        return sp.Symbol(name, real=True)

    def state(self, name: str, unit: str, description: str, initial: float = 0.0,
              accumulator: bool = False) -> sp.Symbol:
        self._states.append(State(name, unit, description, initial, accumulator))
        return self._claim(name)

    def let(self, name: str, expr: sp.Expr | float, unit: str, description: str) -> sp.Symbol:
        self._lets.append(Let(name, sp.sympify(expr), unit, description))
        return self._claim(name)

    def flux(self, name: str, expr: sp.Expr, source: sp.Symbol | None, target: sp.Symbol | None,
             unit: str, description: str) -> sp.Symbol:
        src = None if source is None else source.name
        dst = None if target is None else target.name
        self._fluxes.append(Flux(name, sp.sympify(expr), src, dst, unit, description))
        return self._claim(name)

    def reference(self, name: str, expr: sp.Expr, kind: str = "steady") -> sp.Symbol:
        if kind not in ("steady", "start"):
            raise ValueError(kind)
        self._refs.append(Reference(name, sp.sympify(expr), kind))
        return self._claim(name)

    def observable(self, name: str, expr: sp.Expr, unit: str, description: str) -> None:
        self._obs.append(Observable(name, sp.sympify(expr), unit, description))
        self._claim("obs_" + name)

    def dose_target(self, agent: str, state: sp.Symbol, dose_unit: str, factor: float, max_dose: float,
                    route: str = "oral") -> None:
        self._doses.append(DoseTarget(agent, state.name, dose_unit, float(factor), float(max_dose), route))

    def switch(self, name: str) -> sp.Symbol:
        """A switchable mechanism; returns its switch parameter sw_<name> (from the parameter table)."""
        self._switches.append(Switch(name, f"sw_{name}"))
        return self.p(f"sw_{name}", "1")

    def diet(self, agent: str, parameter: sp.Symbol) -> None:
        self._diets.append(DietTarget(agent, parameter.name))

    def covariate(self, name: str, unit: str, description: str,
                  update: Callable[[Mapping[str, float], float], dict[str, float]] | None = None,
                  scales_doses_of: str | None = None, signed: bool = False) -> None:
        if (update is None) == (scales_doses_of is None):
            raise ValueError(f"covariate {name}: give exactly one of update or scales_doses_of")
        self._covariates.append(Covariate(name, unit, description, update, scales_doses_of, signed))

    def hazard(self, name: str, rate_per_year: sp.Expr, description: str) -> None:
        """An event type with hazard `rate_per_year` (1/year): its cumulative hazard is an accumulator state,
        zero at the start of the scenario, and two observables report the hazard and the probability of a
        first event since the start."""
        cum = self.state(f"{name}_cumulative_hazard", "1", f"cumulative hazard of a first {description}",
                         accumulator=True)
        rate = self.let(f"{name}_rate", rate_per_year, "1/year", f"hazard of a first {description}")
        self.flux(f"{name}_events", rate / 365.25, None, cum, "1/day", f"{description}: cumulative hazard")
        self.observable(f"{name}_hazard", rate, "1/year", f"hazard of a first {description}")
        self.observable(f"{name}_cumulative", 1 - sp.exp(-cum), "1",
                        f"probability of a first {description} since the start")
        self._hazards.append(Hazard(name, cum.name, description))

    def build(self) -> Model:
        known = {str(TIME)} | set(self._params) | {r.name for r in self._refs}
        known |= {s.name for s in self._states}
        for x in self._lets:
            _check_defined(x.name, x.expr, known)
            known.add(x.name)
        flux_names: set[str] = set()
        for f in self._fluxes:
            _check_defined(f.name, f.expr, known | flux_names)
            flux_names.add(f.name)
        for r in self._refs:
            _check_defined(r.name, r.expr, known | flux_names)
        for o in self._obs:
            _check_defined(o.name, o.expr, known | flux_names)
        acc = {s.name for s in self._states if s.accumulator}
        for x in list(self._lets) + list(self._fluxes):
            used = {str(s) for s in x.expr.free_symbols} & acc
            if used:
                raise ValueError(f"{x.name} reads accumulator state(s) {sorted(used)}")
        agents = {d.agent for d in self._doses}
        for c in self._covariates:
            if c.scales_doses_of is not None and c.scales_doses_of not in agents:
                raise ValueError(f"covariate {c.name} scales the doses of {c.scales_doses_of}, not a dosed agent")
        return Model(self.species, tuple(self._states), tuple(self._params), dict(self._params),
                     tuple(self._lets),
                     tuple(self._fluxes), tuple(self._refs), tuple(self._obs), tuple(self._doses),
                     dict(self._layer_of), tuple(self._switches), tuple(self._diets), tuple(self._covariates),
                     tuple(self._hazards))


def _check_defined(name: str, expr: sp.Expr, known: set[str]) -> None:
    missing = {str(s) for s in expr.free_symbols} - known
    if missing:
        raise ValueError(f"{name} uses undefined name(s): {sorted(missing)}")
