"""Model documentation generated from the declaration: one Markdown page per layer (and species).

    python -m osteoqsp.shells.docs docs/model

Each page lists the layer's states with their rate of change, intermediate quantities, fluxes, observables
and the parameters it uses (value, unit, status, reference), so that the pages cannot drift from the code.
A test regenerates them and compares with the committed files.
"""

from __future__ import annotations

import sys
from pathlib import Path

import sympy as sp

from osteoqsp.model import SPECIES, build_model, load_parameters
from osteoqsp.symbolic.declare import Model



def layers(model: Model) -> list[str]:
    """The layers that declared something, in the order of the declaration."""
    return [x for x in dict.fromkeys(model.layer_of.values()) if x]


def _code(expr: sp.Expr) -> str:
    return "`" + sp.sstr(expr, order="none").replace("|", "\\|") + "`"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def layer_page(model: Model, layer: str) -> str:
    mod = sys.modules[f"osteoqsp.model.{layer}"]
    doc = (mod.__doc__ or "").strip()
    of = model.layer_of
    table = load_parameters(model.species)
    rates = model.rates()
    out = [f"# {layer} ({model.species})", "", doc, "",
           f"Generated from `src/osteoqsp/model/{layer}.py` and the {model.species} parameter table by "
           "`python -m osteoqsp.shells.docs docs/model`. Time is in day.", ""]
    states = [s for s in model.states if of.get(s.name) == layer]
    if states:
        out += ["## States", "", "| state | unit | initial guess | d/dt | meaning |", "|---|---|---|---|---|"]
        for s in states:
            kind = " (bookkeeping)" if s.accumulator else ""
            out.append(f"| `{s.name}` | {s.unit} | {s.initial:g} | {_code(rates[s.name])} | "
                       f"{_cell(s.description)}{kind} |")
        out.append("")
    lets = [x for x in model.lets if of.get(x.name) == layer]
    if lets:
        out += ["## Quantities", "", "| name | unit | = | meaning |", "|---|---|---|---|"]
        out += [f"| `{x.name}` | {x.unit} | {_code(x.expr)} | {_cell(x.description)} |" for x in lets]
        out.append("")
    fluxes = [f for f in model.fluxes if of.get(f.name) == layer]
    if fluxes:
        out += ["## Fluxes", "", "| flux | from | to | rate | unit | meaning |", "|---|---|---|---|---|---|"]
        out += [f"| `{f.name}` | {f.source or '-'} | {f.target or '-'} | {_code(f.expr)} | {f.unit} | "
                f"{_cell(f.description)} |" for f in fluxes]
        out.append("")
    refs = [r for r in model.references if of.get(r.name) == layer]
    if refs:
        out += ["## Reference values set by the engine", "",
                "| name | evaluated at | = |", "|---|---|---|"]
        out += [f"| `{r.name}` | {'steady state' if r.kind == 'steady' else 'start of the scenario'} | "
                f"{_code(r.expr)} |" for r in refs]
        out.append("")
    obs = [o for o in model.observables if of.get("obs_" + o.name) == layer]
    if obs:
        out += ["## Observables", "", "| observable | unit | = | meaning |", "|---|---|---|---|"]
        out += [f"| `{o.name}` | {o.unit} | {_code(o.expr)} | {_cell(o.description)} |" for o in obs]
        out.append("")
    params = [p for p in model.parameters if of.get(p) == layer]
    if params:
        out += ["## Parameters", "", "| parameter | value | unit | status | reference | meaning |",
                "|---|---|---|---|---|---|"]
        for name in params:
            row = table.rows[name]
            out.append(f"| `{name}` | {row.value:g} | {row.unit} | {row.status} | {_cell(row.reference)} | "
                       f"{_cell(row.description)} |")
        out.append("")
    return "\n".join(out)


def pages() -> dict[str, str]:
    out = {}
    for species in SPECIES:
        model = build_model(species)
        for layer in layers(model):
            out[f"{species}-{layer}.md"] = layer_page(model, layer)
    index = ["# The model, layer by layer", "", "Generated from the declaration (`python -m osteoqsp.shells.docs docs/model`).",
             ""]
    for species in SPECIES:
        m = build_model(species)
        index.append(f"- {species}: {len(m.states)} states, {len(m.parameters)} parameters: " + ", ".join(
            f"[{layer}]({species}-{layer}.md)" for layer in layers(m)))
    out["README.md"] = "\n".join(index) + "\n"
    return out


def write(folder: str | Path) -> list[Path]:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in pages().items():
        path = folder / name
        path.write_text(text if text.endswith("\n") else text + "\n")
        written.append(path)
    return written


if __name__ == "__main__":
    for p in write(sys.argv[1] if len(sys.argv) > 1 else "docs/model"):
        print(p)
