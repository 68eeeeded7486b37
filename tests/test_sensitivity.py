"""Global sensitivity: seeded, reproducible, and it finds what drives an endpoint."""

from __future__ import annotations

from osteoqsp import Scenario
from osteoqsp.shells.cli import main
from osteoqsp.analyses.sensitivity import sensitivity

SC = {"subject": {"sex": "female", "age": "58 year", "menopause_age": "51 year"}, "duration": "30 day",
      "intake": [{"agent": "MK-7", "dose": "180 ug", "every": "1 day"}]}


def test_morris_is_seeded_and_ranks_the_mk7_parameters_first_for_serum_mk7():
    sc = Scenario.from_dict(SC)
    params = ["kel_mk7", "f_abs_mk7", "d_ocp", "intake_k1"]
    a = sensitivity(sc, n=4, seed=1, parameters=params, endpoints=("mk7_serum",))
    b = sensitivity(sc, n=4, seed=1, parameters=params, endpoints=("mk7_serum",))
    assert a.equals(b)
    mu = dict(zip(a["parameter"], a["mu_star"]))
    assert min(mu["kel_mk7"], mu["f_abs_mk7"]) > 10 * max(mu["d_ocp"], mu["intake_k1"])


def test_sobol_indices_and_cli(tmp_path, capsys):
    sc = Scenario.from_dict(SC)
    df = sensitivity(sc, method="sobol", n=8, seed=2, parameters=["kel_mk7", "d_ocp"], endpoints=("mk7_serum",))
    assert set(df.columns) >= {"S1", "ST"} and df.attrs["samples"] == 8 * 4
    assert main(["sensitivity", "sato2012-mk7-single", "--n", "2", "--parameters", "kel_mk7,ka_mk7",
                 "--endpoints", "mk7_serum", "-o", str(tmp_path / "s")]) == 0
    assert (tmp_path / "s" / "sensitivity.png").exists()
    assert main(["sensitivity", "sato2012-mk7-single", "--parameters", "nope"]) == 2
