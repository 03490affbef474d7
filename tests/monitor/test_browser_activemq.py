"""The monitor console in a real browser: headless Chromium (Debian's ``chromium`` and
``chromium-driver``, driven by Selenium; nothing downloaded) against ``serve`` and
``simulate-gc`` processes on the suite's real ActiveMQ.

The page loads and shows agent 1001 logged in; after ``ChangeReadyState`` the row turns
READY by itself (the page is never reloaded: the load marker stays the same); an inbound
call placed through the simulator's control queue shows ringing in the agent's detail.
The time from the command to READY on screen is written to build/ as a figure (the
console batches changes every 0.25 s); a screenshot is kept as build/monitor-console.png.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import stomp

from .util import ROOT, TOKEN, Gateway, invoke, login, serve, wait_ready

pytestmark = pytest.mark.broker
CHROMIUM, DRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
BUILD = ROOT / "build"
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--window-size=1440,900")


@pytest.fixture
def browser() -> Iterator[Any]:
    assert Path(CHROMIUM).exists() and Path(DRIVER).exists(), \
        "Debian's chromium and chromium-driver are needed (tools/test installs them)"
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    os.environ.setdefault("SE_OFFLINE", "true")  # Selenium Manager must not download
    profile = tempfile.mkdtemp(prefix="monitor-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def wait_for(driver: Any, what: str, check: Any, timeout: float = 15) -> Any:
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout, poll_frequency=0.02,
                         ignored_exceptions=(StaleElementReferenceException,)).until(
        check, message=f"the page did not show {what}")


def cell(driver: Any, agent: str, column: str) -> str:
    from selenium.webdriver.common.by import By

    found = driver.find_elements(By.CSS_SELECTOR, f'tr[data-agent="{agent}"] td.{column}')
    return str(found[0].text) if found else ""


def test_ten_thousand_agents_page_filter_and_count(browser: Any, tmp_path: Path) -> None:
    """The table pages: 10,000 agents give 50 rows of DOM, a filter finds one agent, the
    chips count per state (a made-up source; the page and the server are the real ones)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    from ..netutil import free_port, wait_listening

    port = free_port()
    log = tmp_path / "fake.log"
    p = subprocess.Popen([sys.executable, "-m", "tests.monitor.fake_monitor", str(port),
                          "10000"], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=log.open("wb"))
    try:
        wait_listening(p, port, log)
        t0 = time.monotonic()
        browser.get(f"http://127.0.0.1:{port}/")
        wait_for(browser, "10,000 agents", lambda d: "of 10000" in d.find_element(
            By.ID, "page").text)
        print(f"monitor console: 10,000 agents on screen in "
              f"{(time.monotonic() - t0) * 1000:.0f} ms")
        assert len(browser.find_elements(By.CSS_SELECTOR, "#agents tbody tr")) == 50
        chips = {c.get_attribute("data-state"): c.text
                 for c in browser.find_elements(By.CSS_SELECTOR, "#counts .chip")}
        assert set(chips) == {"READY", "NOT_READY", "TALKING", "WORK", "RESERVED"}
        box = browser.find_element(By.ID, "filter")
        box.send_keys("01234")
        wait_for(browser, "one agent for the filter", lambda d: [
            r.get_attribute("data-agent")
            for r in d.find_elements(By.CSS_SELECTOR, "#agents tbody tr")] == ["01234"])
        box.send_keys(Keys.BACKSPACE * 5)
        wait_for(browser, "the filter cleared", lambda d: "of 10000" in d.find_element(
            By.ID, "page").text)
        browser.find_element(By.CSS_SELECTOR, '#counts .chip[data-state="TALKING"]').click()
        wait_for(browser, "only TALKING rows", lambda d: {
            e.text for e in d.find_elements(By.CSS_SELECTOR, "#agents td.state")} == {"TALKING"})
    finally:
        p.terminate()
        p.wait(timeout=20)


def test_console_shows_agents_live_in_chromium(browser: Any, broker_stomp: tuple[str, int],
                                               tmp_path: Path) -> None:

    host, port = broker_stomp
    queue = f"GC{uuid.uuid4().hex[:8]}"
    sim = subprocess.Popen([sys.executable, "-m", "siebel_gateway.cli", "simulate-gc",
                            "--broker", f"stomp://{host}:{port}", "--queue", queue,
                            "--flavour", "ucce", "--ring-timeout", "60"], cwd=ROOT,
                           stdout=subprocess.DEVNULL,
                           stderr=(tmp_path / "sim.log").open("wb"))
    try:
        with serve(tmp_path, broker=f"failover:(stomp://{host}:{port})", queue=queue,
                   monitor_extra='AdminTokenEnv = "GW_ADMIN_TOKEN"\n',
                   env={"GW_ADMIN_TOKEN": TOKEN}) as gw:
            run_console(browser, gw, host, port, queue)
    finally:
        sim.terminate()
        sim.wait(timeout=20)


def run_console(driver: Any, gw: Gateway, host: str, port: int, queue: str) -> None:
    from selenium.webdriver.common.by import By as by  # noqa: N813

    wait_ready(gw.http)
    c, other = gw.client(), gw.client()
    service = login(c, "1001", "2001")
    login(other, "1002", "2002")
    driver.get(gw.http.base + "/")
    wait_for(driver, "agent 1001 logged in (NOT_READY)",
             lambda d: cell(d, "1001", "state") == "NOT_READY")
    loaded = driver.execute_script("return window.monitorLoadedAt")
    assert driver.find_element(by.ID, "ready").text == "READY"
    assert "in service" in driver.find_element(by.CSS_SELECTOR, "#card-gc .value").text

    t0 = time.monotonic()
    assert invoke(c, service, "ChangeReadyState") == {"code": 0}
    wait_for(driver, "agent 1001 becoming READY", lambda d: cell(d, "1001", "state") == "READY")
    elapsed = time.monotonic() - t0
    assert driver.execute_script("return window.monitorLoadedAt") == loaded, "page reloaded"
    BUILD.mkdir(exist_ok=True)
    (BUILD / "monitor-browser-timing.txt").write_text(
        f"command accepted -> READY on screen: {elapsed * 1000:.0f} ms\n")
    print(f"monitor console: command -> READY on screen in {elapsed * 1000:.0f} ms")

    driver.find_element(by.CSS_SELECTOR, 'tr[data-agent="1001"]').click()
    conn = stomp.Connection12([(host, port)], auto_content_length=False)
    conn.connect(wait=True)
    conn.send(f"/queue/{queue}.sim-control", json.dumps(
        {"action": "inbound-call", "agent": "1001", "ani": "4155550100",
         "dnis": "8005550100"}))
    conn.disconnect()
    ring = c.wait_event("EventRinging")
    wait_for(driver, "the ringing call in the agent's detail", lambda d: any(
        e.text == "ALERTING" for e in d.find_elements(by.CSS_SELECTOR, "#d-calls .call-state")))
    wait_for(driver, "one call in the agent's row", lambda d: cell(d, "1001", "calls") == "1")
    tracking = driver.find_element(by.CSS_SELECTOR, "#d-calls tr[data-call]")
    assert tracking.get_attribute("data-call") == ring["trackingId"]
    timeline = driver.find_element(by.ID, "d-events").text
    assert "EventRinging" in timeline and "ChangeReadyState" in timeline
    code, one = gw.http.json("/api/agents/1001")
    assert code == 200 and one["calls"][0]["tracking_id"] == ring["trackingId"]
    assert (one["calls"][0]["type"], one["calls"][0]["state"]) == ("INBOUND", "ALERTING")
    assert one["calls"][0]["duration_seconds"] >= 0
    driver.save_screenshot(str(BUILD / "monitor-console.png"))
    assert (BUILD / "monitor-console.png").stat().st_size > 10_000
    assert driver.execute_script("return window.monitorLoadedAt") == loaded, "page reloaded"
    c.close()
    other.close()
