"""What a subject takes: an agent's dose, a food serving, or (rats) a diet; and the administrations they make.

An intake line is one of three shapes, told apart by its key (agent, food or diet). The field types and
units are checked here; whether the agent, food or diet vitamer exists, and the dose's unit and size, are
checked against the species model's vocabulary by the scenario (`check`), which knows the species.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, ConfigDict, Discriminator, Tag, field_validator, model_validator

from osteoqsp.runs.quantities import diet_content, quantity

TAGS = ("agent-dose", "food-serving", "rat-diet")  # not field names: left out of error locations


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    _misplaced: ClassVar[dict[str, str]] = {}  # a field of another intake shape -> why it does not belong

    @model_validator(mode="before")
    @classmethod
    def _shape(cls, data: Any) -> Any:
        """A field of another intake shape gets a message saying why, not just 'not a known field'."""
        if isinstance(data, dict):
            for key, why in cls._misplaced.items():
                if key in data:
                    raise ValueError(f"@{key}: {why}")
        return data


class _Regimen(_Strict):
    every: float | None = None
    start: float = 0.0
    stop: float | None = None

    @field_validator("every", "start", "stop", mode="before")
    @classmethod
    def _days(cls, v: Any) -> float | None:
        return None if v is None else quantity(v, "day", "time")

    @model_validator(mode="after")
    def _times(self) -> _Regimen:
        if self.every is not None and self.every <= 0:
            raise ValueError("every must be a positive time")
        if self.start < 0:
            raise ValueError("start must not be negative")
        if self.stop is not None and self.stop <= self.start:
            raise ValueError("@stop: stop must come after start")
        return self

    def times(self, duration: float) -> list[float]:
        """Administration times (day) before the end of the scenario."""
        end = duration if self.stop is None else min(self.stop, duration)
        if self.every is None:
            return [self.start]
        n = int(math.floor((end - self.start) / self.every - 1e-9)) + 1
        return [t for t in (self.start + k * self.every for k in range(max(n, 0))) if t < end]


class AgentDose(_Regimen):
    """`agent: MK-7, dose: 180 ug, every: 1 day`: a supplement or drug (the dose's unit is the agent's)."""

    agent: str
    dose: Any = None
    route: str | None = None  # where an agent has more than one; checked against the model's routes
    _misplaced: ClassVar[dict[str, str]] = {"amount": "an agent takes a dose, not an amount"}

    def label(self) -> str:
        return f"{self.agent} {self.dose}"


class FoodServing(_Regimen):
    """`food: natto, amount: 40 g, every: 1 day`: a serving from the packaged food table."""

    food: str
    amount: Any = None
    _misplaced: ClassVar[dict[str, str]] = {"dose": "a food takes an amount (e.g. '40 g'), not a dose"}

    @field_validator("amount", mode="after")
    @classmethod
    def _grams(cls, v: Any) -> Any:
        if v is not None and not 0 < quantity(v, "g", "amount") <= 2000:
            raise ValueError(f"{v!r} must be above 0 and at most 2 kg")
        return v

    @model_validator(mode="after")
    def _has_amount(self) -> FoodServing:
        if self.amount is None:
            raise ValueError("a food needs an amount, e.g. '40 g'")
        return self

    @property
    def grams(self) -> float:
        return quantity(self.amount, "g", "amount")

    def label(self) -> str:
        return f"{self.food} {self.amount}"


class RatDiet(_Strict):
    """`diet: {MK-7: 18.8 ug/100g}`: vitamer content of a rat's diet, from the start to the end."""

    diet: dict[str, str]
    start: float = 0.0
    _misplaced: ClassVar[dict[str, str]] = {k: "a diet runs from the start to the end of the scenario"
                                            for k in ("dose", "amount", "every", "stop")}

    @field_validator("start", mode="before")
    @classmethod
    def _from_the_start(cls, v: Any) -> float:
        if quantity(v, "day", "time") != 0.0:
            raise ValueError("a diet runs from the start to the end of the scenario")
        return 0.0

    @field_validator("diet", mode="after")
    @classmethod
    def _contents(cls, v: dict[str, str]) -> dict[str, str]:
        for content in v.values():
            diet_content(content)
        return v


def _shape_of(data: Any) -> str | None:
    if isinstance(data, BaseModel):
        data = data.model_dump()
    if not isinstance(data, dict):
        return None
    keys = [k for k in ("agent", "food", "diet") if data.get(k) is not None]
    if len(keys) != 1:
        return None
    return dict(zip(("agent", "food", "diet"), TAGS))[keys[0]]


Intake = Annotated[
    Annotated[AgentDose, Tag("agent-dose")] | Annotated[FoodServing, Tag("food-serving")]
    | Annotated[RatDiet, Tag("rat-diet")],
    Discriminator(_shape_of, custom_error_type="intake_shape",
                  custom_error_message="give exactly one of agent, food or diet"),
]


@dataclass(frozen=True)
class DoseEvent:
    time: float  # day
    state: str
    amount: float  # in the state's unit
    agent: str
    label: str

