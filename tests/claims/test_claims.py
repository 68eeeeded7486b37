"""The claims of the review (SPEC section 2), one named test each, on the model as it stands.

Each asserts at least the direction; where the evidence gives a number the bound is stated beside it.
Bands that are assumptions (no number in the evidence) say so.
"""

from __future__ import annotations

import numpy as np
import pytest

from osteoqsp.runs.subject import engine_for
from tests.conftest import run_builtin, run_dict

DETECTION_NG_ML = 0.1  # SPEC C01/C02 detection limit


def excess(r, name):
    return r[name] - r[name][0]


def half_life(t_h, c, a, b):
    ia, ib = np.searchsorted(t_h, a), np.searchsorted(t_h, b)
    return (t_h[ib] - t_h[ia]) * np.log(2) / np.log(c[ia] / c[ib])


def lets_at(r, t):
    eng = engine_for(r.scenario.species)
    p = np.array([r.parameters[k] for k in eng.gen.param_index])
    i = int(np.searchsorted(r.time_day, t))
    return eng.lets(float(r.time_day[i]), r.states[i], p)


def test_claim_C01_mk7_single_dose_tmax_and_48h():
    r = run_builtin("sato2012-mk7-single")
    t_h = r.time_day * 24
    c = excess(r, "mk7_serum")
    assert 4 <= t_h[np.argmax(c)] <= 8  # Sato 2012: Tmax 6 h
    assert c[np.searchsorted(t_h, 48)] > DETECTION_NG_ML  # the dose is still detectable at 48 h


def test_claim_C02_mk4_single_dose_never_detectable():
    r = run_builtin("sato2012-mk4-single")
    assert np.max(r["mk4_serum"]) < DETECTION_NG_ML


def test_claim_C03_half_lives_mk7_long_k1_short():
    r = run_builtin("sato2012-mk7-single")
    t_h = r.time_day * 24
    assert 60 <= half_life(t_h, excess(r, "mk7_serum"), 48, 72) <= 80
    k1 = run_dict({"species": "human", "subject": {"age": "30 year"}, "intake": [{"agent": "K1", "dose": "1000 ug"}],
                   "duration": "2 day", "save_every": "0.25 hour"})
    t_h = k1.time_day * 24
    assert 1 <= half_life(t_h, excess(k1, "k1_serum"), 8, 16) <= 3


def test_claim_C04_absorption_falls_with_age():
    def auc(age):
        r = run_dict({"species": "human", "subject": {"sex": "male", "age": f"{age} year"},
                      "intake": [{"agent": "MK-7", "dose": "420 ug"}], "duration": "3 day", "save_every": "1 hour"})
        return np.trapezoid(excess(r, "mk7_serum"), r.time_day)
    assert auc(75) < 0.9 * auc(30)


def test_claim_C05_baseline_carboxylation():
    r = run_builtin("knapen2013-placebo")
    assert r["hepatic_carboxylation"][0] > 0.95
    assert 0.10 <= r["ucoc_ratio"][0] <= 0.40  # Theuwissen 2012: 10-40 % undercarboxylated


def test_claim_C06_dose_dependent_carboxylation():
    doses = ["placebo", "10ug", "20ug", "45ug", "90ug", "180ug", "360ug"]
    runs = [run_builtin(f"theuwissen2012-{d}") for d in doses]
    ratio = [r.at("ucoc_ratio", 84) for r in runs]
    mgp = [r.at("dp_ucmgp", 84) for r in runs]
    assert np.all(np.diff(ratio) < 0) and np.all(np.diff(mgp) < 0)


def test_claim_C07_children_45ug():
    r = run_dict({"species": "human", "subject": {"sex": "male", "age": "8 year"},
                  "intake": [{"agent": "MK-7", "dose": "45 ug", "every": "1 day"}], "duration": "8 week"})
    assert r["mk7_serum"][-1] > 2 * r["mk7_serum"][0]
    assert r["ucoc_ratio"][-1] < r["ucoc_ratio"][0]


@pytest.mark.parametrize("age", [25, 45, 65, 80])
def test_claim_C08_japanese_diet_ordering(age):
    # Japanese women's intake (Kamao 2007): 230 ug/day total vitamin K; K1 67.7 %, MK-4 7.3 %, MK-7 24.9 %
    subject = {"sex": "female", "age": f"{age} year"}
    if age > 55:
        subject["menopause_age"] = "51 year"
    r = run_dict({"species": "human", "subject": subject, "duration": "1 day"},
                 intake_k1=156.0, intake_mk4=17.0, intake_mk7=57.0)
    assert r["mk7_serum"][0] > r["k1_serum"][0] > r["mk4_serum"][0]


def test_claim_C09_requirement_rises_with_age():
    def required(age):  # MK-7 intake (ug/day) that brings ucOC/OC to 10 %, by bisection
        lo, hi = 0.0, 4000.0
        for _ in range(13):
            mid = (lo + hi) / 2
            r = run_dict({"species": "human", "subject": {"sex": "male", "age": f"{age} year"}, "duration": "1 day"},
                         intake_mk7=mid)
            lo, hi = (lo, mid) if r["ucoc_ratio"][0] <= 0.10 else (mid, hi)
        return hi
    need = [required(a) for a in (30, 55, 75)]
    assert need[0] < need[1] < need[2] < 4000.0


def test_claim_C10_warfarin_blocks_cycle_and_vitamin_k_partly_reverses():
    r = run_builtin("warfarin-mk7")
    assert 2.0 < r.at("inr", 27) < 4.0 and r.at("inr", 0) < 1.1  # 5 mg/day: within a usual therapeutic range
    assert r.at("hepatic_carboxylation", 27) < r.at("hepatic_carboxylation", 0)
    assert r.at("ucoc_ratio", 27) > r.at("ucoc_ratio", 0)
    assert 1.05 < r.at("inr", 55) < r.at("inr", 27)  # MK-7 from day 28 reverses part of the effect


def test_claim_C11_natto_tenfold_serum_mk7():
    # assumed habitual natto intake of Tokyo women: one 40 g pack of natto (939 ug/100 g) a week on average,
    # i.e. about 54 ug/day MK-7, close to Kamao 2007's 57 ug/day for Japanese women
    r = run_dict({"species": "human", "subject": {"sex": "female", "age": "60 year", "menopause_age": "51 year"},
                  "intake": [{"food": "natto", "amount": "40 g", "every": "7 day"}], "duration": "10 week"})
    late = r.time_day >= 56
    fold = np.mean(r["mk7_serum"][late]) / r["mk7_serum"][0]
    assert 5 <= fold <= 20  # Kaneki 2001: Tokyo 5.26 vs Britain 0.37 ng/mL (14x); SPEC: about 10x


def test_claim_C12_menopause_bone_loss():
    r = run_dict({"species": "human", "subject": {"sex": "female", "age": "52 year", "menopause_age": "51 year"},
                  "duration": "4 year"})
    rate = (r.at("bmd_lumbar_spine", 4 * 365.25) - r.at("bmd_lumbar_spine", 2 * 365.25)) / 2
    assert -2.0 <= rate <= -1.0  # Pouilles 1996: -1.46 %/year 6-60 months after menopause


def _invitro(conc_nm, **sw):
    return run_dict({"species": "human", "subject": {"sex": "female", "age": "30 year"}, "duration": "7 day",
                     "save_every": "1 day"}, invitro_mk7=conc_nm, **sw)


def test_claim_C13_formation_markers_need_protein_synthesis():
    on = _invitro(1000.0)
    off = _invitro(1000.0, sw_sxr=0.0)
    assert on.at("alp", 7) > 1.01 and on.at("oc_total", 7) > on.at("oc_total", 0)
    # per osteoblast (ALP / osteoblasts) the rise is protein synthesis: gone with pathway 3 off
    assert on.at("alp", 7) / on.at("osteoblasts", 7) > 1.01
    assert off.at("alp", 7) / off.at("osteoblasts", 7) == pytest.approx(1.0, abs=1e-12)


def test_claim_C14_osteoblast_gene_expression_rises():
    r = _invitro(1000.0)
    before, after = lets_at(r, 0), lets_at(r, 7)
    cells = {"opg_production": "OBa", "rankl_capacity": "OBp"}  # expression per osteoblast-lineage cell
    i0, i7 = (int(np.searchsorted(r.time_day, t)) for t in (0, 7))
    for name, cell in cells.items():
        assert after[name] / r[cell][i7] > before[name] / r[cell][i0], name
    assert after["rank"] > before["rank"]
    assert r.at("oc_total", 7) > r.at("oc_total", 0) and r.at("opg", 7) > 1


def test_claim_C15_osteoclastogenesis_falls_with_concentration():
    formation = [_invitro(c).at("osteoclast_formation", 7) for c in (10.0, 100.0, 1000.0, 10000.0)]
    assert formation[0] < 1 and np.all(np.diff(formation) < 0)


def test_claim_C16_mature_osteoclast_apoptosis():
    on, off = _invitro(1000.0), _invitro(1000.0, sw_osteoclast_apoptosis=0.0)
    assert lets_at(on, 7)["oc_apoptosis_factor"] > 1.0  # shorter lifespan = 1 / (apoptosis rate)
    assert lets_at(off, 7)["oc_apoptosis_factor"] == 1.0


def test_claim_C17_nfkb_suppressed_both_lineages_without_carboxylation():
    for r in (_invitro(1000.0), _invitro(1000.0, sw_carboxylation=0.0)):
        assert r.at("nfkb", 7) < 0.99 and r.at("nfkb_osteoblast", 7) < 0.99
    # TNF-alpha-depressed differentiation is restored: with inflammation, MK-7 raises OBp -> OBa flux
    inflamed = _invitro(1000.0, tnf_alpha=2.0, sw_carboxylation=0.0)
    control = _invitro(0.0, tnf_alpha=2.0)
    assert lets_at(inflamed, 7)["obp_differentiation"] > lets_at(control, 7)["obp_differentiation"]


def test_claim_C18_ovx_rat_77_days():
    natto, mk7 = run_builtin("yamaguchi-ovx-77d-natto"), run_builtin("yamaguchi-ovx-77d-mk7")
    sham = run_builtin("yamaguchi-sham-77d")
    for read in ("femur_dry_weight", "femur_calcium"):
        loss, loss_mk7 = natto.at(read, 77), mk7.at(read, 77)
        assert loss < -1.0 < sham.at(read, 77)
        # MK-7 loses less; "significantly": at least a tenth of the loss prevented (assumed band: the paper's
        # magnitudes were not found, see the evidence notes)
        assert loss < loss_mk7 < 0 and (loss_mk7 - loss) > 0.1 * abs(loss)


def test_claim_C19_ovx_rat_150_days_dose_ordered():
    runs = [run_builtin(f"yamaguchi-ovx-150d-{arm}") for arm in ("natto", "14p1", "18p8")]
    for read in ("femur_dry_weight", "femur_calcium", "femur_bmd", "coc"):
        values = [r.at(read, 150) for r in runs]
        assert values[0] < values[1] < values[2], read
    loss = [r.at("femur_bmd", 150) for r in runs]
    assert loss[2] - loss[0] > 0.1 * abs(loss[0])  # 18.8 ug/100 g prevents a tenth of the loss or more (assumed band)


def test_claim_C20_zinc_synergy():
    base = {"species": "rat", "subject": {"age": "90 day", "ovariectomy": "0 day"}, "duration": "60 day"}
    mk7 = [{"diet": {"MK-7": "18.8 ug/100g"}}]
    zinc = [{"agent": "zinc", "dose": "2 mg", "every": "1 day"}]

    def gain(intake):
        return run_dict({**base, "intake": intake}).at("femur_bmd", 60) - run_dict(base).at("femur_bmd", 60)
    assert gain(mk7 + zinc) > gain(mk7) + gain(zinc) > 0


def test_claim_C21_natto_raises_mk7_and_coc_within_14_days():
    r = run_builtin("tsukamoto2000-natto")
    for day in (7, 14):
        assert r.at("mk7_serum", day) > 2 * r.at("mk7_serum", 0)
        assert r.at("coc", day) > r.at("coc", 0)


def test_claim_C22_natto_packs_per_week_less_femoral_neck_loss(woman58):
    def loss(packs):
        intake = [] if packs == 0 else [{"food": "natto", "amount": f"{40 * packs / 7:.4f} g", "every": "1 day"}]
        return run_dict({"species": "human", "subject": woman58, "intake": intake, "duration": "3 year"}).at(
            "bmd_femoral_neck", 3 * 365.25)
    losses = [loss(k) for k in (0, 1, 4, 7)]
    assert losses[0] < 0 and np.all(np.diff(losses) > 0)


def test_claim_C23_knapen_three_years():
    pla, mk7 = run_builtin("knapen2013-placebo"), run_builtin("knapen2013-mk7")
    end = 3 * 365.25
    # Knapen: ucOC -51 % and cOC +21 % vs placebo; no dispersion given: +/- 25 % of each (the validate band)
    assert -63.75 <= 100 * (mk7.at("ucoc", end) / pla.at("ucoc", end) - 1) <= -38.25
    assert 15.75 <= 100 * (mk7.at("coc", end) / pla.at("coc", end) - 1) <= 26.25
    diff = {s: [mk7.at(f"bmd_{s}", y * 365.25) - pla.at(f"bmd_{s}", y * 365.25) for y in (1, 2, 3)]
            for s in ("lumbar_spine", "femoral_neck", "total_hip")}
    for s in ("lumbar_spine", "femoral_neck"):
        assert pla.at(f"bmd_{s}", end) < 0 and diff[s][2] > 0
        assert diff[s][0] < diff[s][1] < diff[s][2]  # the effect builds over years 2-3
    # no effect at the total hip: the model's total-hip difference is under half the femoral neck one
    assert diff["total_hip"][2] < 0.5 * diff["femoral_neck"][2]


def test_claim_C24_kanellakis_vitamin_k_arms():
    arms = {a: run_builtin(f"kanellakis2012-{a}") for a in ("control", "cad", "cadk1", "cadk2")}
    end = 365.0
    for k in ("cadk1", "cadk2"):
        for ref in ("cad", "control"):
            assert arms[k].at("ucoc_ratio", end) < arms[ref].at("ucoc_ratio", end)
            for site in ("bmd_total_body", "bmd_lumbar_spine"):
                assert arms[k].at(site, end) > arms[ref].at(site, end), (k, ref, site)
    assert arms["cadk2"].at("bmd_lumbar_spine", end) > 0  # rises with MK-7
