"""The dashboard in a real browser: served as `make dashboard` serves it, driven by headless Chromium.

Starts ``python -m solara run experiments/dashboard/app.py --host 127.0.0.1 --port PORT --production`` on a
free port, opens two browser sessions with Playwright and Debian's chromium (no browser is ever
downloaded), presses Step, Play and Pause in one and checks that its plots move while the other
session's model stays where it was. Skipped only when /usr/bin/chromium is absent
(``make browser`` installs it).
"""

from __future__ import annotations

import hashlib
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
#: How long a wait may take: generous, because a loaded 2-core machine redraws six figures slowly.
TIMEOUT_MS = 45_000

pytestmark = [pytest.mark.slow, pytest.mark.skipif(
    not CHROMIUM.exists(), reason="no /usr/bin/chromium: install it with `make browser` (Debian's chromium)"
)]


def dashboard_command(port: int) -> list[str]:
    """The command of `make dashboard` (the Makefile's recipe, with this interpreter)."""
    return [sys.executable, "-m", "solara", "run", "experiments/dashboard/app.py",
            "--host", "127.0.0.1", "--port", str(port), "--production"]


def test_command_is_the_makefiles():
    recipe = "-m solara run experiments/dashboard/app.py --host 127.0.0.1 --port $(PORT) --production"
    assert recipe in (ROOT / "Makefile").read_text()
    assert " ".join(dashboard_command(1)[1:]).replace("--port 1", "--port $(PORT)") == recipe


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The dashboard served on 127.0.0.1; stopped by its process id afterwards."""
    port = free_port()
    log_path = tmp_path_factory.mktemp("dashboard") / "server.log"
    env = {**os.environ, "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False"}  # no calls home from the test
    with open(log_path, "w") as log:
        proc = subprocess.Popen(dashboard_command(port), cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                pytest.fail(f"the dashboard exited with {proc.returncode}:\n{log_path.read_text()}")
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"the dashboard did not answer at {url} within 60 s:\n{log_path.read_text()}")
            time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def open_session(browser, url: str, problems: list[str]):
    """A new browser session (its own context: its own cookies, so its own Solara session)."""
    page = browser.new_context(viewport={"width": 1400, "height": 1600}).new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("requestfailed", lambda r: problems.append(f"request failed: {r.url}"))
    page.on("request", lambda r: None if r.url.startswith((url, "data:", "blob:")) else problems.append(
        f"request off this server (the page must work offline): {r.url}"))
    page.goto(url)
    page.get_by_role("button", name="Step").wait_for()
    page.wait_for_function("document.querySelectorAll('img').length >= 6")  # five plots and the graduates view
    return page


def week(page) -> int:
    text = page.locator(".dashboard-week").inner_text()
    match = re.fullmatch(r"Week (\d+) of \d+", text.strip())
    assert match, text
    return int(match.group(1))


def images(page) -> str:
    """A fingerprint of every figure on the page."""
    sources = page.locator("img").evaluate_all("els => els.map(e => e.src)")
    return hashlib.sha256("\n".join(sources).encode()).hexdigest()


def wait_until(condition, what: str) -> None:
    deadline = time.monotonic() + TIMEOUT_MS / 1000
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.2)


def settled_week(page, quiet_s: float = 5.0) -> int:
    """The week shown once it has stayed the same for ``quiet_s`` seconds (several redraws of a
    week, even on a loaded machine; the test checks again later that it has not moved)."""
    deadline = time.monotonic() + TIMEOUT_MS / 1000
    shown, since = week(page), time.monotonic()
    while time.monotonic() - since < quiet_s:
        if time.monotonic() > deadline:
            pytest.fail(f"the week shown kept changing after Pause (now {shown})")
        time.sleep(0.25)
        now = week(page)
        if now != shown:
            shown, since = now, time.monotonic()
    return shown


def test_step_play_pause_and_separate_sessions(server):
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=TIMEOUT_MS)
    problems: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            a = open_session(browser, server, problems)
            assert week(a) == 0
            expect(a.get_by_text("Support after the course")).to_be_visible()  # the controls, in plain words
            before = images(a)

            a.get_by_role("button", name="Step").click()
            expect(a.locator(".dashboard-week")).to_have_text(re.compile(r"Week 1 of"))
            expect(a.get_by_text("Time: 1.0")).to_be_visible()  # Mesa's own step counter agrees
            wait_until(lambda: images(a) != before, "the figures to be redrawn after Step")

            a.get_by_role("button", name="▶").click()  # Play
            expect(a.locator(".dashboard-week")).to_have_text(re.compile(r"Week ([2-9]|\d\d+) of"))
            a.get_by_role("button", name="❚❚").click()  # Pause
            expect(a.get_by_role("button", name="▶")).to_be_visible()
            expect(a.get_by_role("button", name="Step")).to_be_enabled()
            paused_at = settled_week(a)  # a week already under way when Pause came is still drawn
            assert paused_at >= 2

            # A second session opened now gets a new model at week 0 (one model shared by every
            # session would show week `paused_at` here) ...
            b = open_session(browser, server, problems)
            assert week(b) == 0
            expect(b.get_by_text("Time: 0.0")).to_be_visible()
            b.get_by_role("button", name="Step").click()
            expect(b.locator(".dashboard-week")).to_have_text(re.compile(r"Week 1 of"))
            # ... and stepping it did not advance the first one's model: one more Step there
            # is one more week (a shared model would now be two weeks on).
            assert week(a) == paused_at, "the first session went on after Pause"
            a.get_by_role("button", name="Step").click()
            expect(a.locator(".dashboard-week")).to_have_text(re.compile(rf"Week {paused_at + 1} of"))
            expect(a.get_by_text(f"Time: {paused_at + 1}.0")).to_be_visible()
            assert week(b) == 1
        finally:
            browser.close()
    assert not problems, "\n".join(problems)
