"""What the monthly cycle posts (prompt, form, thread summaries, reminders) and reads back, and
that it fits Slack's limits and shows user text without executing it, whatever the plan's size."""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from handlers.ids import ActionId, CallbackId
from handlers.messages import limits
from handlers.messages.form import FORM_PAGE_SIZE, form_pages, page_numbers, render_update_form
from handlers.messages.layout import Message
from handlers.messages.prompt import (
    render_no_change_done,
    render_no_change_overtaken,
    render_not_owner,
    render_prompt,
    render_unowned,
    status_line,
)
from handlers.messages.reminders import render_reminder, render_reminder_dm
from handlers.messages.thread import (
    AskedChoices,
    ReplyAnswer,
    render_not_an_update,
    render_reply_answer,
)
from handlers.reading.buttons import prompt_value, read_prompt_value
from handlers.reading.form import read_form
from models.cycle import DepartmentState, InitiativeState, UpdateEntry
from models.queries import UpdateView
from models.status import Status
from tests.helpers import PERIOD, mrkdwn_texts

HOSTILE = "<!channel> & <@U1> <https://evil|x> @everyone "
HOSTILE_NOTE = (HOSTILE * 100)[:4000]
# What must never reach mrkdwn (or a fallback text) unescaped.
RAW = ("<!channel>", "<@U1>", "<https://evil", "@everyone")
NOV_3 = datetime(2026, 11, 3, 14, 0, tzinfo=UTC)


def mention(user: str) -> str:
    return f"<@{user}>"


def latest(
    status: Status, percent: int | None = None, note: str = "", period: str = "2026-09"
) -> UpdateView:
    return UpdateView(status, percent, note, "UAUTHOR", period, NOV_3, "thread", False)


def initiative(
    number: int, text: str, last: UpdateView | None, parent: int | None = None
) -> InitiativeState:
    return InitiativeState(number * 10, number, text, parent, last, False)


def fire() -> DepartmentState:
    """Six initiatives: every status, one without any update, one sub-item."""
    return DepartmentState(
        id=1,
        key="fire",
        name="Fire",
        owners=("UCHIEF", "UDEPUTY"),
        channel_id="CFIRE",
        period=PERIOD,
        initiatives=(
            initiative(1, "Open the new academy", latest(Status.ON_TRACK, 60, "12 recruits")),
            initiative(2, "Cut response times & overtime", latest(Status.AT_RISK, 40, "union")),
            initiative(3, "Replace two engines", latest(Status.COMPLETE, 100)),
            initiative(4, "Smoke alarms for every home", None),
            initiative(5, "Inspect high-rises", None, parent=4),
            initiative(6, "New dispatch system", latest(Status.OFF_TRACK, note="vendor gone")),
        ),
    )


FIRE_STATUSES = {1: "🟢", 2: "🟡", 3: "✅", 4: "❔", 5: "❔", 6: "🔴"}


def huge() -> DepartmentState:
    """300 initiatives with hostile texts and 4,000-character hostile notes, eight owners."""
    statuses = list(Status)
    return DepartmentState(
        id=2,
        key="public-works",
        name="Public Works",
        owners=tuple(f"UOWNER{i}" for i in range(8)),
        channel_id="CDPW",
        period=PERIOD,
        initiatives=tuple(
            initiative(
                n,
                f"Initiative {n}: {HOSTILE * 10}",
                None if n % 7 == 0 else latest(statuses[n % 5], n % 101, HOSTILE_NOTE),
                parent=None if n % 5 else n - 1,
            )
            for n in range(1, 301)
        ),
    )


def with_size(count: int) -> DepartmentState:
    base = huge()
    return DepartmentState(
        base.id,
        base.key,
        base.name,
        base.owners,
        base.channel_id,
        base.period,
        base.initiatives[:count],
    )


# --- helpers to read what was built ------------------------------------------------------------


def without_plain_text(node: Any) -> Any:
    """The JSON with plain_text objects dropped: Slack parses no mentions or links in those."""
    if isinstance(node, dict):
        if node.get("type") == "plain_text":
            return None
        return {k: without_plain_text(v) for k, v in node.items()}
    if isinstance(node, list):
        return [without_plain_text(v) for v in node]
    return node


def parsed_json(node: Any) -> str:
    return json.dumps(without_plain_text(node), ensure_ascii=False)


def all_text(message: Message) -> str:
    return "\n".join(mrkdwn_texts(message.blocks))


def buttons(blocks: list[dict[str, Any]]) -> dict[str, str]:
    """action_id → value of every button."""
    return {
        element["action_id"]: element["value"]
        for block in blocks
        if block["type"] == "actions"
        for element in block["elements"]
        if element["type"] == "button"
    }


def more_count(text: str, what: str = "") -> int:
    counts = [int(n) for n in re.findall(rf"…and (\d+) more{what}", text)]
    assert len(counts) == 1, counts
    return counts[0]


def listed_numbers(message: Message) -> list[int]:
    """Initiative numbers listed by the prompt: '*7.*' or '↳ *7.*' at a line's start."""
    return [int(n) for n in re.findall(r"^(?:↳ )?\*(\d+)\.\*", all_text(message), re.M)]


def form_blocks(view: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {b["block_id"]: b for b in view["blocks"] if "block_id" in b}


def assert_fits(message: Message) -> None:
    limits.check_message(message.blocks, message.text)
    assert message.text


def assert_shown_not_executed(message: Message) -> None:
    shown = parsed_json(message.blocks) + message.text
    for raw in RAW:
        assert raw not in shown, raw


# --- every message, every size -----------------------------------------------------------------


def answer(
    state: DepartmentState,
    entries: list[UpdateEntry],
    unreadable: list[tuple[str, str]],
    questions: bool = False,
) -> ReplyAnswer:
    asked = [
        AskedChoices(
            n,
            HOSTILE_NOTE,
            HOSTILE_NOTE,
            [UpdateEntry(e.number, s, 40, HOSTILE_NOTE) for s in Status],
        )
        for n, e in enumerate(entries if questions else [], start=1)
    ]
    return ReplyAnswer(
        state.key,
        state.name,
        state.period,
        "C0UPDATES:1800000000.000100",
        entries,
        asked,
        unreadable,
        kept_complete=[e.number for e in entries],
        without_status=[e.number for e in entries],
        restored=entries if questions else [],
    )


def every_message(state: DepartmentState) -> list[Message]:
    entries = [UpdateEntry(i.number, Status.AT_RISK, 40, HOSTILE_NOTE) for i in state.initiatives]
    unreadable = [(HOSTILE_NOTE, HOSTILE_NOTE) for _ in state.initiatives]
    numbers = [i.number for i in state.initiatives]
    line = status_line(HOSTILE, mention("U9"), NOV_3, "America/New_York")
    return [
        render_prompt(state, mention),
        render_prompt(state, mention, status_line=line),
        render_reply_answer(answer(state, entries, unreadable)),
        render_reply_answer(answer(state, entries, [])),
        render_reply_answer(answer(state, [], unreadable)),
        render_reply_answer(answer(state, entries, unreadable, questions=True)),
        render_not_an_update(state.key, state.period),
        render_not_owner(state.name),
        render_no_change_done(state, len(numbers), numbers),
        render_no_change_overtaken(state),
        render_reminder(state, 1, mention),
        render_reminder_dm(state, "https://x.slack.com/archives/C1/p1?thread_ts=1&cid=C1"),
        render_unowned(state.period, [f"{HOSTILE} {n}" for n in numbers]),
    ]


@pytest.mark.parametrize("make", [fire, huge], ids=["fire", "300 initiatives"])
def test_every_message_fits_slack_limits(make: Callable[[], DepartmentState]) -> None:
    for message in every_message(make()):
        assert_fits(message)


def test_user_text_is_shown_not_executed_anywhere() -> None:
    state = huge()
    messages = every_message(state)
    messages.append(render_not_owner(HOSTILE))
    for message in messages:
        assert_shown_not_executed(message)
    assert "&lt;!channel&gt; &amp; &lt;@U1&gt;" in all_text(messages[0])
    for page in range(1, form_pages(state) + 1):
        view = render_update_form(state, page, "{}")
        text = parsed_json(view["blocks"])
        for raw in RAW:
            assert raw not in text, raw


# --- the prompt ----------------------------------------------------------------------------------


def test_prompt_lists_every_initiative_with_its_status() -> None:
    message = render_prompt(fire(), mention)
    text = all_text(message)
    assert listed_numbers(message) == [1, 2, 3, 4, 5, 6]
    lines = {int(m[1]): m[0] for m in re.finditer(r"^(?:↳ )?\*(\d+)\.\*.*$", text, re.M)}
    for number, emoji in FIRE_STATUSES.items():
        assert emoji in lines[number], lines[number]
    assert "*1.* 🟢 On track · 60% — Open the new academy" in text
    assert "*4.* ❔ No update — Smoke alarms for every home" in text
    assert "↳ *5.* (part of #4) ❔ No update — Inspect high-rises" in text
    assert "Cut response times &amp; overtime" in text
    assert "…and" not in text


def test_prompt_asks_every_owner_and_names_the_period() -> None:
    message = render_prompt(fire(), mention)
    header = message.blocks[0]
    assert header["type"] == "header"
    assert header["text"]["text"] == "Fire — October 2026 update"
    assert "<@UCHIEF>, <@UDEPUTY>, how did October go?" in all_text(message)
    assert message.text == "Fire: your October update is due"


def test_prompt_has_both_buttons_then_the_reply_hint() -> None:
    message = render_prompt(fire(), mention)
    assert buttons(message.blocks) == {
        ActionId.SUBMIT: "fire|2026-10",
        ActionId.NO_CHANGE: "fire|2026-10",
        ActionId.ASK_HELP: "fire|2026-10",
    }
    actions = next(b for b in message.blocks if b["type"] == "actions")
    submit, no_change, ask = actions["elements"]
    assert submit["text"]["text"] == "Submit update" and submit["style"] == "primary"
    assert no_change["text"]["text"].startswith("No change")
    assert ask["text"]["text"] == "Ask for help" and "style" not in ask
    hint = message.blocks[-1]
    assert hint["type"] == "context"
    assert "`1 on track - 12 recruits started`" in hint["elements"][0]["text"]
    assert "`all others on track`" in hint["elements"][0]["text"]


def test_prompt_closes_with_the_status_line_after_the_buttons() -> None:
    line = status_line("Fire", "<@U1>", NOV_3, "America/New_York")
    message = render_prompt(fire(), mention, status_line=line)
    kinds = [b["type"] for b in message.blocks]
    assert kinds[-3:] == ["actions", "context", "context"]
    assert message.blocks[-1]["elements"][0]["text"] == "✅ Fire: updated by <@U1> on Nov 3"
    without = render_prompt(fire(), mention)
    assert len(without.blocks) == len(message.blocks) - 1


def test_huge_prompt_lists_whole_lines_and_counts_the_rest() -> None:
    message = render_prompt(huge(), mention)
    shown = listed_numbers(message)
    assert 10 <= len(shown) < 300
    assert shown == list(range(1, len(shown) + 1))
    text = all_text(message)
    assert more_count(text) == 300 - len(shown)
    assert f"…and {300 - len(shown)} more — open the form to see them all" in text
    assert buttons(message.blocks)[ActionId.SUBMIT] == "public-works|2026-10"
    assert all(f"<@UOWNER{i}>" in text for i in range(8))


def test_prompt_header_keeps_its_period_when_the_name_is_long() -> None:
    state = fire()
    long = DepartmentState(
        state.id, state.key, "Department " * 30, state.owners, None, PERIOD, state.initiatives
    )
    header = render_prompt(long, mention).blocks[0]["text"]["text"]
    assert len(header) <= limits.HEADER_TEXT
    assert header.endswith("— October 2026 update")


# --- button values -------------------------------------------------------------------------------


def test_prompt_value_round_trips() -> None:
    assert prompt_value("fire", "2026-10") == "fire|2026-10"
    assert read_prompt_value(prompt_value("health-and-human-services", "2027-01")) == (
        "health-and-human-services",
        "2027-01",
    )


@pytest.mark.parametrize(
    "value",
    [
        "",
        "fire",
        "|2026-10",
        "fire|",
        "fire|2026-13",
        "fire|2026-00",
        "fire|2026-1",
        "fire|26-10",
        "fire|2026-10 ",
        " fire|2026-10",
        "fire\n|2026-10",
        "fire|2026-10|x",
        "fire|" + "9" * 5000,
        "x" * 3000 + "|2026-10",
        None,
        42,
        ["fire", "2026-10"],
        {"value": "fire|2026-10"},
    ],
)
def test_read_prompt_value_rejects_garbage(value: Any) -> None:
    assert read_prompt_value(value) is None


# --- the status line -----------------------------------------------------------------------------


def test_status_line_shows_the_day_in_the_plan_time_zone() -> None:
    early_utc = datetime(2026, 11, 3, 2, 0, tzinfo=UTC)
    assert status_line("Fire", "<@U1>", early_utc, "America/New_York") == (
        "✅ Fire: updated by <@U1> on Nov 2"
    )
    assert status_line("Fire", "<@U1>", early_utc, "Europe/Paris").endswith("on Nov 3")


def test_status_line_takes_a_naive_time_as_utc_whatever_the_host_zone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    try:
        # 12:00 UTC is 07:00 in New York; taken as Tokyo time it would be 22:00 the day before.
        naive = datetime(2026, 11, 3, 12, 0)
        assert status_line("Fire", "<@U1>", naive, "America/New_York").endswith("on Nov 3")
    finally:
        monkeypatch.undo()
        time.tzset()


def test_status_line_flags_late_answers_and_escapes_the_name() -> None:
    line = status_line("Parks & <!here>", "Ana", NOV_3, "America/New_York", late=True)
    assert line == "✅ Parks &amp; &lt;!here&gt;: updated by Ana on Nov 3 (late)"


# --- the form ------------------------------------------------------------------------------------


@pytest.mark.parametrize("count", [1, 6, FORM_PAGE_SIZE, FORM_PAGE_SIZE + 1, 100, 300])
def test_form_pages_fit_and_show_every_initiative_once(count: int) -> None:
    """Each initiative once: asked about on one page, or, when complete, listed on the first
    with a menu to reopen it."""
    state = with_size(count)
    complete = [i.number for i in state.initiatives if i.status == Status.COMPLETE]
    pages = form_pages(state)
    assert pages == max(1, math.ceil((count - len(complete)) / FORM_PAGE_SIZE))
    seen: list[int] = []
    listed: list[int] = []
    for page in range(1, pages + 1):
        view = render_update_form(state, page, f'{{"page": {page}}}')
        limits.check_view(view["blocks"])
        assert len(view["title"]["text"]) <= limits.MODAL_TITLE
        assert view["callback_id"] == CallbackId.UPDATE_FORM
        assert view["private_metadata"] == f'{{"page": {page}}}'
        assert view["close"]["text"] == "Cancel"
        assert view["submit"]["text"] == ("Save" if page == pages else "Save & next")
        on_page = [int(k.split("-")[1]) for k in form_blocks(view) if k.startswith("status-")]
        assert on_page == page_numbers(state, page)
        assert len(on_page) <= FORM_PAGE_SIZE
        seen += on_page
        context = view["blocks"][0]["elements"][0]["text"]
        assert "October 2026" in context
        assert (f"Page {page} of {pages}" in context) == (pages > 1)
        for block in view["blocks"]:
            if block.get("block_id") == "complete":
                assert page == 1
                listed += [int(o["value"]) for o in block["accessory"]["options"]]
    assert listed == complete[: limits.STATIC_SELECT_OPTIONS]
    assert sorted(seen + complete) == list(range(1, count + 1))
    assert len(seen) == len(set(seen)) and not set(seen) & set(complete)


def test_form_pages_out_of_range_are_brought_within() -> None:
    state = huge()
    last = render_update_form(state, 99, "")
    first = render_update_form(state, -3, "")
    final = render_update_form(state, form_pages(state), "")
    assert form_blocks(last).keys() == form_blocks(final).keys()
    assert last["submit"]["text"] == "Save"
    assert "status-1" in form_blocks(first)


def test_form_is_prefilled_from_the_last_update() -> None:
    view = render_update_form(fire(), 1, "{}")
    assert form_pages(fire()) == 1
    assert view["title"]["text"] == "Fire update"
    assert view["submit"]["text"] == "Save"
    blocks = form_blocks(view)
    status = blocks["status-2"]
    assert status["element"]["action_id"] == "status"
    assert status["element"]["initial_option"]["value"] == "at_risk"
    assert status["element"]["initial_option"]["text"]["text"] == "🟡 At risk"
    assert status.get("optional") is not True
    options = [(o["value"], o["text"]["text"]) for o in status["element"]["options"]]
    assert options == [(s.value, s.label) for s in Status]
    assert blocks["percent-2"]["element"]["initial_value"] == "40"
    assert blocks["percent-2"]["element"]["placeholder"]["text"] == "0–100"
    assert blocks["percent-2"]["optional"] is True
    assert "initial_value" not in blocks["percent-6"]["element"]
    note = blocks["note-2"]["element"]
    assert note["multiline"] is True and note["max_length"] == 2000
    assert "union" in note["placeholder"]["text"]
    texts = mrkdwn_texts(view["blocks"])
    assert any(t.startswith("*#2* Cut response times &amp; overtime") for t in texts)


def test_form_leaves_initiatives_without_a_status_optional_and_says_so() -> None:
    blocks = form_blocks(render_update_form(fire(), 1, "{}"))
    status = blocks["status-4"]
    assert status["optional"] is True
    assert "initial_option" not in status["element"]
    assert "Nothing is recorded" in status["hint"]["text"]


def test_form_title_fits_long_names_and_pages() -> None:
    state = huge()
    long = DepartmentState(
        state.id, state.key, "Health & Human Services", (), None, PERIOD, state.initiatives
    )
    title = render_update_form(long, 2, "")["title"]["text"]
    assert len(title) <= limits.MODAL_TITLE
    assert title.endswith(f" · 2/{form_pages(state)}")
    assert title.startswith("Health")


def test_form_refuses_oversized_private_metadata() -> None:
    render_update_form(fire(), 1, "x" * limits.PRIVATE_METADATA)
    with pytest.raises(ValueError, match="private_metadata"):
        render_update_form(fire(), 1, "x" * (limits.PRIVATE_METADATA + 1))


# --- reading the form back ---------------------------------------------------------------------


def form_values(
    number: int, status: str | None, percent: str | None = None, note: str | None = None
) -> dict[str, Any]:
    selected = None if status is None else {"text": {}, "value": status}
    return {
        f"status-{number}": {"status": {"type": "static_select", "selected_option": selected}},
        f"percent-{number}": {"percent": {"type": "plain_text_input", "value": percent}},
        f"note-{number}": {"note": {"type": "plain_text_input", "value": note}},
    }


SENSIBLE_PERCENTS = [
    (None, None),
    ("", None),
    ("  ", None),
    ("40", 40),
    (" 40 ", 40),
    ("40%", 40),
    ("0", 0),
    ("100", 100),
    ("100 %", 100),
    ("007", 7),
]


@pytest.mark.parametrize(("percent", "expected"), SENSIBLE_PERCENTS)
def test_read_form_accepts_sensible_percents(percent: str | None, expected: int | None) -> None:
    entries, errors = read_form(form_values(3, "at_risk", percent, " waiting "), [3])
    assert errors == {}
    assert entries == [UpdateEntry(3, Status.AT_RISK, expected, "waiting")]


@pytest.mark.parametrize("percent", ["-5", "150", "101", "abc", "4.5", "40 percent", "1e2", "٤٠"])
def test_read_form_rejects_other_percents_on_their_block(percent: str) -> None:
    entries, errors = read_form(form_values(3, "on_track", percent), [3])
    assert errors == {"percent-3": "Enter a whole number from 0 to 100"}
    assert entries == []


def test_read_form_reads_every_initiative_of_the_page() -> None:
    values = {
        **form_values(1, "on_track", "60", "12 recruits started"),
        **form_values(2, "at_risk", "40%", "waiting on the union"),
        **form_values(4, None),
        **form_values(9, "complete"),  # not on this page
    }
    entries, errors = read_form(values, [1, 2, 4])
    assert errors == {}
    assert entries == [
        UpdateEntry(1, Status.ON_TRACK, 60, "12 recruits started"),
        UpdateEntry(2, Status.AT_RISK, 40, "waiting on the union"),
    ]


def test_read_form_refuses_forged_statuses() -> None:
    values = {**form_values(1, "on_fire"), **form_values(2, "ON_TRACK"), **form_values(3, "")}
    entries, errors = read_form(values, [1, 2, 3])
    assert entries == []
    assert errors == {f"status-{n}": "Choose a status" for n in (1, 2, 3)}


def test_read_form_asks_for_a_status_when_only_a_percent_or_note_was_given() -> None:
    entries, errors = read_form(
        {**form_values(4, None, "30"), **form_values(5, None, "", "x")}, [4, 5]
    )
    assert entries == []
    assert set(errors) == {"status-4", "status-5"}


def test_read_form_keeps_notes_within_the_stored_length() -> None:
    entries, _ = read_form(form_values(1, "on_track", None, "n" * 5000), [1])
    assert len(entries[0].note) == 2000


@pytest.mark.parametrize(
    "values",
    [
        None,
        [],
        "values",
        {},
        {"status-1": None},
        {"status-1": "on_track"},
        {"status-1": {"status": None}},
        {"status-1": {"status": {"selected_option": "on_track"}}},
        {"status-1": {"status": {"selected_option": {"value": None}}}},
        {"status-1": {"status": {"selected_option": {"value": ["on_track"]}}}},
        {"status-1": {"status": {"selected_option": {"value": "on_track"}}}, "percent-1": 5},
        {**form_values(1, "on_track"), "percent-1": {"percent": {"value": 40}}},
        {**form_values(1, "on_track"), "percent-1": {"percent": {"value": "9" * 5000}}},
        {**form_values(1, "on_track"), "note-1": {"note": {"value": {"x": 1}}}},
        {**form_values(1, "on_track"), "note-1": {"note": []}},
    ],
)
def test_read_form_never_raises_on_garbled_shapes(values: Any) -> None:
    entries, errors = read_form(values, [1])
    for entry in entries:
        assert entry.number == 1 and isinstance(entry.status, Status)
    assert set(errors) <= {"status-1", "percent-1"}


def test_read_form_reports_garbled_values_rather_than_recording_them() -> None:
    garbled_status = {"status-1": {"status": {"selected_option": {"value": None}}}}
    assert read_form(garbled_status, [1]) == ([], {"status-1": "Choose a status"})
    wrong_type = {**form_values(1, "on_track"), "percent-1": {"percent": {"value": 40}}}
    assert read_form(wrong_type, [1]) == ([], {"percent-1": "Enter a whole number from 0 to 100"})


# --- answers in the thread -----------------------------------------------------------------------


def test_not_owner_refusal_records_nothing_and_escapes_the_name() -> None:
    text = all_text(render_not_owner("Fire"))
    assert text == (
        "Only Fire's owners (or a Plan Bot admin) can report its progress; nothing was recorded."
    )
    assert "Only Parks &amp; Rec's owners" in all_text(render_not_owner("Parks & Rec"))


def test_an_overtaken_no_change_says_nothing_was_recorded_and_offers_the_buttons() -> None:
    message = render_no_change_overtaken(fire())
    text = all_text(message)
    assert text.startswith("Nothing was recorded for Fire for October 2026: another update")
    assert "click *No change* again" in text
    assert buttons(message.blocks) == {
        ActionId.SUBMIT: "fire|2026-10",
        ActionId.NO_CHANGE: "fire|2026-10",
    }


def test_no_change_confirmation_names_initiatives_without_a_status() -> None:
    message = render_no_change_done(fire(), 4, [4, 5])
    text = all_text(message)
    assert "Recorded no change for 4 initiatives of Fire for October 2026." in text
    assert "#4, #5 have no status yet — use Submit update for them." in text
    assert buttons(message.blocks) == {ActionId.SUBMIT: "fire|2026-10"}
    complete = render_no_change_done(fire(), 6, [])
    assert all_text(complete) == "Recorded no change for 6 initiatives of Fire for October 2026."
    assert buttons(complete.blocks) == {}
    one = all_text(render_no_change_done(fire(), 1, [4]))
    assert "initiative of Fire" in one and "#4 has no status yet" in one


def test_no_change_confirmation_summarises_long_lists() -> None:
    text = all_text(render_no_change_done(huge(), 0, list(range(1, 301))))
    assert text.startswith("Nothing was recorded for Public Works for October 2026")
    listed = ", ".join(f"#{n}" for n in range(1, 21))
    assert f"{listed} and 280 more have no status yet — use Submit update for them." in text


# --- reminders and admins ------------------------------------------------------------------------


def test_reminder_in_the_thread_asks_the_owners_again() -> None:
    message = render_reminder(fire(), 1, mention)
    assert all_text(message) == (
        "Reminder: <@UCHIEF>, <@UDEPUTY>, Fire's October update is still open — "
        "one click on *No change* is enough if nothing moved."
    )
    assert buttons(message.blocks) == {
        ActionId.SUBMIT: "fire|2026-10",
        ActionId.NO_CHANGE: "fire|2026-10",
    }
    assert all_text(render_reminder(fire(), 2, mention)).startswith("Second reminder: ")


def test_reminder_dm_links_the_prompt_and_carries_the_buttons() -> None:
    link = "https://city.slack.com/archives/C1/p1?thread_ts=1&cid=C1"
    message = render_reminder_dm(fire(), link)
    text = all_text(message)
    assert "<https://city.slack.com/archives/C1/p1?thread_ts=1&amp;cid=C1|the prompt>" in text
    assert "Fire's October update is still open" in text
    assert buttons(message.blocks) == {
        ActionId.SUBMIT: "fire|2026-10",
        ActionId.NO_CHANGE: "fire|2026-10",
    }
    for missing in (None, "", "javascript:alert(1)", "https://x|<!channel>"):
        text = all_text(render_reminder_dm(fire(), missing))
        assert "the prompt" not in text and "<!channel>" not in text
        assert "still open" in text


def test_unowned_departments_are_named_for_admins() -> None:
    text = all_text(render_unowned(PERIOD, ["Finance", "Police & <!channel>"]))
    assert text == (
        "These departments have no owner, so nobody was asked for October 2026: "
        "Finance, Police &amp; &lt;!channel&gt;. "
        "Assign one with `/plan owner &lt;department&gt; @someone`."
    )


@pytest.mark.parametrize("padding", range(0, 40, 3))
def test_many_unowned_departments_are_summarised(padding: int) -> None:
    names = [f"Department {n:03d}{'x' * padding}" for n in range(500)]
    message = render_unowned(PERIOD, names)
    assert_fits(message)
    text = all_text(message)
    assert len(text) <= limits.SECTION_PACK
    shown = len(re.findall(r"Department \d{3}x*", text))
    assert 10 < shown < 500
    assert f" and {500 - shown} more. Assign one with" in text
