"""Physical sanity of the declared model: homeostasis, mass balance, no negative amounts, units, parameters."""

from __future__ import annotations

import numpy as np
import pytest

from osteoqsp.model import build_model, load_parameters
from osteoqsp.model.intake_pk import MOLAR_MASS, VITAMERS
from osteoqsp.model.parameters import STATUSES
from osteoqsp.runs.scenario import Scenario, dose_events
from osteoqsp.runs.subject import engine_for
from tests.conftest import run_builtin, run_dict


def assert_homeostasis(r):
    """Every observable within 1e-6 relative of its baseline (% changes, which start at 0: within 1e-5
    percentage points, i.e. 1e-7 of bone mass: the osteocytes turn over in decades, so the burn-in's steady
    state, exact to 1e-11 of each state per day, leaves them a drift of about 1e-9 a year, which reaches BMD
    through sclerostin); every state that feeds back (not the bookkeeping accumulators) within 1e-6. The
    fracture hazards are left out: they rise with calendar age by design, and events accumulate."""
    eng = engine_for(r.scenario.species)
    risk = {f"{h.name}_{x}" for h in eng.model.hazards for x in ("hazard", "cumulative")}
    obs = r.observables[:, [i for i, n in enumerate(r.observable_names) if n not in risk]]
    names = [n for n in r.observable_names if n not in risk]
    score = np.array([n.startswith("tscore_") for n in names])  # SD units, may be near 0: absolute
    zero = (np.abs(obs[0]) < 1e-9) | score  # the % changes (0 at the start, up to rounding) and the scores
    drift = np.abs(obs - obs[0])
    assert np.all(drift[:, zero] < 1e-5)
    assert np.max(drift[:, ~zero] / np.abs(obs[0, ~zero])) < 1e-6
    live = eng.free & (np.abs(r.states[0]) > 1e-30)
    assert np.max(np.abs(r.states[:, live] - r.states[0, live]) / np.abs(r.states[0, live])) < 1e-6


@pytest.mark.parametrize("subject", [{"sex": "male", "age": "40 year", "ageing": False},
                                     {"sex": "female", "age": "30 year", "ageing": False},
                                     {"sex": "male", "age": "75 year", "ageing": False}])
def test_homeostasis_ten_years_without_intervention(subject):
    assert_homeostasis(run_dict({"species": "human", "subject": subject, "duration": "10 year",
                                 "save_every": "30 day"}))


def test_homeostasis_rat_sham():
    assert_homeostasis(run_dict({"species": "rat", "subject": {"age": "90 day"}, "duration": "180 day"}))


@pytest.mark.parametrize("agent", ["K1", "MK-4", "MK-7", "menatetrenone"])
def test_mass_balance_of_each_vitamer(agent):
    v = {"K1": "k1", "MK-4": "mk4", "MK-7": "mk7", "menatetrenone": "mk4"}[agent]
    r = run_dict({"species": "human", "subject": {"sex": "female", "age": "45 year"},
                  "intake": [{"agent": agent, "dose": "420 ug", "every": "1 day", "stop": "5 day"}],
                  "duration": "20 day"})
    eng = engine_for("human")
    dosed = 5 * 420 * 1000 / MOLAR_MASS[v]
    habitual = r.parameters[f"intake_{v}"] * r.parameters[f"bioav_diet_{v}"] * 1000 / MOLAR_MASS[v] * 20
    parts = [f"{v}_{c}" for c in ("gut", "lymph", "serum_amt", "liver", "bone", "faeces", "eliminated")]
    if v == "mk4":
        parts.append("menatetrenone_gut")  # the drug's own gut compartment, absorbed into the MK-4 lymph
    total = sum(r[p] for p in parts)
    if v == "mk7":
        total = total + r["mk7_converted_to_mk4"]  # converted amounts leave MK-7
    if v == "mk4":
        total = total - r["mk7_converted_to_mk4"]  # and arrive in MK-4
    gained = total[-1] - total[0]
    assert gained == pytest.approx(dosed + habitual, rel=1e-6)
    # dosed = absorbed + unabsorbed; absorbed = in body + eliminated + converted
    gut = r["menatetrenone_gut"] if agent == "menatetrenone" else r[f"{v}_gut"]
    absorbed = gained - (r[f"{v}_faeces"][-1] - r[f"{v}_faeces"][0]) - (gut[-1] - gut[0])
    assert absorbed > 0 and eng.n_states == len(eng.model.states)


@pytest.mark.parametrize("name", ["knapen2013-mk7", "warfarin-mk7", "yamaguchi-ovx-77d-mk7", "sato2012-mk7-single"])
def test_no_negative_amounts(name):
    r = run_builtin(name)
    scale = np.maximum(np.max(np.abs(r.states), axis=0), 1e-30)
    assert np.all(r.states >= -1e-9 * scale)
    for col in ("mk7_serum", "k1_serum", "oc_total", "ucoc", "coc", "dp_ucmgp"):
        assert np.all(r[col] >= -1e-9 * np.max(np.abs(r[col])))


def test_unit_conversions_of_doses():
    targets = engine_for("human").model
    for agent, nmol in (("MK-7", 647.0), ("MK-4", 945.0)):
        sc = Scenario.from_dict({"subject": {"age": "60 year"}, "intake": [{"agent": agent, "dose": "420 ug"}],
                                 "duration": "1 day"})
        assert dose_events(sc, targets)[0].amount == pytest.approx(nmol, abs=0.5)
    sc = Scenario.from_dict({"subject": {"age": "60 year"}, "intake": [{"agent": "MK-7", "dose": "0.42 mg"}],
                             "duration": "1 day"})
    assert dose_events(sc, targets)[0].amount == pytest.approx(647.1, abs=0.1)
    assert MOLAR_MASS == {"k1": 450.71, "mk4": 444.66, "mk7": 649.02} and set(VITAMERS) == set(MOLAR_MASS)


def test_daily_regimen_has_one_dose_per_day_until_stop():
    targets = engine_for("human").model
    sc = Scenario.from_dict({"subject": {"age": "60 year"}, "duration": "30 day",
                             "intake": [{"agent": "MK-7", "dose": "180 ug", "every": "1 day", "start": "2 day",
                                         "stop": "12 day"}]})
    ev = dose_events(sc, targets)
    assert [e.time for e in ev] == [float(d) for d in range(2, 12)]


@pytest.mark.parametrize("species", ["human", "rat"])
def test_every_parameter_has_unit_status_and_reference(species):
    model = build_model(species)
    table = load_parameters(species)
    for name in model.parameters:
        row = table.rows[name]
        assert row.status in STATUSES and row.reference and row.unit
        table.value_in(name, model.parameter_units[name])  # the unit converts to the one the equation uses


def test_doses_after_the_end_do_not_change_the_result():
    a = run_dict({"subject": {"age": "50 year"}, "duration": "10 day",
                  "intake": [{"agent": "MK-7", "dose": "180 ug", "every": "1 day", "stop": "5 day"}]})
    b = run_dict({"subject": {"age": "50 year"}, "duration": "10 day",
                  "intake": [{"agent": "MK-7", "dose": "180 ug", "every": "1 day", "start": "0 day", "stop": "5 day"}]})
    assert np.array_equal(a.observables, b.observables)


def test_same_inputs_same_results():
    sc = {"subject": {"age": "58 year", "menopause_age": "51 year"}, "duration": "60 day",
          "intake": [{"agent": "MK-7", "dose": "180 ug", "every": "1 day"}]}
    assert np.array_equal(run_dict(sc).observables, run_dict(sc).observables)


def test_implicit_fallback_agrees_with_explicit():
    from osteoqsp import SolverSettings, simulate

    sc = Scenario.from_dict({"subject": {"age": "58 year", "menopause_age": "51 year"}, "duration": "30 day",
                             "intake": [{"agent": "MK-7", "dose": "180 ug", "every": "1 day"}]})
    a = simulate(sc, settings=SolverSettings(method="dopri5", rtol=1e-10, atol=1e-16))
    b = simulate(sc, settings=SolverSettings(method="rodas4", rtol=1e-10, atol=1e-16))
    for name in ("mk7_serum", "ucoc_ratio", "osteoclasts", "bmd_lumbar_spine"):
        assert np.allclose(a[name], b[name], rtol=1e-6, atol=1e-8), name


SPEC_UNITS = {"mk7_serum": "ng/mL", "mk4_serum": "ng/mL", "k1_serum": "ng/mL", "oc_total": "ng/mL", "ucoc": "ng/mL",
              "coc": "ng/mL", "ucoc_ratio": "1", "dp_ucmgp": "pmol/L", "inr": "1", "osteoblasts": "1",
              "osteoclasts": "1", "rankl": "1", "opg": "1", "nfkb": "1", "alp": "1", "ctx": "1"}
HUMAN_ONLY = {f"bmd_{s}": "%" for s in ("lumbar_spine", "femoral_neck", "total_hip", "total_body")}
RAT_ONLY = {"femur_dry_weight": "%", "femur_calcium": "%", "femur_bmd": "%", "tibia_bvtv": "%"}


@pytest.mark.parametrize("species,extra", [("human", HUMAN_ONLY), ("rat", RAT_ONLY)])
def test_observables_have_spec_names_and_units(species, extra):
    units = {o.name: o.unit for o in build_model(species).observables}
    for name, unit in {**SPEC_UNITS, **extra}.items():
        assert units.get(name) == unit, name


def test_typical_baseline_is_physiological():
    woman = run_dict({"species": "human", "subject": {"sex": "female", "age": "60 year", "menopause_age": "51 year"},
                      "duration": "1 day"})
    adult = run_dict({"species": "human", "subject": {"sex": "female", "age": "35 year"}, "duration": "1 day"})
    k1_nmol_l = adult["k1_serum"][0] * 1000 / 450.71
    assert 0.6 <= k1_nmol_l <= 1.5  # Thane 2006: 0.94 nmol/L (UK adults 19-64)
    assert 0.2 <= woman["mk7_serum"][0] <= 0.6  # Kaneki 2001: 0.37 +/- 0.20 ng/mL, British postmenopausal women
    for r in (woman, adult):
        assert 0.10 <= r["ucoc_ratio"][0] <= 0.40 and r["hepatic_carboxylation"][0] > 0.95
        assert r["inr"][0] == pytest.approx(1.0, abs=0.01)


def test_ovx_rat_tibial_bvtv_falls_towards_5_to_8_percent():
    r = run_builtin("wronski-ovx-98d")
    assert r["tibia_bvtv"][0] == pytest.approx(17.6)  # Wronski 1987 sham
    assert 5.0 <= r.at("tibia_bvtv", 98) <= 9.0  # Wronski 1987: 7.9 +/- 5.3 % at 14 weeks


def test_stiff_subject_falls_back_to_the_implicit_method():
    from osteoqsp import SolverSettings, simulate

    sc = Scenario.from_dict({"subject": {"age": "40 year"}, "duration": "20 day",
                             "intake": [{"agent": "MK-4", "dose": "420 ug", "every": "1 day"}]})
    stiff = {"kel_mk4": 2.0e5}  # 1/day: MK-4 cleared in well under a minute makes the explicit method crawl
    explicit = simulate(sc, parameters=stiff)  # default settings: dopri5, handing over after 20,000 steps
    implicit = simulate(sc, parameters=stiff, settings=SolverSettings(method="rodas4"))
    assert explicit.solver_status == 1  # dopri5 gave up on a stretch, rodas4 finished it
    assert np.allclose(explicit["ucoc_ratio"], implicit["ucoc_ratio"], rtol=1e-4)


def test_result_tables():
    r = run_builtin("sato2012-mk7-single")
    df = r.to_pandas()
    ds = r.to_xarray()
    assert df.shape[0] == 73 and df.attrs["units"]["mk7_serum"] == "ng/mL"
    assert ds["mk7_serum"].attrs["units"] == "ng/mL" and np.allclose(ds["mk7_serum"].values, df["mk7_serum"])


def test_batched_kernel_equals_one_subject_at_a_time():
    """Subjects of one batch with their own events (doses, intervals, counts) give exactly what each gives
    alone."""
    from osteoqsp.engine import EventBatch
    from osteoqsp.runs.subject import prepare

    eng = engine_for("human")
    t_out = np.arange(0.0, 61.0, 1.0)
    subjects = []
    for age, dose, every in ((35, 45, 1), (58, 180, 1), (70, 360, 2), (45, 1000, 7)):
        sc = Scenario.from_dict({"subject": {"age": f"{age} year", "menopause_age": "51 year"} if age > 51 else
                                 {"age": f"{age} year"}, "duration": "60 day",
                                 "intake": [{"agent": "MK-7", "dose": f"{dose} ug", "every": f"{every} day"}]})
        subjects.append(prepare(sc))
    events = EventBatch.stack([s.events for s in subjects])
    assert sorted(events.count.tolist()) == [9, 30, 60, 60]
    batch, status, _ = eng.solve_batch(np.array([s.y0 for s in subjects]), np.array([s.p for s in subjects]),
                                       t_out, events)
    assert np.all(status == 0)
    for k, s in enumerate(subjects):
        single, st, _ = eng.solve(s.y0, s.p, t_out, s.events)
        assert st == 0 and np.array_equal(batch[k], single)