"""`osteoqsp report DIR` opened in headless Chromium: every embedded figure decodes and renders."""

from __future__ import annotations

from osteoqsp.shells.cli import main

from .conftest import SCREENSHOTS


def test_report_figures_render(browser, tmp_path):
    out = tmp_path / "sim"
    assert main(["simulate", "sato2012-mk7-single", "-o", str(out)]) == 0
    assert main(["report", str(out)]) == 0
    page = browser.new_page()
    try:
        page.goto((out / "report.html").as_uri())
        page.wait_for_load_state("load")
        images = page.locator("figure img")
        assert images.count() == len(list((out / "figures").glob("*.png"))) >= 4
        sizes = images.evaluate_all("imgs => imgs.map(i => [i.complete, i.naturalWidth, i.naturalHeight])")
        assert all(done and w > 0 and h > 0 for done, w, h in sizes), sizes
        assert page.get_by_role("heading", name="Key numbers").is_visible()
        page.screenshot(path=str(SCREENSHOTS / "report.png"), full_page=True)
    finally:
        page.close()
