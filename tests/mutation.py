"""Mutations of the model for the mutation check (tools/mutation_check.py and tests/claims/test_mutations.py):
parameter changes applied to every simulation, to see which tests notice.

A mutation is text: changes separated by ';', each `name=value` (set) or `name*factor` (scale), in model
units, e.g. "sw_sxr=0" or "emax_sxr*0.5;ec50_sxr*2". `OSTEOQSP_MUTATION` in the environment applies one
to a whole test session (conftest.py); `mutated(text)` applies one inside a test.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager

import osteoqsp.runs.subject as subject

_ORIGINAL = subject.parameter_values


def parse(text: str) -> list[tuple[str, str, float]]:
    """'a=0;b*2' -> [('a', '=', 0.0), ('b', '*', 2.0)]."""
    out = []
    for part in filter(None, (p.strip() for p in text.split(";"))):
        m = re.fullmatch(r"([A-Za-z_][A-Za-z0-9_]*)\s*([=*])\s*([-+0-9.eE]+)", part)
        if m is None:
            raise ValueError(f"mutation {part!r}: write name=value or name*factor")
        out.append((m.group(1), m.group(2), float(m.group(3))))
    return out


def _mutating(changes: list[tuple[str, str, float]]):  # noqa: ANN202
    def parameter_values(scenario, overrides=None):  # noqa: ANN001, ANN202
        values = _ORIGINAL(scenario, overrides)
        for name, op, x in changes:
            if name in values:  # a parameter of one species only leaves the other's runs alone
                values[name] = x if op == "=" else values[name] * x
        return values
    return parameter_values


def install(text: str) -> None:
    """Apply a mutation to every simulation of this process from now on."""
    from osteoqsp.model import SPECIES, build_model

    changes = parse(text)
    known = {p for species in SPECIES for p in build_model(species).parameters}
    unknown = [name for name, _, _ in changes if name not in known]
    if unknown:
        raise KeyError(f"mutation: {unknown} are not parameters of any species' model")
    subject.parameter_values = _mutating(changes) if changes else _ORIGINAL


@contextmanager
def mutated(text: str) -> Iterator[None]:
    """Apply a mutation inside the block (and clear the cached built-in runs before and after)."""
    from tests.conftest import clear_cache

    clear_cache()
    install(text)
    try:
        yield
    finally:
        install(os.environ.get("OSTEOQSP_MUTATION", ""))
        clear_cache()
