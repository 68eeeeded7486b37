"""Integrator settings."""

from __future__ import annotations

from dataclasses import dataclass

METHODS = {"dopri5": 0, "rodas4": 1, "split": 2}  # the codes of kernels/driver.py


@dataclass(frozen=True)
class SolverSettings:
    method: str = "dopri5"
    rtol: float = 1e-7
    atol: float = 1e-13
    max_steps: int = 2_000_000  # per stretch between two stops (output times, events)
    switch_steps: int = 20_000  # explicit steps in one stretch before handing it to the implicit method

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {list(METHODS)}")
        if not (0 < self.rtol < 1 and 0 < self.atol):
            raise ValueError("tolerances must be positive (rtol < 1)")

    @property
    def code(self) -> int:
        return METHODS[self.method]


# Many subjects under periodic events, where the split method's exact linear block saves most of the steps
# (bench/README.md). At rtol 5e-7 the outputs of the bone model stay within about 5e-5 of each observable's
# scale of a tight reference (measured by bench/population_scale.py), as they did at 1e-6 before the clotting
# factors left the error control (kernels/split.py: decaying leaves); from 9e-7 up the BMD error grows
# 1.5-3 fold. The split method holds its slow factors constant over a step, which bounds its accuracy at
# about 1e-6 of the block's outflows whatever the tolerance.
POPULATION_SETTINGS = SolverSettings(method="split", rtol=5e-7)
