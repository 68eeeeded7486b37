"""Population at scale: N women (default 100,000), 3 years of daily MK-7 180 ug, output every 30 days,
streamed to disk in chunks. Prints wall time, time per subject and peak memory (resident set size).

    .venv/bin/python bench/population_scale.py                    # 100,000 subjects
    .venv/bin/python bench/population_scale.py --subjects 2000    # a shorter run
    .venv/bin/python bench/population_scale.py --grid 1000,10000  # cost for 1, 3, 10 years at the first size
                                                                  # and for each size at 3 years

After the run, the first --check subjects are simulated again with dopri5 at rtol 1e-10 and the output files
are compared with them: the largest difference per observable, relative to its largest magnitude (BMD changes
also in percentage points). Then (--bound N subjects, one thread) the lower bound of the solve: the split
method's right-hand side (the states outside the linear block) is evaluated 4 times a step (RK4 stages with the
last shared), so steps x 4 x the time of one evaluation (timed in a compiled loop) is what the solve cannot go
below without fewer steps or a cheaper right-hand side; the ratio of the measured solve to it is the overhead
of the rest (the linear block's propagation, the error control, events, outputs).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
from numba import njit

from osteoqsp import Scenario, SolverSettings
from osteoqsp.engine import POPULATION_SETTINGS, Events
from osteoqsp.runs.population import PopulationResult, sample_subjects, simulate_population
from osteoqsp.runs.subject import engine_for, parameter_values, prepare_many

REFERENCE = SolverSettings(method="dopri5", rtol=1e-10, atol=1e-16)


def accuracy(sc: Scenario, result: PopulationResult, n: int) -> None:
    """Re-run the first n subjects with the reference settings and compare with the files of the run."""
    eng = engine_for(sc.species)
    typical = parameter_values(sc)
    draws = sample_subjects(typical, np.arange(n), sc.population.seed, sc.population)
    subjects = prepare_many(sc, [d.values for d in draws], REFERENCE, t_out=result.time_day)
    states, status, _ = eng.solve_batch(subjects.y0, subjects.p, subjects.t_out, subjects.events, REFERENCE)
    assert np.all(subjects.ok) and np.all(status < 2)
    ref = eng.observe_batch(subjects.t_out, states, subjects.p)
    import pyarrow.parquet as pq

    # the first n subjects only, read once (values_of reads every subject of one observable: minutes at 1e5)
    table = pq.read_table(result.outdir / "timecourse.parquet", filters=[("subject", "<", n)]).to_pandas()
    table["observable"] = table["observable"].astype(str)
    worst, worst_name, bmd_pp = 0.0, "", 0.0
    for j, name in enumerate(result.observable_names):
        rows = table[table["observable"] == name].pivot(index="subject", columns="time_day", values="value")
        got = rows.reindex(index=range(n), columns=result.time_day).to_numpy()
        diff = float(np.max(np.abs(got - ref[:, :, j])) / max(np.max(np.abs(ref[:, :, j])), 1e-12))
        if diff > worst:
            worst, worst_name = diff, name
        if name.startswith("bmd_"):
            bmd_pp = max(bmd_pp, float(np.max(np.abs(got - ref[:, :, j]))))
    print(f"accuracy, first {n} subjects against dopri5 at rtol 1e-10: largest difference {worst:.2e} of the "
          f"observable's scale ({worst_name}); BMD within {bmd_pp:.1e} percentage points")


@njit(cache=False)
def _evaluations(f, n, t, y, p, q, dz):  # noqa: ANN001, ANN202  (f: the compiled rhs_nl, called n times)
    acc = 0.0
    for i in range(n):
        f(t + 1e-9 * i, y, p, q, dz)  # a time that changes, so that nothing is hoisted out of the loop
        acc += dz[0]
    return acc


def lower_bound(sc: Scenario, n: int, settings: SolverSettings) -> None:
    """Measured single-thread solve of n subjects against steps x 4 x the time of one right-hand side."""
    eng = engine_for(sc.species)
    typical = parameter_values(sc)
    draws = sample_subjects(typical, np.arange(n), sc.population.seed, sc.population)
    subjects = prepare_many(sc, [d.values for d in draws], settings, warm=True)
    batch = subjects.events
    events = [Events(np.ascontiguousarray(batch.table[s, :batch.count[s]])) for s in range(n)]
    eng.solve(subjects.y0[0], subjects.p[0], subjects.t_out, events[0], settings)  # compiled already
    steps = 0
    start = time.perf_counter()
    for s in range(n):
        _, _, k = eng.solve(subjects.y0[s], subjects.p[s], subjects.t_out, events[s], settings)
        steps += k
    solve_s = (time.perf_counter() - start) / n
    mod = eng.mod
    q = np.empty(max(mod.N_DERIVED, 1))
    mod.derived(subjects.p[0], q)
    y = subjects.y0[0].copy()
    dz = np.empty(len(mod.NL_IDX))
    calls = 200_000
    _evaluations(mod.rhs_nl, 10, 1.0, y, subjects.p[0], q, dz)
    start = time.perf_counter()
    _evaluations(mod.rhs_nl, calls, 1.0, y, subjects.p[0], q, dz)
    per_call = (time.perf_counter() - start) / calls
    bound = steps / n * 4 * per_call
    print(f"lower bound, {n} subjects on one thread: {steps / n:.0f} steps/subject x 4 evaluations x "
          f"{1e9 * per_call:.0f} ns per evaluation ({len(mod.NL_IDX)} of {eng.n_states} states outside the linear "
          f"block) = {1e3 * bound:.2f} ms/subject; measured solve {1e3 * solve_s:.2f} ms/subject = "
          f"{solve_s / bound:.2f} x the bound")


class RssSampler:
    """This process's resident set size every 0.2 s in a thread: the peak of each phase of a run afterwards."""

    def __init__(self) -> None:
        self.samples: list[tuple[float, float]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            with open("/proc/self/statm") as f:
                rss = int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
            self.samples.append((time.perf_counter(), rss))
            self._stop.wait(0.2)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def peaks(self, start: float, phases: dict[str, float]) -> dict[str, float]:
        """The largest sample inside each phase, phases taken one after another from `start` (s)."""
        out, t = {}, start
        for name, seconds in phases.items():
            inside = [r for u, r in self.samples if t <= u <= t + seconds]
            out[name] = max(inside) if inside else float("nan")
            t += seconds
        return out


def scenario(subjects: int, years: float, save_every: str) -> Scenario:
    return Scenario.from_dict({
        "name": "scale", "species": "human",
        "subject": {"sex": "female", "age": "58 year", "menopause_age": "51 year"},
        "intake": [{"agent": "MK-7", "dose": "180 ug", "every": "1 day"}],
        "duration": f"{years:g} year", "save_every": save_every,
        "population": {"size": subjects, "seed": 7}})


def grid(sizes: list[int], chunk: int, settings: SolverSettings, save_every: str) -> None:
    """Cost per subject and per subject-year for 1, 3 and 10 years at the first size, and for every size at
    3 years: linear cost shows as a constant per subject-year."""
    runs = [(sizes[0], y) for y in (1.0, 3.0, 10.0)] + [(n, 3.0) for n in sizes[1:]]
    print("subjects  years  wall s  ms/subject  ms/subject-year  (whole run: chunks + merge)")
    for n, years in runs:
        out = Path(tempfile.mkdtemp(prefix="osteoqsp-grid-")) / "run"
        start = time.perf_counter()
        simulate_population(scenario(n, years, save_every), out, chunk_size=chunk, settings=settings)
        wall = time.perf_counter() - start
        shutil.rmtree(out.parent)
        print(f"{n:8d}  {years:5.0f}  {wall:6.1f}  {1e3 * wall / n:10.2f}  {1e3 * wall / n / years:15.2f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--subjects", type=int, default=100_000)
    ap.add_argument("--chunk", type=int, default=500)
    ap.add_argument("--save-every", default="30 day")
    ap.add_argument("--dask", default=None, help="'local' or a scheduler address")
    ap.add_argument("--rtol", type=float, default=POPULATION_SETTINGS.rtol,
                    help="relative tolerance (default: the population default, POPULATION_SETTINGS)")
    ap.add_argument("--method", default="split", choices=["dopri5", "rodas4", "split"])
    ap.add_argument("--keep", action="store_true", help="keep the output folder")
    ap.add_argument("--check", type=int, default=20, help="subjects re-run with the reference settings (0: none)")
    ap.add_argument("--bound", type=int, default=50, help="subjects of the lower-bound measurement (0: none)")
    ap.add_argument("--grid", default=None, help="comma-separated sizes: the cost grid instead of one run")
    args = ap.parse_args()
    if args.grid:
        grid([int(x) for x in args.grid.split(",")], args.chunk, SolverSettings(method=args.method, rtol=args.rtol),
             args.save_every)
        return
    sc = scenario(args.subjects, 3.0, args.save_every)
    out = Path(tempfile.mkdtemp(prefix="osteoqsp-scale-")) / "run"
    start = time.perf_counter()
    with RssSampler() as rss:
        result = simulate_population(sc, out, chunk_size=args.chunk, dask=args.dask,
                                     settings=SolverSettings(method=args.method, rtol=args.rtol))
    wall = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    size_mb = sum(f.stat().st_size for f in out.rglob("*") if f.is_file()) / 2**20
    assert result is not None
    print(f"subjects {args.subjects}, failed {len(result.failures)}, cores {os.cpu_count()}, chunk {args.chunk}, "
          f"save_every {args.save_every}, method {args.method}, rtol {args.rtol:g}")
    print(f"wall {wall:.1f} s = {1000 * wall / args.subjects:.1f} ms/subject; peak RSS {peak_mb:.0f} MB "
          f"(this process{'; Dask workers not counted' if args.dask else ''}); output {size_mb:.0f} MB")
    print(f"of which chunks (sampling, burn-in, solve, chunk files) {result.wall_s:.1f} s, merge (timecourse.parquet, "
          f"summary, figures) {wall - result.wall_s:.1f} s")
    print("seconds by phase: " + ", ".join(f"{k} {v:.2f}" for k, v in result.timings_s.items()))
    print("peak RSS by phase (MB, sampled every 0.2 s): "
          + ", ".join(f"{k.split(' (')[0]} {v:.0f}" for k, v in rss.peaks(start, result.timings_s).items()))
    if args.check:
        accuracy(sc, result, min(args.check, args.subjects))
    if args.bound and args.method == "split":
        lower_bound(sc, min(args.bound, args.subjects), SolverSettings(method=args.method, rtol=args.rtol))
    if args.keep:
        print(f"output: {out}")
    else:
        shutil.rmtree(out.parent)


if __name__ == "__main__":
    main()
