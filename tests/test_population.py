"""Virtual populations: sampling, batched runs, streamed files, failures reported, same seed same result."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from osteoqsp import Scenario, ScenarioError, SolverSettings, simulate
from osteoqsp.shells.cli import main
from osteoqsp.runs.population import RunStopped, simulate_population, sample_subjects, upper_bounds, variability
from osteoqsp.runs.subject import parameter_values

POP = {"name": "pop", "subject": {"sex": "female", "age": "58 year", "menopause_age": "51 year"},
       "intake": [{"agent": "MK-7", "dose": "180 ug", "every": "1 day"}], "duration": "60 day",
       "save_every": "5 day", "population": {"size": 24, "seed": 7}}


def test_sampling_is_lognormal_around_the_typical_values():
    sc = Scenario.from_dict(POP)
    typical = parameter_values(sc)
    draws = [d.values for d in sample_subjects(typical, np.arange(4000), seed=1)]
    upper = upper_bounds()
    for name, cv in variability().items():
        x = np.array([d[name] for d in draws]) / typical[name]
        assert np.median(x) == pytest.approx(1.0, abs=0.05)
        if name in upper:  # absorbed fractions: capped at 1, as many draws at the cap as the log-normal puts above it
            from scipy.stats import norm

            above = norm.sf(np.log(upper[name] / typical[name]) / np.sqrt(np.log1p(cv**2)))
            assert np.max(x * typical[name]) <= upper[name]
            assert np.mean(x * typical[name] == upper[name]) == pytest.approx(above, abs=0.01)
        else:
            assert np.std(np.log(x)) == pytest.approx(np.sqrt(np.log1p(cv**2)), rel=0.05)
    others = [k for k in typical if k not in variability()]
    assert all(draws[0][k] == typical[k] for k in others)


def test_population_files_and_reproducibility(tmp_path):
    sc = Scenario.from_dict(POP)
    a = simulate_population(sc, tmp_path / "a", chunk_size=10)
    b = simulate_population(sc, tmp_path / "b")
    assert b.summary.equals(a.summary)
    assert pd.read_parquet(tmp_path / "a" / "timecourse.parquet").equals(
        pd.read_parquet(tmp_path / "b" / "timecourse.parquet"))  # same seed, any chunking: identical
    long = pd.read_parquet(tmp_path / "a" / "timecourse.parquet")
    assert list(long.columns) == ["subject", "time_day", "observable", "value"]
    assert long["subject"].nunique() == 24 and len(long) == 24 * 13 * len(a.observable_names)
    one = long[(long.subject == 3) & (long.observable == "mk7_serum")]["value"].to_numpy()
    assert np.array_equal(one, a.values_of("mk7_serum")[3])
    summary = pd.read_csv(tmp_path / "a" / "summary.csv")
    assert list(summary.columns) == ["time_day", "observable", "mean", "p05", "p25", "p50", "p75", "p95"]
    row = summary[(summary.observable == "ucoc_ratio") & (summary.time_day == 60)].iloc[0]
    assert row.p05 < row.p50 < row.p95  # subjects differ
    run = json.loads((tmp_path / "a" / "run.json").read_text())
    assert run["seed"] == 7 and run["subjects_failed"] == 0 and "variability_cv" in run
    assert {"timecourse.parquet", "summary.csv", "figures"} <= set(run["timings_s"])  # seconds by phase
    assert all(v >= 0 for v in run["timings_s"].values())
    assert (tmp_path / "a" / "figures" / "bone_mass.png").exists()
    assert (tmp_path / "a" / "figures" / "spaghetti.png").stat().st_size > 0
    fig = a.spaghetti(("mk7_serum", "bmd_lumbar_spine"), n_subjects=10)
    assert len(fig.axes[0].lines) == 10 + 1  # one line per subject, then the median
    assert a.to_xarray()["mk7_serum"].shape == (24, 13)


def test_failed_subjects_are_reported_and_the_run_goes_on(tmp_path):
    sc = Scenario.from_dict(POP)
    r = simulate_population(sc, tmp_path / "f", settings=SolverSettings(max_steps=3, switch_steps=3))
    assert len(r.failures) == 24 and all("reason" in f and "subject" in f for f in r.failures)
    assert json.loads((tmp_path / "f" / "run.json").read_text())["subjects_failed"] == 24


def test_cli_population(tmp_path, capsys):
    import yaml

    f = tmp_path / "p.yaml"
    f.write_text(yaml.safe_dump(POP))
    assert main(["simulate", str(f), "-o", str(tmp_path / "out")]) == 0
    assert "24 subjects (0 failed)" in capsys.readouterr().out
    assert (tmp_path / "out" / "timecourse.parquet").exists() and (tmp_path / "out" / "summary.csv").exists()


def test_a_run_stopped_part_way_resumes_to_the_same_result(tmp_path):
    sc = Scenario.from_dict(POP)
    whole = simulate_population(sc, tmp_path / "whole", chunk_size=8)
    with pytest.raises(RunStopped):
        simulate_population(sc, tmp_path / "cut", chunk_size=8, max_new_chunks=1)
    assert (tmp_path / "cut.partial" / "chunk-000000.json").exists() and not (tmp_path / "cut").exists()
    resumed = simulate_population(sc, tmp_path / "cut", chunk_size=8, resume=True)
    assert not (tmp_path / "cut.partial").exists()
    assert pd.read_parquet(tmp_path / "cut" / "timecourse.parquet").equals(
        pd.read_parquet(tmp_path / "whole" / "timecourse.parquet"))
    assert resumed.summary.equals(whole.summary)
    with pytest.raises(RunStopped):
        simulate_population(sc, tmp_path / "x", chunk_size=8, max_new_chunks=1)
    other = Scenario.from_dict({**POP, "duration": "30 day"})
    with pytest.raises(ScenarioError, match="different run"):
        simulate_population(other, tmp_path / "x", chunk_size=8, resume=True)


def test_cli_resume(tmp_path, capsys):
    import yaml

    f = tmp_path / "p.yaml"
    f.write_text(yaml.safe_dump(POP))
    sc = Scenario.from_yaml(f)
    with pytest.raises(RunStopped):  # as if killed before the first chunk finished
        simulate_population(sc, tmp_path / "out", max_new_chunks=0)
    assert main(["simulate", str(f), "-o", str(tmp_path / "out"), "--resume"]) == 0
    assert (tmp_path / "out" / "summary.csv").exists() and not (tmp_path / "out.partial").exists()


def test_dask_local_cluster_gives_the_same_result(tmp_path):
    sc = Scenario.from_dict(dict(POP, population={"size": 12, "seed": 7}))
    serial = simulate_population(sc, tmp_path / "serial", chunk_size=4)
    spread = simulate_population(sc, tmp_path / "dask", chunk_size=4, dask="local")
    assert spread.summary.equals(serial.summary)
    assert pd.read_parquet(tmp_path / "dask" / "timecourse.parquet").equals(
        pd.read_parquet(tmp_path / "serial" / "timecourse.parquet"))


def test_covariates_and_correlations():
    pop = dict(POP, population={"size": 24, "seed": 7,
                                "covariates": {"age": {"uniform": ["55 year", "65 year"]},
                                               "natto": {"normal": ["100 g/week", "50 g/week"]}},
                                "correlations": {"kel_mk7,f_abs_mk7": 0.8}})
    sc = Scenario.from_dict(pop)
    typical = parameter_values(sc)
    draws = [d.values for d in sample_subjects(typical, np.arange(2000), 7, sc.population)]
    ages = np.array([d["age0"] for d in draws])
    assert 55 <= ages.min() and ages.max() <= 65 and abs(ages.mean() - 60) < 0.5
    assert np.mean([d["intake_mk7"] > typical["intake_mk7"] for d in draws]) > 0.95  # natto adds MK-7
    a = np.log([d["kel_mk7"] for d in draws])
    b = np.log([min(d["f_abs_mk7"], 0.799) for d in draws])  # below the cap at 1
    assert np.corrcoef(a, b)[0, 1] > 0.5
    with pytest.raises(ScenarioError, match="unknown covariate"):
        Scenario.from_dict(dict(POP, population={"size": 3, "covariates": {"height": {"uniform": ["1 m", "2 m"]}}}))
    with pytest.raises(ScenarioError, match="rho"):
        Scenario.from_dict(dict(POP, population={"size": 3, "correlations": {"kel_mk7": 2}}))
    with pytest.raises(ScenarioError, match="population.correlations: 'kel_mk7,height': 'height' is not a parameter"):
        Scenario.from_dict(dict(POP, population={"size": 3, "correlations": {"kel_mk7,height": 0.3}}))


def test_body_weight_scales_volumes_and_clearances():
    """Allometry: a heavier subject has a larger plasma volume, so a lower MK-7 peak after one dose, and a
    slower elimination rate constant (clearance ~ weight^3/4, volume ~ weight)."""
    one = {"name": "bw", "subject": {"sex": "female", "age": "58 year"}, "duration": "4 day",
           "intake": [{"agent": "MK-7", "dose": "420 ug"}], "save_every": "1 hour"}
    light = simulate(Scenario.from_dict(dict(one, subject={**one["subject"], "body_weight": "50 kg"})))
    heavy = simulate(Scenario.from_dict(dict(one, subject={**one["subject"], "body_weight": "100 kg"})))
    typical = simulate(Scenario.from_dict(one))
    peak = {k: r["mk7_serum"].max() - r["mk7_serum"][0] for k, r in
            (("light", light), ("heavy", heavy), ("typical", typical))}
    assert peak["light"] > peak["typical"] > peak["heavy"]
    assert 1.3 < peak["light"] / peak["heavy"] < 2.2  # volume x2, partly offset by slower clearance


def test_body_weight_and_warfarin_dose_covariates(tmp_path):
    sc = Scenario.from_dict({"name": "warfarin-pop", "subject": {"sex": "female", "age": "65 year",
                                                                "menopause_age": "51 year"},
                             "intake": [{"agent": "warfarin", "dose": "5 mg", "every": "1 day"}],
                             "duration": "21 day", "save_every": "7 day",
                             "population": {"size": 16, "seed": 2, "covariates": {
                                 "body_weight": {"normal": ["70 kg", "12 kg"]},
                                 "warfarin_dose": {"uniform": ["1 mg/day", "9 mg/day"]}}}})
    typical = parameter_values(sc)
    draws = sample_subjects(typical, np.arange(16), 2, sc.population)
    doses = np.array([d.daily_doses["warfarin"] for d in draws])
    assert 1 <= doses.min() and doses.max() <= 9 and np.std([d.values["body_weight"] for d in draws]) > 5
    res = simulate_population(sc, tmp_path / "w")
    rank = lambda x: np.argsort(np.argsort(x))  # noqa: E731
    plasma = res.values_of("warfarin_plasma")[:, -1]
    assert np.corrcoef(rank(doses), rank(plasma))[0, 1] > 0.8  # each subject gets its own dose
    with pytest.raises(ScenarioError, match="warfarin intake"):
        Scenario.from_dict(dict(POP, population={"size": 3, "covariates": {
            "warfarin_dose": {"uniform": ["1 mg/day", "2 mg/day"]}}}))
