"""The dashboard's inputs: the widget values (`Inputs`), and the pure functions between them and a scenario.

`build_scenario` turns an `Inputs` into a scenario mapping (quantities with their units, as in a scenario
file), and `check_scenario` validates it with the same pydantic model and messages as the command line, then
applies the dashboard's own limits (duration, population size), so that a request cannot ask for unbounded
work. `inputs_from_scenario` goes back from a scenario to the widget values; `describe_intake` and
`same_scenario` serve the page. All pure, tested without a browser (tests/test_app.py).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
from typing import Any

import yaml

from osteoqsp.runs.scenario import Scenario, ScenarioError, diet_content, quantity, vocabulary

MAX_SUBJECTS = 50
MAX_DURATION_DAY = {"human": 10 * 365.25, "rat": 2 * 365.25}
MAX_DURATION_TEXT = {"human": "10 years", "rat": "2 years"}
SUPPLEMENTS = ("none", "MK-7", "MK-4", "K1", "menatetrenone")  # menatetrenone: MK-4 as the drug (45 mg/day: 45000 ug/day)
# the comparator drugs at their labelled regimens: dose and interval
THERAPIES = {"none": None, "denosumab": ("60 mg", "6 month"), "teriparatide": ("20 ug", "1 day"),
             "alendronate": ("70 mg", "7 day")}
DURATION_UNITS = ("day", "week", "month", "year")
HOURLY_UP_TO_DAY = 60.0  # output every hour up to this duration, every day beyond
SOURCE = "dashboard"


def pathways() -> tuple[str, ...]:
    """The switchable MK-7 pathways, as the model declares them (the switches of its MK-7 layer)."""
    from osteoqsp.model import mk7_pathways

    return mk7_pathways("human")


@dataclass(frozen=True)
class Inputs:
    """What the widgets hold; every quantity in the unit its name says."""

    species: str = "human"
    sex: str = "female"
    age_year: float = 58.0  # human
    postmenopausal: bool = True
    menopause_age_year: float = 51.0
    fn_tscore_given: bool = False  # else the mean of women of her age
    fn_tscore: float = -1.0  # femoral-neck T-score at the start (SD units)
    rat_age_day: float = 90.0  # rat
    ovariectomised: bool = True
    ovx_day: float = 0.0  # day of OVX relative to the start
    supplement: str = "MK-7"  # one of SUPPLEMENTS
    dose_ug: float = 180.0  # per dose
    single_dose: bool = False  # else every day
    supplement_start_day: float = 0.0
    food: str = "natto"
    serving_g: float = 40.0
    servings_per_week: float = 0.0
    warfarin_mg_day: float = 0.0
    therapy: str = "none"  # one of THERAPIES (human), at its labelled regimen
    therapy_stop_month: float = 0.0  # stop the therapy after this many months; 0: to the end
    diet_mk7_ug_per_100g: float = 0.0  # rat diet; 0: standard chow
    duration: float = 3.0
    duration_unit: str = "year"
    pathways_off: frozenset[str] = frozenset()
    population: bool = False
    population_size: int = 20
    seed: int = 7
    other_intake: tuple[dict[str, Any], ...] = ()  # items of a study the widgets do not cover, kept as they are
    name: str = "dashboard"


def _num(x: float) -> str:
    return f"{x:.10g}"


def build_scenario(i: Inputs) -> dict[str, Any]:
    """A scenario mapping (as in a scenario file) from the widget values; validated by `check_scenario`."""
    if i.species == "rat":
        subject: dict[str, Any] = {"sex": i.sex, "age": f"{_num(i.rat_age_day)} day"}
        if i.ovariectomised:
            subject["ovariectomy"] = f"{_num(i.ovx_day)} day"
    else:
        subject = {"sex": i.sex, "age": f"{_num(i.age_year)} year"}
        if i.postmenopausal:
            subject["menopause_age"] = f"{_num(i.menopause_age_year)} year"
        if i.fn_tscore_given:
            subject["femoral_neck_tscore"] = float(i.fn_tscore)
    intake: list[dict[str, Any]] = []
    if i.supplement != "none":
        item: dict[str, Any] = {"agent": i.supplement, "dose": f"{_num(i.dose_ug)} ug"}
        if not i.single_dose:
            item["every"] = "1 day"
        if i.supplement_start_day != 0:
            item["start"] = f"{_num(i.supplement_start_day)} day"
        intake.append(item)
    if i.servings_per_week != 0:
        every = 7.0 / i.servings_per_week
        intake.append({"food": i.food, "amount": f"{_num(i.serving_g)} g", "every": f"{_num(every)} day"})
    if i.warfarin_mg_day != 0:
        intake.append({"agent": "warfarin", "dose": f"{_num(i.warfarin_mg_day)} mg", "every": "1 day"})
    if THERAPIES.get(i.therapy):
        dose, every = THERAPIES[i.therapy]
        item = {"agent": i.therapy, "dose": dose, "every": every}
        if i.therapy_stop_month > 0:
            item["stop"] = f"{_num(i.therapy_stop_month)} month"
        intake.append(item)
    if i.diet_mk7_ug_per_100g != 0:
        intake.append({"diet": {"MK-7": f"{_num(i.diet_mk7_ug_per_100g)} ug/100g"}})
    intake += [dict(x) for x in i.other_intake]
    data: dict[str, Any] = {"name": i.name, "species": i.species, "subject": subject, "intake": intake,
                            "pathways": {p: p not in i.pathways_off for p in pathways()},
                            "duration": f"{_num(i.duration)} {i.duration_unit}"}
    try:
        days = quantity(data["duration"], "day", "duration")
    except ValueError:
        days = math.inf  # the scenario's validation names the problem
    data["save_every"] = "1 hour" if days <= HOURLY_UP_TO_DAY else "1 day"
    if i.population:
        data["population"] = {"size": int(i.population_size), "seed": int(i.seed)}
    return data


def check_scenario(data: dict[str, Any]) -> Scenario:
    """The CLI's validation (same model, same messages), then the dashboard's limits; a ScenarioError otherwise."""
    sc = Scenario.from_dict(data, source=SOURCE)
    if sc.duration > MAX_DURATION_DAY[sc.species]:
        raise ScenarioError(f"{SOURCE}: duration: the dashboard simulates at most {MAX_DURATION_TEXT[sc.species]} "
                            f"for a {sc.species} (the command line allows 100 years)")
    if sc.population is not None and sc.population.size > MAX_SUBJECTS:
        raise ScenarioError(f"{SOURCE}: population.size: the dashboard simulates at most {MAX_SUBJECTS} subjects "
                            f"(use `osteoqsp simulate` for larger populations)")
    return sc


def _value(text: Any, unit: str) -> float:
    return quantity(text, unit, unit)


def _duration(text: Any) -> tuple[float, str]:
    m = re.fullmatch(r"\s*([-+0-9.eE]+)\s*([a-z]+?)s?\s*", str(text))
    if m and m.group(2) in DURATION_UNITS:
        return float(m.group(1)), m.group(2)
    return _value(text, "day"), "day"


def inputs_from_scenario(data: dict[str, Any], name: str = "dashboard") -> Inputs:
    """The widget values that give back this scenario; intake the widgets cannot express goes to other_intake."""
    sc = Scenario.from_dict(data, source=name)  # a clear error for a bad file before reading it
    s = data.get("subject") or {}
    i = Inputs(name=name, species=sc.species, sex=sc.subject.sex, supplement="none", dose_ug=180.0,
               pathways_off=frozenset(p for p, on in sc.pathways.items() if not on))
    if sc.species == "rat":
        i = replace(i, rat_age_day=_value(s["age"], "day"), ovariectomised="ovariectomy" in s,
                    ovx_day=_value(s.get("ovariectomy", "0 day"), "day"))
    else:
        i = replace(i, age_year=_value(s["age"], "year"), postmenopausal="menopause_age" in s,
                    menopause_age_year=_value(s.get("menopause_age", "51 year"), "year"),
                    fn_tscore_given=sc.subject.femoral_neck_tscore is not None,
                    fn_tscore=sc.subject.femoral_neck_tscore if sc.subject.femoral_neck_tscore is not None else -1.0)
    duration, unit = _duration(data["duration"])
    i = replace(i, duration=duration, duration_unit=unit)
    others: list[dict[str, Any]] = []
    for item in data.get("intake") or []:
        every = _value(item["every"], "day") if "every" in item else None
        plain = "stop" not in item
        agent = item.get("agent")
        if agent in SUPPLEMENTS[1:] and i.supplement == "none" and plain and every in (None, 1.0):
            i = replace(i, supplement=agent, dose_ug=_value(item["dose"], "ug"),
                        single_dose=every is None, supplement_start_day=_value(item.get("start", "0 day"), "day"))
        elif (item.get("food") and i.servings_per_week == 0 and plain and "start" not in item
              and every is not None):
            i = replace(i, food=item["food"], serving_g=_value(item["amount"], "g"), servings_per_week=7.0 / every)
        elif agent == "warfarin" and i.warfarin_mg_day == 0 and plain and "start" not in item and every == 1.0:
            i = replace(i, warfarin_mg_day=_value(item["dose"], "mg"))
        elif (THERAPIES.get(agent) and i.therapy == "none" and "start" not in item and every is not None
              and (item["dose"], item["every"]) == THERAPIES[agent]):
            i = replace(i, therapy=agent,
                        therapy_stop_month=_value(item["stop"], "day") / 30.4375 if "stop" in item else 0.0)
        elif item.get("diet") and set(item["diet"]) == {"MK-7"} and i.diet_mk7_ug_per_100g == 0:
            i = replace(i, diet_mk7_ug_per_100g=diet_content(item["diet"]["MK-7"]))
        else:
            others.append(dict(item))
    return replace(i, other_intake=tuple(others))


def describe_intake(item: dict[str, Any]) -> str:
    """{'agent': 'calcium', 'dose': '800 mg', 'every': '1 day'} -> 'calcium 800 mg, every 1 day'."""
    what = item.get("agent") or item.get("food") or "diet"
    rest = [str(v) if k in ("dose", "amount", "diet") else f"{k} {v}" for k, v in item.items()
            if k not in ("agent", "food")]
    return f"{what} {', '.join(rest)}"


def same_scenario(a: Scenario, b: Scenario) -> bool:
    """The same typical subject and intake: names, output grid, population and intake order aside; no pathways
    means all on."""
    def norm(sc: Scenario) -> dict[str, Any]:
        d = sc.to_dict()
        d.pop("name", None)
        d.pop("save_every", None)
        d.pop("population", None)
        d["pathways"] = {p: sc.pathways.get(p, True) for p in pathways()}
        for x in d["intake"]:
            if "diet" in x:
                x["diet"] = {k: diet_content(v) for k, v in x["diet"].items()}
        d["intake"] = sorted(yaml.safe_dump(x, sort_keys=True) for x in d["intake"])
        return d
    return norm(a) == norm(b)
