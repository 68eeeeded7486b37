"""Layer 3a (human): the mineral axis. Plasma calcium, parathyroid hormone (PTH), vitamin D (25(OH)D and
calcitriol), gut absorption and renal handling of calcium, and the skeleton as the calcium store; structure
after Peterson & Riggs 2010 (Bone 46:49), reduced to the states that act within days to years.

- Calcium (mmol) in the extracellular fluid (ECF) enters from the gut (dietary and supplement calcium; the
  absorbed fraction rises with calcitriol, saturably) and from bone resorption, and leaves by bone formation
  and the urine. Urinary excretion rises with plasma calcium and falls with PTH (distal reabsorption). The
  skeleton's calcium moves with the total-body bone mass of the read-outs layer (one calcium content per unit
  of bone mass), so that calcium is conserved: gut + ECF + skeleton + urine + faeces = intake.
- PTH (pM) is quasi-steady (plasma half-life of minutes): the parathyroid glands secrete along a falling
  sigmoid of plasma calcium between a floor and a ceiling; teriparatide, PTH(1-34), adds to it at the
  receptor (equipotent, assumed).
- Vitamin D3 supplements enter a storage depot, are hydroxylated to 25(OH)D (nM, slow), the substrate of
  renal 1-alpha-hydroxylase, whose activity (relative, induced by PTH within a day) sets calcitriol production
  (pM, plasma half-life of hours); calcitriol raises gut absorption, lowers urinary calcium and, over months,
  the parathyroid glands' secretory capacity.
Values of the Peterson & Riggs parts are those of the OpenBoneMin implementation (read for values only); what
is left out of their model: phosphate, the fast exchangeable bone calcium pool (so that plasma calcium here
answers a perturbation faster and further), the gut's calcium transport state (taken as quasi-steady), the
gland's secretory pool, and estrogen's effect on renal reabsorption.
At the subject's steady state every quantity sits at its reference value (the *_ref parameters): the urinary
excretion there equals the net absorption of the habitual intake (an adult in zero calcium balance).
Bone cells read PTH relative to that steady state (bone_cells.py), so the calibrated cell layer keeps its
baseline. Amounts in mmol (calcium), concentrations as named, time in day.
"""

from __future__ import annotations

import sympy as sp

from osteoqsp.symbolic.declare import ModelBuilder

CALCIUM_MOLAR_MASS = 40.078  # g/mol
MAX_DOSE = {"calcium": 5000.0, "vitamin-D3": 2500.0}  # largest single administration (against typing errors)


def declare(m: ModelBuilder, teriparatide_pm: sp.Expr) -> dict[str, sp.Expr]:
    """Calcium, PTH and vitamin D; `teriparatide_pm` is the plasma teriparatide (pM) of its PK layer."""
    m.layer("mineral_axis")
    p = m.p
    gut = m.state("calcium_gut", "mmol", "calcium in the gut lumen (diet and supplements)")
    ecf = m.state("calcium_ecf", "mmol", "calcium in the extracellular fluid", initial=32.9)
    faeces = m.state("calcium_faeces", "mmol", "unabsorbed calcium, cumulative", accumulator=True)
    urine = m.state("calcium_urine", "mmol", "calcium excreted in urine, cumulative", accumulator=True)
    ca = m.let("calcium_conc", ecf / p("v_ecf_calcium", "L"), "mM", "plasma (total) calcium")
    ca_ref = p("calcium_ref", "mM")

    # vitamin D: supplement depot -> 25(OH)D -> calcitriol (1-alpha-hydroxylase)
    depot = m.state("vitamin_d3_depot", "ug", "vitamin D3 from supplements, stored before 25-hydroxylation")
    m.dose_target("vitamin-D3", depot, "ug", 1.0, MAX_DOSE["vitamin-D3"])
    k25 = p("k_calcifediol", "1/day")
    d25_ref = p("calcifediol_ref", "nM")
    d25 = m.state("calcifediol", "nM", "serum 25(OH)D", initial=50.0)
    k_d3 = p("k_vitamin_d3", "1/day")
    m.flux("vitamin_d3_hydroxylation", k_d3 * depot, depot, None, "ug/day", "25-hydroxylation of stored D3")
    m.flux("calcifediol_formation", k25 * (d25_ref + p("calcifediol_per_d3", "nM*day/ug") * k_d3 * depot),
           None, d25, "nM/day", "25(OH)D from habitual sources (sun, diet) and from supplement D3")
    m.flux("calcifediol_clearance", k25 * d25, d25, None, "nM/day", "")
    cal = m.state("calcitriol", "pM", "plasma 1,25(OH)2D", initial=90.0)
    cal_ref = p("calcitriol_ref", "pM")

    # PTH: secretion along a falling Hill curve of plasma calcium between a floor and a ceiling, scaled by the
    # glands' capacity (which calcitriol lowers over months); quasi-steady, equal to pth_ref at the references
    capacity = m.state("parathyroid_capacity", "1", "parathyroid secretory capacity relative to the reference",
                       initial=1.0)

    def capacity_drive(c: sp.Expr) -> sp.Expr:
        top, bottom, n = p("capacity_max_calcitriol", "1"), p("capacity_min_calcitriol", "1"), p("n_calcitriol_capacity", "1")
        return top - (top - bottom) * c**n / (c**n + p("ec50_calcitriol_capacity", "pM") ** n)

    k_cap = p("k_parathyroid_capacity", "1/day")
    m.flux("parathyroid_growth", k_cap * capacity_drive(cal) / capacity_drive(cal_ref), None, capacity, "1/day",
           "gland capacity set by calcitriol (lower with more calcitriol)")
    m.flux("parathyroid_involution", k_cap * capacity, capacity, None, "1/day", "")

    def secretion(c: sp.Expr) -> sp.Expr:
        floor = p("pth_floor", "1")
        return floor + (1 - floor) / (1 + (c / p("calcium_setpoint", "mM")) ** p("n_pth_calcium", "1"))

    pth_endo = m.let("pth_endogenous", p("pth_ref", "pM") * capacity * secretion(ca) / secretion(ca_ref), "pM",
                     "PTH secreted by the parathyroid glands (quasi-steady: plasma half-life of minutes)")
    pth = m.let("pth_plasma", pth_endo + teriparatide_pm, "pM", "PTH receptor agonists in plasma: intact PTH "
                "plus teriparatide (equipotent)")
    pth_rel = m.let("pth_relative", pth / m.reference("pth_plasma_ss", pth), "1",
                    "PTH relative to the subject's steady state")

    def hydroxylase_drive(x: sp.Expr) -> sp.Expr:
        g = p("g_pth_hydroxylase", "1")
        return x**g / (x**g + p("ec50_pth_hydroxylase", "pM") ** g)

    aoh = m.state("hydroxylase", "1", "renal 1-alpha-hydroxylase activity relative to the reference", initial=1.0)
    k_aoh = p("k_hydroxylase", "1/day")
    m.flux("hydroxylase_synthesis", k_aoh * hydroxylase_drive(pth) / hydroxylase_drive(p("pth_ref", "pM")), None,
           aoh, "1/day", "PTH induces 1-alpha-hydroxylase")
    m.flux("hydroxylase_turnover", k_aoh * aoh, aoh, None, "1/day", "")
    km25 = p("km_calcifediol", "nM")
    substrate = (d25 / (d25 + km25)) / (d25_ref / (d25_ref + km25))
    k_cal = p("k_calcitriol", "1/day")
    m.flux("calcitriol_production", k_cal * cal_ref * aoh * substrate, None, cal, "pM/day",
           "1-alpha-hydroxylation of 25(OH)D")
    m.flux("calcitriol_clearance", k_cal * cal, cal, None, "pM/day", "")

    # calcium: gut -> ECF (a calcitriol-dependent fraction) or faeces
    intake = p("intake_calcium", "mg/day") / CALCIUM_MOLAR_MASS
    m.flux("calcium_intake", intake, None, gut, "mmol/day", "habitual diet")
    m.dose_target("calcium", gut, "mg", 1.0 / CALCIUM_MOLAR_MASS, MAX_DOSE["calcium"])

    def absorbed_fraction(c: sp.Expr) -> sp.Expr:
        lo, hi, n = p("r_min_calcium_absorption", "1"), p("r_max_calcium_absorption", "1"), p("n_calcium_absorption", "1")
        carriers = lo + (hi - lo) * c / (c + p("ec50_calcitriol_absorption", "pM"))
        return p("f_abs_calcium_max", "1") * carriers**n / (carriers**n + p("r50_calcium_absorption", "1") ** n)

    frac = m.let("calcium_absorbed_fraction", absorbed_fraction(cal), "1",
                 "fraction of gut calcium absorbed (transport capacity induced by calcitriol)")
    # the gut empties first-order whatever the fraction (so that the gut stays in the linear block, solved
    # exactly by the split integrator); calcitriol sets how the calcium leaving it divides
    leaving = m.flux("calcium_transit", p("ka_calcium", "1/day") * gut, gut, None, "mmol/day",
                     "calcium leaving the absorptive gut")
    m.flux("calcium_absorption", frac * leaving, None, ecf, "mmol/day", "absorbed")
    m.flux("calcium_unabsorbed", (1 - frac) * leaving, None, faeces, "mmol/day", "")

    # kidney: the PTH-dependent half of the filtered load, less its saturable, PTH-enhanced reabsorption;
    # calcitriol lowers excretion. At the references the excretion equals the net absorption of the diet.
    filtered = p("gfr_calcium", "L/day") * p("f_filtered_pth_dependent", "1")
    u_ref = intake * absorbed_fraction(cal_ref)
    k_re = p("km_calcium_reabsorption", "mM")
    reab_max = (filtered * ca_ref - u_ref) * (k_re + ca_ref) / ca_ref
    e_pth = p("emax_pth_reabsorption", "1")
    pth_reab = e_pth * pth / (pth + (e_pth - 1) * p("pth_ref", "pM"))

    def calcitriol_factor(c: sp.Expr) -> sp.Expr:
        return 2 - p("emax_calcitriol_urine", "1") * c / (c + p("ec50_calcitriol_urine", "pM"))

    excretion = (filtered * ca - reab_max * ca / (k_re + ca) * pth_reab) * calcitriol_factor(cal) / calcitriol_factor(cal_ref)
    m.flux("calcium_excretion", excretion, ecf, urine, "mmol/day", "urinary calcium")
    m.observable("calcium_plasma", ca, "mM", "plasma (total) calcium")
    m.observable("pth_plasma", pth, "pM", "intact PTH (with teriparatide where given)")
    m.observable("calcitriol_plasma", cal, "pM", "1,25-dihydroxyvitamin D")
    m.observable("calcifediol_serum", d25, "nM", "25-hydroxyvitamin D")
    m.observable("calcium_urine_rate", excretion, "mmol/day", "urinary calcium excretion")
    return {"pth_relative": pth_rel, "calcium_ecf": ecf, "calcium_gut": gut, "calcium_faeces": faeces,
            "calcium_urine": urine}


def declare_bone_exchange(m: ModelBuilder, mineral: dict[str, sp.Expr], formed: sp.Symbol, resorbed: sp.Symbol,
                          bone_mass: sp.Symbol) -> None:
    """Calcium into and out of the skeleton with the total-body bone mass `bone_mass` (relative state; `formed`
    and `resorbed` its fluxes): the skeleton's calcium is calcium_skeleton x bone_mass, so the two fluxes below
    move exactly what the bone mass gains and loses."""
    m.layer("mineral_axis")
    q = m.p("calcium_skeleton", "mmol")
    ecf = mineral["calcium_ecf"]
    m.flux("calcium_mineralisation", q * formed, ecf, None, "mmol/day", "calcium laid down in new matrix")
    m.flux("calcium_resorption", q * resorbed, None, ecf, "mmol/day", "calcium released by resorption")
    m.observable("calcium_skeleton", q * bone_mass, "mmol", "calcium in the skeleton")
