"""The characteristics that vary between the subjects of a virtual population (`population.covariates` of a
scenario), and what each sets. Drawn in this order, after the subject's random effects."""

from __future__ import annotations

from collections.abc import Mapping

from osteoqsp.model.foods import food_table
from osteoqsp.model.fractures import age_mean_tscore
from osteoqsp.symbolic.declare import ModelBuilder


def _age(v: Mapping[str, float], x: float) -> dict[str, float]:
    return {"age0": min(x, 120.0)}


def _body_weight(v: Mapping[str, float], x: float) -> dict[str, float]:
    return {"body_weight": min(max(x, 0.1 * v["body_weight_ref"]), 300.0)}


def _natto(v: Mapping[str, float], x: float) -> dict[str, float]:
    """g/week of natto -> ug/day of MK-7 added to the habitual intake (the packaged table's typical natto)."""
    return {"intake_mk7": v["intake_mk7"] + x / 7.0 * food_table()["natto"].content_ug_per_100g / 100.0}


def _fn_tscore(v: Mapping[str, float], x: float) -> dict[str, float]:
    """Femoral-neck T-score at the start -> the subject's Z-score against women of her age."""
    return {"bmd_zscore0": x - age_mean_tscore("femoral_neck", v["age0"], v)}


def _fn_bmd(v: Mapping[str, float], x: float) -> dict[str, float]:
    return _fn_tscore(v, (x - v["bmd_ref_mean_femoral_neck"]) / v["bmd_ref_sd_femoral_neck"])


def declare(m: ModelBuilder) -> None:
    m.layer("covariates")
    m.covariate("age", "year", "age at the start of the scenario", update=_age)
    m.covariate("menopause_age", "year", "age at the final menstrual period",
                update=lambda v, x: {"menopause_age": x})
    m.covariate("intake_k1", "ug/day", "habitual dietary K1", update=lambda v, x: {"intake_k1": x})
    m.covariate("intake_mk7", "ug/day", "habitual dietary MK-7", update=lambda v, x: {"intake_mk7": x})
    m.covariate("natto", "g/week", "habitual natto, on top of intake_mk7", update=_natto)
    m.covariate("body_weight", "kg", "body weight", update=_body_weight)
    m.covariate("warfarin_dose", "mg/day", "each subject's warfarin dose (scales the scenario's regimen)",
                scales_doses_of="warfarin")
    if m.species == "human":  # after age: the BMD covariates read the subject's age
        m.covariate("bmd_zscore", "1", "BMD Z-score at the start against women of the same age (all sites)",
                    update=lambda v, x: {"bmd_zscore0": x}, signed=True)
        m.covariate("femoral_neck_tscore", "1", "femoral-neck T-score at the start (sets the Z-score)",
                    update=_fn_tscore, signed=True)
        m.covariate("femoral_neck_bmd", "g/cm^2", "femoral-neck BMD at the start (sets the Z-score)",
                    update=_fn_bmd)
