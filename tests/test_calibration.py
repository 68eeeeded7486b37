"""Calibration (`osteoqsp calibrate`): fits that recover what they should, identifiability, the shipped
default set, and the PEtab export checked by petab's own linter."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from osteoqsp.analyses.calibration import Problem, _crossings, calibrate, fit_parameters, install_default, weighted
from osteoqsp.shells.cli import main
from osteoqsp.interop.petab import export_petab, lint
from osteoqsp.model.parameters import load_parameters


def test_one_parameter_one_target_is_met_exactly():
    """Habitual MK-7 intake against Kaneki's British serum MK-7 (target 27): one unknown, one equation."""
    cal = calibrate("human", ["intake_mk7"], [27], starts=2, max_nfev=20, prior_fold=1)
    assert abs(weighted(cal.after[0])) < 0.05
    assert cal.objective_best <= cal.objective_start
    assert cal.identifiable["intake_mk7"][0]
    lo, hi = cal.wald[0]
    assert lo < cal.estimates()["intake_mk7"] < hi


def test_two_parameters_one_target_are_not_both_identifiable():
    """Serum MK-7 at steady state is intake / clearance: one target cannot fix both."""
    cal = calibrate("human", ["intake_mk7", "kel_mk7"], [27], starts=1, max_nfev=20, prior_fold=1)
    assert not all(ok for ok, _ in cal.identifiable.values())


def test_profile_likelihood_of_an_open_profile(tmp_path):
    """Osteoblast life shortening by estrogen loss against Pouilles' femoral-neck loss (target 59): the
    reported SD is wide, so the profile rises above the 95 % threshold only on the upper side."""
    cal = calibrate("human", ["g_est_oba"], [59], starts=1, max_nfev=20, profile_points=7, prior_fold=1)
    prof = cal.profiles["g_est_oba"]
    objective = np.array([f for _, f in prof])
    assert objective.min() == pytest.approx(cal.objective_best, abs=1e-6)
    assert objective[-1] - cal.objective_best > 3.84 > objective[0] - cal.objective_best
    lo, hi = cal.wald[0]
    assert lo == pytest.approx(0.01) and cal.estimates()["g_est_oba"] < hi < 0.5
    assert cal.identifiable["g_est_oba"] == (False, "profile stays below the 95 % threshold up to a bound")
    path = install_default(cal, tmp_path)
    rows = list(csv.DictReader(open(path)))
    assert rows[0]["name"] == "g_est_oba" and rows[0]["status"] == "fitted"


def test_profile_crossings_interpolate_the_threshold():
    x = list(np.linspace(-2, 2, 9))
    d = [4 * v ** 2 for v in x]  # crosses 3.841 at +/- 0.98
    lo, hi = _crossings(x, d, 0.0)
    assert lo == pytest.approx(-0.98, abs=0.05) and hi == pytest.approx(0.98, abs=0.05)


def test_the_prior_holds_a_parameter_no_target_informs():
    """kel_mk4 does not change serum MK-7 of British women (target 27): with the prior it stays at its
    hand-set value however far away the fit starts; the prior adds one residual per parameter."""
    problem = Problem("human", ["intake_mk7", "kel_mk4"], [27])
    assert problem.residuals(problem.x0).size == 1 + 2
    cal = calibrate("human", ["intake_mk7", "kel_mk4"], [27], starts=2, max_nfev=20, seed=3)
    assert cal.estimates()["kel_mk4"] == pytest.approx(problem.params[1].prior, rel=0.05)
    assert not cal.identifiable["kel_mk4"][0]


def test_bounds_hold_every_fitted_parameter():
    for species in ("human", "rat"):
        for p in fit_parameters(species):
            assert 0 < p.lower <= p.start <= p.upper and p.reason


def test_shipped_calibration_is_the_default_and_is_no_worse_than_the_hand_set_values():
    for species in ("human", "rat"):
        shipped = load_parameters(species)
        hand = load_parameters(species, calibrated=False)
        problem = Problem(species)
        changed = [p.name for p in problem.params if shipped.rows[p.name].value != hand.rows[p.name].value]
        assert changed, f"no calibrated value ships for {species}"
        x_shipped = np.log([shipped.rows[p.name].value for p in problem.params])
        assert problem.objective(x_shipped) <= problem.objective(problem.x0) + 1e-9
        assert all("osteoqsp calibrate" in shipped.rows[n].reference for n in changed)


def test_cli_calibrate_writes_its_files(tmp_path, capsys):
    out = tmp_path / "cal"
    assert main(["calibrate", "-o", str(out), "--species", "rat", "--parameters", "g_est_oba",
                 "--starts", "1", "--max-nfev", "10"]) == 0
    assert "objective" in capsys.readouterr().out
    meta = json.loads((out / "calibration.json").read_text())
    assert meta["objective_best"] <= meta["objective_start"] and meta["species"] == "rat"
    for name in ("calibrated.csv", "residuals.csv", "starts.csv", "figures/residuals.png"):
        assert (out / name).stat().st_size > 0
    assert main(["calibrate", "-o", str(tmp_path / "x"), "--parameters", "no_such"]) == 2
    assert main(["report", str(out)]) == 0
    page = (out / "report.html").read_text()
    assert "calibration" in page and "calibrated.csv" in page and "<img" in page


def test_petab_export_passes_petabs_linter(tmp_path):
    problems = export_petab(tmp_path / "petab")
    assert len(problems) >= 5
    for p in problems:
        assert lint(p) == [], p
    index = list(csv.DictReader(open(tmp_path / "petab" / "index.tsv"), delimiter="\t"))
    assert {r["exported"] for r in index} == {"yes", "no"}
    assert all(r["reason"] for r in index if r["exported"] == "no")
    assert main(["export", "petab", "-o", str(tmp_path / "cli")]) == 0
