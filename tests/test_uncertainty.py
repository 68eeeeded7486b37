"""Issue 13: the trial fit (model-based meta-analysis), its shipped posterior, and uncertainty apart from
variability in populations, trials and attribution."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml

from osteoqsp import Scenario
from osteoqsp.analyses.mbma import PARAMETERS, contrasts, log_likelihood, model_contrasts
from osteoqsp.model.parameters import posterior
from osteoqsp.runs.population import simulate_population

POP = {"name": "unc", "subject": {"sex": "female", "age": "60 year", "menopause_age": "51 year"},
       "intake": [{"agent": "MK-7", "dose": "180 ug", "every": "1 day"}], "duration": "1 year",
       "save_every": "60 day"}


def test_every_contrast_quotes_its_trial_row():
    """Each fitted contrast is a number of trials.csv (its trial and value stand there) with a positive SE."""
    from osteoqsp.analyses.evidence.tables import trials

    rows = trials()
    for c in contrasts():
        assert c.se > 0 and c.how
        assert any(r["trial"] == c.trial for r in rows), c.trial


def test_likelihood_prefers_the_data_and_the_random_effect_widens_it():
    rows = contrasts()
    obs = np.array([c.value for c in rows])
    model = model_contrasts()
    assert log_likelihood(obs, 0.0) > log_likelihood(model, 0.0)  # the data themselves fit best
    far = obs + 5.0  # a model 5 points off everywhere is less unlikely once trials may differ
    assert log_likelihood(far, 2.0) > log_likelihood(far, 0.0)


def test_the_shipped_posterior_holds_the_fitted_magnitudes():
    draws = posterior("human")
    assert len(draws) >= 50 and set(PARAMETERS) <= set(draws[0])
    for p in PARAMETERS:
        values = np.array([d[p] for d in draws])
        assert np.all(values > 0) and np.ptp(values) > 0  # draws, not one value repeated


def test_population_separates_uncertainty_from_variability(tmp_path):
    """Each person is simulated under every draw (the same etas), subjects.csv names the draw beside each
    subject, and uncertainty.csv gives the population mean's band over the draws and, apart, the spread between
    people (here the trial fit's uncertainty is wider than the model's assumed variability)."""
    sc = Scenario.from_dict({**POP, "population": {"size": 8, "seed": 3, "uncertainty": {"draws": 5}}})
    pop = simulate_population(sc, tmp_path / "u")
    assert pop.n_subjects == 40
    subjects = pd.read_csv(tmp_path / "u" / "subjects.csv")
    assert list(subjects.columns) == ["subject", "person", "draw"] and subjects["draw"].nunique() == 5
    bmd = pop.by_draw(pop.values_of("bmd_lumbar_spine"))  # (draw, person, time)
    ucoc0 = pop.by_draw(pop.values_of("ucoc_ratio"))[:, :, 0]
    assert np.allclose(ucoc0, ucoc0[0])  # the same people: baselines do not depend on the bone-effect draws
    assert np.ptp(bmd[:, :, -1].mean(axis=1)) > 0  # the draws move the mean effect
    u = pd.read_csv(tmp_path / "u" / "uncertainty.csv")
    row = u[(u.observable == "bmd_lumbar_spine") & (u.time_day == u.time_day.max())].iloc[0]
    assert row.mean_p05 < row.mean_p50 < row.mean_p95
    assert row.between_people_p05 < row.between_people_p95
    within = np.percentile(bmd[:, :, -1], 95, axis=1).mean()  # by hand: the draws' own 95th percentiles, averaged
    assert row.between_people_p95 == pytest.approx(within, rel=1e-4)
    means = bmd[:, :, -1].mean(axis=1)
    assert row.mean_p95 == pytest.approx(np.percentile(means, 95), rel=1e-4)
    assert (tmp_path / "u" / "figures" / "uncertainty.png").exists()


def test_uncertainty_needs_the_draws_it_asks_for():
    from osteoqsp.errors import ScenarioError

    with pytest.raises(ScenarioError, match="draws asked"):
        Scenario.from_dict({**POP, "population": {"size": 2, "uncertainty": {"draws": 5000}}})


def test_trial_reports_assurance_beside_power(tmp_path):
    data = {"name": "assure", "base": {k: v for k, v in POP.items() if k != "intake"}, "reference": "placebo",
            "arms": {"placebo": {}, "mk7": {"intake": POP["intake"]}}, "subjects_per_arm": 30, "pool": 20,
            "replicates": 60, "seed": 2, "uncertainty": {"draws": 4},
            "endpoints": [{"observable": "bmd_lumbar_spine", "time": "1 year", "residual_sd": 1.0}]}
    f = tmp_path / "t.yaml"
    f.write_text(yaml.safe_dump(data, sort_keys=False))
    from osteoqsp.analyses.trial import Trial, run_trial

    d = run_trial(Trial.from_yaml(f), tmp_path / "out").differences.iloc[0]
    assert 0 <= d["assurance"] <= 1 and 0 <= d["power"] <= 1 and d["draws"] == 4
    assert d["difference_draws_p05"] <= d["difference_draws_p95"]


def test_attribution_shares_carry_intervals():
    from osteoqsp.analyses.attribution import attribution_uncertainty
    from osteoqsp.runs.library import load_scenario

    sc = load_scenario("knapen2013-mk7").model_copy(update={"duration": 365.25})
    unc = attribution_uncertainty(sc, 4, ("bmd_lumbar_spine",))
    share = "bmd_lumbar_spine share lost"
    for case in ("without carboxylation", "without sxr"):
        lo, med, hi = (unc[q].loc[case, share] for q in ("q2.5", "median", "q97.5"))
        assert lo <= med <= hi


def test_claims_constrain_the_trial_fit():
    """The claims that share the magnitudes hold at the shipped typical values (margins >= 0) and fail when the
    magnitudes are cut tenfold; the log-posterior then pays for them."""
    import math

    from osteoqsp.analyses.mbma import claim_margins, log_posterior
    from osteoqsp.model import load_parameters

    table = load_parameters("human")
    assert all(m >= 0 for m in claim_margins().values())
    from osteoqsp.analyses.mbma import BOUNDS

    low = {p: max(table.rows[p].value / 10, 1.01 * BOUNDS[p][0]) for p in PARAMETERS}
    assert sum(m < 0 for m in claim_margins(low).values()) >= 3 and math.isfinite(log_posterior(
        np.array([math.log(v) for v in low.values()] + [0.5]), with_claims=True))
    theta = np.array([math.log(v) for v in low.values()] + [0.5])
    assert log_posterior(theta, with_claims=True) < log_posterior(theta, with_claims=False) - 10


def test_sensitivity_indices_carry_intervals():
    """Around each posterior draw: the BMD endpoint's indices move with the bone-effect magnitudes, the ucOC
    ratio's (a carboxylation read-out, upstream of them) do not; shares sum to one per endpoint."""
    from osteoqsp.analyses.sensitivity import sensitivity_uncertainty
    from osteoqsp.runs.library import load_scenario

    sc = load_scenario("knapen2013-mk7").model_copy(update={"duration": 365.25})
    unc = sensitivity_uncertainty(sc, 3, n=2, parameters=["f_abs_mk7", "kel_mk7", "km_carb_oc"],
                                  endpoints=("bmd_lumbar_spine", "ucoc_ratio"))
    bmd, ucoc = unc.loc["bmd_lumbar_spine"], unc.loc["ucoc_ratio"]
    assert (bmd[("q97.5", "mu_star")] > bmd[("q2.5", "mu_star")]).any()
    assert np.allclose(ucoc[("q97.5", "mu_star")], ucoc[("q2.5", "mu_star")], rtol=1e-6)
    assert unc[("median", "share")].groupby(level="endpoint").sum().between(0.9, 1.1).all()
