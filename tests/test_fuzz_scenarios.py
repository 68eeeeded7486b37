"""Malformed and extreme scenario files: every one ends in a clear one-line message and exit code 2 (or a
valid run), never a traceback, and no output folder is left behind."""

from __future__ import annotations

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from osteoqsp import Scenario, ScenarioError
from osteoqsp.shells.cli import main

quantity_text = st.one_of(
    st.text(max_size=12),
    st.builds(lambda x, u: f"{x} {u}", st.floats(allow_nan=True, allow_infinity=True),
              st.sampled_from(["ug", "mg", "g", "kg", "day", "year", "hour", "m", "", "ug/100g", "1/day", "%"])),
    st.integers(-10**6, 10**6), st.floats(), st.booleans(), st.none(), st.lists(st.integers(), max_size=2),
)
intake = st.fixed_dictionaries({}, optional={
    "agent": st.one_of(st.sampled_from(["MK-7", "K1", "MK-4", "warfarin", "zinc", "calcium", "MK-9"]), st.text(max_size=5)),
    "food": st.one_of(st.sampled_from(["natto", "spinach", "pizza"]), st.integers()),
    "diet": st.one_of(st.dictionaries(st.sampled_from(["MK-7", "K1", "X"]), quantity_text, max_size=2), st.text(max_size=3)),
    "dose": quantity_text, "amount": quantity_text, "every": quantity_text, "start": quantity_text,
    "stop": quantity_text, "colour": st.text(max_size=3)})
scenario = st.fixed_dictionaries({}, optional={
    "name": st.one_of(st.text(max_size=8), st.integers()),
    "species": st.one_of(st.sampled_from(["human", "rat", "mouse"]), st.integers()),
    "subject": st.one_of(st.fixed_dictionaries({}, optional={
        "sex": st.sampled_from(["female", "male", "other"]), "age": quantity_text, "menopause_age": quantity_text,
        "ovariectomy": quantity_text, "body_weight": quantity_text, "ageing": st.one_of(st.booleans(), st.text(max_size=3))}),
        st.text(max_size=4), st.none()),
    "intake": st.one_of(st.lists(intake, max_size=3), st.text(max_size=4), st.none()),
    "pathways": st.one_of(st.dictionaries(st.sampled_from(["sxr", "nfkb", "magic"]),
                                          st.sampled_from(["on", "off", "maybe", True, 3]), max_size=2), st.text(max_size=3)),
    "parameters": st.one_of(st.dictionaries(st.sampled_from(["kel_mk7", "tnf_alpha", "nope"]), quantity_text, max_size=2),
                            st.integers()),
    "duration": quantity_text, "save_every": quantity_text,
    "population": st.one_of(st.fixed_dictionaries({"size": st.integers(-5, 10**9)}, optional={
        "covariates": st.one_of(st.dictionaries(
            st.sampled_from(["age", "natto", "warfarin_dose", "height"]),
            st.one_of(st.dictionaries(st.sampled_from(["uniform", "normal", "beta"]),
                                      st.lists(quantity_text, max_size=3), max_size=2), st.text(max_size=3)),
            max_size=2), st.integers()),
        "correlations": st.one_of(st.dictionaries(
            st.sampled_from(["kel_mk7,f_abs_mk7", "kel_mk7,height", "nope,also_nope", "kel_mk7", "a,b,c"]),
            st.one_of(st.floats(allow_nan=True), st.text(max_size=3)), max_size=2), st.text(max_size=3))}),
        st.text(max_size=3)),
})


@settings(max_examples=300, deadline=None)
@given(scenario)
def test_loader_raises_only_scenario_errors(data):
    try:
        Scenario.from_dict(data, source="fuzz.yaml")
    except ScenarioError as exc:
        msg = str(exc)
        assert msg.startswith("fuzz.yaml") and "\n" not in msg and len(msg) < 400


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=scenario, text=st.text(max_size=40))
def test_cli_never_tracebacks_and_leaves_nothing_half_written(tmp_path_factory, capsys, data, text):
    folder = tmp_path_factory.mktemp("fuzz")
    f = folder / "s.yaml"
    f.write_text(yaml.safe_dump(data) if data else text)
    out = folder / "out"
    try:
        valid = Scenario.from_yaml(f)
    except ScenarioError:
        valid = None
    if valid is not None:
        return  # a valid scenario would start a simulation: the loader test covers acceptance
    code = main(["simulate", str(f), "-o", str(out)])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err
    assert not out.exists() and [p.name for p in folder.iterdir()] == ["s.yaml"]


def test_cli_bad_population_names_exit_2_before_any_run(tmp_path, capsys):
    """Covariate and correlation names are checked when the file is read: one line, exit 2, nothing written."""
    base = {"subject": {"age": "58 year"}, "duration": "30 day"}
    for population, fragment in (({"size": 4, "correlations": {"kel_mk7,height": 0.3}}, "'height' is not a parameter"),
                                 ({"size": 4, "covariates": {"height": {"uniform": ["1 m", "2 m"]}}},
                                  "unknown covariate 'height'"),
                                 ({"size": 4, "covariates": {"age": {"uniform": ["60 kg", "70 kg"]}}},
                                  "population.covariates: age")):
        f = tmp_path / "p.yaml"
        f.write_text(yaml.safe_dump({**base, "population": population}))
        assert main(["simulate", str(f), "-o", str(tmp_path / "out")]) == 2
        err = capsys.readouterr().err
        assert fragment in err and err.count("\n") == 1 and "Traceback" not in err
        assert not (tmp_path / "out").exists()
