"""Reproduces the least-squares fit of the extra-hepatic carboxylation curve (n_carb_extrahepatic,
km_carb_oc, km_carb_mgp) to Knapen 2013 (ucOC -51 % vs placebo), Knapen 2015 (dp-ucMGP -50 %), Dalmeijer
2012 (dp-ucMGP -31/-46 %, ucOC/cOC -60/-74 % at 12 weeks on 180/360 ug) and a baseline ucOC/OC of 0.25.
A stop-gap until `osteoqsp calibrate` (issue 3) fits all parameters marked fitted together.

    .venv/bin/python tools/fit_carboxylation.py      # about 1 minute
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import least_squares

from osteoqsp import Scenario, simulate
from osteoqsp.runs.library import load_scenario as builtin


PLACEBO = builtin("knapen2013-placebo").model_copy(update={"save_every": 30.0})
MK7 = builtin("knapen2013-mk7").model_copy(update={"save_every": 30.0})
DALMEIJER = {d: Scenario.from_dict({"subject": {"sex": "female", "age": "52 year"}, "duration": "84 day",
                                    "intake": [{"agent": "MK-7", "dose": f"{d} ug", "every": "1 day"}]})
             for d in (180, 360)}
ADULT = Scenario.from_dict({"subject": {"sex": "female", "age": "35 year"}, "duration": "1 day"})


def simulated(x: np.ndarray) -> dict[str, tuple[float, float, float]]:
    """name -> (simulated, target, weight) for parameters x = (n, log Km OC, log Km MGP)."""
    over = {"n_carb_extrahepatic": x[0], "km_carb_oc": float(np.exp(x[1])), "km_carb_mgp": float(np.exp(x[2]))}
    p, m = simulate(PLACEBO, parameters=over), simulate(MK7, parameters=over)
    out = {"knapen_ucoc": (100 * (m.at("ucoc", 1095) / p.at("ucoc", 1095) - 1), -51, 12),
           "knapen_dp_ucmgp": (100 * (m.at("dp_ucmgp", 1095) / p.at("dp_ucmgp", 1095) - 1), -50, 12)}
    for dose, (mgp, ratio) in {180: (-31, -60), 360: (-46, -74)}.items():
        r = simulate(DALMEIJER[dose], parameters=over)
        uc_c = r["ucoc"] / r["coc"]
        out[f"dalmeijer{dose}_dp_ucmgp"] = (100 * (r.at("dp_ucmgp", 84) / r["dp_ucmgp"][0] - 1), mgp, 8)
        out[f"dalmeijer{dose}_ucoc_cooc"] = (100 * (uc_c[-1] / uc_c[0] - 1), ratio, 15)
    out["baseline_ucoc_ratio"] = (simulate(ADULT, parameters=over)["ucoc_ratio"][0], 0.25, 0.05)
    return out


def main() -> None:
    fit = least_squares(lambda x: [(s - t) / w for s, t, w in simulated(x).values()],
                        [0.5, np.log(0.005), np.log(0.006)], diff_step=1e-3, max_nfev=60,
                        bounds=([0.2, np.log(1e-5), np.log(1e-5)], [2.0, 0.0, 0.0]))
    print(f"n_carb_extrahepatic {fit.x[0]:.3f}, km_carb_oc {np.exp(fit.x[1]):.3g} nM, "
          f"km_carb_mgp {np.exp(fit.x[2]):.3g} nM, cost {fit.cost:.3f}")
    for name, (s, t, _) in simulated(fit.x).items():
        print(f"  {name:26s} simulated {s:8.3f}  target {t}")


if __name__ == "__main__":
    main()
