"""Mechanism attribution: each pathway's share of the MK-7 effect."""

from __future__ import annotations

import pytest

from osteoqsp.analyses.attribution import attribution, placebo_of
from osteoqsp.shells.cli import main
from tests.conftest import builtin


def test_attribution_knapen():
    sc = builtin("knapen2013-mk7")
    assert placebo_of(sc).intake == []
    df = attribution(sc)
    on = df.loc["all on", "bmd_lumbar_spine"]
    assert on > 0 and df.loc["all off", "bmd_lumbar_spine"] == pytest.approx(0.0, abs=1e-9)
    for p in ("carboxylation", "nfkb", "sxr", "osteoclast_apoptosis"):
        assert 0 <= df.loc[f"without {p}", "bmd_lumbar_spine"] < on  # every pathway contributes


def test_cli_attribution(tmp_path, capsys):
    assert main(["attribution", "knapen2013-mk7", "-o", str(tmp_path / "a")]) == 0
    assert (tmp_path / "a" / "attribution.png").exists() and (tmp_path / "a" / "attribution.csv").exists()
    assert main(["attribution", "knapen2013-mk7", "--endpoints", "nope"]) == 2
