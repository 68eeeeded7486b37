"""`osteoqsp app`: a local dashboard (streamlit), a thin shell over the Python API; this file is the page.

The widgets give an `Inputs`, turned into a checked scenario by `osteoqsp.shells.app_inputs`; what is shown
(key numbers, evidence, figures) comes from `osteoqsp.shells.app_figures`. Both are pure and tested without a
browser (tests/test_app.py). Run with `osteoqsp app` (or `streamlit run` this file).
"""

from __future__ import annotations

from dataclasses import fields, replace
from typing import TYPE_CHECKING, Any

import yaml

from osteoqsp.model import food_table
from osteoqsp.runs.library import scenario_data, scenario_names
from osteoqsp.runs.scenario import Scenario, ScenarioError
from osteoqsp.shells.app_figures import (
    CAPTIONS,
    GROUPS,
    KEY_NUMBERS,
    evidence_points,
    figure,
    fmt,
    key_number,
    study_evidence,
)
from osteoqsp.shells.app_inputs import (
    DURATION_UNITS,
    MAX_DURATION_TEXT,
    MAX_SUBJECTS,
    SOURCE,
    SUPPLEMENTS,
    THERAPIES,
    Inputs,
    build_scenario,
    check_scenario,
    describe_intake,
    inputs_from_scenario,
    pathways,
    same_scenario,
)

if TYPE_CHECKING:
    import pandas as pd

    from osteoqsp.runs.results import Result


def _run_subject(text: str) -> Result:
    from osteoqsp import simulate

    sc = Scenario.from_dict(yaml.safe_load(text), source=SOURCE)
    return simulate(sc.model_copy(update={"population": None}))


def _run_population(text: str) -> tuple[pd.DataFrame, int]:
    import tempfile
    from pathlib import Path

    from osteoqsp import simulate_population

    sc = Scenario.from_dict(yaml.safe_load(text), source=SOURCE)
    with tempfile.TemporaryDirectory(prefix="osteoqsp-app-") as tmp:
        pop = simulate_population(sc, Path(tmp) / "population")
        return pop.summary, len(pop.failures)


DEFAULT_STUDY = "knapen2013-mk7"
CUSTOM = "(custom)"


def _widgets_from(i: Inputs) -> dict[str, Any]:
    out = {f.name: getattr(i, f.name) for f in fields(i) if f.name not in ("pathways_off", "name", "other_intake")}
    out.update({f"pw_{p}": p not in i.pathways_off for p in pathways()})
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
    i = Inputs() if study == CUSTOM else inputs_from_scenario(scenario_data(study), name=study)
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
            sb.checkbox("Femoral-neck T-score known", key="fn_tscore_given",
                        help="else the mean of women of her age (NHANES-derived; see the Fracture risk tab)")
            if ss["fn_tscore_given"]:
                sb.number_input("Femoral-neck T-score at start (SD)", key="fn_tscore", step=0.5)
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
        sb.selectbox("Osteoporosis therapy", list(THERAPIES), key="therapy",
                     help="at its labelled regimen: denosumab 60 mg s.c. every 6 months, teriparatide 20 µg s.c. "
                          "daily, alendronate 70 mg by mouth weekly")
        if ss["therapy"] != "none":
            sb.number_input("Stop the therapy after (month; 0: to the end)", key="therapy_stop_month", step=6.0)
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
    for p in pathways():
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
                    pathways_off=frozenset(p for p in pathways() if not ss[f"pw_{p}"]),
                    other_intake=tuple(ss.get("other_intake") or ()),
                    name=ss["study"] if ss["study"] != CUSTOM else "dashboard")
    if species == "rat":
        inputs = replace(inputs, supplement="none", servings_per_week=0.0, warfarin_mg_day=0.0, therapy="none")
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

    from osteoqsp.engine import SolveError, SteadyStateError

    st.set_page_config(page_title="osteoqsp dashboard", layout="wide")
    run_subject = st.cache_data(max_entries=64, show_spinner=False)(_run_subject)
    run_population = st.cache_data(max_entries=8, show_spinner=False)(_run_population)
    studies = scenario_names()
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
    if study is not None and not same_scenario(scenario, Scenario.from_dict(scenario_data(study))):
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
