"""Fractures (issue 14): T-scores against the young-adult reference, the hazard of a first fracture by age
and BMD at the published gradients, events drawn from it in populations, fracture endpoints in trials."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import yaml

from osteoqsp import Scenario, simulate
from osteoqsp.analyses.trial import Trial, event_replicates, run_trial
from osteoqsp.model import load_parameters
from osteoqsp.runs.population import simulate_population
from osteoqsp.runs.population.events import first_event_times, kaplan_meier

P = {name: row.value for name, row in load_parameters("human").rows.items()}
TYPES = ("hip", "vertebral", "nonvertebral")
PATHWAYS = ("carboxylation", "nfkb", "sxr", "osteoclast_apoptosis")


def _woman(age: float, years: float = 1.0, **extra) -> dict:
    return {"name": f"w{age:g}", "subject": {"sex": "female", "age": f"{age} year", "menopause_age": "51 year"},
            "duration": f"{years} year", "save_every": "30 day", **extra}


def _at_start(age: float, **parameters: float) -> dict[str, float]:
    r = simulate(Scenario.from_dict(_woman(age)), parameters=parameters or None)
    return {n: float(r[n][0]) for n in r.observable_names}


def test_tscore_from_the_young_adult_reference_and_the_subject_baseline():
    """A woman at her age's mean has the reference survey's mean T-score; a Z-score moves every site by it;
    the T-score then follows the model's own BMD change: T = (BMD0 (1 + change) - mean) / sd."""
    a = _at_start(65)
    for site in ("femoral_neck", "lumbar_spine", "total_hip"):
        expected = P[f"tscore_age50_{site}"] + 15 * P[f"tscore_slope_{site}"]
        assert a[f"tscore_{site}"] == pytest.approx(expected, abs=1e-9)
        assert _at_start(65, bmd_zscore0=-1.5)[f"tscore_{site}"] == pytest.approx(expected - 1.5, abs=1e-9)
    r = simulate(Scenario.from_dict(_woman(65, years=5)))
    bmd0 = P["bmd_ref_mean_femoral_neck"] + P["bmd_ref_sd_femoral_neck"] * r["tscore_femoral_neck"][0]
    bmd = bmd0 * (1 + r["bmd_femoral_neck"][-1] / 100)
    assert r["tscore_femoral_neck"][-1] == pytest.approx((bmd - P["bmd_ref_mean_femoral_neck"])
                                                         / P["bmd_ref_sd_femoral_neck"], abs=1e-9)
    assert r["bmd_femoral_neck"][-1] < -1 and r["tscore_femoral_neck"][-1] < r["tscore_femoral_neck"][0]


def test_hazard_rises_with_age_at_the_registry_slope():
    """Same Z-score, ages 60 and 80: the hazard ratio at the start is exp(slope x 20 y) for each type."""
    young, old = _at_start(60), _at_start(80)
    for kind in TYPES:
        ratio = old[f"fracture_{kind}_hazard"] / young[f"fracture_{kind}_hazard"]
        assert ratio == pytest.approx(math.exp(20 * P[f"fx_{kind}_age_slope"]), rel=1e-9)
        assert ratio > 5  # hip fracture incidence rises about eightfold from 60 to 80 (Emaus 2011)


@pytest.mark.parametrize("kind", TYPES)
def test_hazard_rises_with_falling_bmd_at_the_published_gradient(kind):
    """One SD lower BMD multiplies the hazard by the meta-analyses' risk ratio per SD (Johnell 2005 for the
    hip, Marshall 1996 for vertebral and non-vertebral fractures); two SD by its square."""
    h = {z: _at_start(70, bmd_zscore0=z)[f"fracture_{kind}_hazard"] for z in (0.0, -1.0, -2.0)}
    rr = {"hip": 2.88, "vertebral": 2.3, "nonvertebral": 1.5}[kind]
    assert h[-1.0] / h[0.0] == pytest.approx(rr, rel=1e-9)
    assert h[-2.0] / h[0.0] == pytest.approx(rr**2, rel=1e-9)


def test_population_hazard_averages_to_the_registry_incidence():
    """Over women of one age whose Z-scores are N(0, 1), the mean hazard is the registry's incidence at that
    age (the normalisation exp(-ln(RR)^2 / 2)); checked exactly by quadrature over Z."""
    z, w = np.polynomial.hermite_e.hermegauss(40)
    w = w / w.sum()
    for kind in TYPES:
        h0 = _at_start(70)[f"fracture_{kind}_hazard"]  # Z = 0
        rr = P[f"fx_{kind}_rr_per_sd"]
        mean = float(np.sum(w * h0 * rr ** (-z)))
        assert mean == pytest.approx(P[f"fx_{kind}_rate70"], rel=1e-6)


def test_cumulative_incidence_integrates_the_hazard():
    r = simulate(Scenario.from_dict(_woman(70, years=10)))
    t = r.time_day / 365.25
    for kind in TYPES:
        h = r[f"fracture_{kind}_hazard"]
        cum = np.concatenate([[0.0], np.cumsum(np.diff(t) * (h[1:] + h[:-1]) / 2)])
        assert r[f"fracture_{kind}_cumulative"][0] == 0.0
        np.testing.assert_allclose(r[f"fracture_{kind}_cumulative"], 1 - np.exp(-cum), rtol=2e-3, atol=1e-7)
        assert np.all(np.diff(r[f"fracture_{kind}_cumulative"]) > 0)


def test_femoral_neck_covariates_set_the_baseline(tmp_path):
    """A population given femoral-neck T-scores (or BMD in g/cm2) starts at exactly those values."""
    sc = Scenario.from_dict(_woman(70, population={"size": 6, "seed": 2, "covariates": {
        "femoral_neck_tscore": {"uniform": [-3.5, -2.5]}}}))
    pop = simulate_population(sc, tmp_path / "t")
    t0 = pop.values_of("tscore_femoral_neck")[:, 0]
    assert np.all((t0 >= -3.5) & (t0 <= -2.5)) and np.ptp(t0) > 0.1
    sc = Scenario.from_dict(_woman(70, population={"size": 4, "seed": 2, "covariates": {
        "femoral_neck_bmd": {"uniform": ["0.6 g/cm^2", "0.6 g/cm^2"]}}}))
    t0 = simulate_population(sc, tmp_path / "b").values_of("tscore_femoral_neck")[:, 0]
    np.testing.assert_allclose(t0, (0.6 - P["bmd_ref_mean_femoral_neck"]) / P["bmd_ref_sd_femoral_neck"], atol=1e-6)


def test_ucoc_pathway_raises_hip_risk_only_when_switched_on():
    """Warfarin raises ucOC above the threshold of elevation: with the pathway on the hip hazard rises by up
    to Szulc's odds ratio, beyond BMD; off (the default), the hazard does not see ucOC."""
    warf = {"intake": [{"agent": "warfarin", "dose": "20 mg", "every": "1 day"}]}  # a mechanism test, not a regimen
    off = simulate(Scenario.from_dict(_woman(70, years=0.2, **warf)))
    on = simulate(Scenario.from_dict(_woman(70, years=0.2, pathways={"fracture_ucoc": "on"}, **warf)))
    assert off["ucoc_ratio"][-1] > P["fx_ucoc_ratio_threshold"] + 3 * P["fx_ucoc_step_width"]
    ratio = on["fracture_hip_hazard"][-1] / off["fracture_hip_hazard"][-1]
    assert 0.9 * P["fx_hip_ucoc_or"] < ratio <= P["fx_hip_ucoc_or"]
    np.testing.assert_allclose(on["fracture_vertebral_hazard"], off["fracture_vertebral_hazard"], rtol=1e-9)
    base = simulate(Scenario.from_dict(_woman(70, years=0.2, pathways={"fracture_ucoc": "on"})))
    assert base["ucoc_ratio"][0] < P["fx_ucoc_ratio_threshold"]
    assert base["fracture_hip_hazard"][0] / _at_start(70)["fracture_hip_hazard"] < 1.05


def test_event_times_invert_the_cumulative_incidence():
    t = np.linspace(0, 1000, 11)
    f = 1 - np.exp(-t / 2000)
    u = np.array([0.0, 0.1, 0.45, 0.5, np.nan])  # F(end) = 0.39
    out = first_event_times(np.vstack([f, f, f, f, np.full(11, np.nan)]), t, u)
    assert out[0] == 0.0 and out[2] == np.inf and out[3] == np.inf and np.isnan(out[4])
    assert 1 - np.exp(-out[1] / 2000) == pytest.approx(0.1, abs=1e-3)


def test_kaplan_meier_without_censoring_is_the_empirical_distribution():
    times = np.array([10.0, 20.0, 20.0, np.inf, 40.0, np.inf, np.nan])
    t, s = kaplan_meier(times, end=50.0)
    assert list(t) == [0, 10, 20, 40] and s == pytest.approx([1, 5 / 6, 3 / 6, 2 / 6])


def test_population_events_match_the_risk_and_do_not_depend_on_chunking(tmp_path):
    """Women of 75 with N(0, 1) Z-scores over 5 years: the Kaplan-Meier incidence at 5 years from the drawn
    events agrees with the mean cumulative incidence within sampling error; chunking does not change the
    events."""
    sc = Scenario.from_dict(_woman(75, years=5, population={"size": 300, "seed": 11, "covariates": {
        "bmd_zscore": {"normal": [0, 1]}}}))
    a = simulate_population(sc, tmp_path / "a", chunk_size=300)
    b = simulate_population(sc, tmp_path / "b", chunk_size=70)
    pd.testing.assert_frame_equal(a.events, b.events)
    assert (tmp_path / "a" / "events.csv").exists() and (tmp_path / "a" / "figures" / "events.png").exists()
    for kind in TYPES:
        risk = a.values_of(f"fracture_{kind}_cumulative")[:, -1]
        _, s = kaplan_meier(a.event_times(f"fracture_{kind}"), end=float(a.time_day[-1]))
        se = math.sqrt(risk.mean() * (1 - risk.mean()) / risk.size)
        assert abs((1 - s[-1]) - risk.mean()) < 3.5 * se + 1e-9
    assert a.values_of("fracture_nonvertebral_cumulative")[:, -1].mean() > 0.05  # enough events to test
    from osteoqsp.shells.report import build_report

    assert "First events (fractures)" in build_report(tmp_path / "a").read_text()


def test_no_bmd_effect_gives_no_fracture_difference_beyond_chance():
    """Two arms drawn from one pool of risks: the two-proportion test finds a difference in about 5 % of
    virtual trials (alpha); a halved risk is found far more often."""
    rng = np.random.default_rng(5)
    risk = rng.uniform(0.02, 0.2, 2000)
    power, ra, rb = event_replicates(risk, risk, 400, 400, 2000, rng)
    assert 0.03 < power < 0.075 and abs(ra.mean() - rb.mean()) < 0.003
    power, _, _ = event_replicates(risk / 2, risk, 400, 400, 1000, rng)
    from scipy.stats import norm

    p1, p2 = risk.mean() / 2, risk.mean()
    se0 = math.sqrt((p1 + p2) / 2 * (1 - (p1 + p2) / 2) * 2 / 400)
    se1 = math.sqrt((p1 * (1 - p1) + p2 * (1 - p2)) / 400)
    assert power == pytest.approx(norm.cdf(((p2 - p1) - 1.96 * se0) / se1), abs=0.05)  # the textbook power


def test_trial_with_a_fracture_endpoint(tmp_path):
    """MK-7 against placebo in women of 70 with low BMD: risks per arm, relative risk, hazard ratio, NNT,
    power, a power curve and Kaplan-Meier curves. All women start at T -2.5, so the arms differ by MK-7."""
    base = _woman(70, years=3)
    base["population"] = {"size": 1, "covariates": {"femoral_neck_tscore": {"uniform": [-2.5, -2.5]}}}
    data = {"name": "fx", "base": base, "reference": "placebo",
            "arms": {"placebo": {}, "mk7": {"intake": [{"agent": "MK-7", "dose": "180 ug", "every": "1 day"}]},
                     "mk7-no-bone-action": {"intake": [{"agent": "MK-7", "dose": "180 ug", "every": "1 day"}],
                                            "pathways": {p: "off" for p in PATHWAYS}}},
            "subjects_per_arm": 2000, "pool": 80, "replicates": 100, "seed": 1, "power_curve": [500, 5000],
            "endpoints": [{"event": "fracture_hip", "time": "3 year"}, {"observable": "bmd_femoral_neck",
                                                                        "time": "3 year"}]}
    f = tmp_path / "t.yaml"
    f.write_text(yaml.safe_dump(data, sort_keys=False))
    r = run_trial(Trial.from_yaml(f), tmp_path / "out")
    d = r.differences[(r.differences.endpoint == "fracture_hip within 3 years") & (r.differences.arm == "mk7")].iloc[0]
    est = r.estimates[r.estimates.endpoint == "fracture_hip within 3 years"].set_index("arm")
    assert d["difference"] == pytest.approx(est.loc["mk7", "mean"] - est.loc["placebo", "mean"])
    assert d["relative_risk"] == pytest.approx(est.loc["mk7", "mean"] / est.loc["placebo", "mean"])
    assert d["relative_risk"] < 1 and d["hazard_ratio"] < 1 and d["nnt"] > 0 and 0 <= d["power"] <= 1
    null = r.differences[(r.differences.endpoint == "fracture_hip within 3 years")
                         & (r.differences.arm == "mk7-no-bone-action")].iloc[0]
    assert abs(null["relative_risk"] - 1) < 0.02 and null["power"] < 0.15  # no BMD effect: chance only
    assert set(r.power_curve["n_per_arm"]) == {500, 5000}
    for name in ("kaplan_meier.png", "power_curve.png", "power_curve.csv", "differences.csv"):
        assert (tmp_path / "out" / name).exists()


def test_fracture_relation_against_the_meta_regression():
    """Bouxsein 2019's line passes through its two quoted points; the model's risk reduction grows with the
    total-hip gain, and each row reports the model, the meta-regression at the same gain and the residual."""
    from osteoqsp.analyses.fracture_relation import BOUXSEIN_2019, fracture_relation, meta_regression_reduction

    for kind, points in BOUXSEIN_2019.items():
        for gain, reduction in points.items():
            assert meta_regression_reduction(kind, gain) == pytest.approx(reduction)
    table = fracture_relation()
    assert len(table) == 6
    for kind in BOUXSEIN_2019:
        rows = table[table.fracture == kind].sort_values("total_hip_gain")
        assert np.all(np.diff(rows["model_reduction"]) > 0) and rows["total_hip_gain"].iloc[0] > 0
        np.testing.assert_allclose(rows["residual"], rows["model_reduction"] - rows["meta_regression_reduction"])
