"""Layer 6 (human): from bone mineral density to fractures.

T-score per site, against a young-adult reference (g/cm2 mean and SD, named in the parameter table):
    BMD0 = mean + sd * (Tage(age0) + z0),   T(t) = (BMD0 * (1 + bmd_site/100) - mean) / sd
where Tage(age) is the mean T-score of women of that age (linear in age, fitted to the reference survey's age
groups) and z0 the subject's Z-score at the start (0: a woman at her age's mean; a population covariate).
The site's BMD change is the model's own (layer 5).

Hazard of a first fracture of each type (per year), with Z(t) = T(t) - Tage(age(t)), the subject's distance
from her age's mean in SD:
    h = I(age) * RR ** (-Z) * exp(-ln(RR)**2 / 2) * ucOC term
I(age) = I70 * exp(k * (age - 70)) is the registry incidence of the whole population of that age (fitted to
the registry's age bands), RR the gradient of risk per SD decrease of BMD (meta-analyses). The factor
exp(-ln(RR)**2 / 2) makes the hazard, averaged over a population whose Z is N(0, 1), the registry's: a woman at
her age's mean BMD has a lower hazard than the average woman of her age. Each type reads one site's BMD.

The ucOC term (switch `fracture_ucoc`, off by default): the odds ratio of hip fracture for an elevated ucOC
beyond what femoral-neck BMD explains, applied as OR ** s with s a smooth step of the ucOC / total OC ratio
around the threshold of elevation. Age advances with time whatever the `ageing` switch: the registry's
incidence is a property of calendar age, not a model parameter.
"""

from __future__ import annotations

import sympy as sp

from osteoqsp.symbolic.declare import ModelBuilder

TSCORE_SITES = ("femoral_neck", "lumbar_spine", "total_hip")
# fracture type -> (description, the site whose BMD sets its risk)
FRACTURE_TYPES = {"hip": ("hip fracture", "femoral_neck"),
                  "vertebral": ("clinical vertebral fracture", "lumbar_spine"),
                  "nonvertebral": ("non-vertebral fracture", "femoral_neck")}


def age_mean_tscore(site: str, age: sp.Expr | float, v) -> sp.Expr | float:  # noqa: ANN001
    """Mean T-score of women of `age` at `site`; v maps parameter names to values or symbols."""
    return v[f"tscore_age50_{site}"] + v[f"tscore_slope_{site}"] * (age - 50.0)


def declare(m: ModelBuilder, cycle: dict[str, sp.Symbol], mass_change: dict[str, sp.Expr]) -> None:
    """mass_change: site -> relative BMD change since the start (0 = baseline), from the read-outs."""
    if m.species != "human":
        return
    m.layer("fractures")
    p = m.p
    age0 = p("age0", "year")
    age = m.let("age_calendar", age0 + m.t / 365.25, "year", "calendar age (advances whatever the ageing switch)")
    z0 = p("bmd_zscore0", "1")
    v = {}
    for site in TSCORE_SITES:
        v[f"tscore_age50_{site}"] = p(f"tscore_age50_{site}", "1")
        v[f"tscore_slope_{site}"] = p(f"tscore_slope_{site}", "1/year")
    z = {}
    for site in TSCORE_SITES:
        mean, sd = p(f"bmd_ref_mean_{site}", "g/cm^2"), p(f"bmd_ref_sd_{site}", "g/cm^2")
        change = mass_change[site]
        t0 = age_mean_tscore(site, age0, v) + z0
        tscore = m.let(f"tscore_{site}", t0 * (1 + change) + change * mean / sd, "1",
                       f"{site.replace('_', ' ')} T-score")
        m.observable(f"tscore_{site}", tscore, "1", "BMD against the young-adult reference (SD units)")
        z[site] = tscore - age_mean_tscore(site, age, v)
    ucoc = m.switch("fracture_ucoc")
    steep = p("fx_ucoc_step_width", "1")
    elevated = 1 / (1 + sp.exp(-(1 - cycle["carb_oc"] - p("fx_ucoc_ratio_threshold", "1")) / steep))
    for kind, (description, site) in FRACTURE_TYPES.items():
        rate70 = p(f"fx_{kind}_rate70", "1/year")
        slope = p(f"fx_{kind}_age_slope", "1/year")
        rr = p(f"fx_{kind}_rr_per_sd", "1")
        hazard = rate70 * sp.exp(slope * (age - 70.0)) * rr ** (-z[site]) * sp.exp(-sp.log(rr) ** 2 / 2)
        if kind == "hip":
            hazard = hazard * p("fx_hip_ucoc_or", "1") ** (ucoc * elevated)
        m.hazard(f"fracture_{kind}", hazard, description)
