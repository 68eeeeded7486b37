"""Virtual trials: named arms (changes to a base scenario), n subjects per arm, endpoints, and the power to
detect each difference against the reference arm by repeated virtual trials.

Each arm is a virtual population of the same `pool` subjects (one seed for all arms: the same virtual people
under each arm's treatment, so a difference between arms is the treatment's, not the luck of two draws; the
trial's `population` adds covariates and correlations to every arm). Each virtual trial then draws its own
n subjects per arm from the pools, independently, as randomisation does. An endpoint is an observable at a time,
as its value or its change from the start (absolute, or percent for concentrations), or a first event within
a time (`event:` one of the model's hazards, e.g. fracture_hip).

Observable endpoints, per arm: mean and 95 % interval of the mean over n subjects drawn from the pool. Power:
the fraction of `replicates` virtual trials (n per arm drawn from the pools, each measurement with the
endpoint's `residual_sd` added) in which Welch's t-test finds the difference from the reference arm at
alpha = 0.05. Without a residual error the only spread is the model's inter-individual variability, so the
power is an upper bound.

Event endpoints, per arm: the risk by the time (the mean of the subjects' cumulative incidences, with a
binomial interval for n) and the events drawn in the pool (Kaplan-Meier curves per arm). Against the
reference: the risk difference (percentage points), relative risk, hazard ratio (proportional hazards: the
ratio of -ln(1 - risk)) and number needed to treat. Power: virtual trials of n subjects per arm drawn with
replacement from the pool, each with an event with her own probability, tested by the two-proportion z-test
at alpha = 0.05; so a few hundred simulated subjects stand for trials of any size. `power_curve` lists the
numbers per arm at which the power of each event endpoint is also computed (power_curve.csv and .png).

`uncertainty: {draws: N}` runs the arms again under N parameter sets of the shipped posterior (the trial fit,
`osteoqsp mbma`): differences.csv then gives, beside the power at the typical values, the assurance (the
probability of success over the uncertainty) and the 5-95 % range of the expected difference over the draws.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from osteoqsp.runs.files import staged_folder
from osteoqsp.runs.library import scenario_data
from osteoqsp.runs.population import simulate_population
from osteoqsp.runs.scenario import Scenario, ScenarioError, quantity, read_yaml


class Endpoint(BaseModel):
    """An observable at a time (`observable`), or a first event within a time (`event`: a hazard of the
    model, e.g. fracture_hip)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    observable: str | None = None
    event: str | None = None
    time: float
    change: Literal["none", "absolute", "percent"] = "none"
    residual_sd: float = Field(default=0.0, ge=0.0)  # measurement / within-subject error, endpoint's unit

    @field_validator("time", mode="before")
    @classmethod
    def _day(cls, v: Any) -> float:
        return quantity(v, "day", "time")

    @model_validator(mode="after")
    def _one(self) -> Endpoint:
        if (self.observable is None) == (self.event is None):
            raise ValueError("an endpoint names exactly one of observable or event")
        if self.event is not None and (self.change != "none" or self.residual_sd):
            raise ValueError(f"event endpoint {self.event}: change and residual_sd are for observables")
        return self

    @property
    def label(self) -> str:
        if self.event is not None:
            return f"{self.event} within {self.time / 365.25:g} years"
        kind = {"none": "", "absolute": " change", "percent": " % change"}[self.change]
        return f"{self.observable}{kind} at day {self.time:g}"


class Trial(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str = "trial"
    base: str | dict[str, Any]
    arms: dict[str, dict[str, Any]]
    reference: str | None = None
    subjects_per_arm: dict[str, int] | int
    endpoints: list[Endpoint] = Field(min_length=1)
    pool: int = Field(default=0, ge=0, le=100_000)  # subjects simulated per arm (0: 2 x the largest n)
    replicates: int = Field(default=500, ge=10, le=100_000)
    seed: int = 0
    power_curve: list[int] = []  # subjects per arm at which to compute the power of the event endpoints
    population: dict[str, Any] = {}  # covariates and correlations of every arm's population (scenario syntax)
    uncertainty: dict[str, int] = {}  # {draws: N}: also run the arms under N posterior draws (assurance)

    @field_validator("population")
    @classmethod
    def _population(cls, v: dict[str, Any]) -> dict[str, Any]:
        extra = set(v) - {"covariates", "correlations"}
        if extra:
            raise ValueError(f"population takes covariates and correlations (size and seed come from pool and "
                             f"seed), not {sorted(extra)}")
        return v

    @classmethod
    def from_yaml(cls, path: str | Path) -> Trial:
        path = Path(path)
        data = read_yaml(path)
        try:
            trial = cls.model_validate(data)
        except ValidationError as exc:
            err = exc.errors()[0]
            loc = ".".join(str(x) for x in err["loc"])
            raise ScenarioError(f"{path}: {loc}: {err['msg'].removeprefix('Value error, ')}") from None
        if len(trial.arms) < 2:
            raise ScenarioError(f"{path}: arms: a trial needs at least two arms")
        if trial.reference is not None and trial.reference not in trial.arms:
            raise ScenarioError(f"{path}: reference: {trial.reference!r} is not an arm")
        for arm in trial.arms:
            if trial.n(arm) < 2:
                raise ScenarioError(f"{path}: subjects_per_arm: arm {arm!r} needs at least 2 subjects")
        return trial

    def n(self, arm: str) -> int:
        if isinstance(self.subjects_per_arm, int):
            return self.subjects_per_arm
        if arm not in self.subjects_per_arm:
            raise ScenarioError(f"subjects_per_arm: no number for arm {arm!r}")
        return self.subjects_per_arm[arm]

    @field_validator("uncertainty")
    @classmethod
    def _uncertainty(cls, v: dict[str, int]) -> dict[str, int]:
        if v and (set(v) != {"draws"} or int(v["draws"]) < 2):
            raise ValueError("uncertainty takes draws: N (at least 2)")
        return v

    def arm_scenario(self, arm: str, index: int, uncertainty: bool = False) -> Scenario:
        data = scenario_data(self.base) if isinstance(self.base, str) else copy.deepcopy(self.base)
        data.update(copy.deepcopy(self.arms[arm]))
        data["name"] = f"{self.name}-{arm}"
        data["population"] = {**(data.get("population") or {}), **self.population,  # the base's, then the trial's
                              "size": self.pool or 2 * max(self.n(a) for a in self.arms), "seed": self.seed}
        if uncertainty:
            data["population"]["uncertainty"] = dict(self.uncertainty)
        return Scenario.from_dict(data, source=f"{self.name}: arm {arm}")


@dataclass
class TrialResult:
    trial: Trial
    estimates: pd.DataFrame  # arm, endpoint, n, mean, ci_low, ci_high, unit
    differences: pd.DataFrame  # endpoint, arm, reference, difference, ci_low, ci_high, power (+ event columns)
    power_curve: pd.DataFrame | None = None  # endpoint, arm, reference, n_per_arm, power


def _endpoint_values(pop, ep: Endpoint) -> np.ndarray:  # noqa: ANN001
    """Per subject: the observable's value or change at the time; for an event, the subject's probability
    of a first event by the time (its cumulative incidence, 0-1)."""
    name = f"{ep.event}_cumulative" if ep.event is not None else ep.observable
    if name not in pop.observable_names:
        what = f"event {ep.event!r} (the model's hazards)" if ep.event else f"observable {ep.observable!r}"
        raise ScenarioError(f"endpoints: unknown {what}")
    v = pop.values_of(name)
    t = pop.time_day
    now = np.array([np.interp(ep.time, t, row) for row in v])
    if ep.change == "none":
        return now
    if ep.change == "absolute":
        return now - v[:, 0]
    return 100.0 * (now / v[:, 0] - 1.0)


def _welch_p(a: np.ndarray, b: np.ndarray) -> float:
    from scipy import stats

    return float(stats.ttest_ind(a, b, equal_var=False).pvalue)


Z_CRIT = 1.959963984540054  # two-sided alpha = 0.05


def observable_replicates(v: np.ndarray, base: np.ndarray, n: int, n_ref: int, residual_sd: float,
                          replicates: int, rng: np.random.Generator, top_up: bool = False) -> tuple[float, np.ndarray]:
    """Virtual trials of an observable endpoint: n (n_ref) subjects drawn without replacement from each arm's
    pool (all of it when it is smaller; top_up: n drawn with replacement then), each measurement with
    `residual_sd` added, compared by Welch's t-test at alpha 0.05. Returns the power and each replicate's
    difference of means."""
    diffs, hits = np.empty(replicates), 0
    for r in range(replicates):
        a = rng.choice(v, size=n if top_up else min(n, v.size), replace=top_up and n > v.size)
        b = rng.choice(base, size=n_ref if top_up else min(n_ref, base.size), replace=top_up and n_ref > base.size)
        a = a + rng.normal(0.0, residual_sd, a.size) if residual_sd else a
        b = b + rng.normal(0.0, residual_sd, b.size) if residual_sd else b
        diffs[r] = a.mean() - b.mean()
        hits += _welch_p(a, b) < 0.05
    return hits / replicates, diffs


def event_replicates(risk: np.ndarray, risk_ref: np.ndarray, n: int, n_ref: int, replicates: int,
                     rng: np.random.Generator) -> tuple[float, np.ndarray, np.ndarray]:
    """Virtual trials of a first-event endpoint: n (n_ref) subjects drawn with replacement from each arm's
    pool, each with an event with her own probability; the difference tested by the two-sided
    two-proportion z-test at alpha 0.05. Returns the power and each replicate's risks (arm, reference)."""
    ra, rb = np.empty(replicates), np.empty(replicates)
    hits = 0
    for r in range(replicates):
        xa = np.count_nonzero(rng.random(n) < risk[rng.integers(0, risk.size, n)])
        xb = np.count_nonzero(rng.random(n_ref) < risk_ref[rng.integers(0, risk_ref.size, n_ref)])
        ra[r], rb[r] = xa / n, xb / n_ref
        pooled = (xa + xb) / (n + n_ref)
        se = np.sqrt(pooled * (1 - pooled) * (1 / n + 1 / n_ref))
        hits += se > 0 and abs(ra[r] - rb[r]) / se > Z_CRIT
    return hits / replicates, ra, rb


def _event_difference(ep: Endpoint, arm: str, ref: str, risk: np.ndarray, base: np.ndarray, n: int, n_ref: int,
                      replicates: int, rng: np.random.Generator) -> dict[str, Any]:
    """Risk difference (percentage points), relative risk, hazard ratio (proportional hazards: the ratio of
    the arms' cumulative hazards -ln(1 - risk) at the time), number needed to treat (100 / risk reduction:
    negative when the arm harms) and the power of a trial of n per arm."""
    r, r0 = float(risk.mean()), float(base.mean())
    power, ra, rb = event_replicates(risk, base, n, n_ref, replicates, rng)
    ard = 100 * (ra - rb)
    return {"endpoint": ep.label, "arm": arm, "reference": ref, "difference": 100 * (r - r0),
            "ci_low": float(np.percentile(ard, 2.5)), "ci_high": float(np.percentile(ard, 97.5)),
            "power": power, "replicates": replicates, "relative_risk": r / r0 if r0 > 0 else np.nan,
            "hazard_ratio": np.log1p(-r) / np.log1p(-r0) if r0 > 0 else np.nan,
            "nnt": 1.0 / (r0 - r) if r != r0 else np.inf}


def run_trial(trial: Trial, outdir: str | Path) -> TrialResult:
    outdir = Path(outdir)
    arms = list(trial.arms)
    ref = trial.reference or ("placebo" if "placebo" in trial.arms else arms[0])
    rng = np.random.default_rng(trial.seed)
    values: dict[str, dict[str, np.ndarray]] = {}
    times: dict[str, dict[str, np.ndarray]] = {}  # arm -> event -> first event times of the pool (day)
    with staged_folder(outdir) as tmp:
        for i, arm in enumerate(arms):
            pop = simulate_population(trial.arm_scenario(arm, i), tmp / "arms" / arm)
            try:
                values[arm] = {ep.label: _endpoint_values(pop, ep) for ep in trial.endpoints}
            except ScenarioError as exc:
                raise ScenarioError(f"{trial.name}: {exc}") from None
            times[arm] = {ep.event: pop.event_times(ep.event) for ep in trial.endpoints if ep.event}
        est_rows, diff_rows = [], []
        for ep in trial.endpoints:
            for arm in arms:
                v = values[arm][ep.label]
                v = v[np.isfinite(v)]
                n = trial.n(arm)
                if ep.event is not None:  # risk in percent, binomial interval for n subjects
                    risk = v.mean()
                    half = 1.96 * np.sqrt(risk * (1 - risk) / n)
                    observed = times[arm][ep.event]
                    observed = observed[~np.isnan(observed)]
                    est_rows.append({"arm": arm, "endpoint": ep.label, "n": n, "mean": 100 * risk,
                                     "ci_low": 100 * max(risk - half, 0.0), "ci_high": 100 * (risk + half),
                                     "unit": "%", "events_in_pool": int(np.count_nonzero(observed <= ep.time)),
                                     "pool": observed.size})
                    continue
                sem = v.std(ddof=1) / np.sqrt(n)
                est_rows.append({"arm": arm, "endpoint": ep.label, "n": n, "mean": v.mean(),
                                 "ci_low": v.mean() - 1.96 * sem, "ci_high": v.mean() + 1.96 * sem})
            base = values[ref][ep.label]
            base = base[np.isfinite(base)]
            for arm in arms:
                if arm == ref:
                    continue
                v = values[arm][ep.label]
                v = v[np.isfinite(v)]
                if ep.event is not None:
                    diff_rows.append(_event_difference(ep, arm, ref, v, base, trial.n(arm), trial.n(ref),
                                                       trial.replicates, rng))
                    continue
                power, d = observable_replicates(v, base, trial.n(arm), trial.n(ref), ep.residual_sd,
                                                 trial.replicates, rng)
                diff_rows.append({"endpoint": ep.label, "arm": arm, "reference": ref, "difference": v.mean() - base.mean(),
                                  "ci_low": float(np.percentile(d, 2.5)), "ci_high": float(np.percentile(d, 97.5)),
                                  "power": power, "replicates": trial.replicates})
        estimates, differences = pd.DataFrame(est_rows), pd.DataFrame(diff_rows)
        if trial.uncertainty:
            differences = _assurance(trial, differences, ref, tmp / "arms-uncertainty", rng)
        estimates.to_csv(tmp / "estimates.csv", index=False, float_format="%.6g")
        differences.to_csv(tmp / "differences.csv", index=False, float_format="%.6g")
        curve = _power_curve(trial, values, ref, rng) if trial.power_curve else None
        if curve is not None:
            curve.to_csv(tmp / "power_curve.csv", index=False, float_format="%.6g")
            _plot_power_curve(trial, curve, tmp / "power_curve.png")
        (tmp / "run.json").write_text(json.dumps({"trial": trial.model_dump(mode="json"), "reference": ref},
                                                 indent=2, default=float))
        _figure(trial, values, tmp / "endpoints.png")
        events = {arm: times[arm] for arm in arms if times[arm]}
        if events:
            from osteoqsp.runs.population.events import plot_kaplan_meier

            fig = plot_kaplan_meier(events, max(ep.time for ep in trial.endpoints if ep.event),
                                    f"{trial.name}: first events by arm, Kaplan-Meier over each arm's pool")
            fig.savefig(tmp / "kaplan_meier.png", dpi=110)
            import matplotlib.pyplot as plt

            plt.close(fig)
    return TrialResult(trial, estimates, differences, curve)


def _assurance(trial: Trial, differences: pd.DataFrame, ref: str, folder: Path,
               rng: np.random.Generator) -> pd.DataFrame:
    """The arms again under the posterior's draws (the same people under each): per difference, its 5-95 %
    range over the draws (uncertainty of the expected difference) and the assurance, the probability of
    success over the uncertainty (the mean over draws of the power under each draw, with replicates / draws
    virtual trials a draw, at least 20)."""
    arms = list(trial.arms)
    pops = {arm: simulate_population(trial.arm_scenario(arm, i, uncertainty=True), folder / arm)
            for i, arm in enumerate(arms)}
    per_draw = max(20, trial.replicates // int(trial.uncertainty["draws"]))
    rows = []
    for ep in trial.endpoints:
        base = pops[ref].by_draw(_endpoint_values(pops[ref], ep))
        for arm in arms:
            if arm == ref:
                continue
            v = pops[arm].by_draw(_endpoint_values(pops[arm], ep))
            diffs, powers = [], []
            for d in range(v.shape[0]):
                a, b = v[d][np.isfinite(v[d])], base[d][np.isfinite(base[d])]
                if ep.event is not None:
                    power, _, _ = event_replicates(a, b, trial.n(arm), trial.n(ref), per_draw, rng)
                    diffs.append(100 * (a.mean() - b.mean()))
                else:
                    power, _ = observable_replicates(a, b, trial.n(arm), trial.n(ref), ep.residual_sd, per_draw, rng,
                                                     top_up=True)
                    diffs.append(a.mean() - b.mean())
                powers.append(power)
            rows.append({"endpoint": ep.label, "arm": arm, "assurance": float(np.mean(powers)),
                         "difference_draws_p05": float(np.percentile(diffs, 5)),
                         "difference_draws_p95": float(np.percentile(diffs, 95)),
                         "draws": v.shape[0]})
    return differences.merge(pd.DataFrame(rows), on=["endpoint", "arm"], how="left")


def _power_curve(trial: Trial, values: dict[str, dict[str, np.ndarray]], ref: str,
                 rng: np.random.Generator) -> pd.DataFrame:
    """Power of each event endpoint against the reference for each number of subjects per arm."""
    rows = []
    for ep in trial.endpoints:
        if ep.event is None:
            continue
        base = values[ref][ep.label]
        base = base[np.isfinite(base)]
        for arm in trial.arms:
            if arm == ref:
                continue
            v = values[arm][ep.label]
            v = v[np.isfinite(v)]
            for n in trial.power_curve:
                power, _, _ = event_replicates(v, base, n, n, trial.replicates, rng)
                rows.append({"endpoint": ep.label, "arm": arm, "reference": ref, "n_per_arm": n, "power": power})
    return pd.DataFrame(rows)


def _plot_power_curve(trial: Trial, curve: pd.DataFrame, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.6, 3.8))
    for (label, arm), g in curve.groupby(["endpoint", "arm"], sort=False):
        ax.plot(g["n_per_arm"], 100 * g["power"], marker="o", label=f"{arm}: {label}")
    ax.axhline(80, color="grey", lw=0.8, ls="--")
    ax.set_xscale("log")
    ax.set_xlabel("women per arm")
    ax.set_ylabel("power (%)")
    ax.set_ylim(0, 100)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=7)
    ax.set_title(f"{trial.name}: power against {curve['reference'].iloc[0]} (two-proportion test, "
                 f"{trial.replicates} virtual trials a point)", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _figure(trial: Trial, values: dict[str, dict[str, np.ndarray]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    eps = [ep.label for ep in trial.endpoints]
    fig, axes = plt.subplots(1, len(eps), figsize=(4.5 * len(eps), 3.6), squeeze=False)
    for ax, label in zip(axes.flat, eps):
        data = [values[arm][label][np.isfinite(values[arm][label])] for arm in trial.arms]
        ax.boxplot(data, tick_labels=list(trial.arms), showfliers=False)
        ax.set_title(label, fontsize=9)
        ax.grid(alpha=0.3, axis="y")
    fig.suptitle(f"{trial.name}: endpoint per subject, by arm")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
