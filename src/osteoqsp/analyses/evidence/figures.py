"""`overview_figure`: every comparison in one figure, observed and simulated against the interval;
`study_figures`: one figure per study, each target's simulated curve against its observed value."""

from __future__ import annotations

import math
import re
from pathlib import Path

from osteoqsp.analyses.evidence.comparisons import Comparison
from osteoqsp.analyses.evidence.measures import Curve, curve, measure_of
from osteoqsp.analyses.evidence.runs import RunKey, run


def _curve(c: Comparison) -> Curve:
    """The simulated curve a comparison reads its number from (see `measures.Curve`)."""
    item = c.item
    return curve(run(RunKey.of(item, item.get("overrides"))), item["measure"], item, c.unit)


def overview_figure(comparisons: list[Comparison], path: str | Path) -> Path:
    """One row per comparison (the `validation.png` of `osteoqsp validate`): its interval, the observed and the
    simulated value, each divided by the largest of |observed| and the bounds; the simulated in red if outside."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = len(comparisons)
    fig, ax = plt.subplots(figsize=(9, 0.32 * n + 1.5))
    for i, c in enumerate(comparisons):
        scale = max(abs(c.observed), abs(c.low), abs(c.high), 1e-12)
        lo, hi, obs, sim = (x / scale for x in (c.low, c.high, c.observed, c.simulated))
        ax.plot([lo, hi], [i, i], color="0.6", lw=4, solid_capstyle="butt")
        ax.plot(obs, i, "o", color="black", ms=4)
        ax.plot(sim, i, "D", color="tab:blue" if c.inside else "tab:red", ms=5)
    ax.set_yticks(range(n), [f"{c.target} {c.study[:18]}: {c.endpoint[:30]}" for c in comparisons], fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("value / largest |observed or bound|\ngrey: interval, dot: observed, "
                  "diamond: simulated (red: outside)")
    ax.grid(alpha=0.3, axis="x")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return Path(path)


def study_figures(comparisons: list[Comparison], folder: str | Path) -> list[Path]:
    """One figure per study: each target's simulated curve, with the observed value and its interval as an
    error bar where the target is a point of that curve, or observed against simulated in the panel's title
    for derived numbers (time of the maximum, half-life, rates)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    by_study: dict[str, list[Comparison]] = {}
    for c in comparisons:
        by_study.setdefault(c.study, []).append(c)
    files = []
    for study, cs in by_study.items():
        cols = min(3, len(cs))
        rows = int(math.ceil(len(cs) / cols))
        fig, axes = plt.subplots(rows, cols, figsize=(4.3 * cols, 3.1 * rows), squeeze=False)
        for ax, c in zip(axes.flat, cs):
            t, y, label, on_curve = _curve(c)
            scale, xunit = (24.0, "h") if t[-1] <= 4 else ((1 / 365.25, "year") if t[-1] > 730 else (1.0, "day"))
            ax.plot(t * scale, y, color="tab:blue", lw=1.2, label=f"simulated ({c.scenario})")
            colour = "tab:green" if c.inside else "tab:red"
            if on_curve:
                x = c.item["measure"]["time_day"] * scale
                ax.errorbar([x], [c.observed], yerr=[[c.observed - c.low], [c.high - c.observed]], fmt="o",
                            color="black", capsize=3, label=f"observed ({c.interval})")
                ax.plot([x], [c.simulated], "D", color=colour, ms=5, label="simulated value")
            elif measure_of(c.item["measure"]["kind"]).time_h:  # times, in hours
                ax.axvline(c.observed / 24 * scale, color="black", ls="--", lw=1, label=f"observed ({c.unit})")
                ax.axvspan(c.low / 24 * scale, c.high / 24 * scale, color="0.85", label="interval")
                ax.axvline(c.simulated / 24 * scale, color=colour, lw=1, label="simulated")
            if "threshold" in c.item["measure"]:
                ax.axhline(c.item["measure"]["threshold"], color="0.4", ls=":", lw=1, label="detection limit")
            ax.set_title(f"target {c.target}: {c.endpoint[:40]}\nobserved {c.observed:g}, simulated "
                         f"{c.simulated:.3g} {c.unit} ({'inside' if c.inside else 'OUTSIDE'})", fontsize=8,
                         color="black" if c.inside else "tab:red")
            ax.set_xlabel(f"time ({xunit})", fontsize=8)
            ax.set_ylabel(label, fontsize=8)
            ax.grid(alpha=0.3)
            ax.legend(fontsize=6)
        for ax in list(axes.flat)[len(cs):]:
            ax.axis("off")
        fig.suptitle(study, fontsize=10)
        fig.tight_layout()
        files.append(folder / f"{re.sub(r'[^A-Za-z0-9_-]', '_', study)}.png")
        fig.savefig(files[-1], dpi=100)
        plt.close(fig)
    return files
