"""A JAX right-hand side generated from the declaration (for the benchmark against diffrax; optional).

    from osteoqsp.engine.jax_backend import jax_rhs
    f = jax_rhs(model)                  # f(t, y, p) -> dy/dt, jnp arrays, y (states,), p (parameters + references,)

The same walk over the frozen `Model` as the numba kernel, with its names and its Min/Max printing
(`codegen.code_names`, `codegen.MinMaxFold`): the lets and fluxes in declaration order, then each state's rate as the sum of its fluxes; states are y[i], parameters p[i] and the references
p[len(parameters) + j], the layout of `Engine.parameter_vector`. The source is printed by sympy's JAX printer,
so Piecewise, Min and Max become jax.numpy.select, minimum and maximum. Nothing here names a molecule.
jax is imported only when a function is built (the package works without it); double precision is switched
on then (`jax_enable_x64`), as the model's amounts span many orders of magnitude.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sympy as sp
from sympy.printing.numpy import JaxPrinter

from osteoqsp.engine.codegen import MinMaxFold, code_names
from osteoqsp.symbolic.declare import Model


class _Printer(MinMaxFold, JaxPrinter):
    """jnp code; Min/Max of any arity folded into elementwise jnp.minimum/jnp.maximum."""

    MIN = "jax.numpy.minimum"
    MAX = "jax.numpy.maximum"


def rhs_source(model: Model) -> str:
    """Python source of `rhs(t, y, p)` in jax.numpy (module prefix `jax.numpy`)."""
    printer = _Printer({"fully_qualified_modules": True})
    names, body = code_names(model)
    local = {k: sp.Symbol(v) for k, v in names.items()}
    lines = ["def rhs(t, y, p):"]
    for name, expr in body:
        code = printer.doprint(expr.xreplace(local))
        lines.append(f"    _{name} = {code}")
        local[sp.Symbol(name, real=True)] = sp.Symbol(f"_{name}")
    rates = model.rates()
    out = []
    for s in model.states:
        r = rates[s.name].xreplace(local)
        # a rate that is a constant still needs the batch's shape and dtype under vmap
        out.append(printer.doprint(r) if r.free_symbols else f"jax.numpy.zeros_like(t) + {printer.doprint(r)}")
    lines.append("    return jax.numpy.stack([" + ", ".join(out) + "])")
    return "\n".join(lines) + "\n"


def jax_rhs(model: Model) -> Callable[[Any, Any, Any], Any]:
    """The generated right-hand side as a (not yet jitted) JAX function f(t, y, p) -> dy/dt."""
    import jax

    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp

    namespace: dict[str, Any] = {"jnp": jnp, "jax": jax}
    exec(compile(rhs_source(model), f"<osteoqsp jax rhs {model.species}>", "exec"), namespace)
    return namespace["rhs"]
