"""Layer 3: bone cells and signalling (structure and cell parameters of Pivonka et al. 2008).

Osteoblast lineage: uncommitted progenitors (fixed pool, supply falls with age) -> precursors (OBp) ->
active osteoblasts (OBa) -> osteocytes (a fraction of OBa ends buried) or apoptosis. Osteocytes make
sclerostin, a Wnt inhibitor that slows the Wnt-driven commitment of progenitors; estrogen lowers it (Modder
2011: 4 weeks of estrogen lowered serum sclerostin by 27 % in postmenopausal women), so estrogen reaches the
progenitor supply through the osteocytes. Osteoclasts (OCa)
form from precursors at a rate set by NF-kB activity, which RANK-RANKL binding and TNF-alpha drive.
TGF-beta released by resorption activates OBp formation, represses OBp->OBa and speeds OCa apoptosis.
RANKL is made by OBp (PTH-activated) and bound by OPG (made by OBa, PTH-repressed) and RANK. Estrogen
(falls at menopause, Peterson & Riggs' form; at once after ovariectomy) represses RANKL and sclerostin, raises
osteoclast apoptosis and prolongs osteoblast life. Cells in pM, time in day.
"""

from __future__ import annotations

import sympy as sp

from osteoqsp.symbolic.declare import ModelBuilder


def estrogen(m: ModelBuilder) -> sp.Symbol:
    if m.species == "human":
        # hormonal age always runs: ageing off freezes age-dependent parameters, not the menopause
        age = m.p("age0", "year") + m.t / 365.25
        duration = m.p("menopause_duration", "year")
        onset = m.p("menopause_age", "year") - duration
        delta = sp.Max(age - onset, 0)
        drop = m.p("estrogen_drop", "1") * delta**2 / ((duration / 2) ** 2 + delta**2)
        level = 1 - m.p("postmenopausal", "1") * drop
    else:
        since = sp.Max(m.t - m.p("ovx_day", "day"), 0)
        level = 1 - m.p("ovariectomised", "1") * (1 - m.p("estrogen_ovx_floor", "1")) * (
            1 - sp.exp(-since / m.p("tau_ovx", "day")))
    return m.let("estrogen", level, "1", "estrogen relative to the premenopausal / sham level")


def declare(m: ModelBuilder, act: dict[str, sp.Symbol], age: sp.Expr,
            drugs: dict[str, sp.Expr]) -> dict[str, sp.Symbol]:
    """`drugs`: pth_relative (PTH at the receptor relative to the steady state), denosumab_conc (mg/L) and
    alendronate_effect (multiplier on osteoclast apoptosis); neutral values where the species has no such
    layer."""
    m.layer("bone_cells")
    est = estrogen(m)
    p = m.p
    obp = m.state("OBp", "pM", "osteoblast precursors", initial=6.1964e-4)
    oba = m.state("OBa", "pM", "active osteoblasts", initial=5.5839e-4)
    oca = m.state("OCa", "pM", "active osteoclasts", initial=8.0696e-4)
    ocy = m.state("Ocy", "pM", "osteocytes (relative pool)", initial=1.0e-3)

    tgfb = m.let("tgfb", p("alpha_tgfb", "1") * p("k_res_tgfb", "1/day") * oca / p("d_tgfb", "1/day"), "pM",
                 "active TGF-beta released from the matrix by resorption")
    act_tgfb = m.let("tgfb_activation", tgfb / (tgfb + p("kd_tgfb_act", "pM")), "1", "")
    rep_tgfb = m.let("tgfb_repression", p("kd_tgfb_rep", "pM") / (tgfb + p("kd_tgfb_rep", "pM")), "1", "")

    pth_rel = drugs["pth_relative"]
    pth = m.let("pth", p("beta_pth", "pM/day") / p("d_pth", "1/day") * pth_rel, "pM",
                "PTH at the osteoblast lineage (Pivonka's level, scaled by plasma PTH relative to steady state)")
    if m.species == "human":
        # PTH1R signalling in osteoblasts adapts to sustained PTH; peaks far above the adapted level (intermittent
        # PTH, teriparatide) prolong osteoblast life, continuous elevation does not. The threshold keeps the
        # homeostatic swings of endogenous PTH out (as Peterson & Riggs' RUNX2 switch acts only above one); without
        # it, formation's calcium demand -> PTH -> formation is a positive loop that a fitted gain destabilises
        adapted = m.state("pth_adaptation", "1", "adapted level of PTH receptor signalling in osteoblasts",
                          initial=1.0)
        m.flux("pth_adaptation_gain", p("k_pth_adaptation", "1/day") * pth_rel, None, adapted, "1/day", "")
        m.flux("pth_adaptation_loss", p("k_pth_adaptation", "1/day") * adapted, adapted, None, "1/day", "")
        anabolic = m.let("pth_anabolic_signal", sp.Max(pth_rel - adapted - p("pth_anabolic_threshold", "1"), 0),
                         "1", "PTH peaks far above the adapted level (intermittent injections)")
        drive = m.state("pth_anabolic_drive", "1", "survival signalling that the peaks build up in osteoblasts "
                        "(CREB-like, slow)")
        m.flux("pth_anabolic_gain", p("k_pth_anabolic", "1/day") * p("e_pth_anabolic", "1") * anabolic, None, drive,
               "1/day", "")
        m.flux("pth_anabolic_loss", p("k_pth_anabolic", "1/day") * drive, drive, None, "1/day", "")
        ob_survival = m.let("pth_osteoblast_survival", 1 + drive, "1",
                            "osteoblast lifespan multiplier from intermittent PTH signalling")
    else:
        ob_survival = sp.Integer(1)
    act_pth = m.let("pth_activation", pth / (pth + p("kd_pth_act", "pM")), "1", "")
    rep_pth = m.let("pth_repression", p("kd_pth_rep", "pM") / (pth + p("kd_pth_rep", "pM")), "1", "")

    sxr = act["sxr_stimulation"]
    tnf = p("tnf_alpha", "1")
    nfkb_ob = m.let("nfkb_osteoblast", tnf ** p("g_tnf_ob", "1") * act["nfkb_suppression"], "1",
                    "NF-kB activity in osteoblasts (TNF-alpha driven)")
    opg_prod = m.let("opg_production", p("beta_opg", "1/day") * oba * rep_pth * sxr, "pM/day",
                     "OPG production by active osteoblasts (SXR raises expression)")
    opg = m.let("opg", opg_prod * p("opg_max", "pM") / (opg_prod + p("d_opg", "1/day") * p("opg_max", "pM")),
                "pM", "OPG (quasi-steady)")
    rank = m.let("rank", p("rank_0", "pM") * sxr ** p("g_sxr_rank", "1"), "pM", "RANK on precursors")
    rankl_eff = m.let("rankl_capacity", p("r_rankl", "1") * obp * act_pth * est ** (-p("g_est_rankl", "1")) * sxr,
                      "pM", "maximal RANKL on osteoblast precursors (estrogen represses; SXR raises)")
    decoys = 1 + p("ka_rankl_opg", "1/pM") * opg + p("ka_rankl_rank", "1/pM") * rank
    if m.species == "human":
        decoys += p("ka_rankl_denosumab", "L/mg") * drugs["denosumab_conc"]
    rankl = m.let("rankl", rankl_eff / decoys
                  * p("beta_rankl", "pM/day") / (p("beta_rankl", "pM/day") + p("d_rankl", "1/day") * rankl_eff),
                  "pM", "free RANKL (quasi-steady binding with OPG, RANK and denosumab)")
    occ = m.let("rank_occupancy", p("ka_rankl_rank", "1/pM") * rankl * rank
                / (p("ka_rankl_rank", "1/pM") * rankl * rank + p("kd_rank_act", "pM")), "1",
                "RANK-RANKL activation of osteoclast precursors")
    nfkb_oc = m.let("nfkb_osteoclast", occ * tnf ** p("g_tnf_oc", "1") * act["nfkb_suppression"], "1",
                    "NF-kB activity in osteoclast precursors (RANKL-RANK and TNF-alpha driven)")

    ocy_ss = m.reference("osteocytes_ss", ocy)
    sost = m.let("sclerostin", ocy / ocy_ss * est ** (-p("g_est_sost", "1")), "1",
                 "sclerostin made by osteocytes, relative to the premenopausal steady state (estrogen represses)")
    age_above = sp.Max(age - p("age_bone_ref", "year"), 0)
    supply = m.let("obu_supply", p("d_obu", "pM/day") * sp.exp(-p("k_age_obu", "1/year") * age_above)
                   * sost ** (-p("g_sost_obu", "1")), "pM/day",
                   "progenitor supply (falls with age; sclerostin inhibits its Wnt-driven commitment)")
    m.flux("obp_formation", supply * act_tgfb, None, obp, "pM/day", "commitment of progenitors (TGF-beta)")
    diff = m.flux("obp_differentiation", p("d_obp", "1/day") * obp * rep_tgfb
                  * nfkb_ob ** (-p("g_nfkb_ob", "1")), obp, oba, "pM/day",
                  "OBp -> OBa (TGF-beta and NF-kB repress)")
    apo_ob = p("a_oba", "1/day") * oba * est ** (-p("g_est_oba", "1")) / ob_survival
    m.flux("oba_apoptosis", (1 - p("f_osteocyte", "1")) * apo_ob, oba, None, "pM/day", "")
    m.flux("oba_burial", p("f_osteocyte", "1") * apo_ob, oba, ocy, "pM/day", "OBa become osteocytes")
    m.flux("osteocyte_death", p("k_osteocyte", "1/day") * ocy, ocy, None, "pM/day", "")
    form_oc = m.flux("oca_formation", p("d_ocp", "pM/day") * nfkb_oc, None, oca, "pM/day",
                     "osteoclastogenesis (NF-kB)")
    m.flux("oca_apoptosis", p("a_oca", "1/day") * oca * act_tgfb * est ** p("g_est_oca", "1")
           * act["oc_apoptosis_factor"] * drugs["alendronate_effect"], oca, None, "pM/day",
           "TGF-beta, estrogen, MK-7 and bisphosphonate drive apoptosis")

    return {"estrogen": est, "OBp": obp, "OBa": oba, "OCa": oca, "Ocy": ocy, "rankl": rankl, "opg": opg,
            "nfkb_oc": nfkb_oc, "nfkb_ob": nfkb_ob, "pth": pth, "oc_formation": form_oc, "diff": diff,
            "sxr": sxr, "sclerostin": sost}
