"""The public site (issue 17, item 2): each kind of page served from a published snapshot only,
escaped, cached with ETags, a 404 for anything unpublished — and, in a real headless Chromium,
accessible: axe-core finds no serious or critical violation, the skip link is the first stop of
the keyboard. The home page's screenshot is docs/public-home.png."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from bot.workspace import Workspace
from models.db import session_scope
from models.measurefile import SAMPLE_MEASURES, read_measure_file
from models.measures import load_measures
from models.plans import active_plan_id
from models.publish import publish
from models.samples import add_sample_actuals, add_sample_updates
from tests.helpers import ADMIN, CHIEF, own
from tests.models.test_publish import add

WHEN = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
HOSTILE = '<script>alert("x")</script> & <b>bold</b>'
PAGES = (
    "/public/",
    "/public/2026-10/",
    "/public/2026-10/goals/safety",
    "/public/2026-10/departments/fire",
    "/public/2026-10/initiatives/fire-1",
    "/public/data/",
)
CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
SCREENSHOT = Path(__file__).parents[2] / "docs" / "public-home.png"
# The README's screenshot is written again only when asked (or missing), so that an ordinary
# run leaves no changed PNG behind; every run takes one to check the page renders.
UPDATE_SCREENSHOT = bool(os.environ.get("PLANBOT_UPDATE_SCREENSHOT")) or not SCREENSHOT.exists()


@pytest.fixture
async def site(database_url: str, hartford: int) -> AsyncIterator[Workspace]:
    async with Workspace(database_url, admins=(ADMIN,), public=True) as ws:
        await own(ws, "fire", CHIEF)
        await add(ws.engine, 1, "2026-09", "at_risk", "September: hiring slowed")
        await add(ws.engine, 1, "2026-10", "on_track", HOSTILE)
        await add(ws.engine, 2, "2026-10", "off_track", "private: the union talks")
        await add(ws.engine, 3, "2026-10", "complete", "roof repaired")
        async with session_scope(ws.engine) as session:
            plan_id = await active_plan_id(session)
            for period, left_out in (("2026-09", []), ("2026-10", ["fire-2"])):
                await publish(
                    session, plan_id, period, by=ADMIN, now=WHEN, start_month=7, left_out=left_out
                )
        yield ws


async def test_every_kind_of_page_is_served_escaped(site: Workspace) -> None:
    for path in PAGES:
        page = await site.http.get(path)
        assert page.status_code == 200, path
        assert page.headers["content-type"] == "text/html; charset=utf-8"
        assert '<html lang="en">' in page.text and "<main" in page.text
        assert "<script" not in page.text, path  # no JavaScript, and a note cannot add any
        assert "private: the union talks" not in page.text, path  # left out when published
        assert CHIEF not in page.text and ADMIN not in page.text
    initiative = (await site.http.get("/public/2026-10/initiatives/fire-1")).text
    assert (
        "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;"
        in initiative
    )
    # Its published history: September's status and note, then October's.
    assert "September: hiring slowed" in initiative and "September 2026" in initiative
    assert "the department lead" in initiative
    home = (await site.http.get("/public/2026-10/")).text
    assert 'role="img"' in home and '<table class="counts">' in home
    assert '/public/2026-09/"' in home  # the earlier published period is one click away
    css = await site.http.get("/public/static/site.css")
    assert css.status_code == 200 and "@media print" in css.text


async def test_what_is_not_published_is_not_found(site: Workspace) -> None:
    for path in (
        "/public/2026-11/",
        "/public/2026-08/goals/safety",
        "/public/2026-10/goals/nowhere",
        "/public/2026-10/departments/nowhere",
        "/public/2026-10/initiatives/fire-99",
        "/public/not-a-period/",
    ):
        page = await site.http.get(path)
        assert page.status_code == 404, path
        assert '<html lang="en">' in page.text


async def test_a_month_typed_without_its_slash_is_found(site: Workspace) -> None:
    moved = await site.http.get("/public/2026-10")
    assert moved.status_code == 308 and moved.headers["location"] == "/public/2026-10/"
    assert (await site.http.get("/public/2026-13")).status_code == 404


async def test_pages_are_cached_by_etag(site: Workspace) -> None:
    first = await site.http.get("/public/2026-10/goals/safety")
    again = await site.http.get(
        "/public/2026-10/goals/safety", headers={"If-None-Match": first.headers["etag"]}
    )
    assert again.status_code == 304
    assert first.headers["last-modified"] == "Fri, 20 Nov 2026 15:00:00 GMT"


async def test_nothing_published_yet(database_url: str, hartford: int) -> None:
    async with Workspace(database_url, admins=(ADMIN,), public=True) as ws:
        home = await ws.http.get("/public/")
        assert home.status_code == 200 and "Nothing is published yet" in home.text
        assert (await ws.http.get("/public/2026-10/")).status_code == 404


# --- in a real browser -----------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def chromium(tmp: Path) -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1280,900",
        f"--user-data-dir={tmp}",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def _check_pages(base: str, tmp: Path, shot: Path) -> dict[str, list[dict[str, Any]]]:
    from axe_selenium_python import Axe
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    found: dict[str, list[dict[str, Any]]] = {}
    with chromium(tmp) as driver:
        for path in PAGES:
            driver.get(base + path)
            assert driver.find_element(By.TAG_NAME, "h1").text, path
            axe = Axe(driver)
            axe.inject()
            results = axe.run()
            found[path] = [
                v for v in results["violations"] if v.get("impact") in ("serious", "critical")
            ]
        # The keyboard: the first Tab reaches the skip link, which moves focus to the content.
        driver.get(base + "/public/2026-10/")
        driver.find_element(By.TAG_NAME, "body").send_keys(Keys.TAB)
        active = driver.switch_to.active_element
        assert active.get_attribute("class") == "skip" and active.is_displayed()
        active.send_keys(Keys.ENTER)
        assert driver.switch_to.active_element.get_attribute("id") == "main"
        driver.get(base + "/public/")
        assert driver.save_screenshot(str(shot))
    return found


@pytest.fixture
async def sampled(database_url: str, hartford: int) -> AsyncIterator[Workspace]:
    """Three months of sample updates and the sample measures, October published: a site that
    looks like a city's (and the README's screenshot)."""
    async with Workspace(database_url, admins=(ADMIN,), public=True) as ws:
        async with session_scope(ws.engine) as session:
            plan_id = await active_plan_id(session)
            await add_sample_updates(session, plan_id, "2026-08", 3, now=WHEN)
            await load_measures(
                session,
                plan_id,
                read_measure_file(SAMPLE_MEASURES).measures,
                source=SAMPLE_MEASURES.name,
                sample=True,
            )
            await add_sample_actuals(session, plan_id, "2026-08", 3, start_month=7, now=WHEN)
        async with session_scope(ws.engine) as session:
            await publish(session, plan_id, "2026-09", by=ADMIN, now=WHEN, start_month=7)
            await publish(session, plan_id, "2026-10", by=ADMIN, now=WHEN, start_month=7)
        yield ws


@pytest.mark.browser
async def test_the_pages_in_chromium_are_accessible(sampled: Workspace, tmp_path: Path) -> None:
    site = sampled
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()) or shutil.which("chromium") is None:
        pytest.skip("chromium and chromium-driver are not installed (apt-get install both)")
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(site.asgi, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    serving = asyncio.create_task(server.serve())
    try:
        while not server.started:
            await asyncio.sleep(0.05)
        shot = SCREENSHOT if UPDATE_SCREENSHOT else tmp_path / "home.png"
        found = await asyncio.to_thread(_check_pages, f"http://127.0.0.1:{port}", tmp_path, shot)
    finally:
        server.should_exit = True
        await serving
    serious = {
        path: [(v["id"], v["impact"], v["help"], len(v["nodes"])) for v in violations]
        for path, violations in found.items()
        if violations
    }
    assert serious == {}, serious
    assert shot.stat().st_size > 10_000
