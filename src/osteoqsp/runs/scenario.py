"""Scenario files: validation (pydantic), units (pint), regimens -> dose events and subject parameters.

A scenario is data. `Scenario.from_yaml` reads and validates it; every user error becomes a
`ScenarioError` whose message names the field and the reason in one line.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator, model_validator

from osteoqsp.symbolic.units import UREG, convert

MAX_DURATION_DAY = 100 * 365.25
MAX_POPULATION = 1_000_000
AGENT_UNITS = {"K1": "ug", "MK-4": "ug", "MK-7": "ug", "warfarin": "mg", "calcium": "mg", "vitamin-D3": "ug",
               "zinc": "mg"}
MAX_DOSE = {"K1": 100_000.0, "MK-4": 100_000.0, "MK-7": 100_000.0, "warfarin": 50.0, "calcium": 5000.0,
            "vitamin-D3": 2500.0, "zinc": 300.0}  # per administration, in AGENT_UNITS; beyond is absurd
VITAMER_PARAM = {"K1": "k1", "MK-4": "mk4", "MK-7": "mk7"}


class ScenarioError(ValueError):
    """A user error in a scenario: one line naming the field and the reason."""


def read_yaml(path: str | Path) -> Any:
    """A YAML file's content; a missing or malformed file is a ScenarioError naming it."""
    path = Path(path)
    try:
        return yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise ScenarioError(f"{path}: no such file") from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from None


@dataclass(frozen=True)
class Food:
    name: str
    vitamer: str
    content_ug_per_100g: float
    relative_bioavailability: float
    reference: str


@lru_cache(maxsize=1)
def food_table() -> dict[str, Food]:
    text = resources.files("osteoqsp.model").joinpath("foods.csv").read_text()
    return {r["food"]: Food(r["food"], r["vitamer"], float(r["content_ug_per_100g"]),
                            float(r["relative_bioavailability"]), r["reference"])
            for r in csv.DictReader(text.splitlines())}


def quantity(value: Any, unit: str, field: str) -> float:
    """'3 year' -> 1095.75 (in `unit`); errors name the field."""
    if isinstance(value, bool) or value is None or not isinstance(value, (str, int, float)):
        raise ValueError(f"needs a quantity with a unit, e.g. '1 {unit}'")
    if isinstance(value, (int, float)):
        raise ValueError(f"{value!r} has no unit (write e.g. '{value} {unit}')")
    text = str(value).strip()
    try:
        q = UREG.Quantity(text)
    except Exception as exc:  # pint raises many kinds
        raise ValueError(f"cannot read {text!r} as a quantity ({type(exc).__name__})") from None
    if q.unitless:
        raise ValueError(f"{text!r} has no unit (write e.g. '{text} {unit}')")
    try:
        out = float(q.to(unit if unit != "1" else "dimensionless").magnitude)
    except Exception:
        raise ValueError(f"{text!r} is not in a unit of {unit}") from None
    if not math.isfinite(out):
        raise ValueError(f"{text!r} is not finite")
    return out


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Subject(_Strict):
    sex: Literal["female", "male"] = "female"
    age: float = Field(default=None)  # type: ignore[assignment]
    menopause_age: float | None = None
    ovariectomy: float | None = None
    body_weight: float | None = None
    ageing: bool = True

    @field_validator("age", "menopause_age", mode="before")
    @classmethod
    def _years(cls, v: Any) -> float | None:
        if v is None:
            return None
        x = quantity(v, "year", "age")
        if not 0 <= x <= 120:
            raise ValueError(f"{v!r} is outside 0-120 year")
        return x

    @field_validator("ovariectomy", mode="before")
    @classmethod
    def _day(cls, v: Any) -> float | None:
        return None if v is None else quantity(v, "day", "ovariectomy")

    @field_validator("body_weight", mode="before")
    @classmethod
    def _kg(cls, v: Any) -> float | None:
        if v is None:
            return None
        x = quantity(v, "kg", "body_weight")
        if not 0 < x <= 300:
            raise ValueError(f"{v!r} is outside 0-300 kg")
        return x


class Intake(_Strict):
    agent: str | None = None
    food: str | None = None
    diet: dict[str, str] | None = None
    dose: Any = None
    amount: Any = None
    every: float | None = None
    start: float = 0.0
    stop: float | None = None

    @field_validator("every", "start", "stop", mode="before")
    @classmethod
    def _days(cls, v: Any) -> float | None:
        return None if v is None else quantity(v, "day", "time")

    @model_validator(mode="after")
    def _check(self) -> Intake:
        kinds = [k for k in ("agent", "food", "diet") if getattr(self, k) is not None]
        if len(kinds) != 1:
            raise ValueError("give exactly one of agent, food or diet")
        if self.agent is not None and self.amount is not None:
            raise ValueError("@amount: an agent takes a dose, not an amount")
        if self.food is not None and self.dose is not None:
            raise ValueError("@dose: a food takes an amount (e.g. '40 g'), not a dose")
        if self.diet is not None:
            for key in ("dose", "amount", "every", "stop"):
                if getattr(self, key) is not None:
                    raise ValueError(f"@{key}: a diet runs from the start to the end of the scenario")
            if self.start != 0.0:
                raise ValueError("@start: a diet runs from the start to the end of the scenario")
        if self.agent is not None:
            if self.agent not in AGENT_UNITS:
                raise ValueError(f"@agent: unknown agent {self.agent!r} (known: {', '.join(AGENT_UNITS)})")
            if self.dose is None:
                raise ValueError(f"agent {self.agent} needs a dose, e.g. '180 {AGENT_UNITS[self.agent]}'")
            try:
                d = quantity(self.dose, AGENT_UNITS[self.agent], "dose")
            except ValueError as exc:
                raise ValueError(f"@dose: {exc}") from None
            if d <= 0:
                raise ValueError(f"@dose: {self.dose!r} must be positive")
            if d > MAX_DOSE[self.agent]:
                raise ValueError(f"@dose: {self.dose!r} is absurd for {self.agent} (more than "
                                 f"{MAX_DOSE[self.agent]:g} {AGENT_UNITS[self.agent]} at once)")
        if self.food is not None:
            if self.food not in food_table():
                raise ValueError(f"@food: unknown food {self.food!r} (known: {', '.join(food_table())})")
            if self.amount is None:
                raise ValueError("a food needs an amount, e.g. '40 g'")
            try:
                a = quantity(self.amount, "g", "amount")
            except ValueError as exc:
                raise ValueError(f"@amount: {exc}") from None
            if not 0 < a <= 2000:
                raise ValueError(f"@amount: {self.amount!r} must be above 0 and at most 2 kg")
        if self.diet is not None:
            for vit, content in self.diet.items():
                if vit not in VITAMER_PARAM:
                    raise ValueError(f"unknown diet vitamer {vit!r} (known: {', '.join(VITAMER_PARAM)})")
                diet_content(content)
        if self.every is not None and self.every <= 0:
            raise ValueError("every must be a positive time")
        if self.start < 0:
            raise ValueError("start must not be negative")
        if self.stop is not None and self.stop <= self.start:
            raise ValueError("@stop: stop must come after start")
        return self


def diet_content(text: str) -> float:
    """'18.8 ug/100g' -> ug per 100 g of diet."""
    s = str(text).replace(" ", "")
    for suffix in ("ug/100g", "µg/100g", "ug/(100g)"):
        if s.endswith(suffix):
            try:
                x = float(s[: -len(suffix)])
            except ValueError:
                break
            if not 0 <= x <= 1e6 or not math.isfinite(x):
                raise ValueError(f"diet content {text!r} out of range")
            return x
    raise ValueError(f"diet content {text!r} must be written as 'X ug/100g'")


PATHWAY_NAMES = ("carboxylation", "nfkb", "sxr", "osteoclast_apoptosis")


COVARIATES = {"age": "year", "menopause_age": "year", "intake_k1": "ug/day", "intake_mk7": "ug/day",
              "natto": "g/week", "body_weight": "kg", "warfarin_dose": "mg/day"}


class Population(_Strict):
    """size and seed; optional covariate distributions ({uniform: [low, high]} or {normal: [mean, sd]},
    quantities with units) and correlations between the log-normal etas ({"kel_mk7,f_abs_mk7": 0.4})."""

    size: int = Field(ge=1, le=MAX_POPULATION)
    seed: int = 0
    covariates: dict[str, dict[str, list[Any]]] = {}
    correlations: dict[str, float] = {}

    @field_validator("covariates")
    @classmethod
    def _covariates(cls, v: dict[str, dict[str, list[Any]]]) -> dict[str, dict[str, list[Any]]]:
        for name, dist in v.items():
            if name not in COVARIATES:
                raise ValueError(f"@covariates: unknown covariate {name!r} (known: {', '.join(COVARIATES)})")
            if len(dist) != 1 or next(iter(dist)) not in ("uniform", "normal"):
                raise ValueError(f"@covariates: {name} needs one of uniform: [low, high] or normal: [mean, sd]")
            kind, args = next(iter(dist.items()))
            if len(args) != 2:
                raise ValueError(f"@covariates: {name}: {kind} takes two quantities")
            a, b = (quantity(x, COVARIATES[name], name) for x in args)
            if (kind == "uniform" and not a <= b) or (kind == "normal" and b < 0) or min(a, b) < 0:
                raise ValueError(f"@covariates: {name}: {kind} {args} is not a valid distribution")
        return v

    @field_validator("correlations")
    @classmethod
    def _correlations(cls, v: dict[str, float]) -> dict[str, float]:
        for pair, rho in v.items():
            if len(pair.split(",")) != 2 or not -1 < rho < 1:
                raise ValueError(f"@correlations: {pair!r}: give 'parameter,parameter' with -1 < rho < 1")
        return v

    def covariate(self, name: str) -> tuple[str, float, float] | None:
        """(kind, a, b) in the covariate's unit, or None."""
        if name not in self.covariates:
            return None
        kind, args = next(iter(self.covariates[name].items()))
        a, b = (quantity(x, COVARIATES[name], name) for x in args)
        return kind, a, b


class Scenario(_Strict):
    _source: str = PrivateAttr(default="scenario")
    name: str = "scenario"
    species: Literal["human", "rat"] = "human"
    subject: Subject = Subject()
    intake: list[Intake] = []
    pathways: dict[str, bool] = {}
    parameters: dict[str, str | float] = {}
    duration: float
    save_every: float | None = None
    population: Population | None = None

    @field_validator("duration", "save_every", mode="before")
    @classmethod
    def _days(cls, v: Any) -> float | None:
        return None if v is None else quantity(v, "day", "time")

    @field_validator("pathways", mode="before")
    @classmethod
    def _pathways(cls, v: Any) -> dict[str, bool]:
        if not isinstance(v, dict):
            raise ValueError("must map pathway names to on/off")
        out = {}
        for k, x in v.items():
            if k not in PATHWAY_NAMES:
                raise ValueError(f"unknown pathway {k!r} (known: {', '.join(PATHWAY_NAMES)})")
            if isinstance(x, str):
                if x.lower() not in ("on", "off"):
                    raise ValueError(f"{k} must be on or off")
                x = x.lower() == "on"
            out[k] = bool(x)
        return out

    @model_validator(mode="after")
    def _check(self) -> Scenario:
        if not 0 < self.duration <= MAX_DURATION_DAY:
            raise ValueError("duration must be above 0 and at most 100 years")
        if self.save_every is not None and not 0 < self.save_every <= self.duration:
            raise ValueError("save_every must be above 0 and at most the duration")
        if self.save_every is not None and self.duration / self.save_every > 2_000_000:
            raise ValueError("save_every gives more than 2,000,000 output times")
        s = self.subject
        if self.species == "human":
            if s.age is None:
                raise ValueError("subject.age is required for a human")
            if s.ovariectomy is not None:
                raise ValueError("subject.ovariectomy is for rats; use menopause_age for women")
            if s.menopause_age is not None and s.sex == "male":
                raise ValueError("subject.menopause_age given for a male subject")
        else:
            if s.menopause_age is not None:
                raise ValueError("subject.menopause_age is for humans; use ovariectomy for rats")
            if s.ovariectomy is not None and s.sex == "male":
                raise ValueError("subject.ovariectomy given for a male rat")
        for i, item in enumerate(self.intake):
            if item.diet is not None and self.species != "rat":
                raise ValueError(f"intake[{i}]: diets per 100 g are for rats; give humans doses or foods")
            if item.start >= self.duration:
                raise ValueError(f"intake[{i}]: start is at or after the end of the scenario")
        if self.population is not None and "warfarin_dose" in self.population.covariates \
                and self.warfarin_mg_per_day() == 0:
            raise ValueError("population.covariates.warfarin_dose: the scenario needs a repeated warfarin "
                             "intake (agent: warfarin, every: ...) whose daily dose the covariate sets")
        return self

    def warfarin_mg_per_day(self) -> float:
        """The scenario's repeated warfarin intake in mg/day (0 without one)."""
        return sum(quantity(i.dose, "mg", "dose") / i.every for i in self.intake
                   if i.agent == "warfarin" and i.every is not None)

    # ---- reading ----
    @classmethod
    def from_yaml(cls, path: str | Path) -> Scenario:
        return cls.from_dict(read_yaml(path), source=str(path))

    @classmethod
    def from_dict(cls, data: Any, source: str = "scenario") -> Scenario:
        if not isinstance(data, dict):
            raise ScenarioError(f"{source}: a scenario must be a mapping of fields")
        try:
            scenario = cls.model_validate(data)
        except ValidationError as exc:
            errors = exc.errors()
            err = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
            loc = ".".join(str(x) if not isinstance(x, int) else f"[{x}]" for x in err["loc"]).replace(".[", "[")
            msg = err["msg"].removeprefix("Value error, ")
            if err["type"] == "missing":
                msg = "is required"
            elif err["type"] == "extra_forbidden":
                msg = "is not a known field"
            if msg.startswith("@") and ": " in msg:
                name, msg = msg[1:].split(": ", 1)
                loc = f"{loc}.{name}" if loc else name
            where = f"{loc}: " if loc else ""
            raise ScenarioError(f"{source}: {where}{msg}") from None
        scenario._source = source
        return scenario

    @property
    def source(self) -> str:
        """Where the scenario came from (a file name), for error messages."""
        return self._source

    def error(self, message: str) -> ScenarioError:
        return ScenarioError(f"{self._source}: {message}")

    def to_dict(self) -> dict[str, Any]:
        """A plain mapping that `from_dict` reads back to the same scenario (quantities with their units)."""
        data = self.model_dump(mode="json", exclude_none=True)
        units = {"age": "year", "menopause_age": "year", "ovariectomy": "day", "body_weight": "kg"}
        for key, unit in units.items():
            if key in data["subject"]:
                data["subject"][key] = f"{data['subject'][key]!r} {unit}"
        for item in data["intake"]:
            for key in ("every", "start", "stop"):
                if key in item:
                    item[key] = f"{item[key]!r} day"
        for key in ("duration", "save_every"):
            if key in data:
                data[key] = f"{data[key]!r} day"
        return data

    # ---- what the engine needs ----
    def output_times(self) -> np.ndarray:
        step = self.save_every
        if step is None:
            step = 1.0 / 24.0 if self.duration <= 14 else 1.0
        n = int(math.floor(self.duration / step + 1e-9))
        t = np.arange(n + 1) * step
        if t[-1] < self.duration - 1e-9:
            t = np.append(t, self.duration)
        return t


@dataclass(frozen=True)
class DoseEvent:
    time: float  # day
    state: str
    amount: float  # in the state's unit
    agent: str
    label: str


def subject_parameters(sc: Scenario, table_value) -> dict[str, float]:
    """Scenario -> parameter values (model units) that differ from the species table."""
    s = sc.subject
    out: dict[str, float] = {"ageing": 1.0 if s.ageing else 0.0}
    if s.age is not None:
        out["age0"] = s.age
    if s.body_weight is not None:
        out["body_weight"] = s.body_weight
    if sc.species == "human":
        if s.menopause_age is not None:
            out["menopause_age"] = s.menopause_age
            out["postmenopausal"] = 1.0
        else:
            out["postmenopausal"] = 0.0
    else:
        out["ovariectomised"] = 0.0 if s.ovariectomy is None else 1.0
        if s.ovariectomy is not None:
            out["ovx_day"] = s.ovariectomy
    for name, on in sc.pathways.items():
        out[f"sw_{name}"] = 1.0 if on else 0.0
    for item in sc.intake:
        if item.diet is not None:
            food = table_value("food_intake", "g/day")
            for vit, content in item.diet.items():
                key = f"diet_{VITAMER_PARAM[vit]}"
                out[key] = out.get(key, 0.0) + diet_content(content) * food / 100.0
    return out


def dose_events(sc: Scenario, targets: dict[str, tuple[str, float]]) -> list[DoseEvent]:
    """Every administration as (time, state, amount). targets: agent -> (state, factor per dose unit)."""
    events: list[DoseEvent] = []
    for i, item in enumerate(sc.intake):
        if item.diet is not None:
            continue
        if item.agent is not None:
            agent = item.agent
            amount = quantity(item.dose, AGENT_UNITS[agent], "dose")
            label = f"{agent} {item.dose}"
        else:
            food = food_table()[item.food]  # type: ignore[index]
            agent = food.vitamer
            grams = quantity(item.amount, "g", "amount")
            amount = grams * food.content_ug_per_100g / 100.0 * food.relative_bioavailability
            label = f"{item.food} {item.amount}"
        state, factor = targets[agent]
        end = sc.duration if item.stop is None else min(item.stop, sc.duration)
        if item.every is None:
            times = [item.start]
        else:
            n = int(math.floor((end - item.start) / item.every - 1e-9)) + 1
            times = [item.start + k * item.every for k in range(max(n, 0))]
            times = [t for t in times if t < end]
        events += [DoseEvent(t, state, amount * factor, agent, label) for t in times]
    events.sort(key=lambda e: e.time)
    return events


def convert_override(name: str, value: str | float, unit: str, source: str = "scenario") -> float:
    """A `parameters:` entry in the model unit; every model parameter is finite and not negative."""
    if isinstance(value, bool):
        raise ScenarioError(f"{source}: parameters.{name}: {value!r} is not a number")
    if isinstance(value, (int, float)):
        if unit not in ("1", ""):
            raise ScenarioError(f"{source}: parameters.{name}: {value!r} has no unit (model unit is {unit})")
        out = float(value)
    else:
        try:
            q = UREG.Quantity(str(value))
            out = convert(float(q.magnitude), f"{q.units}", unit)
        except Exception:
            raise ScenarioError(f"{source}: parameters.{name}: {value!r} is not a quantity in {unit}") from None
    if not math.isfinite(out) or out < 0:
        raise ScenarioError(f"{source}: parameters.{name}: {value!r} must be finite and not negative")
    return out
