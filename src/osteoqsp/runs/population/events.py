"""First events (for example fractures) drawn for each subject from the model's hazards.

The model integrates each hazard into a cumulative incidence F(t) = 1 - exp(-H(t)) (an observable
`<hazard>_cumulative`). A subject's first event is drawn by inversion: u ~ U(0, 1) and the event time is the
first t with F(t) = u (linear between output times), none when u > F at the end. The uniform comes from a
generator seeded by (seed, subject, stream of the hazard), so a subject's events do not depend on the
chunking, on the other hazards or on the draws of her parameters; redrawing with another seed gives the same
subjects' risks with new events (replicate trials).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

_STREAM = 7_340_033  # keeps the event draws apart from the subject's parameter draws (seeded by (seed, subject))


def event_uniforms(seed: int, subjects: np.ndarray, stream: int) -> np.ndarray:
    """One U(0, 1) per subject for the hazard numbered `stream`."""
    return np.array([np.random.default_rng([seed, int(s), _STREAM + stream]).random() for s in subjects])


def first_event_times(cumulative: np.ndarray, time_day: np.ndarray, u: np.ndarray) -> np.ndarray:
    """cumulative (S, T) incidence since the start, u (S,) -> event time in day (S,), inf when none by the
    end, NaN where the subject's course is missing."""
    f = np.asarray(cumulative, dtype=float)
    out = np.full(f.shape[0], np.inf)
    out[np.isnan(f[:, -1])] = np.nan
    hit = np.flatnonzero(f[:, -1] >= u)
    for i in hit:
        k = int(np.searchsorted(f[i], u[i], side="left"))  # first output time with F >= u
        if k == 0:
            out[i] = time_day[0]
            continue
        f0, f1 = f[i, k - 1], f[i, k]
        w = (u[i] - f0) / (f1 - f0) if f1 > f0 else 1.0
        out[i] = time_day[k - 1] + w * (time_day[k] - time_day[k - 1])
    return out


def kaplan_meier(times: np.ndarray, end: float) -> tuple[np.ndarray, np.ndarray]:
    """Kaplan-Meier estimate of the probability of no event, for event times (inf: none by `end`, censored
    there; NaN: dropped). Returns the step times (day, starting at 0) and the survival after each."""
    t = np.asarray(times, dtype=float)
    t = t[~np.isnan(t)]
    observed = np.isfinite(t) & (t <= end)
    t = np.where(observed, t, end)
    order = np.argsort(t, kind="stable")
    t, observed = t[order], observed[order]
    steps, surv = [0.0], [1.0]
    at_risk, s = t.size, 1.0
    for x in np.unique(t[observed]):
        d = int(np.count_nonzero((t == x) & observed))
        at_risk = int(np.count_nonzero(t >= x))
        s *= 1.0 - d / at_risk
        steps.append(float(x))
        surv.append(s)
    return np.array(steps), np.array(surv)


def events_table(hazards: Sequence[str], cumulative: dict[str, np.ndarray], time_day: np.ndarray,
                 subjects: np.ndarray, seed: int, streams: dict[str, int],
                 people: np.ndarray | None = None) -> pd.DataFrame:
    """subject, event, time_day (NaN: none by the end; failed subjects are left out). `people`: the person
    each subject is (under parameter draws), whose uniform is used; default the subject itself."""
    frames = []
    people = subjects if people is None else people
    for name in hazards:
        times = first_event_times(cumulative[name], time_day, event_uniforms(seed, people, streams[name]))
        keep = ~np.isnan(times)
        frames.append(pd.DataFrame({"subject": subjects[keep], "event": name,
                                    "time_day": np.where(np.isinf(times[keep]), np.nan, times[keep])}))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["subject", "event", "time_day"])


def plot_kaplan_meier(groups: dict[str, dict[str, np.ndarray]], end: float, title: str):  # noqa: ANN201
    """groups: label (an arm, or the population) -> hazard -> event times (inf: none). One panel a hazard:
    the cumulative incidence 1 - KM per group, in percent, against years."""
    import matplotlib.pyplot as plt

    hazards = list(next(iter(groups.values())))
    fig, axes = plt.subplots(1, len(hazards), figsize=(4.2 * len(hazards), 3.4), squeeze=False)
    for ax, name in zip(axes.flat, hazards):
        for label, by_hazard in groups.items():
            t, s = kaplan_meier(by_hazard[name], end)
            x = np.append(t, end) / 365.25
            ax.step(x, 100 * (1 - np.append(s, s[-1])), where="post", label=label)
        ax.set_title(name.replace("_", " "), fontsize=9)
        ax.set_xlabel("years since start")
        ax.set_ylabel("with a first event (%)")
        ax.grid(alpha=0.3)
    axes.flat[0].legend(fontsize=8)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig
