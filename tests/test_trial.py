"""Virtual trials: estimates per arm, differences, power by repeated virtual trials."""

from __future__ import annotations

import pandas as pd
import pytest
import yaml

from osteoqsp.shells.cli import main
from osteoqsp.runs.scenario import ScenarioError
from osteoqsp.analyses.trial import Trial, run_trial

TRIAL = {"name": "mini", "base": {"species": "human", "subject": {"sex": "female", "age": "58 year",
                                                                   "menopause_age": "51 year"},
                                  "duration": "60 day", "save_every": "10 day"},
         "arms": {"placebo": {}, "mk7": {"intake": [{"agent": "MK-7", "dose": "180 ug", "every": "1 day"}]}},
         "subjects_per_arm": 6, "pool": 12, "replicates": 40, "seed": 3,
         "endpoints": [{"observable": "ucoc_ratio", "time": "60 day", "change": "absolute"}]}


def _trial(tmp_path, data):
    f = tmp_path / "t.yaml"
    f.write_text(yaml.safe_dump(data, sort_keys=False))
    return Trial.from_yaml(f)


def test_trial_estimates_difference_and_power(tmp_path):
    r = run_trial(_trial(tmp_path, TRIAL), tmp_path / "out")
    est = pd.read_csv(tmp_path / "out" / "estimates.csv")
    assert set(est["arm"]) == {"placebo", "mk7"} and (est["ci_low"] <= est["mean"]).all()
    d = r.differences.iloc[0]
    assert d["difference"] < 0 and d["ci_low"] < d["ci_high"] < 0 and d["power"] == 1.0
    noisy = dict(TRIAL, endpoints=[dict(TRIAL["endpoints"][0], residual_sd=0.3)])
    assert run_trial(_trial(tmp_path, noisy), tmp_path / "out2").differences.iloc[0]["power"] < 1.0
    assert (tmp_path / "out" / "endpoints.png").exists() and (tmp_path / "out" / "arms" / "mk7" / "summary.csv").exists()


def test_trial_errors(tmp_path):
    with pytest.raises(ScenarioError, match="at least two arms"):
        _trial(tmp_path, dict(TRIAL, arms={"placebo": {}}))
    with pytest.raises(ScenarioError, match="reference"):
        _trial(tmp_path, dict(TRIAL, reference="nope"))


def test_builtin_trials_load(capsys):
    from osteoqsp.runs.library import trial_path

    for name in ("knapen2013", "theuwissen2012-dose-finding"):
        t = Trial.from_yaml(trial_path(name))
        assert t.arm_scenario(list(t.arms)[1], 1).population is not None
    assert main(["trial", "no-such-trial", "-o", "x"]) == 2
