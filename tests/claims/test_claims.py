"""The claims of the review (SPEC section 2), one named test each, on the model as it stands.

Each asserts at least the direction; where the evidence gives a number the bound is stated beside it.
Bands that are assumptions (no number in the evidence) say so. A test that can only restate an equation says
so in its name (`..._structure`). tools/mutation_check.py switches each mechanism off or moves its key
parameter and lists which of these tests notice (docs/mutation.md); tests/claims/test_mutations.py keeps
the cheap part of that check in the suite.
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


@pytest.mark.xfail(strict=True, reason="a known miss since the extra-hepatic Hill coefficient is bounded to 0.5-3 "
                   "(issue 17): at 180 ug/day dp-ucMGP -39 % against -31 % (band to -38.75) and ucOC/cOC -77 % "
                   "against -60 % (band to -75)")
def test_claim_C06_dalmeijer_magnitudes():
    # by how much: Dalmeijer 2012 (adults 40-65, 12 weeks of 180 and 360 ug/day): dp-ucMGP -31 and -46 %,
    # ucOC/cOC -60 and -74 % from baseline; no dispersion reported: +/- 25 % of each (the validate band)
    observed = {("dp_ucmgp", 180): -31, ("dp_ucmgp", 360): -46, ("uc_to_c", 180): -60, ("uc_to_c", 360): -74}
    for (name, dose), value in observed.items():
        r = run_dict({"species": "human", "subject": {"sex": "female", "age": "52 year"}, "duration": "84 day",
                      "intake": [{"agent": "MK-7", "dose": f"{dose} ug", "every": "1 day"}]})
        y = r["ucoc"] / r["coc"] if name == "uc_to_c" else r[name]
        change = 100 * (y[-1] / y[0] - 1)
        assert 1.25 * value <= change <= 0.75 * value, (name, dose, change)


def test_claim_C07_children_45ug():
    r = run_dict({"species": "human", "subject": {"sex": "male", "age": "8 year"},
                  "intake": [{"agent": "MK-7", "dose": "45 ug", "every": "1 day"}], "duration": "8 week"})
    assert r["mk7_serum"][-1] > 2 * r["mk7_serum"][0]
    assert r["ucoc_ratio"][-1] < r["ucoc_ratio"][0]


def test_claim_C08_japanese_diet_ordering():
    """One age stands for all: the model's only age effect on the vitamers is one absorption factor that scales
    K1, MK-4 and MK-7 alike, so the ordering cannot differ between age groups (Tsugawa 2006's 'all ages' is not
    a separate test here)."""
    # Japanese women's intake (Kamao 2007): 230 ug/day total vitamin K; K1 67.7 %, MK-4 7.3 %, MK-7 24.9 %
    r = run_dict({"species": "human", "subject": {"sex": "female", "age": "60 year", "menopause_age": "51 year"},
                  "duration": "1 day"}, intake_k1=156.0, intake_mk4=17.0, intake_mk7=57.0)
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


def test_osteocytes_mediate_estrogen_on_formation_through_sclerostin():
    """Not a claim of the review: the mechanism that connects the osteocytes (issue 17, item 4). Estrogen
    represses sclerostin (Modder 2011 JBMR 26:27: four weeks of estrogen lowered serum sclerostin by 27 % in
    postmenopausal women, so postmenopausal sclerostin is about 1/0.73 = 1.37 times the premenopausal level,
    if the treatment restored premenopausal estrogen); sclerostin slows the progenitor supply, so the
    osteocytes' signal adds to the bone lost after menopause."""
    subject = {"sex": "female", "age": "52 year", "menopause_age": "51 year"}
    r = run_dict({"species": "human", "subject": subject, "duration": "4 year"})
    pre = run_dict({"species": "human", "subject": {"sex": "female", "age": "30 year"}, "duration": "1 day"})
    assert pre.at("sclerostin", 0) == pytest.approx(1.0, abs=1e-6)
    assert 1.25 <= r.at("sclerostin", 4 * 365.25) <= 1.5  # relative to the premenopausal steady state
    silent = run_dict({"species": "human", "subject": subject, "duration": "4 year"}, g_sost_obu=0.0)
    loss, loss_silent = r.at("bmd_lumbar_spine", 4 * 365.25), silent.at("bmd_lumbar_spine", 4 * 365.25)
    assert loss < 0 and loss_silent < 0
    assert loss < 1.05 * loss_silent  # the sclerostin route makes the loss at least 5 % larger


def _invitro(conc_nm, **sw):
    return run_dict({"species": "human", "subject": {"sex": "female", "age": "30 year"}, "duration": "7 day",
                     "save_every": "1 day"}, invitro_mk7=conc_nm, **sw)


def test_claim_C13_formation_markers_rise_in_culture():
    """MK-7 at 1e-6 and 1e-5 M raises ALP activity and protein (osteocalcin) per osteoblast 'significantly'
    (Yamaguchi, seed review refs 23, 33), and less at 1e-8 M. 'Significant' in a culture assay is taken as at
    least 10 % (assumed band; the review gives no magnitude)."""
    per_cell = {c: _invitro(c) for c in (10.0, 1000.0, 10000.0)}
    alp = {c: r.at("alp", 7) / r.at("osteoblasts", 7) for c, r in per_cell.items()}
    oc = {c: r.at("oc_total", 7) / r.at("oc_total", 0) for c, r in per_cell.items()}
    for c in (1000.0, 10000.0):
        assert alp[c] >= 1.10 and oc[c] > 1.0, c
    assert alp[10.0] < alp[1000.0] < alp[10000.0]


def test_claim_C14_osteoblast_gene_expression_rises_structure():
    """What this checks is structure: the model writes OC, OPG, RANKL and RANK expression as multiplied by the
    SXR term, so they rise whenever pathway 3 acts (the review gives no magnitudes)."""
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


def test_claim_C16_mature_osteoclasts_fall_by_apoptosis():
    """MK-7 decreases the number of mature osteoclasts by inducing apoptosis (seed review ref 37): with the
    other pathways off, a week of 1e-6 M lowers the active osteoclasts by at least 5 % (assumed band: a
    decrease a culture count can show; no magnitude in the review)."""
    only = {"sw_carboxylation": 0.0, "sw_nfkb": 0.0, "sw_sxr": 0.0}
    on, none = _invitro(1000.0, **only), _invitro(0.0, **only)
    assert on.at("osteoclasts", 7) <= 0.95 * none.at("osteoclasts", 7)


def test_claim_C17_nfkb_suppressed_in_both_lineages():
    """NF-kB falls in osteoclast precursors and osteoblasts. That this is carboxylation-independent holds by
    construction (see the structure test below), so it is not tested here by switching carboxylation off."""
    r = _invitro(1000.0)
    assert r.at("nfkb", 7) < 0.99 and r.at("nfkb_osteoblast", 7) < 0.99
    # TNF-alpha-depressed differentiation is restored: with inflammation, MK-7 raises OBp -> OBa flux
    # the other pathways off: the rise is NF-kB's (not protein synthesis, nor the coupling that fewer
    # osteoclasts, by apoptosis, bring to the osteoblast lineage)
    only = {"sw_sxr": 0.0, "sw_osteoclast_apoptosis": 0.0, "sw_carboxylation": 0.0}
    inflamed = _invitro(1000.0, tnf_alpha=2.0, **only)
    control = _invitro(0.0, tnf_alpha=2.0, **only)
    assert lets_at(inflamed, 7)["obp_differentiation"] > lets_at(control, 7)["obp_differentiation"]


def test_claim_C17_nfkb_route_reads_no_carboxylation_structure():
    """Structure: the NF-kB suppression is declared from the MK-7 exposure at bone alone; nothing of the vitamin
    K cycle layer (carboxylation states and quantities) enters it."""
    from osteoqsp.model import build_model

    model = build_model("human")
    expr = next(x.expr for x in model.lets if x.name == "nfkb_suppression")
    names = {str(s) for s in expr.free_symbols}
    lets = {x.name: x for x in model.lets}
    while names & set(lets):  # substitute lets down to states and parameters
        name = next(iter(names & set(lets)))
        names = (names - {name}) | {str(s) for s in lets[name].expr.free_symbols}
    cycle = {n for n, layer in model.layer_of.items() if layer == "vitamin_k_cycle"} - set(model.parameters)
    assert names and not names & cycle, names & cycle


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
    both, alone = gain(mk7 + zinc), gain(mk7) + gain(zinc)
    # synergy: the combination exceeds the sum of the single gains by at least 2 % of it (assumed band; the
    # seed review says "synergistically enhance" without a number). Additivity fails: without the synergy
    # term the model gives 1.0002 x the sum, with it 1.058 x.
    assert alone > 0 and both > 1.02 * alone, (both, alone)


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
    # Knapen: ucOC -51 % and cOC +21 % vs placebo; the size is tested in the xfail below (a known miss)
    assert mk7.at("ucoc", end) < pla.at("ucoc", end) and mk7.at("coc", end) > pla.at("coc", end)
    diff = {s: [mk7.at(f"bmd_{s}", y * 365.25) - pla.at(f"bmd_{s}", y * 365.25) for y in (1, 2, 3)]
            for s in ("lumbar_spine", "femoral_neck", "total_hip")}
    for s in ("lumbar_spine", "femoral_neck"):
        assert pla.at(f"bmd_{s}", end) < 0 and diff[s][2] > 0
        assert diff[s][0] < diff[s][1] < diff[s][2]  # the effect grows each year
    # no effect at the total hip: the model's total-hip difference is under half the femoral neck one
    assert diff["total_hip"][2] < 0.5 * diff["femoral_neck"][2]


@pytest.mark.xfail(strict=True, reason="a known miss since the extra-hepatic Hill coefficient is bounded to "
                   "0.5-3 (issue 17): ucOC -72 % against Knapen's -51 % (band -63.75 to -38.25)")
def test_claim_C23_knapen_carboxylation_sizes():
    pla, mk7 = run_builtin("knapen2013-placebo"), run_builtin("knapen2013-mk7")
    end = 3 * 365.25
    # no dispersion given: +/- 25 % of each (the validate band)
    assert -63.75 <= 100 * (mk7.at("ucoc", end) / pla.at("ucoc", end) - 1) <= -38.25
    assert 15.75 <= 100 * (mk7.at("coc", end) / pla.at("coc", end) - 1) <= 26.25


@pytest.mark.xfail(strict=True, reason="a known miss: the model's lumbar-spine effect is 0.60 points at year 1, "
                   "40 % of year 3 (1.49); Knapen 2013 reports it appearing after 2-3 years (taken as at most a "
                   "quarter of the 3-year effect at year 1; no numbers found)")
def test_claim_C23_effect_appears_after_two_to_three_years():
    pla, mk7 = run_builtin("knapen2013-placebo"), run_builtin("knapen2013-mk7")
    for s in ("lumbar_spine", "femoral_neck"):
        d = [mk7.at(f"bmd_{s}", y * 365.25) - pla.at(f"bmd_{s}", y * 365.25) for y in (1, 3)]
        assert d[0] <= 0.25 * d[1], (s, d)


def test_mk7_lumbar_spine_effect_within_the_pooled_trials():
    """The size of the BMD effect: Knapen's MK-7 180 ug/day against placebo, lumbar spine, inside the 95 % CI
    of the pooled vitamin K trials (Mott 2019 Osteoporos Int: mean difference 0.93 (-0.02 to 1.89) points at
    12 months, 1.63 (0.10 to 3.16) at 24 months). The pool is mostly MK-4 at 45 mg/day, so for a nutritional
    MK-7 dose these are loose bounds, and a lower bound above 0 is the claim that MK-7 acts."""
    pla, mk7 = run_builtin("knapen2013-placebo"), run_builtin("knapen2013-mk7")
    d = {m: mk7.at("bmd_lumbar_spine", m * 365.25 / 12) - pla.at("bmd_lumbar_spine", m * 365.25 / 12)
         for m in (12, 24)}
    assert 0.0 < d[12] <= 1.89 and 0.10 <= d[24] <= 3.16, d


def test_claim_C24_kanellakis_vitamin_k_arms():
    arms = {a: run_builtin(f"kanellakis2012-{a}") for a in ("control", "cad", "cadk1", "cadk2")}
    end = 365.0
    for k in ("cadk1", "cadk2"):
        for ref in ("cad", "control"):
            assert arms[k].at("ucoc_ratio", end) < arms[ref].at("ucoc_ratio", end)
            for site in ("bmd_total_body", "bmd_lumbar_spine"):
                assert arms[k].at(site, end) > arms[ref].at(site, end), (k, ref, site)
    assert arms["cadk2"].at("bmd_lumbar_spine", end) > 0  # rises with MK-7
