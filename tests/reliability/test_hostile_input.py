"""Hostile input through the real request path: every bad input gets a clear private message or is
ignored (or, not shaped as Slack's requests are, a 400) — never a stack trace, never a 500, never
a partial write, never an unescaped echo."""

from __future__ import annotations

import asyncio
import json
import re
import string
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlmodel import SQLModel, select

from bot import slack_requests
from bot.workspace import Reply, Workspace
from handlers.commands.parse import (
    MAX_COMMAND_TEXT,
    TOO_LONG,
    CommandError,
    PlanCommand,
    Verb,
    parse_plan_command,
)
from handlers.reading.buttons import read_prompt_value
from handlers.reading.form import read_form
from handlers.updates import FormMetadata
from jobs.prompts import post_monthly_prompts
from models.db import session_scope
from models.planfile import read_plan_file
from models.plans import list_owners, load_plan
from models.status import Status
from models.tables import Update
from tests.helpers import (
    ADMIN,
    CHIEF,
    COO,
    PEOPLE,
    PERIOD,
    chosen,
    open_form,
    own,
    typed_note,
    typed_percent,
)

NOW = datetime(2026, 11, 4, 15, 0, tzinfo=UTC)  # October is the open period, not yet closed
UPDATES = "C0UPDATES"
OTHER = "U0OTHER"

# What Slack would execute if the bot echoed it as typed: a broadcast, a ping, a disguised link.
RAW = ("<!channel>", "<!here>", "<!everyone>", "<@U123>", "<https://evil|click>", "<#C123>")
_RAW_SEQUENCE = re.compile(r"<[!@#][^<>]*>|<https?://[^<>]*>")


# --- helpers -----------------------------------------------------------------------------------


async def everything(ws: Workspace) -> dict[str, list[str]]:
    """Every row of every table: two snapshots are equal when nothing was written."""
    tables: dict[str, list[str]] = {}
    async with ws.engine.connect() as conn:
        for table in SQLModel.metadata.sorted_tables:
            rows = (await conn.execute(sa.select(table))).all()
            tables[table.name] = sorted(repr(tuple(row)) for row in rows)
    return tables


async def updates(ws: Workspace) -> list[Update]:
    """Updates written through Slack (not the plan file's own, source "plan")."""
    async with session_scope(ws.engine) as session:
        return list(
            (
                await session.exec(select(Update).where(Update.source.not_in(("import", "plan"))))
            ).all()
        )


async def owners_of(ws: Workspace, key: str) -> list[str]:
    async with session_scope(ws.engine) as session:
        rows = await list_owners(session)
    return next(list(row.owners) for row in rows if row.key == key)


def _shown(node: Any) -> Any:
    """`node` without buttons' values: Slack never displays those (the share button carries the
    command as typed, to answer it again when clicked)."""
    if isinstance(node, dict):
        hidden = {"value"} if node.get("type") == "button" else set()
        return {k: _shown(v) for k, v in node.items() if k not in hidden}
    if isinstance(node, list):
        return [_shown(item) for item in node]
    return node


def everything_said(reply: Reply) -> str:
    """What Slack shows of the acknowledgement and every follow-up."""
    return json.dumps(_shown([reply.ack, *reply.followups]), ensure_ascii=False)


def assert_private_and_safe(reply: Reply, typed: str = "") -> None:
    """Answered (200), only to the person, with words, no stack trace, no executable echo."""
    said = everything_said(reply)
    assert "Traceback" not in json.dumps([reply.ack, *reply.followups])
    assert reply.status == 200, (typed, reply)
    assert reply.message.get("response_type") == "ephemeral", (typed, reply.message)
    assert str(reply.message.get("text") or "").strip(), (typed, reply.message)
    assert "Traceback" not in said and 'File "' not in said, (typed, said)
    for raw in [*RAW, *_RAW_SEQUENCE.findall(typed)]:
        assert raw not in said, (typed, raw, said)


# --- /plan with hostile text -------------------------------------------------------------------

HOSTILE_TEXTS = [
    "frobnicate",
    "delete everything",
    "owners",
    "history",
    "history fire",
    "update nosuchdepartment",
    "x" * 4000,
    "fire " * 800,
    "<!channel>",
    "<!here> hello",
    "<!everyone>",
    "<@U123>",
    "<#C123>",
    "<https://evil|click>",
    "fire <!channel>",
    "safety <!here>",
    "history fire <!channel>",
    "history <@U123> 3",
    "update <https://evil|click>",
    "owner <!channel> <@U123>",
    "*bold* _x_ ~y~ `code`",
    "```fire```",
    "&<>",
    "&amp;lt;!channel&gt;",
    "🔥🚒 fire 🙂",
    "مرحبا بالعالم",
    "שלום עולם",
    "\u202eerif\u202c",
    "fire\x00",
    "\x00\x01\x02\x1b[31mred\x7f",
    "safety\r\n<!channel>\ttab",
    "   ",
    "\t\n",
    "\u200b\u200d\ufeff",
]


async def test_hostile_plan_text_gets_a_private_answer_and_writes_nothing(
    workspace: Workspace,
) -> None:
    ws = workspace
    before = await everything(ws)
    for user in (COO, ADMIN):
        for typed in HOSTILE_TEXTS:
            reply = await ws.command(typed, user=user, wait=2.0)
            assert_private_and_safe(reply, typed)
    # What was typed is shown escaped, so the person sees what they typed.
    shown = everything_said(await ws.command("zz <!channel> &", user=COO))
    assert "&lt;!channel&gt;" in shown and "&amp;" in shown
    assert await everything(ws) == before


async def test_refused_history_and_owner_commands_change_no_owner(workspace: Workspace) -> None:
    ws = workspace
    await own(ws, "fire", CHIEF)
    before = await everything(ws)
    asked = {
        ("history fire 99999999999999999999", COO): "initiative number",
        ("history fire -1", COO): "initiative number",
        ("history fire 0", COO): "initiative number",
        ("history fire 999", COO): "no initiative #999",
        ("history nowhere 3", COO): "couldn't find",
        ("owner fire notauser", ADMIN): "mention its owner",
        ("owner fire", ADMIN): "mention its owner",
        ("owner <@U0COO>", ADMIN): "mention its owner",
        ("owner nowhere <@U0COO>", ADMIN): "couldn't find",
        ("owner fire <@U0COO>", COO): "Only a Plan Bot admin",
        ("owner fire <@U0COO>", CHIEF): "Only a Plan Bot admin",  # an owner is not an admin
        ("owner fire U0COO", OTHER): "Only a Plan Bot admin",
    }
    for (typed, user), expected in asked.items():
        reply = await ws.command(typed, user=user)
        assert_private_and_safe(reply, typed)
        assert expected in reply.text, (typed, reply.text)
    assert await owners_of(ws, "fire") == [CHIEF]
    assert await everything(ws) == before
    # The same command from an admin does change them: the refusals above were refusals.
    done = await ws.command("owner fire <@U0COO>", user=ADMIN)
    assert done.status == 200 and await owners_of(ws, "fire") == [COO]


async def test_sharing_an_answer_typed_with_pings_pings_nobody(workspace: Workspace) -> None:
    """The share button carries the command as typed; clicked (or forged), what is posted for
    everyone never carries a ping that was typed."""
    ws = workspace
    typed = "public safety <@U1>"
    answer = await ws.command(typed, user=COO)
    assert_private_and_safe(answer, typed)
    assert "Share in channel" in answer.text  # the words still found the Safety goal
    for value in (typed, "<!channel>", "fire <!here>", "<https://evil|click>", "history <@U1> 1"):
        shared = await ws.click("plan_share", value, user=COO)
        assert shared.status == 200 and shared.followups, value
        said = json.dumps([shared.ack, *shared.followups])
        for raw in [*RAW, "<@U1>"]:
            assert raw not in said, (value, raw, said)
    posted = (await ws.click("plan_share", typed, user=COO)).message
    assert posted.get("response_type") == "in_channel" and "Safety" in json.dumps(posted)


# --- the monthly cycle: prompt buttons, the form, thread events ---------------------------------


@pytest.fixture
async def fire(database_url: str, hartford: int) -> AsyncIterator[tuple[Workspace, str]]:
    """Fire owned by the chief, its October prompt posted; yields the prompt's ts. Requests are
    answered after their listeners finish, so a test sees everything a delivery did."""
    async with Workspace(
        database_url,
        admins=(ADMIN,),
        users=PEOPLE,
        now=lambda: NOW,
        updates_channel=UPDATES,
        process_before_response=True,
    ) as ws:
        await own(ws, "fire", CHIEF)
        run = await post_monthly_prompts(ws.ctx, ws.app.client, PERIOD)
        assert run.posted == ["fire"]
        prompt_ts = ws.slack.calls_to("chat.postMessage")[0].response["ts"]
        ws.slack.reset()
        yield ws, prompt_ts


BAD_PERCENTS = ["-5", "150", "abc", "4.5", "1e3", "101", "40 %%", "0x10", "½", "٤٠", "4" * 10]


async def test_a_bad_percent_is_an_error_on_its_block_and_writes_nothing(
    fire: tuple[Workspace, str],
) -> None:
    ws, _ = fire
    view = await open_form(ws, CHIEF)
    before = await everything(ws)
    for percent in BAD_PERCENTS:
        values = {
            "status-1": chosen("on_track"),
            "percent-1": typed_percent(percent),
            "status-2": chosen("at_risk"),  # a good line on the same page is not written either
            "note-2": typed_note("the vendor is late"),
        }
        answer = await ws.submit(view, values, user=CHIEF)
        assert answer.get("response_action") == "errors", (percent, answer)
        assert set(answer["errors"]) == {"percent-1"}, (percent, answer)
        assert "0 to 100" in answer["errors"]["percent-1"]
        assert await everything(ws) == before, percent
    # " 40% " is a sensible answer, and it is recorded as 40.
    values = {"status-1": chosen("on_track"), "percent-1": typed_percent(" 40% ")}
    assert await ws.submit(view, values, user=CHIEF) == {}
    assert [u.percent for u in await updates(ws)] == [40]


async def test_form_values_for_initiatives_the_page_does_not_have_are_ignored(
    fire: tuple[Workspace, str],
) -> None:
    ws, _ = fire
    view = await open_form(ws, CHIEF)
    before = await everything(ws)
    hostile_values: list[dict[str, Any]] = [
        {"status-999": chosen("complete"), "percent-999": typed_percent("50")},
        {"status-0": chosen("complete"), "status--1": chosen("complete")},
        {"status-1x": chosen("complete"), "status-01": chosen("complete")},
        {"status-1": {"status": {"selected_option": "complete"}}},
        {"status-1": chosen("exploded")},
        {"status-1": chosen("<!channel>")},
        {"percent-1": typed_percent("50")},  # a percent without a status
        {"note-1": {"note": {"value": ["a", "list"]}}},
    ]
    for values in hostile_values:
        answer = await ws.submit(view, values, user=CHIEF)
        assert answer == {} or answer.get("response_action") == "errors", (values, answer)
        assert "<!channel>" not in json.dumps(answer), answer
        assert await everything(ws) == before, values
    # A block's value that is not an object is not how Slack shapes a form: refused at the
    # door with 400, before any listener (bot/request_checks.py).
    for values in [{"status-1": "complete"}, {"status-1": {"status": ["complete"]}}]:
        request = slack_requests.view_submission(
            ws.signing_secret, user_id=CHIEF, view=view, values=values
        )
        refused = await ws.send(request)
        assert refused.status_code == 400, (values, refused.text)
        assert await everything(ws) == before, values
    # The same form with a real answer records it: the submissions above were refused.
    assert await ws.submit(view, {"status-1": chosen("complete")}, user=CHIEF) == {}
    (recorded,) = await updates(ws)
    assert recorded.status == Status.COMPLETE and recorded.author == CHIEF


async def test_hostile_notes_are_stored_as_typed_and_echoed_escaped(
    fire: tuple[Workspace, str],
) -> None:
    ws, prompt_ts = fire
    view = await open_form(ws, CHIEF)
    note = "<!channel> *urgent* <@U123> <https://evil|click> &<> مرحبا 🔥 \x1b[0m"
    answer = await ws.submit(
        view, {"status-1": chosen("at_risk"), "note-1": typed_note(note)}, user=CHIEF
    )
    assert answer == {}
    (recorded,) = await updates(ws)
    # Stored as typed, less control characters (here the terminal escape \x1b).
    assert recorded.note == note.replace("\x1b", "").strip()
    refreshed = await ws.slack.wait_for("chat.update")
    assert refreshed and all(c.args.get("ts") == prompt_ts for c in refreshed)
    lookup = await ws.command("fire", user=COO)
    assert_private_and_safe(lookup)
    assert "&lt;!channel&gt;" in lookup.text


async def test_a_nul_in_a_form_note_is_stored_or_refused_never_a_crash(
    fire: tuple[Workspace, str], request: pytest.FixtureRequest
) -> None:
    ws, _ = fire
    view = await open_form(ws, CHIEF)
    values = {
        "status-1": chosen("on_track"),
        "status-2": chosen("at_risk"),
        "note-2": typed_note("before\x00after"),
    }
    answer = await ws.submit(view, values, user=CHIEF)  # asserts HTTP 200
    stored = await updates(ws)
    if answer == {}:
        assert sorted(u.status for u in stored) == sorted([Status.ON_TRACK, Status.AT_RISK])
    else:  # refused with a reason on the note: then nothing at all is written
        assert answer.get("response_action") == "errors" and "note-2" in answer["errors"]
        assert stored == []


async def test_a_nul_in_a_thread_reply_is_recorded_and_answered(
    fire: tuple[Workspace, str], request: pytest.FixtureRequest
) -> None:
    ws, prompt_ts = fire
    text = "1 on track - before\x00after\n2 done"
    event = message(channel=UPDATES, user=CHIEF, ts="1800000000.000700", thread_ts=prompt_ts)
    response = await ws.event({**event, "text": text})
    assert response.status_code == 200
    assert sorted(u.status for u in await updates(ws)) == sorted([Status.ON_TRACK, Status.COMPLETE])
    assert [c for c in ws.slack.calls_to("chat.postMessage") if c.ok]


FORGED_METADATA = [
    "",
    "garbage",
    "{",
    "[]",
    "null",
    "{}",
    '{"d": "fire", "p": "2026-10"}',
    '{"d": "police", "p": "2026-10", "pg": 1}',  # a department the chief does not own
    '{"d": "nowhere", "p": "2026-10", "pg": 1}',
    '{"d": "fire", "p": "2026-13", "pg": 1}',
    '{"d": "fire", "p": "2026-00", "pg": 1}',
    '{"d": "fire", "p": "26-10", "pg": 1}',
    '{"d": "fire", "p": "<!channel>", "pg": 1}',
    '{"d": "fire", "p": "2026-10", "pg": 0}',
    '{"d": "fire", "p": "2026-10", "pg": -1}',
    '{"d": "fire", "p": "2026-10", "pg": 1000000}',
    '{"d": "fire", "p": "2026-10", "pg": 99999999999999999999999999}',
    '{"d": "fire", "p": "2026-10", "pg": 1.5}',
    '{"d": "fire", "p": "2026-10", "pg": "1"}',
    '{"d": "fire", "p": "2026-10", "pg": true}',
    '{"d": "fire", "p": "2026-10", "pg": 1e400}',
    '{"d": ["fire"], "p": "2026-10", "pg": 1}',
    '{"d": "fire ", "p": "2026-10", "pg": 1}',
    '{"d": "' + "fire" * 500 + '", "p": "2026-10", "pg": 1}',
]


async def test_forged_form_metadata_is_refused_and_writes_nothing(
    fire: tuple[Workspace, str],
) -> None:
    ws, _ = fire
    view = await open_form(ws, CHIEF)
    before = await everything(ws)
    values = {"status-1": chosen("complete"), "status-2": chosen("complete")}
    for metadata in FORGED_METADATA:
        forged = {**view, "private_metadata": metadata}
        answer = await ws.submit(forged, values, user=CHIEF)
        assert answer.get("response_action") == "errors", (metadata, answer)
        assert "owners" in json.dumps(answer), (metadata, answer)
        assert await everything(ws) == before, metadata
    without = {k: v for k, v in view.items() if k != "private_metadata"}
    assert (await ws.submit(without, values, user=CHIEF)).get("response_action") == "errors"
    # Someone who owns nothing, with the chief's own genuine form, is refused too.
    assert (await ws.submit(view, values, user=OTHER)).get("response_action") == "errors"
    assert await everything(ws) == before
    # A page past the last records nothing, whatever it holds.
    far = {**view, "private_metadata": FormMetadata("fire", PERIOD, 999).dump()}
    answer = await ws.submit(far, values, user=CHIEF)
    assert answer == {} or answer.get("response_action") == "errors", answer
    assert await updates(ws) == []
    # The genuine metadata with the same values records both: the refusals were refusals.
    assert await ws.submit(view, values, user=CHIEF) == {}
    assert len(await updates(ws)) == 2


async def test_a_form_for_a_period_not_yet_begun_writes_nothing(
    fire: tuple[Workspace, str],
) -> None:
    ws, _ = fire
    view = await open_form(ws, CHIEF)
    forged = {**view, "private_metadata": FormMetadata("fire", "2099-12", 1).dump()}
    answer = await ws.submit(forged, {"status-1": chosen("complete")}, user=CHIEF)
    assert answer.get("response_action") == "errors", answer
    assert await updates(ws) == []


async def test_no_change_for_a_period_not_yet_begun_writes_nothing(
    fire: tuple[Workspace, str],
) -> None:
    ws, prompt_ts = fire
    assert (
        await ws.submit(await open_form(ws, CHIEF), {"status-1": chosen("on_track")}, user=CHIEF)
        == {}
    )
    genuine = await updates(ws)
    assert len(genuine) == 1
    reply = await ws.click(
        "prompt_no_change", "fire|2099-12", user=CHIEF, channel=UPDATES, message_ts=prompt_ts
    )
    assert_private_and_safe(reply)
    assert [u.id for u in await updates(ws)] == [u.id for u in genuine]


async def test_prompt_buttons_refuse_non_owners_privately(fire: tuple[Workspace, str]) -> None:
    ws, prompt_ts = fire
    before = await everything(ws)
    for action in ("prompt_no_change", "prompt_submit"):
        for user in (OTHER, COO):
            reply = await ws.click(
                action, f"fire|{PERIOD}", user=user, channel=UPDATES, message_ts=prompt_ts
            )
            assert_private_and_safe(reply)
            assert "owners" in reply.text and "Fire" in reply.text, reply.text
    assert ws.slack.calls_to("views.open") == []
    assert ws.slack.calls_to("chat.update") == []
    assert await everything(ws) == before


GARBAGE_VALUES = [
    "",
    "|",
    "fire|",
    "|2026-10",
    "x" * 3000,
    "fire|2026-10|x",
    "fire|2026-13",
    "fire|2026-1",
    "fire|٢٠٢٦-١٠",
    " fire|2026-10",
    "fire\x00|2026-10",
    "nowhere|2026-10",
    "police|2026-10",  # a real department the chief does not own
    "<!channel>|2026-10",
    "fire|<!channel>",
    "<@U123>|<https://evil|click>",
]


async def test_garbage_button_values_get_a_clear_private_message(
    fire: tuple[Workspace, str],
) -> None:
    ws, prompt_ts = fire
    before = await everything(ws)
    for action in ("prompt_no_change", "prompt_submit"):
        for value in GARBAGE_VALUES:
            reply = await ws.click(action, value, user=CHIEF, channel=UPDATES, message_ts=prompt_ts)
            assert_private_and_safe(reply, value)
            assert "nothing was recorded" in reply.text or "out of date" in reply.text, (
                action,
                value,
                reply.text,
            )
    assert ws.slack.calls_to("views.open") == []
    assert await everything(ws) == before


def message(**fields: Any) -> dict[str, Any]:
    return {"type": "message", **fields}


async def test_events_that_are_not_replies_to_a_prompt_are_ignored(
    fire: tuple[Workspace, str],
) -> None:
    ws, prompt_ts = fire
    reply = {"user": CHIEF, "ts": "1800000000.000100", "thread_ts": prompt_ts, "text": "1 done"}
    ignored = [
        message(channel="C0UNKNOWN", **reply),  # a channel the bot does not know
        message(channel=UPDATES, **{**reply, "thread_ts": "1700000000.999999"}),  # not a prompt
        message(channel=UPDATES, **{**reply, "ts": prompt_ts}),  # the prompt itself
        message(channel=UPDATES, bot_id="B0PLANBOT", **reply),  # a bot's own message
        message(channel=UPDATES, subtype="bot_message", bot_id="B0OTHER", **reply),
        message(
            channel=UPDATES,
            subtype="message_deleted",
            ts="1800000000.000200",
            deleted_ts="1800000000.000100",
            previous_message=reply,
        ),
        message(channel=UPDATES, subtype="channel_join", **reply),
        message(channel=UPDATES, subtype="message_changed", message={**reply, "bot_id": "B1"}),
        message(channel=UPDATES),
        message(channel=UPDATES, thread_ts=prompt_ts, text="1 done"),  # no user, no ts
        message(channel=UPDATES, user=CHIEF, thread_ts=prompt_ts, text="1 done"),  # no ts
    ]
    # Not shaped as Slack shapes a message event (no channel, an edit whose message is not an
    # object, ids that are not strings, no type): refused at the door with 400, before any
    # listener (bot/request_checks.py).
    malformed = [
        message(channel=UPDATES, subtype="message_changed", message="1 done"),
        message(),
        message(user=CHIEF, ts="1800000000.000300", thread_ts=prompt_ts, text="1 done"),
        message(channel=None, user=None, ts=None, thread_ts=None, text=None),
        message(channel=["C0"], user={"id": CHIEF}, ts=1, thread_ts=[prompt_ts], text=7),
        {},
    ]
    # Types the manifest does not subscribe to never come from Slack; forged, they are
    # turned away (Bolt answers 404 "unhandled request") without an error or a write.
    unsubscribed = [
        {"type": "reaction_added", "user": CHIEF, "reaction": "fire", "item": {}},
        {"type": "app_mention"},
    ]
    before = await everything(ws)
    for number, event in enumerate(ignored):
        response = await ws.event(event)
        assert response.status_code == 200, (number, event, response.text)
        assert "Traceback" not in response.text
    for event in unsubscribed:
        response = await ws.event(event)
        assert response.status_code in (200, 404), (event, response.text)
        assert "Traceback" not in response.text
    for event in malformed:
        response = await ws.event(event)
        assert response.status_code == 400, (event, response.text)
    assert await everything(ws) == before
    for method in ("chat.postMessage", "chat.postEphemeral", "reactions.add", "chat.update"):
        assert ws.slack.calls_to(method) == [], method
    # The same reply in the prompt's thread is recorded: the events above were ignored.
    await ws.event(message(channel=UPDATES, **reply))
    assert [u.status for u in await updates(ws)] == [Status.COMPLETE]


# --- properties ---------------------------------------------------------------------------------

_WORDS = [
    "help",
    "goals",
    "missing",
    "digest",
    "export",
    "update",
    "history",
    "owner",
    "owners",
    "fire",
    "safety",
    "3",
    "#3",
    "-1",
    "99999999999999999999",
    "<@U0COO>",
    "<@U0COO|chief>",
    "U0COO",
    *RAW,
    "&<>",
    "*b*",
    "مرحبا",
    "\x00",
    "\u202e",
    " ",
]
plan_text = st.one_of(
    st.text(),
    st.lists(st.sampled_from(_WORDS) | st.text(max_size=12), max_size=12).map(" ".join),
    st.tuples(st.sampled_from(_WORDS) | st.text(min_size=1, max_size=8), st.integers(1, 700)).map(
        lambda pair: pair[0] * pair[1]
    ),
)


@settings(max_examples=300, deadline=None)
@given(text=plan_text)
def test_parse_plan_command_reads_any_text(text: str) -> None:
    command = parse_plan_command(text)
    if isinstance(command, CommandError):
        assert command.problem.strip()
        if command.problem == TOO_LONG:
            assert len(" ".join(text.split())) > MAX_COMMAND_TEXT
        return
    assert isinstance(command, PlanCommand) and command.verb in set(Verb)
    assert len(" ".join(text.split())) <= MAX_COMMAND_TEXT
    if command.verb is Verb.HISTORY:
        assert command.number is not None and 0 < command.number < 100_000
        assert command.words.strip()
    if command.verb is Verb.OWNER:
        assert command.user_ids and command.words.strip()
        assert all(re.fullmatch(r"[UW][A-Z0-9]+", user) for user in command.user_ids)


_FORM_KEYS = ["status", "percent", "note", "selected_option", "value", "d", "p", "pg"]
_KEYS = st.sampled_from(
    [*_FORM_KEYS, *(f"{kind}-{n}" for kind in ("status", "percent", "note") for n in (1, 2))]
) | st.text(max_size=8)
_LEAVES = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=20)
    | st.sampled_from([s.value for s in Status] + ["2026-10", "fire", "40", "40%", "1e3", "-5"])
)
json_ish = st.recursive(
    _LEAVES,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(_KEYS, children, max_size=5),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(text=st.text() | json_ish.map(json.dumps))
def test_form_metadata_load_reads_anything(text: str) -> None:
    loaded = FormMetadata.load(text)
    if loaded is not None:
        assert 1 <= loaded.page <= 1000 and len(loaded.department) <= 60
        assert re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", loaded.period)
        assert FormMetadata.load(loaded.dump()) == loaded


@settings(max_examples=300, deadline=None)
@given(value=json_ish | st.text(alphabet=string.printable + "|٢") | st.just("fire|2026-10"))
def test_read_prompt_value_reads_anything(value: Any) -> None:
    read = read_prompt_value(value)
    if read is not None:
        key, period = read
        assert isinstance(value, str) and value == f"{key}|{period}"
        assert re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", period)


@settings(max_examples=300, deadline=None)
@given(values=json_ish, numbers=st.lists(st.integers(-3, 5), max_size=6))
def test_read_form_reads_anything(values: Any, numbers: list[int]) -> None:
    entries, errors = read_form(values, numbers)
    assert {entry.number for entry in entries} <= set(numbers)
    assert all(isinstance(key, str) and message for key, message in errors.items())
    for entry in entries:
        assert isinstance(entry.status, Status)
        assert entry.percent is None or 0 <= entry.percent <= 100


async def _hartford_workspace(url: str) -> Workspace:
    ws = await Workspace(url, admins=(ADMIN,), users=PEOPLE).start()
    async with session_scope(ws.engine) as session:
        await load_plan(session, read_plan_file(), period=PERIOD)
    await own(ws, "fire", CHIEF)
    return ws


def test_any_plan_text_end_to_end_gets_a_private_safe_answer(sqlite_url: str) -> None:
    """One workspace for the whole run; each example is a signed `/plan` request."""
    with asyncio.Runner() as runner:
        ws = runner.run(_hartford_workspace(sqlite_url))
        try:
            before = runner.run(everything(ws))

            @settings(
                max_examples=80,
                deadline=None,
                suppress_health_check=[HealthCheck.too_slow],
                database=None,
            )
            # Nobody here owns a department or is an admin: every answer is a message (an
            # owner's `/plan update` would open the form instead) and nothing may be written.
            @given(text=plan_text, user=st.sampled_from([COO, OTHER]))
            @example(text="x" * 4000, user=COO)
            @example(text="history fire <!channel> " * 200, user=OTHER)
            # Bolt reads any form body containing "payload" as an interactivity payload
            # (bot/bolt_fixes.py): found by this test.
            @example(text="payload", user=COO)
            @example(text="fire payload=1", user=OTHER)
            def answers(text: str, user: str) -> None:
                reply = runner.run(ws.command(text, user=user, wait=2.0))
                assert_private_and_safe(reply, text)
                asked.append(text)

            asked: list[str] = []
            answers()
            assert len(asked) >= 50
            assert runner.run(everything(ws)) == before
        finally:
            runner.run(ws.stop())
