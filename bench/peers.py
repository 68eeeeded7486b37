"""The field's other engines on osteoqsp's model, for bench/engine_vs_reference.py (each optional).

  AMICI     SBML import of `to_sbml`'s document without its dose events (compiled once: the subjects differ
            in parameter values and initial states only, which AMICI sets at run time), CVODES (BDF, Newton,
            dense LU), restarting at each dose
  diffrax   the JAX right-hand side generated from the declaration (osteoqsp.engine.jax_backend), Tsit5 and
            Kvaerno5 with a PID step-size controller, the doses as restarts (lax.scan over the dose intervals),
            vmap over subjects, one jit
  deSolve   R code for the right-hand side generated from the declaration (sympy's R printer), LSODA through
            Rscript, restarting at each dose; timed inside R
Every runner returns the states on t_out (outputs at a dose time are pre-dose, as in osteoqsp), so the
observables are computed by osteoqsp from each engine's states. An engine that is not installed raises
`Unavailable` with the reason.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import sympy as sp

from osteoqsp.engine import Events
from osteoqsp.symbolic.declare import TIME, Model


class Unavailable(RuntimeError):
    """The engine is not installed here (the message says why)."""


@dataclass(frozen=True)
class Segments:
    """The scenario cut at its dose times: integrate over [start[i], stop[i]], then add dose[i] (the doses at
    stop[i]); dose0 is added at t = 0 after the output there. Output k > 0 (or every output, if t_out[0] > 0)
    is taken in segment seg[k] (the segment whose (start, stop] holds it): states at t_out[k]."""

    start: np.ndarray  # (G,)
    stop: np.ndarray  # (G,)
    dose: np.ndarray  # (G, n) added at stop
    dose0: np.ndarray  # (n,)
    seg: np.ndarray  # (T,) segment of each output, -1 for an output at t = 0 (the initial state)

    @classmethod
    def of(cls, events: Events, t_out: np.ndarray, n_states: int) -> Segments:
        assert t_out[0] >= 0.0 and np.all(np.diff(t_out) > 0)
        t_end = float(t_out[-1])
        times = events.time[events.time <= t_end]
        points = np.union1d(np.union1d(times, [0.0]), [t_end])
        start, stop = points[:-1], points[1:]
        dose = np.zeros((stop.size, n_states))
        dose0 = np.zeros(n_states)
        for e in range(len(events)):
            t = events.time[e]
            if t == 0.0:
                dose0[events.state[e]] += events.amount[e]
            elif t < t_end:
                dose[np.searchsorted(stop, t), events.state[e]] += events.amount[e]
        seg = np.where(t_out == 0.0, -1, np.searchsorted(stop, t_out))
        return cls(start, stop, dose, dose0, seg)

    def inner(self, i: int, t_out: np.ndarray) -> np.ndarray:
        """Output times in segment i."""
        return t_out[self.seg == i]


# ---------------------------------------------------------------------------------------------------------
# JAX + diffrax
# ---------------------------------------------------------------------------------------------------------
def diffrax_versions() -> str:
    try:
        import diffrax
        import jax
    except ImportError as e:
        raise Unavailable(f"jax/diffrax not installed ({e}); pip install -e '.[bench]'") from None
    return f"jax {jax.__version__}, diffrax {diffrax.__version__}"


def diffrax_solver(model: Model, segs: Segments, t_out: np.ndarray, method: str, rtol: float, atol: float):
    """A jitted function (Y0 (S, n), P (S, P)) -> (states (S, T, n), steps (S,)) for the whole scenario."""
    diffrax_versions()
    import diffrax
    import jax
    import jax.numpy as jnp

    from osteoqsp.engine.jax_backend import jax_rhs

    f = jax_rhs(model)
    term = diffrax.ODETerm(lambda t, y, p: f(t, y, p))
    solver = {"Tsit5": diffrax.Tsit5, "Kvaerno5": diffrax.Kvaerno5}[method]()
    ctrl = diffrax.PIDController(rtol=rtol, atol=atol)
    # the outputs of each segment, padded with its stop to one width, then the stop itself (the restart state)
    width = max(1, int(np.bincount(segs.seg[segs.seg >= 0], minlength=segs.stop.size).max()))
    ts = np.repeat(segs.stop[:, None], width + 1, axis=1)
    col = np.zeros(t_out.size, dtype=np.int64)
    for i in np.unique(segs.seg[segs.seg >= 0]):
        k = np.flatnonzero(segs.seg == i)
        ts[i, :k.size] = t_out[k]
        col[k] = np.arange(k.size)
    xs = tuple(jnp.asarray(a) for a in (segs.start, segs.stop, ts, segs.dose))
    dose0 = jnp.asarray(segs.dose0)
    at0 = segs.seg < 0
    seg_idx, col_idx = jnp.asarray(np.where(at0, 0, segs.seg)), jnp.asarray(col)

    def one(y0, p):
        def step(y, x):
            a, b, tsi, dose = x
            sol = diffrax.diffeqsolve(term, solver, a, b, None, y, args=p, saveat=diffrax.SaveAt(ts=tsi),
                                      stepsize_controller=ctrl, max_steps=1_000_000)
            return sol.ys[-1] + dose, (sol.ys[:-1], sol.stats["num_accepted_steps"] + sol.stats["num_rejected_steps"])

        _, (ys, steps) = jax.lax.scan(step, y0 + dose0, xs)
        out = ys[seg_idx, col_idx]
        out = jnp.where(jnp.asarray(at0)[:, None], y0[None, :], out)
        return out, steps.sum()

    return jax.jit(jax.vmap(one))


# ---------------------------------------------------------------------------------------------------------
# R deSolve
# ---------------------------------------------------------------------------------------------------------
def r_rhs_source(model: Model) -> str:
    """R source of `rhs <- function(t, y, p)` for deSolve (1-based y and p), from the declaration."""
    names = {TIME: sp.Symbol("t")}
    names.update({sp.Symbol(s.name, real=True): sp.Symbol(f"y[{i + 1}]") for i, s in enumerate(model.states)})
    names.update({sp.Symbol(p, real=True): sp.Symbol(f"p[{i + 1}]") for i, p in enumerate(model.parameters)})
    n = len(model.parameters)
    names.update({sp.Symbol(r.name, real=True): sp.Symbol(f"p[{n + j + 1}]") for j, r in enumerate(model.references)})
    lines = ["rhs <- function(t, y, p) {"]
    for name, expr in [(x.name, x.expr) for x in model.lets] + [(f.name, f.expr) for f in model.fluxes]:
        lines.append(f"  .{name} <- {sp.rcode(expr.xreplace(names), precision=17)}")
        names[sp.Symbol(name, real=True)] = sp.Symbol(f".{name}")
    rates = model.rates()
    lines.append("  list(c(" + ", ".join(sp.rcode(rates[s.name].xreplace(names), precision=17)
                                       for s in model.states) + "))")
    return "\n".join(lines) + "\n}\n"


_R_DRIVER = r"""
suppressPackageStartupMessages(library(deSolve))
args <- commandArgs(trailingOnly = TRUE)
d <- args[1]
dims <- scan(file.path(d, "dims.txt"), quiet = TRUE)   # subjects, states, parameters, outputs, segments
S <- dims[1]; n <- dims[2]; np <- dims[3]; nt <- dims[4]; G <- dims[5]
rd <- function(name, k) readBin(file.path(d, name), "double", k, size = 8, endian = "little")
Y0 <- matrix(rd("y0.bin", S * n), nrow = S, byrow = TRUE)
P <- matrix(rd("p.bin", S * np), nrow = S, byrow = TRUE)
t_out <- rd("t_out.bin", nt)
start <- rd("start.bin", G); stop <- rd("stop.bin", G)
dose <- matrix(rd("dose.bin", G * n), nrow = G, byrow = TRUE)
dose0 <- rd("dose0.bin", n)
seg <- rd("seg.bin", nt)
rtol <- as.numeric(args[2]); atol <- as.numeric(args[3])
source(file.path(d, "rhs.R"))
secs <- numeric(S); calls <- numeric(S)
for (s in 1:S) {
  p <- P[s, ]
  out <- matrix(NA_real_, nrow = nt, ncol = n)
  tm <- system.time({
    y <- Y0[s, ]
    out[seg < 0, ] <- rep(y, each = sum(seg < 0))
    y <- y + dose0
    for (i in 1:G) {
      k <- which(seg == i - 1)
      times <- c(start[i], t_out[k])
      if (length(k) == 0 || t_out[k[length(k)]] != stop[i]) times <- c(times, stop[i])
      sol <- lsoda(y, times, rhs, p, rtol = rtol, atol = atol, maxsteps = 1e6)
      if (attr(sol, "istate")[1] != 2) stop(paste("lsoda failed in segment", i, "istate", attr(sol, "istate")[1]))
      calls[s] <- calls[s] + attr(sol, "istate")[3]
      if (length(k) > 0) out[k, ] <- sol[1 + seq_along(k), 2:(n + 1), drop = FALSE]
      y <- sol[nrow(sol), 2:(n + 1)] + dose[i, ]
    }
  })
  secs[s] <- tm[["elapsed"]]
  writeBin(as.vector(t(out)), file.path(d, sprintf("out_%d.bin", s - 1)), size = 8, endian = "little")
}
writeLines(format(c(secs, calls), digits = 17), file.path(d, "secs.txt"))
cat(as.character(packageVersion("deSolve")), R.version$major, R.version$minor, "\n")
"""


def desolve_run(model: Model, y0: np.ndarray, p: np.ndarray, t_out: np.ndarray, segs: Segments,
                rtol: float, atol: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, str]:
    """LSODA in R for each subject: states (S, T, n), seconds per subject timed in R, rhs calls, version."""
    rscript = shutil.which("Rscript")
    if rscript is None:
        raise Unavailable("Rscript not found (apt-get install r-base-core r-cran-desolve)")
    chk = subprocess.run([rscript, "-e", "library(deSolve)"], capture_output=True, text=True)
    if chk.returncode != 0:
        raise Unavailable("R package deSolve not installed (apt-get install r-cran-desolve)")
    S, n = y0.shape
    with tempfile.TemporaryDirectory(prefix="osteoqsp-desolve-") as tmp:
        d = Path(tmp)
        (d / "rhs.R").write_text(r_rhs_source(model))
        (d / "driver.R").write_text(_R_DRIVER)
        (d / "dims.txt").write_text(f"{S} {n} {p.shape[1]} {t_out.size} {segs.stop.size}\n")
        for name, a in (("y0", y0), ("p", p), ("t_out", t_out), ("start", segs.start), ("stop", segs.stop),
                        ("dose", segs.dose), ("dose0", segs.dose0), ("seg", segs.seg.astype(float))):
            np.ascontiguousarray(a, dtype="<f8").tofile(d / f"{name}.bin")
        res = subprocess.run([rscript, str(d / "driver.R"), str(d), repr(rtol), repr(atol)], capture_output=True,
                             text=True)
        if res.returncode != 0:
            raise RuntimeError(f"Rscript failed: {res.stderr.strip()[-2000:]}")
        vals = np.array([float(x) for x in (d / "secs.txt").read_text().split()])
        out = np.stack([np.fromfile(d / f"out_{s}.bin", dtype="<f8").reshape(t_out.size, n) for s in range(S)])
        v = res.stdout.split()
    return out, vals[:S], vals[S:], f"deSolve {v[0]}, R {v[1]}.{v[2]}"


# ---------------------------------------------------------------------------------------------------------
# AMICI
# ---------------------------------------------------------------------------------------------------------
def amici_version() -> str:
    try:
        import amici
    except ImportError as e:
        raise Unavailable(f"amici not installed ({e}); pip install -e '.[bench]' (needs swig, BLAS, a C++ "
                          "compiler)") from None
    return f"amici {amici.__version__}"


def _without_events(sbml: str) -> str:
    import libsbml

    doc = libsbml.readSBMLFromString(sbml)
    m = doc.getModel()
    while m.getNumEvents():
        m.removeEvent(0)
    return libsbml.writeSBMLToString(doc)


class AmiciModel:
    """The SBML export compiled by AMICI once; each subject sets its parameters and initial states by id."""

    def __init__(self, model: Model, sbml: str, build_dir: str | os.PathLike) -> None:
        amici_version()
        import logging

        import amici
        import amici.sim.sundials as sim

        # CVODES warns once per solve that the model's Max/Piecewise root functions start at zero: not news
        logging.getLogger("amici").setLevel(logging.WARNING)

        from osteoqsp.interop.sbml import sbml_ids

        self.sim = sim
        ids = sbml_ids(model)
        name = f"osteoqsp_{model.species}_bench"
        out = Path(build_dir) / name
        # the model's SWIG wrapper must come from the SWIG that built amici (pip's swig, beside this python)
        swig = Path(sys.executable).parent / "swig"
        if "SWIG" not in os.environ and swig.exists():
            os.environ["SWIG"] = str(swig)
        t0 = time.perf_counter()
        importer = amici.SbmlImporter(_without_events(sbml), from_file=False)
        importer.sbml2amici(name, out, observation_model=[], verbose=False, compute_conservation_laws=False,
                            generate_sensitivity_code=False)
        self.t_import = time.perf_counter() - t0
        t0 = time.perf_counter()
        module = amici.import_model_module(name, out)
        self.model = module.get_model()
        self.t_load = time.perf_counter() - t0
        free = set(self.model.get_free_parameter_ids())
        fixed = set(self.model.get_fixed_parameter_ids())
        self.setters = []  # (osteoqsp parameter-vector index, setter)
        names = list(model.parameters) + [r.name for r in model.references]
        kinds = ["parameter"] * len(model.parameters) + ["reference"] * len(model.references)
        for i, (kind, nm) in enumerate(zip(kinds, names)):
            sid = ids[(kind, nm)]
            if sid in free:
                self.setters.append((i, sid, self.model.set_free_parameter_by_id))
            elif sid in fixed:
                self.setters.append((i, sid, self.model.set_fixed_parameter_by_id))
            # else: hard-coded by the import (not a free parameter): cannot differ between subjects
        state_ids = list(self.model.get_state_ids())
        self.order = np.array([state_ids.index(ids[("state", s.name)]) for s in model.states])
        assert len(state_ids) == len(model.states)
        self.solver = self.model.create_solver()

    def simulate(self, y0: np.ndarray, p: np.ndarray, t_out: np.ndarray, segs: Segments, rtol: float,
                 atol: float) -> tuple[np.ndarray, int]:
        """States on t_out (osteoqsp's order), restarting at each dose; CVODES steps."""
        sim, m, solver = self.sim, self.model, self.solver
        for i, sid, setter in self.setters:
            setter(sid, float(p[i]))
        solver.set_relative_tolerance(rtol)
        solver.set_absolute_tolerance(atol)
        solver.set_max_steps(10**6)
        n = y0.size
        out = np.full((t_out.size, n), np.nan)
        out[segs.seg < 0] = y0
        y = y0 + segs.dose0
        steps = 0
        for i in range(segs.stop.size):
            k = np.flatnonzero(segs.seg == i)
            ts = t_out[k]
            if ts.size == 0 or ts[-1] != segs.stop[i]:
                ts = np.append(ts, segs.stop[i])
            ya = np.empty(n)
            ya[self.order] = y
            m.set_t0(float(segs.start[i]))
            m.set_initial_state(ya.tolist())
            m.set_timepoints(ts.tolist())
            rdata = sim.run_simulation(m, solver)
            if rdata.status != sim.AMICI_SUCCESS:
                raise RuntimeError(f"AMICI failed in segment {i}: {sim.simulation_status_to_str(rdata.status)}")
            x = np.asarray(rdata.x)[:, self.order]
            out[k] = x[:k.size]
            steps += int(np.asarray(rdata.numsteps)[-1])
            y = x[-1] + segs.dose[i]
        return out, steps
