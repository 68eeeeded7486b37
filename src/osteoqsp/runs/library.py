"""The built-in library: the packaged scenarios (`osteoqsp/scenarios/*.yaml`) and trials (`osteoqsp/trials/*.yaml`).

Wherever a scenario or a trial is named (command line, dashboard, trial base, evidence), the name is looked
up here: a path to an existing file wins, otherwise a built-in of that name, otherwise the path as given (so
that a missing file is a one-line `ScenarioError` naming it). Light imports: the command line loads this
module before it needs the numerical stack.
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from osteoqsp.errors import ScenarioError

if TYPE_CHECKING:
    from osteoqsp.runs.scenario import Scenario

BUILTIN_PREFIX = "# built-in scenario:"


def _folder(kind: str) -> Path:
    return Path(str(resources.files("osteoqsp").joinpath(kind)))


def _builtin(kind: str, name: str) -> Path | None:
    path = _folder(kind) / f"{name}.yaml"
    return path if path.is_file() else None


def _resolve(kind: str, name_or_path: str | Path, what: str) -> Path:
    """An existing path, else the built-in of that name, else the path as given; a folder is a ScenarioError."""
    path = Path(name_or_path)
    if path.is_dir():
        raise ScenarioError(f"{path}: is a folder, not a {what} file")
    if not path.exists():
        return _builtin(kind, str(name_or_path)) or path
    return path


def scenario_names() -> dict[str, str]:
    """Built-in scenario name -> its one-line description (the file's first comment line)."""
    out = {}
    for f in sorted(_folder("scenarios").iterdir(), key=lambda x: x.name):
        if f.name.endswith(".yaml"):
            first = f.read_text().splitlines()[0]
            out[f.name[:-5]] = first.removeprefix(BUILTIN_PREFIX).strip()
    return out


def scenario_path(name: str) -> Path | None:
    """The file of the built-in scenario `name`; None if there is none."""
    return _builtin("scenarios", name)


def scenario_file(name_or_path: str | Path) -> Path:
    """The scenario file a command names: an existing path, else the built-in of that name."""
    return _resolve("scenarios", name_or_path, "scenario")


def load_scenario(name_or_path: str | Path) -> Scenario:
    """A scenario from a built-in name or a file path, validated (errors: one-line ScenarioError)."""
    from osteoqsp.runs.scenario import Scenario

    return Scenario.from_yaml(scenario_file(name_or_path))


def scenario_data(name_or_path: str | Path) -> dict[str, Any]:
    """The raw mapping of a scenario file (a built-in name or a path), not validated."""
    from osteoqsp.runs.scenario import read_yaml

    return read_yaml(scenario_file(name_or_path))


def scenario_of(spec: str | Path | Mapping[str, Any], where: str = "inline") -> Scenario:
    """A scenario from a built-in name, a file path, or an inline mapping (errors name `where:<its name>`)."""
    from osteoqsp.runs.scenario import Scenario

    if isinstance(spec, Mapping):
        return Scenario.from_dict(dict(spec), source=f"{where}:{spec.get('name', '?')}")
    return load_scenario(spec)


def trial_path(name_or_path: str | Path) -> Path:
    """The trial file a command names: an existing path, else the built-in of that name."""
    return _resolve("trials", name_or_path, "trial")
