"""Virtual trials: named arms (changes to a base scenario), n subjects per arm, endpoints, and the power to
detect each difference against the reference arm by repeated virtual trials.

Each arm is a virtual population of `pool` subjects (seed + arm index, so arms hold different people).
An endpoint is an observable at a time, as its value or its change from the start (absolute, or percent
for concentrations). Per arm: mean and 95 % interval of the mean over n subjects drawn from the pool. Power:
the fraction of `replicates` virtual trials (n per arm drawn from the pools, each measurement with the
endpoint's `residual_sd` added) in which Welch's t-test finds the difference from the reference arm at
alpha = 0.05. Without a residual error the only spread is the model's inter-individual variability, so the
power is an upper bound.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from osteoqsp.runs.files import staged_folder
from osteoqsp.runs.library import scenario_data
from osteoqsp.runs.population import simulate_population
from osteoqsp.runs.scenario import Scenario, ScenarioError, quantity, read_yaml


class Endpoint(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    observable: str
    time: float
    change: Literal["none", "absolute", "percent"] = "none"
    residual_sd: float = Field(default=0.0, ge=0.0)  # measurement / within-subject error, endpoint's unit

    @field_validator("time", mode="before")
    @classmethod
    def _day(cls, v: Any) -> float:
        return quantity(v, "day", "time")

    @property
    def label(self) -> str:
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

    def arm_scenario(self, arm: str, index: int) -> Scenario:
        data = scenario_data(self.base) if isinstance(self.base, str) else copy.deepcopy(self.base)
        data.update(copy.deepcopy(self.arms[arm]))
        data["name"] = f"{self.name}-{arm}"
        data["population"] = {"size": self.pool or 2 * max(self.n(a) for a in self.arms), "seed": self.seed + index}
        return Scenario.from_dict(data, source=f"{self.name}: arm {arm}")


@dataclass
class TrialResult:
    trial: Trial
    estimates: pd.DataFrame  # arm, endpoint, n, mean, ci_low, ci_high, unit
    differences: pd.DataFrame  # endpoint, arm, reference, difference, ci_low, ci_high, power


def _endpoint_values(pop, ep: Endpoint) -> np.ndarray:  # noqa: ANN001
    v = pop.values_of(ep.observable)
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


def run_trial(trial: Trial, outdir: str | Path) -> TrialResult:
    outdir = Path(outdir)
    arms = list(trial.arms)
    ref = trial.reference or ("placebo" if "placebo" in trial.arms else arms[0])
    rng = np.random.default_rng(trial.seed)
    values: dict[str, dict[str, np.ndarray]] = {}
    with staged_folder(outdir) as tmp:
        for i, arm in enumerate(arms):
            pop = simulate_population(trial.arm_scenario(arm, i), tmp / "arms" / arm)
            for ep in trial.endpoints:
                if ep.observable not in pop.observable_names:
                    raise ScenarioError(f"{trial.name}: endpoints: unknown observable {ep.observable!r}")
            values[arm] = {ep.label: _endpoint_values(pop, ep) for ep in trial.endpoints}
        est_rows, diff_rows = [], []
        for ep in trial.endpoints:
            for arm in arms:
                v = values[arm][ep.label]
                v = v[np.isfinite(v)]
                n = trial.n(arm)
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
                diffs, hits = [], 0
                for _ in range(trial.replicates):
                    a = rng.choice(v, size=min(trial.n(arm), v.size), replace=False)
                    b = rng.choice(base, size=min(trial.n(ref), base.size), replace=False)
                    a = a + rng.normal(0.0, ep.residual_sd, a.size) if ep.residual_sd else a
                    b = b + rng.normal(0.0, ep.residual_sd, b.size) if ep.residual_sd else b
                    diffs.append(a.mean() - b.mean())
                    hits += _welch_p(a, b) < 0.05
                d = np.array(diffs)
                diff_rows.append({"endpoint": ep.label, "arm": arm, "reference": ref, "difference": v.mean() - base.mean(),
                                  "ci_low": float(np.percentile(d, 2.5)), "ci_high": float(np.percentile(d, 97.5)),
                                  "power": hits / trial.replicates, "replicates": trial.replicates})
        estimates, differences = pd.DataFrame(est_rows), pd.DataFrame(diff_rows)
        estimates.to_csv(tmp / "estimates.csv", index=False, float_format="%.6g")
        differences.to_csv(tmp / "differences.csv", index=False, float_format="%.6g")
        (tmp / "run.json").write_text(json.dumps({"trial": trial.model_dump(mode="json"), "reference": ref},
                                                 indent=2, default=float))
        _figure(trial, values, tmp / "endpoints.png")
    return TrialResult(trial, estimates, differences)


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
