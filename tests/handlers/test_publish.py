"""`/plan publish` (issue 17, item 1): an admin sees what would become public — counts by
status and every note — leaves notes out one by one, and confirms; a period is published once,
only after it closed, and a note that arrives during the review is never published unseen."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.workspace import Workspace
from handlers.messages.publish import (
    NOTES_PER_PAGE,
    PublishMetadata,
    left_out_on_page,
    render_preview,
)
from models.publish import Note
from tests.helpers import ADMIN, CHIEF, COO, own
from tests.models.test_publish import add

CLOSED = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)  # October closed on December 1 at 9:00


class Clock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


@pytest.fixture
async def city(database_url: str, hartford: int) -> AsyncIterator[tuple[Workspace, Clock]]:
    clock = Clock(CLOSED)
    async with Workspace(
        database_url, admins=(ADMIN,), now=clock, public=True, process_before_response=True
    ) as ws:
        await own(ws, "fire", CHIEF)
        await add(ws.engine, 1, "2026-10", "on_track", "12 recruits started the academy")
        await add(ws.engine, 2, "2026-10", "at_risk", "<!channel> the union talks, privately")
        await add(ws.engine, 3, "2026-10", "off_track", "roof leak")
        yield ws, clock


async def preview(ws: Workspace, text: str = "publish 2026-10") -> dict[str, Any]:
    before = len(ws.slack.calls_to("views.open"))
    reply = await ws.command(text, user=ADMIN, wait=0)
    assert reply.status == 200 and not reply.text.strip("{}"), reply.text
    opened = await ws.slack.wait_for("views.open", count=before + 1)
    view = opened[-1].args["view"]
    return json.loads(view) if isinstance(view, str) else view


def ticked(view: dict[str, Any], *, untick: tuple[str, ...] = ()) -> dict[str, Any]:
    """The modal's state as Slack sends it: every note ticked but those in `untick`."""
    values: dict[str, Any] = {}
    for block in view["blocks"]:
        if block["type"] == "input":
            keep = [] if block["block_id"] in untick else block["element"]["initial_options"]
            values[block["block_id"]] = {"keep": {"type": "checkboxes", "selected_options": keep}}
    return values


async def test_an_admin_previews_leaves_a_note_out_and_publishes(
    city: tuple[Workspace, Clock],
) -> None:
    ws, _ = city
    view = await preview(ws)
    shown = json.dumps(view, ensure_ascii=False)
    assert "Publish October 2026" in shown and "🟢 On track 1" in shown
    fire = [
        b for b in view["blocks"] if b["type"] == "input" and b["block_id"].startswith("note-fire")
    ]
    labels = [b["label"]["text"] for b in fire]
    hints = [b["hint"]["text"] for b in fire]
    assert labels == ["Fire #1 · On track", "Fire #2 · At risk", "Fire #3 · Off track"]
    # plain_text: shown as typed, never a ping.
    assert hints[1] == "<!channel> the union talks, privately"
    done = await ws.submit(view, ticked(view, untick=("note-fire-2",)), user=ADMIN)
    assert done["response_action"] == "update"
    said = json.dumps(done["view"], ensure_ascii=False)
    assert "October 2026 is published" in said and "1 kept private" in said
    data = (await ws.http.get("/public/data/2026-10/plan.json")).json()
    notes = {i["id"]: i["note"] for i in data["initiatives"] if i["department"] == "fire"}
    assert notes["fire-1"] == "12 recruits started the academy" and notes["fire-2"] is None
    assert "union talks" not in (await ws.http.get("/public/data/2026-10/updates.csv")).text

    again = await ws.command("publish 2026-10", user=ADMIN)
    assert "was published on Dec 2, 2026" in again.text and "never changes" in again.text


async def test_only_admins_publish(city: tuple[Workspace, Clock]) -> None:
    ws, _ = city
    refused = await ws.command("publish 2026-10", user=COO)
    assert "Only a Plan Bot admin can publish" in refused.text
    assert ws.slack.calls_to("views.open") == []
    view = await preview(ws)
    forged = await ws.submit(view, ticked(view), user=COO)
    assert "Only a Plan Bot admin" in json.dumps(forged["view"])
    assert (await ws.http.get("/public/data/2026-10/plan.json")).status_code == 404


@pytest.mark.parametrize(
    ("typed", "said"),
    [
        ("publish 2026-11", "has not closed yet"),
        ("publish October", "as YYYY-MM"),
        ("publish 2026-13", "as YYYY-MM"),
        ("publish 2015-01", "before this plan's first month"),
    ],
)
async def test_what_cannot_be_published_is_said(
    city: tuple[Workspace, Clock], typed: str, said: str
) -> None:
    ws, _ = city
    answer = await ws.command(typed, user=ADMIN)
    assert said in answer.text and ws.slack.calls_to("views.open") == []


async def test_a_period_not_yet_closed_is_refused(city: tuple[Workspace, Clock]) -> None:
    ws, clock = city
    clock.at = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
    answer = await ws.command("publish 2026-10", user=ADMIN)
    assert "October 2026 has not closed yet" in answer.text


async def test_a_note_arriving_during_the_review_is_not_published_unseen(
    city: tuple[Workspace, Clock],
) -> None:
    ws, _ = city
    view = await preview(ws)
    await add(ws.engine, 4, "2026-10", "on_track", "a late answer nobody reviewed")
    done = await ws.submit(view, ticked(view), user=ADMIN)
    assert "notes changed while you reviewed" in json.dumps(done["view"])
    assert (await ws.http.get("/public/data/2026-10/plan.json")).status_code == 404
    second = await preview(ws)
    assert "a late answer nobody reviewed" in json.dumps(second)


def test_many_notes_are_reviewed_page_by_page() -> None:
    notes = [Note(f"dept-{n}", "Dept", n, "On track", f"note {n}") for n in range(1, 100)]
    snapshot = {"departments": [], "measures": [], "counts": {}}
    first = render_preview(snapshot, notes, PublishMetadata("2026-10", 1, "h"))
    inputs = [b for b in first["blocks"] if b["type"] == "input"]
    assert len(inputs) == NOTES_PER_PAGE and len(first["blocks"]) <= 100
    assert first["submit"]["text"] == "Next" and "Page 1 of 2" in json.dumps(first)
    second = render_preview(snapshot, notes, PublishMetadata("2026-10", 2, "h", ("dept-3",)))
    assert [b["block_id"] for b in second["blocks"] if b["type"] == "input"] == [
        f"note-dept-{n}" for n in range(91, 100)
    ]
    assert second["submit"]["text"] == "Publish"
    values = ticked(second, untick=("note-dept-95",))
    assert left_out_on_page(values, notes[90:]) == ["dept-95"]
    assert PublishMetadata.load(second["private_metadata"]) == PublishMetadata(
        "2026-10", 2, "h", ("dept-3",)
    )
