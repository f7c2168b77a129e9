"""End to end: `mstad dashboard` on loopback, driven in a real Chromium by Playwright.

Uses Debian's ``chromium`` (``.ci/run`` installs it; Playwright never downloads a browser here).
Set ``MSTAD_SCREENSHOT=path.png`` to keep the screenshot (the README's comes from this test).
"""

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="no chromium on PATH (apt-get install -y chromium; set CHROMIUM=…)"
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def dashboard(mscred_run, zscore_run):
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "mstad",
        "dashboard",
        str(mscred_run),
        str(zscore_run),
        "--port",
        str(port),
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as reply:
                    if reply.read() == b"ok":
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                output = process.stdout.read().decode(errors="replace") if process.stdout else ""
                pytest.fail(f"dashboard did not come up on {url}:\n{output[-2000:]}")
            time.sleep(0.5)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=20)


def type_threshold(page, value: str, condition: str) -> str:
    """Type ``value`` as the threshold and wait until the alarm-steps metric meets the JS
    ``condition`` (on ``m``, the metric element); return that metric's text."""
    typed = page.get_by_label("typed value")
    typed.fill(value)
    typed.press("Enter")
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-testid=stMetric]')]"
        f".some(m => m.innerText.includes('alarm steps') && {condition})",
        timeout=60_000,
    )
    alarms = page.locator('[data-testid="stMetric"]').filter(has_text="alarm steps")
    return alarms.inner_text()


def test_dashboard_in_chromium_shows_score_threshold_heatmap_and_metrics(dashboard, tmp_path):
    shot = Path(os.environ.get("MSTAD_SCREENSHOT") or tmp_path / "dashboard.png")
    args = [
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--no-first-run",
    ]
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=args)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 2600})
            page.goto(dashboard, wait_until="domcontentloaded")
            page.get_by_text("mstad dashboard", exact=True).wait_for(timeout=90_000)
            page.get_by_text("Where — heatmap").wait_for(timeout=90_000)
            page.locator(".js-plotly-plot").nth(2).wait_for(timeout=90_000)  # score, sensors, map
            page.wait_for_timeout(1500)  # let plotly finish drawing before the screenshot
            text = page.inner_text("body")
            page.screenshot(path=str(shot), full_page=True)
            # type a threshold far above the bounded scale: no alarm; then a low one: alarms
            none = type_threshold(page, "1000000", "/\\n0$/.test(m.innerText)")
            many = type_threshold(page, "0.01", "!/\\n0$/.test(m.innerText)")
        finally:
            browser.close()
    for visible in (
        "precision",
        "recall",
        "F1",
        "use validation threshold",
        "typed value",
        "fitted on validation",
        "residual matrix",
        "Which sensors",
        "mscred",
    ):
        assert visible in text, f"{visible!r} not visible on the page"
    assert "Traceback" not in text
    assert none.split()[-1] == "0" and int(many.split()[-1]) > 0, (none, many)
    assert shot.stat().st_size > 50_000  # a rendered page, not a blank one


def _metric(page, label: str) -> str:
    return page.locator('[data-testid="stMetric"]').filter(has_text=label).first.inner_text()


def _wait_changed(page, label: str, before: str, timeout: float = 60.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        now = _metric(page, label)
        if now != before:
            return now
        page.wait_for_timeout(250)
    return _metric(page, label)


def _choose(page, box_label: str, option: str) -> None:
    box = page.locator('[data-testid="stSelectbox"]').filter(has_text=box_label).first
    box.click()
    page.get_by_role("option").filter(has_text=option).first.click()


def test_dashboard_interactions_in_chromium(dashboard, mscred_run, zscore_run):
    """Drag the threshold, click the score curve, switch entity and run: the numbers follow."""
    args = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=args)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 2600})
            page.goto(dashboard, wait_until="domcontentloaded")
            page.get_by_text("Where — heatmap").wait_for(timeout=90_000)
            page.locator(".js-plotly-plot").first.wait_for(timeout=90_000)
            page.wait_for_timeout(1500)
            # drag the slider thumb far to the left: more alarms
            alarms = _metric(page, "alarm steps")
            thumb = page.get_by_role("slider").first
            box = thumb.bounding_box()
            page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
            page.mouse.down()
            page.mouse.move(box["x"] - 600, box["y"] + box["height"] / 2, steps=12)
            page.mouse.up()
            dragged = _wait_changed(page, "alarm steps", alarms)
            # click the score curve: the heatmap's time step follows the click
            step = page.get_by_label("time step (or click the score curve)")
            before_step = step.input_value()
            plot = page.locator(".js-plotly-plot").first.locator(".nsewdrag").first
            area = plot.bounding_box()
            for fraction in (0.3, 0.55, 0.8):
                page.mouse.click(
                    area["x"] + fraction * area["width"], area["y"] + 0.9 * area["height"]
                )
                page.wait_for_timeout(1500)
                if step.input_value() != before_step:
                    break
            clicked_step = step.input_value()
            # switch to the zscore run, then to its other entity
            _choose(page, "run", zscore_run.name)
            page.get_by_text("When — synthetic-").first.wait_for(timeout=90_000)
            first = page.get_by_text("When — synthetic-").first.inner_text()
            other = "synthetic-1" if first.endswith("0") else "synthetic-0"
            _choose(page, "entity", other)
            page.get_by_text(f"When — {other}").wait_for(timeout=90_000)
            text = page.inner_text("body")
        finally:
            browser.close()
    assert int(dragged.split()[-1]) > int(alarms.split()[-1]), (alarms, dragged)
    assert clicked_step != before_step, "clicking the score curve did not move the heatmap step"
    assert "zscore" in text and f"When — {other}" in text and "Traceback" not in text
