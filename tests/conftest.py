"""Shared fixtures: built-in scenarios are simulated once per test session. OSTEOQSP_MUTATION in the
environment mutates the model for the whole session (tests/mutation.py, tools/mutation_check.py)."""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Any

import pytest

from osteoqsp import Result, Scenario, simulate
from osteoqsp.runs.library import load_scenario


def builtin(name: str) -> Scenario:
    return load_scenario(name)


@lru_cache(maxsize=None)
def _run_builtin(name: str) -> Result:
    return simulate(builtin(name))


def clear_cache() -> None:
    _run_builtin.cache_clear()


if os.environ.get("OSTEOQSP_MUTATION"):
    from tests.mutation import install

    install(os.environ["OSTEOQSP_MUTATION"])


def run_builtin(name: str) -> Result:
    return _run_builtin(name)


def run_dict(data: dict[str, Any], **parameters: float) -> Result:
    return simulate(Scenario.from_dict(data), parameters=parameters or None)


@pytest.fixture(scope="session")
def woman58() -> dict[str, Any]:
    return {"sex": "female", "age": "58 year", "menopause_age": "51 year"}
