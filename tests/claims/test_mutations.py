"""The cheap part of the mutation check (tools/mutation_check.py, docs/mutation.md): each MK-7 pathway
switched off, and the MK-7 x zinc synergy removed, must make the claim test that names it fail."""

from __future__ import annotations

import pytest

from tests.claims import test_claims as claims
from tests.mutation import mutated

CAUGHT_BY = {
    "sw_sxr=0": claims.test_claim_C13_formation_markers_rise_in_culture,
    "sw_nfkb=0": claims.test_claim_C15_osteoclastogenesis_falls_with_concentration,
    "sw_osteoclast_apoptosis=0": claims.test_claim_C16_mature_osteoclasts_fall_by_apoptosis,
    "synergy_zinc=0": claims.test_claim_C20_zinc_synergy,
    "emax_sxr*0.3": claims.test_claim_C13_formation_markers_rise_in_culture,
}


@pytest.mark.parametrize("mutation", list(CAUGHT_BY))
def test_a_broken_mechanism_fails_its_claim(mutation):
    test = CAUGHT_BY[mutation]
    test()  # passes on the model as it is
    with mutated(mutation), pytest.raises(AssertionError):
        test()
