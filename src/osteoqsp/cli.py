"""Command line: a thin shell over the Python API. User errors print one line and exit with code 2."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path

from .engine import SolveError, SteadyStateError
from .files import staged_folder
from .scenario import Scenario, ScenarioError


class UserError(Exception):
    pass


def _load(path: str) -> Scenario:
    p = Path(path)
    if p.is_dir():
        raise UserError(f"{p}: is a folder, not a scenario file")
    if not p.exists():
        builtin = resources.files("osteoqsp").joinpath("scenarios", f"{path}.yaml")
        if builtin.is_file():
            return Scenario.from_yaml(Path(str(builtin)))
    return Scenario.from_yaml(p)


@contextmanager
def _status(text: str) -> Iterator[None]:
    """A spinner on a terminal; silent when stderr is not one (pipes, CI, tests)."""
    if not sys.stderr.isatty():
        yield
        return
    from rich.console import Console

    with Console(stderr=True).status(text):
        yield


def builtin_scenarios() -> dict[str, str]:
    out = {}
    for f in sorted(resources.files("osteoqsp").joinpath("scenarios").iterdir(), key=lambda x: x.name):
        if f.name.endswith(".yaml"):
            first = f.read_text().splitlines()[0]
            out[f.name[:-5]] = first.removeprefix("# built-in scenario:").strip()
    return out


def cmd_simulate(args: argparse.Namespace) -> int:
    from . import simulate

    scenario = _load(args.scenario)
    out = Path(args.output)
    if out.exists() and not out.is_dir():
        raise UserError(f"{out}: exists and is not a folder")
    if out.exists() and any(out.iterdir()) and not args.force:
        raise UserError(f"{out}: exists and is not empty (use --force to replace it)")
    if scenario.population is not None:
        from .population import run_population

        pop = run_population(scenario, out, resume=args.resume)
        assert pop is not None
        print(f"{scenario.name}: {pop.n_subjects} subjects ({len(pop.failures)} failed) x {len(pop.time_day)} "
              f"time points in {pop.wall_s:.1f} s -> {out}/timecourse.parquet, summary.csv, run.json, figures/")
        return 0
    with _status(f"simulating {scenario.name} (the first run on a machine compiles the model, about 20 s)"):
        result = simulate(scenario)
    with staged_folder(out) as tmp:  # nothing half-written
        result.write(tmp)
    print(f"{scenario.name}: {len(result.time_day)} time points x {len(result.spec_columns())} observables "
          f"-> {out}/timecourse.csv, run.json, figures/")
    return 0


def cmd_scenarios(args: argparse.Namespace) -> int:
    for name, doc in builtin_scenarios().items():
        print(f"{name:30s} {doc}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from .interop.sbml import write_sbml

    if args.format != "sbml":
        raise UserError(f"export: unknown format {args.format!r} (known: sbml)")
    scenario = _load(args.scenario) if args.scenario else Scenario.from_dict(
        {"name": "typical-woman-58", "species": "human",
         "subject": {"sex": "female", "age": "58 year", "menopause_age": "51 year"}, "duration": "1 year"})
    path = write_sbml(scenario, args.output)
    print(f"{scenario.name}: SBML written to {path}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="osteoqsp", description="Bone homeostasis under vitamin K2 (MK-7): simulate "
                                 "scenarios from intake to bone cells and BMD.")
    sub = ap.add_subparsers(dest="command", required=True)
    s = sub.add_parser("simulate", help="simulate one scenario file (or a built-in scenario name)")
    s.add_argument("scenario")
    s.add_argument("-o", "--output", required=True, help="output folder")
    s.add_argument("--force", action="store_true", help="replace a non-empty output folder")
    s.add_argument("--resume", action="store_true",
                   help="population: go on from the finished chunks of an interrupted run (DIR.partial)")
    s.set_defaults(func=cmd_simulate)
    s = sub.add_parser("scenarios", help="list the built-in scenarios")
    s.set_defaults(func=cmd_scenarios)
    s = sub.add_parser("export", help="export the model (sbml) for a scenario's subject, doses as events")
    s.add_argument("format", help="sbml")
    s.add_argument("scenario", nargs="?", help="scenario file or built-in name (default: a typical woman of 58)")
    s.add_argument("-o", "--output", required=True)
    s.set_defaults(func=cmd_export)
    return ap


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse already printed its one-line usage error
        return int(exc.code or 0)
    try:
        return int(args.func(args))
    except (ScenarioError, UserError) as exc:
        print(f"osteoqsp: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # output paths: missing folder, no permission, a file where a folder should be
        print(f"osteoqsp: error: {exc.filename or ''}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    except (SteadyStateError, SolveError) as exc:  # parameters that leave the model without a solution
        print(f"osteoqsp: error: the model could not be solved for this scenario: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())


def entry() -> None:
    raise SystemExit(main())
