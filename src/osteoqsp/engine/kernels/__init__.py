"""The generic integrators, as numba source that codegen.py appends to each generated model module.

These files are not imported as modules: their text follows the generated model functions (`rhs`, `jac`,
`observe`, `references`, `rhs_nl`, `derived`, `lin_matrices`, `lin_input`, `lin_theta` and the constants
N_STATES, N_OBS, LIN_IDX, NL_IDX, LIN_READ, N_LIN, N_THETA, N_DERIVED) in one module, so that numba's
on-disk cache holds the whole of it. They name no molecule. In the order of SOURCES:

    common.py   error norm, step-size factor, the event record
    linalg.py   sparse LU with partial pivoting, matrix product, matrix exponential (Pade 6/6)
    dopri5.py   method 0: adaptive Dormand-Prince 5(4), explicit
    rodas4.py   method 1: Rodas4, L-stable Rosenbrock 4(3) with the generated Jacobian
    split.py    method 2: the linear block by matrix exponentials, the other states by RK4(3)
    driver.py   one subject over its output times and events, many subjects in threads, observables
    steady.py   burn-in: the steady state by pseudo-transient Newton, then the history before t = 0
"""

from __future__ import annotations

from importlib import resources

SOURCES = ("common.py", "linalg.py", "dopri5.py", "rodas4.py", "split.py", "driver.py", "steady.py")


def source() -> str:
    """The integrators' text, in the order above."""
    folder = resources.files(__name__)
    return "\n\n".join(f"# ---- engine/kernels/{name} ----\n" + folder.joinpath(name).read_text() for name in SOURCES)
