"""Evidence: the packaged targets of the cited studies, and `validate`: observed against simulated.

`targets.csv` is the package's copy of shared/evidence/targets.csv (target id = 1-based row number).
`validation.yaml` says, for each target the model can be compared with, which scenario reproduces it and
how the simulated number is read. Each comparison is inside or outside the target's interval: its
reported dispersion (SD: value +/- SD; 95 % CI or range: the bounds), or +/- 25 % where none is given.

Modules: `tables` (the packaged tables and intervals), `runs` (the simulations, cached under a frozen
`RunKey`), `measures` (the registry of measure kinds: value and curve of each), `comparisons` (`validate`,
`check_constraints`), `figures` (`overview_figure`, `study_figures`).
"""

from __future__ import annotations

from osteoqsp.analyses.evidence.comparisons import Comparison, check_constraints, validate
from osteoqsp.analyses.evidence.figures import overview_figure, study_figures
from osteoqsp.analyses.evidence.measures import MEASURES, Curve, Measure, measure, measure_of
from osteoqsp.analyses.evidence.runs import RunKey, species_of
from osteoqsp.analyses.evidence.tables import DEFAULT_BAND, constraints, interval, targets, validation_spec

__all__ = ["DEFAULT_BAND", "MEASURES", "Comparison", "Curve", "Measure", "RunKey", "check_constraints", "constraints",
           "interval", "measure", "measure_of", "overview_figure", "species_of", "study_figures", "targets", "validate",
           "validation_spec"]
