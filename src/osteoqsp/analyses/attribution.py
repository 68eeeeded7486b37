"""Mechanism attribution: how much of an MK-7 effect comes from each pathway.

For a scenario and its placebo (the same scenario without vitamin K intake), the effect on each endpoint is
computed with all four pathways on, with each pathway switched off in turn (the placebo with the same
switches, so that habitual dietary MK-7 is treated alike), and with all off.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from osteoqsp.runs.scenario import AgentDose, Scenario, vocabulary
from osteoqsp.runs.simulation import simulate

def placebo_of(scenario: Scenario) -> Scenario:
    """The scenario without its vitamin K doses, foods and diets (other agents kept). The vitamin K forms are
    the agents the species model lets a diet hold."""
    vitamers = {d.agent for d in vocabulary(scenario.species).diets}
    keep = [i for i in scenario.intake if isinstance(i, AgentDose) and i.agent not in vitamers]
    return scenario.model_copy(update={"intake": keep, "name": scenario.name + "-placebo"})


def attribution(scenario: Scenario, endpoints: tuple[str, ...] = ("bmd_lumbar_spine", "bmd_femoral_neck"),
                time_day: float | None = None, parameters: dict[str, float] | None = None,
                settings=None) -> pd.DataFrame:  # noqa: ANN001 (SolverSettings)
    """Rows: 'all on', 'without <pathway>' for each pathway, 'all off'; columns: the effect (scenario minus
    placebo) on each endpoint at time_day (default: the end), and each pathway's share of the full effect.
    `parameters` overrides model parameters (model units), e.g. a posterior draw."""
    t = scenario.duration if time_day is None else time_day
    from osteoqsp.model import mk7_pathways

    pathways = list(mk7_pathways(scenario.species))
    cases = {"all on": {}, **{f"without {p}": {p: False} for p in pathways}, "all off": {p: False for p in pathways}}
    rows = []
    for label, switches in cases.items():
        sw = {**scenario.pathways, **switches}
        arm = simulate(scenario.model_copy(update={"pathways": sw}), parameters=parameters, settings=settings)
        pla = simulate(placebo_of(scenario).model_copy(update={"pathways": sw}), parameters=parameters,
                       settings=settings)
        rows.append({"case": label, **{e: arm.at(e, t) - pla.at(e, t) for e in endpoints}})
    df = pd.DataFrame(rows).set_index("case")
    full = df.loc["all on"]
    for e in endpoints:
        df[f"{e} share lost"] = (full[e] - df[e]) / full[e] if full[e] != 0 else float("nan")
    return df


def attribution_uncertainty(scenario: Scenario, draws: int,
                            endpoints: tuple[str, ...] = ("bmd_lumbar_spine", "bmd_femoral_neck"),
                            time_day: float | None = None) -> pd.DataFrame:
    """The attribution under each of the first `draws` parameter sets of the shipped posterior (the trial fit),
    solved with the population integrator: per case and column, the median and the 2.5-97.5 % range over the
    draws, so a reader sees whether a pathway's share is data or assumption (a wide range: the trials do not
    fix it)."""
    from osteoqsp.engine import POPULATION_SETTINGS
    from osteoqsp.model.parameters import posterior_draws

    sets = posterior_draws(scenario.species, draws)
    frames = [attribution(scenario, endpoints, time_day, p, POPULATION_SETTINGS) for p in sets]
    stacked = pd.concat(frames, keys=range(len(frames)), names=["draw", "case"])
    g = stacked.groupby(level="case", sort=False)
    out = pd.concat({"median": g.median(), "q2.5": g.quantile(0.025), "q97.5": g.quantile(0.975)}, axis=1)
    return out.loc[frames[0].index]


def plot_attribution(df: pd.DataFrame, path: str | Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    effects = [c for c in df.columns if not c.endswith("share lost")]
    fig, ax = plt.subplots(figsize=(8, 3.8))
    width = 0.8 / len(effects)
    for k, e in enumerate(effects):
        ax.bar([i + k * width for i in range(len(df))], df[e], width=width, label=e)
    ax.set_xticks([i + width * (len(effects) - 1) / 2 for i in range(len(df))], df.index, rotation=20, ha="right")
    ax.set_ylabel("effect vs placebo (percentage points)")
    ax.axhline(0, color="black", lw=0.8)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, axis="y")
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
