"""Browser fixtures: the dashboard served by streamlit on a free port, and Debian's headless Chromium
driven by Playwright (never `playwright install`: the browser is /usr/bin/chromium, from apt)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = Path(os.environ.get("OSTEOQSP_CHROMIUM", "/usr/bin/chromium"))  # Debian's, from apt
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "out" / "screenshots"
APP = Path(__file__).resolve().parents[2] / "src" / "osteoqsp" / "shells" / "app.py"
WAIT_MS = 180_000  # the first simulation on a cold cache compiles the model


def _need_browser() -> None:
    if not CHROMIUM.exists():
        pytest.skip(f"chromium not found at {CHROMIUM}: apt-get install chromium (make test tries it), "
                    "or point OSTEOQSP_CHROMIUM at one")
    pytest.importorskip("playwright", reason="playwright not installed: pip install -e '.[test]'")


@pytest.fixture(scope="session")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """A persistent Chromium context with a fresh profile (its own temporary user-data dir)."""
    _need_browser()
    from playwright.sync_api import sync_playwright

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")), executable_path=str(CHROMIUM), headless=True,
            args=CHROMIUM_ARGS, viewport={"width": 1440, "height": 1600}, accept_downloads=True)
        try:
            yield context
        finally:
            context.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def app_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`streamlit run app.py` headless on 127.0.0.1:<free port>, after one direct simulation (warm cache);
    the server and its children are killed at teardown."""
    _need_browser()
    pytest.importorskip("streamlit", reason="streamlit not installed: pip install -e '.[app]'")
    from osteoqsp.runs.library import load_scenario
    from osteoqsp.runs.simulation import simulate

    simulate(load_scenario("knapen2013-mk7"))  # compiles (or loads) the numba kernel before the browser waits on it
    port = _free_port()
    log = tmp_path_factory.mktemp("streamlit") / "server.log"
    cmd = [sys.executable, "-m", "streamlit", "run", str(APP), "--server.headless", "true",
           "--browser.gatherUsageStats", "false", "--server.address", "127.0.0.1", "--server.port", str(port),
           "--server.fileWatcherType", "none", "--client.toolbarMode", "minimal"]
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                    if r.read().strip() == b"ok":
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"streamlit did not start (exit {proc.poll()}):\n{log.read_text()[-3000:]}")
            time.sleep(0.3)
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def wait_idle(page: object, timeout: int = WAIT_MS) -> None:
    """Until the script has finished its run: key numbers or an error shown, and the app not running."""
    page.wait_for_selector("[data-testid='stMetric'], [data-testid='stAlertContentError']",  # type: ignore[attr-defined]
                           timeout=timeout)
    page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']",  # type: ignore[attr-defined]
                           state="attached", timeout=timeout)


@pytest.fixture()
def dashboard(browser: object, app_url: str) -> Iterator[object]:
    page = browser.new_page()  # type: ignore[attr-defined]
    page.set_default_timeout(WAIT_MS)
    page.goto(app_url)
    wait_idle(page)
    try:
        yield page
    finally:
        page.close()
