"""Global sensitivity of scenario endpoints to model parameters (SALib: Morris or Sobol, seeded).

Parameters vary log-uniformly between `spread`-fold below and above their typical value (default: the
parameters of the variability table, 2-fold), capped at their hard upper bounds (absorbed fractions <= 1). Endpoints: observables at the end of the scenario. All
samples run in one batched compiled call.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from osteoqsp.engine import SolverSettings
from osteoqsp.errors import SteadyStateError
from osteoqsp.runs.population import upper_bounds, variability
from osteoqsp.runs.scenario import Scenario
from osteoqsp.runs.subject import engine_for, parameter_values, prepare_many

METHODS = ("morris", "sobol")


def evaluate(scenario: Scenario, names: list[str], log_values: np.ndarray, endpoints: tuple[str, ...],
             base: dict[str, float] | None = None) -> np.ndarray:
    """Endpoints at the end of the scenario for each row of log-parameter values -> (samples, endpoints);
    `base` overrides the typical values the rows vary around (model units)."""
    eng = engine_for(scenario.species)
    typical = {**parameter_values(scenario), **(base or {})}
    values = [dict(typical, **{n: float(np.exp(x)) for n, x in zip(names, row)}) for row in log_values]
    subjects = prepare_many(scenario, values, SolverSettings(), t_out=np.array([0.0, scenario.duration]),
                            warm=True)
    if not subjects.ok.all():
        raise SteadyStateError(f"{int((~subjects.ok).sum())} parameter samples have no baseline")
    states, status, _ = eng.solve_batch(subjects.y0, subjects.p, subjects.t_out, subjects.events)
    obs = eng.observe_batch(subjects.t_out, states, subjects.p)
    idx = [eng.gen.observable_names.index(e) for e in endpoints]
    out = obs[:, -1, idx]
    out[status >= 2] = np.nan
    return out


def sensitivity(scenario: Scenario, *, method: str = "morris", n: int = 10, seed: int = 0,
                parameters: list[str] | None = None, spread: float = 2.0,
                endpoints: tuple[str, ...] = ("bmd_lumbar_spine", "ucoc_ratio"),
                base: dict[str, float] | None = None) -> pd.DataFrame:
    """Indices per parameter and endpoint: Morris mu*, sigma; or Sobol S1, ST (with confidence). `base`
    overrides the typical values (model units), e.g. a posterior draw."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}")
    typical = {**parameter_values(scenario), **(base or {})}
    names = sorted(parameters or [p for p in variability() if p in typical])
    unknown = [p for p in names if p not in typical]
    if unknown:
        raise KeyError(f"not parameters of the model: {unknown}")
    upper = upper_bounds()
    centre = np.log([typical[p] for p in names])
    bounds = [[c - np.log(spread), min(c + np.log(spread), np.log(upper.get(p, np.inf)))]
              for p, c in zip(names, centre)]
    problem = {"num_vars": len(names), "names": names, "bounds": bounds}
    if method == "morris":
        from SALib.analyze import morris as analyze
        from SALib.sample import morris as sample

        x = sample.sample(problem, n, num_levels=4, seed=seed)
    else:
        from SALib.analyze import sobol as analyze
        from SALib.sample import sobol as sample

        x = sample.sample(problem, n, calc_second_order=False, seed=seed)
    y = evaluate(scenario, names, x, endpoints, base)
    rows = []
    for j, e in enumerate(endpoints):
        yj = np.nan_to_num(y[:, j], nan=np.nanmean(y[:, j]))
        if method == "morris":
            res = analyze.analyze(problem, x, yj, num_levels=4, seed=seed)
            for k, p in enumerate(names):
                rows.append({"endpoint": e, "parameter": p, "mu_star": res["mu_star"][k], "sigma": res["sigma"][k],
                             "mu_star_conf": res["mu_star_conf"][k]})
        else:
            res = analyze.analyze(problem, yj, calc_second_order=False, seed=seed)
            for k, p in enumerate(names):
                rows.append({"endpoint": e, "parameter": p, "S1": res["S1"][k], "S1_conf": res["S1_conf"][k],
                             "ST": res["ST"][k], "ST_conf": res["ST_conf"][k]})
    df = pd.DataFrame(rows)
    df.attrs["samples"] = len(x)
    return df


def sensitivity_uncertainty(scenario: Scenario, draws: int, **kwargs) -> pd.DataFrame:  # noqa: ANN003
    """The sensitivity around each of the first `draws` parameter sets of the shipped posterior (the trial fit):
    per endpoint and parameter, each index's median and 2.5-97.5 % range over the draws, and its share (the
    index over the sum of that endpoint's indices: mu* for Morris, ST for Sobol) with its range."""
    from osteoqsp.model.parameters import posterior_draws

    sets = posterior_draws(scenario.species, draws)
    frames = []
    for d, values in enumerate(sets):
        df = sensitivity(scenario, base=values, **kwargs)
        col = "mu_star" if "mu_star" in df else "ST"
        df["share"] = df[col] / df.groupby("endpoint")[col].transform("sum")
        frames.append(df.assign(draw=d))
    allx = pd.concat(frames, ignore_index=True)
    cols = [c for c in allx.columns if c not in ("endpoint", "parameter", "draw") and not c.endswith("_conf")]
    g = allx.groupby(["endpoint", "parameter"], sort=False)[cols]
    out = pd.concat({"median": g.median(), "q2.5": g.quantile(0.025), "q97.5": g.quantile(0.975)}, axis=1)
    out.attrs["samples"] = sum(f.attrs.get("samples", 0) for f in frames)
    return out


def plot_sensitivity(df: pd.DataFrame, path: str | Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    col = "mu_star" if "mu_star" in df else "ST"
    eps = list(dict.fromkeys(df["endpoint"]))
    fig, axes = plt.subplots(1, len(eps), figsize=(5 * len(eps), 0.3 * df["parameter"].nunique() + 1.8),
                             squeeze=False)
    for ax, e in zip(axes.flat, eps):
        d = df[df["endpoint"] == e].sort_values(col)
        ax.barh(d["parameter"], d[col], color="tab:blue")
        ax.set_title(f"{e}: {col}", fontsize=10)
        ax.grid(alpha=0.3, axis="x")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
