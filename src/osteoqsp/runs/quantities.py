"""Quantities at the edges: what users write in scenario and trial files ('180 ug', '3 year',
'18.8 ug/100g'), read with pint into the units the model uses; every error says what was expected."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import yaml

from osteoqsp.errors import ScenarioError
from osteoqsp.symbolic.units import UREG, convert


def read_yaml(path: str | Path) -> Any:
    """A YAML file's content; a missing or malformed file is a ScenarioError naming it."""
    path = Path(path)
    try:
        return yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise ScenarioError(f"{path}: no such file") from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from None


def quantity(value: Any, unit: str, field: str) -> float:
    """'3 year' -> 1095.75 (in `unit`); errors name the field."""
    if isinstance(value, bool) or value is None or not isinstance(value, (str, int, float)):
        raise ValueError(f"needs a quantity with a unit, e.g. '1 {unit}'")
    if isinstance(value, (int, float)) and unit == "1":  # a score or a ratio: a plain number
        if not math.isfinite(value):
            raise ValueError(f"{value!r} is not finite")
        return float(value)
    if isinstance(value, (int, float)):
        raise ValueError(f"{value!r} has no unit (write e.g. '{value} {unit}')")
    text = str(value).strip()
    try:
        q = UREG.Quantity(text)
    except Exception as exc:  # pint raises many kinds
        raise ValueError(f"cannot read {text!r} as a quantity ({type(exc).__name__})") from None
    if q.unitless and unit != "1":
        raise ValueError(f"{text!r} has no unit (write e.g. '{text} {unit}')")
    try:
        out = float(q.to(unit if unit != "1" else "dimensionless").magnitude)
    except Exception:
        raise ValueError(f"{text!r} is not in a unit of {unit}") from None
    if not math.isfinite(out):
        raise ValueError(f"{text!r} is not finite")
    return out


def diet_content(text: str) -> float:
    """'18.8 ug/100g' -> ug per 100 g of diet."""
    s = str(text).replace(" ", "")
    for suffix in ("ug/100g", "µg/100g", "ug/(100g)"):
        if s.endswith(suffix):
            try:
                x = float(s[: -len(suffix)])
            except ValueError:
                break
            if not 0 <= x <= 1e6 or not math.isfinite(x):
                raise ValueError(f"diet content {text!r} out of range")
            return x
    raise ValueError(f"diet content {text!r} must be written as 'X ug/100g'")


def convert_override(name: str, value: str | float, unit: str, source: str = "scenario") -> float:
    """A `parameters:` entry in the model unit; every model parameter is finite and not negative."""
    if isinstance(value, bool):
        raise ScenarioError(f"{source}: parameters.{name}: {value!r} is not a number")
    if isinstance(value, (int, float)):
        if unit not in ("1", ""):
            raise ScenarioError(f"{source}: parameters.{name}: {value!r} has no unit (model unit is {unit})")
        out = float(value)
    else:
        try:
            q = UREG.Quantity(str(value))
            out = convert(float(q.magnitude), f"{q.units}", unit)
        except Exception:
            raise ScenarioError(f"{source}: parameters.{name}: {value!r} is not a quantity in {unit}") from None
    if not math.isfinite(out) or out < 0:
        raise ScenarioError(f"{source}: parameters.{name}: {value!r} must be finite and not negative")
    return out
