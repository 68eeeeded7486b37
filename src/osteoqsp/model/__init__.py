"""The biology, declared once: one module per layer of SPEC section 1, parameters in params/*.csv, the food
table in foods.csv. The built model also holds the vocabulary every other part reads: the agents that can be
dosed (with their units and largest doses), the switchable pathways, the diet agents and the population
covariates."""

from __future__ import annotations

from functools import lru_cache

import sympy as sp

from osteoqsp.model import (alendronate, bone_cells, covariates, denosumab, fractures, intake_pk, mineral_axis,
                            mk7_actions, readouts, teriparatide, vitamin_k_cycle)
from osteoqsp.model.foods import Food, food_table
from osteoqsp.symbolic.declare import Model, ModelBuilder
from osteoqsp.model.parameters import ParameterTable, load_parameters

SPECIES = ("human", "rat")


@lru_cache(maxsize=None)
def build_model(species: str) -> Model:
    if species not in SPECIES:
        raise ValueError(f"species must be one of {SPECIES}, not {species!r}")
    table = load_parameters(species)
    m = ModelBuilder(species, {name: row.unit for name, row in table.rows.items()})
    pk = intake_pk.declare(m)
    cycle = vitamin_k_cycle.declare(m, pk)
    act = mk7_actions.declare(m, pk, cycle)
    if species == "human":
        teri = teriparatide.declare(m)
        drugs = {"denosumab_conc": denosumab.declare(m), "alendronate_effect": alendronate.declare(m)}
        mineral = mineral_axis.declare(m, teri)
        drugs["pth_relative"] = mineral["pth_relative"]
    else:  # the rat model has no mineral axis or comparator drugs: PTH stays at its steady state
        drugs = {"pth_relative": sp.Integer(1), "denosumab_conc": sp.Integer(0), "alendronate_effect": sp.Integer(1)}
    cells = bone_cells.declare(m, act, pk["age"], drugs)
    out = readouts.declare(m, pk, cycle, act, cells)
    if species == "human":
        mineral_axis.declare_bone_exchange(m, mineral, out.formed["total_body"], out.resorbed["total_body"],
                                           out.mass["total_body"])
    fractures.declare(m, cycle, out.change)
    covariates.declare(m)
    return m.build()


def mk7_pathways(species: str) -> tuple[str, ...]:
    """The switchable actions of vitamin K on bone (the switches of the mk7_actions layer); the model's other
    switches (e.g. fracture_ucoc) are not vitamin K pathways."""
    model = build_model(species)
    return tuple(w.name for w in model.switches if model.layer_of[w.parameter] == "mk7_actions")


def history_start(species: str, values: dict[str, float]) -> float:
    """Model time (day, <= 0) at which the subject is still at homeostasis: before the menopausal
    transition (human) or before an ovariectomy done before the scenario (rat). The burn-in settles the
    model there and simulates the subject's history up to the start of the scenario."""
    if species == "human" and values.get("postmenopausal", 0.0) > 0:
        onset = values["menopause_age"] - values["menopause_duration"]
        return min(0.0, (onset - 1.0 - values["age0"]) * 365.25)
    if species == "rat" and values.get("ovariectomised", 0.0) > 0 and values["ovx_day"] < 0:
        return values["ovx_day"] - 1.0
    return 0.0


__all__ = ["Food", "Model", "ParameterTable", "build_model", "food_table", "load_parameters", "SPECIES",
           "history_start", "mk7_pathways"]
