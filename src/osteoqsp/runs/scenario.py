"""Scenario files: who is simulated, what they take, for how long, and (optionally) the population.

A scenario is data. `Scenario.from_yaml` reads and validates it; every user error becomes a `ScenarioError`
whose message names the field and the reason in one line. The vocabulary a scenario may use (agents with
their dose units and largest doses, foods, diet vitamers, pathways, covariates) is the species model's,
read from the built model, never listed here.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator, model_validator

from osteoqsp.errors import ScenarioError
from osteoqsp.runs.intake import TAGS, AgentDose, DoseEvent, FoodServing, Intake, RatDiet
from osteoqsp.runs.quantities import convert_override, diet_content, quantity, read_yaml

if TYPE_CHECKING:
    from osteoqsp.symbolic.declare import Model

MAX_DURATION_DAY = 100 * 365.25
MAX_POPULATION = 1_000_000

__all__ = ["Scenario", "ScenarioError", "SubjectSpec", "Population", "DoseEvent", "dose_events",
           "subject_parameters", "convert_override", "quantity", "read_yaml", "diet_content", "vocabulary"]


def vocabulary(species: str) -> Model:
    """The built model of a species, whose declarations are the vocabulary of its scenarios."""
    from osteoqsp.model import build_model

    return build_model(species)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SubjectSpec(_Strict):
    """Who is simulated (the scenario's `subject:`): sex, age, menopause or ovariectomy, body weight, and (human)
    the femoral-neck T-score at the start (default: the mean of women of her age)."""

    sex: Literal["female", "male"] = "female"
    age: float = Field(default=None)  # type: ignore[assignment]
    menopause_age: float | None = None
    ovariectomy: float | None = None
    body_weight: float | None = None
    femoral_neck_tscore: float | None = None
    ageing: bool = True

    @field_validator("femoral_neck_tscore", mode="before")
    @classmethod
    def _score(cls, v: Any) -> float | None:
        if v is None:
            return None
        x = quantity(v, "1", "femoral_neck_tscore")
        if not -7 <= x <= 5:
            raise ValueError(f"{v!r} is outside -7 to 5 (SD units)")
        return x

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


class Uncertainty(_Strict):
    """`uncertainty: {draws: N}`: each person of the population is simulated under N parameter sets drawn from
    the shipped posterior of the trial fit (params/posterior-<species>.csv, `osteoqsp mbma`), so outputs
    separate uncertainty (between draws) from variability (between people)."""

    draws: int = Field(ge=2, le=10_000)


class Population(_Strict):
    """size and seed; optional covariate distributions ({uniform: [low, high]} or {normal: [mean, sd]},
    quantities with units) and correlations between the log-normal etas ({"kel_mk7,f_abs_mk7": 0.4}).
    Which covariates and parameters exist is checked by the scenario, against its species model."""

    size: int = Field(ge=1, le=MAX_POPULATION)
    seed: int = 0
    covariates: dict[str, dict[str, list[Any]]] = {}
    correlations: dict[str, float] = {}
    uncertainty: Uncertainty | None = None

    @property
    def draws(self) -> int:
        """Parameter sets from the shipped posterior (1: the typical values only)."""
        return self.uncertainty.draws if self.uncertainty is not None else 1

    @property
    def total(self) -> int:
        """Subjects simulated: `size` people under each of the `draws` parameter sets."""
        return self.size * self.draws

    def person(self, subject: int) -> int:
        """The person a simulated subject is (the same person under every draw)."""
        return subject % self.size

    def draw(self, subject: int) -> int:
        return subject // self.size

    @field_validator("covariates")
    @classmethod
    def _covariates(cls, v: dict[str, dict[str, list[Any]]]) -> dict[str, dict[str, list[Any]]]:
        for name, dist in v.items():
            if len(dist) != 1 or next(iter(dist)) not in ("uniform", "normal"):
                raise ValueError(f"@covariates: {name} needs one of uniform: [low, high] or normal: [mean, sd]")
            kind, args = next(iter(dist.items()))
            if len(args) != 2:
                raise ValueError(f"@covariates: {name}: {kind} takes two quantities")
        return v

    @field_validator("correlations")
    @classmethod
    def _correlations(cls, v: dict[str, float]) -> dict[str, float]:
        for pair, rho in v.items():
            if len(pair.split(",")) != 2 or not -1 < rho < 1:
                raise ValueError(f"@correlations: {pair!r}: give 'parameter,parameter' with -1 < rho < 1")
        return v

    def covariate(self, name: str, unit: str) -> tuple[str, float, float] | None:
        """(kind, a, b) in `unit`, or None when the covariate is not given."""
        if name not in self.covariates:
            return None
        kind, args = next(iter(self.covariates[name].items()))
        a, b = (quantity(x, unit, name) for x in args)
        return kind, a, b

    def check(self, model: Model) -> None:
        """Covariates and correlations against the species model (raises ValueError('@field: reason'))."""
        from osteoqsp.model.parameters import variability

        known = {c.name: c for c in model.covariates}
        for name in self.covariates:
            if name not in known:
                raise ValueError(f"@population.covariates: unknown covariate {name!r} (known: {', '.join(known)})")
            kind, args = next(iter(self.covariates[name].items()))
            try:
                spec = self.covariate(name, known[name].unit)
            except ValueError as exc:
                raise ValueError(f"@population.covariates: {name}: {exc}") from None
            assert spec is not None
            _, a, b = spec
            negative = min(a, b) < 0 if kind == "uniform" else a < 0
            if (kind == "uniform" and not a <= b) or (kind == "normal" and b < 0) or (negative and not known[name].signed):
                raise ValueError(f"@population.covariates: {name}: {kind} {args} is not a valid distribution")
        if self.uncertainty is not None:
            from osteoqsp.model.parameters import posterior

            have = len(posterior(model.species))
            if self.uncertainty.draws > have:
                raise ValueError(f"@population.uncertainty: {self.uncertainty.draws} draws asked, the shipped "
                                 f"posterior of the {model.species} model has {have} (osteoqsp mbma --install)")
            if self.total > MAX_POPULATION:
                raise ValueError(f"@population.uncertainty: {self.size} subjects x {self.uncertainty.draws} draws "
                                 f"is more than {MAX_POPULATION:,} simulations")
        varied = sorted(variability())
        for pair in self.correlations:
            unknown = [x.strip() for x in pair.split(",") if x.strip() not in varied]
            if unknown:
                raise ValueError(f"@population.correlations: {pair!r}: {unknown[0]!r} is not a parameter of the "
                                 f"variability table (known: {', '.join(varied)})")


class Scenario(_Strict):
    _source: str = PrivateAttr(default="scenario")
    name: str = "scenario"
    species: Literal["human", "rat"] = "human"
    subject: SubjectSpec = SubjectSpec()
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
        for k, x in v.items():  # which pathways exist: checked against the species model in _check
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
        model = vocabulary(self.species)
        self._check_vocabulary(model)
        s = self.subject
        if self.species == "human":
            if s.age is None:
                raise ValueError("subject.age is required for a human")
            if s.ovariectomy is not None:
                raise ValueError("subject.ovariectomy is for rats; use menopause_age for women")
            if s.menopause_age is not None and s.sex == "male":
                raise ValueError("subject.menopause_age given for a male subject")
            if s.femoral_neck_tscore is not None and s.sex == "male":
                raise ValueError("subject.femoral_neck_tscore: the fracture layer's references are women's")
        else:
            if s.menopause_age is not None:
                raise ValueError("subject.menopause_age is for humans; use ovariectomy for rats")
            if s.femoral_neck_tscore is not None:
                raise ValueError("subject.femoral_neck_tscore is for humans")
            if s.ovariectomy is not None and s.sex == "male":
                raise ValueError("subject.ovariectomy given for a male rat")
        for i, item in enumerate(self.intake):
            if isinstance(item, RatDiet) and self.species != "rat":
                raise ValueError(f"intake[{i}]: diets per 100 g are for rats; give humans doses or foods")
            if item.start >= self.duration:
                raise ValueError(f"intake[{i}]: start is at or after the end of the scenario")
        if self.population is not None:
            self.population.check(model)
            for c in model.covariates:
                agent = c.scales_doses_of
                if agent is not None and c.name in self.population.covariates and self.daily_dose(agent) == 0:
                    raise ValueError(f"population.covariates.{c.name}: the scenario needs a repeated {agent} "
                                     f"intake (agent: {agent}, every: ...) whose daily dose the covariate sets")
        return self

    def _check_vocabulary(self, model: Model) -> None:
        """Agents, foods, diet vitamers and pathways against the species model."""
        from osteoqsp.model import food_table

        agents = {d.agent: d for d in model.dose_targets}
        foods = food_table()
        diets = {d.agent for d in model.diets}
        for i, item in enumerate(self.intake):
            at = f"@intake[{i}]"
            if isinstance(item, AgentDose):
                target = agents.get(item.agent)
                if target is None:
                    raise ValueError(f"{at}.agent: unknown agent {item.agent!r} (known: {', '.join(agents)})")
                if item.route is not None and item.route != target.route:
                    raise ValueError(f"{at}.route: {item.agent} is given {target.route}, not {item.route!r}")
                if item.dose is None:
                    raise ValueError(f"{at}: agent {item.agent} needs a dose, e.g. '180 {target.dose_unit}'")
                try:
                    d = quantity(item.dose, target.dose_unit, "dose")
                except ValueError as exc:
                    raise ValueError(f"{at}.dose: {exc}") from None
                if d <= 0:
                    raise ValueError(f"{at}.dose: {item.dose!r} must be positive")
                if d > target.max_dose:
                    raise ValueError(f"{at}.dose: {item.dose!r} is absurd for {item.agent} (more than "
                                     f"{target.max_dose:g} {target.dose_unit} at once)")
            elif isinstance(item, FoodServing) and item.food not in foods:
                raise ValueError(f"{at}.food: unknown food {item.food!r} (known: {', '.join(foods)})")
            elif isinstance(item, RatDiet):
                for vit in item.diet:
                    if vit not in diets:
                        raise ValueError(f"{at}.diet: unknown diet vitamer {vit!r} (known: {', '.join(diets)})")
        switches = [w.name for w in model.switches]
        for k in self.pathways:
            if k not in switches:
                raise ValueError(f"@pathways: unknown pathway {k!r} (known: {', '.join(switches)})")

    def daily_dose(self, agent: str) -> float:
        """The scenario's repeated intake of `agent`, in its dose unit per day (0 without one)."""
        unit = next(d.dose_unit for d in vocabulary(self.species).dose_targets if d.agent == agent)
        return sum(quantity(i.dose, unit, "dose") / i.every for i in self.intake
                   if isinstance(i, AgentDose) and i.agent == agent and i.every is not None)

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
            parts = [x for x in err["loc"] if x not in TAGS]  # the intake shapes are not fields
            loc = ".".join(str(x) if not isinstance(x, int) else f"[{x}]" for x in parts).replace(".[", "[")
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
        for k, item in enumerate(data["intake"]):
            for key in ("every", "start", "stop"):
                if key in item:
                    item[key] = f"{item[key]!r} day"
            first = [key for key in ("agent", "food", "diet", "dose", "amount") if key in item]
            data["intake"][k] = {**{key: item[key] for key in first}, **item}
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


def subject_parameters(sc: Scenario, table_value) -> dict[str, float]:  # noqa: ANN001 (table_value(name, unit))
    """Scenario -> parameter values (model units) that differ from the species table."""
    model = vocabulary(sc.species)
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
    if s.femoral_neck_tscore is not None:  # through the model's own covariate: the Z-score against her age
        cov = next(c for c in model.covariates if c.name == "femoral_neck_tscore")
        assert cov.update is not None
        known = dict(out)

        class _Values(dict):  # the subject's values so far, then the species table
            def __missing__(self, key: str) -> float:
                return table_value(key, model.parameter_units[key])

        out.update(cov.update(_Values(known), s.femoral_neck_tscore))
    switch = {w.name: w.parameter for w in model.switches}
    for name, on in sc.pathways.items():
        out[switch[name]] = 1.0 if on else 0.0
    diet_parameter = {d.agent: d.parameter for d in model.diets}
    for item in sc.intake:
        if isinstance(item, RatDiet):
            food = table_value("food_intake", "g/day")
            for vit, content in item.diet.items():
                key = diet_parameter[vit]
                out[key] = out.get(key, 0.0) + diet_content(content) * food / 100.0
    return out


def dose_events(sc: Scenario, model: Model) -> list[DoseEvent]:
    """Every administration of an agent or a food as (time, state, amount in the state's unit), in time order."""
    from osteoqsp.model import food_table

    targets = {d.agent: d for d in model.dose_targets}
    events: list[DoseEvent] = []
    for item in sc.intake:
        if isinstance(item, AgentDose):
            target = targets[item.agent]
            amount = quantity(item.dose, target.dose_unit, "dose")
        elif isinstance(item, FoodServing):
            food = food_table()[item.food]
            target = targets[food.vitamer]
            amount = food.dose_ug(item.grams)
        else:
            continue
        events += [DoseEvent(t, target.state, amount * target.factor, target.agent, item.label())
                   for t in item.times(sc.duration)]
    events.sort(key=lambda e: e.time)
    return events
