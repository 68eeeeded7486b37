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
1 percentage point. The review's claims that share these magnitudes (culture, OVX rats, Kanellakis: `CLAIMS`)
enter as soft one-sided constraints, as in `osteoqsp calibrate`: without them the trials alone pull every
magnitude below what those claims need. The posterior is sampled by emcee's affine-invariant ensemble sampler (Goodman & Weare
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


def _run(data: dict[str, Any] | str, values: dict[str, float] | None, **extra: float):  # noqa: ANN202
    from osteoqsp.runs.library import scenario_of

    sc = scenario_of(data, where="mbma") if isinstance(data, str) else Scenario.from_dict(data)
    return simulate(sc, parameters={**(values or {}), **extra} or None, settings=POPULATION_SETTINGS)


def _culture(conc_nm: float, values: dict[str, float] | None, **switches: float):  # noqa: ANN202
    return _run({"species": "human", "subject": {"sex": "female", "age": "30 year"}, "duration": "7 day",
                 "save_every": "1 day"}, values, invitro_mk7=conc_nm, **switches)


def _c13(v: dict[str, float] | None) -> float:
    r = _culture(1000.0, v)
    return r.at("alp", 7) / r.at("osteoblasts", 7) - 1.10


def _c16(v: dict[str, float] | None) -> float:
    only = {"sw_carboxylation": 0.0, "sw_nfkb": 0.0, "sw_sxr": 0.0}
    return 0.95 * _culture(0.0, v, **only).at("osteoclasts", 7) - _culture(1000.0, v, **only).at("osteoclasts", 7)


def _c18(v: dict[str, float] | None) -> float:
    natto, mk7 = _run("yamaguchi-ovx-77d-natto", v), _run("yamaguchi-ovx-77d-mk7", v)
    return min((mk7.at(x, 77) - natto.at(x, 77)) - 0.1 * abs(natto.at(x, 77))
               for x in ("femur_dry_weight", "femur_calcium"))


def _c19(v: dict[str, float] | None) -> float:
    low, high = _run("yamaguchi-ovx-150d-natto", v), _run("yamaguchi-ovx-150d-18p8", v)
    return (high.at("femur_bmd", 150) - low.at("femur_bmd", 150)) - 0.1 * abs(low.at("femur_bmd", 150))


def _c19_order(v: dict[str, float] | None) -> float:
    """Femur weight, calcium, BMD and cOC ordered by the diet's MK-7 (natto < 14.1 < 18.8 ug/100 g), as the
    smallest step between arms relative to the lowest arm's value."""
    runs = [_run(f"yamaguchi-ovx-150d-{a}", v) for a in ("natto", "14p1", "18p8")]
    steps = []
    for read in ("femur_dry_weight", "femur_calcium", "femur_bmd", "coc"):
        x = [r.at(read, 150) for r in runs]
        steps += [(x[1] - x[0]) / abs(x[0]), (x[2] - x[1]) / abs(x[0])]
    return min(steps)


def _c20(v: dict[str, float] | None) -> float:
    base = {"species": "rat", "subject": {"age": "90 day", "ovariectomy": "0 day"}, "duration": "60 day"}
    mk7, zinc = [{"diet": {"MK-7": "18.8 ug/100g"}}], [{"agent": "zinc", "dose": "2 mg", "every": "1 day"}]
    none = _run(base, v).at("femur_bmd", 60)

    def gain(intake: list[dict[str, Any]]) -> float:
        return _run({**base, "intake": intake}, v).at("femur_bmd", 60) - none

    return gain(mk7 + zinc) / (gain(mk7) + gain(zinc)) - 1.02


def _c24(v: dict[str, float] | None) -> float:
    k2 = _run("kanellakis2012-cadk2", v)
    return k2.at("bmd_lumbar_spine", 365)


# The claims of the review that share these magnitudes and failed at the unconstrained posterior median or at
# the first constrained one (tests C13, C16, C18, C19, C20, C24): soft one-sided constraints of the fit, each a margin (>= 0: met, in the unit of
# its test) and the scale of its penalty -0.5 (margin / scale)^2 when missed (assumed: a fifth of the band).
CLAIMS = {"C13 ALP per osteoblast >= 1.10 at 1 uM in culture": (_c13, 0.02),
          "C16 osteoclasts -5 % by apoptosis at 1 uM in culture": (_c16, 0.01),
          "C18 OVX rat 77 d: MK-7 prevents a tenth of the femur loss": (_c18, 0.1),
          "C19 OVX rat 150 d: 18.8 ug/100 g prevents a tenth of the BMD loss": (_c19, 0.1),
          "C24 Kanellakis: lumbar spine rises on Ca + D + MK-7": (_c24, 0.05),
          "C19 OVX rat 150 d: weight, calcium, BMD and cOC ordered by dose": (_c19_order, 0.005),
          "C20 MK-7 x zinc synergy in OVX rats": (_c20, 0.005)}
TYPICAL_ONLY: dict[str, tuple] = {}  # claims required of the typical values but left out of the sampler


def claim_margins(values: dict[str, float] | None = None, typical: bool = False) -> dict[str, float]:
    """Each claim's margin (>= 0: met) under the parameter overrides; typical: also TYPICAL_ONLY."""
    chosen = {**CLAIMS, **TYPICAL_ONLY} if typical else CLAIMS
    return {name: f(values) for name, (f, _) in chosen.items()}


def log_posterior(theta: np.ndarray, with_claims: bool = True) -> float:
    """theta: log of each magnitude, then tau (percentage points); with the claims as soft constraints."""
    values, tau = _theta_to_values(theta)
    for p, v in values.items():
        lo, hi = BOUNDS[p]
        if not lo <= v <= hi:
            return -math.inf
    if tau < 0:
        return -math.inf
    try:
        model = model_contrasts(values)
        margins = claim_margins(values) if with_claims else {}
    except Exception:  # a solve that fails marks a region the sampler should leave
        return -math.inf
    if not np.all(np.isfinite(model)) or not all(math.isfinite(m) for m in margins.values()):
        return -math.inf
    penalty = sum(0.5 * (min(m, 0.0) / CLAIMS[n][1]) ** 2 for n, m in margins.items())
    return log_likelihood(model, tau) - 0.5 * (tau / TAU_SCALE) ** 2 - penalty


@dataclass
class MbmaResult:
    draws: pd.DataFrame  # one row per posterior draw: the magnitudes (model units) and tau
    table: pd.DataFrame  # per contrast: observed, se, model at the typical values before and at the posterior median
    summary: pd.DataFrame  # per parameter: value at the start (the table), posterior median, 2.5 and 97.5 % quantiles
    info: dict[str, Any]


def run_mbma(walkers: int = 16, steps: int = 200, burn: int = 100, seed: int = 0, threads: int = 2,
             progress: bool = False, claims: bool = True) -> MbmaResult:
    """Sample the posterior (emcee); draws are the last steps - burn of every walker. claims: the review's
    claims that share the magnitudes (CLAIMS) as soft constraints."""
    import emcee

    from osteoqsp.model import load_parameters

    table0 = load_parameters("human")
    start = np.array([math.log(table0.rows[p].value) for p in PARAMETERS] + [0.5])
    rng = np.random.default_rng(seed)
    p0 = start + rng.normal(0, 0.1, (walkers, start.size))
    p0[:, -1] = np.abs(p0[:, -1])
    sampler = emcee.EnsembleSampler(walkers, start.size, log_posterior, kwargs={"with_claims": claims})
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
    summary = pd.DataFrame([{"parameter": p, "start": table0.rows[p].value, "median": draws[p].median(),
                             "q2.5": draws[p].quantile(0.025), "q97.5": draws[p].quantile(0.975),
                             "identifiable": draws[p].quantile(0.975) / draws[p].quantile(0.025) < 10}
                            for p in PARAMETERS] + [{"parameter": "tau", "start": float("nan"),
                                                      "median": draws["tau"].median(),
                                                      "q2.5": draws["tau"].quantile(0.025),
                                                      "q97.5": draws["tau"].quantile(0.975),
                                                      "identifiable": False}])
    info = {"sampler": "emcee EnsembleSampler (affine-invariant stretch move)", "walkers": walkers,
            "steps": steps, "burn": burn, "seed": seed,
            "acceptance": float(np.mean(sampler.acceptance_fraction)),
            "log_likelihood_before": log_likelihood(before, 0.0),
            "log_likelihood_median": log_likelihood(after, float(draws["tau"].median())), "claims": claims,
            "claim_margins_median": claim_margins(median) if claims else None}
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
    ax.scatter(t["model_before"], y + 0.15, marker="x", color="grey", label="model, the table's magnitudes at the start")
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
    """Each trial contrast against the model at the typical magnitudes (the package default) and at the shipped
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
                    "typical": b, "inside_typical": lo <= b <= hi, "posterior_median": a,
                    "inside_after": bool(lo <= a <= hi), "residual_after": a - c.value})
    return pd.DataFrame(out)


def typical_from_posterior(draws: pd.DataFrame, tries: int = 400) -> tuple[dict[str, float], float, int]:
    """The typical values the package uses: the highest-posterior draw that meets every claim (`CLAIMS`, hard),
    searched among the `tries` best distinct draws. Returns the values, its log-posterior and its rank."""
    ranked = draws.sort_values("log_posterior", ascending=False).drop_duplicates(list(PARAMETERS))
    for rank, (_, row) in enumerate(ranked.head(tries).iterrows()):
        values = {p: float(row[p]) for p in PARAMETERS}
        if all(m >= 0 for m in claim_margins(values, typical=True).values()):
            return values, float(row["log_posterior"]), rank
    raise ValueError(f"none of the {tries} best draws meets every claim")


def install_typical(values: dict[str, float], note: str) -> Path:
    """Write the fitted magnitudes into params/common.csv (status fitted, the reference saying how)."""
    import csv
    import io

    from osteoqsp.model import parameters

    path = Path(parameters.__file__).parent / "params" / "common.csv"
    lines = path.read_text().splitlines(keepends=True)
    out = []
    for line in lines:
        name = line.split(",", 1)[0]
        if name in values and not line.startswith("#"):
            row = next(csv.reader([line]))
            old = row[4].split(" | hand-set before: ")[-1] if row[3] == "fitted" else row[4]
            row[1], row[3], row[4] = f"{values[name]:.6g}", "fitted", f"{note} | hand-set before: {old}"
            buf = io.StringIO()
            csv.writer(buf, lineterminator="\n").writerow(row)
            line = buf.getvalue()
        out.append(line)
    path.write_text("".join(out))
    parameters.load_parameters.cache_clear()
    return path


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
