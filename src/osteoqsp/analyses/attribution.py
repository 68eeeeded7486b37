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
                time_day: float | None = None) -> pd.DataFrame:
    """Rows: 'all on', 'without <pathway>' for each pathway, 'all off'; columns: the effect (scenario minus
    placebo) on each endpoint at time_day (default: the end), and each pathway's share of the full effect."""
    t = scenario.duration if time_day is None else time_day
    pathways = [w.name for w in vocabulary(scenario.species).switches]
    cases = {"all on": {}, **{f"without {p}": {p: False} for p in pathways}, "all off": {p: False for p in pathways}}
    rows = []
    for label, switches in cases.items():
        sw = {**scenario.pathways, **switches}
        arm = simulate(scenario.model_copy(update={"pathways": sw}))
        pla = simulate(placebo_of(scenario).model_copy(update={"pathways": sw}))
        rows.append({"case": label, **{e: arm.at(e, t) - pla.at(e, t) for e in endpoints}})
    df = pd.DataFrame(rows).set_index("case")
    full = df.loc["all on"]
    for e in endpoints:
        df[f"{e} share lost"] = (full[e] - df[e]) / full[e] if full[e] != 0 else float("nan")
    return df


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
