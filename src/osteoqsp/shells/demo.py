"""`make demo`: the Knapen 2013 question for a typical 58-year-old woman, 7 years after menopause:
placebo against 180 ug/day MK-7 for 3 years. Reads the two simulate outputs and draws them together."""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

PANELS = (("mk7_serum", "serum MK-7 (ng/mL)"), ("ucoc_ratio", "ucOC / total OC"),
          ("osteoclasts", "osteoclasts (rel. baseline)"), ("osteoblasts", "osteoblasts (rel. baseline)"),
          ("bmd_lumbar_spine", "lumbar spine BMD (% change)"), ("bmd_femoral_neck", "femoral neck BMD (% change)"))


def main(outdir: str) -> None:
    out = Path(outdir)
    arms = {"placebo": pd.read_csv(out / "placebo" / "timecourse.csv"),
            "MK-7 180 ug/day": pd.read_csv(out / "mk7" / "timecourse.csv")}
    fig, axes = plt.subplots(2, 3, figsize=(13, 7))
    for ax, (col, label) in zip(axes.flat, PANELS):
        for arm, df in arms.items():
            ax.plot(df["time_day"] / 365.25, df[col], label=arm)
        ax.set_title(label, fontsize=10)
        ax.set_xlabel("time (year)")
        ax.grid(alpha=0.3)
    axes.flat[0].legend()
    fig.suptitle("Knapen 2013 question: woman of 58, menopause at 51, placebo vs MK-7 180 ug/day for 3 years")
    fig.tight_layout()
    fig.savefig(out / "knapen2013-placebo-vs-mk7.png", dpi=110)
    # the last trough (just before a daily dose), so that both arms are read at the same phase of dosing
    trough = {arm: df[df["time_day"] <= 3 * 365].iloc[-1] for arm, df in arms.items()}
    end = trough
    lines = [f"# values at day {trough['placebo']['time_day']:g}, before that day's dose",
             "observable,placebo,mk7_180ug,difference"]
    for col, _ in PANELS:
        a, b = end["placebo"][col], end["MK-7 180 ug/day"][col]
        lines.append(f"{col},{a:.4g},{b:.4g},{b - a:.4g}")
    (out / "summary-3y.csv").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    print(f"figure: {out / 'knapen2013-placebo-vs-mk7.png'}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "out/demo")
