"""The model's linear block, found symbolically: the states whose rates are affine in themselves and read no
other state (in a pharmacological model: compartments with first-order transfer, and their tallies).

Between two stops (events, outputs) such a block has an exact solution, y(t + h) = E(h) [y(t); 1], with E the
matrix exponential of the block's matrix augmented by its input column. The split integrator (kernels/split.py)
uses it, so that the fast transients after each event cost no steps; the other states are integrated with an
explicit Runge-Kutta method at the pace of their own dynamics.

The block may vary slowly in time only through scalar factors theta(t) that scale the outflow of a source
state (a state with no inflow from other states), e.g. a transfer fraction that drifts over years. Then the
block's matrix is A0 + sum_k theta_k(t) A_k, and E is affine in each theta_k:
E = E0 + sum_k theta_k D_k, with D_k nonzero only in the source columns and the input column. The kernel
holds theta_k at its value at the middle of each step. Inputs (zero-order rates) may switch only at t = 0.
Nothing here names a molecule.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from osteoqsp.symbolic.declare import TIME, Model


@dataclass(frozen=True)
class LinearBlock:
    states: tuple[int, ...]  # model indices of the block's states (in model order)
    others: tuple[int, ...]  # model indices of the other states
    a0: sp.Matrix  # time-independent part of the block matrix (len(states) square)
    b: tuple[sp.Expr, ...]  # input (zero-order) rates; piecewise constant, switching only at t = 0
    thetas: tuple[sp.Expr, ...]  # slow scalar factors theta_k(t)
    a_theta: tuple[sp.Matrix, ...]  # the matrix multiplying each theta_k
    source_columns: tuple[tuple[int, ...], ...]  # block-local columns where each A_k is nonzero

    @property
    def empty(self) -> bool:
        return not self.states


def _time_atoms(e: sp.Expr) -> set[sp.Expr]:
    """The largest subexpressions of e that depend on time and are not sums or products."""
    if TIME not in e.free_symbols:
        return set()
    if isinstance(e, (sp.Add, sp.Mul)):
        return set().union(*(_time_atoms(a) for a in e.args))
    if isinstance(e, sp.Pow) and e.exp.is_Integer and TIME not in e.exp.free_symbols:
        return _time_atoms(e.base)
    return {e}


def _is_step_at_zero(e: sp.Expr) -> bool:
    """A Piecewise of time-free values whose conditions compare t with 0 only."""
    if not isinstance(e, sp.Piecewise):
        return False
    for value, cond in e.args:
        if TIME in value.free_symbols:
            return False
        if cond is not sp.true:
            rel = cond if isinstance(cond, sp.core.relational.Relational) else None
            if rel is None or {rel.lhs, rel.rhs} != {TIME, sp.Integer(0)}:
                return False
    return True


def linear_block(model: Model, rates: list[sp.Expr]) -> LinearBlock:
    """Find the block in `rates` (d(state)/dt with every let substituted, in model order)."""
    ys = [sp.Symbol(s.name, real=True) for s in model.states]
    members = set(range(len(ys)))
    while True:  # drop states that read a non-member or are not affine in the members
        keep = set()
        member_syms = {ys[i] for i in members}
        for i in members:
            used = rates[i].free_symbols & set(ys)
            if used - member_syms:
                continue
            if any(sp.diff(rates[i], ys[j], ys[k]) != 0 for j in members for k in members
                   if ys[j] in used and ys[k] in used):
                continue
            keep.add(i)
        if keep == members:
            break
        members = keep
    states = tuple(sorted(members))
    others = tuple(i for i in range(len(ys)) if i not in members)
    n = len(states)
    a = sp.zeros(n, n)
    b = []
    for r, i in enumerate(states):
        for c, j in enumerate(states):
            a[r, c] = sp.diff(rates[i], ys[j])
        b.append(rates[i].xreplace({ys[j]: 0 for j in states}))
    atoms = set().union(*(_time_atoms(x) for x in a)) if n else set()
    thetas = tuple(sorted(atoms, key=sp.default_sort_key))
    th_syms = [sp.Symbol(f"_theta{k}") for k in range(len(thetas))]
    a_sub = a.xreplace(dict(zip(thetas, th_syms)))
    if TIME in a_sub.free_symbols:
        return _none(len(ys), f"time enters the block matrix other than through factors: {a_sub}")
    a_theta, columns = [], []
    for th in th_syms:
        ak = a_sub.diff(th)
        if ak.diff(th) != sp.zeros(n, n) or any(ak.diff(o) != sp.zeros(n, n) for o in th_syms):
            return _none(len(ys), "the block matrix is not affine in its time factors")
        cols = tuple(c for c in range(n) if any(ak[r, c] != 0 for r in range(n)))
        for c in cols:  # a source column: its state's own rate is free of theta and takes no inflow
            if ak[c, c] != 0 or any(a_sub[c, m] != 0 for m in range(n) if m != c):
                return _none(len(ys), f"a time factor acts on {model.states[states[c]].name}, not a source state")
        a_theta.append(ak)
        columns.append(cols)
    a0 = a_sub.xreplace({th: 0 for th in th_syms})
    for x in b:
        if any(not _is_step_at_zero(t) for t in _time_atoms(x)):
            return _none(len(ys), f"an input of the block varies in time other than by a switch at t = 0: {x}")
    return LinearBlock(states, others, a0, tuple(b), thetas, tuple(a_theta), tuple(columns))


def _none(n_states: int, why: str) -> LinearBlock:
    import warnings

    warnings.warn(f"no linear block: {why}; the split method integrates every state", stacklevel=3)
    return LinearBlock((), tuple(range(n_states)), sp.zeros(0, 0), (), (), (), ())


@dataclass(frozen=True)
class DecayingLeaves:
    """States outside the block that no other state's rate reads and whose own rate is k (c - y) with k a positive
    expression of parameters alone (a turnover: synthesis at a rate that reads other states, first-order loss).
    Over a step, y(t + h) = exp(-k h) y(t) + k int_0^h exp(-k (h - s)) c(t + s) ds holds exactly; the split
    integrator evaluates the integral with c interpolated through its values at the step's stages, so their
    decay sets no step size (kernels/split.py)."""

    states: tuple[int, ...]  # model indices
    rates: tuple[sp.Expr, ...]  # k of each, in parameters


def decaying_leaves(model: Model, rates: list[sp.Expr], others: tuple[int, ...]) -> DecayingLeaves:
    """Find them among `others` (the states outside the linear block) in `rates` (every let substituted)."""
    ys = [sp.Symbol(s.name, real=True) for s in model.states]
    params = {sp.Symbol(p, real=True) for p in model.parameters} | {sp.Symbol(r.name, real=True)
                                                                    for r in model.references}
    found, ks = [], []
    for i in others:
        if any(ys[i] in rates[j].free_symbols for j in range(len(ys)) if j != i):
            continue
        slope = sp.diff(rates[i], ys[i])
        if slope == 0 or not slope.free_symbols <= params or sp.diff(slope, ys[i]) != 0:
            continue
        found.append(i)
        ks.append(-slope)
    return DecayingLeaves(tuple(found), tuple(ks))
