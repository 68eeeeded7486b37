"""Scenario validation (one clear line per error) and the command line."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from osteoqsp import Scenario, ScenarioError
from osteoqsp.runs.library import load_scenario, scenario_names
from osteoqsp.shells.cli import main

GOOD = {"name": "t", "species": "human", "subject": {"sex": "female", "age": "58 year", "menopause_age": "51 year"},
        "intake": [{"agent": "MK-7", "dose": "180 ug", "every": "1 day"}], "duration": "20 day"}


def with_(path: str, value):
    import copy

    d = copy.deepcopy(GOOD)
    keys = path.split(".")
    node = d
    for k in keys[:-1]:
        node = node[int(k)] if isinstance(node, list) else node[k]
    last = keys[-1]
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return d


@pytest.mark.parametrize("path,value,fragment", [
    ("intake.0.agent", "MK-9", "unknown agent"),
    ("intake.0.dose", "180", "has no unit"),
    ("intake.0.dose", 180, "has no unit"),
    ("intake.0.dose", "180 m", "not in a unit of ug"),
    ("intake.0.dose", "-5 ug", "must be positive"),
    ("intake.0.dose", "5 kg", "absurd"),
    ("intake.0.stop", "0 day", "stop must come after start"),
    ("duration", "101 year", "at most 100 years"),
    ("duration", "3", "has no unit"),
    ("subject.age", "300 year", "outside 0-120"),
    ("species", "mouse", "species"),
    ("pathways", {"magic": "on"}, "unknown pathway"),
])
def test_bad_input_one_clear_line(path, value, fragment):
    with pytest.raises(ScenarioError) as info:
        Scenario.from_dict(with_(path, value), source="s.yaml")
    msg = str(info.value)
    assert fragment in msg and "\n" not in msg and msg.startswith("s.yaml:")


def test_unknown_food_and_field():
    d = dict(GOOD, intake=[{"food": "pizza", "amount": "100 g"}])
    with pytest.raises(ScenarioError, match="unknown food 'pizza'"):
        Scenario.from_dict(d)
    with pytest.raises(ScenarioError, match="colour: is not a known field"):
        Scenario.from_dict(dict(GOOD, colour="red"))




def test_builtin_scenarios_all_load():
    names = scenario_names()
    for required in ("sato2012-mk7-single", "sato2012-mk4-single", "theuwissen2012-180ug", "knapen2013-placebo",
                     "knapen2013-mk7", "kanellakis2012-cadk2", "yamaguchi-ovx-77d-mk7", "yamaguchi-ovx-150d-18p8",
                     "tsukamoto2000-natto", "warfarin-mk7"):
        assert required in names
    for name in names:
        load_scenario(name)


def test_cli_simulate_writes_outputs(tmp_path, capsys):
    f = tmp_path / "s.yaml"
    import yaml

    f.write_text(yaml.safe_dump(GOOD))
    out = tmp_path / "out"
    assert main(["simulate", str(f), "-o", str(out)]) == 0
    df = pd.read_csv(out / "timecourse.csv")
    assert list(df.columns[:4]) == ["time_day", "mk7_serum", "mk4_serum", "k1_serum"]
    assert "bmd_lumbar_spine" in df.columns and len(df) == 21
    run = json.loads((out / "run.json").read_text())
    assert run["scenario"]["name"] == "t" and "parameters" in run and run["solver"]["status"] == 0
    assert (out / "figures" / "bone_mass.png").stat().st_size > 1000


def test_cli_bad_input_exit_2_no_traceback_nothing_written(tmp_path, capsys):
    f = tmp_path / "bad.yaml"
    f.write_text("species: human\nsubject: {age: 58 year}\nintake: [{agent: MK-7, dose: 180}]\nduration: 1 year\n")
    out = tmp_path / "out"
    assert main(["simulate", str(f), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "intake[0].dose" in err and "Traceback" not in err
    assert not out.exists()
    assert main(["simulate", str(tmp_path / "missing.yaml"), "-o", str(out)]) == 2
    f.write_text("species: human\n  bad: [yaml\n")
    assert main(["simulate", str(f), "-o", str(out)]) == 2
    assert not out.exists()


def test_cli_scenarios_lists(capsys):
    assert main(["scenarios"]) == 0
    assert "knapen2013-mk7" in capsys.readouterr().out


def test_cli_export_sbml(tmp_path, capsys):
    import libsbml

    out = tmp_path / "m.xml"
    assert main(["export", "sbml", "sato2012-mk7-single", "-o", str(out)]) == 0
    doc = libsbml.readSBMLFromFile(str(out))
    model = doc.getModel()
    assert doc.getLevel() == 3 and model.getNumEvents() == 1
    assert model.getParameter("mk7_serum") is not None and model.getNumRules() > 100
    assert main(["export", "png", "-o", str(out)]) == 2


@pytest.mark.parametrize("text,fragment", [
    ("subject: {age: 58 year}\nduraton: 1 year\n", "duraton: is not a known field"),
    ("subject: {age: 58 year}\nparameters: {kel_mk7: -3 1/day}\nduration: 1 year\n", "must be finite and not negative"),
    ("subject: {age: 58 year}\nparameters: {no_such: 1}\nduration: 1 year\n", "parameters.no_such: not a parameter"),
    ("subject: {age: 58 year}\nduration: 1 year\npopulation: {size: 0}\n", "population.size"),
    ("species: rat\nsubject: {age: 90 day}\nintake: [{diet: {MK-7: 9.4 ug/100g}, start: 50 day}]\nduration: 100 day\n",
     "intake[0].start: a diet runs"),
    ("subject: {age: 58 year}\nintake: [{agent: MK-7, dose: 5 ug, amount: 40 g}]\nduration: 1 year\n",
     "intake[0].amount: an agent takes a dose"),
    ("species: rat\nsubject: {sex: male, age: 90 day, ovariectomy: 0 day}\nduration: 10 day\n", "male rat"),
    ("subject: {age: 58 year}\nintake: [{agent: MK-7, dose: true}]\nduration: 1 year\n", "needs a quantity"),
])
def test_cli_rejects_with_the_file_and_field(tmp_path, capsys, text, fragment):
    f = tmp_path / "s.yaml"
    f.write_text(text)
    out = tmp_path / "out"
    assert main(["simulate", str(f), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert fragment in err and str(f) in err and err.count("\n") == 1 and not out.exists()


def test_cli_output_path_errors_are_one_line(tmp_path, capsys):
    afile = tmp_path / "afile"
    afile.write_text("x")
    assert main(["simulate", "sato2012-mk7-single", "-o", str(afile)]) == 2
    assert main(["simulate", str(tmp_path), "-o", str(tmp_path / "o")]) == 2
    assert main(["export", "sbml", "sato2012-mk7-single", "-o", str(tmp_path / "no" / "such" / "m.xml")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 3 and "Traceback" not in err


def test_to_dict_round_trips():
    from tests.conftest import builtin

    for name in ("knapen2013-mk7", "yamaguchi-ovx-77d-mk7", "tsukamoto2000-natto", "warfarin-mk7"):
        sc = builtin(name)
        assert Scenario.from_dict(sc.to_dict()).model_dump() == sc.model_dump()
