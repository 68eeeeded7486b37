"""SBML export: one scenario's subject as an SBML Level 3 Version 2 model, generated from the declaration.

Nothing here names a molecule: the document is written by walking the frozen `Model`.
    - every model parameter and every reference -> a constant <parameter> (value from the subject's
      parameter vector, references as set by the engine's burn-in);
    - every state -> a non-constant <parameter> with the subject's state at t = 0 and a RateRule equal to
      `Model.rates()` (the sum of its in- and out-fluxes);
    - every let and every flux -> an AssignmentRule (declaration order: lets, then fluxes);
    - every observable -> an AssignmentRule on a parameter whose id is exactly the observable's name;
    - the scenario's doses -> one <event> per administration time, adding the dose to the dosed state(s).
The osteoqsp unit (and description) of each quantity is written in its notes; SBML units are left out
except for the model's time unit (day). Time is the csymbol time (`time` in the L3 infix syntax).
libsbml writes numbers with 15 significant digits. Vitamer amounts the subject has none of start at
about 1e-124 (zero up to the steady-state solve): in libroadrunner, give the absolute tolerance as a vector
(its scalar tolerance is scaled by each state's initial value and then fails at t = 0).

    text = to_sbml(scenario)
    write_sbml(scenario, "subject.xml")
"""

from __future__ import annotations

import html
import math
import re
from collections import defaultdict
from pathlib import Path

import libsbml
import sympy as sp
from sympy.printing.str import StrPrinter

from osteoqsp.engine import SolverSettings
from osteoqsp.symbolic.declare import TIME, Model
from osteoqsp.runs.scenario import Scenario
from osteoqsp.runs.subject import engine_for, prepare

_SID = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# names that would be legal identifiers but read as functions or operators by people and some tools
_AVOID = {"exp", "log", "ln", "log10", "sqrt", "pow", "root", "abs", "ceil", "floor", "factorial", "piecewise",
          "delay", "rateOf", "min", "max", "and", "or", "not", "xor", "implies", "quotient", "rem", "lambda",
          "gt", "geq", "lt", "leq", "eq", "neq", "plus", "minus", "times", "divide", "power", "e"}
_SUFFIX = {"parameter": "par", "reference": "ref", "state": "state", "let": "let", "flux": "flux",
           "event": "ev"}


class SBMLExportError(RuntimeError):
    """The model or scenario could not be written as valid SBML."""


# ---------------------------------------------------------------------------------------------------------
# sympy -> SBML L3 infix
# ---------------------------------------------------------------------------------------------------------
class L3Printer(StrPrinter):
    """Prints a sympy expression in libsbml's L3 infix syntax (`libsbml.parseL3Formula`).

    `ids` maps every symbol name to its SBML id; the time symbol prints as the csymbol `time`.
    """

    _REL = {"==": "==", "!=": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
    _FUNCS = {"exp": "exp", "log": "ln", "Abs": "abs", "sin": "sin", "cos": "cos", "tan": "tan",
              "floor": "floor", "ceiling": "ceil", "tanh": "tanh", "sinh": "sinh", "cosh": "cosh"}

    def __init__(self, ids: dict[str, str]) -> None:
        super().__init__({"full_prec": True})
        self.ids = ids

    def _print_Symbol(self, expr: sp.Symbol) -> str:  # noqa: N802
        if expr == TIME or (expr.name == TIME.name and expr.name not in self.ids):
            return "time"
        try:
            return self.ids[expr.name]
        except KeyError:
            raise SBMLExportError(f"symbol {expr.name!r} is not declared in the model") from None

    def _print_Float(self, expr: sp.Float) -> str:  # noqa: N802
        x = float(expr)
        if not math.isfinite(x):
            return "INF" if x > 0 else ("-INF" if x < 0 else "NaN")
        return repr(x)

    def _print_Rational(self, expr: sp.Rational) -> str:  # noqa: N802
        return repr(float(expr))

    def _print_Half(self, expr: sp.Rational) -> str:  # noqa: N802
        return "0.5"

    def _print_Integer(self, expr: sp.Integer) -> str:  # noqa: N802
        return str(int(expr))

    def _print_Exp1(self, expr: sp.Expr) -> str:  # noqa: N802
        return "exponentiale"

    def _print_Pi(self, expr: sp.Expr) -> str:  # noqa: N802
        return "pi"

    def _print_Infinity(self, expr: sp.Expr) -> str:  # noqa: N802
        return "INF"

    def _print_NegativeInfinity(self, expr: sp.Expr) -> str:  # noqa: N802
        return "-INF"

    def _print_NaN(self, expr: sp.Expr) -> str:  # noqa: N802
        return "NaN"

    def _print_BooleanTrue(self, expr: sp.Expr) -> str:  # noqa: N802
        return "true"

    def _print_BooleanFalse(self, expr: sp.Expr) -> str:  # noqa: N802
        return "false"

    def _print_Pow(self, expr: sp.Pow, rational: bool = False) -> str:  # noqa: N802
        base, ex = expr.as_base_exp()
        if ex == sp.S.Half:
            return f"sqrt({self._print(base)})"
        return f"pow({self._print(base)}, {self._print(ex)})"

    def _print_Relational(self, expr: sp.core.relational.Relational) -> str:  # noqa: N802
        op = self._REL.get(expr.rel_op)
        if op is None:
            raise SBMLExportError(f"relation {expr.rel_op!r} has no SBML form")
        return f"({self._print(expr.lhs)} {op} {self._print(expr.rhs)})"

    def _print_And(self, expr: sp.And) -> str:  # noqa: N802
        return "(" + " && ".join(self._print(a) for a in expr.args) + ")"

    def _print_Or(self, expr: sp.Or) -> str:  # noqa: N802
        return "(" + " || ".join(self._print(a) for a in expr.args) + ")"

    def _print_Not(self, expr: sp.Not) -> str:  # noqa: N802
        return f"!({self._print(expr.args[0])})"

    def _minmax(self, args: tuple[sp.Expr, ...], op: str) -> str:
        out = self._print(args[0])
        for a in args[1:]:
            b = self._print(a)
            out = f"piecewise({out}, ({out}) {op} ({b}), {b})"
        return out

    def _print_Max(self, expr: sp.Max) -> str:  # noqa: N802
        return self._minmax(expr.args, ">")

    def _print_Min(self, expr: sp.Min) -> str:  # noqa: N802
        return self._minmax(expr.args, "<")

    def _print_Piecewise(self, expr: sp.Piecewise) -> str:  # noqa: N802
        parts: list[str] = []
        for value, cond in expr.args:
            if cond == sp.true:
                parts.append(self._print(value))
                break
            parts += [self._print(value), self._print(cond)]
        return f"piecewise({', '.join(parts)})"

    def _print_Function(self, expr: sp.Function) -> str:  # noqa: N802
        name = type(expr).__name__
        if name not in self._FUNCS:
            raise SBMLExportError(f"function {name} has no SBML form in this exporter")
        return f"{self._FUNCS[name]}({', '.join(self._print(a) for a in expr.args)})"

    _print_exp = _print_Function
    _print_log = _print_Function
    _print_Abs = _print_Function


def to_math(formula: str) -> libsbml.ASTNode:
    """Parse an L3 infix formula; raise (with libsbml's message) when it does not parse."""
    ast = libsbml.parseL3Formula(formula)
    if ast is None:
        raise SBMLExportError(f"libsbml cannot parse {formula!r}: {libsbml.getLastParseL3Error()}")
    return ast


# ---------------------------------------------------------------------------------------------------------
# ids
# ---------------------------------------------------------------------------------------------------------
def _plain_name(word: str) -> bool:
    """True when `word` is a valid SBML id that the L3 parser reads as a plain identifier (not `time`,
    `pi`, `inf`, `avogadro`..., in any case) and that does not look like a math function."""
    if not _SID.match(word) or word in _AVOID or word.lower() in {"t", "time"}:
        return False
    ast = libsbml.parseL3Formula(f"{word} + 1")
    if ast is None:
        return False
    left = ast.getLeftChild()
    return left is not None and left.getType() == libsbml.AST_NAME and left.getName() == word


def sbml_ids(model: Model) -> dict[tuple[str, str], str]:
    """SBML id of every declared quantity, keyed by (kind, name).

    Observables keep exactly their name; any other name that is taken (e.g. a let called like an
    observable) or unsafe in SBML gets a suffix naming its kind ("inr" -> "inr_let").
    """
    used: set[str] = set()
    out: dict[tuple[str, str], str] = {}
    for o in model.observables:
        if not _plain_name(o.name) or o.name in used:
            raise SBMLExportError(f"observable {o.name!r} cannot be an SBML id")
        used.add(o.name)
        out[("observable", o.name)] = o.name
    names = ([("parameter", p) for p in model.parameters] + [("reference", r.name) for r in model.references]
             + [("state", s.name) for s in model.states] + [("let", x.name) for x in model.lets]
             + [("flux", f.name) for f in model.fluxes])
    for kind, name in names:
        if name == TIME.name:
            raise SBMLExportError(f"{kind} {name!r} has the name of the time symbol")
        sid = name if _SID.match(name) else re.sub(r"\W", "_", name)
        if not _SID.match(sid):
            sid = "_" + sid
        if sid in used or not _plain_name(sid):
            sid = f"{sid}_{_SUFFIX[kind]}"
            while sid in used or not _plain_name(sid):
                sid += "_"
        used.add(sid)
        out[(kind, name)] = sid
    return out


# ---------------------------------------------------------------------------------------------------------
# document
# ---------------------------------------------------------------------------------------------------------
def _check(rc: int, what: str) -> None:
    if rc != libsbml.LIBSBML_OPERATION_SUCCESS:
        raise SBMLExportError(f"libsbml could not {what}: {libsbml.OperationReturnValue_toString(rc)}")


def _notes(obj: libsbml.SBase, *lines: str) -> None:
    body = "".join(f"<p>{html.escape(line)}</p>" for line in lines if line)
    _check(obj.setNotes(f'<body xmlns="http://www.w3.org/1999/xhtml">{body}</body>'), "set notes")


def _parameter(m: libsbml.Model, sid: str, name: str, value: float, constant: bool, *notes: str) -> None:
    par = m.createParameter()
    _check(par.setId(sid), f"set id {sid}")
    _check(par.setName(name), f"set name of {sid}")
    _check(par.setValue(float(value)), f"set value of {sid}")
    _check(par.setConstant(constant), f"set constant of {sid}")
    _notes(par, *notes)


def _assignment(m: libsbml.Model, sid: str, formula: str) -> None:
    rule = m.createAssignmentRule()
    _check(rule.setVariable(sid), f"set assignment rule of {sid}")
    _check(rule.setMath(to_math(formula)), f"set math of {sid}")


def _id_of_model(scenario: Scenario, taken: set[str]) -> str:
    sid = re.sub(r"\W", "_", f"osteoqsp_{scenario.species}_{scenario.name}")
    while sid in taken:
        sid += "_"
    return sid


def to_sbml(scenario: Scenario, *, parameters: dict[str, float] | None = None,
            settings: SolverSettings | None = None) -> str:
    """The scenario's typical subject as an SBML L3V2 document (a string).

    `parameters` overrides model parameters (model units) as in `simulate`; `settings` are the solver
    settings of the subject's burn-in history (as `simulate(..., settings=...)` uses them).
    """
    subject = prepare(scenario, parameters, settings)
    model = engine_for(scenario.species).model
    y0, p = subject.y0, subject.p
    n = len(model.parameters)
    ids = sbml_ids(model)
    symbol_ids = {name: sid for (kind, name), sid in ids.items() if kind != "observable"}
    printer = L3Printer(symbol_ids)

    doc = libsbml.SBMLDocument(3, 2)
    m = doc.createModel()
    _check(m.setId(_id_of_model(scenario, set(ids.values()))), "set the model id")
    _check(m.setName(f"osteoqsp {scenario.species} model, scenario {scenario.name}"), "set the model name")
    _notes(m, f"Generated by osteoqsp from the {scenario.species} model declaration for scenario "
              f"{scenario.name!r}: one typical subject, states at the start of the scenario (t = 0 day).",
           "Time unit: day. The osteoqsp unit of every quantity is given in its notes.")
    day = m.createUnitDefinition()
    _check(day.setId("day"), "define the unit day")
    unit = day.createUnit()
    _check(unit.setKind(libsbml.UNIT_KIND_SECOND), "set the unit kind")
    _check(unit.setExponent(1), "set the unit exponent")
    _check(unit.setScale(0), "set the unit scale")
    _check(unit.setMultiplier(86400.0), "set the unit multiplier")
    _check(m.setTimeUnits("day"), "set the time unit")

    for i, name in enumerate(model.parameters):
        _parameter(m, ids[("parameter", name)], name, p[i], True, f"unit: {model.parameter_units[name]}",
                   f"osteoqsp parameter {name}")
    for j, r in enumerate(model.references):
        _parameter(m, ids[("reference", r.name)], r.name, p[n + j], True, "osteoqsp reference parameter",
                   f"value of {r.expr} at the subject's "
                   + ("homeostatic steady state" if r.kind == "steady" else "start of the scenario"))
    for i, s in enumerate(model.states):
        _parameter(m, ids[("state", s.name)], s.name, y0[i], False, f"unit: {s.unit}",
                   f"osteoqsp state: {s.description}")
    for x in model.lets:
        _parameter(m, ids[("let", x.name)], x.name, 0.0, False, f"unit: {x.unit}", x.description)
    for f in model.fluxes:
        _parameter(m, ids[("flux", f.name)], f.name, 0.0, False, f"unit: {f.unit}",
                   f"{f.description} ({f.source or 'outside'} -> {f.target or 'outside'})")
    for o in model.observables:
        _parameter(m, ids[("observable", o.name)], o.name, 0.0, False, f"unit: {o.unit}",
                   f"osteoqsp observable: {o.description}")

    for x in model.lets:
        _assignment(m, ids[("let", x.name)], printer.doprint(x.expr))
    for f in model.fluxes:
        _assignment(m, ids[("flux", f.name)], printer.doprint(f.expr))
    for o in model.observables:
        _assignment(m, ids[("observable", o.name)], printer.doprint(o.expr))
    rates = model.rates()
    for s in model.states:
        rule = m.createRateRule()
        sid = ids[("state", s.name)]
        _check(rule.setVariable(sid), f"set rate rule of {sid}")
        _check(rule.setMath(to_math(printer.doprint(rates[s.name]))), f"set rate of {sid}")

    # doses: one event per administration time; doses due at the same time go into one event (each state
    # may be assigned once per event, and separate events would all read the pre-dose values)
    by_time: dict[float, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    labels: dict[float, list[str]] = defaultdict(list)
    for ev in subject.dosing.doses:
        by_time[ev.time][ev.state] += ev.amount
        labels[ev.time].append(ev.label)
    taken = set(ids.values()) | {m.getId()}
    for k, t_dose in enumerate(sorted(by_time)):
        event = m.createEvent()
        eid = f"dose_{k}"
        while eid in taken:
            eid += "_"
        taken.add(eid)
        _check(event.setId(eid), f"set id {eid}")
        _check(event.setName(f"t = {t_dose:g} day: " + "; ".join(labels[t_dose])), f"name {eid}")
        _check(event.setUseValuesFromTriggerTime(True), f"set useValuesFromTriggerTime of {eid}")
        trigger = event.createTrigger()
        _check(trigger.setInitialValue(False), f"set the trigger initial value of {eid}")
        _check(trigger.setPersistent(True), f"set the trigger persistence of {eid}")
        _check(trigger.setMath(to_math(f"time >= {float(t_dose)!r}")), f"set the trigger of {eid}")
        for state, amount in by_time[t_dose].items():
            sid = ids[("state", state)]
            ea = event.createEventAssignment()
            _check(ea.setVariable(sid), f"assign {sid} in {eid}")
            _check(ea.setMath(to_math(f"{sid} + {float(amount)!r}")), f"set the dose of {sid} in {eid}")

    text = libsbml.writeSBMLToString(doc)
    if not text:
        raise SBMLExportError("libsbml could not write the document")
    return text


def sbml_errors(text: str) -> list[str]:
    """Errors (not warnings) of an SBML document: reading it, then libsbml's consistency checks."""

    def errors(doc: libsbml.SBMLDocument) -> list[str]:
        out = []
        for i in range(doc.getNumErrors()):
            err = doc.getError(i)
            if err.getSeverity() >= libsbml.LIBSBML_SEV_ERROR:
                out.append(f"line {err.getLine()}: {err.getShortMessage()}: {err.getMessage().strip()}")
        return out

    doc = libsbml.readSBMLFromString(text)
    msgs = errors(doc)
    if msgs:
        return msgs
    doc.getErrorLog().clearLog()
    doc.checkConsistency()
    return errors(doc)


def write_sbml(scenario: Scenario, path: str | Path, **kw) -> Path:
    """Write `to_sbml(scenario, **kw)` to `path` after libsbml's consistency checks (fails on errors only)."""
    text = to_sbml(scenario, **kw)
    errors = sbml_errors(text)
    if errors:
        raise SBMLExportError("the SBML document is not valid:\n" + "\n".join(errors[:20]))
    path = Path(path)
    path.write_text(text)
    return path


__all__ = ["to_sbml", "write_sbml", "sbml_errors", "sbml_ids", "L3Printer", "SBMLExportError"]
