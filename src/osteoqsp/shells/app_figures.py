"""What the dashboard shows: groups of observables, labels with units, key numbers, the evidence of a study
against a result, and the figures. Pure (pandas and matplotlib imported where used), tested without a browser
(tests/test_app.py).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

    from osteoqsp.runs.results import Result

GROUPS = {
    "Serum vitamers": ("mk7_serum", "k1_serum", "mk4_serum"),
    "Carboxylation and INR": ("ucoc_ratio", "dp_ucmgp", "inr", "ucoc", "coc", "oc_total"),
    "Bone cells and markers": ("osteoblasts", "osteoclasts", "rankl", "opg", "nfkb", "alp", "p1np", "ctx"),
    "BMD": ("bmd_lumbar_spine", "bmd_femoral_neck", "bmd_total_hip", "bmd_total_body",
            "femur_bmd", "femur_calcium", "femur_dry_weight", "tibia_bvtv"),
    "Fracture risk": ("fracture_hip_cumulative", "fracture_vertebral_cumulative", "fracture_nonvertebral_cumulative",
                      "tscore_femoral_neck", "tscore_lumbar_spine", "tscore_total_hip"),
    "Mineral axis and drugs": ("calcium_plasma", "pth_plasma", "calcitriol_plasma", "calcifediol_serum",
                               "denosumab_serum", "teriparatide_plasma", "alendronate_bone"),
}
LABELS = {
    "mk7_serum": "serum MK-7", "mk4_serum": "serum MK-4", "k1_serum": "serum K1", "oc_total": "total osteocalcin",
    "ucoc": "ucOC", "coc": "cOC", "ucoc_ratio": "ucOC / total OC", "dp_ucmgp": "dp-ucMGP", "inr": "INR",
    "osteoblasts": "osteoblasts", "osteoclasts": "osteoclasts", "rankl": "RANKL", "opg": "OPG",
    "nfkb": "NF-kB activity", "alp": "ALP (formation)", "p1np": "P1NP (formation)", "ctx": "CTX (resorption)",
    "bmd_lumbar_spine": "lumbar spine BMD", "bmd_femoral_neck": "femoral neck BMD",
    "bmd_total_hip": "total hip BMD", "bmd_total_body": "total body BMD", "femur_bmd": "femur BMD",
    "femur_calcium": "femur calcium", "femur_dry_weight": "femur dry weight", "tibia_bvtv": "tibia BV/TV",
    "fracture_hip_cumulative": "hip fracture risk", "fracture_vertebral_cumulative": "clinical vertebral fracture risk",
    "fracture_nonvertebral_cumulative": "non-vertebral fracture risk",
    "tscore_femoral_neck": "femoral neck T-score", "tscore_lumbar_spine": "lumbar spine T-score",
    "tscore_total_hip": "total hip T-score",
    "calcium_plasma": "plasma calcium", "pth_plasma": "PTH", "calcitriol_plasma": "calcitriol",
    "calcifediol_serum": "25(OH)D", "denosumab_serum": "serum denosumab", "teriparatide_plasma": "plasma teriparatide",
    "alendronate_bone": "alendronate in bone",
}
CAPTIONS = {
    "Serum vitamers": "Total serum concentrations. With daily output each point is at that day's dose time, "
                      "before the dose (troughs); the last point, at the end of the scenario, can fall between doses.",
    "Carboxylation and INR": "ucOC / total OC and INR are ratios (1); osteocalcin in ng/mL, dp-ucMGP in pmol/L. "
                             "Black points: evidence of the chosen study (bars: its interval).",
    "Bone cells and markers": "Each relative to the subject's own baseline at the start (1 = baseline).",
    "BMD": "Bone mineral density per site, % change from the start of the scenario (rat: femur, % change; "
           "tibial BV/TV, % of tissue volume).",
    "Fracture risk": "Probability of a first fracture since the start, from the hazard by age (registry incidence) "
                     "and BMD (the gradient per SD of the meta-analyses), and the T-scores it reads (the subject's "
                     "start: her age's mean unless a femoral-neck T-score is given). The effect runs through BMD only.",
    "Mineral axis and drugs": "Plasma calcium (mM), PTH and calcitriol (pM), 25(OH)D (nM); the drugs: serum "
                              "denosumab (ng/mL), plasma teriparatide (pM), alendronate bound to bone (mg). With "
                              "daily output the points fall before each day's doses (troughs).",
}
RELATIVE = ("osteoblasts", "osteoclasts", "rankl", "opg", "nfkb", "alp", "p1np", "ctx")
CHANGE = ("bmd_lumbar_spine", "bmd_femoral_neck", "bmd_total_hip", "bmd_total_body", "femur_bmd",
          "femur_calcium", "femur_dry_weight")


def unit_text(name: str, unit: str) -> str:
    if name.endswith("_cumulative"):
        return "probability since start, 0-1"
    if name.startswith("tscore_"):
        return "SD units"
    if name in RELATIVE:
        return "relative to baseline (1)"
    if name in CHANGE:
        return "% change from start"
    if name == "tibia_bvtv":
        return "% of tissue volume"
    return "ratio (1)" if unit == "1" else unit


def fmt(x: float) -> str:
    """3 significant digits, without an exponent between 0.001 and 1e6."""
    if x == 0 or not math.isfinite(x) or not 1e-3 <= abs(x) < 1e6:
        return f"{x:.3g}"
    return f"{x:.{max(0, 2 - math.floor(math.log10(abs(x))))}f}"


def axis_label(name: str, unit: str) -> str:
    return f"{LABELS.get(name, name)} ({unit_text(name, unit)})"


KEY_NUMBERS = {
    "human": ("bmd_lumbar_spine", "bmd_femoral_neck", "fracture_hip_cumulative", "ucoc_ratio", "dp_ucmgp", "inr",
              "mk7_serum", "tscore_femoral_neck", "fracture_nonvertebral_cumulative"),
    "rat": ("femur_bmd", "tibia_bvtv", "ctx", "ucoc_ratio", "osteoclasts", "mk7_serum"),
}


def key_label(name: str, unit: str) -> str:
    what = LABELS.get(name, name)
    if name in CHANGE:
        return f"{what} change at end (%)"
    if name in RELATIVE:
        return f"{what} at end (1 = baseline)"
    return f"{what} at end ({'1' if unit == '1' else unit_text(name, unit)})"


def key_number(name: str, unit: str, y: Any) -> tuple[str, str, str | None]:
    """(label, value, delta) of a key number: the value at the end, with its start for levels."""
    shown = "%" if name in CHANGE or name == "tibia_bvtv" else ("" if unit == "1" else unit)
    if name in CHANGE:
        return key_label(name, unit), f"{y[-1]:+.2f} %", None
    return key_label(name, unit), f"{fmt(y[-1])} {shown}".strip(), f"start: {fmt(y[0])} {shown}".strip()


def study_evidence(study: str, result: Result) -> pd.DataFrame:
    """The evidence targets mapped to this built-in study (evidence/validation.yaml) against this result."""
    import pandas as pd

    from osteoqsp.analyses.evidence import interval, measure, targets, validation_spec

    rows = targets()
    out = []
    for item in validation_spec():
        if item["scenario"] != study or item.get("parameters"):
            continue
        row = rows[item["target"] - 1]
        low, high, how = interval(row)
        sim = measure(result, item["measure"], item)
        out.append({"target": item["target"], "study": row["study"], "endpoint": row["endpoint"],
                    "observed": float(row["value"]), "low": low, "high": high, "interval": how,
                    "simulated": sim, "unit": row["unit"], "inside": low <= sim <= high,
                    "measure": item["measure"]})
    return pd.DataFrame(out)


def evidence_points(evidence: pd.DataFrame, result: Result) -> dict[str, list[tuple[float, float, float, float]]]:
    """observable -> [(time_day, observed, low, high)] in the observable's unit, for the targets read as a value
    at a time or a change from the start."""
    points: dict[str, list[tuple[float, float, float, float]]] = {}
    for row in evidence.itertuples() if len(evidence) else ():
        m = row.measure
        if m["observable"] not in result.observable_names:
            continue
        if m["kind"] == "value_at":
            f = m.get("factor", 1.0)
            pt = (m["time_day"], row.observed / f, row.low / f, row.high / f)
        elif m["kind"] == "pct_change":
            y0 = float(result[m["observable"]][0])
            pt = (m["time_day"], *(y0 * (1 + v / 100) for v in (row.observed, row.low, row.high)))
        else:
            continue
        points.setdefault(m["observable"], []).append(pt)
    return points


def figure(result: Result, names: tuple[str, ...], summary: pd.DataFrame | None = None,
           points: dict[str, list[tuple[float, float, float, float]]] | None = None) -> Figure:
    """One panel per observable: the typical subject, population bands (5-95 %, 25-75 %) and evidence."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    names = tuple(n for n in names if n in result.observable_names)
    cols = 2 if len(names) in (1, 2, 4) else 3
    rows = max(1, math.ceil(len(names) / cols))
    fig = Figure(figsize=(10, (3.2 if cols == 2 else 2.6) * rows), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False)
    years = result.time_day[-1] > 400
    scale = 365.25 if years else 1.0
    for ax, n in zip(axes.flat, names):
        if summary is not None:
            q = summary[summary["observable"] == n]
            x = q["time_day"] / scale
            ax.fill_between(x, q["p05"], q["p95"], alpha=0.18, color="tab:blue", lw=0, label="population 5-95 %")
            ax.fill_between(x, q["p25"], q["p75"], alpha=0.3, color="tab:blue", lw=0, label="population 25-75 %")
        ax.plot(result.time_day / scale, result[n], color="tab:blue", label="typical subject")
        for t, obs, lo, hi in (points or {}).get(n, []):
            ax.errorbar([t / scale], [obs], yerr=[[obs - lo], [hi - obs]], fmt="o", color="black", ms=5,
                        capsize=3, label="evidence")
        ax.set_title(LABELS.get(n, n), fontsize=10)
        ax.set_ylabel(unit_text(n, result.observable_units[n]), fontsize=9)
        ax.set_xlabel("time (year)" if years else "time (day)", fontsize=9)
        ax.grid(alpha=0.3)
        ax.ticklabel_format(axis="y", useOffset=False)
        _min_span(ax, 0.2 if n in CHANGE else 0.02, nonnegative=n not in CHANGE)
        if (summary is not None and ax is axes.flat[0]) or (points or {}).get(n):
            ax.legend(fontsize=7)
    for ax in list(axes.flat)[len(names):]:
        ax.axis("off")
    return fig


def _min_span(ax: Any, rel: float, nonnegative: bool) -> None:
    """Keep a flat line flat: at least `rel` of its level (or `rel` itself near 0) between the y limits."""
    lo, hi = ax.get_ylim()
    mid = (lo + hi) / 2
    span = rel * abs(mid) if abs(mid) > 1 else rel
    if hi - lo < span:
        lo, hi = mid - span / 2, mid + span / 2
        ax.set_ylim(*((0.0, span) if nonnegative and lo < 0 else (lo, hi)))
