"""Units at the edges: pint parses what users and tables write; the model itself runs on plain floats."""

from __future__ import annotations

from functools import lru_cache

import pint


def _registry() -> pint.UnitRegistry:
    """pint's registry, its parsed definitions cached on disk (0.05 instead of 0.2 s at each start) where the
    user's cache folder can be written."""
    try:
        return pint.UnitRegistry(cache_folder=":auto:")
    except OSError:
        return pint.UnitRegistry()


UREG = _registry()
UREG.define("percent_ = 0.01 = pct")


def _spell(unit: str) -> str:
    return {"1": "dimensionless", "%": "percent", "": "dimensionless"}.get(unit.strip(), unit.strip())


@lru_cache(maxsize=4096)
def _factor(src: str, dst: str) -> float:
    return float(UREG.Quantity(1.0, _spell(src)).to(_spell(dst)).magnitude)


def convert(value: float, src: str, dst: str) -> float:
    """value in unit src -> value in unit dst (raises pint's DimensionalityError if incompatible)."""
    if src.strip() == dst.strip():
        return float(value)
    return float(value) * _factor(src, dst)


def parse_quantity(text: str) -> tuple[float, str]:
    """'180 ug' -> (180.0, 'ug'); raises ValueError when there is no unit."""
    q = UREG.Quantity(str(text).strip())
    if q.unitless:
        raise ValueError(f"{text!r} has no unit")
    return float(q.magnitude), f"{q.units:~}"
