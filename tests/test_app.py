"""The dashboard's pure part, without a browser: widget values -> scenario mapping -> the CLI's validation and
the dashboard's limits; every built-in study goes through the widgets and back unchanged."""

from __future__ import annotations

from dataclasses import replace

import pytest

from osteoqsp.shells.app_figures import (
    GROUPS,
    KEY_NUMBERS,
    axis_label,
    evidence_points,
    figure,
    fmt,
    key_number,
    study_evidence,
)
from osteoqsp.shells.app_inputs import (
    MAX_SUBJECTS,
    Inputs,
    build_scenario,
    check_scenario,
    describe_intake,
    inputs_from_scenario,
    same_scenario,
)
from osteoqsp.shells.cli import build_parser
from osteoqsp.runs.library import scenario_data, scenario_names
from osteoqsp.runs.scenario import Scenario, ScenarioError


def test_default_inputs_give_the_knapen_woman():
    data = build_scenario(Inputs())
    assert data["subject"] == {"sex": "female", "age": "58 year", "menopause_age": "51 year"}
    assert data["intake"] == [{"agent": "MK-7", "dose": "180 ug", "every": "1 day"}]
    assert data["duration"] == "3 year" and data["save_every"] == "1 day" and "population" not in data
    sc = check_scenario(data)
    assert same_scenario(sc, Scenario.from_dict(scenario_data("knapen2013-mk7")))
    assert sc.pathways == {"carboxylation": True, "nfkb": True, "sxr": True, "osteoclast_apoptosis": True}


@pytest.mark.parametrize("name", sorted(scenario_names()))
def test_everybuiltin_scenario_study_round_trips_through_the_widgets(name):
    raw = scenario_data(name)
    sc = check_scenario(build_scenario(inputs_from_scenario(raw, name)))
    study = Scenario.from_dict(raw)
    assert same_scenario(sc, study) and sc.name == name
    assert sc.save_every == study.save_every  # hourly up to 60 days, daily beyond, as the studies


def test_intake_widgets():
    i = replace(Inputs(), supplement="K1", dose_ug=1000, single_dose=True, supplement_start_day=2,
                servings_per_week=3, serving_g=50, food="natto", warfarin_mg_day=5)
    data = build_scenario(i)
    assert data["intake"] == [{"agent": "K1", "dose": "1000 ug", "start": "2 day"},
                              {"food": "natto", "amount": "50 g", "every": "2.333333333 day"},
                              {"agent": "warfarin", "dose": "5 mg", "every": "1 day"}]
    assert len(check_scenario(data).intake) == 3
    assert build_scenario(replace(i, supplement="none", servings_per_week=0, warfarin_mg_day=0))["intake"] == []


def test_rat_subject_and_diet():
    i = replace(Inputs(), species="rat", supplement="none", rat_age_day=90, ovx_day=0, diet_mk7_ug_per_100g=47,
                duration=77, duration_unit="day")
    data = build_scenario(i)
    assert data["subject"] == {"sex": "female", "age": "90 day", "ovariectomy": "0 day"}
    assert data["intake"] == [{"diet": {"MK-7": "47 ug/100g"}}]
    assert same_scenario(check_scenario(data), Scenario.from_dict(scenario_data("yamaguchi-ovx-77d-mk7")))
    assert "ovariectomy" not in build_scenario(replace(i, ovariectomised=False))["subject"]


def test_pathway_switches_reach_the_model_switches():
    from osteoqsp.runs.scenario import subject_parameters

    sc = check_scenario(build_scenario(replace(Inputs(), pathways_off=frozenset({"sxr", "nfkb"}))))
    sw = {k: v for k, v in subject_parameters(sc, lambda *a: 20.0).items() if k.startswith("sw_")}
    assert sw == {"sw_carboxylation": 1.0, "sw_nfkb": 0.0, "sw_sxr": 0.0, "sw_osteoclast_apoptosis": 1.0}


@pytest.mark.parametrize("change,fragment", [
    ({"dose_ug": 200000.0}, "intake[0].dose: '200000 ug' is absurd for MK-7"),
    ({"dose_ug": 0.0}, "intake[0].dose: '0 ug' must be positive"),
    ({"age_year": 300.0}, "subject.age: '300 year' is outside 0-120 year"),
    ({"servings_per_week": -1.0}, "every must be a positive time"),
    ({"duration": 0.0}, "duration must be above 0"),
    ({"warfarin_mg_day": 60.0, "supplement": "none"}, "absurd for warfarin"),
])
def test_bad_values_get_the_scenario_files_message(change, fragment):
    data = build_scenario(replace(Inputs(), **change))
    with pytest.raises(ScenarioError) as dashboard:
        check_scenario(data)
    with pytest.raises(ScenarioError) as cli:
        Scenario.from_dict(data, source="dashboard")  # the same model and message as `osteoqsp simulate`
    assert str(dashboard.value) == str(cli.value) and fragment in str(dashboard.value)
    assert str(dashboard.value).startswith("dashboard: ") and "\n" not in str(dashboard.value)


def test_work_is_capped_with_a_message():
    with pytest.raises(ScenarioError, match="at most 10 years for a human"):
        check_scenario(build_scenario(replace(Inputs(), duration=11)))
    with pytest.raises(ScenarioError, match="at most 2 years for a rat"):
        check_scenario(build_scenario(Inputs(species="rat", supplement="none", duration=3)))
    with pytest.raises(ScenarioError, match=f"population.size: the dashboard simulates at most {MAX_SUBJECTS}"):
        check_scenario(build_scenario(replace(Inputs(), population=True, population_size=MAX_SUBJECTS + 1)))
    assert check_scenario(build_scenario(replace(Inputs(), population=True, population_size=MAX_SUBJECTS,
                                                 duration=10))).population.size == MAX_SUBJECTS
    with pytest.raises(ScenarioError, match="population.size"):  # the scenario's own rule first
        check_scenario(build_scenario(replace(Inputs(), population=True, population_size=0)))


def test_study_intake_the_widgets_cannot_express_is_kept():
    i = inputs_from_scenario(scenario_data("kanellakis2012-cadk2"), "kanellakis2012-cadk2")
    assert i.supplement == "MK-7" and i.dose_ug == 100
    assert [describe_intake(x) for x in i.other_intake] == ["calcium 800 mg, every 1 day",
                                                             "vitamin-D3 10 ug, every 1 day"]
    w = inputs_from_scenario(scenario_data("warfarin-mk7"), "warfarin-mk7")
    assert (w.warfarin_mg_day, w.supplement, w.dose_ug, w.supplement_start_day) == (5, "MK-7", 50, 28)
    assert not same_scenario(check_scenario(build_scenario(replace(w, dose_ug=100))),
                             Scenario.from_dict(scenario_data("warfarin-mk7")))


def test_every_shown_quantity_has_a_unit():
    from osteoqsp.runs.subject import engine_for

    for species in ("human", "rat"):
        units = {o.name: o.unit for o in engine_for(species).model.observables}
        for names in GROUPS.values():
            for n in (n for n in names if n in units):
                assert axis_label(n, units[n]).endswith(")") and "(" in axis_label(n, units[n])
        for n in KEY_NUMBERS[species]:
            label, value, _ = key_number(n, units[n], [1.0, 2.0])
            assert label.endswith(")") and (units[n] == "1" or value.split()[-1] in (units[n], "%"))
    assert [fmt(x) for x in (1246.3, 0.2642, 1.0, 0.0)] == ["1246", "0.264", "1.00", "0"]


def test_evidence_of_a_study_and_its_figure():
    from osteoqsp.runs.simulation import simulate

    sc = Scenario.from_dict(scenario_data("sato2012-mk7-single"))
    result = simulate(sc)
    ev = study_evidence("sato2012-mk7-single", result)
    assert {1, 2} <= set(ev["target"]) and {"observed", "low", "high", "simulated", "unit"} <= set(ev.columns)
    assert evidence_points(ev, result) == {}  # Tmax and last detectable time are not points on a curve
    fig = figure(result, GROUPS["Serum vitamers"])
    axes = [ax for ax in fig.axes if ax.get_visible() and ax.lines]
    assert len(axes) == 3 and all(ax.get_ylabel() == "ng/mL" for ax in axes)
    assert all(ax.get_xlabel() == "time (day)" for ax in axes)
    knapen = simulate(Scenario.from_dict(scenario_data("knapen2013-mk7")))
    points = evidence_points(study_evidence("knapen2013-mk7", knapen), knapen)
    assert [round(t) for t, *_ in points["ucoc"]] == [1095]  # ucOC change from baseline at 3 years (target 111)


def test_cli_has_the_app_command():
    args = build_parser().parse_args(["app", "--port", "8600"])
    assert args.func.__name__ == "cmd_app" and args.port == 8600 and not args.headless


def test_femoral_neck_tscore_widget_reaches_the_fracture_layer():
    """The T-score input sets the subject's start (the scenario's subject.femoral_neck_tscore) and round-trips;
    without it the subject starts at her age's mean."""
    from osteoqsp import simulate

    data = build_scenario(replace(Inputs(), fn_tscore_given=True, fn_tscore=-2.5, duration=1.0))
    assert data["subject"]["femoral_neck_tscore"] == -2.5
    sc = check_scenario(data)
    assert inputs_from_scenario(data).fn_tscore == -2.5 and inputs_from_scenario(data).fn_tscore_given
    low = simulate(sc)
    mean = simulate(check_scenario(build_scenario(replace(Inputs(), duration=1.0))))
    assert low["tscore_femoral_neck"][0] == pytest.approx(-2.5)
    assert low["fracture_hip_hazard"][0] > 2 * mean["fracture_hip_hazard"][0]
    fig = figure(low, GROUPS["Fracture risk"])
    assert len(fig.axes) >= 6


def test_therapy_selector_builds_the_labelled_regimen_and_reads_it_back():
    i = Inputs(supplement="MK-7", therapy="denosumab", therapy_stop_month=24.0)
    data = build_scenario(i)
    assert {"agent": "denosumab", "dose": "60 mg", "every": "6 month", "stop": "24 month"} in data["intake"]
    check_scenario(data)
    back = inputs_from_scenario(data)
    assert (back.therapy, back.therapy_stop_month, back.other_intake) == ("denosumab", pytest.approx(24.0), ())
    for drug in ("teriparatide", "alendronate"):
        assert inputs_from_scenario(build_scenario(Inputs(therapy=drug))).therapy == drug
    odd = build_scenario(Inputs(supplement="none"))
    odd["intake"] = [{"agent": "alendronate", "dose": "10 mg", "every": "1 day"}]  # not the weekly label
    assert inputs_from_scenario(odd).other_intake == ({"agent": "alendronate", "dose": "10 mg", "every": "1 day"},)
