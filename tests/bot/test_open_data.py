"""Open data (issue 17, item 3): plan.json valid against its schema, the CSVs readable by the
csv module with the dictionary's headers, stable URLs per period and `latest`, ETag and
Last-Modified with 304s, CORS open for GET — and nothing unpublished, ever."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import jsonschema
import pytest

from bot.open_data import FILES, dictionary_markdown, schema
from bot.workspace import Workspace
from models.db import session_scope
from models.plans import active_plan_id
from models.publish import publish
from tests.helpers import ADMIN, CHIEF, own
from tests.models.test_publish import add

WHEN = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)


@pytest.fixture
async def public(database_url: str, hartford: int) -> AsyncIterator[Workspace]:
    async with Workspace(database_url, admins=(ADMIN,), public=True) as ws:
        await own(ws, "fire", CHIEF)
        await add(ws.engine, 1, "2026-09", "on_track", "September: hiring")
        await add(ws.engine, 1, "2026-10", "on_track", '=HYPERLINK("http://x") 12 recruits')
        await add(ws.engine, 2, "2026-10", "at_risk", "private: the union talks")
        await add(ws.engine, 3, "2026-11", "off_track", "November, not published")
        async with session_scope(ws.engine) as session:
            plan_id = await active_plan_id(session)
            for period, left_out in (("2026-09", []), ("2026-10", ["fire-2"])):
                await publish(
                    session, plan_id, period, by=ADMIN, now=WHEN, start_month=7, left_out=left_out
                )
        yield ws


async def test_plan_json_is_valid_and_holds_only_what_was_published(public: Workspace) -> None:
    answer = await public.http.get("/public/data/2026-10/plan.json")
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/json"
    data = answer.json()
    jsonschema.validate(data, schema(), format_checker=jsonschema.FormatChecker())
    by_id = {i["id"]: i for i in data["initiatives"]}
    assert by_id["fire-1"]["note"].endswith("12 recruits")
    assert by_id["fire-2"]["status"] == "at_risk" and by_id["fire-2"]["note"] is None
    assert "union talks" not in answer.text and "November" not in answer.text
    assert CHIEF not in answer.text and ADMIN not in answer.text
    latest = await public.http.get("/public/data/latest/plan.json")
    assert latest.json()["period"] == "2026-10"


async def test_the_csv_files_match_the_dictionary(public: Workspace) -> None:
    for name, columns in FILES.items():
        answer = await public.http.get(f"/public/data/2026-10/{name}")
        assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
        header = next(csv.reader(io.StringIO(answer.text)))
        assert header == [c.name for c in columns]
        assert "union talks" not in answer.text
    initiatives = list(
        csv.DictReader(
            io.StringIO((await public.http.get("/public/data/2026-10/initiatives.csv")).text)
        )
    )
    fire_1 = next(r for r in initiatives if r["initiative"] == "fire-1")
    assert fire_1["note"].startswith("'=HYPERLINK")  # stays text in a spreadsheet
    assert fire_1["reported_for_period"] == "true"
    updates = list(
        csv.DictReader(
            io.StringIO((await public.http.get("/public/data/2026-10/updates.csv")).text)
        )
    )
    assert [(r["period"], r["status"]) for r in updates if r["initiative"] == "fire-1"] == [
        ("2026-09", "on_track"),
        ("2026-10", "on_track"),
    ]


async def test_unpublished_periods_are_not_found(public: Workspace) -> None:
    for path in (
        "/public/data/2026-11/plan.json",
        "/public/data/2026-08/initiatives.csv",
        "/public/data/2026-13/plan.json",
        "/public/data/../plan.json",
        "/public/data/2026-10/secrets.csv",
    ):
        assert (await public.http.get(path)).status_code == 404, path


async def test_conditional_requests_and_cors(public: Workspace) -> None:
    first = await public.http.get(
        "/public/data/2026-10/plan.json", headers={"Origin": "https://data.hartford.gov"}
    )
    assert first.headers["access-control-allow-origin"] == "*"
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    assert modified == "Fri, 20 Nov 2026 15:00:00 GMT"
    again = await public.http.get("/public/data/2026-10/plan.json", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    since = await public.http.get(
        "/public/data/2026-10/plan.json", headers={"If-Modified-Since": modified}
    )
    assert since.status_code == 304
    other = await public.http.get("/public/data/2026-09/plan.json", headers={"If-None-Match": etag})
    assert other.status_code == 200 and other.headers["etag"] != etag
    head = await public.http.head("/public/data/2026-10/plan.json")
    assert head.status_code == 200 and head.content == b""
    assert int(head.headers["content-length"]) == len(first.content)
    preflight = await public.http.options(
        "/public/data/2026-10/plan.json",
        headers={"Origin": "https://x.example", "Access-Control-Request-Method": "GET"},
    )
    assert (
        preflight.status_code == 204 and "GET" in preflight.headers["access-control-allow-methods"]
    )


async def test_the_schema_is_served_and_matches_the_docs(public: Workspace) -> None:
    served = await public.http.get("/public/data/plan.schema.json")
    assert served.status_code == 200 and served.json() == schema()
    docs = Path(__file__).parents[2] / "docs" / "open-data" / "plan.schema.json"
    assert json.loads(docs.read_text()) == schema()


async def test_nothing_is_served_when_the_site_is_off(database_url: str, hartford: int) -> None:
    async with Workspace(database_url, admins=(ADMIN,)) as ws:
        assert (await ws.http.get("/public/data/latest/plan.json")).status_code == 404


def test_the_docs_dictionary_is_the_one_the_files_use() -> None:
    docs = (Path(__file__).parents[2] / "docs" / "open-data.md").read_text()
    assert dictionary_markdown() in docs
