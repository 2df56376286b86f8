"""User text is shown exactly as stored, and can never reorder the line it is shown in: control
characters and Unicode bidirectional controls in a note are dropped before storing, and from
anything the bot writes to Slack — the thread's answer, `/plan`, the digest."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator

import pytest

from bot.workspace import Workspace
from tests.helpers import (
    CHIEF,
    COO,
    chosen,
    current,
    fire_workspace,
    opened_form,
    reply_event,
    thread_posts,
    typed_note,
)

# A terminal escape, NUL, a C1 control, a right-to-left override and an isolate.
HOSTILE = "3 on track - paid \u001b[31mvendor\u0000 \u0085 \u202egnp.exe\u202c and \u2066more\u2069"
STORED = "paid [31mvendor gnp.exe and more"
FORBIDDEN = re.compile(
    "[\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x9f\\u061c\\u200e\\u200f\\u202a-\\u202e\\u2066-\\u2069]"
)


@pytest.fixture
async def fire(database_url: str, hartford: int) -> AsyncIterator[tuple[Workspace, str]]:
    async for ws in fire_workspace(database_url):
        yield ws


def everything_posted(ws: Workspace) -> str:
    """Every argument of every Web API call and response URL post, as JSON (not ASCII-escaped)."""
    calls = [*ws.slack.calls, *ws.slack.responses]
    return json.dumps([c.args for c in calls], ensure_ascii=False)


async def test_a_thread_reply_is_answered_with_what_was_stored(
    fire: tuple[Workspace, str],
) -> None:
    ws, ts = fire
    await ws.event(reply_event("1790000000.000200", ts, HOSTILE))
    (answer,) = await thread_posts(ws, ts, 1)
    stored = (await current(ws))[3]
    assert stored.note == STORED
    shown = json.dumps(answer.args["blocks"], ensure_ascii=False)
    assert STORED in shown  # the stored note, as it is
    answered = (await ws.command("fire", user=COO)).message
    assert STORED in json.dumps(answered, ensure_ascii=False)
    assert not FORBIDDEN.search(everything_posted(ws))


async def test_a_form_note_is_stored_and_shown_without_controls(
    fire: tuple[Workspace, str],
) -> None:
    ws, _ = fire
    view = await opened_form(ws, CHIEF)
    note = "budget \u202eevil\u202c approved\u0007"
    await ws.submit(view, {"status-2": chosen("at_risk"), "note-2": typed_note(note)}, user=CHIEF)
    assert (await current(ws))[2].note == "budget evil approved"
    await ws.command("fire", user=COO)
    await ws.command("digest", user=COO)
    assert not FORBIDDEN.search(everything_posted(ws))
