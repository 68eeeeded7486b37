"""The model's relation between a treatment's total-hip BMD gain and its fracture risk reduction, against the
meta-regression of placebo-controlled osteoporosis trials (Bouxsein 2019 JBMR, 38 trials, 19 agents): "For a
2% or 6% improvement in total hip BMD, we might expect a 28% or 66% reduction in vertebral fracture risk"
and "a 16% or 40% reduction in hip fracture risk" (abstract; SOURCES.md). Their relation is read as log(RR)
linear in the gain through those two points; non-vertebral fractures had no significant association and
are not compared.

Each intervention is a virtual trial of one typical woman per arm: 70 years old, femoral-neck T-score -2.5,
3 years, against placebo; the model's risk ratio is the ratio of the arms' cumulative incidences. The model's
interventions are the ones it has (MK-7, menatetrenone); none reaches a 6 % total-hip gain, so the
comparison is made at each intervention's own gain.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pandas as pd

from osteoqsp.runs.scenario import Scenario
from osteoqsp.runs.simulation import simulate

# Bouxsein 2019: total-hip BMD gain (percentage points vs placebo) -> fracture risk reduction (fraction)
BOUXSEIN_2019 = {"vertebral": {2.0: 0.28, 6.0: 0.66}, "hip": {2.0: 0.16, 6.0: 0.40}}
YEARS = 3.0
INTERVENTIONS: dict[str, list[dict[str, Any]]] = {
    "MK-7 180 ug/day": [{"agent": "MK-7", "dose": "180 ug", "every": "1 day"}],
    "MK-7 1 mg/day": [{"agent": "MK-7", "dose": "1 mg", "every": "1 day"}],
    "menatetrenone 45 mg/day": [{"agent": "menatetrenone", "dose": "15 mg", "every": "8 hour"}],
}


def meta_regression_reduction(kind: str, gain: float) -> float:
    """Risk reduction (fraction) at a total-hip gain (percentage points), log(RR) linear through the two
    points Bouxsein 2019 quotes."""
    (g1, r1), (g2, r2) = sorted(BOUXSEIN_2019[kind].items())
    slope = (math.log(1 - r2) - math.log(1 - r1)) / (g2 - g1)
    return 1 - math.exp(math.log(1 - r1) + slope * (gain - g1))


def _woman(intake: list[dict[str, Any]]) -> Scenario:
    return Scenario.from_dict({"name": "fracture-relation",
                               "subject": {"sex": "female", "age": "70 year", "menopause_age": "51 year",
                                           "femoral_neck_tscore": -2.5},
                               "intake": intake, "duration": f"{YEARS} year", "save_every": "30 day"})


def fracture_relation() -> pd.DataFrame:
    """One row per intervention and fracture type: the model's total-hip, femoral-neck and lumbar-spine gains
    (points vs placebo), its risk reduction, the meta-regression's reduction at the same total-hip gain, and
    the residual (model - meta-regression, percentage points)."""
    placebo = simulate(_woman([]))
    rows = []
    for name, intake in INTERVENTIONS.items():
        r = simulate(_woman(intake))
        gain = {s: float(r[f"bmd_{s}"][-1] - placebo[f"bmd_{s}"][-1])
                for s in ("total_hip", "femoral_neck", "lumbar_spine")}
        for kind in BOUXSEIN_2019:
            model = 1 - float(r[f"fracture_{kind}_cumulative"][-1] / placebo[f"fracture_{kind}_cumulative"][-1])
            expected = meta_regression_reduction(kind, gain["total_hip"])
            rows.append({"intervention": name, "fracture": kind, "total_hip_gain": gain["total_hip"],
                         "femoral_neck_gain": gain["femoral_neck"], "lumbar_spine_gain": gain["lumbar_spine"],
                         "model_reduction": 100 * model, "meta_regression_reduction": 100 * expected,
                         "residual": 100 * (model - expected)})
    return pd.DataFrame(rows)


def plot_fracture_relation(table: pd.DataFrame, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    fig, axes = plt.subplots(1, 2, figsize=(9, 3.8))
    for ax, kind in zip(axes, BOUXSEIN_2019):
        g = np.linspace(0, 6.5, 50)
        ax.plot(g, [100 * meta_regression_reduction(kind, x) for x in g], color="grey",
                label="Bouxsein 2019 meta-regression")
        ax.scatter(list(BOUXSEIN_2019[kind]), [100 * v for v in BOUXSEIN_2019[kind].values()], color="grey")
        rows = table[table.fracture == kind]
        for _, row in rows.iterrows():
            ax.scatter(row.total_hip_gain, row.model_reduction, marker="s", label=f"model: {row.intervention}")
        ax.set_xlabel("total-hip BMD gain vs placebo (% points)")
        ax.set_ylabel(f"{kind} fracture risk reduction (%)")
        ax.grid(alpha=0.3)
        ax.set_title(f"{kind}: women of 70, T -2.5, {YEARS:g} years", fontsize=9)
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
