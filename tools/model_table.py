"""Print the README table "What the model gives now" from fresh simulations of the default parameter set.

    .venv/bin/python tools/model_table.py
"""

from __future__ import annotations

import numpy as np

from osteoqsp import Scenario, simulate
from osteoqsp.analyses.evidence import validate
from osteoqsp.runs.library import load_scenario

NG_K1_TO_NMOL = 1000 / 450.71


def builtin(name: str):  # noqa: ANN201
    return simulate(load_scenario(name))


def run(d: dict):  # noqa: ANN201
    return simulate(Scenario.from_dict({"name": "table", "species": "human", **d}))


def half_life(r, name: str, a_h: float, b_h: float) -> float:  # noqa: ANN001
    y = r[name] - r[name][0]
    t = r.time_day * 24
    ya, yb = np.interp(a_h, t, y), np.interp(b_h, t, y)
    return (b_h - a_h) * np.log(2) / np.log(ya / yb)


def main() -> None:
    rows = []
    w35 = run({"subject": {"sex": "female", "age": "35 year"}, "duration": "1 day"})
    w60 = run({"subject": {"sex": "female", "age": "60 year", "menopause_age": "51 year"}, "duration": "1 day"})
    rows.append(("serum K1, woman of 35, Western diet", f"{w35['k1_serum'][0] * NG_K1_TO_NMOL:.2f} nmol/L",
                 "0.94 nmol/L (Thane 2006)"))
    rows.append(("serum MK-7, British woman of 60 (no natto)", f"{w60['mk7_serum'][0]:.2f} ng/mL",
                 "0.37 +/- 0.20 ng/mL (Kaneki 2001)"))
    rows.append(("ucOC / total OC at baseline (women of 35 and 60)",
                 f"{w35['ucoc_ratio'][0]:.2f}, {w60['ucoc_ratio'][0]:.2f}", "10-40 % (Theuwissen 2012)"))
    rows.append(("new clotting factors carboxylated at baseline (35, 60)",
                 f"{w35['hepatic_carboxylation'][0]:.3f}, {w60['hepatic_carboxylation'][0]:.3f}", "fully carboxylated"))
    mk7 = builtin("sato2012-mk7-single")
    t_h = mk7.time_day * 24
    rows.append(("MK-7 after 420 ug: Tmax, half-life 48-72 h, peak rise",
                 f"{t_h[np.argmax(mk7['mk7_serum'])]:.0f} h, {half_life(mk7, 'mk7_serum', 48, 72):.0f} h, "
                 f"{np.max(mk7['mk7_serum'] - mk7['mk7_serum'][0]):.1f} ng/mL",
                 "6 h (Sato 2012), about 68 h (Schurgers 2007), peak not found"))
    mk4 = builtin("sato2012-mk4-single")
    rows.append(("MK-4 after 420 ug: highest serum level", f"{np.max(mk4['mk4_serum']):.2f} ng/mL",
                 "never detectable (Sato 2012)"))
    k1 = run({"subject": {"sex": "female", "age": "30 year"}, "intake": [{"agent": "K1", "dose": "1 mg"}],
              "duration": "2 day", "save_every": "0.25 hour"})
    rows.append(("K1 after 1 mg: Tmax, half-life 8-16 h",
                 f"{k1.time_day[np.argmax(k1['k1_serum'])] * 24:.2f} h, {half_life(k1, 'k1_serum', 8, 16):.1f} h",
                 "4 h (Schurgers 2007), 1-2 h (secondary)"))
    early = run({"subject": {"sex": "female", "age": "53 year", "menopause_age": "51 year"}, "duration": "2 year"})
    rate = {s: (early.at(f"bmd_{s}", 730.5) - early.at(f"bmd_{s}", 0)) / 2 for s in
            ("lumbar_spine", "femoral_neck", "total_hip")}
    rows.append(("placebo BMD 2-4 y after menopause: LS, FN, TH",
                 f"{rate['lumbar_spine']:.2f}, {rate['femoral_neck']:.2f}, {rate['total_hip']:.2f} %/year",
                 "-1.46 LS, -1.41 proximal femur (Pouilles 1996), -1.82 FN (Pouilles 1995)"))
    ovx = builtin("wronski-ovx-98d")
    rows.append(("OVX rat tibial BV/TV at 98 days", f"{ovx.at('tibia_bvtv', 98):.1f} % (from "
                 f"{ovx['tibia_bvtv'][0]:.1f} %)", "7.9 +/- 5.3 % (Wronski 1987)"))
    w = builtin("warfarin-mk7")
    rows.append(("warfarin 5 mg/day: INR at 4 weeks; 4 weeks after adding MK-7 50 ug/day",
                 f"{w.at('inr', 27):.1f}; {w.at('inr', 55):.1f}",
                 "therapeutic 2-3 (assumed target); partial reversal (Schurgers 2007: >= 50 ug/day may interfere)"))
    pla, k = builtin("knapen2013-placebo"), builtin("knapen2013-mk7")
    end = k.time_day[-1]

    def vs(name: str) -> float:
        return 100 * (k.at(name, end) / pla.at(name, end) - 1)
    rows.append(("Knapen 2013, 3 y, MK-7 vs placebo: ucOC, cOC, dp-ucMGP",
                 f"{vs('ucoc'):.0f} %, {vs('coc'):+.0f} %, {vs('dp_ucmgp'):.0f} %",
                 "-51 %, +21 % (Knapen 2013), -50 % (Knapen 2015)"))
    comp = {c.target: c.simulated for c in validate()[0]}
    rows.append(("Dalmeijer 2012, 12 weeks, 180 / 360 ug: dp-ucMGP, ucOC/cOC change",
                 f"{comp[114]:.0f}/{comp[115]:.0f} %, {comp[116]:.0f}/{comp[117]:.0f} %",
                 "-31/-46 %, -60/-74 %"))
    diffs = {s: "/".join(f"{k.at(f'bmd_{s}', y * 365.25) - pla.at(f'bmd_{s}', y * 365.25):.2f}" for y in (1, 2, 3))
             for s in ("lumbar_spine", "femoral_neck", "total_hip")}
    rows.append(("Knapen 2013: LS / FN / TH BMD difference at years 1, 2, 3",
                 f"{diffs['lumbar_spine']}, {diffs['femoral_neck']}, {diffs['total_hip']} points",
                 "smaller loss at LS and FN, appearing after 2-3 years; none at TH (no numbers found)"))
    nat, ymk7 = builtin("yamaguchi-ovx-77d-natto"), builtin("yamaguchi-ovx-77d-mk7")
    rows.append(("Yamaguchi OVX rats, femur at 77 d: natto diet vs + 37.6 ug MK-7/100 g",
                 f"{nat.at('femur_bmd', 77):.1f} % vs {ymk7.at('femur_bmd', 77):.1f} %",
                 "MK-7 significantly prevents the fall (no numbers found)"))
    print("| quantity | model | evidence |\n|---|---|---|")
    for q, m, e in rows:
        print(f"| {q} | {m} | {e} |")


if __name__ == "__main__":
    main()
