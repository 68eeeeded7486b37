"""The packaged food table (foods.csv): the vitamer content of each food, with its reference."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources


@dataclass(frozen=True)
class Food:
    name: str
    vitamer: str  # the agent a serving doses (K1, MK-4, MK-7)
    content_ug_per_100g: float
    relative_bioavailability: float
    reference: str

    def dose_ug(self, grams: float) -> float:
        """The agent dose, in ug, of a serving of `grams`, bioavailability relative to a supplement included."""
        return grams * self.content_ug_per_100g / 100.0 * self.relative_bioavailability


@lru_cache(maxsize=1)
def food_table() -> dict[str, Food]:
    text = resources.files("osteoqsp.model").joinpath("foods.csv").read_text()
    return {r["food"]: Food(r["food"], r["vitamer"], float(r["content_ug_per_100g"]),
                            float(r["relative_bioavailability"]), r["reference"])
            for r in csv.DictReader(text.splitlines())}
