"""Issue 15: the mineral axis (calcium, PTH, vitamin D) and the comparator drugs (denosumab, teriparatide,
alendronate): reference steady state, calcium mass balance, the supplements through the axis, each drug's
pharmacokinetics and direction of action, intermittent against continuous PTH, and the scenario contract."""

from __future__ import annotations

import numpy as np
import pytest

from osteoqsp.errors import ScenarioError
from osteoqsp.model import build_model, load_parameters
from osteoqsp.model.mineral_axis import CALCIUM_MOLAR_MASS
from osteoqsp.runs.scenario import Scenario
from tests.conftest import run_builtin, run_dict

WOMAN = {"sex": "female", "age": "66 year", "menopause_age": "51 year"}
YEAR = 365.25


def test_mineral_axis_sits_at_peterson_riggs_reference_values():
    """A premenopausal woman with ageing off is in zero bone balance: calcium, PTH and calcitriol sit at the
    reference values (Peterson & Riggs 2010: 2.35 mM, 3.85 pM, 90 pM) and urinary calcium equals the net
    absorption of the habitual diet."""
    r = run_dict({"subject": {"sex": "female", "age": "30 year", "ageing": False}, "duration": "30 day"})
    assert r["calcium_plasma"][0] == pytest.approx(2.35, rel=1e-6)
    assert r["pth_plasma"][0] == pytest.approx(3.85, rel=1e-6)
    assert r["calcitriol_plasma"][0] == pytest.approx(90.0, rel=1e-6)
    p = r.parameters
    intake = p["intake_calcium"] / CALCIUM_MOLAR_MASS
    assert r["calcium_urine_rate"][0] == pytest.approx(intake * 0.150, rel=2e-3)  # 15 % absorbed (OBM)
    for name in ("calcium_plasma", "pth_plasma", "calcitriol_plasma", "calcifediol_serum"):
        assert np.ptp(r[name]) < 1e-6 * r[name][0], name


def test_calcium_is_conserved():
    """gut + ECF + skeleton + urine + faeces gain exactly the habitual intake and the doses."""
    r = run_dict({"subject": WOMAN, "duration": "20 day", "save_every": "1 day",
                  "intake": [{"agent": "calcium", "dose": "500 mg", "every": "1 day", "stop": "10 day"}]})
    total = sum(r[s] for s in ("calcium_gut", "calcium_ecf", "calcium_urine", "calcium_faeces")) + r["calcium_skeleton"]
    gained = total[-1] - total[0]
    intake = r.parameters["intake_calcium"] / CALCIUM_MOLAR_MASS * 20 + 10 * 500 / CALCIUM_MOLAR_MASS
    assert gained == pytest.approx(intake, rel=1e-6)
    assert np.all(r["calcium_skeleton"] > 0) and np.all(r["calcium_ecf"] > 0)


def test_calcium_and_vitamin_d3_supplements_act_through_the_axis():
    base = run_dict({"subject": WOMAN, "duration": "1 year", "save_every": "0.5 day"})
    ca = run_dict({"subject": WOMAN, "duration": "1 year", "save_every": "0.5 day",
                   "intake": [{"agent": "calcium", "dose": "1000 mg", "every": "1 day"}]})
    d3 = run_dict({"subject": WOMAN, "duration": "1 year", "save_every": "0.5 day",
                   "intake": [{"agent": "vitamin-D3", "dose": "10 ug", "every": "1 day"}]})
    last = slice(-60, None)  # the last month, both half-days
    assert ca["pth_plasma"][last].mean() < 0.95 * base["pth_plasma"][last].mean()  # calcium suppresses PTH
    assert ca["calcium_urine_rate"][last].mean() > base["calcium_urine_rate"][last].mean()
    assert ca.at("bmd_lumbar_spine", YEAR) > base.at("bmd_lumbar_spine", YEAR)  # less PTH-driven resorption
    # 25(OH)D: about 0.7 nM per ug/day at steady state (Heaney 2003), reached with a half-life of 15 days
    assert d3.at("calcifediol_serum", YEAR) - base.at("calcifediol_serum", YEAR) == pytest.approx(7.0, rel=0.02)
    assert d3.at("calcitriol_plasma", YEAR) > base.at("calcitriol_plasma", YEAR)
    assert d3.at("pth_plasma", YEAR) < base.at("pth_plasma", YEAR)


def test_denosumab_pharmacokinetics_match_peterson_riggs():
    """60 mg s.c.: peak about 8.5 ug/mL near day 14, as the OpenBoneMin parameters give (derived: 8.53 ug/mL at
    14.4 days), and mostly gone by month 6 (0.005 ug/mL at day 183)."""
    r = run_dict({"subject": WOMAN, "duration": "200 day", "save_every": "0.2 day",
                  "intake": [{"agent": "denosumab", "dose": "60 mg"}]})
    c = r["denosumab_serum"] / 1000  # ug/mL
    t = r.time_day
    assert c.max() == pytest.approx(8.53, rel=0.02)
    assert 12 < t[np.argmax(c)] < 17
    assert r.at("denosumab_serum", 183) / 1000 < 0.05


def test_teriparatide_peaks_within_the_hour_and_is_gone_by_the_next_day():
    r = run_dict({"subject": WOMAN, "duration": "1 day", "save_every": "0.05 hour",
                  "intake": [{"agent": "teriparatide", "dose": "20 ug"}]})
    c = r["teriparatide_plasma"]
    assert 0.2 < r.time_day[np.argmax(c)] * 24 < 1.0
    assert c.max() > 4 * 3.85  # several times endogenous PTH
    assert c[-1] < 1e-3 * c.max()


def test_alendronate_is_mostly_unabsorbed_and_half_the_absorbed_dose_stays_in_bone():
    r = run_dict({"subject": WOMAN, "duration": "30 day", "save_every": "1 day",
                  "intake": [{"agent": "alendronate", "dose": "70 mg"}]})
    assert r["alendronate_faeces"][-1] == pytest.approx(70 * (1 - 0.0064), rel=1e-6)
    assert r["alendronate_bone"][-1] == pytest.approx(0.5 * 70 * 0.0064, rel=0.01)
    assert r["alendronate_urine"][-1] == pytest.approx(0.5 * 70 * 0.0064, rel=0.01)


@pytest.mark.parametrize("drug", [
    {"agent": "denosumab", "dose": "60 mg", "every": "6 month"},
    {"agent": "alendronate", "dose": "70 mg", "every": "7 day"},
])
def test_antiresorptives_lower_ctx_and_raise_bmd(drug):
    base = run_dict({"subject": WOMAN, "duration": "1 year", "save_every": "10 day"})
    r = run_dict({"subject": WOMAN, "duration": "1 year", "save_every": "10 day", "intake": [drug]})
    assert r.at("ctx", 180) < 0.6 * base.at("ctx", 180)
    assert r.at("p1np", YEAR) < base.at("p1np", YEAR)  # coupled formation follows
    for site in ("bmd_lumbar_spine", "bmd_femoral_neck", "bmd_total_hip"):
        assert r.at(site, YEAR) > base.at(site, YEAR), site


def test_intermittent_pth_is_anabolic_and_continuous_pth_catabolic():
    """The same 20 ug a day of teriparatide: as one injection it builds bone (P1NP and BMD up); spread over
    24 hourly doses it only raises PTH (RANKL up, OPG down) and bone is lost, also at four times the dose."""
    base = run_dict({"subject": WOMAN, "duration": "1 year", "save_every": "10 day"})
    daily = run_dict({"subject": WOMAN, "duration": "1 year", "save_every": "10 day",
                      "intake": [{"agent": "teriparatide", "dose": "20 ug", "every": "1 day"}]})
    continuous = run_dict({"subject": WOMAN, "duration": "1 year", "save_every": "10 day",
                           "intake": [{"agent": "teriparatide", "dose": "0.8333 ug", "every": "1 hour"}]})
    assert daily.at("p1np", YEAR) > 1.1 * base.at("p1np", YEAR)
    assert daily.at("bmd_lumbar_spine", YEAR) > base.at("bmd_lumbar_spine", YEAR) + 2
    assert continuous.at("bmd_lumbar_spine", YEAR) < base.at("bmd_lumbar_spine", YEAR)
    assert continuous.at("ctx", YEAR) > base.at("ctx", YEAR)
    # four times as much, continuously: PTH about twice its level, over the anabolic threshold; only the
    # adaptation of osteoblast signalling keeps it from building bone
    high = run_dict({"subject": WOMAN, "duration": "1 year", "save_every": "10 day",
                     "intake": [{"agent": "teriparatide", "dose": "3.3333 ug", "every": "1 hour"}]})
    assert high.at("pth_plasma", YEAR) > 2 * base.at("pth_plasma", YEAR)
    assert high.at("bmd_lumbar_spine", YEAR) < base.at("bmd_lumbar_spine", YEAR) - 1


@pytest.mark.xfail(strict=True, reason="known miss (validate target 189): with denosumab, coupled formation falls "
                   "with resorption and cancels most of teriparatide's gain (model +1.8 % against DATA's +9.1 %)")
def test_teriparatide_and_denosumab_together_beat_either_alone():
    """DATA (Tsai 2013): the combination raised spine BMD more than either drug at 12 months."""
    arms = {}
    for name, intake in (("teri", [{"agent": "teriparatide", "dose": "20 ug", "every": "1 day"}]),
                         ("deno", [{"agent": "denosumab", "dose": "60 mg", "every": "6 month"}])):
        arms[name] = run_dict({"subject": WOMAN, "duration": "1 year", "save_every": "10 day", "intake": intake})
    both = run_dict({"subject": WOMAN, "duration": "1 year", "save_every": "10 day", "intake": [
        {"agent": "teriparatide", "dose": "20 ug", "every": "1 day"},
        {"agent": "denosumab", "dose": "60 mg", "every": "6 month"}]})
    assert both.at("bmd_lumbar_spine", YEAR) > max(a.at("bmd_lumbar_spine", YEAR) for a in arms.values())


def test_stopping_denosumab_gives_back_bone():
    r = run_builtin("bone2011-denosumab-off")
    placebo = run_builtin("bone2011-placebo")
    gain = r.at("bmd_lumbar_spine", 2 * YEAR) - placebo.at("bmd_lumbar_spine", 2 * YEAR)
    later = r.at("bmd_lumbar_spine", 4 * YEAR) - placebo.at("bmd_lumbar_spine", 4 * YEAR)
    assert gain > 1 and later < gain - 0.5  # part of the gain is lost (Miller 2008's full loss is a miss: target 185)
    assert r.at("ctx", 2.5 * YEAR) > 0.95 * placebo.at("ctx", 2.5 * YEAR)  # resorption back once the drug is spent


def test_drug_agents_carry_their_units_and_routes():
    targets = {d.agent: d for d in build_model("human").dose_targets}
    assert (targets["denosumab"].dose_unit, targets["denosumab"].route) == ("mg", "subcutaneous")
    assert (targets["teriparatide"].dose_unit, targets["teriparatide"].route) == ("ug", "subcutaneous")
    assert (targets["alendronate"].dose_unit, targets["alendronate"].route) == ("mg", "oral")
    ok = {"subject": {"age": "60 year"}, "duration": "1 day",
          "intake": [{"agent": "denosumab", "dose": "60 mg", "route": "subcutaneous"}]}
    Scenario.from_dict(ok)
    bad = {**ok, "intake": [{"agent": "denosumab", "dose": "60 mg", "route": "oral"}]}
    with pytest.raises((ScenarioError, ValueError), match="route"):
        Scenario.from_dict(bad)
    rat = {"species": "rat", "subject": {"age": "90 day"}, "duration": "1 day",
           "intake": [{"agent": "denosumab", "dose": "1 mg"}]}
    with pytest.raises((ScenarioError, ValueError), match="unknown agent"):
        Scenario.from_dict(rat)


def test_fitted_drug_potencies_are_marked_and_referenced():
    table = load_parameters("human")
    for name in ("ka_rankl_denosumab", "e_pth_anabolic", "emax_alendronate"):
        row = table.rows[name]
        assert row.status == "fitted" and row.reference.startswith("tools/fit_therapies.py")
