"""Layer 1: intake and pharmacokinetics of the vitamers K1, MK-4, MK-7, and of warfarin.

Per vitamer: gut -> lymph (chylomicrons) -> serum, with the unabsorbed part excreted in faeces; serum
exchanges with the liver and with extra-hepatic tissue (bone); elimination from serum; MK-7 is converted
to MK-4 in extra-hepatic tissue. Absorption falls with age. Menatetrenone, MK-4 as the drug (soft capsule or
syrup taken after a meal), has a gut compartment and an absorbed fraction of its own: at 15-30 mg it is absorbed
at 6-17 % (Uematsu 1996; Kaytwo label), while MK-4 at a nutritional 420 ug is not detectable (Sato 2012). Habitual (diet) intake enters the gut as a
zero-order input; doses enter the gut as boluses. Amounts in nmol, time in day.
"""

from __future__ import annotations

import sympy as sp

from osteoqsp.symbolic.declare import ModelBuilder

VITAMERS = ("k1", "mk4", "mk7")
AGENT_OF = {"k1": "K1", "mk4": "MK-4", "mk7": "MK-7"}
MOLAR_MASS = {"k1": 450.71, "mk4": 444.66, "mk7": 649.02}  # g/mol, from the formulas (SPEC 1.1)
# The largest single administration accepted (scenario validation), in the agent's dose unit: a bound
# against typing errors (a thousand times the largest doses in use: 45 mg MK-4, 10 mg warfarin), not biology.
MAX_DOSE = {"vitamer": 100_000.0, "warfarin": 50.0, "zinc": 300.0}


def uptake(m: ModelBuilder, name: str, depot: sp.Symbol, rate: sp.Expr, fraction: sp.Expr, target: sp.Symbol,
           lost: sp.Symbol | None, unit: str, description: str, loss: str = "unabsorbed",
           loss_description: str = "faecal loss") -> None:
    """First-order emptying of a dosing depot (gut lumen, s.c. site) at `rate`: `fraction` reaches `target`
    (flux <name>_absorption), the rest goes to `lost` (a tally, or None: degraded; flux <name>_<loss>)."""
    m.flux(f"{name}_absorption", fraction * rate * depot, depot, target, unit, description)
    m.flux(f"{name}_{loss}", (1 - fraction) * rate * depot, depot, lost, unit, loss_description)


def declare(m: ModelBuilder) -> dict[str, sp.Symbol]:
    m.layer("intake_pk")
    age = m.let("age", m.p("age0", "year") + m.p("ageing", "1") * m.t / 365.25, "year",
                "age for age-dependent parameters; stays at age0 when ageing is off (switch 0)")
    above = sp.Max(age - m.p("age_abs_ref", "year"), 0)
    absorb_age = m.let("absorption_age_factor", sp.exp(-m.p("k_abs_age", "1/year") * above), "1",
                       "fall of intestinal absorption with age (1 at or below age_abs_ref)")
    out: dict[str, sp.Symbol] = {"age": age}
    # body size (allometry, Anderson & Holford 2008): volumes in proportion to body weight, clearances to
    # its 3/4 power, so first-order rate constants go as weight^-1/4 (relative to the species' reference)
    size = m.let("body_size", m.p("body_weight", "kg") / m.p("body_weight_ref", "kg"), "1",
                 "body weight relative to the reference weight of the species tables")
    allo = m.let("allometric_rate_factor", size ** sp.Rational(-1, 4), "1",
                 "rate constants scale as (weight / reference)^-1/4")
    for v in VITAMERS:
        mw = sp.Float(MOLAR_MASS[v])
        gut = m.state(f"{v}_gut", "nmol", f"{AGENT_OF[v]} in the gut lumen")
        lymph = m.state(f"{v}_lymph", "nmol", f"{AGENT_OF[v]} in chylomicrons on the way to serum")
        serum = m.state(f"{v}_serum_amt", "nmol", f"{AGENT_OF[v]} in serum (lipoproteins)", initial=1.0)
        liver = m.state(f"{v}_liver", "nmol", f"{AGENT_OF[v]} in the liver (all redox forms)", initial=1.0)
        bone = m.state(f"{v}_bone", "nmol", f"{AGENT_OF[v]} in extra-hepatic tissue incl. bone", initial=1.0)
        faeces = m.state(f"{v}_faeces", "nmol", f"unabsorbed {AGENT_OF[v]}, cumulative", accumulator=True)
        elim = m.state(f"{v}_eliminated", "nmol", f"{AGENT_OF[v]} eliminated, cumulative", accumulator=True)
        scale = m.p("pk_rate_scale", "1") * allo
        ka = m.p(f"ka_{v}", "1/day") * scale
        frac = m.let(f"f_abs_{v}_now", m.p(f"f_abs_{v}", "1") * absorb_age, "1",
                     f"fraction of an oral {AGENT_OF[v]} dose absorbed at the current age")
        habitual = m.p(f"intake_{v}", "ug/day") * m.p(f"bioav_diet_{v}", "1")
        diet_rate = m.p(f"diet_{v}", "ug/day")
        m.diet(AGENT_OF[v], diet_rate)
        diet = diet_rate * sp.Piecewise((1, m.t > 0), (0, True))
        m.flux(f"{v}_intake", (habitual + diet) * 1000 / mw, None, gut, "nmol/day",
               "habitual diet (species table) plus the scenario diet (after t = 0)")
        uptake(m, v, gut, ka, frac, lymph, faeces, "nmol/day", "uptake into enterocytes")
        m.flux(f"{v}_lymph_to_serum", ka * lymph, lymph, serum, "nmol/day", "chylomicron transport")
        m.flux(f"{v}_serum_to_liver", scale * m.p(f"k_sl_{v}", "1/day") * serum, serum, liver, "nmol/day", "")
        m.flux(f"{v}_liver_to_serum", scale * m.p(f"k_ls_{v}", "1/day") * liver, liver, serum, "nmol/day", "")
        m.flux(f"{v}_serum_to_bone", scale * m.p(f"k_sb_{v}", "1/day") * serum, serum, bone, "nmol/day", "")
        m.flux(f"{v}_bone_to_serum", scale * m.p(f"k_bs_{v}", "1/day") * bone, bone, serum, "nmol/day", "")
        m.flux(f"{v}_elimination", scale * m.p(f"kel_{v}", "1/day") * serum, serum, elim, "nmol/day",
               "elimination from serum")
        m.flux(f"{v}_hepatic_catabolism", scale * m.p(f"kcat_liver_{v}", "1/day") * liver, liver, elim, "nmol/day",
               "side-chain catabolism in the liver, biliary and urinary excretion")
        conc = m.let(f"{v}_serum_nM", serum / (m.p(f"v_serum_{v}", "L") * size), "nM", f"serum {AGENT_OF[v]}")
        out[v + "_gut"] = gut
        out[v + "_liver"] = liver
        out[v + "_bone"] = bone
        out[v + "_serum_nM"] = conc
        out[v + "_lymph"] = lymph
        out[v + "_faeces"] = faeces
        m.dose_target(AGENT_OF[v], gut, "ug", 1000.0 / MOLAR_MASS[v], MAX_DOSE["vitamer"])
    drug = m.state("menatetrenone_gut", "nmol", "menatetrenone (MK-4 as the drug) in the gut lumen")
    ka_drug = m.p("ka_menatetrenone", "1/day") * m.p("pk_rate_scale", "1") * allo
    frac_drug = m.let("f_abs_menatetrenone_now", m.p("f_abs_menatetrenone", "1") * absorb_age, "1",
                      "fraction of a menatetrenone dose absorbed at the current age")
    uptake(m, "menatetrenone", drug, ka_drug, frac_drug, out["mk4_lymph"], out["mk4_faeces"], "nmol/day",
           "uptake of the drug's MK-4 into enterocytes (then as dietary MK-4)")
    m.dose_target("menatetrenone", drug, "ug", 1000.0 / MOLAR_MASS["mk4"], MAX_DOSE["vitamer"])
    converted = m.state("mk7_converted_to_mk4", "nmol", "MK-7 converted to MK-4, cumulative",
                        accumulator=True)
    conv = m.flux("mk7_to_mk4", m.p("pk_rate_scale", "1") * allo * m.p("k_mk7_mk4", "1/day")
                  * out["mk7_bone"], out["mk7_bone"],
                  out["mk4_bone"], "nmol/day", "side-chain exchange (UBIAD1) in extra-hepatic tissue")
    m.flux("mk7_to_mk4_tally", conv, None, converted, "nmol/day", "bookkeeping of the conversion")

    # warfarin (Wajima 2009 one-compartment PK with first-order absorption), amounts in mg
    w_gut = m.state("warfarin_gut", "mg", "warfarin in the gut")
    w_c = m.state("warfarin_central", "mg", "warfarin in plasma")
    m.flux("warfarin_absorption", m.p("ka_warfarin", "1/day") * w_gut, w_gut, w_c, "mg/day", "")
    m.flux("warfarin_elimination", m.p("kel_warfarin", "1/day") * allo * w_c, w_c, None, "mg/day", "")
    out["warfarin_conc"] = m.let("warfarin_conc", w_c / (m.p("v_warfarin", "L") * size), "mg/L", "plasma warfarin")
    m.dose_target("warfarin", w_gut, "mg", 1.0, MAX_DOSE["warfarin"])

    # zinc supplement: an exposure compartment driving its effect (calcium and vitamin D3 act through the
    # mineral axis, mineral_axis.py)
    x = m.state("zinc_exposure", "mg", "zinc supplement exposure (absorbed, not yet cleared)")
    m.flux("zinc_clearance", m.p("k_zinc", "1/day") * x, x, None, "mg/day", "")
    out["zinc_effect"] = m.let("zinc_effect", x / (x + m.p("zinc_50", "mg")), "1",
                               "saturable effect of the zinc supplement (0 to 1)")
    m.dose_target("zinc", x, "mg", 1.0, MAX_DOSE["zinc"])
    return out
