"""Drug layer (human): teriparatide, PTH(1-34), 20 ug s.c. once daily. Pharmacokinetics: a subcutaneous
depot absorbed first-order (bioavailable fraction f_teriparatide) into a central volume, cleared first-order
(one-compartment model of Peterson & Riggs 2010). Its plasma concentration joins endogenous PTH at the
receptor (mineral_axis.py), where intermittent peaks are anabolic and continuous exposure is catabolic
(bone_cells.py). Amounts in pmol, time in day."""

from __future__ import annotations

import sympy as sp

from osteoqsp.model.intake_pk import uptake
from osteoqsp.symbolic.declare import ModelBuilder

MOLAR_MASS = 4117.8  # g/mol, teriparatide (PTH 1-34)
MAX_DOSE = 2000.0  # ug, against typing errors (a hundred times the daily dose)


def declare(m: ModelBuilder) -> sp.Symbol:
    """Returns plasma teriparatide (pM)."""
    m.layer("teriparatide")
    p = m.p
    sc = m.state("teriparatide_sc", "pmol", "teriparatide in the subcutaneous depot")
    central = m.state("teriparatide_central", "pmol", "teriparatide in plasma")
    uptake(m, "teriparatide", sc, p("ka_teriparatide", "1/day"), p("f_teriparatide", "1"), central, None, "pmol/day",
           "", "presystemic_loss", "degraded at the site")
    m.flux("teriparatide_clearance", p("cl_teriparatide", "L/day") / p("v_teriparatide", "L") * central, central,
           None, "pmol/day", "")
    m.dose_target("teriparatide", sc, "ug", 1e6 / MOLAR_MASS, MAX_DOSE, route="subcutaneous")
    conc = m.let("teriparatide_pm", central / p("v_teriparatide", "L"), "pM", "plasma teriparatide")
    m.observable("teriparatide_plasma", conc, "pM", "plasma teriparatide")
    return conc
