"""Virtual populations: inter-individual variability, chunked batched runs, outputs streamed to disk.

Each subject's parameters are the typical values times exp(eta), eta ~ N(0, log(1 + cv^2)), for the
parameters of `model/params/variability.csv`; subject i draws from a generator seeded by (seed, i). The
population runs in chunks: each chunk is settled (burn-in per subject), solved in one compiled batched call,
and written to `DIR.partial/` (its long table, its observables as float32, its failures; the failures file
last, so a chunk is complete when it exists). A run killed part-way resumes from the finished chunks and
gives the same result. At the end the chunks are merged into DIR: timecourse.parquet (long: subject,
time_day, observable, value), summary.csv (percentiles, computed one observable at a time from
memory-mapped chunks, so memory does not grow with the population), run.json and figures. A subject whose
burn-in or solve fails is reported (id, parameters, reason), counted, and left out; the run goes on.
"""

from __future__ import annotations

import csv
import json
import math
import os
import shutil
import sys
import time
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from osteoqsp.engine import POPULATION_SETTINGS, SolverSettings
from osteoqsp.runs.files import staged_folder
from osteoqsp.model import history_start
from osteoqsp.runs.results import FIGURE_GROUPS, SPEC_OBSERVABLES, label_panel, panel_grid, time_axis
from osteoqsp.runs.scenario import Scenario, dose_events
from osteoqsp.runs.simulation import engine_for, parameter_values

PERCENTILES = (5, 25, 50, 75, 95)
WARFARIN_DOSE = "warfarin_dose_mg_per_day"  # a subject's drawn warfarin dose, kept beside its parameters
MAX_SUMMARY_VALUES = 250_000_000  # subjects x times of one observable held at once for percentiles (1 GB)


def _variability_rows() -> list[dict[str, str]]:
    text = resources.files("osteoqsp.model").joinpath("params", "variability.csv").read_text()
    return list(csv.DictReader(line for line in text.splitlines() if not line.startswith("#")))


def variability() -> dict[str, float]:
    """Parameter -> coefficient of variation (log-normal)."""
    return {r["name"]: float(r["cv"]) for r in _variability_rows()}


def upper_bounds() -> dict[str, float]:
    """Parameter -> hard upper bound (absorbed fractions cannot exceed 1)."""
    return {r["name"]: float(r["upper"]) for r in _variability_rows() if r["upper"].strip()}


def _eta_factor(names: list[str], omega: np.ndarray, correlations: dict[str, float]) -> np.ndarray:
    """Matrix turning independent standard normals into correlated etas: L diag(omega)."""
    corr = np.eye(len(names))
    for pair, rho in correlations.items():
        a, b = (x.strip() for x in pair.split(","))
        if a not in names or b not in names:
            raise KeyError(f"correlation {pair!r}: both must be parameters of the variability table")
        i, j = names.index(a), names.index(b)
        corr[i, j] = corr[j, i] = rho
    try:
        chol = np.linalg.cholesky(corr)
    except np.linalg.LinAlgError:
        raise ValueError("the correlations do not form a valid correlation matrix") from None
    return np.diag(omega) @ chol


def sample_subjects(typical: dict[str, float], ids: np.ndarray, seed: int, population: Any = None
                    ) -> list[dict[str, float]]:
    """Parameter sets for the subjects `ids`; subject i draws from a generator seeded by (seed, i), so a
    subject is the same whatever the chunking (and a resumed run draws the same subjects). `population`
    (the scenario's) adds covariates and correlations."""
    cvs = {k: v for k, v in variability().items() if k in typical}
    names = sorted(cvs)
    omega = np.array([math.sqrt(math.log1p(cvs[n] ** 2)) for n in names])
    factor = _eta_factor(names, omega, population.correlations if population is not None else {})
    upper = upper_bounds()
    out = []
    for sid in ids:
        rng = np.random.default_rng([seed, int(sid)])
        row = factor @ rng.standard_normal(len(names))
        values = dict(typical)
        for name, e in zip(names, row):
            values[name] = min(typical[name] * math.exp(e), upper.get(name, math.inf))
        if population is not None:
            _apply_covariates(values, population, rng)
        out.append(values)
    return out


def _apply_covariates(values: dict[str, float], population: Any, rng: np.random.Generator) -> None:
    """Draw the covariates (in a fixed order, after the etas) into the subject's parameter values."""
    from osteoqsp.runs.scenario import food_table

    for name in ("age", "menopause_age", "intake_k1", "intake_mk7", "natto", "body_weight", "warfarin_dose"):
        spec = population.covariate(name)
        if spec is None:
            continue
        kind, a, b = spec
        x = rng.uniform(a, b) if kind == "uniform" else max(rng.normal(a, b), 0.0)
        if name == "age":
            values["age0"] = min(x, 120.0)
        elif name == "body_weight":
            values["body_weight"] = min(max(x, 0.1 * values["body_weight_ref"]), 300.0)
        elif name == "warfarin_dose":  # mg/day; scales the scenario's warfarin doses (not a model parameter)
            values[WARFARIN_DOSE] = x
        elif name == "natto":  # g/week of natto -> ug/day of MK-7 (packaged table's typical natto)
            values["intake_mk7"] += x / 7.0 * food_table()["natto"].content_ug_per_100g / 100.0
        else:
            values[name] = x


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
    wall_s: float = 0.0

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
        fig.tight_layout()
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
        fig.tight_layout()
        return fig


SPAGHETTI = ("mk7_serum", "ucoc_ratio", "dp_ucmgp", "bmd_lumbar_spine", "bmd_femoral_neck", "bmd_total_hip")


def _progress():  # noqa: ANN202
    """A rich progress bar on a terminal; None (quiet) otherwise."""
    if not sys.stderr.isatty():
        return None
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    return Progress(TextColumn("subjects"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                    transient=True)


def _schema():  # noqa: ANN202
    import pyarrow as pa

    return pa.schema([("subject", pa.int32()), ("time_day", pa.float64()),
                      ("observable", pa.dictionary(pa.int8(), pa.string())), ("value", pa.float64())])


def run_population(scenario: Scenario, outdir: str | Path, *, chunk_size: int = 250,
                   settings: SolverSettings | None = None, resume: bool = False,
                   max_new_chunks: int | None = None, dask: str | None = None) -> PopulationResult | None:
    """Simulate `scenario.population.size` subjects into outdir (see the module text).

    resume: reuse the finished chunks of an earlier run of the same scenario, settings and chunk size in
    `outdir.partial/`. max_new_chunks: stop after computing that many chunks (returns None; run again with
    resume=True to go on). dask: run the chunks on Dask: "local" starts a LocalCluster on this machine, any
    other text is the address of a running scheduler (its workers must see outdir's folder). settings: the
    integrator, by default POPULATION_SETTINGS (the split method at rtol 1e-6)."""
    if scenario.population is None:
        raise ValueError("the scenario has no population")
    settings = settings or POPULATION_SETTINGS
    size = scenario.population.size
    eng = engine_for(scenario.species)
    t_out = scenario.output_times()
    names = list(eng.gen.observable_names)
    if size * t_out.size > MAX_SUMMARY_VALUES:
        raise scenario.error(f"population: {size} subjects x {t_out.size} output times is more than "
                             f"{MAX_SUMMARY_VALUES:,} values per observable; use a coarser save_every")
    outdir = Path(outdir)
    partial = outdir.with_name(outdir.name + ".partial")
    manifest = {"scenario": scenario.to_dict(), "chunk_size": chunk_size, "rtol": settings.rtol,
                "atol": settings.atol, "method": settings.method, "max_steps": settings.max_steps,
                "switch_steps": settings.switch_steps, "observables": names}
    if partial.exists() and resume:
        old = json.loads((partial / "manifest.json").read_text()) if (partial / "manifest.json").exists() else None
        if old != manifest:
            raise scenario.error(f"population: {partial} holds chunks of a different run; remove it or drop "
                                 "--resume")
    else:
        if partial.exists():
            shutil.rmtree(partial)
        partial.mkdir(parents=True)
        (partial / "manifest.json").write_text(json.dumps(manifest))
    start = time.perf_counter()
    chunks = [(k, first, min(first + chunk_size, size)) for k, first in enumerate(range(0, size, chunk_size))]
    todo = [c for c in chunks if not (partial / f"chunk-{c[0]:06d}.json").exists()]
    stopped = max_new_chunks is not None and len(todo) > max_new_chunks
    todo = todo[:max_new_chunks] if max_new_chunks is not None else todo
    jobs = [(scenario.to_dict(), settings, k, first, stop, str(partial)) for k, first, stop in todo]
    bar = _progress()
    try:
        if bar is not None:
            bar.start()
            task = bar.add_task("subjects", total=size, completed=size - sum(b - a for _, a, b in todo))
        for done in (_run_on_dask(jobs, dask) if dask else map(_chunk_job, jobs)):
            if bar is not None:
                bar.update(task, advance=done)
    finally:
        if bar is not None:
            bar.stop()
    if stopped:
        return None
    typical = parameter_values(scenario)
    result = _merge(scenario, outdir, partial, len(chunks), size, t_out, names,
                    {o.name: o.unit for o in eng.model.observables}, typical, settings,
                    time.perf_counter() - start)
    shutil.rmtree(partial)
    return result


def _run_on_dask(jobs: list[tuple], address: str):  # noqa: ANN202
    """Yield each chunk's subject count as Dask finishes it (a LocalCluster when address is 'local')."""
    from dask.distributed import Client, LocalCluster, as_completed

    cluster = LocalCluster(processes=True, threads_per_worker=1) if address == "local" else None
    client = Client(cluster if cluster is not None else address)
    try:
        for future in as_completed(client.map(_chunk_job, jobs, pure=False)):
            yield future.result()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _chunk_job(job: tuple) -> int:
    """One chunk, from plain data (so that it can run in another process): returns its subject count."""
    data, settings, k, first, stop, partial = job
    scenario = Scenario.from_dict(data)
    assert scenario.population is not None
    eng = engine_for(scenario.species)
    typical = parameter_values(scenario)
    targets = {d.agent: (d.state, d.factor) for d in eng.model.dose_targets}
    events = dose_events(scenario, targets)
    ev = (np.array([e.time for e in events], dtype=float),
          np.array([eng.state_index(e.state) for e in events], dtype=np.int64),
          np.array([e.amount for e in events], dtype=float),
          np.array([e.agent == "warfarin" for e in events], dtype=bool))
    _run_chunk(k, np.arange(first, stop), eng, typical, scenario, scenario.output_times(), ev,
               list(eng.gen.observable_names), settings, Path(partial))
    return stop - first


def _run_chunk(k: int, ids: np.ndarray, eng, typical: dict[str, float], scenario: Scenario,  # noqa: ANN001
               t_out: np.ndarray, events: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray], names: list[str],
               settings: SolverSettings, partial: Path) -> None:
    import pyarrow.parquet as pq

    ev_t, ev_i, ev_a, ev_warfarin = events
    population = scenario.population
    assert population is not None
    draws = sample_subjects(typical, ids, population.seed, population)
    failures: list[dict[str, Any]] = []
    # each subject's own history: its age and menopause age may be covariates (threads over subjects)
    y0_all, p_all, base = eng.baseline_batch(np.array([eng.parameter_vector(v) for v in draws]),
                                             np.array([history_start(scenario.species, v) for v in draws]), settings)
    for j in np.flatnonzero(base != 0):
        reason = "no steady state found" if base[j] == 1 else "history before the scenario failed"
        failures.append({"subject": int(ids[j]), "reason": reason, "parameters": _drawn(draws[j], typical)})
    y0s, ps, kept = y0_all[base == 0], p_all[base == 0], [int(s) for s in ids[base == 0]]
    values = np.full((ids.size, t_out.size, len(names)), np.nan, dtype=np.float32)
    if kept:
        n = len(kept)
        amounts = np.tile(ev_a, (n, 1))
        if WARFARIN_DOSE in draws[0]:  # each subject's own warfarin dose
            scale = np.array([draws[s - int(ids[0])][WARFARIN_DOSE] for s in kept]) / scenario.warfarin_mg_per_day()
            amounts[:, ev_warfarin] *= scale[:, None]
        states, status, _ = eng.solve_batch(np.array(y0s), np.array(ps), t_out, np.tile(ev_t, (n, 1)),
                                            np.tile(ev_i, (n, 1)), amounts, np.full(n, ev_t.size), settings)
        obs = eng.mod.observe_batch(t_out, states, np.array(ps))
        good = status < 2
        for j in np.flatnonzero(~good):
            failures.append({"subject": kept[j], "reason": f"solver status {int(status[j])}",
                             "parameters": _drawn(draws[kept[j] - int(ids[0])], typical)})
        good_ids = np.array(kept)[good]
        values[good_ids - ids[0]] = obs[good].astype(np.float32)
        pq.write_table(_long_table(good_ids, t_out, names, obs[good], _schema()), partial / f"chunk-{k:06d}.parquet")
    np.save(partial / f"chunk-{k:06d}.npy", values)
    tmp = partial / f"chunk-{k:06d}.json.tmp"
    tmp.write_text(json.dumps({"subjects": [int(ids[0]), int(ids[-1])], "failures": failures}))
    os.replace(tmp, partial / f"chunk-{k:06d}.json")  # the chunk is complete once this name exists


def _merge(scenario: Scenario, outdir: Path, partial: Path, n_chunks: int, size: int, t_out: np.ndarray,
           names: list[str], units: dict[str, str], typical: dict[str, float], settings: SolverSettings,
           wall_s: float) -> PopulationResult:
    import pyarrow.parquet as pq

    failures = [f for k in range(n_chunks) for f in json.loads((partial / f"chunk-{k:06d}.json").read_text())["failures"]]
    with staged_folder(outdir) as tmp:
        with pq.ParquetWriter(tmp / "timecourse.parquet", _schema()) as writer:
            for k in range(n_chunks):
                part = partial / f"chunk-{k:06d}.parquet"
                if part.exists():
                    writer.write_table(pq.read_table(part, schema=_schema()))
        mmaps = [np.load(partial / f"chunk-{k:06d}.npy", mmap_mode="r") for k in range(n_chunks)]
        frames = []
        for j, name in enumerate(names):  # one observable at a time: memory stays at subjects x times
            v = np.concatenate([m[:, :, j] for m in mmaps]).astype(float)
            v = v[~np.isnan(v[:, 0])]
            if v.shape[0] == 0:
                continue
            q = np.percentile(v, PERCENTILES, axis=0)
            frames.append(pd.DataFrame({"time_day": t_out, "observable": name, "mean": v.mean(axis=0),
                                        **{f"p{p:02d}": q[i] for i, p in enumerate(PERCENTILES)}}))
        del mmaps
        summary = (pd.concat(frames, ignore_index=True) if frames else
                   pd.DataFrame(columns=["time_day", "observable", "mean"] + [f"p{p:02d}" for p in PERCENTILES]))
        summary.to_csv(tmp / "summary.csv", index=False, float_format="%.8g")
        result = PopulationResult(scenario, outdir, size, t_out, names, units, summary, failures, wall_s)
        (tmp / "run.json").write_text(json.dumps(_provenance(result, typical, settings), indent=2, default=float))
        _figures(result, tmp / "figures", tmp / "timecourse.parquet")
    return result


def _drawn(values: dict[str, float], typical: dict[str, float]) -> dict[str, float]:
    return {k: v for k, v in values.items() if v != typical.get(k)}


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
    from osteoqsp import __version__

    sc = result.scenario
    return {"osteoqsp_version": __version__, "scenario": sc.to_dict(), "scenario_source": sc.source,
            "species": sc.species, "population": {"size": sc.population.size, "seed": sc.population.seed},
            "seed": sc.population.seed, "typical_parameters": typical, "variability_cv": variability(),
            "solver": {"method": settings.method, "rtol": settings.rtol, "atol": settings.atol},
            "subjects_failed": len(result.failures), "failures": result.failures[:1000],
            "wall_s": result.wall_s, "units": {"time_day": "day", **result.observable_units}}


def _figures(result: PopulationResult, folder: Path, parquet: Path) -> None:
    import matplotlib.pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)
    if len(result.failures) < result.n_subjects:  # some subject has a time course to draw
        fig = result.spaghetti(SPAGHETTI, parquet=parquet)
        fig.savefig(folder / "spaghetti.png", dpi=110)
        plt.close(fig)
    for group, names in FIGURE_GROUPS.items():
        present = tuple(n for n in names if n in result.observable_names and n in SPEC_OBSERVABLES)
        if present:
            fig = result.plot(present, title=f"{result.scenario.name}: {group.replace('_', ' ')}, "
                                             f"{result.n_subjects} subjects")
            fig.savefig(folder / f"{group}.png", dpi=110)
            plt.close(fig)
