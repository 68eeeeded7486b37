"""Layer 2: the vitamin K cycle and gamma-carboxylation (after Wajima 2009's three-state cycle).

In each tissue (liver; extra-hepatic tissue incl. bone) vitamin K of all forms cycles quinone (K) ->
hydroquinone (KH2) -> epoxide (KO) -> K. The cycle is written for the *fractions* of the tissue's vitamin K
that are KH2 and KO, so that every vitamer keeps its own mass balance while the redox state is shared
(assumption: all vitamers cycle at the same rates, and transport is blind to the redox form).
VKOR (both reductions, K -> KH2 and KO -> K) is inhibited by warfarin; a warfarin-insensitive
quinone reductase gives the high-dose vitamin K rescue. GGCX turns KH2 into KO while it carboxylates:
its substrates' carboxylated fraction is a Hill function of the KH2 concentration. Clotting factors II, VII,
IX and X are made carboxylated at the hepatic fraction and turn over with Wajima's degradation rates;
INR follows Hamberg's form from their mean activity.
"""

from __future__ import annotations

import sympy as sp

from osteoqsp.symbolic.declare import ModelBuilder

FACTORS = ("ii", "vii", "ix", "x")


def declare(m: ModelBuilder, pk: dict[str, sp.Symbol]) -> dict[str, sp.Symbol]:
    m.layer("vitamin_k_cycle")
    inhib = m.let("vkor_inhibition", pk["warfarin_conc"] / (pk["warfarin_conc"] + m.p("ec50_warfarin", "mg/L")),
                  "1", "fraction of VKOR activity blocked by warfarin (Imax 1, Hill 1)")
    k_red = m.p("k_vkor_red", "1/day")
    k_alt = m.p("k_alt_red", "1/day")
    k_carb = m.p("k_ggcx", "1/day")
    k_ko = m.p("k_vkor_ko", "1/day")
    out: dict[str, sp.Symbol] = {"vkor_inhibition": inhib}
    for tissue, label in (("liver", "liver"), ("bone", "extra-hepatic tissue")):
        total = sum(pk[f"{v}_{tissue}"] for v in ("k1", "mk4", "mk7"))
        conc = m.let(f"vk_{tissue}_nM", total / m.p(f"v_{tissue}", "L"), "nM",
                     f"vitamin K (all forms) in {label}")
        kh2 = m.state(f"kh2_frac_{tissue}", "1", f"fraction of {label} vitamin K as hydroquinone",
                      initial=0.0833)
        ko = m.state(f"ko_frac_{tissue}", "1", f"fraction of {label} vitamin K as epoxide", initial=0.0833)
        quinone = 1 - kh2 - ko
        m.flux(f"reduction_{tissue}", (k_red * (1 - inhib) + k_alt) * quinone, None, kh2, "1/day",
               "K -> KH2 by VKOR (warfarin-sensitive) and a warfarin-insensitive reductase")
        m.flux(f"carboxylation_{tissue}", k_carb * kh2, kh2, ko, "1/day", "KH2 -> KO by GGCX")
        m.flux(f"epoxide_reduction_{tissue}", k_ko * (1 - inhib) * ko, ko, None, "1/day", "KO -> K by VKOR")
        out[f"kh2_{tissue}_nM"] = m.let(f"kh2_{tissue}_nM", kh2 * conc, "nM", f"KH2 in {label}")
        out[f"vk_{tissue}_nM"] = conc

    def carboxylated(name: str, kh2_nm: sp.Symbol, km: str, hill: str, what: str) -> sp.Symbol:
        k = m.p(km, "nM")
        n = m.p(hill, "1")
        return m.let(name, kh2_nm**n / (kh2_nm**n + k**n), "1", f"carboxylated fraction of {what}")

    out["carb_hepatic"] = carboxylated("carb_hepatic", out["kh2_liver_nM"], "km_carb_hepatic",
                                       "n_carb_hepatic", "newly made clotting factors")
    out["carb_oc"] = carboxylated("carb_oc", out["kh2_bone_nM"], "km_carb_oc", "n_carb_extrahepatic",
                                  "osteocalcin")
    out["carb_mgp"] = carboxylated("carb_mgp", out["kh2_bone_nM"], "km_carb_mgp", "n_carb_extrahepatic",
                                   "matrix Gla protein")

    acts = []
    for f in FACTORS:
        a = m.state(f"factor_{f}", "1", f"functional (carboxylated) clotting factor {f.upper()}, "
                    "relative to a fully carboxylated pool", initial=1.0)
        kdeg = m.p(f"kdeg_factor_{f}", "1/day")
        m.flux(f"factor_{f}_synthesis", kdeg * out["carb_hepatic"], None, a, "1/day", "")
        m.flux(f"factor_{f}_degradation", kdeg * a, a, None, "1/day", "")
        acts.append(a)
    activity = m.let("clotting_activity", sum(acts) / len(acts), "1", "mean clotting factor activity")
    out["inr"] = m.let("inr", m.p("inr_base", "1") + m.p("inr_max", "1")
                       * (1 - sp.Min(activity, 1)) ** m.p("inr_lambda", "1"), "1", "INR (Hamberg form)")
    return out
