"""The dashboard in headless Chromium: it loads, a dose change moves the BMD figure, a therapy chosen in the
selector raises BMD and draws its drug, a bad value shows the scenario validation's message, the limits show
theirs, and the downloaded scenario runs in the CLI."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace

import pytest
import yaml

from osteoqsp.runs.library import scenario_data
from osteoqsp.shells.app_figures import KEY_NUMBERS
from osteoqsp.shells.app_inputs import MAX_SUBJECTS, build_scenario, inputs_from_scenario
from osteoqsp.analyses.evidence import validation_spec
from osteoqsp.runs.scenario import Scenario, ScenarioError

from .conftest import SCREENSHOTS, wait_idle

LUMBAR = "lumbar spine BMD change at end (%)"


def metric(page, label: str) -> str:  # noqa: ANN001
    return page.locator("[data-testid='stMetric']").filter(has_text=label) \
        .locator("[data-testid='stMetricValue']").inner_text()


def shot(page, name: str) -> None:  # noqa: ANN001
    page.wait_for_timeout(600)  # the tab underline slides
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


def image_ok(page, alt: str) -> str:  # noqa: ANN001
    """The figure's src, after checking it rendered (naturalWidth > 0)."""
    img = page.get_by_alt_text(alt)
    img.wait_for(state="visible")
    assert img.evaluate("e => e.complete && e.naturalWidth > 0"), f"{alt} did not render"
    return str(img.get_attribute("src"))


def set_number(page, label: str, value: float) -> None:  # noqa: ANN001
    box = page.get_by_label(label, exact=True)
    box.fill(str(value))
    box.press("Enter")


def test_page_loads(dashboard):
    page = dashboard
    assert page.get_by_role("heading", name="osteoqsp: bone under vitamin K2 (MK-7)").is_visible()
    assert page.locator("[data-testid='stException']").count() == 0
    assert page.locator("[data-testid='stMetric']").count() == len(KEY_NUMBERS["human"])
    assert metric(page, LUMBAR).endswith("%")
    for tab in ("Serum vitamers", "Carboxylation and INR", "Bone cells and markers", "BMD", "Fracture risk"):
        page.get_by_role("tab", name=tab).click()
        image_ok(page, f"{tab} figure")
    page.get_by_role("tab", name="Evidence").click()
    mapped = [x["target"] for x in validation_spec() if x["scenario"] == "knapen2013-mk7" and not x.get("parameters")]
    rows = page.locator("[data-testid='stTable'] tbody tr")
    assert rows.count() == len(mapped) > 0 and rows.first.is_visible()
    shot(page, "evidence")
    page.get_by_role("tab", name="Carboxylation and INR").click()
    shot(page, "dashboard")


def test_dose_change_updates_bmd(dashboard):
    page = dashboard
    page.get_by_role("tab", name="BMD").click()
    before, src = metric(page, LUMBAR), image_ok(page, "BMD figure")
    set_number(page, "MK-7 dose (µg/day)", 1000)
    page.wait_for_function(
        """([label, old]) => [...document.querySelectorAll("[data-testid='stMetric']")]
             .some(m => m.innerText.includes(label) && !m.innerText.includes(old))""", arg=[LUMBAR, before])
    wait_idle(page)
    after = metric(page, LUMBAR)
    assert after != before and float(after.rstrip(" %")) > float(before.rstrip(" %"))  # less loss on more MK-7
    page.get_by_role("tab", name="BMD").click()
    assert image_ok(page, "BMD figure") != src
    assert page.get_by_text("knapen2013-mk7-modified").first.is_visible()
    shot(page, "dose-1000ug")


def test_therapy_selector_adds_the_drug(dashboard):
    page = dashboard
    before = metric(page, LUMBAR)
    page.get_by_test_id("stSelectbox").filter(has_text="Osteoporosis therapy").click()
    page.get_by_role("option", name="alendronate").click()
    page.wait_for_function(
        """([label, old]) => [...document.querySelectorAll("[data-testid='stMetric']")]
             .some(m => m.innerText.includes(label) && !m.innerText.includes(old))""", arg=[LUMBAR, before])
    wait_idle(page)
    assert float(metric(page, LUMBAR).rstrip(" %")) > float(before.rstrip(" %"))  # less loss on alendronate
    page.get_by_role("tab", name="Mineral axis and drugs").click()
    image_ok(page, "Mineral axis and drugs figure")
    shot(page, "therapy-alendronate")


def test_bad_value_shows_the_scenario_message(dashboard):
    page = dashboard
    set_number(page, "MK-7 dose (µg/day)", 200000)
    error = page.locator("[data-testid='stAlertContentError']")
    error.wait_for()
    wait_idle(page)
    data = build_scenario(replace(inputs_from_scenario(scenario_data("knapen2013-mk7"), "knapen2013-mk7"),
                                  dose_ug=200000.0))
    with pytest.raises(ScenarioError) as info:
        Scenario.from_dict(data, source="dashboard")
    assert "absurd" in str(info.value) and str(info.value) in error.inner_text()
    assert page.locator("[data-testid='stMetric']").count() == 0
    shot(page, "bad-dose")


def test_population_bands_and_its_limit(dashboard):
    page = dashboard
    page.get_by_text("Simulate a virtual population").click()
    set_number(page, f"Subjects (at most {MAX_SUBJECTS})", 5)
    page.get_by_text("population of 5 subjects").wait_for()
    wait_idle(page)
    page.get_by_role("tab", name="BMD").click()
    image_ok(page, "BMD figure")
    shot(page, "population-5")
    set_number(page, f"Subjects (at most {MAX_SUBJECTS})", 500)
    page.get_by_text(f"at most {MAX_SUBJECTS} subjects").wait_for()
    wait_idle(page)
    shot(page, "population-limit")
    set_number(page, f"Subjects (at most {MAX_SUBJECTS})", 5)
    set_number(page, "Duration", 30)
    page.get_by_text("at most 10 years for a human").wait_for()


def test_download_runs_in_the_cli(dashboard, tmp_path):
    page = dashboard
    page.get_by_role("tab", name="Downloads").click()
    with page.expect_download() as info:
        page.get_by_role("button", name="Scenario (YAML)").click()
    path = tmp_path / "scenario.yaml"
    info.value.save_as(path)
    data = yaml.safe_load(path.read_text())
    assert data["name"] == "knapen2013-mk7" and data["intake"][0]["dose"] == "180 ug"
    assert Scenario.from_yaml(path) is not None
    with page.expect_download() as info:
        page.get_by_role("button", name="Results (CSV, time course of the typical subject)").click()
    csv = tmp_path / "timecourse.csv"
    info.value.save_as(csv)
    assert csv.read_text().startswith("time_day,mk7_serum")
    run = subprocess.run([sys.executable, "-m", "osteoqsp.shells.cli", "simulate", str(path), "-o", str(tmp_path / "out")],
                         capture_output=True, text=True, timeout=300, check=False)
    assert run.returncode == 0, run.stderr
    assert (tmp_path / "out" / "timecourse.csv").exists()
