"""Drug layer (human): alendronate, an aminobisphosphonate, 70 mg by mouth once weekly (or 10 mg daily).
Pharmacokinetics: a small fraction of the oral dose is absorbed (fasting); from plasma it is either bound to
the bone surface or excreted unchanged in urine within hours; what is bound is released over years.
Action: osteoclasts resorbing bone take up the bound drug and undergo apoptosis (bone_cells.py), with an Emax
relation in the amount on bone (half-maximal amount fitted to the alendronate BMD trials). Amounts in mg,
time in day."""

from __future__ import annotations

import sympy as sp

from osteoqsp.model.intake_pk import uptake
from osteoqsp.symbolic.declare import ModelBuilder

MAX_DOSE = 7000.0  # mg, against typing errors (a hundred times the weekly dose)


def declare(m: ModelBuilder) -> sp.Symbol:
    """Returns the alendronate effect on osteoclast apoptosis (multiplier >= 1)."""
    m.layer("alendronate")
    p = m.p
    gut = m.state("alendronate_gut", "mg", "alendronate in the gut lumen")
    plasma = m.state("alendronate_plasma", "mg", "alendronate in plasma and extracellular fluid")
    bone = m.state("alendronate_bone", "mg", "alendronate bound to bone")
    urine = m.state("alendronate_urine", "mg", "alendronate excreted in urine, cumulative", accumulator=True)
    faeces = m.state("alendronate_faeces", "mg", "unabsorbed alendronate, cumulative", accumulator=True)
    uptake(m, "alendronate", gut, p("ka_alendronate", "1/day"), p("f_alendronate", "1"), plasma, faeces, "mg/day", "",
           loss_description="")
    k = p("k_alendronate_plasma", "1/day")
    to_bone = p("f_bone_alendronate", "1")
    m.flux("alendronate_uptake", to_bone * k * plasma, plasma, bone, "mg/day", "binding to bone mineral")
    m.flux("alendronate_excretion", (1 - to_bone) * k * plasma, plasma, urine, "mg/day", "renal excretion")
    m.flux("alendronate_release", p("k_alendronate_bone", "1/day") * bone, bone, plasma, "mg/day",
           "release as bone is resorbed and remodelled")
    m.dose_target("alendronate", gut, "mg", 1.0, MAX_DOSE)
    m.observable("alendronate_bone", bone, "mg", "alendronate retained in the skeleton")
    bound = sp.Max(bone, 0)  # the amount is never negative; the clip keeps the steady-state search away from the pole
    return m.let("alendronate_effect", 1 + p("emax_alendronate", "1") * bound / (bound + p("ab50_alendronate", "mg")),
                 "1", "multiplier on osteoclast apoptosis from bound alendronate")
