"""The model pages in docs/model are generated from the declaration and must match it."""

from __future__ import annotations

from pathlib import Path

from osteoqsp.shells.docs import pages

DOCS = Path(__file__).resolve().parents[1] / "docs" / "model"


def test_model_pages_are_current():
    for name, text in pages().items():
        path = DOCS / name
        assert path.exists(), f"{path} missing: run python -m osteoqsp.shells.docs docs/model"
        assert path.read_text() == (text if text.endswith("\n") else text + "\n"), (
            f"{path} is stale: run python -m osteoqsp.shells.docs docs/model")


def test_every_parameter_and_state_is_on_a_page():
    from osteoqsp.model import build_model

    for species in ("human", "rat"):
        text = "".join(t for n, t in pages().items() if n.startswith(species))
        model = build_model(species)
        for name in list(model.parameters) + model.state_names + model.observable_names:
            assert f"`{name}`" in text, name
