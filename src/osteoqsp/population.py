"""Virtual populations: inter-individual variability, chunked batched runs, outputs streamed to disk.

Each subject's parameters are the typical values times exp(eta), eta ~ N(0, log(1 + cv^2)), for the
parameters of `model/params/variability.csv`; subject i draws from a generator seeded by (seed, i). The
population runs in chunks: each chunk is settled
(burn-in per subject), solved in one compiled batched call, and appended to timecourse.parquet (long:
subject, time_day, observable, value). A subject whose burn-in or solve fails is reported (id, parameters,
reason), counted, and left out; the run goes on.
"""

from __future__ import annotations

import csv
import json
import math
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .engine import SolverSettings, SolveError, SteadyStateError
from .model import history_start
from .results import FIGURE_GROUPS, SPEC_OBSERVABLES
from .scenario import Scenario, dose_events
from .simulation import engine_for, parameter_values

PERCENTILES = (5, 25, 50, 75, 95)
MAX_IN_MEMORY_VALUES = 400_000_000  # float32 values kept for the percentile summary (1.6 GB)


def variability() -> dict[str, float]:
    """Parameter -> coefficient of variation (log-normal)."""
    text = resources.files("osteoqsp.model").joinpath("params", "variability.csv").read_text()
    rows = csv.DictReader(line for line in text.splitlines() if not line.startswith("#"))
    return {r["name"]: float(r["cv"]) for r in rows}


def sample_subjects(typical: dict[str, float], ids: np.ndarray, seed: int) -> list[dict[str, float]]:
    """Parameter sets for the subjects `ids`; subject i draws from a generator seeded by (seed, i), so a
    subject is the same whatever the chunking (and a resumed run draws the same subjects)."""
    cvs = {k: v for k, v in variability().items() if k in typical}
    names = sorted(cvs)
    omega = np.array([math.sqrt(math.log1p(cvs[n] ** 2)) for n in names])
    out = []
    for sid in ids:
        row = np.random.default_rng([seed, int(sid)]).standard_normal(len(names)) * omega
        values = dict(typical)
        for name, e in zip(names, row):
            values[name] = typical[name] * math.exp(e)
        out.append(values)
    return out


@dataclass
class PopulationResult:
    """Summary of a population run; the per-subject time courses are in `outdir/timecourse.parquet`."""

    scenario: Scenario
    outdir: Path
    time_day: np.ndarray
    observable_names: list[str]
    observable_units: dict[str, str]
    values: np.ndarray  # (subject, time, observable), float32; NaN for failed subjects
    failures: list[dict[str, Any]] = field(default_factory=list)
    wall_s: float = 0.0

    @property
    def n_subjects(self) -> int:
        return int(self.values.shape[0])

    def summary(self) -> pd.DataFrame:
        """time_day, observable, mean and percentiles over the subjects that were solved."""
        ok = ~np.isnan(self.values[:, 0, 0])
        if not ok.any():
            return pd.DataFrame(columns=["time_day", "observable", "mean"] + [f"p{p:02d}" for p in PERCENTILES])
        v = self.values[ok].astype(float)
        frames = []
        for j, name in enumerate(self.observable_names):
            q = np.percentile(v[:, :, j], PERCENTILES, axis=0)
            frames.append(pd.DataFrame({"time_day": self.time_day, "observable": name,
                                        "mean": v[:, :, j].mean(axis=0),
                                        **{f"p{p:02d}": q[i] for i, p in enumerate(PERCENTILES)}}))
        return pd.concat(frames, ignore_index=True)

    def to_xarray(self):  # noqa: ANN201 (xarray is imported lazily)
        import xarray as xr

        return xr.Dataset({n: (("subject", "time_day"), self.values[:, :, j],
                               {"units": self.observable_units[n]})
                           for j, n in enumerate(self.observable_names)},
                          coords={"subject": np.arange(self.n_subjects), "time_day": self.time_day})

    def plot(self, names: tuple[str, ...], title: str = ""):  # noqa: ANN201
        import matplotlib

        matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt

        names = tuple(n for n in names if n in self.observable_names)
        cols = min(3, len(names))
        rows = int(np.ceil(len(names) / cols))
        fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 2.9 * rows), squeeze=False)
        years = self.time_day[-1] > 400
        x = self.time_day / 365.25 if years else self.time_day
        ok = ~np.isnan(self.values[:, 0, 0])
        if not ok.any():
            names = ()
        for ax, n in zip(axes.flat, names):
            v = self.values[ok, :, self.observable_names.index(n)]
            q = np.percentile(v, PERCENTILES, axis=0)
            ax.fill_between(x, q[0], q[4], alpha=0.2, color="tab:blue", label="5-95 %")
            ax.fill_between(x, q[1], q[3], alpha=0.35, color="tab:blue", label="25-75 %")
            ax.plot(x, q[2], color="tab:blue", label="median")
            ax.set_title(n, fontsize=10)
            ax.set_ylabel(self.observable_units[n])
            ax.set_xlabel("time (year)" if years else "time (day)")
            ax.grid(alpha=0.3)
        if names:
            axes.flat[0].legend(fontsize=8)
        for ax in list(axes.flat)[len(names):]:
            ax.axis("off")
        fig.suptitle(title or f"{self.scenario.name}: {self.n_subjects} subjects")
        fig.tight_layout()
        return fig


def _progress(total: int):  # noqa: ANN202
    """A rich progress bar on a terminal; None (quiet) otherwise."""
    if not sys.stderr.isatty():
        return None
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    return Progress(TextColumn("subjects"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                    transient=True)


def run_population(scenario: Scenario, outdir: str | Path, *, chunk_size: int = 250,
                   settings: SolverSettings | None = None) -> PopulationResult:
    """Simulate `scenario.population.size` subjects and write timecourse.parquet, summary.csv, run.json and
    figures/*.png to outdir (written in a temporary sibling folder, then moved in place)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    if scenario.population is None:
        raise ValueError("the scenario has no population")
    settings = settings or SolverSettings()
    size, seed = scenario.population.size, scenario.population.seed
    eng = engine_for(scenario.species)
    typical = parameter_values(scenario)
    t_ref = history_start(scenario.species, typical)
    targets = {d.agent: (d.state, d.factor) for d in eng.model.dose_targets}
    events = dose_events(scenario, targets)
    t_out = scenario.output_times()
    names = list(eng.gen.observable_names)
    if size * t_out.size * len(names) > MAX_IN_MEMORY_VALUES:
        raise scenario.error(f"population: {size} subjects x {t_out.size} times is too large for the summary "
                             "kept in memory; use a coarser save_every or fewer subjects")
    values = np.full((size, t_out.size, len(names)), np.nan, dtype=np.float32)
    failures: list[dict[str, Any]] = []
    ev_t = np.array([e.time for e in events], dtype=float)
    ev_i = np.array([eng.state_index(e.state) for e in events], dtype=np.int64)
    ev_a = np.array([e.amount for e in events], dtype=float)
    outdir = Path(outdir)
    outdir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{outdir.name}.", dir=outdir.parent))
    schema = pa.schema([("subject", pa.int32()), ("time_day", pa.float64()),
                        ("observable", pa.dictionary(pa.int8(), pa.string())), ("value", pa.float64())])
    start = time.perf_counter()
    bar = _progress(size)
    try:
        writer = pq.ParquetWriter(tmp / "timecourse.parquet", schema)
        if bar is not None:
            bar.start()
            task = bar.add_task("subjects", total=size)
        for first in range(0, size, chunk_size):
            ids = np.arange(first, min(first + chunk_size, size))
            draws = sample_subjects(typical, ids, seed)
            y0s, ps, kept = [], [], []
            for sid, vals in zip(ids, draws):
                try:
                    y0, p = eng.baseline(eng.parameter_vector(vals), t_ref, settings)
                except (SteadyStateError, SolveError) as exc:
                    failures.append({"subject": int(sid), "reason": str(exc), "parameters": _drawn(vals, typical)})
                    continue
                y0s.append(y0)
                ps.append(p)
                kept.append(sid)
            if kept:
                n = len(kept)
                states, status, _ = eng.solve_batch(np.array(y0s), np.array(ps), t_out,
                                                    np.tile(ev_t, (n, 1)), np.tile(ev_i, (n, 1)),
                                                    np.tile(ev_a, (n, 1)), np.full(n, ev_t.size), settings)
                obs = eng.mod.observe_batch(t_out, states, np.array(ps))
                good = status < 2
                for k in np.flatnonzero(~good):
                    failures.append({"subject": int(kept[k]), "reason": f"solver status {int(status[k])}",
                                     "parameters": _drawn(draws[kept[k] - first], typical)})
                good_ids = np.array(kept)[good]
                values[good_ids] = obs[good].astype(np.float32)
                writer.write_table(_long_table(good_ids, t_out, names, obs[good], schema))
            if bar is not None:
                bar.update(task, advance=ids.size)
        writer.close()
        result = PopulationResult(scenario, outdir, t_out, names,
                                  {o.name: o.unit for o in eng.model.observables}, values, failures,
                                  time.perf_counter() - start)
        result.summary().to_csv(tmp / "summary.csv", index=False, float_format="%.8g")
        (tmp / "run.json").write_text(json.dumps(_provenance(result, typical, settings), indent=2, default=float))
        _figures(result, tmp / "figures")
        umask = os.umask(0)
        os.umask(umask)
        tmp.chmod(0o777 & ~umask)
        if outdir.exists():
            shutil.rmtree(outdir)
        tmp.rename(outdir)
    finally:
        if bar is not None:
            bar.stop()
        if tmp.exists():
            shutil.rmtree(tmp)
    return result


def _drawn(values: dict[str, float], typical: dict[str, float]) -> dict[str, float]:
    return {k: v for k, v in values.items() if v != typical[k]}


def _long_table(ids: np.ndarray, t_out: np.ndarray, names: list[str], obs: np.ndarray, schema):  # noqa: ANN001,ANN202
    import pyarrow as pa

    n_sub, n_t, n_obs = obs.shape
    subject = np.repeat(ids.astype(np.int32), n_t * n_obs)
    tday = np.tile(np.repeat(t_out, n_obs), n_sub)
    codes = np.tile(np.arange(n_obs, dtype=np.int8), n_sub * n_t)
    observable = pa.DictionaryArray.from_arrays(pa.array(codes), pa.array(names))
    return pa.Table.from_arrays([pa.array(subject), pa.array(tday), observable, pa.array(obs.reshape(-1))],
                                schema=schema)


def _provenance(result: PopulationResult, typical: dict[str, float], settings: SolverSettings) -> dict[str, Any]:
    from . import __version__

    sc = result.scenario
    return {"osteoqsp_version": __version__, "scenario": sc.to_dict(), "scenario_source": sc.source,
            "species": sc.species, "population": {"size": sc.population.size, "seed": sc.population.seed},
            "seed": sc.population.seed, "typical_parameters": typical, "variability_cv": variability(),
            "solver": {"method": settings.method, "rtol": settings.rtol, "atol": settings.atol},
            "subjects_failed": len(result.failures), "failures": result.failures[:1000],
            "wall_s": result.wall_s, "units": {"time_day": "day", **result.observable_units}}


def _figures(result: PopulationResult, folder: Path) -> None:
    import matplotlib.pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)
    for group, names in FIGURE_GROUPS.items():
        present = tuple(n for n in names if n in result.observable_names and n in SPEC_OBSERVABLES)
        if present:
            fig = result.plot(present, title=f"{result.scenario.name}: {group.replace('_', ' ')}, "
                                             f"{result.n_subjects} subjects")
            fig.savefig(folder / f"{group}.png", dpi=110)
            plt.close(fig)
