"""Code generation: from a frozen `Model` to compiled numba functions, and to plain callables.

The generated module holds, for one model:
  rhs(t, y, p, dy)          d(state)/dt
  jac(t, y, p, J)           d(rhs)/d(state), derived symbolically
  observe(t, y, p, out)     every observable
  lets(t, y, p, out)        every intermediate quantity and flux (for references and tests)
  rhs_nl(t, y, p, dz)       d(state)/dt of the states outside the linear block (see linear.py)
  lin_matrices, lin_input, lin_theta   the linear block: its matrices, inputs and slow time factors
  leaf_rates(p, k)          the first-order loss rates of the decaying leaves (LEAF_POS; see linear.py)
followed by the generic integrators of `kernels/` (included as source, so that numba's on-disk cache
works for the whole module). The module is written once per model signature to a cache directory.
Nothing here names a molecule: it only walks the declaration.
"""

from __future__ import annotations

import hashlib
import importlib.util
import inspect
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import sympy as sp
from sympy.printing.pycode import PythonCodePrinter

from osteoqsp.symbolic.declare import TIME, Model
from osteoqsp.engine import kernels, linear
from osteoqsp.engine.events import EVENT
from osteoqsp.engine.linear import decaying_leaves, linear_block


class MinMaxFold:
    """Printer mixin: Min and Max of any arity folded into nested two-argument calls of MIN and MAX."""

    MIN = "min"
    MAX = "max"

    def _fold(self, func: str, expr: sp.Expr) -> str:
        out, *rest = [self._print(a) for a in expr.args]  # type: ignore[attr-defined]
        for a in rest:
            out = f"{func}({out}, {a})"
        return out

    def _print_Max(self, expr: sp.Max) -> str:  # noqa: N802
        return self._fold(self.MAX, expr)

    def _print_Min(self, expr: sp.Min) -> str:  # noqa: N802
        return self._fold(self.MIN, expr)


class _Printer(MinMaxFold, PythonCodePrinter):
    """Python code for numba: math functions, no module prefixes beyond `math`."""

    def _print_Pow(self, expr: sp.Pow, rational: bool = False) -> str:  # noqa: N802
        if expr.exp.is_Number:
            return super()._print_Pow(expr, rational=rational)
        return f"_pw({self._print(expr.base)}, {self._print(expr.exp)})"


# A power whose exponent is a parameter: many such exponents are 0, 1, 2, 3 or 4 in the tables (a surface
# exponent of 1, Hill coefficients of 3 and 4), where a multiplication is exact (up to a rounding or two) and
# about twenty times cheaper than the library's pow; 0.5 is a square root (correctly rounded, as pow).
_POW_HELPER = """@njit(cache=True, fastmath=False, nogil=True, error_model="numpy")
def _pw(x, e):
    if e == 1.0:
        return x
    if e == 0.0:
        return 1.0
    if e == 2.0:
        return x * x
    if e == 3.0:
        return x * x * x
    if e == 4.0:
        x2 = x * x
        return x2 * x2
    if e == 0.5:
        return math.sqrt(x)
    return x ** e
"""


@dataclass(frozen=True)
class Generated:
    module: ModuleType
    state_index: dict[str, int]
    param_index: dict[str, int]
    let_names: list[str]
    observable_names: list[str]


def code_names(model: Model) -> tuple[dict[sp.Symbol, str], list[tuple[str, sp.Expr]]]:
    """Names for states, parameters and time, and the ordered list of lets and fluxes."""
    names: dict[sp.Symbol, str] = {TIME: "t"}
    for i, s in enumerate(model.states):
        names[sp.Symbol(s.name, real=True)] = f"y[{i}]"
    for i, p in enumerate(model.parameters):
        names[sp.Symbol(p, real=True)] = f"p[{i}]"
    n = len(model.parameters)
    for j, r in enumerate(model.references):
        names[sp.Symbol(r.name, real=True)] = f"p[{n + j}]"
    body = [(x.name, x.expr) for x in model.lets] + [(f.name, f.expr) for f in model.fluxes]
    return names, body


def substituted_rates(model: Model) -> list[sp.Expr]:
    """d(state)/dt with every let and flux substituted (for the Jacobian and checks)."""
    subs: dict[sp.Symbol, sp.Expr] = {}
    for name, expr in [(x.name, x.expr) for x in model.lets] + [(f.name, f.expr) for f in model.fluxes]:
        subs[sp.Symbol(name, real=True)] = expr.xreplace(subs)
    rates = model.rates()
    return [rates[s.name].xreplace(subs) for s in model.states]


def _lines(printer: _Printer, names: dict[sp.Symbol, str], body: list[tuple[str, sp.Expr]]) -> list[str]:
    local = dict(names)
    out = []
    for name, expr in body:
        code = printer.doprint(expr.xreplace({k: sp.Symbol(v) for k, v in local.items()}))
        out.append(f"    {name} = {code}")
        local[sp.Symbol(name, real=True)] = name
    return out


def _calls(line: str, head: str = "_pw(") -> list[str]:
    """The text of every call `head...)` in a line whose arguments hold no such call (innermost first)."""
    out = []
    start = line.find(head)
    while start >= 0:
        depth, i = 0, start + len(head) - 1
        for i in range(start + len(head) - 1, len(line)):
            depth += {"(": 1, ")": -1}.get(line[i], 0)
            if depth == 0:
                break
        call = line[start:i + 1]
        if head not in call[len(head):]:
            out.append(call)
        start = line.find(head, start + 1)
    return out


def _share_powers(lines: list[str], prefix: str) -> list[str]:
    """A power computed more than once in a function body (the same text: lets are assigned once, y and p do
    not change) becomes a local computed once, just before the line that first needs it."""
    counts: dict[str, int] = {}
    for line in lines:
        for c in _calls(line):
            counts[c] = counts.get(c, 0) + 1
    shared: dict[str, str] = {}
    out = []
    for line in lines:
        for c in _calls(line):
            if counts[c] > 1 and c not in shared:
                shared[c] = f"_{prefix}{len(shared)}"
                out.append(f"    {shared[c]} = {c}")
        for c, name in shared.items():
            line = line.replace(c, name)
        out.append(line)
    return out


def _expr_code(printer: _Printer, names: dict[sp.Symbol, str], expr: sp.Expr) -> str:
    return printer.doprint(expr.xreplace({k: sp.Symbol(v) for k, v in names.items()}))


def generate_source(model: Model) -> str:
    printer = _Printer({"fully_qualified_modules": False, "standard": "python3"})
    names, body = code_names(model)
    local = dict(names)
    for name, _ in body:
        local[sp.Symbol(name, real=True)] = name
    body_lines = _share_powers(_lines(printer, names, body), "pw")
    rates = model.rates()
    src = ["import math", "from math import exp, log, sqrt", "import numpy as np", "from numba import njit", "",
           f"N_STATES = {len(model.states)}", f"N_PARAMS = {len(model.parameters) + len(model.references)}",
           f"N_LETS = {len(body)}", f"N_OBS = {len(model.observables)}",
           f"EVENT = np.dtype({EVENT.descr!r})  # engine/events.py", "", "", _POW_HELPER, "",
           "@njit(cache=True, fastmath=False, nogil=True, error_model=\"numpy\")", "def rhs(t, y, p, dy):"]
    src += body_lines
    for i, s in enumerate(model.states):
        src.append(f"    dy[{i}] = {_expr_code(printer, local, rates[s.name])}")
    src += ["", "", "@njit(cache=True, fastmath=False, nogil=True, error_model=\"numpy\")", "def lets(t, y, p, out):"]
    src += body_lines
    for i, (name, _) in enumerate(body):
        src.append(f"    out[{i}] = {name}")
    src += ["", "", "@njit(cache=True, fastmath=False, nogil=True, error_model=\"numpy\")", "def observe(t, y, p, out):"]
    src += body_lines
    for i, o in enumerate(model.observables):
        src.append(f"    out[{i}] = {_expr_code(printer, local, o.expr)}")
    src += ["", "", "@njit(cache=True, fastmath=False, nogil=True, error_model=\"numpy\")", "def references(t, y, p, out):"]
    src += body_lines
    for i, r in enumerate(model.references):
        src.append(f"    out[{i}] = {_expr_code(printer, local, r.expr)}")
    # Jacobian: symbolic derivatives of the fully substituted rates, with common subexpressions shared
    full = [r.rewrite(sp.Piecewise) for r in substituted_rates(model)]
    src += _linear_source(printer, names, local, body_lines, model, full)
    ys = [sp.Symbol(s.name, real=True) for s in model.states]
    entries = []
    for i, r in enumerate(full):
        for j, yj in enumerate(ys):
            if yj in r.free_symbols:
                d = sp.diff(r, yj)
                if d != 0:
                    entries.append((i, j, d))
    repl, reduced = sp.cse([e for _, _, e in entries], symbols=sp.numbered_symbols("c"), optimizations=None)
    src += ["", "", "@njit(cache=True, fastmath=False, nogil=True, error_model=\"numpy\")", "def jac(t, y, p, J):",
            "    J[:, :] = 0.0"]
    jn = dict(names)
    for sym, expr in repl:
        src.append(f"    {sym} = {_expr_code(printer, jn, expr)}")
        jn[sym] = str(sym)
    for (i, j, _), expr in zip(entries, reduced):
        src.append(f"    J[{i}, {j}] = {_expr_code(printer, jn, expr)}")
    src += ["", "", "# ---- the generic integrators (engine/kernels/, included verbatim) ----", kernels.source()]
    return "\n".join(src) + "\n"


def _linear_source(printer: _Printer, names: dict[sp.Symbol, str], local: dict[sp.Symbol, str],
                   body_lines: list[str], model: Model, full: list[sp.Expr]) -> list[str]:
    """The linear block's functions and index tables, and the right-hand side of the other states."""
    blk = linear_block(model, full)
    n, k = len(blk.states), len(blk.thetas)
    width = max([len(c) for c in blk.source_columns] + [1])
    cols = [list(c) + [-1] * (width - len(c)) for c in blk.source_columns]
    deco = "@njit(cache=True, fastmath=False, nogil=True, error_model=\"numpy\")"
    src = ["", "", f"LIN_IDX = np.array({list(blk.states)!r}, dtype=np.int64)",
           f"NL_IDX = np.array({list(blk.others)!r}, dtype=np.int64)", f"N_LIN = {n}", f"N_THETA = {k}",
           f"THETA_COLS = np.array({cols if cols else [[-1]]!r}, dtype=np.int64)"]
    ys = [sp.Symbol(model.states[i].name, real=True) for i in blk.states]
    read = sorted({r for r, y in enumerate(ys) if any(y in full[i].free_symbols for i in blk.others)})
    src += [f"LIN_READ = np.array({read!r}, dtype=np.int64)  # block states the other states' rates read"]
    leaves = decaying_leaves(model, full, blk.others)
    src += [f"LEAF_POS = np.array({[blk.others.index(i) for i in leaves.states]!r}, dtype=np.int64)"
            "  # decaying leaves (linear.py), as positions among the other states", "", "", deco,
            "def leaf_rates(p, k):"]
    src += [f"    k[{j}] = {_expr_code(printer, names, x)}" for j, x in enumerate(leaves.rates)] or ["    pass"]
    derived, fast_body = _hoisted(model)
    src += [f"N_DERIVED = {len(derived)}", "", "", deco, "def derived(p, q):"]
    src += _lines(printer, names, [(f"_q{j}", e) for j, e in enumerate(derived)])
    src += [f"    q[{j}] = _q{j}" for j in range(len(derived))] or ["    pass"]
    src += ["", "", deco, "def rhs_nl(t, y, p, q, dz):"]
    src += _share_powers(_lines(printer, names, fast_body), "pw")
    rates = model.rates()
    for r, i in enumerate(blk.others):
        src.append(f"    dz[{r}] = {_expr_code(printer, local, rates[model.states[i].name])}")
    src += ["", "", deco, "def lin_matrices(p, a0, ath):", "    a0[:, :] = 0.0", "    ath[:, :, :] = 0.0"]
    for r in range(n):
        for c in range(n):
            if blk.a0[r, c] != 0:
                src.append(f"    a0[{r}, {c}] = {_expr_code(printer, names, blk.a0[r, c])}")
            for j, ak in enumerate(blk.a_theta):
                if ak[r, c] != 0:
                    src.append(f"    ath[{j}, {r}, {c}] = {_expr_code(printer, names, ak[r, c])}")
    src += ["", "", deco, "def lin_input(t, p, b):"]
    src += [f"    b[{r}] = {_expr_code(printer, names, x)}" for r, x in enumerate(blk.b)] or ["    pass"]
    src += ["", "", deco, "def lin_theta(t, p, th):"]
    src += [f"    th[{j}] = {_expr_code(printer, names, x)}" for j, x in enumerate(blk.thetas)] or ["    pass"]
    return src


def _is_call(e: sp.Expr) -> bool:
    return isinstance(e, (sp.exp, sp.log)) or (isinstance(e, sp.Pow) and not e.exp.is_Integer)


def _hoisted(model: Model) -> tuple[list[sp.Expr], list[tuple[str, sp.Expr]]]:
    """The lets and fluxes for a right-hand side that is called many times per subject: every subexpression
    of parameters alone (references included) that calls a function (exp, log, a non-integer power) is taken
    out into q, computed once per subject by `derived(p, q)`; and powers of one base with several exponents
    share its logarithm (b**x = exp(x log b))."""
    static = {sp.Symbol(p, real=True) for p in model.parameters} | {sp.Symbol(r.name, real=True)
                                                                     for r in model.references}
    slots: dict[sp.Expr, sp.Symbol] = {}
    derived: list[sp.Expr] = []
    static_lets: dict[sp.Symbol, sp.Expr] = {}  # lets of parameters alone -> their expression in parameters

    def slot(e: sp.Expr) -> sp.Symbol:
        if e not in slots:
            slots[e] = sp.Symbol(f"q[{len(derived)}]")
            derived.append(e.xreplace(static_lets))
        return slots[e]

    def hoist(e: sp.Expr) -> sp.Expr:
        if e.free_symbols and e.free_symbols <= static and any(_is_call(x) for x in sp.preorder_traversal(e)):
            return slot(e)
        if not e.args or isinstance(e, sp.Symbol):
            return e
        return e.func(*[hoist(a) for a in e.args])

    body = []
    for name, expr in [(x.name, x.expr) for x in model.lets] + [(f.name, f.expr) for f in model.fluxes]:
        if expr.free_symbols <= static:  # a let of parameters alone counts as a parameter from here on
            sym = sp.Symbol(name, real=True)
            static_lets[sym] = expr.xreplace(static_lets)
            static.add(sym)
        body.append((name, hoist(expr)))
    bases: dict[sp.Expr, set[sp.Expr]] = {}
    for _, expr in body:
        for x in sp.preorder_traversal(expr):
            if isinstance(x, sp.Pow) and not x.exp.is_Number and isinstance(x.base, sp.Symbol):
                bases.setdefault(x.base, set()).add(x.exp)
    shared = {b for b, exps in bases.items() if len(exps) > 1}
    out: list[tuple[str, sp.Expr]] = []
    for name, expr in body:
        if shared:
            expr = expr.replace(lambda x: isinstance(x, sp.Pow) and x.base in shared and not x.exp.is_Number,
                                lambda x: sp.exp(x.exp * sp.Symbol(f"_log_{x.base}", real=True)))
        out.append((name, expr))
        sym = sp.Symbol(name, real=True)
        if sym in shared:
            out.append((f"_log_{name}", sp.log(sym)))
    return derived, out


def _cache_dir() -> Path:
    base = os.environ.get("OSTEOQSP_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "osteoqsp")
    path = Path(base)
    path.mkdir(parents=True, exist_ok=True)
    return path


_LOADED: dict[str, Generated] = {}


def compile_model(model: Model) -> Generated:
    """Generate (or reuse) the numba module of `model`."""
    key = hashlib.sha256((model.signature() + kernels.source() + inspect.getsource(sys.modules[__name__])
                          + inspect.getsource(linear)).encode()).hexdigest()[:16]
    if key in _LOADED:
        return _LOADED[key]
    path = _cache_dir() / f"osteoqsp_gen_{model.species}_{key}.py"
    if not path.exists():
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(generate_source(model))
        os.replace(tmp, path)
    name = path.stem
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    _, body = code_names(model)
    gen = Generated(module, {s.name: i for i, s in enumerate(model.states)},
                    {n: i for i, n in enumerate(list(model.parameters) + [r.name for r in model.references])},
                    [n for n, _ in body], [o.name for o in model.observables])
    _LOADED[key] = gen
    return gen
