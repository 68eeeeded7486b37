"""Result of a simulation: tables (pandas, xarray), figures, provenance, files."""

from __future__ import annotations

import json
import platform
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    import xarray as xr
    from matplotlib.figure import Figure

    from osteoqsp.engine import SolverSettings
    from osteoqsp.runs.scenario import DoseEvent, Scenario

SPEC_OBSERVABLES = (
    "mk7_serum", "mk4_serum", "k1_serum", "oc_total", "ucoc", "coc", "ucoc_ratio", "dp_ucmgp", "inr",
    "osteoblasts", "osteoclasts", "rankl", "opg", "nfkb", "alp", "ctx",
    "bmd_lumbar_spine", "bmd_femoral_neck", "bmd_total_hip", "bmd_total_body",
    "femur_dry_weight", "femur_calcium", "femur_bmd", "tibia_bvtv",
)

ABSOLUTE_FRACTIONS = ("ucoc_ratio", "inr", "hepatic_carboxylation", "estrogen")

FIGURE_GROUPS = {
    "serum_vitamers": ("mk7_serum", "k1_serum", "mk4_serum"),
    "carboxylation": ("ucoc_ratio", "ucoc", "coc", "dp_ucmgp", "inr"),
    "bone_cells": ("osteoblasts", "osteoclasts", "rankl", "opg", "nfkb", "alp", "ctx"),
    "bone_mass": ("bmd_lumbar_spine", "bmd_femoral_neck", "bmd_total_hip", "bmd_total_body",
                  "femur_dry_weight", "tibia_bvtv"),
}


def panel_grid(n: int) -> tuple[Figure, list]:  # type: ignore[type-arg]
    """A figure of n panels, up to 3 a row (4.2 x 2.9 in each) with fixed margins; the spare axes of the last row
    hidden."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    cols = min(3, max(1, n))
    rows = max(1, int(np.ceil(n / cols)))
    width, height = 4.2 * cols, 2.9 * rows
    fig, axes = plt.subplots(rows, cols, figsize=(width, height), squeeze=False)
    # fixed margins in inches (tick labels and axis label at the left and bottom, a panel title above, the
    # figure's title on top): what tight_layout would find, without the extra drawing pass it costs
    left, right, bottom, top = 0.85, 0.2, 0.55, 0.4
    fig.subplots_adjust(left=left / width, right=1 - right / width, bottom=bottom / height,
                        top=1 - (top + 0.3) / height, wspace=(left + right) / (4.2 - left - right),
                        hspace=(bottom + top) / (2.9 - bottom - top - 0.3 / rows))
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    return fig, list(axes.flat)[:n]


def label_panel(ax, title: str, ylabel: str, xlabel: str) -> None:  # noqa: ANN001 (a matplotlib Axes)
    """The common dressing of a time-course panel: title, axis labels, light grid."""
    ax.set_title(title, fontsize=10)
    ax.set_ylabel(ylabel)
    ax.set_xlabel(xlabel)
    ax.grid(alpha=0.3)


def time_axis(time_day: np.ndarray) -> tuple[float, str]:
    """Factor from day and label of the time axis: years beyond 400 days."""
    return (1 / 365.25, "time (year)") if time_day[-1] > 400 else (1.0, "time (day)")


@dataclass
class Result:
    scenario: Scenario
    time_day: np.ndarray
    observables: np.ndarray  # (time, observable)
    observable_names: list[str]
    observable_units: dict[str, str]
    states: np.ndarray  # (time, state)
    state_names: list[str]
    parameters: dict[str, float]
    events: list[DoseEvent]
    settings: SolverSettings
    solver_status: int
    solver_steps: int

    def __getitem__(self, name: str) -> np.ndarray:
        if name in self.observable_names:
            return self.observables[:, self.observable_names.index(name)]
        if name in self.state_names:
            return self.states[:, self.state_names.index(name)]
        raise KeyError(f"{name!r} is neither an observable nor a state")

    def at(self, name: str, t_day: float) -> float:
        """Value of an observable or state at time t (linear interpolation on the output grid)."""
        return float(np.interp(t_day, self.time_day, self[name]))

    def spec_columns(self) -> list[str]:
        """The observables of SPEC 3.2 this species has, in the SPEC's order, then the extra ones."""
        spec = [n for n in SPEC_OBSERVABLES if n in self.observable_names]
        return spec + [n for n in self.observable_names if n not in spec]

    def to_pandas(self) -> pd.DataFrame:
        """Wide table: time_day, then one column per observable (named as in SPEC 3.2)."""
        cols = self.spec_columns()
        df = pd.DataFrame({"time_day": self.time_day})
        for c in cols:
            df[c] = self[c]
        df.attrs["units"] = {"time_day": "day", **{c: self.observable_units[c] for c in cols}}
        return df

    def to_xarray(self) -> xr.Dataset:
        import xarray as xr

        cols = self.spec_columns()
        ds = xr.Dataset({c: ("time_day", self[c], {"units": self.observable_units[c]}) for c in cols},
                        coords={"time_day": ("time_day", self.time_day, {"units": "day"})})
        ds.attrs["scenario"] = self.scenario.name
        return ds

    def provenance(self) -> dict[str, Any]:
        from osteoqsp import __version__

        return {
            "osteoqsp_version": __version__, "python": platform.python_version(),
            "scenario": self.scenario.to_dict(), "scenario_source": self.scenario.source,
            "species": self.scenario.species,
            "pathways": {k.removeprefix("sw_"): bool(v) for k, v in self.parameters.items() if k.startswith("sw_")},
            "parameters": self.parameters,
            "solver": {"method": self.settings.method, "rtol": self.settings.rtol, "atol": self.settings.atol,
                       "status": self.solver_status, "steps": self.solver_steps},
            "doses": len(self.events), "seed": None,
            "units": {"time_day": "day", **self.observable_units},
            "notes": ["subject.body_weight is recorded but not used by the model yet"]
            if self.scenario.subject.body_weight is not None else [],
        }

    def plot(self, names: tuple[str, ...] | None = None, title: str | None = None) -> Figure:
        import matplotlib

        matplotlib.use("Agg", force=False)

        names = tuple(n for n in (names or tuple(self.spec_columns()[:12])) if n in self.observable_names)
        fig, axes = panel_grid(len(names))
        scale, xlabel = time_axis(self.time_day)
        for ax, n in zip(axes, names):
            ax.plot(self.time_day * scale, self[n], color="tab:blue")
            unit = self.observable_units[n]
            label_panel(ax, n, "relative (1 = baseline)" if unit == "1" and n not in ABSOLUTE_FRACTIONS else unit,
                        xlabel)
            ax.ticklabel_format(axis="y", useOffset=False)
        fig.suptitle(title or self.scenario.name)
        fig.tight_layout()
        return fig

    def write(self, outdir: str | Path) -> list[Path]:
        """timecourse.csv, run.json and figures/*.png (written to a temporary folder, then moved)."""
        import matplotlib.pyplot as plt

        outdir = Path(outdir)
        files = []
        figdir = outdir / "figures"
        figdir.mkdir(parents=True, exist_ok=True)
        self.to_pandas().to_csv(outdir / "timecourse.csv", index=False, float_format="%.10g")
        files.append(outdir / "timecourse.csv")
        (outdir / "run.json").write_text(json.dumps(self.provenance(), indent=2, default=float))
        files.append(outdir / "run.json")
        for group, names in FIGURE_GROUPS.items():
            present = tuple(n for n in names if n in self.observable_names)
            if not present:
                continue
            fig = self.plot(present, title=f"{self.scenario.name}: {group.replace('_', ' ')}")
            path = figdir / f"{group}.png"
            fig.savefig(path, dpi=110)
            plt.close(fig)
            files.append(path)
        return files
