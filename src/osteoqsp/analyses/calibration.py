"""Calibration: fit the parameters marked `fitted` to the evidence targets of `validate`.

The objective is a weighted sum of squares: each mapped target (and, in a full calibration, each claim of
`evidence/constraints.yaml`: numbers the evidence lacks, stated as assumptions) contributes ((simulated - observed) / s)^2,
s being half the width of its interval (its reported SD, half its 95 % CI or range, or 25 % of the value
where none is given: see `evidence.interval`). Parameters are fitted on a log scale within the bounds of
`model/params/bounds.csv`, with a weak log-normal prior at the hand-set values of the tables (one SD = a
factor of 3, assumed; it keeps the parameters that no target informs where they were), by scipy's trust-region reflective least squares from several starts (the
current values, then a seeded Latin hypercube over the bounds). Uncertainty: the Fisher information of the
weighted residuals at the optimum gives Wald intervals on log scale; `profile_points` > 0 adds profile
likelihoods (each parameter fixed on a grid, the others re-fitted; 95 % threshold: chi2(1) = 3.84, Raue et
al. 2009 Bioinformatics 25:1923). A parameter is reported not identifiable when its 95 % interval reaches a
bound or spans more than a factor of 10 each way, or when no target responds to it.

Targets whose measure is a step function of the parameters (a time of maximum on the output grid, a last
detectable sampling time, detectable or not) have no useful gradient: they count in the objective but
move the fit only between starts.
"""

from __future__ import annotations

import csv
import json
import math
import time
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from importlib import resources
from pathlib import Path
from typing import Any, Callable

import numpy as np
from scipy.optimize import least_squares
from scipy.stats import qmc

from osteoqsp.analyses.evidence import Comparison, check_constraints, species_of, validate, validation_spec
from osteoqsp.model.parameters import load_parameters
from osteoqsp.runs.subject import engine_for

CHI2_95 = 3.841  # chi-square quantile, 1 degree of freedom
PRIOR_FOLD = 3.0  # assumed: a hand-set value is known within a factor of 3 (one SD on log scale)


@dataclass(frozen=True)
class FitParameter:
    name: str
    unit: str  # of the table
    start: float
    prior: float  # the hand-set value of the tables: centre of the log-normal prior
    lower: float
    upper: float
    model_factor: float  # table unit -> model unit
    reason: str


def fit_parameters(species: str, names: list[str] | None = None, from_shipped: bool = False
                   ) -> list[FitParameter]:
    """The parameters marked fitted in the species tables (or `names`), with their bounds; starting from
    the hand-set values of the tables, or from the shipped calibration (refining it)."""
    table = load_parameters(species, calibrated=from_shipped)
    units = engine_for(species).model.parameter_units
    text = resources.files("osteoqsp.model").joinpath("params", "bounds.csv").read_text()
    bounds = {r["name"]: r for r in csv.DictReader(line for line in text.splitlines() if not line.startswith("#"))
              if r["species"] == species}
    # by default, the fitted parameters with bounds for this species (the rat shares the human PK values,
    # fitted to human data, and fits only its own bone parameters)
    chosen = names or [n for n, row in table.rows.items() if row.status == "fitted" and n in units and n in bounds]
    out = []
    for name in chosen:
        if name not in bounds:
            raise KeyError(f"{name}: no bounds for {species} in model/params/bounds.csv")
        row, b = table.rows[name], bounds[name]
        if b["unit"] != row.unit:
            raise ValueError(f"{name}: bounds in {b['unit']} but the table is in {row.unit}")
        lo, hi = float(b["lower"]), float(b["upper"])
        if not 0 < lo <= row.value <= hi:
            raise ValueError(f"{name}: value {row.value} outside its bounds [{lo}, {hi}]")
        hand = load_parameters(species, calibrated=False).rows[name].value
        out.append(FitParameter(name, row.unit, row.value, hand, lo, hi,
                                table.value_in(name, units[name]) / row.value, b["reason"]))
    return out


class Problem:
    """Weighted residuals of the targets of one species as a function of log parameters."""

    def __init__(self, species: str = "human", parameters: list[str] | None = None,
                 targets: list[int] | None = None, use_constraints: bool | None = None,
                 from_shipped: bool = False, prior_fold: float = PRIOR_FOLD) -> None:
        self.species = species
        self.prior_fold = prior_fold
        # the claims of constraints.yaml count in the objective of a full calibration (no target subset)
        self.use_constraints = targets is None if use_constraints is None else use_constraints
        self.params = fit_parameters(species, parameters, from_shipped)
        mapped = [item["target"] for item in validation_spec()
                  if species_of(item) == species and item.get("calibrate", True)]
        self.targets = sorted(set(mapped) & set(targets)) if targets else mapped
        if not self.targets:
            raise ValueError(f"no mapped evidence target for {species} among {targets}")
        self.lo = np.log([p.lower for p in self.params])
        self.hi = np.log([p.upper for p in self.params])
        self.x0 = np.log([p.start for p in self.params])
        self.x_prior = np.log([p.prior for p in self.params])
        self.evaluations = 0

    def overrides(self, x: np.ndarray) -> dict[str, dict[str, float]]:
        return {self.species: {p.name: float(math.exp(v)) * p.model_factor for p, v in zip(self.params, x)}}

    def compare(self, x: np.ndarray) -> list[Comparison]:
        self.evaluations += 1
        comparisons, _ = validate(self.overrides(x), set(self.targets))
        if self.use_constraints:
            comparisons += check_constraints(self.overrides(x), self.species)
        return comparisons

    def residuals(self, x: np.ndarray) -> np.ndarray:
        """The weighted residuals of the targets, then one prior term per parameter (if prior_fold > 1)."""
        data = np.array([weighted(c) for c in self.compare(x)])
        return np.concatenate([data, self.prior_residuals(x)])

    def prior_residuals(self, x: np.ndarray) -> np.ndarray:
        if self.prior_fold <= 1:
            return np.zeros(0)
        return (x - self.x_prior) / math.log(self.prior_fold)

    def objective(self, x: np.ndarray) -> float:
        return float(np.sum(self.residuals(x) ** 2))


def weighted(c: Comparison) -> float:
    """(simulated - observed) / half-width; for a one-sided claim, 0 while it holds, else the excess over
    its bound / its tolerance."""
    if math.isinf(c.low) or math.isinf(c.high):
        bound = c.high if math.isinf(c.low) else c.low
        return 0.0 if c.inside else (c.simulated - bound) / float(c.item.get("tolerance", 1.0))
    s = (c.high - c.low) / 2.0
    return (c.simulated - c.observed) / (s if s > 0 else max(abs(c.observed) * 0.25, 1e-12))


def _fit(problem: Problem, x0: np.ndarray, free: np.ndarray, max_nfev: int) -> Any:
    """least squares over the free coordinates (log scale, bounded), the others held at x0."""
    def fun(z: np.ndarray) -> np.ndarray:
        x = x0.copy()
        x[free] = z
        return problem.residuals(x)

    z0 = np.clip(x0[free], problem.lo[free] + 1e-9, problem.hi[free] - 1e-9)
    return least_squares(fun, z0, bounds=(problem.lo[free], problem.hi[free]), method="trf", diff_step=1e-3,
                         x_scale=np.maximum(problem.hi[free] - problem.lo[free], 1e-6) / 4, max_nfev=max_nfev)


@dataclass
class Calibration:
    species: str
    parameters: list[FitParameter]
    targets: list[int]
    x_start: np.ndarray
    x_best: np.ndarray
    objective_start: float
    objective_best: float
    starts: list[dict[str, Any]]
    before: list[Comparison]
    after: list[Comparison]
    wald: list[tuple[float, float]]  # 95 % interval, table unit
    profiles: dict[str, list[tuple[float, float]]]  # name -> (value, objective) with the others re-fitted
    identifiable: dict[str, tuple[bool, str]]
    evaluations: int
    wall_s: float
    seed: int
    prior_fold: float = PRIOR_FOLD

    def estimates(self) -> dict[str, float]:
        return {p.name: float(math.exp(v)) for p, v in zip(self.parameters, self.x_best)}

    def table(self) -> list[dict[str, Any]]:
        rows = []
        for p, x, (lo, hi) in zip(self.parameters, self.x_best, self.wald):
            ok, why = self.identifiable[p.name]
            prof = self.profiles.get(p.name)
            rows.append({"name": p.name, "unit": p.unit, "start": p.start, "estimate": float(math.exp(x)),
                         "ci95_low": lo, "ci95_high": hi, "ci_method": "profile" if prof else "wald",
                         "lower_bound": p.lower, "upper_bound": p.upper, "identifiable": ok, "note": why})
        return rows


def calibrate(species: str = "human", parameters: list[str] | None = None, targets: list[int] | None = None,
              use_constraints: bool | None = None, from_shipped: bool = False, starts: int = 3, seed: int = 0,
              max_nfev: int = 60, profile_points: int = 0, prior_fold: float = PRIOR_FOLD,
              progress: Callable[[str], None] | None = None) -> Calibration:
    """Multi-start weighted least squares; see the module text."""
    say = progress or (lambda _msg: None)
    t0 = time.perf_counter()
    problem = Problem(species, parameters, targets, use_constraints, from_shipped, prior_fold)
    n = len(problem.params)
    before = problem.compare(problem.x0)
    f_start = float(sum(weighted(c) ** 2 for c in before) + np.sum(problem.prior_residuals(problem.x0) ** 2))
    sampler = qmc.LatinHypercube(d=n, seed=seed)
    points = [problem.x0] + [problem.lo + u * (problem.hi - problem.lo) for u in sampler.random(max(starts - 1, 0))]
    free = np.ones(n, dtype=bool)
    runs, best = [], None
    for k, x0 in enumerate(points):
        say(f"start {k + 1}/{len(points)}")
        res = _fit(problem, x0, free, max_nfev)
        f = float(np.sum(res.fun ** 2))
        runs.append({"start": k, "objective": f, "nfev": int(res.nfev), "status": int(res.status),
                     "message": str(res.message), **{p.name: float(math.exp(v)) for p, v in zip(problem.params, res.x)}})
        if best is None or f < best[0]:
            best = (f, res.x.copy(), res.jac.copy())
    assert best is not None
    f_best, x_best, jac = best
    after = problem.compare(x_best)
    wald, ident = _wald(problem, x_best, jac[:len(after)])  # what the data alone say (no prior rows)
    profiles: dict[str, list[tuple[float, float]]] = {}
    if profile_points > 0:
        for i, p in enumerate(problem.params):
            say(f"profile {p.name} ({i + 1}/{n})")
            profiles[p.name], wald[i], ident[p.name] = _profile(problem, x_best, f_best, i, profile_points,
                                                                 max(10, max_nfev // 3))
    return Calibration(species, problem.params, problem.targets, problem.x0, x_best, f_start, f_best, runs,
                       before, after, wald, profiles, ident, problem.evaluations, time.perf_counter() - t0, seed,
                       prior_fold)


def _wald(problem: Problem, x: np.ndarray, jac: np.ndarray) -> tuple[list[tuple[float, float]],
                                                                      dict[str, tuple[bool, str]]]:
    """95 % Wald intervals from the Fisher information J'J of the weighted residuals (log scale). A
    parameter with a share of more than 10 % in a direction the targets do not see (a singular value below
    1e-6 of the largest, or a direction beyond the number of targets) is not identifiable."""
    _, sv, vt = np.linalg.svd(jac, full_matrices=True)
    rank = int(np.sum(sv > 1e-6 * (sv[0] if sv.size else 0.0)))
    null = vt[rank:]  # rows: directions of parameter space that leave the residuals unchanged
    share = np.sum(null ** 2, axis=0) if null.size else np.zeros(len(x))
    cov = np.linalg.pinv(jac.T @ jac, rcond=1e-12)
    se = np.sqrt(np.maximum(np.diag(cov), 0.0))
    out, ident = [], {}
    for i, p in enumerate(problem.params):
        if not np.any(np.abs(jac[:, i]) > 1e-8):
            out.append((p.lower, p.upper))
            ident[p.name] = (False, "no target responds to it")
            continue
        if share[i] > 0.1:
            out.append((p.lower, p.upper))
            ident[p.name] = (False, "the targets fix only a combination of it with other parameters")
            continue
        lo, hi = x[i] - 1.96 * se[i], x[i] + 1.96 * se[i]
        out.append((float(math.exp(max(lo, problem.lo[i]))), float(math.exp(min(hi, problem.hi[i])))))
        ident[p.name] = _judge(lo, hi, x[i], problem.lo[i], problem.hi[i])
    return out, ident


def _judge(lo: float, hi: float, x: float, lower: float, upper: float) -> tuple[bool, str]:
    if hi - x > math.log(10) or x - lo > math.log(10):
        return False, "95 % interval spans more than a factor of 10"
    if lo <= lower or hi >= upper:
        return False, "95 % interval reaches a bound"
    return True, ""


def _profile(problem: Problem, x_best: np.ndarray, f_best: float, i: int, points: int, max_nfev: int
             ) -> tuple[list[tuple[float, float]], tuple[float, float], tuple[bool, str]]:
    """Profile likelihood of parameter i: fixed on a grid over its bounds, the others re-fitted."""
    grid = np.unique(np.concatenate([np.linspace(problem.lo[i], problem.hi[i], points), [x_best[i]]]))
    free = np.ones(len(x_best), dtype=bool)
    free[i] = False
    prof = []
    for g in grid:
        x0 = x_best.copy()
        x0[i] = g
        if free.any():
            res = _fit(problem, x0, free, max_nfev)
            f = float(np.sum(res.fun ** 2))
        else:
            f = problem.objective(x0)
        prof.append((float(math.exp(g)), min(f, f_best) if g == x_best[i] else f))
    lo, hi = _crossings([math.log(v) for v, _ in prof], [f - f_best for _, f in prof], x_best[i])
    p = problem.params[i]
    closed = (prof[0][1] - f_best > CHI2_95) and (prof[-1][1] - f_best > CHI2_95)
    ok, why = _judge(lo, hi, x_best[i], problem.lo[i] - 1, problem.hi[i] + 1)
    if not closed:
        ok, why = False, "profile stays below the 95 % threshold up to a bound"
    return prof, (max(float(math.exp(lo)), p.lower), min(float(math.exp(hi)), p.upper)), (ok, why)


def _crossings(x: list[float], d: list[float], x_best: float) -> tuple[float, float]:
    """Where the profile (d = objective - best over the grid x) crosses the 95 % threshold on each side of
    the optimum, by linear interpolation; the grid's end where it does not cross."""
    k = int(np.argmin(np.abs(np.array(x) - x_best)))
    lo, hi = x[0], x[-1]
    for j in range(k, 0, -1):
        if d[j - 1] > CHI2_95 >= d[j]:
            lo = x[j - 1] + (CHI2_95 - d[j - 1]) * (x[j] - x[j - 1]) / (d[j] - d[j - 1])
            break
    for j in range(k, len(x) - 1):
        if d[j + 1] > CHI2_95 >= d[j]:
            hi = x[j] + (CHI2_95 - d[j]) * (x[j + 1] - x[j]) / (d[j + 1] - d[j])
            break
    return lo, hi


# ---- files ----

def write(cal: Calibration, outdir: str | Path) -> list[Path]:
    """calibrated.csv, residuals.csv, starts.csv, calibration.json and figures (residuals, profiles)."""
    from osteoqsp import __version__

    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    files = [out / "calibrated.csv", out / "residuals.csv", out / "starts.csv", out / "calibration.json"]
    _csv(files[0], cal.table())
    _csv(files[1], [{"target": b.target or b.endpoint, "study": b.study, "endpoint": b.endpoint, "unit": b.unit,
                     "observed": b.observed, "low": b.low, "high": b.high, "simulated_before": b.simulated,
                     "simulated_after": a.simulated, "weighted_residual_before": weighted(b),
                     "weighted_residual_after": weighted(a), "inside_before": b.inside, "inside_after": a.inside}
                    for b, a in zip(cal.before, cal.after)])
    _csv(files[2], cal.starts)
    meta = {"osteoqsp_version": __version__, "species": cal.species,
            "date": datetime.now(timezone.utc).strftime("%Y-%m-%d"), "objective_start": cal.objective_start,
            "objective_best": cal.objective_best, "targets": cal.targets,
            "inside_before": int(sum(c.inside for c in cal.before)),
            "inside_after": int(sum(c.inside for c in cal.after)),
            "seed": cal.seed, "starts": len(cal.starts), "evaluations": cal.evaluations, "wall_s": cal.wall_s,
            "method": "scipy least_squares trf on log parameters, bounded; weights 1/half-width of the interval; "
                      "log-normal prior at the hand-set values (one SD = a factor prior_fold; none if <= 1)",
            "prior_fold": cal.prior_fold,
            "objective_data_best": float(sum(weighted(c) ** 2 for c in cal.after)),
            "parameters": [asdict(p) for p in cal.parameters],
            "not_identifiable": [n for n, (ok, _) in cal.identifiable.items() if not ok],
            "profiles": cal.profiles}
    files[3].write_text(json.dumps(meta, indent=2, default=_plain))
    files += _figures(cal, out / "figures")
    return files


def _plain(x: Any) -> Any:
    """numpy scalars (bool, int, float) as plain JSON values."""
    return x.item() if hasattr(x, "item") else str(x)


def _csv(path: Path, rows: list[dict[str, Any]]) -> None:
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]) if rows else ["empty"])
        w.writeheader()
        w.writerows(rows)


def _figures(cal: Calibration, folder: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)
    files = []
    fig, ax = plt.subplots(figsize=(7.5, 0.28 * len(cal.before) + 1.6))
    labels = [f"{c.target} {c.study[:18]}: {c.endpoint[:30]}" if c.target else f"{c.study} ({c.endpoint})"
              for c in cal.before]
    y = np.arange(len(labels))
    ax.barh(y + 0.2, [weighted(c) for c in cal.before], height=0.4, label=f"start ({cal.objective_start:.3g})",
            color="tab:gray")
    ax.barh(y - 0.2, [weighted(c) for c in cal.after], height=0.4, label=f"calibrated ({cal.objective_best:.3g})",
            color="tab:blue")
    ax.axvspan(-1, 1, color="tab:green", alpha=0.12, label="inside the interval")
    ax.set_yticks(y, labels, fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("(simulated - observed) / half-width of the interval (1)")
    ax.legend(fontsize=7, loc="lower right")
    ax.set_title(f"calibration ({cal.species}): weighted residuals, objective in brackets", fontsize=9)
    fig.tight_layout()
    files.append(folder / "residuals.png")
    fig.savefig(files[-1], dpi=110)
    plt.close(fig)
    if cal.profiles:
        k = len(cal.profiles)
        cols = min(3, k)
        rows = int(math.ceil(k / cols))
        fig, axes = plt.subplots(rows, cols, figsize=(3.6 * cols, 2.7 * rows), squeeze=False)
        units = {p.name: p.unit for p in cal.parameters}
        for ax, (name, prof) in zip(axes.flat, cal.profiles.items()):
            v, f = zip(*prof)
            ax.plot(v, np.array(f) - cal.objective_best, "o-", ms=3)
            ax.axhline(CHI2_95, color="tab:red", ls="--", lw=0.8)
            ax.set_xscale("log")
            ax.set_xlabel(f"{name} ({units[name]})", fontsize=8)
            ax.set_ylabel("objective - best (1)", fontsize=8)
        for ax in list(axes.flat)[k:]:
            ax.axis("off")
        fig.suptitle("profile likelihoods (red: 95 % threshold)", fontsize=9)
        fig.tight_layout()
        files.append(folder / "profiles.png")
        fig.savefig(files[-1], dpi=110)
        plt.close(fig)
    return files


def install_default(cal: Calibration, folder: Path | None = None) -> Path:
    """Write the calibrated values as the package's default set: model/params/calibrated-<species>.csv,
    applied over the species tables by `load_parameters` (status fitted, reference: this calibration)."""
    folder = folder or Path(str(resources.files("osteoqsp.model").joinpath("params")))
    path = folder / f"calibrated-{cal.species}.csv"
    date = datetime.now(timezone.utc).strftime("%Y-%m-%d")
    ref = (f"osteoqsp calibrate {date}: {len(cal.targets)} targets, objective {cal.objective_start:.4g} -> "
           f"{cal.objective_best:.4g}, inside {sum(c.inside for c in cal.before)} -> "
           f"{sum(c.inside for c in cal.after)} (params/calibration-{cal.species}.json)")
    rows = [{"name": r["name"], "value": f"{r['estimate']:.6g}", "unit": r["unit"], "status": "fitted",
             "reference": ref, "description": f"95 % interval {r['ci95_low']:.3g}-{r['ci95_high']:.3g} "
             f"({r['ci_method']}); identifiable: {'yes' if r['identifiable'] else 'no, ' + r['note']}"}
            for r in cal.table()]
    _csv(path, rows)
    return path
