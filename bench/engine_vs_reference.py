"""osteoqsp's compiled engine against libroadrunner and scipy on the same population (SPEC section 5).

Problem: N women aged 55-65 (menopause at 51), 180 ug MK-7 daily for 3 years (the Knapen 2013 scenario),
output daily. Each subject gets its age and log-normal multipliers (CV 30 %) on a few PK parameters,
drawn with numpy default_rng(7). Baselines (steady state + postmenopausal history) and dose events are
computed once per subject and timed separately. Then, on the same subjects:
  osteoqsp   engine.solve_batch over all N (numba, threads over subjects) and engine.solve one after
             another on a sample (single thread); rtol 1e-8, atol 1e-14; with its default method (dopri5)
             and with the split method (pharmacokinetics by matrix exponentials, the rest by RK4)
  roadrunner the SBML export of each sampled subject (doses as SBML events), CVODE, rtol 1e-10,
             atol 1e-16 per state; load/compile timed separately from simulate
  scipy      solve_ivp LSODA and BDF with the generated rhs and Jacobian, restarting at each dose
             (integrate to the dose, add it, continue); rtol 1e-8, atol 1e-14
and, where installed (bench/peers.py; each one that is not prints why and is left out):
  AMICI      the SBML export without its dose events, imported and compiled once (timed apart), CVODES,
             rtol 1e-10, atol 1e-16 (as libroadrunner), restarting at each dose
  diffrax    the JAX rhs generated from the declaration (osteoqsp.engine.jax_backend), Tsit5 and Kvaerno5,
             rtol 1e-8, atol 1e-14, restarting at each dose, vmap over the sampled subjects; jit timed apart
  deSolve    R's LSODA (Rscript) on R code generated from the declaration, rtol 1e-8, atol 1e-14, restarting
             at each dose; timed inside R
Agreement: largest relative difference of any observable at any output time against osteoqsp, the
denominator floored at 1e-6 x the observable's largest |value|.

    .venv/bin/python bench/engine_vs_reference.py [--quick] [--subjects N] [--rr-sample K] [--scipy-sample K]
        [--amici-sample K] [--tsit5-sample K] [--kvaerno5-sample K] [--desolve-sample K]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass
from typing import Callable, TypeVar

import numba
import numpy as np
import roadrunner
import scipy
from scipy.integrate import solve_ivp

from osteoqsp import Scenario, SolverSettings
from osteoqsp.engine import Engine, Events
from osteoqsp.interop.sbml import to_sbml
from osteoqsp.runs.subject import Dosing, engine_for, parameter_values, prepare_many

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peers  # noqa: E402  (bench/peers.py: AMICI, diffrax, deSolve)

SCENARIO = {"name": "knapen2013-mk7-population", "species": "human",
            "subject": {"sex": "female", "age": "58 year", "menopause_age": "51 year"},
            "intake": [{"agent": "MK-7", "dose": "180 ug", "every": "1 day"}],
            "duration": "3 year", "save_every": "1 day"}
VARIED = ("kel_mk7", "ka_mk7", "f_abs_mk7", "intake_k1")  # log-normal, CV 30 %
CV = 0.30
SETTINGS = SolverSettings(rtol=1e-8, atol=1e-14)
SPLIT = SolverSettings(method="split", rtol=1e-8, atol=1e-14)
RR_RTOL, RR_ATOL = 1e-10, 1e-16


@dataclass
class Population:
    overrides: list[dict[str, float]]
    y0: np.ndarray  # (N, states)
    p: np.ndarray  # (N, parameters + references)
    events: Events  # the same doses for everyone
    t_out: np.ndarray


def draw_population(scenario: Scenario, eng: Engine, n: int) -> Population:
    rng = np.random.default_rng(7)
    typical = parameter_values(scenario)
    sigma = np.sqrt(np.log1p(CV**2))  # log-normal with mean multiplier 1 and this CV
    draws = [(rng.uniform(55.0, 65.0), rng.lognormal(-sigma**2 / 2, sigma, len(VARIED))) for _ in range(n)]
    ages, mult = np.array([a for a, _ in draws]), np.array([m for _, m in draws])  # subject s: same for any n
    overrides = [{"age0": float(ages[s]), **{k: typical[k] * float(mult[s, j]) for j, k in enumerate(VARIED)}}
                 for s in range(n)]
    subjects = prepare_many(scenario, [parameter_values(scenario, o) for o in overrides], SETTINGS)
    assert np.all(subjects.ok)
    return Population(overrides, subjects.y0, subjects.p, Dosing.of(scenario, eng).events, subjects.t_out)


def run_batch(eng: Engine, pop: Population, idx: np.ndarray, settings: SolverSettings = SETTINGS
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return eng.solve_batch(pop.y0[idx], pop.p[idx], pop.t_out, pop.events, settings)


def scipy_subject(eng: Engine, pop: Population, s: int, method: str) -> tuple[np.ndarray, int]:
    """States on t_out, restarting solve_ivp at each dose; outputs at a dose time are pre-dose (as osteoqsp)."""
    p, n, t_out = pop.p[s], eng.n_states, pop.t_out
    mod = eng.mod

    def f(t: float, y: np.ndarray) -> np.ndarray:
        dy = np.empty(n)
        mod.rhs(t, y, p, dy)
        return dy

    def jac(t: float, y: np.ndarray) -> np.ndarray:
        J = np.empty((n, n))
        mod.jac(t, y, p, J)
        return J

    out = np.full((t_out.size, n), np.nan)
    y, t, k, e, nfev = pop.y0[s].copy(), 0.0, 0, 0, 0
    ev = pop.events
    for stop in np.union1d(ev.time, [t_out[-1]]):
        if stop > t:
            inner = t_out[(t_out > t) & (t_out < stop)]
            sol = solve_ivp(f, (t, stop), y, method=method, t_eval=np.append(inner, stop), jac=jac,
                            rtol=SETTINGS.rtol, atol=SETTINGS.atol)
            if not sol.success:
                raise RuntimeError(f"scipy {method} failed for subject {s} at t = {t}: {sol.message}")
            nfev += sol.nfev
            out[k:k + inner.size] = sol.y[:, :-1].T
            k += inner.size
            y, t = sol.y[:, -1].copy(), float(stop)
        if k < t_out.size and t_out[k] == t:
            out[k] = y
            k += 1
        while e < len(ev) and ev.time[e] == t:
            y[ev.state[e]] += ev.amount[e]
            e += 1
    return out, nfev


def roadrunner_for(sbml: str, n_states: int, rtol: float = RR_RTOL, atol: float = RR_ATOL) -> roadrunner.RoadRunner:
    rr = roadrunner.RoadRunner(sbml)
    rr.setIntegrator("cvode")
    rr.integrator.relative_tolerance = rtol
    assert rr.model.getNumFloatingSpecies() + rr.model.getNumRateRules() == n_states
    # a list: a scalar absolute tolerance is scaled by each state's initial value (see tests/test_sbml.py)
    rr.integrator.setValue("absolute_tolerance", [atol] * n_states)
    rr.integrator.setValue("maximum_num_steps", 10**6)
    return rr


def max_rel_diff(ours: np.ndarray, theirs: np.ndarray) -> tuple[float, int, float]:
    """(subjects, times, observables) arrays -> largest relative difference, the observable where, and
    the largest difference relative to the observable's scale (max |value|): the relative difference
    is floored there near zero crossings of the % change observables."""
    scale = np.maximum(np.abs(ours).max(axis=(0, 1)), np.abs(theirs).max(axis=(0, 1)))
    floor = 1e-6 * scale + 1e-300
    rel = np.abs(ours - theirs) / np.maximum(np.maximum(np.abs(ours), np.abs(theirs)), floor)
    per_obs = rel.max(axis=(0, 1))
    j = int(per_obs.argmax())
    return float(per_obs[j]), j, float((np.abs(ours - theirs).max(axis=(0, 1)) / np.maximum(scale, 1e-300)).max())


def osteoqsp_runs(eng: Engine, pop: Population, n: int, n_single: int, settings: SolverSettings, label: str
                  ) -> tuple[np.ndarray, float, float]:
    """States of all n subjects by the batch; batch wall time; single-thread time per subject on a sample."""
    run_batch(eng, pop, np.arange(min(2, n)), settings)
    t0 = time.perf_counter()
    Y, status, steps = run_batch(eng, pop, np.arange(n), settings)
    t_batch = time.perf_counter() - t0
    assert np.all(status < 2), f"{label} failed for subjects {np.flatnonzero(status >= 2)}"
    t0 = time.perf_counter()
    for s in range(n_single):
        single, st, _ = eng.solve(pop.y0[s], pop.p[s], pop.t_out, pop.events, settings)
        assert st < 2 and np.array_equal(single, Y[s])
    t_single = (time.perf_counter() - t0) / n_single
    print(f"{label}: {np.mean(steps):.0f} steps/subject = {np.mean(steps) / pop.t_out[-1]:.1f}/day "
          f"({np.sum(status == 1)} used the stiff fallback), "
          f"{1e6 * t_single / np.mean(steps[:n_single]):.2f} us/step single-thread")
    return Y, t_batch, t_single


T = TypeVar("T")


def timed(fn: Callable[[], T]) -> tuple[T, float]:
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


@dataclass
class PeerRow:
    name: str
    subjects: int
    ms: float  # per subject
    diff: tuple[float, int, float]
    note: str  # for the lines under the table


def peer_runs(eng: Engine, scenario: Scenario, pop: Population, obs: np.ndarray, samples: dict[str, int]
              ) -> list[PeerRow]:
    """AMICI, diffrax (Tsit5, Kvaerno5) and deSolve on the first subjects; each one left out if not installed."""
    segs = peers.Segments.of(pop.events, pop.t_out, eng.n_states)
    rows: list[PeerRow] = []

    def observed(states: np.ndarray, k: int) -> np.ndarray:
        return np.array([eng.observe(pop.t_out, states[s], pop.p[s]) for s in range(k)])

    k = samples["amici"]
    if k:
        try:
            version = peers.amici_version()
            with tempfile.TemporaryDirectory(prefix="osteoqsp-amici-") as build:
                sbml = to_sbml(scenario, settings=SETTINGS)  # the typical subject: each sampled one sets its own
                am = peers.AmiciModel(eng.model, sbml, build)
                t_sim, steps, states = 0.0, 0, []
                for s in range(k):
                    (x, st), dt = timed(lambda: am.simulate(pop.y0[s], pop.p[s], pop.t_out, segs, RR_RTOL, RR_ATOL))
                    t_sim, steps = t_sim + dt, steps + st
                    states.append(x)
            diff = max_rel_diff(obs[:k], observed(np.array(states), k))
            rows.append(PeerRow("AMICI CVODES", k, 1e3 * t_sim / k, diff,
                                f"{version}: SBML import + C++ compile {am.t_import:.1f} s, load {am.t_load:.2f} s "
                                f"(once for all subjects, not in the table); {steps / k:.0f} CVODES steps/subject"))
        except peers.Unavailable as e:
            print(f"AMICI left out: {e}")
        except Exception as e:  # a failed build: say why, go on with the others
            print(f"AMICI left out: {type(e).__name__}: {str(e)[:300]}")

    for method in ("Tsit5", "Kvaerno5"):
        k = samples[method.lower()]
        if not k:
            continue
        try:
            version = peers.diffrax_versions()
            import jax
            fn = peers.diffrax_solver(eng.model, segs, pop.t_out, method, SETTINGS.rtol, SETTINGS.atol)
            Y0, P = jax.numpy.asarray(pop.y0[:k]), jax.numpy.asarray(pop.p[:k])
            compiled, t_jit = timed(lambda: fn.lower(Y0, P).compile())
            (states, steps), dt = timed(lambda: jax.block_until_ready(compiled(Y0, P)))
            rows.append(PeerRow(f"diffrax {method} (vmap over {k})", k, 1e3 * dt / k,
                                max_rel_diff(obs[:k], observed(np.asarray(states), k)),
                                f"{version}: diffrax {method} trace + XLA compile {t_jit:.1f} s (not in the table); "
                                f"{np.mean(np.asarray(steps)):.0f} steps/subject, {jax.device_count()} "
                                f"{jax.default_backend()} device(s)"))
        except peers.Unavailable as e:
            print(f"diffrax {method} left out: {e}")

    k = samples["desolve"]
    if k:
        try:
            (states, secs, calls, version), dt = timed(
                lambda: peers.desolve_run(eng.model, pop.y0[:k], pop.p[:k], pop.t_out, segs, SETTINGS.rtol,
                                          SETTINGS.atol))
            rows.append(PeerRow("R deSolve LSODA", k, 1e3 * float(np.mean(secs)),
                                max_rel_diff(obs[:k], observed(states, k)),
                                f"{version}: {np.mean(calls):.0f} rhs calls/subject; Rscript start, data exchange "
                                f"and R's timer outside: {dt - float(np.sum(secs)):.1f} s (not in the table)"))
        except peers.Unavailable as e:
            print(f"R deSolve left out: {e}")
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--subjects", type=int, default=1000, help="population size for the batched engine")
    ap.add_argument("--rr-sample", type=int, default=10, help="subjects run in libroadrunner")
    ap.add_argument("--scipy-sample", type=int, default=5, help="subjects run with scipy LSODA and BDF")
    ap.add_argument("--single-sample", type=int, default=20, help="subjects for osteoqsp's single-thread time")
    ap.add_argument("--amici-sample", type=int, default=5, help="subjects run in AMICI (0: leave it out)")
    ap.add_argument("--tsit5-sample", type=int, default=10, help="subjects run with diffrax Tsit5 (vmap)")
    ap.add_argument("--kvaerno5-sample", type=int, default=1, help="subjects run with diffrax Kvaerno5 (vmap)")
    ap.add_argument("--desolve-sample", type=int, default=1, help="subjects run with R deSolve LSODA")
    ap.add_argument("--quick", action="store_true", help="N=50, rr-sample 2, scipy-sample 1, single-sample 5, "
                    "amici-sample 1, tsit5-sample 2, kvaerno5-sample 1, desolve-sample 1")
    args = ap.parse_args()
    if args.quick:
        args.subjects, args.rr_sample, args.scipy_sample, args.single_sample = 50, 2, 1, 5
        args.amici_sample, args.tsit5_sample, args.kvaerno5_sample, args.desolve_sample = 1, 2, 1, 1
    n = args.subjects
    n_rr, n_sp, n_single = (min(k, n) for k in (args.rr_sample, args.scipy_sample, args.single_sample))
    samples = {"amici": args.amici_sample, "tsit5": args.tsit5_sample, "kvaerno5": args.kvaerno5_sample,
               "desolve": args.desolve_sample}
    samples = {key: min(k, n) for key, k in samples.items()}
    n_obs = max(n_rr, n_sp, n_single, *samples.values())

    print(f"python {platform.python_version()}, numpy {np.__version__}, numba {numba.__version__} "
          f"({numba.get_num_threads()} threads), roadrunner {roadrunner.__version__}, scipy {scipy.__version__}, "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}")
    scenario = Scenario.from_dict(SCENARIO)
    eng, t_jit = timed(lambda: engine_for("human"))
    pop, t_setup = timed(lambda: draw_population(scenario, eng, n))
    obs_names = list(eng.gen.observable_names)
    print(f"{eng.n_states} states, {len(obs_names)} observables, {len(pop.events)} doses, {pop.t_out.size} outputs; "
          f"engine load {t_jit:.1f} s; set-up (baselines + events) {t_setup:.1f} s = "
          f"{1e3 * t_setup / n:.1f} ms/subject")

    # osteoqsp with each method: warm up (numba cache load / parallel compile), the batch, the single-thread sample
    eng.solve(pop.y0[0], pop.p[0], pop.t_out[:3], Events(pop.events.table[:2]), SETTINGS)
    Y, t_batch, t_single = osteoqsp_runs(eng, pop, n, n_single, SETTINGS, "osteoqsp")
    Ys, t_batch_s, t_single_s = osteoqsp_runs(eng, pop, n, n_single, SPLIT, "osteoqsp split")
    obs = np.array([eng.observe(pop.t_out, Y[s], pop.p[s]) for s in range(n_obs)])
    obs_s = np.array([eng.observe(pop.t_out, Ys[s], pop.p[s]) for s in range(n_obs)])
    split_diff = max_rel_diff(obs, obs_s)

    # libroadrunner: export (not timed), load/compile (timed apart), simulate (timed)
    t_load = t_rr = 0.0
    rr_obs = []
    for s in range(n_rr):
        sbml = to_sbml(scenario, parameters=pop.overrides[s], settings=SETTINGS)
        rr, dt = timed(lambda: roadrunner_for(sbml, eng.n_states))
        t_load += dt
        rr.timeCourseSelections = ["time"] + obs_names
        res, dt = timed(lambda: np.asarray(rr.simulate(times=[float(t) for t in pop.t_out])))
        t_rr += dt
        assert np.allclose(res[:, 0], pop.t_out, rtol=0, atol=1e-9)
        rr_obs.append(res[:, 1:])
    rr_diff = max_rel_diff(obs[:n_rr], np.array(rr_obs)) if n_rr else (np.nan, 0, np.nan)
    rr_split = max_rel_diff(obs_s[:n_rr], np.array(rr_obs)) if n_rr else (np.nan, 0, np.nan)

    # scipy: solve_ivp restarting at each dose
    sp_rows = []
    for method in ("LSODA", "BDF"):
        t_sp, nfev, sp_obs = 0.0, 0, []
        for s in range(n_sp):
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                (states, nf), dt = timed(lambda: scipy_subject(eng, pop, s, method))
            if caught:
                print(f"scipy {method}, subject {s}: {len(caught)} warnings, first: {caught[0].message}")
            t_sp += dt
            nfev += nf
            sp_obs.append(eng.observe(pop.t_out, states, pop.p[s]))
        diff = max_rel_diff(obs[:n_sp], np.array(sp_obs)) if n_sp else (np.nan, 0, np.nan)
        sp_rows.append((method, t_sp / max(n_sp, 1), diff, nfev / max(n_sp, 1)))

    # the field's other engines, where installed
    peer_rows = peer_runs(eng, scenario, pop, obs, samples)

    # the table
    ref = 1e3 * t_single
    rows = [(f"osteoqsp solve_batch ({numba.get_num_threads()} threads)", n, 1e3 * t_batch / n, None),
            ("osteoqsp solve (1 thread)", n_single, ref, None),
            (f"osteoqsp split solve_batch ({numba.get_num_threads()} thr.)", n, 1e3 * t_batch_s / n, None),
            ("osteoqsp split solve (1 thread)", n_single, 1e3 * t_single_s, split_diff),
            ("libroadrunner CVODE", n_rr, 1e3 * t_rr / max(n_rr, 1), rr_diff)]
    rows += [(f"scipy solve_ivp {m}", n_sp, 1e3 * t, d) for m, t, d, _ in sp_rows]
    rows += [(r.name, r.subjects, r.ms, r.diff) for r in peer_rows]
    print(f"\n{'engine':<34} {'subjects':>8} {'ms/subject':>11} {'ratio':>7}  "
          "max rel. diff vs osteoqsp (where)   max diff/scale")
    for name, k, ms, diff in rows:
        where = "" if diff is None else f"{diff[0]:.1e} ({obs_names[diff[1]]})".ljust(38) + f"{diff[2]:.1e}"
        print(f"{name:<34} {k:>8} {ms:>11.1f} {ms / ref:>7.2f}  {where}")
    print(f"\nosteoqsp batch wall time {t_batch:.2f} s for {n} subjects; set-up {t_setup:.1f} s "
          f"({1e3 * t_setup / n:.1f} ms/subject, not in the table)")
    print(f"libroadrunner load + compile {1e3 * t_load / max(n_rr, 1):.0f} ms/subject (not in the table)")
    print(f"split against libroadrunner: max rel. diff {rr_split[0]:.1e} ({obs_names[rr_split[1]]}), "
          f"max diff/scale {rr_split[2]:.1e}; libroadrunner / split per subject, single thread: "
          f"{t_rr / max(n_rr, 1) / t_single_s:.0f}x")
    for m, _, _, nf in sp_rows:
        print(f"scipy {m}: {nf:.0f} rhs calls/subject")
    for r in peer_rows:
        print(f"{r.name}: {r.note}")
    print(f"load average (1 min) at the end: {os.getloadavg()[0]:.2f} (other processes on the machine skew timings)")


if __name__ == "__main__":
    main()
