"""Evidence and `validate`: the packaged table, intervals, and the targets the model meets stay met."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from osteoqsp.shells.cli import main
from osteoqsp.analyses.evidence import interval, targets, validate, validation_spec

SHARED = Path(__file__).resolve().parents[2] / "shared" / "evidence" / "targets.csv"

# targets the model meets now: a change that loses one of them fails here (misses: see README). The refit of
# 2026-12-03 (f_abs_mk7 fitted to Knapen 2015) gained 7, 160 and 161 and lost 125 (Ikari 2016's Japanese
# patients' MK-7, 14.2 +/- 11.9 ng/mL: model 2.13, just under the interval's 2.30). The issue-17 refit (K1
# tablet and diet, menatetrenone, extra-hepatic Hill coefficient bounded to 0.5-3, sclerostin, baseline dp-ucMGP)
# gained 113 and 162-165 and lost 47, 114 and 116 (the carboxylation responses, too steep at the bound n = 0.5;
# see README). 159 (Garber's K1 AUC) is a near miss: 38.6 against 17.5-37.6.
# The fracture rows (issue 14, not calibrated on) met: Mott 2019's vertebral odds ratio (170) and JPOS's
# 1-6 packs a week (172); missed, the model's BMD-mediated effect falling short: 166-169, 171. The trial fit's
# magnitudes (issue 13) lost 111 (Knapen's ucOC change in the MK-7 arm: -72.1 % against -72 to -30, at the
# interval's edge; it was -72.0 before: the cause was not investigated).
# The comparator drugs (issue 15, rows 173-192): met 176 and 183 (each fitted by tools/fit_therapies.py), 180
# (Liberman's total body) and 188 (DATA's teriparatide arm); missed, the BMD gains of the antiresorptives (no
# secondary mineralisation in the bone-mass law), the off-treatment loss, the teriparatide femoral neck, the
# calcium supplement's PTH fall at the trough and teriparatide's peak (see README, section 4d).
MET = {1, 3, 7, 9, 25, 27, 31, 48, 56, 59, 60, 65, 66, 67, 112, 113, 115, 117, 126, 134, 135, 160, 161, 162,
       163, 164, 165, 170, 172, 176, 180, 183, 188}


def test_packaged_table_extends_the_shared_one():
    """The package's rows start with shared/evidence/targets.csv, row for row (target ids are row numbers);
    the rows after it were read from the full texts (SOURCES.md) and each says where it stands."""
    if not SHARED.exists():
        pytest.skip("shared/evidence is not beside this checkout")
    with open(SHARED) as f:
        shared = list(csv.DictReader(f))
    rows = targets()
    assert rows[:len(shared)] == shared
    for row in rows[len(shared):]:
        assert row["how_read"].strip() and row["reference"].strip()
        assert row["value"].strip() or row["how_read"].startswith("not found")


def test_intervals_follow_the_reported_dispersion():
    rows = targets()
    assert interval(rows[24])[:2] == pytest.approx((5.26 - 6.13, 5.26 + 6.13))  # Kaneki Tokyo, SD
    assert interval(rows[30])[:2] == pytest.approx((0.88, 1.00))  # Thane, 95 % CI
    assert interval(rows[0])[:2] == pytest.approx((4.5, 7.5))  # Sato Tmax, none given: +/- 25 %


def test_validate_meets_what_it_met():
    comparisons, missing = validate()
    inside = {c.target for c in comparisons if c.inside}
    assert MET <= inside, f"lost: {sorted(MET - inside)}"
    assert len(comparisons) + len(missing) == len(targets())


def test_cli_validate_writes_table_and_figure(tmp_path, capsys):
    assert main(["validate", "-o", str(tmp_path / "v")]) == 0
    rows = list(csv.DictReader(open(tmp_path / "v" / "validation.csv")))
    assert len(rows) == len(validation_spec()) and {"observed", "simulated", "residual", "inside"} <= set(rows[0])
    assert (tmp_path / "v" / "validation.png").stat().st_size > 10000
    assert "targets inside their interval" in capsys.readouterr().out


def test_trial_table_quotes_every_number_and_keeps_the_null_trials():
    """trials.csv (issue: the MK-7 bone effect from the trials): one row per arm, site and time point; every
    number with its quote and source; the null trials are in it as much as the positive ones."""
    from osteoqsp.analyses.evidence.tables import trials

    rows = trials()
    numbers = [r for r in rows if not r["value"].startswith("not ")]
    assert len(rows) >= 150 and len(numbers) >= 50
    for r in numbers:
        float(r["value"])  # a number, in the row's unit
        assert r["quote"].strip() and r["source"].strip() and r["unit"].strip(), r["trial"]
    by_trial = {r["trial"].split(" (")[0] for r in rows}
    for trial in ("Knapen 2013", "Emaus 2010", "Booth 2008", "Cheung 2008", "Binkley 2009", "Shiraki 2000",
                  "Mott 2019"):
        assert trial in by_trial, trial
    cheung = [r for r in numbers if r["trial"].startswith("Cheung 2008") and r["site"] == "lumbar spine"]
    assert cheung  # a null trial with numbers: K1 5 mg/day, spine -1.28 vs -1.22 % at 24 months
