"""SBML export: the exported document, run in libroadrunner, gives osteoqsp's own trajectories.

Each test simulates a short scenario with osteoqsp at tight tolerances, exports the same subject to SBML
(doses as SBML events), integrates it with libroadrunner (CVODE) at tighter tolerances and compares every
observable at every compared output time: relative difference below 1e-5.
"""

from __future__ import annotations

import libsbml
import numpy as np
import roadrunner
import sympy as sp

from osteoqsp import Scenario, SolverSettings, simulate
from osteoqsp.interop.sbml import L3Printer, sbml_errors, sbml_ids, to_math, to_sbml, write_sbml
from osteoqsp.symbolic.declare import TIME
from osteoqsp.runs.subject import engine_for

RTOL = 1e-5


def _roadrunner(sbml: str, n_states: int) -> roadrunner.RoadRunner:
    rr = roadrunner.RoadRunner(sbml)
    rr.setIntegrator("cvode")
    rr.integrator.relative_tolerance = 1e-12
    # a vector: a scalar absolute tolerance is scaled by roadrunner by each state's initial value, which
    # fails (CV_CONV_FAILURE at t = 0) for the vitamer amounts that start at ~1e-124 (zero up to rounding)
    assert rr.model.getNumFloatingSpecies() + rr.model.getNumRateRules() == n_states
    rr.integrator.setValue("absolute_tolerance", [1e-18] * n_states)
    rr.integrator.setValue("maximum_num_steps", 10**6)
    return rr


def test_printer_gives_l3_formulas_with_the_same_value():
    a, b, c = sp.symbols("a b c", real=True)
    expr = (sp.Max(a, b, c) + sp.Min(a, 2 * b) * sp.Piecewise((1, TIME > 0), (0, True)) + a**2.5 / b**-3
            + sp.sqrt(c) - sp.exp(-a / c) + sp.log(b) + sp.Rational(1, 3) / a
            + sp.Piecewise((a, sp.And(a > b, b <= c)), (c, True)) + sp.Float(0.1) * TIME)
    formula = L3Printer({"a": "a", "b": "b", "c": "c"}).doprint(expr)
    doc = libsbml.SBMLDocument(3, 2)
    m = doc.createModel()
    values = {"a": 1.3, "b": 0.7, "c": 2.1}
    for name, v in values.items():
        par = m.createParameter()
        par.setId(name)
        par.setValue(v)
        par.setConstant(True)
    got = libsbml.SBMLTransforms.evaluateASTNode(to_math(formula), m)  # evaluates at time = 0
    want = float(expr.subs({a: 1.3, b: 0.7, c: 2.1, TIME: 0.0}))
    assert abs(got - want) <= 1e-14 * abs(want), formula


def _compare(scenario: Scenario, settings: SolverSettings, keep, sbml: str | None = None):
    res = simulate(scenario, settings=settings)
    sbml = sbml or to_sbml(scenario, settings=settings)
    model = engine_for(scenario.species).model
    names = list(res.observable_names)
    rr = _roadrunner(sbml, len(model.states))
    rr.timeCourseSelections = ["time"] + names
    out = np.asarray(rr.simulate(times=[float(t) for t in res.time_day]))
    np.testing.assert_allclose(out[:, 0], res.time_day, rtol=0, atol=1e-12)
    rows = keep(res.time_day)
    assert rows.sum() >= 10
    ours, theirs = np.asarray(res.observables)[rows], out[rows, 1:]
    assert np.all(np.isfinite(ours)) and np.all(np.isfinite(theirs))
    worst = 0.0
    for j, name in enumerate(names):
        a, b = ours[:, j], theirs[:, j]
        floor = 1e-6 * max(np.abs(a).max(), np.abs(b).max()) + 1e-12
        rel = np.abs(a - b) / np.maximum(np.maximum(np.abs(a), np.abs(b)), floor)
        k = int(rel.argmax())
        assert rel[k] < RTOL, (f"{name}: relative difference {rel[k]:.3g} at t = {res.time_day[rows][k]} day "
                               f"(osteoqsp {a[k]!r}, roadrunner {b[k]!r})")
        worst = max(worst, float(rel[k]))
    return worst, res


def test_human_doses_as_events_match_osteoqsp(tmp_path):
    sc = Scenario.from_dict({
        "name": "sbml-human", "species": "human",
        "subject": {"sex": "female", "age": "58 year", "menopause_age": "51 year"},
        "intake": [{"agent": "MK-7", "dose": "180 ug", "every": "1 day"},
                   {"agent": "K1", "dose": "1000 ug", "start": "0.5 day"}],
        "duration": "10 day", "save_every": "0.25 day"})
    # the subject's 7-year postmenopausal history runs with these settings too (rodas4), the 10 days
    # compared with dopri5
    settings = SolverSettings(rtol=1e-11, atol=1e-16)
    path = write_sbml(sc, tmp_path / "human.xml", settings=settings)
    text = path.read_text()
    assert sbml_errors(text) == []
    doc = libsbml.readSBMLFromString(text)
    assert (doc.getLevel(), doc.getVersion()) == (3, 2)
    m = doc.getModel()
    model = engine_for("human").model
    assert m.getNumEvents() == 11  # MK-7 at day 0..9, K1 at day 0.5
    assert m.getNumRules() == len(model.lets) + len(model.fluxes) + len(model.observables) + len(model.states)
    ids = sbml_ids(model)
    assert all(m.getParameter(o.name) is not None for o in model.observables)
    assert len(set(ids.values())) == len(ids)
    # dose times are where osteoqsp records the pre-dose state: compare between doses only
    worst, res = _compare(sc, settings, lambda t: np.abs(t - np.round(t)) > 1e-9, sbml=text)
    # the doses matter (so the events were applied at the right times): MK-7 from day 0, K1 from day 0.5
    mk7, k1 = res["mk7_serum"], res["k1_serum"]
    assert mk7[res.time_day == 0.25][0] > 5 * mk7[0]
    assert k1[res.time_day == 0.75][0] > 5 * k1[res.time_day == 0.25][0]
    print(f"human: max relative difference {worst:.2e}")


def test_rat_diet_ovariectomy_matches_osteoqsp():
    sc = Scenario.from_dict({
        "name": "sbml-rat", "species": "rat", "subject": {"age": "90 day", "ovariectomy": "0 day"},
        "intake": [{"diet": {"MK-7": "18.8 ug/100g"}}], "duration": "20 day", "save_every": "0.5 day"})
    worst, res = _compare(sc, SolverSettings(rtol=1e-11, atol=1e-16), lambda t: np.ones(t.size, bool))
    assert res["mk7_serum"][-1] > 1.0 and res["estrogen"][-1] < 0.5
    print(f"rat: max relative difference {worst:.2e}")
