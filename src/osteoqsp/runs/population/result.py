"""A finished population run: its summary in memory, per-subject time courses on disk; tables, figures and
provenance."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from osteoqsp.engine import SolverSettings
from osteoqsp.model.parameters import variability
from osteoqsp.runs.results import FIGURE_GROUPS, SPEC_OBSERVABLES, label_panel, panel_grid, time_axis
from osteoqsp.runs.scenario import Scenario

PERCENTILES = (5, 25, 50, 75, 95)


@dataclass
class PopulationResult:
    """A finished population run: the summary in memory, per-subject time courses in outdir."""

    scenario: Scenario
    outdir: Path
    n_subjects: int
    time_day: np.ndarray
    observable_names: list[str]
    observable_units: dict[str, str]
    summary: pd.DataFrame
    failures: list[dict[str, Any]] = field(default_factory=list)
    wall_s: float = 0.0  # the chunks (sampling, burn-in, solve, chunk files)
    timings_s: dict[str, float] = field(default_factory=dict)  # seconds by phase of the run
    events: pd.DataFrame | None = None  # subject, event, time_day (NaN: none by the end); None: no hazards
    uncertainty: pd.DataFrame | None = None  # with `uncertainty: {draws: N}`: uncertainty.csv (see run.py)

    @property
    def draws(self) -> int:
        pop = self.scenario.population
        return pop.draws if pop is not None else 1

    def by_draw(self, values: np.ndarray) -> np.ndarray:
        """(subject, ...) values as (draw, person, ...): subject = draw x people + person."""
        return values.reshape(self.draws, self.n_subjects // self.draws, *values.shape[1:])

    def event_times(self, hazard: str) -> np.ndarray:
        """Time (day) of each subject's first event of `hazard`: inf when none by the end, NaN for failed
        subjects."""
        if self.events is None or hazard not in set(self.events["event"]):
            raise KeyError(f"no events of {hazard!r} in this run")
        out = np.full(self.n_subjects, np.nan)
        rows = self.events[self.events["event"] == hazard]
        out[rows["subject"].to_numpy()] = np.where(rows["time_day"].isna(), np.inf, rows["time_day"])
        return out

    def to_pandas(self) -> pd.DataFrame:
        """The long table: subject, time_day, observable, value."""
        return pd.read_parquet(self.outdir / "timecourse.parquet")

    def values_of(self, observable: str) -> np.ndarray:
        """(subject, time) array of one observable; NaN rows for failed subjects."""
        import pyarrow.parquet as pq

        t = pq.read_table(self.outdir / "timecourse.parquet", filters=[("observable", "=", observable)])
        df = t.select(["subject", "time_day", "value"]).to_pandas()
        wide = df.pivot(index="subject", columns="time_day", values="value")
        return wide.reindex(index=range(self.n_subjects), columns=self.time_day).to_numpy()

    def to_xarray(self):  # noqa: ANN201 (xarray is imported lazily)
        import xarray as xr

        return xr.Dataset({n: (("subject", "time_day"), self.values_of(n), {"units": self.observable_units[n]})
                           for n in self.observable_names},
                          coords={"subject": np.arange(self.n_subjects), "time_day": self.time_day})

    def plot(self, names: tuple[str, ...], title: str = ""):  # noqa: ANN201
        names = tuple(n for n in names if n in set(self.summary["observable"]))
        fig, axes = panel_grid(len(names))
        scale, xlabel = time_axis(self.time_day)
        for ax, n in zip(axes, names):
            q = self.summary[self.summary["observable"] == n]
            x = q["time_day"] * scale
            ax.fill_between(x, q["p05"], q["p95"], alpha=0.2, color="tab:blue", label="5-95 %")
            ax.fill_between(x, q["p25"], q["p75"], alpha=0.35, color="tab:blue", label="25-75 %")
            ax.plot(x, q["p50"], color="tab:blue", label="median")
            label_panel(ax, n, self.observable_units[n], xlabel)
        if names:
            axes[0].legend(fontsize=8)
        fig.suptitle(title or f"{self.scenario.name}: {self.n_subjects} subjects")
        return fig

    def spaghetti(self, names: tuple[str, ...], n_subjects: int = 50, title: str = "",
                  parquet: Path | None = None):  # noqa: ANN201
        """One thin line per subject (the first n_subjects) with the median over all subjects on top."""
        import pyarrow.parquet as pq

        names = tuple(n for n in names if n in set(self.summary["observable"]))
        table = pq.read_table(parquet or self.outdir / "timecourse.parquet",
                              filters=[("subject", "<", n_subjects), ("observable", "in", list(names))])
        df = table.to_pandas()
        df["observable"] = df["observable"].astype(str)
        fig, axes = panel_grid(len(names))
        scale, xlabel = time_axis(self.time_day)
        for ax, n in zip(axes, names):
            wide = df[df["observable"] == n].pivot(index="time_day", columns="subject", values="value")
            ax.plot(wide.index * scale, wide.to_numpy(), color="tab:blue", lw=0.5, alpha=0.35)
            q = self.summary[self.summary["observable"] == n]
            ax.plot(q["time_day"] * scale, q["p50"], color="black", lw=1.5, label=f"median of {self.n_subjects}")
            label_panel(ax, n, self.observable_units[n], xlabel)
        if names:
            axes[0].legend(fontsize=8)
        shown = min(n_subjects, self.n_subjects)
        fig.suptitle(title or f"{self.scenario.name}: {shown} of {self.n_subjects} subjects, one line each")
        return fig


SPAGHETTI = ("mk7_serum", "ucoc_ratio", "dp_ucmgp", "bmd_lumbar_spine", "bmd_femoral_neck", "bmd_total_hip")



def plot_uncertainty(result: PopulationResult, names: tuple[str, ...]):  # noqa: ANN201
    """Per observable: the population mean's 90 % band over the parameter draws (uncertainty) inside the
    90 % band between people (variability, averaged over the draws)."""
    assert result.uncertainty is not None
    u = result.uncertainty
    names = tuple(n for n in names if n in set(u["observable"]))
    fig, axes = panel_grid(len(names))
    scale, xlabel = time_axis(result.time_day)
    for ax, n in zip(axes, names):
        q = u[u["observable"] == n]
        x = q["time_day"] * scale
        ax.fill_between(x, q["between_people_p05"], q["between_people_p95"], alpha=0.2, color="tab:orange",
                        label="between people (5-95 %)")
        ax.fill_between(x, q["mean_p05"], q["mean_p95"], alpha=0.5, color="tab:blue",
                        label="population mean over draws (5-95 %)")
        ax.plot(x, q["mean_p50"], color="tab:blue", label="median over draws")
        label_panel(ax, n, result.observable_units[n], xlabel)
    if names:
        axes[0].legend(fontsize=7)
    fig.suptitle(f"{result.scenario.name}: uncertainty ({result.draws} parameter draws) and variability "
                 f"({result.n_subjects // result.draws} people)")
    return fig


def provenance(result: PopulationResult, typical: dict[str, float], settings: SolverSettings) -> dict[str, Any]:
    from osteoqsp import __version__

    sc = result.scenario
    return {"osteoqsp_version": __version__, "scenario": sc.to_dict(), "scenario_source": sc.source,
            "species": sc.species, "population": {"size": sc.population.size, "seed": sc.population.seed},
            "seed": sc.population.seed, "typical_parameters": typical, "variability_cv": variability(),
            "solver": {"method": settings.method, "rtol": settings.rtol, "atol": settings.atol},
            "subjects_failed": len(result.failures), "failures": result.failures[:1000],
            "wall_s": result.wall_s, "timings_s": result.timings_s,
            "units": {"time_day": "day", **result.observable_units}}


def write_figures(result: PopulationResult, folder: Path, parquet: Path) -> None:
    import matplotlib.pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)
    if len(result.failures) < result.n_subjects:  # some subject has a time course to draw
        fig = result.spaghetti(SPAGHETTI, parquet=parquet)
        fig.savefig(folder / "spaghetti.png", dpi=110)
        plt.close(fig)
    if result.uncertainty is not None:
        fig = plot_uncertainty(result, SPAGHETTI)
        fig.savefig(folder / "uncertainty.png", dpi=110)
        plt.close(fig)
    if result.events is not None and len(result.events):
        from osteoqsp.runs.population.events import plot_kaplan_meier

        hazards = list(dict.fromkeys(result.events["event"]))
        fig = plot_kaplan_meier({"all subjects": {h: result.event_times(h) for h in hazards}},
                                float(result.time_day[-1]),
                                f"{result.scenario.name}: first events, Kaplan-Meier, {result.n_subjects} subjects")
        fig.savefig(folder / "events.png", dpi=110)
        plt.close(fig)
    for group, names in FIGURE_GROUPS.items():
        present = tuple(n for n in names if n in result.observable_names and n in SPEC_OBSERVABLES)
        if present:
            fig = result.plot(present, title=f"{result.scenario.name}: {group.replace('_', ' ')}, "
                                             f"{result.n_subjects} subjects")
            fig.savefig(folder / f"{group}.png", dpi=110)
            plt.close(fig)
