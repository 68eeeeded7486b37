"""Model-based meta-analysis of the randomised vitamin K trials (issue 13): the magnitudes of the vitamin K
actions on bone fitted to every usable BMD contrast at once, with a between-trial random effect, and their
posterior sampled.

Data: `analyses/evidence/mbma.yaml` (each contrast a row of trials.csv: treatment minus control, percentage
points, with its standard error). Each trial's two arms are simulated as run (the typical subject of its
population, its dose, form and co-interventions, its duration) with the population integrator (split, rtol
1e-6: within about 1e-3 points of a tight solve), and the model's contrast is the difference of the arms' BMD
changes at the contrast's time.

Likelihood: the contrasts of trial j, r_j = observed - model, are normal with covariance diag(se^2) + tau^2
(one random effect per trial, shared by its contrasts: trials differ in population, assay and conduct beyond
what the model knows). Priors (assumed): each magnitude log-uniform within `BOUNDS`; tau half-normal with scale
1 percentage point. The posterior is sampled by emcee's affine-invariant ensemble sampler (Goodman & Weare
2010): no gradients needed (each evaluation is a set of ODE solves), few tuning choices, and its walkers
explore the correlated, partly flat posterior that weakly identified magnitudes give.
"""

from __future__ import annotations

import json
import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from osteoqsp.engine import POPULATION_SETTINGS
from osteoqsp.runs.scenario import Scenario
from osteoqsp.runs.simulation import simulate

# the magnitudes fitted, with their prior ranges (log-uniform; assumed: from a hundredth of the hand-set value
# to about ten times it, Emax of a relative effect at most 3)
BOUNDS = {"emax_sxr": (0.003, 3.0), "emax_nfkb": (0.003, 3.0), "emax_osteoclast_apoptosis": (0.003, 3.0),
          "e_carb_formation": (0.001, 1.0), "potency_mk4": (0.01, 10.0)}
PARAMETERS = tuple(BOUNDS)
TAU_SCALE = 1.0  # percentage points: half-normal prior scale of the between-trial SD (assumed)


@dataclass(frozen=True)
class Contrast:
    trial: str
    form: str
    site: str
    months: float
    value: float
    se: float
    how: str
    fit: bool

    @property
    def label(self) -> str:
        return f"{self.trial}: {self.site.replace('_', ' ')}, {self.months:g} mo"


@lru_cache(maxsize=1)
def trials() -> list[dict[str, Any]]:
    text = resources.files("osteoqsp.analyses.evidence").joinpath("mbma.yaml").read_text()
    return yaml.safe_load(text)


def contrasts() -> list[Contrast]:
    return [Contrast(t["trial"], t["form"], c["site"], float(c["months"]), float(c["value"]), float(c["se"]),
                     c["how"], bool(c.get("fit", True))) for t in trials() for c in t["contrasts"]]


def _arm(t: dict[str, Any], intake: list[dict[str, Any]], arm: str) -> Scenario:
    return Scenario.from_dict({"name": f"mbma-{t['trial']}-{arm}", "species": "human", "subject": t["subject"],
                               "intake": intake, "duration": t["duration"], "save_every": "30 day"})


def model_contrasts(values: dict[str, float] | None = None, threads: int = 2) -> np.ndarray:
    """The model's contrast for every row of `contrasts()` under parameter overrides `values` (model units)."""
    jobs = []
    for t in trials():
        jobs.append(_arm(t, list(t["control"]), "control"))
        jobs.append(_arm(t, list(t["control"]) + list(t["treatment"]), "treatment"))

    def run(sc: Scenario):  # noqa: ANN202
        return simulate(sc, parameters=values, settings=POPULATION_SETTINGS)

    with ThreadPoolExecutor(max_workers=max(1, threads)) as pool:
        runs = list(pool.map(run, jobs))
    out = []
    for k, t in enumerate(trials()):
        ctrl, trt = runs[2 * k], runs[2 * k + 1]
        for c in t["contrasts"]:
            day = float(c["months"]) * 365.25 / 12
            name = f"bmd_{c['site']}"
            out.append(float(np.interp(day, trt.time_day, trt[name]) - np.interp(day, ctrl.time_day, ctrl[name])))
    return np.array(out)


def _groups(rows: list[Contrast]) -> list[np.ndarray]:
    names = list(dict.fromkeys(c.trial for c in rows))
    return [np.array([i for i, c in enumerate(rows) if c.trial == n and c.fit]) for n in names]


def log_likelihood(model: np.ndarray, tau: float, rows: list[Contrast] | None = None) -> float:
    """Normal, with one random effect per trial (covariance diag(se^2) + tau^2 over the trial's contrasts)."""
    rows = rows or contrasts()
    obs = np.array([c.value for c in rows])
    se = np.array([c.se for c in rows])
    total = 0.0
    for idx in _groups(rows):
        if idx.size == 0:
            continue
        r = obs[idx] - model[idx]
        cov = np.diag(se[idx] ** 2) + tau**2
        sign, logdet = np.linalg.slogdet(cov)
        total += -0.5 * (r @ np.linalg.solve(cov, r) + logdet + idx.size * math.log(2 * math.pi))
    return total


def _theta_to_values(theta: np.ndarray) -> tuple[dict[str, float], float]:
    return {p: float(math.exp(x)) for p, x in zip(PARAMETERS, theta[:-1])}, float(theta[-1])


def log_posterior(theta: np.ndarray) -> float:
    """theta: log of each magnitude, then tau (percentage points)."""
    values, tau = _theta_to_values(theta)
    for p, v in values.items():
        lo, hi = BOUNDS[p]
        if not lo <= v <= hi:
            return -math.inf
    if tau < 0:
        return -math.inf
    try:
        model = model_contrasts(values)
    except Exception:  # a solve that fails marks a region the sampler should leave
        return -math.inf
    if not np.all(np.isfinite(model)):
        return -math.inf
    return log_likelihood(model, tau) - 0.5 * (tau / TAU_SCALE) ** 2


@dataclass
class MbmaResult:
    draws: pd.DataFrame  # one row per posterior draw: the magnitudes (model units) and tau
    table: pd.DataFrame  # per contrast: observed, se, model at the typical values before and at the posterior median
    summary: pd.DataFrame  # per parameter: hand-set value, posterior median, 2.5 and 97.5 % quantiles
    info: dict[str, Any]


def run_mbma(walkers: int = 16, steps: int = 200, burn: int = 100, seed: int = 0, threads: int = 2,
             progress: bool = False) -> MbmaResult:
    """Sample the posterior (emcee); draws are the last steps - burn of every walker."""
    import emcee

    from osteoqsp.model import load_parameters

    table0 = load_parameters("human")
    start = np.array([math.log(table0.rows[p].value) for p in PARAMETERS] + [0.5])
    rng = np.random.default_rng(seed)
    p0 = start + rng.normal(0, 0.1, (walkers, start.size))
    p0[:, -1] = np.abs(p0[:, -1])
    sampler = emcee.EnsembleSampler(walkers, start.size, log_posterior)
    sampler.random_state = np.random.RandomState(seed).get_state()  # the moves' generator: reproducible runs
    sampler.run_mcmc(p0, steps, progress=progress)
    chain = sampler.get_chain(discard=burn, flat=True)
    logp = sampler.get_log_prob(discard=burn, flat=True)
    draws = pd.DataFrame(np.exp(chain[:, :-1]), columns=list(PARAMETERS))
    draws["tau"] = chain[:, -1]
    draws["log_posterior"] = logp
    rows = contrasts()
    before = model_contrasts(None, threads)
    median = {p: float(draws[p].median()) for p in PARAMETERS}
    after = model_contrasts(median, threads)
    table = pd.DataFrame({"contrast": [c.label for c in rows], "form": [c.form for c in rows],
                          "fitted": [c.fit for c in rows], "observed": [c.value for c in rows],
                          "se": [c.se for c in rows], "model_before": before, "model_posterior_median": after,
                          "z_after": [(a - c.value) / c.se for a, c in zip(after, rows)]})
    summary = pd.DataFrame([{"parameter": p, "hand_set": table0.rows[p].value, "median": draws[p].median(),
                             "q2.5": draws[p].quantile(0.025), "q97.5": draws[p].quantile(0.975),
                             "identifiable": draws[p].quantile(0.975) / draws[p].quantile(0.025) < 10}
                            for p in PARAMETERS] + [{"parameter": "tau", "hand_set": float("nan"),
                                                      "median": draws["tau"].median(),
                                                      "q2.5": draws["tau"].quantile(0.025),
                                                      "q97.5": draws["tau"].quantile(0.975),
                                                      "identifiable": False}])
    info = {"sampler": "emcee EnsembleSampler (affine-invariant stretch move)", "walkers": walkers,
            "steps": steps, "burn": burn, "seed": seed,
            "acceptance": float(np.mean(sampler.acceptance_fraction)),
            "log_likelihood_before": log_likelihood(before, 0.0),
            "log_likelihood_median": log_likelihood(after, float(draws["tau"].median()))}
    try:
        info["autocorrelation_steps"] = [float(x) for x in sampler.get_autocorr_time(discard=burn, quiet=True)]
    except Exception:  # too short a chain for an estimate: say so
        info["autocorrelation_steps"] = None
    return MbmaResult(draws, table, summary, info)


def write(result: MbmaResult, outdir: str | Path) -> None:
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    result.draws.to_csv(outdir / "posterior.csv", index=False, float_format="%.6g")
    result.table.to_csv(outdir / "contrasts.csv", index=False, float_format="%.4g")
    result.summary.to_csv(outdir / "parameters.csv", index=False, float_format="%.4g")
    (outdir / "mbma.json").write_text(json.dumps(result.info, indent=2))
    _figure(result, outdir / "mbma.png")


def _figure(result: MbmaResult, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t = result.table
    fig, axes = plt.subplots(1, 2, figsize=(11, 0.45 * len(t) + 1.8), gridspec_kw={"width_ratios": [3, 2]})
    y = np.arange(len(t))[::-1]
    ax = axes[0]
    ax.errorbar(t["observed"], y, xerr=1.96 * t["se"], fmt="o", color="black", label="trial (95 % CI)")
    ax.scatter(t["model_before"], y + 0.15, marker="x", color="grey", label="model, hand-set magnitudes")
    ax.scatter(t["model_posterior_median"], y - 0.15, marker="s", color="tab:blue", label="model, posterior median")
    ax.set_yticks(y, [f"{c}{'' if f else ' (not fitted)'}" for c, f in zip(t["contrast"], t["fitted"])], fontsize=7)
    ax.axvline(0, color="grey", lw=0.6)
    ax.set_xlabel("BMD difference, treatment - control (% points)")
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3, axis="x")
    ax = axes[1]
    d = result.draws
    ax.boxplot([np.log10(d[p]) for p in PARAMETERS], vert=False, tick_labels=list(PARAMETERS), showfliers=False)
    for i, p in enumerate(PARAMETERS, 1):
        lo, hi = BOUNDS[p]
        ax.plot([math.log10(lo), math.log10(hi)], [i, i], color="lightgrey", lw=6, zorder=0)
    ax.set_xlabel("log10 of the magnitude (grey: prior range)")
    ax.tick_params(axis="y", labelsize=7)
    fig.suptitle("Model-based meta-analysis of the vitamin K trials: posterior (emcee)", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def contrast_table() -> pd.DataFrame:
    """Each trial contrast against the model at the typical (hand-set) magnitudes and at the shipped
    posterior's median, with whether each is inside the contrast's 95 % interval (`osteoqsp validate`)."""
    from osteoqsp.model.parameters import posterior

    draws = posterior("human")
    rows = contrasts()
    before = model_contrasts(None)
    after = (model_contrasts({p: float(np.median([d[p] for d in draws])) for p in PARAMETERS}) if draws
             else np.full(len(rows), np.nan))
    out = []
    for c, b, a in zip(rows, before, after):
        lo, hi = c.value - 1.96 * c.se, c.value + 1.96 * c.se
        out.append({"contrast": c.label, "form": c.form, "fitted": c.fit, "observed": c.value, "low": lo, "high": hi,
                    "hand_set": b, "inside_before": lo <= b <= hi, "posterior_median": a,
                    "inside_after": bool(lo <= a <= hi), "residual_after": a - c.value})
    return pd.DataFrame(out)


def install_posterior(result: MbmaResult, keep: int = 200) -> Path:
    """Ship `keep` draws (thinned evenly over the chain) as params/posterior-human.csv, with a header that says
    where they come from."""
    from datetime import date

    from osteoqsp.model import parameters

    d = result.draws
    rows = d.iloc[np.linspace(0, len(d) - 1, min(keep, len(d))).round().astype(int)]
    path = Path(parameters.__file__).parent / "params" / "posterior-human.csv"
    head = (f"# osteoqsp mbma {date.today().isoformat()}: posterior draws of the vitamin K bone-effect magnitudes "
            f"fitted to the trials of analyses/evidence/mbma.yaml ({result.info['sampler']}, "
            f"{result.info['walkers']} walkers x {result.info['steps']} steps, burn-in {result.info['burn']}, "
            f"seed {result.info['seed']}); {len(rows)} draws thinned evenly; tau: between-trial SD (% points)\n")
    path.write_text(head + rows.to_csv(index=False, float_format="%.6g"))
    parameters.posterior.cache_clear()
    return path
