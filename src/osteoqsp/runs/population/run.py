"""Populations run in chunks: each chunk is prepared (burn-in per subject, in compiled code), solved in one
compiled batched call, and written to `DIR.partial/` (its long table, its observables as float32, its
failures; the failures file last, so a chunk is complete when it exists). A run killed part-way resumes
from the finished chunks and gives the same result. At the end the chunks are merged into DIR:
timecourse.parquet (long: subject, time_day, observable, value), summary.csv (percentiles, computed one
observable at a time from the chunks' float32 arrays, stored observable by observable and each mapped only
while read, so memory does not grow with the population), run.json and figures. A subject whose burn-in or solve fails is reported (id, parameters, reason), counted, and left out;
the run goes on."""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from osteoqsp.engine import POPULATION_SETTINGS, SolverSettings
from osteoqsp.runs.files import staged_folder
from osteoqsp.runs.population.result import PERCENTILES, PopulationResult, provenance, write_figures
from osteoqsp.runs.population.sampling import sample_subjects
from osteoqsp.runs.scenario import Scenario
from osteoqsp.runs.subject import engine_for, parameter_values, prepare_many

MAX_SUMMARY_VALUES = 250_000_000  # subjects x times of one observable held at once for percentiles (1 GB)


class RunStopped(Exception):
    """A population run stopped after `max_new_chunks` chunks (as if killed): resume it with resume=True."""


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


def simulate_population(scenario: Scenario, outdir: str | Path | None = None, *, chunk_size: int = 250,
                        settings: SolverSettings | None = None, resume: bool = False,
                        max_new_chunks: int | None = None, dask: str | None = None) -> PopulationResult:
    """Simulate `scenario.population.size` subjects into outdir (a new temporary folder when None; see the
    module text).

    resume: reuse the finished chunks of an earlier run of the same scenario, settings and chunk size in
    `outdir.partial/`. max_new_chunks: stop after computing that many chunks, raising RunStopped (run again
    with resume=True to go on). dask: run the chunks on Dask: "local" starts a LocalCluster on this machine,
    any other text is the address of a running scheduler (its workers must see outdir's folder). settings:
    the integrator, by default POPULATION_SETTINGS (the split method at rtol 5e-7)."""
    if scenario.population is None:
        raise ValueError("the scenario has no population")
    settings = settings or POPULATION_SETTINGS
    size = scenario.population.total  # people x parameter draws
    clock = time.perf_counter()
    eng = engine_for(scenario.species)
    timings = {"engine load (model build, compiled-module cache)": time.perf_counter() - clock}
    t_out = scenario.output_times()
    names = list(eng.gen.observable_names)
    if size * t_out.size > MAX_SUMMARY_VALUES:
        raise scenario.error(f"population: {size} subjects x {t_out.size} output times is more than "
                             f"{MAX_SUMMARY_VALUES:,} values per observable; use a coarser save_every")
    outdir = Path(outdir) if outdir is not None else Path(tempfile.mkdtemp(prefix="osteoqsp-population-")) / "run"
    partial = outdir.with_name(outdir.name + ".partial")
    manifest = {"scenario": scenario.to_dict(), "chunk_size": chunk_size, "rtol": settings.rtol,
                "atol": settings.atol, "method": settings.method, "max_steps": settings.max_steps,
                "switch_steps": settings.switch_steps, "observables": names,
                "chunk_layout": "observable, subject, time"}
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
        raise RunStopped(f"stopped after {max_new_chunks} new chunk(s); the finished ones are in {partial}")
    typical = parameter_values(scenario)
    timings["chunks (sampling, burn-in, solve, chunk files)"] = time.perf_counter() - start
    result = _merge(scenario, outdir, partial, len(chunks), size, t_out, names,
                    {o.name: o.unit for o in eng.model.observables}, typical, settings, timings)
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
    _run_chunk(k, np.arange(first, stop), Scenario.from_dict(data), settings, Path(partial))
    return stop - first


def _run_chunk(k: int, ids: np.ndarray, scenario: Scenario, settings: SolverSettings, partial: Path) -> None:
    import pyarrow.parquet as pq

    population = scenario.population
    assert population is not None
    eng = engine_for(scenario.species)
    typical = parameter_values(scenario)
    names = list(eng.gen.observable_names)
    draws = sample_subjects(typical, ids, population.seed, population, scenario.species)
    factors = [{agent: x / scenario.daily_dose(agent) for agent, x in d.daily_doses.items()} for d in draws]
    # each subject's own history (its age and menopause age may be covariates) and its own doses
    subjects = prepare_many(scenario, [d.values for d in draws], settings, factors, warm=True)
    failures: list[dict[str, Any]] = []
    for j in np.flatnonzero(~subjects.ok):
        reason = "no steady state found" if subjects.status[j] == 1 else "history before the scenario failed"
        failures.append({"subject": int(ids[j]), "reason": reason, "parameters": _drawn(draws[j].values, typical)})
    t_out = subjects.t_out
    values = np.full((len(names), ids.size, t_out.size), np.nan, dtype=np.float32)  # observable-major (_values)
    kept = np.flatnonzero(subjects.ok)
    if kept.size:
        states, status, _ = eng.solve_batch(subjects.y0[kept], subjects.p[kept], t_out,
                                            subjects.events.subset(kept), settings)
        obs = eng.observe_batch(t_out, states, subjects.p[kept])
        good = status < 2
        for j in np.flatnonzero(~good):
            failures.append({"subject": int(ids[kept[j]]), "reason": f"solver status {int(status[j])}",
                             "parameters": _drawn(draws[kept[j]].values, typical)})
        good_rows = kept[good]
        values[:, good_rows] = obs[good].transpose(2, 0, 1).astype(np.float32)
        pq.write_table(_long_table(ids[good_rows], t_out, names, obs[good], _schema()),
                       partial / f"chunk-{k:06d}.parquet")
    np.save(partial / f"chunk-{k:06d}.npy", values)
    tmp = partial / f"chunk-{k:06d}.json.tmp"
    tmp.write_text(json.dumps({"subjects": [int(ids[0]), int(ids[-1])], "failures": failures}))
    os.replace(tmp, partial / f"chunk-{k:06d}.json")  # the chunk is complete once this name exists


def _merge(scenario: Scenario, outdir: Path, partial: Path, n_chunks: int, size: int, t_out: np.ndarray,
           names: list[str], units: dict[str, str], typical: dict[str, float], settings: SolverSettings,
           timings: dict[str, float]) -> PopulationResult:
    """The chunks into DIR; `timings` (seconds by phase) gains the merge's phases."""
    import pyarrow.parquet as pq

    clock = time.perf_counter()
    failures = [f for k in range(n_chunks) for f in json.loads((partial / f"chunk-{k:06d}.json").read_text())["failures"]]
    with staged_folder(outdir) as tmp:
        with pq.ParquetWriter(tmp / "timecourse.parquet", _schema()) as writer:
            for k in range(n_chunks):
                part = partial / f"chunk-{k:06d}.parquet"
                if part.exists():
                    writer.write_table(pq.read_table(part, schema=_schema()))
        timings["timecourse.parquet"] = time.perf_counter() - clock
        clock = time.perf_counter()
        frames = []
        for j, name in enumerate(names):  # one observable at a time: memory stays at subjects x times
            v = _values(partial, n_chunks, j)
            v = v[~np.isnan(v[:, 0])]
            if v.shape[0] == 0:
                continue
            q = np.percentile(v, PERCENTILES, axis=0)
            frames.append(pd.DataFrame({"time_day": t_out, "observable": name, "mean": v.mean(axis=0),
                                        **{f"p{p:02d}": q[i] for i, p in enumerate(PERCENTILES)}}))
        summary = (pd.concat(frames, ignore_index=True) if frames else
                   pd.DataFrame(columns=["time_day", "observable", "mean"] + [f"p{p:02d}" for p in PERCENTILES]))
        summary.to_csv(tmp / "summary.csv", index=False, float_format="%.8g")
        timings["summary.csv"] = time.perf_counter() - clock
        clock = time.perf_counter()
        events = _first_events(scenario, partial, n_chunks, t_out, names)
        if events is not None:
            events.to_csv(tmp / "events.csv", index=False, float_format="%.6g")
        timings["events.csv"] = time.perf_counter() - clock
        spread = None
        if scenario.population is not None and scenario.population.uncertainty is not None:
            clock = time.perf_counter()
            spread = _uncertainty(scenario, partial, n_chunks, t_out, names)
            spread.to_csv(tmp / "uncertainty.csv", index=False, float_format="%.8g")
            pop = scenario.population
            pd.DataFrame({"subject": np.arange(size), "person": np.arange(size) % pop.size,
                          "draw": np.arange(size) // pop.size}).to_csv(tmp / "subjects.csv", index=False)
            timings["uncertainty.csv"] = time.perf_counter() - clock
        wall = timings["chunks (sampling, burn-in, solve, chunk files)"]
        result = PopulationResult(scenario, outdir, size, t_out, names, units, summary, failures, wall, timings,
                                  events, spread)
        clock = time.perf_counter()
        write_figures(result, tmp / "figures", tmp / "timecourse.parquet")
        timings["figures"] = time.perf_counter() - clock
        (tmp / "run.json").write_text(json.dumps(provenance(result, typical, settings), indent=2, default=float))
    return result


def _uncertainty(scenario: Scenario, partial: Path, n_chunks: int, t_out: np.ndarray,
                 names: list[str]) -> pd.DataFrame:
    """Uncertainty and variability apart, per time and observable: over the parameter draws, the 5th, 50th
    and 95th percentiles of the population mean (uncertainty of the mean); averaged over the draws, the 5th and
    95th percentiles between people (variability)."""
    pop = scenario.population
    assert pop is not None
    frames = []
    for j, name in enumerate(names):
        v = _values(partial, n_chunks, j).reshape(pop.draws, pop.size, -1)
        means = np.nanmean(v, axis=1)  # (draws, times)
        within = np.nanpercentile(v, (5, 95), axis=1)  # (2, draws, times)
        q = np.nanpercentile(means, (5, 50, 95), axis=0)
        frames.append(pd.DataFrame({"time_day": t_out, "observable": name, "mean_p05": q[0], "mean_p50": q[1],
                                    "mean_p95": q[2], "between_people_p05": within[0].mean(axis=0),
                                    "between_people_p95": within[1].mean(axis=0)}))
    return pd.concat(frames, ignore_index=True)


def _first_events(scenario: Scenario, partial: Path, n_chunks: int, t_out: np.ndarray,
                  names: list[str]) -> pd.DataFrame | None:
    """Each subject's first event of each of the model's hazards (runs/population/events.py), chunk by chunk."""
    from osteoqsp.model import build_model
    from osteoqsp.runs.population.events import events_table

    hazards = [h.name for h in build_model(scenario.species).hazards if f"{h.name}_cumulative" in names]
    if not hazards:
        return None
    assert scenario.population is not None
    streams = {h: i for i, h in enumerate(hazards)}
    frames = []
    for h in hazards:  # rows by hazard, then subject, whatever the chunking
        first = 0
        for k in range(n_chunks):
            chunk = np.load(partial / f"chunk-{k:06d}.npy", mmap_mode="r")
            ids = np.arange(first, first + chunk.shape[1])
            first += chunk.shape[1]
            cumulative = {h: np.array(chunk[names.index(f"{h}_cumulative")])}
            del chunk
            people = ids % scenario.population.size  # a person's events: the same uniform under every draw
            frames.append(events_table([h], cumulative, t_out, ids, scenario.population.seed, streams, people))
    return pd.concat(frames, ignore_index=True)


def _values(partial: Path, n_chunks: int, j: int) -> np.ndarray:
    """Observable j of every subject, (subjects, times), from the chunk files (observables, subjects, times):
    each file is mapped only while its rows of j are read, so that the pages of the whole output (1.2 GB at
    100,000 subjects) never stay resident together."""
    parts = []
    for k in range(n_chunks):
        m = np.load(partial / f"chunk-{k:06d}.npy", mmap_mode="r")
        parts.append(np.array(m[j], dtype=float))
        del m
    return np.concatenate(parts)


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


