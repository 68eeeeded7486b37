"""Layer 5: tissue and clinical read-outs, and the observables of SPEC 3.2 (names and units are stable).

Bone mass per site (relative, 1 at the homeostatic steady state) follows formation and resorption:
    d(site)/dt = k_site * (formation - resorption * site**m_surface)
with formation = OBa x SXR protein synthesis x carboxylation efficiency and resorption = OCa, each relative
to the steady state. Sites differ by their turnover k_site (trabecular-rich sites turn over faster); the
exponent stands for the resorbable surface shrinking with bone mass, so that loss slows as bone is lost.
Serum osteocalcin is quasi-steady (half-life of minutes to hours): made by osteoblasts in proportion to OBa
and SXR stimulation, carboxylated at the extra-hepatic fraction.
Simplifications that make some read-outs move together: ALP, P1NP and OPG all follow OBa x SXR (OPG is far
from its cap), CTX follows OCa, NF-kB follows osteoclast formation, and the rat's femoral dry weight, calcium
content and BMD share one femur bone-mass state (constant mineral fraction).
"""

from __future__ import annotations

import sympy as sp

from dataclasses import dataclass

from osteoqsp.symbolic.declare import ModelBuilder

HUMAN_SITES = {"lumbar_spine": "lumbar spine", "femoral_neck": "femoral neck", "total_hip": "total hip",
               "total_body": "total body"}
RAT_SITES = {"tibia_trabecular": "proximal tibia trabecular bone", "femur": "whole femur"}


@dataclass(frozen=True)
class BoneMass:
    """What other layers read of the bone-mass read-outs."""
    change: dict[str, sp.Expr]  # human site -> relative BMD change since the start (0 = baseline)
    mass: dict[str, sp.Symbol]  # site -> relative bone-mass state
    formed: dict[str, sp.Symbol]  # site -> its formation flux (relative bone mass per day)
    resorbed: dict[str, sp.Symbol]  # site -> its resorption flux


def declare(m: ModelBuilder, pk: dict[str, sp.Symbol], cycle: dict[str, sp.Symbol],
            act: dict[str, sp.Symbol], cells: dict[str, sp.Symbol]) -> BoneMass:
    """Declares the read-outs and returns what the mineral axis and the fracture layer read."""
    m.layer("readouts")
    p = m.p
    sxr = act["sxr_stimulation"]
    formation = m.let("formation", cells["OBa"] * sxr * act["formation_efficiency"], "pM",
                      "bone formation activity")
    form_ss = m.reference("formation_ss", formation)
    res_ss = m.reference("resorption_ss", cells["OCa"])
    form_rel = m.let("formation_rel", formation / form_ss, "1", "formation relative to steady state")
    res_rel = m.let("resorption_rel", cells["OCa"] / res_ss, "1", "resorption relative to steady state")
    sites = HUMAN_SITES if m.species == "human" else RAT_SITES
    mass, formed, resorbed = {}, {}, {}
    for site, label in sites.items():
        x = m.state(f"bone_{site}", "1", f"bone mass at the {label}, relative to steady state", initial=1.0)
        formed[site] = m.flux(f"formation_{site}", p(f"k_turnover_{site}", "1/day") * form_rel, None, x, "1/day", "")
        resorbed[site] = m.flux(f"resorption_{site}", p(f"k_turnover_{site}", "1/day") * res_rel
                                * x ** p("m_surface", "1"), x, None, "1/day", "")
        mass[site] = x

    def mw(v: str) -> float:
        from osteoqsp.model.intake_pk import MOLAR_MASS
        return MOLAR_MASS[v]

    for v in ("mk7", "mk4", "k1"):
        m.observable(f"{v}_serum", pk[f"{v}_serum_nM"] * mw(v) / 1000, "ng/mL", "total serum concentration")
    oc = m.let("oc_total", p("oc_serum_ss", "ng/mL") * cells["OBa"] * sxr / m.reference("oc_drive_ss", cells["OBa"] * sxr),
               "ng/mL", "serum osteocalcin")
    m.observable("oc_total", oc, "ng/mL", "osteocalcin")
    m.observable("ucoc", oc * (1 - cycle["carb_oc"]), "ng/mL", "undercarboxylated osteocalcin")
    m.observable("coc", oc * cycle["carb_oc"], "ng/mL", "carboxylated osteocalcin")
    m.observable("ucoc_ratio", 1 - cycle["carb_oc"], "1", "ucOC / total OC")
    m.observable("dp_ucmgp", p("dp_ucmgp_uncarboxylated", "pmol/L") * (1 - cycle["carb_mgp"]), "pmol/L",
                 "dephospho-uncarboxylated MGP")
    m.observable("inr", cycle["inr"], "1", "international normalised ratio")
    relative = {"osteoblasts": cells["OBa"], "osteoclasts": cells["OCa"], "rankl": cells["rankl"],
                "opg": cells["opg"], "nfkb": cells["nfkb_oc"], "alp": cells["OBa"] * sxr, "p1np": cells["OBa"] * sxr,
                "ctx": cells["OCa"],
                "nfkb_osteoblast": cells["nfkb_ob"], "osteocytes": cells["Ocy"],
                "osteoclast_formation": cells["oc_formation"]}
    for name, expr in relative.items():
        m.observable(name, expr / m.reference(f"{name}_0", expr, "start"), "1", "relative to the subject's baseline")
    change: dict[str, sp.Expr] = {}
    if m.species == "human":
        for site in sites:
            ref = m.reference(f"bone_{site}_0", mass[site], "start")
            change[site] = mass[site] / ref - 1
            m.observable(f"bmd_{site}", 100 * change[site], "%", "BMD change from the start")
    else:
        femur0 = m.reference("bone_femur_0", mass["femur"], "start")
        change = 100 * (mass["femur"] / femur0 - 1)
        for name in ("femur_dry_weight", "femur_calcium", "femur_bmd"):
            m.observable(name, change, "%", "change from the start (constant mineral fraction assumed)")
        m.observable("tibia_bvtv", p("bvtv_tibia_ss", "%") * mass["tibia_trabecular"], "%",
                     "proximal tibia trabecular bone volume fraction")
    m.observable("hepatic_carboxylation", cycle["carb_hepatic"], "1", "carboxylated fraction, new clotting factors")
    m.observable("mk_bone", act["mk_bone_nM"], "nM", "menaquinone exposure at bone")
    m.observable("estrogen", cells["estrogen"], "1", "estrogen relative to premenopausal / sham")
    m.observable("sclerostin", cells["sclerostin"], "1", "sclerostin relative to the premenopausal / sham steady state")
    m.observable("warfarin_plasma", pk["warfarin_conc"], "mg/L", "plasma warfarin")
    return BoneMass(change, mass, formed, resorbed)
