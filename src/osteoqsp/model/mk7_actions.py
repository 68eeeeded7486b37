"""Layer 4: what MK-7 (and MK-4 where it reaches bone) does to bone cells: four switchable pathways.

1. carboxylation: gamma-carboxylated osteocalcin makes new matrix mineralise better (formation efficiency
   rises with the carboxylated fraction above its baseline);
2. nfkb: suppression of NF-kB activation in osteoclast precursors (RANKL/TNF-alpha-driven differentiation)
   and in osteoblasts (relieving TNF-alpha repression of Smad-driven differentiation), carboxylation-
   independent;
3. sxr: SXR-mediated transcription and protein synthesis in osteoblasts: more matrix per osteoblast, more
   OC and ALP, and more OC, OPG, RANKL and RANK expression; zinc enhances it (synergy);
4. osteoclast_apoptosis: apoptosis of mature osteoclasts.

Exposure: the menaquinone concentration in extra-hepatic tissue (nM). Concentration-effect relations are
Emax functions with EC50s in the in-vitro range of the review (1e-8 to 1e-5 M); the translation assumed is
that tissue concentration acts like the culture-medium concentration. `invitro_mk7` adds a fixed
concentration, for the culture-type claims (C13-C17). Each switch (sw_*) is 1 (on) or 0 (off).
A switch acts from the steady state on, so it also removes the pathway's share of the habitual diet's
effect: for mechanism attribution, compare against a placebo run with the same switches.
"""

from __future__ import annotations

import sympy as sp

from osteoqsp.symbolic.declare import ModelBuilder

PATHWAYS = ("carboxylation", "nfkb", "sxr", "osteoclast_apoptosis")


def declare(m: ModelBuilder, pk: dict[str, sp.Symbol], cycle: dict[str, sp.Symbol]) -> dict[str, sp.Symbol]:
    m.layer("mk7_actions")
    v_bone = m.p("v_bone", "L")
    mk = m.let("mk_bone_nM", (pk["mk7_bone"] + m.p("potency_mk4", "1") * pk["mk4_bone"]) / v_bone
               + m.p("invitro_mk7", "nM") * sp.Piecewise((1, m.t > 0), (0, True)), "nM", "menaquinone (MK-7 + MK-4 potency-weighted) at bone")

    def emax(name: str) -> sp.Symbol:
        return m.let(f"effect_{name}", m.p(f"emax_{name}", "1") * mk / (mk + m.p(f"ec50_{name}", "nM")), "1",
                     f"MK-7 effect on {name.replace('_', ' ')} (fraction of its maximum)")

    sw = {p: m.switch(p) for p in PATHWAYS}
    out: dict[str, sp.Symbol] = {"mk_bone_nM": mk}
    out["nfkb_suppression"] = m.let("nfkb_suppression", 1 - sw["nfkb"] * emax("nfkb"), "1",
                                    "NF-kB activity left after MK-7 suppression")
    zinc = pk["zinc_effect"]
    out["sxr_stimulation"] = m.let(
        "sxr_stimulation",
        1 + sw["sxr"] * emax("sxr") * (1 + m.p("synergy_zinc", "1") * zinc) + m.p("emax_zinc", "1") * zinc,
        "1", "osteoblast protein synthesis relative to none (SXR pathway; zinc adds and synergises)")
    out["oc_apoptosis_factor"] = m.let("oc_apoptosis_factor", 1 + sw["osteoclast_apoptosis"]
                                       * emax("osteoclast_apoptosis"), "1",
                                       "multiplier on mature osteoclast apoptosis")
    carb_ss = m.reference("carb_oc_ss", cycle["carb_oc"], "steady")
    out["formation_efficiency"] = m.let(
        "formation_efficiency", 1 + sw["carboxylation"] * m.p("e_carb_formation", "1") * (cycle["carb_oc"] - carb_ss),
        "1", "matrix made per unit of osteoblast activity, rising with osteocalcin carboxylation above baseline")
    return out
