"""`osteoqsp app`: a local dashboard (streamlit), a thin shell over the Python API.

The widgets give an `Inputs`; `build_scenario` turns it into a scenario mapping (quantities with their
units, as in a scenario file), and `check_scenario` validates it with the same pydantic model and messages
as the command line, then applies the dashboard's own limits (duration, population size), so that a request
cannot ask for unbounded work. These three are pure and tested without a browser (tests/test_app.py).
Run with `osteoqsp app` (or `streamlit run` this file).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, fields, replace
from importlib import resources
from typing import TYPE_CHECKING, Any

import yaml

from osteoqsp.model.mk7_actions import PATHWAYS
from osteoqsp.runs.scenario import AGENT_UNITS, Scenario, ScenarioError, diet_content, food_table, quantity

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

    from osteoqsp.runs.results import Result

MAX_SUBJECTS = 50
MAX_DURATION_DAY = {"human": 10 * 365.25, "rat": 2 * 365.25}
MAX_DURATION_TEXT = {"human": "10 years", "rat": "2 years"}
SUPPLEMENTS = ("none", "MK-7", "MK-4", "K1")
DURATION_UNITS = ("day", "week", "month", "year")
HOURLY_UP_TO_DAY = 60.0  # output every hour up to this duration, every day beyond
SOURCE = "dashboard"


@dataclass(frozen=True)
class Inputs:
    """What the widgets hold; every quantity in the unit its name says."""

    species: str = "human"
    sex: str = "female"
    age_year: float = 58.0  # human
    postmenopausal: bool = True
    menopause_age_year: float = 51.0
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
    if i.diet_mk7_ug_per_100g != 0:
        intake.append({"diet": {"MK-7": f"{_num(i.diet_mk7_ug_per_100g)} ug/100g"}})
    intake += [dict(x) for x in i.other_intake]
    data: dict[str, Any] = {"name": i.name, "species": i.species, "subject": subject, "intake": intake,
                            "pathways": {p: p not in i.pathways_off for p in PATHWAYS},
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
                    menopause_age_year=_value(s.get("menopause_age", "51 year"), "year"))
    duration, unit = _duration(data["duration"])
    i = replace(i, duration=duration, duration_unit=unit)
    others: list[dict[str, Any]] = []
    for item in data.get("intake") or []:
        every = _value(item["every"], "day") if "every" in item else None
        plain = "stop" not in item
        agent = item.get("agent")
        if agent in ("K1", "MK-4", "MK-7") and i.supplement == "none" and plain and every in (None, 1.0):
            i = replace(i, supplement=agent, dose_ug=_value(item["dose"], AGENT_UNITS[agent]),
                        single_dose=every is None, supplement_start_day=_value(item.get("start", "0 day"), "day"))
        elif (item.get("food") and i.servings_per_week == 0 and plain and "start" not in item
              and every is not None):
            i = replace(i, food=item["food"], serving_g=_value(item["amount"], "g"), servings_per_week=7.0 / every)
        elif agent == "warfarin" and i.warfarin_mg_day == 0 and plain and "start" not in item and every == 1.0:
            i = replace(i, warfarin_mg_day=_value(item["dose"], "mg"))
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
        d["pathways"] = {p: sc.pathways.get(p, True) for p in PATHWAYS}
        for x in d["intake"]:
            if "diet" in x:
                x["diet"] = {k: diet_content(v) for k, v in x["diet"].items()}
        d["intake"] = sorted(yaml.safe_dump(x, sort_keys=True) for x in d["intake"])
        return d
    return norm(a) == norm(b)


# ---------------------------------------------------------------------------------------------------------
# What is shown: groups of observables, labels with units, evidence points

GROUPS = {
    "Serum vitamers": ("mk7_serum", "k1_serum", "mk4_serum"),
    "Carboxylation and INR": ("ucoc_ratio", "dp_ucmgp", "inr", "ucoc", "coc", "oc_total"),
    "Bone cells and markers": ("osteoblasts", "osteoclasts", "rankl", "opg", "nfkb", "alp", "ctx"),
    "BMD": ("bmd_lumbar_spine", "bmd_femoral_neck", "bmd_total_hip", "bmd_total_body",
            "femur_bmd", "femur_calcium", "femur_dry_weight", "tibia_bvtv"),
}
LABELS = {
    "mk7_serum": "serum MK-7", "mk4_serum": "serum MK-4", "k1_serum": "serum K1", "oc_total": "total osteocalcin",
    "ucoc": "ucOC", "coc": "cOC", "ucoc_ratio": "ucOC / total OC", "dp_ucmgp": "dp-ucMGP", "inr": "INR",
    "osteoblasts": "osteoblasts", "osteoclasts": "osteoclasts", "rankl": "RANKL", "opg": "OPG",
    "nfkb": "NF-kB activity", "alp": "ALP (formation)", "ctx": "CTX (resorption)",
    "bmd_lumbar_spine": "lumbar spine BMD", "bmd_femoral_neck": "femoral neck BMD",
    "bmd_total_hip": "total hip BMD", "bmd_total_body": "total body BMD", "femur_bmd": "femur BMD",
    "femur_calcium": "femur calcium", "femur_dry_weight": "femur dry weight", "tibia_bvtv": "tibia BV/TV",
}
CAPTIONS = {
    "Serum vitamers": "Total serum concentrations. With daily output each point is at that day's dose time, "
                      "before the dose (troughs); the last point, at the end of the scenario, can fall between doses.",
    "Carboxylation and INR": "ucOC / total OC and INR are ratios (1); osteocalcin in ng/mL, dp-ucMGP in pmol/L. "
                             "Black points: evidence of the chosen study (bars: its interval).",
    "Bone cells and markers": "Each relative to the subject's own baseline at the start (1 = baseline).",
    "BMD": "Bone mineral density per site, % change from the start of the scenario (rat: femur, % change; "
           "tibial BV/TV, % of tissue volume).",
}
RELATIVE = ("osteoblasts", "osteoclasts", "rankl", "opg", "nfkb", "alp", "ctx")
CHANGE = ("bmd_lumbar_spine", "bmd_femoral_neck", "bmd_total_hip", "bmd_total_body", "femur_bmd",
          "femur_calcium", "femur_dry_weight")


def unit_text(name: str, unit: str) -> str:
    if name in RELATIVE:
        return "relative to baseline (1)"
    if name in CHANGE:
        return "% change from start"
    if name == "tibia_bvtv":
        return "% of tissue volume"
    return "ratio (1)" if unit == "1" else unit


def fmt(x: float) -> str:
    """3 significant digits, without an exponent between 0.001 and 1e6."""
    if x == 0 or not math.isfinite(x) or not 1e-3 <= abs(x) < 1e6:
        return f"{x:.3g}"
    return f"{x:.{max(0, 2 - math.floor(math.log10(abs(x))))}f}"


def axis_label(name: str, unit: str) -> str:
    return f"{LABELS.get(name, name)} ({unit_text(name, unit)})"


KEY_NUMBERS = {
    "human": ("bmd_lumbar_spine", "bmd_femoral_neck", "ucoc_ratio", "dp_ucmgp", "inr", "mk7_serum"),
    "rat": ("femur_bmd", "tibia_bvtv", "ctx", "ucoc_ratio", "osteoclasts", "mk7_serum"),
}


def key_label(name: str, unit: str) -> str:
    what = LABELS.get(name, name)
    if name in CHANGE:
        return f"{what} change at end (%)"
    if name in RELATIVE:
        return f"{what} at end (1 = baseline)"
    return f"{what} at end ({'1' if unit == '1' else unit_text(name, unit)})"


def key_number(name: str, unit: str, y: Any) -> tuple[str, str, str | None]:
    """(label, value, delta) of a key number: the value at the end, with its start for levels."""
    shown = "%" if name in CHANGE or name == "tibia_bvtv" else ("" if unit == "1" else unit)
    if name in CHANGE:
        return key_label(name, unit), f"{y[-1]:+.2f} %", None
    return key_label(name, unit), f"{fmt(y[-1])} {shown}".strip(), f"start: {fmt(y[0])} {shown}".strip()


def study_evidence(study: str, result: Result) -> pd.DataFrame:
    """The evidence targets mapped to this built-in study (evidence/validation.yaml) against this result."""
    import pandas as pd

    from osteoqsp.analyses.evidence import interval, measure, targets, validation_spec

    rows = targets()
    out = []
    for item in validation_spec():
        if item["scenario"] != study or item.get("parameters"):
            continue
        row = rows[item["target"] - 1]
        low, high, how = interval(row)
        sim = measure(result, item["measure"], item)
        out.append({"target": item["target"], "study": row["study"], "endpoint": row["endpoint"],
                    "observed": float(row["value"]), "low": low, "high": high, "interval": how,
                    "simulated": sim, "unit": row["unit"], "inside": low <= sim <= high,
                    "measure": item["measure"]})
    return pd.DataFrame(out)


def evidence_points(evidence: pd.DataFrame, result: Result) -> dict[str, list[tuple[float, float, float, float]]]:
    """observable -> [(time_day, observed, low, high)] in the observable's unit, for the targets read as a value
    at a time or a change from the start."""
    points: dict[str, list[tuple[float, float, float, float]]] = {}
    for row in evidence.itertuples() if len(evidence) else ():
        m = row.measure
        if m["observable"] not in result.observable_names:
            continue
        if m["kind"] == "value_at":
            f = m.get("factor", 1.0)
            pt = (m["time_day"], row.observed / f, row.low / f, row.high / f)
        elif m["kind"] == "pct_change":
            y0 = float(result[m["observable"]][0])
            pt = (m["time_day"], *(y0 * (1 + v / 100) for v in (row.observed, row.low, row.high)))
        else:
            continue
        points.setdefault(m["observable"], []).append(pt)
    return points


def figure(result: Result, names: tuple[str, ...], summary: pd.DataFrame | None = None,
           points: dict[str, list[tuple[float, float, float, float]]] | None = None) -> Figure:
    """One panel per observable: the typical subject, population bands (5-95 %, 25-75 %) and evidence."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    names = tuple(n for n in names if n in result.observable_names)
    cols = 2 if len(names) in (1, 2, 4) else 3
    rows = max(1, math.ceil(len(names) / cols))
    fig = Figure(figsize=(10, (3.2 if cols == 2 else 2.6) * rows), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False)
    years = result.time_day[-1] > 400
    scale = 365.25 if years else 1.0
    for ax, n in zip(axes.flat, names):
        if summary is not None:
            q = summary[summary["observable"] == n]
            x = q["time_day"] / scale
            ax.fill_between(x, q["p05"], q["p95"], alpha=0.18, color="tab:blue", lw=0, label="population 5-95 %")
            ax.fill_between(x, q["p25"], q["p75"], alpha=0.3, color="tab:blue", lw=0, label="population 25-75 %")
        ax.plot(result.time_day / scale, result[n], color="tab:blue", label="typical subject")
        for t, obs, lo, hi in (points or {}).get(n, []):
            ax.errorbar([t / scale], [obs], yerr=[[obs - lo], [hi - obs]], fmt="o", color="black", ms=5,
                        capsize=3, label="evidence")
        ax.set_title(LABELS.get(n, n), fontsize=10)
        ax.set_ylabel(unit_text(n, result.observable_units[n]), fontsize=9)
        ax.set_xlabel("time (year)" if years else "time (day)", fontsize=9)
        ax.grid(alpha=0.3)
        ax.ticklabel_format(axis="y", useOffset=False)
        _min_span(ax, 0.2 if n in CHANGE else 0.02, nonnegative=n not in CHANGE)
        if (summary is not None and ax is axes.flat[0]) or (points or {}).get(n):
            ax.legend(fontsize=7)
    for ax in list(axes.flat)[len(names):]:
        ax.axis("off")
    return fig


def _min_span(ax: Any, rel: float, nonnegative: bool) -> None:
    """Keep a flat line flat: at least `rel` of its level (or `rel` itself near 0) between the y limits."""
    lo, hi = ax.get_ylim()
    mid = (lo + hi) / 2
    span = rel * abs(mid) if abs(mid) > 1 else rel
    if hi - lo < span:
        lo, hi = mid - span / 2, mid + span / 2
        ax.set_ylim(*((0.0, span) if nonnegative and lo < 0 else (lo, hi)))


# ---------------------------------------------------------------------------------------------------------
# The page (runs under `streamlit run`)

def _run_subject(text: str) -> Result:
    from osteoqsp import simulate
    from osteoqsp.runs.results import Result

    sc = Scenario.from_dict(yaml.safe_load(text), source=SOURCE)
    r = simulate(sc.model_copy(update={"population": None}))
    assert isinstance(r, Result)
    return r


def _run_population(text: str) -> tuple[pd.DataFrame, int]:
    import tempfile
    from pathlib import Path

    from osteoqsp import simulate

    sc = Scenario.from_dict(yaml.safe_load(text), source=SOURCE)
    with tempfile.TemporaryDirectory(prefix="osteoqsp-app-") as tmp:
        pop = simulate(sc, outdir=Path(tmp) / "population")
        return pop.summary, len(pop.failures)  # type: ignore[union-attr]


def builtin_scenario(name: str) -> dict[str, Any]:
    from osteoqsp.runs.scenario import read_yaml

    return read_yaml(str(resources.files("osteoqsp").joinpath("scenarios", f"{name}.yaml")))


DEFAULT_STUDY = "knapen2013-mk7"
CUSTOM = "(custom)"


def _widgets_from(i: Inputs) -> dict[str, Any]:
    out = {f.name: getattr(i, f.name) for f in fields(i) if f.name not in ("pathways_off", "name", "other_intake")}
    out.update({f"pw_{p}": p not in i.pathways_off for p in PATHWAYS})
    return out


def _species_changed() -> None:
    """A new species starts from its typical subject (rat: OVX at 90 days of age, 98 days), not from a study."""
    import streamlit as st

    rat = st.session_state["species"] == "rat"
    i = Inputs(species="rat", supplement="none", duration=98.0, duration_unit="day") if rat else Inputs()
    st.session_state.update(_widgets_from(i), study=CUSTOM, other_intake=())


def _load_study() -> None:
    import streamlit as st

    study = st.session_state["study"]
    i = Inputs() if study == CUSTOM else inputs_from_scenario(builtin_scenario(study), name=study)
    st.session_state.update(_widgets_from(i))
    st.session_state["other_intake"] = i.other_intake


def _sidebar(studies: dict[str, str]) -> Inputs:
    """The input widgets (their values live in st.session_state under the names of Inputs' fields)."""
    import streamlit as st

    ss = st.session_state
    sb = st.sidebar
    sb.selectbox("Start from a study scenario", [CUSTOM, *studies], key="study", on_change=_load_study,
                 help="fills the inputs with a built-in study scenario; its evidence is shown against the result")
    if ss["study"] != CUSTOM:
        sb.caption(studies[ss["study"]])
    sb.subheader("Subject")
    species = sb.radio("Species", ("human", "rat"), key="species", horizontal=True, on_change=_species_changed)
    sb.radio("Sex", ("female", "male"), key="sex", horizontal=True)
    if species == "human":
        sb.number_input("Age (year)", key="age_year", step=1.0)
        if ss["sex"] == "female":
            sb.checkbox("Postmenopausal", key="postmenopausal")
            if ss["postmenopausal"]:
                sb.number_input("Menopause age (year)", key="menopause_age_year", step=1.0)
    else:
        sb.number_input("Age at start (day)", key="rat_age_day", step=1.0)
        if ss["sex"] == "female":
            sb.checkbox("Ovariectomised (OVX)", key="ovariectomised")
            if ss["ovariectomised"]:
                sb.number_input("OVX day, from the start (day)", key="ovx_day", step=1.0)
    sb.subheader("Intake")
    if species == "human":
        sb.selectbox("Vitamin K supplement", SUPPLEMENTS, key="supplement")
        if ss["supplement"] != "none":
            per = "µg, one dose" if ss["single_dose"] else "µg/day"
            sb.number_input(f"{ss['supplement']} dose ({per})", key="dose_ug", step=10.0,
                            help="validated as in a scenario file: positive, at most 100,000 µg at once")
            sb.checkbox("One single dose (else every day)", key="single_dose")
            sb.number_input("First dose on day (day)", key="supplement_start_day", step=1.0)
        foods = list(food_table())
        sb.selectbox("Food", foods, key="food", help="MK-7 (natto) or K1 foods of the packaged food table")
        c1, c2 = sb.columns(2)
        c1.number_input("Serving (g)", key="serving_g", step=10.0)
        c2.number_input("Servings per week (1/week)", key="servings_per_week", step=1.0)
        sb.number_input("Warfarin (mg/day)", key="warfarin_mg_day", step=0.5)
    else:
        sb.number_input("MK-7 in the diet (µg/100 g of diet)", key="diet_mk7_ug_per_100g", step=1.0,
                        help="0: standard chow; the rat eats 20 g of diet a day")
    if ss.get("other_intake"):
        sb.caption("Also from the study (kept): " + "; ".join(describe_intake(x) for x in ss["other_intake"]))
    sb.subheader("Duration")
    c1, c2 = sb.columns(2)
    c1.number_input("Duration", key="duration", step=1.0,
                    help=f"at most {MAX_DURATION_TEXT['human']} (human) or {MAX_DURATION_TEXT['rat']} (rat)")
    c2.selectbox("Unit", DURATION_UNITS, key="duration_unit")
    sb.subheader("MK-7 pathways")
    for p in PATHWAYS:
        sb.toggle(p.replace("_", " "), key=f"pw_{p}")
    sb.subheader("Virtual population")
    sb.toggle("Simulate a virtual population", key="population",
              help="log-normal variability on the parameters of the variability table (CVs assumed)")
    if ss["population"]:
        c1, c2 = sb.columns(2)
        c1.number_input(f"Subjects (at most {MAX_SUBJECTS})", key="population_size", step=5)
        c2.number_input("Seed", key="seed", step=1)

    inputs = Inputs(**{f.name: ss[f.name] for f in fields(Inputs)
                       if f.name not in ("pathways_off", "name", "other_intake")},
                    pathways_off=frozenset(p for p in PATHWAYS if not ss[f"pw_{p}"]),
                    other_intake=tuple(ss.get("other_intake") or ()),
                    name=ss["study"] if ss["study"] != CUSTOM else "dashboard")
    if species == "rat":
        inputs = replace(inputs, supplement="none", servings_per_week=0.0, warfarin_mg_day=0.0)
    else:
        inputs = replace(inputs, diet_mk7_ug_per_100g=0.0)
    if ss["sex"] == "male":
        inputs = replace(inputs, postmenopausal=False, ovariectomised=False)
    return inputs


def _evidence_tab(evidence: pd.DataFrame | None, study: str | None, name: str) -> None:
    import pandas as pd
    import streamlit as st

    if evidence is None or not len(evidence):
        st.info("No evidence targets are mapped to this scenario: start from a study scenario "
                "(e.g. knapen2013-mk7, sato2012-mk7-single, wronski-ovx-98d) to see them.")
    else:
        if name != study:
            st.warning(f"The inputs differ from the study {study}: the simulated values are for your inputs.")
        table = pd.DataFrame({
            "target": evidence["target"], "study": evidence["study"], "endpoint": evidence["endpoint"],
            "observed": [fmt(x) for x in evidence["observed"]],
            "simulated (this run)": [fmt(x) for x in evidence["simulated"]], "unit": evidence["unit"],
            "interval": [f"{fmt(a)} to {fmt(b)}: {how}" for a, b, how in
                         zip(evidence["low"], evidence["high"], evidence["interval"])],
            "inside": ["yes" if x else "NO" for x in evidence["inside"]]})
        st.table(table.set_index("target"))
        st.caption("observed, interval and simulated in the unit column; the points with error bars on "
                   "the figures are these targets where they are a value at a time")


def _downloads_tab(text: str, name: str, result: Result, summary: pd.DataFrame | None) -> None:
    import streamlit as st

    st.download_button("Scenario (YAML)", text, file_name=f"{name}.yaml", mime="application/x-yaml",
                       on_click="ignore")
    st.download_button("Results (CSV, time course of the typical subject)",
                       result.to_pandas().to_csv(index=False, float_format="%.10g"),
                       file_name=f"{name}-timecourse.csv", mime="text/csv", on_click="ignore")
    if summary is not None:
        st.download_button("Population summary (CSV: percentiles per time and observable)",
                           summary.to_csv(index=False, float_format="%.10g"),
                           file_name=f"{name}-summary.csv", mime="text/csv", on_click="ignore")
    st.code(text, language="yaml")
    st.caption("The YAML file runs with `osteoqsp simulate FILE -o DIR`; units of the CSV columns: "
               + ", ".join(f"{n} ({u})" for n, u in result.to_pandas().attrs["units"].items()))


def main() -> None:
    import streamlit as st

    from osteoqsp.shells.cli import builtin_scenarios
    from osteoqsp.engine import SolveError, SteadyStateError

    st.set_page_config(page_title="osteoqsp dashboard", layout="wide")
    run_subject = st.cache_data(max_entries=64, show_spinner=False)(_run_subject)
    run_population = st.cache_data(max_entries=8, show_spinner=False)(_run_population)
    studies = builtin_scenarios()
    ss = st.session_state
    if "study" not in ss:
        ss["study"] = DEFAULT_STUDY
        _load_study()
    for k, v in _widgets_from(Inputs()).items():  # widgets not shown in the last run lose their state
        ss.setdefault(k, v)

    inputs = _sidebar(studies)

    st.title("osteoqsp: bone under vitamin K2 (MK-7)")
    data = build_scenario(inputs)
    try:
        scenario = check_scenario(data)
    except ScenarioError as exc:
        st.error(str(exc), icon="⚠️")
        st.stop()
    study = ss["study"] if ss["study"] != CUSTOM else None
    if study is not None and not same_scenario(scenario, Scenario.from_dict(builtin_scenario(study))):
        data["name"] = f"{study}-modified"
        scenario = scenario.model_copy(update={"name": data["name"]})
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    try:
        with st.spinner("Simulating (the first run on a machine compiles the model, about 20-60 s)"):
            result = run_subject(text)
            summary, failed = (run_population(text) if scenario.population is not None else (None, 0))
    except (SolveError, SteadyStateError) as exc:
        st.error(f"the model could not be solved for this scenario: {exc}", icon="⚠️")
        st.stop()
    end = result.time_day[-1]
    st.caption(f"Scenario **{scenario.name}**: {scenario.species}, {len(result.events)} doses, "
               f"{end:g} days ({end / 365.25:.2f} years). Key numbers: the typical subject at the end of the "
               "scenario (changes from its start)"
               + (f"; population of {scenario.population.size} subjects ({failed} failed)"
                  if scenario.population is not None else ""))
    names = KEY_NUMBERS[scenario.species]
    cols = [c for _ in range(0, len(names), 3) for c in st.columns(3)]
    for col, n in zip(cols, names):
        col.metric(*key_number(n, result.observable_units[n], result[n]), delta_color="off", delta_arrow="off",
                   border=True)
    evidence = study_evidence(study, result) if study else None
    points = evidence_points(evidence, result) if evidence is not None else {}
    tabs = st.tabs([*GROUPS, "Evidence", "Downloads"])
    for tab, (title, names) in zip(tabs, GROUPS.items()):
        with tab:
            present = tuple(n for n in names if n in result.observable_names)
            fig = figure(result, present, summary, points)
            st.pyplot(fig, alt=f"{title} figure", width="stretch")
            st.caption(CAPTIONS[title])
    with tabs[len(GROUPS)]:
        _evidence_tab(evidence, study, scenario.name)
    with tabs[len(GROUPS) + 1]:
        _downloads_tab(text, scenario.name, result, summary)


if __name__ == "__main__":
    main()
