"""A population run as a user pays for it: `osteoqsp simulate` on N subjects (default 1000; 3 years of daily
MK-7 180 ug, output every 30 days) as a whole process, its phases apart, against libroadrunner's time per
subject on subjects of the same population, measured in the same run (issue 16).

    .venv/bin/python bench/whole_process.py                  # about 2 minutes here
    .venv/bin/python bench/whole_process.py --rr-sample 5

The CLI runs in a fresh process `--runs` times (default 2) after one run that fills the compiled-module cache
if it is empty; each run is timed as a whole (wall clock of the process, from its start to its exit). Its
phases: the run's own phases as the CLI prints them (engine load: model build and compiled-module cache;
chunks: sampling, burn-in, solve, chunk files; timecourse.parquet; summary.csv; events.csv; figures, with
matplotlib's import) and the rest: start-up and exit (the interpreter, the imports before the run, the
scenario's parsing, run.json). Beside it, the time of a process that only imports what the run imports
(osteoqsp's CLI, scenario, population and subject modules, numpy, pandas, pyarrow, sympy, numba, pint,
matplotlib) and exits.

libroadrunner: the first --rr-sample subjects of the same population (the same draws as the CLI's), each
exported with its own parameters (`to_sbml`, doses as SBML events; not timed), loaded and compiled (timed
apart) and simulated on the population's output grid with CVODE at rtol 1e-10 (absolute 1e-16 per state: the
settings of engine_vs_reference.py) and again at the population's rtol (POPULATION_SETTINGS; absolute 1e-12).
The ratio is libroadrunner's time per subject over the whole process's time per subject.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from osteoqsp import Scenario
from osteoqsp.engine import POPULATION_SETTINGS
from osteoqsp.interop.sbml import to_sbml
from osteoqsp.runs.population import sample_subjects
from osteoqsp.runs.subject import engine_for, parameter_values

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from engine_vs_reference import roadrunner_for  # noqa: E402  (libroadrunner set up as in that bench)

IMPORTS = ("import osteoqsp.shells.cli, osteoqsp.runs.scenario, osteoqsp.runs.population, osteoqsp.runs.subject, "
           "numpy, pandas, pyarrow.parquet, sympy, numba, pint, matplotlib.pyplot")


def scenario_text(n: int) -> str:
    return (f"name: whole-process-{n}\nspecies: human\nsubject:\n  sex: female\n  age: 58 year\n"
            "  menopause_age: 51 year\nintake:\n- agent: MK-7\n  dose: 180 ug\n  every: 1 day\n"
            f"duration: 3 year\nsave_every: 30 day\npopulation:\n  size: {n}\n  seed: 7\n")


def cli_run(path: Path, out: Path) -> tuple[float, dict[str, float]]:
    """Wall time of one `osteoqsp simulate` process and the phases it printed (seconds)."""
    cli = Path(sys.executable).with_name("osteoqsp")
    start = time.perf_counter()
    done = subprocess.run([str(cli), "simulate", str(path), "-o", str(out), "--force"], capture_output=True,
                          text=True, check=True)
    wall = time.perf_counter() - start
    line = next(x for x in done.stdout.splitlines() if x.startswith("seconds by phase:"))
    phases = {m.group(1).strip(): float(m.group(2))
              for m in re.finditer(r"(.+?) (\d+\.\d+)(?:, |$)", line.split(":", 1)[1].strip())}
    return wall, phases


def imports_time() -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", IMPORTS], check=True)
    return time.perf_counter() - start


def roadrunner_subjects(sc: Scenario, k: int, rtol: float, atol: float) -> tuple[float, float]:
    """Mean load + compile and mean simulate time (s) per subject of the first k subjects."""
    eng = engine_for(sc.species)
    typical = parameter_values(sc)
    assert sc.population is not None
    draws = sample_subjects(typical, np.arange(k), sc.population.seed, sc.population, sc.species)
    t_out = [float(t) for t in sc.output_times()]
    load = run = 0.0
    for d in draws:
        sbml = to_sbml(sc, parameters=d.values)
        start = time.perf_counter()
        rr = roadrunner_for(sbml, eng.n_states, rtol, atol)
        load += time.perf_counter() - start
        start = time.perf_counter()
        rr.simulate(times=t_out)
        run += time.perf_counter() - start
    return load / k, run / k


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--subjects", type=int, default=1000)
    ap.add_argument("--runs", type=int, default=2, help="measured CLI runs (after one that fills the cache)")
    ap.add_argument("--rr-sample", type=int, default=3, help="subjects run in libroadrunner (0: none)")
    args = ap.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="osteoqsp-whole-"))
    path = folder / "population.yaml"
    path.write_text(scenario_text(args.subjects))
    n = args.subjects
    print(f"osteoqsp simulate, {n} subjects x 3 years of daily MK-7, output every 30 days; {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.2f}")
    cli_run(path, folder / "out")  # fills the compiled-module cache if it is empty (not measured)
    rows = []
    for _ in range(args.runs):
        imports = imports_time()
        wall, phases = cli_run(path, folder / "out")
        rows.append((wall, imports, phases))
        rest = wall - sum(phases.values())
        print(f"whole process {wall:.2f} s = {1e3 * wall / n:.2f} ms/subject; by phase (s): start-up and exit "
              f"(interpreter, imports, scenario, run.json) {rest:.2f}, "
              + ", ".join(f"{k} {v:.2f}" for k, v in phases.items())
              + f"; a process that only imports what the run imports: {imports:.2f}")
    best = min(r[0] for r in rows)
    if args.rr_sample:
        sc = Scenario.from_yaml(path)
        for rtol, atol in ((1e-10, 1e-16), (POPULATION_SETTINGS.rtol, 1e-12)):
            load, run = roadrunner_subjects(sc, args.rr_sample, rtol, atol)
            print(f"libroadrunner CVODE rtol {rtol:g}, {args.rr_sample} subjects: simulate {1e3 * run:.0f} ms/subject, "
                  f"load + compile {1e3 * load:.0f} ms/subject; ratio to the fastest whole process per subject: "
                  f"{run / (best / n):.0f}x (simulate), {(run + load) / (best / n):.0f}x (load, compile and simulate)")
    print(f"load average (1 min) at the end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
