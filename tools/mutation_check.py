"""Mutation check: does each mechanism of the model have a test that notices when it is wrong?

Each mutation switches a mechanism off or moves a key parameter (tests/mutation.py says how), and the claim
tests (tests/claims) run once under it, in a fresh process; a mutation that no test notices names a mechanism
the tests do not pin down. Prints a Markdown table (mutation, what it breaks, the failing tests) and, with
--write, puts it in docs/mutation.md.

    .venv/bin/python tools/mutation_check.py [--write] [--only sw_sxr=0 ...] [--tests tests/claims]
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# mutation -> the mechanism it breaks
MUTATIONS = {
    "sw_carboxylation=0": "pathway 1 off: carboxylated osteocalcin no longer raises formation",
    "sw_nfkb=0": "pathway 2 off: no NF-kB suppression in either lineage",
    "sw_sxr=0": "pathway 3 off: no SXR-driven protein synthesis in osteoblasts",
    "sw_osteoclast_apoptosis=0": "pathway 4 off: no MK-7-induced apoptosis of mature osteoclasts",
    "emax_sxr*0.5": "SXR effect half as large",
    "emax_sxr*2": "SXR effect twice as large",
    "e_carb_formation*3": "carboxylation effect on formation three times as large",
    "ec50_nfkb*10;ec50_sxr*10;ec50_osteoclast_apoptosis*10": "MK-7 ten times less potent at bone",
    "synergy_zinc=0": "no MK-7 x zinc synergy",
    "potency_mk4=0": "MK-4 does not act at bone",
    "k_abs_age=0": "absorption does not fall with age",
    "kel_mk7*3": "MK-7 eliminated three times faster",
    "f_abs_mk7*0.3": "MK-7 absorbed a third as well",
    "kel_k1*0.2": "K1 eliminated five times slower",
    "n_carb_extrahepatic*3": "extra-hepatic carboxylation three times steeper",
    "ec50_warfarin*10": "warfarin ten times less potent on VKOR",
    "estrogen_drop*0.3": "menopause removes a third as much estrogen",
    "k_turnover_lumbar_spine*0.3": "lumbar spine turns over a third as fast",
    "g_sost_obu=0": "osteocytes feed nothing: sclerostin no longer slows progenitor supply",
    "g_est_sost=0": "estrogen does not repress sclerostin",
    "f_abs_k1*10": "a K1 tablet absorbed ten times better",
    "bioav_diet_k1*0.2": "dietary K1 absorbed five times worse",
    "k_sb_k1*0.01": "K1 hardly reaches extra-hepatic tissue",
    "f_abs_menatetrenone*0.1": "menatetrenone (MK-4 as the drug) absorbed a tenth as well",
}


def run(mutation: str, tests: str) -> tuple[list[str], float]:
    env = dict(os.environ, OSTEOQSP_MUTATION=mutation)
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rf", *tests.split()],
                          cwd=ROOT, env=env, capture_output=True, text=True)
    failed = sorted({m.group(1) for m in re.finditer(r"^FAILED \S+::(\S+)", proc.stdout, re.M)})
    if proc.returncode not in (0, 1):  # 1: some tests failed; anything else: the run itself broke
        raise RuntimeError(f"pytest under {mutation!r} exited {proc.returncode}:\n{proc.stdout[-2000:]}")
    return failed, time.perf_counter() - start


def table(rows: list[tuple[str, str, list[str]]]) -> str:
    lines = ["| mutation | what it breaks | tests that fail |", "|---|---|---|"]
    for mutation, what, failed in rows:
        names = ", ".join(f.removeprefix("test_claim_").split("_")[0] if f.startswith("test_claim_") else f
                          for f in failed) or "**none: not caught**"
        lines.append(f"| `{mutation}` | {what} | {names} |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--write", action="store_true", help="write docs/mutation.md")
    ap.add_argument("--only", nargs="*", help="mutations to run (default: all)")
    ap.add_argument("--tests", default="tests/claims/test_claims.py tests/test_pk_supplements.py")
    args = ap.parse_args()
    base, seconds = run("", args.tests)
    print(f"unmutated: {len(base)} failing ({seconds:.0f} s)", file=sys.stderr)
    if base:
        raise SystemExit(f"the claim tests fail without a mutation: {base}")
    rows = []
    for mutation, what in MUTATIONS.items():
        if args.only and mutation not in args.only:
            continue
        failed, seconds = run(mutation, args.tests)
        print(f"{mutation}: {len(failed)} failing ({seconds:.0f} s)", file=sys.stderr)
        rows.append((mutation, what, failed))
    text = table(rows)
    caught = sum(bool(f) for _, _, f in rows)
    summary = f"{caught} of {len(rows)} mutations caught by at least one claim test."
    print(text + "\n\n" + summary)
    if args.write:
        doc = ROOT / "docs" / "mutation.md"
        doc.write_text("# Mutation check of the claim tests\n\n"
                       "Written by `tools/mutation_check.py --write`: each row mutates the model (tests/mutation.py) "
                       "and runs `tests/claims/test_claims.py` and `tests/test_pk_supplements.py` under it. A row that no test notices is a "
                       "mechanism the claims do not pin down.\n\n" + text + "\n\n" + summary + "\n")
        print(f"-> {doc}", file=sys.stderr)


if __name__ == "__main__":
    main()
