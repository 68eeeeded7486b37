"""Drug layer (human): denosumab, a monoclonal antibody against RANKL, 60 mg s.c. every 6 months.
Pharmacokinetics as in Peterson & Riggs 2012: a subcutaneous depot absorbed first-order (bioavailable
fraction f_denosumab), central and peripheral volumes, linear clearance plus saturable (target-mediated)
elimination. Action: denosumab in the bone marrow binds RANKL as a decoy receptor beside OPG and RANK
(bone_cells.py); its effective association constant is fitted to the FREEDOM BMD gains. Amounts in mg, time
in day."""

from __future__ import annotations

import sympy as sp

from osteoqsp.model.intake_pk import uptake
from osteoqsp.symbolic.declare import ModelBuilder

MAX_DOSE = 6000.0  # mg, against typing errors (a hundred times the dose)


def declare(m: ModelBuilder) -> sp.Symbol:
    """Returns plasma denosumab (mg/L)."""
    m.layer("denosumab")
    p = m.p
    sc = m.state("denosumab_sc", "mg", "denosumab in the subcutaneous depot")
    central = m.state("denosumab_central", "mg", "denosumab in plasma")
    periph = m.state("denosumab_peripheral", "mg", "denosumab in the peripheral volume")
    ka = p("ka_denosumab", "1/day")
    f = p("f_denosumab", "1")
    conc = m.let("denosumab_conc", central / p("v_denosumab", "L"), "mg/L", "plasma denosumab")
    uptake(m, "denosumab", sc, ka, f, central, None, "mg/day", "", "presystemic_loss",
           "catabolised before reaching plasma")
    m.flux("denosumab_distribution", p("q_denosumab", "L/day") * conc, central, periph, "mg/day", "")
    m.flux("denosumab_redistribution", p("q_denosumab", "L/day") * periph / p("vp_denosumab", "L"), periph, central,
           "mg/day", "")
    m.flux("denosumab_linear_clearance", p("cl_denosumab", "L/day") * conc, central, None, "mg/day", "")
    m.flux("denosumab_saturable_clearance", p("vmax_denosumab", "mg/day") * conc / (conc + p("km_denosumab", "mg/L")),
           central, None, "mg/day", "target-mediated elimination")
    m.dose_target("denosumab", sc, "mg", 1.0, MAX_DOSE, route="subcutaneous")
    m.observable("denosumab_serum", conc * 1000, "ng/mL", "serum denosumab")
    return conc
