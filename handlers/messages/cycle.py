"""Block Kit for the monthly update cycle: the prompt, its form, thread-reply summaries, reminders.

No SQL and no Slack calls here: each `render_*` takes a `DepartmentState` (or plain values) and
returns what to send, within Slack's limits whatever the department's size — lines that do not
fit are counted ("…and 37 more"), the form is paged, nothing is cut mid-line. `read_form` and
`read_prompt_value` read what Slack sends back and never raise, whatever its shape.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    InputBlock,
    Option,
    PlainTextInputElement,
    PlainTextObject,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from handlers.messages import limits
from handlers.messages.answers import (
    Message,
    People,
    _command,
    _context,
    _day,
    _header,
    _List,
    _message,
    _month,
    _Part,
    _plural,
    _section,
)
from handlers.messages.text import escape, escaped_excerpt, excerpt
from models.cycle import MAX_NOTE, DepartmentState, InitiativeState, UpdateEntry
from models.periods import PeriodError, parse_period, period_label
from models.status import Status, look

__all__ = [
    "FORM_CALLBACK",
    "FORM_PAGE_SIZE",
    "NO_CHANGE_ACTION",
    "SUBMIT_ACTION",
    "People",
    "form_pages",
    "page_numbers",
    "prompt_value",
    "read_form",
    "read_prompt_value",
    "render_no_change_done",
    "render_not_owner",
    "render_prompt",
    "render_reminder",
    "render_reminder_dm",
    "render_reply_summary",
    "render_unowned",
    "render_update_form",
    "status_line",
]

SUBMIT_ACTION = "prompt_submit"
NO_CHANGE_ACTION = "prompt_no_change"
FORM_CALLBACK = "update_form"

# Each initiative takes four blocks in the form (its text, status, percent, note); with the
# context line on top a page holds 1 + 24 × 4 = 97 blocks, under the modal's 100.
_BLOCKS_PER_INITIATIVE = 4
FORM_PAGE_SIZE = (limits.VIEW_BLOCKS - 1) // _BLOCKS_PER_INITIATIVE

# How much of each piece of plan or user text these messages show.
_NAME = 100
_PROMPT_TEXT = 160
_FORM_TEXT = 600
_NOTE = 200
_TYPED = 120
_REASON = 200
_MOST_MENTIONS = 30
_MOST_NUMBERS = 20
_PLACEHOLDER = 150  # Slack's limit for an input's placeholder

_SEPARATOR = "|"
_PERIOD = re.compile(r"\d{4}-(?:0[1-9]|1[0-2])", re.ASCII)
_PERCENT = re.compile(r"\s*([0-9]{1,3})\s*%?\s*", re.ASCII)

PERCENT_ERROR = "Enter a whole number from 0 to 100"
STATUS_ERROR = "Choose a status"
STATUS_MISSING_ERROR = "Choose a status to record the percent and note"

_HINT = (
    "Or reply in this thread, one line each: `1 on track - 12 recruits started` · "
    "`2 at risk 40% waiting on the union` · `all others on track`"
)
_ORDINALS = {1: "Reminder", 2: "Second reminder", 3: "Third reminder"}


# --- button values -------------------------------------------------------------------------------


def prompt_value(department_key: str, period: str) -> str:
    """The value the prompt's buttons carry: `"fire|2026-10"`."""
    if not department_key:
        raise ValueError("a prompt needs a department key")
    value = f"{department_key}{_SEPARATOR}{parse_period(period)}"
    if len(value) > limits.BUTTON_VALUE:
        raise ValueError(f"department key {department_key[:40]!r}… is too long for a button")
    return value


def read_prompt_value(value: Any) -> tuple[str, str] | None:
    """(department key, period) from a button value, or None for anything else."""
    if not isinstance(value, str) or len(value) > limits.BUTTON_VALUE:
        return None
    key, separator, period = value.rpartition(_SEPARATOR)
    if not separator or not key or key != key.strip() or not key.isprintable():
        return None
    if not _PERIOD.fullmatch(period):
        return None
    try:
        return key, parse_period(period)
    except PeriodError:
        return None


# --- small pieces --------------------------------------------------------------------------------


def _name(text: str) -> str:
    return escaped_excerpt(text, _NAME) or "—"


def _mentions(owners: Sequence[str], people: People) -> str:
    named = ", ".join(people(user) for user in owners[:_MOST_MENTIONS])
    extra = len(owners) - _MOST_MENTIONS
    return named + (f" and {extra} more" if extra > 0 else "")


def _last_status(initiative: InitiativeState) -> str:
    """'🟢 On track · 60%', or '❔ No update'."""
    latest = initiative.latest
    if latest is None:
        return look(None).label
    shown = latest.status.label
    return shown + (f" · {latest.percent}%" if latest.percent is not None else "")


def _numbers(numbers: Sequence[int]) -> str:
    """'#4, #5', or '#1, #2, … and 280 more' past a readable count."""
    shown = ", ".join(f"#{n}" for n in numbers[:_MOST_NUMBERS])
    hidden = len(numbers) - _MOST_NUMBERS
    return shown + (f" and {hidden} more" if hidden > 0 else "")


def _buttons(department_key: str, period: str) -> ActionsBlock:
    value = prompt_value(department_key, period)
    return ActionsBlock(
        elements=[
            ButtonElement(
                text="Submit update", action_id=SUBMIT_ACTION, value=value, style="primary"
            ),
            ButtonElement(
                text="No change — same as last month", action_id=NO_CHANGE_ACTION, value=value
            ),
        ]
    )


def _submit_button(department_key: str, period: str) -> ActionsBlock:
    return ActionsBlock(
        elements=[
            ButtonElement(
                text="Submit update",
                action_id=SUBMIT_ACTION,
                value=prompt_value(department_key, period),
                style="primary",
            )
        ]
    )


def _in_order(state: DepartmentState) -> list[InitiativeState]:
    return sorted(state.initiatives, key=lambda i: i.number)


# --- the prompt ----------------------------------------------------------------------------------


def _prompt_line(initiative: InitiativeState) -> str:
    """'*1.* 🟢 On track · 60% — Open the new academy'; sub-items marked with their parent."""
    number = f"*{initiative.number}.*"
    if initiative.parent_number is not None:
        number = f"↳ {number} (part of #{initiative.parent_number})"
    text = escaped_excerpt(initiative.text, _PROMPT_TEXT)
    return f"{number} {_last_status(initiative)}" + (f" — {text}" if text else "")


def render_prompt(
    state: DepartmentState, people: People, status_line: str | None = None
) -> Message:
    """The monthly prompt: who is asked, each initiative with its last status, the two buttons
    and the thread-reply hint; `status_line` (trusted mrkdwn, see `status_line()`) closes it once
    someone has answered."""
    month = _month(state.period)
    suffix = f" — {period_label(state.period)} update"
    ask = f"how did {month} go?"
    parts: list[_Part] = [
        _header(excerpt(state.name, limits.HEADER_TEXT - len(suffix)) + suffix),
        _section(f"{_mentions(state.owners, people)}, {ask}" if state.owners else ask.capitalize()),
        _List(
            lines=[_prompt_line(i) for i in _in_order(state)] or ["No initiatives yet."],
            more=lambda n: f"…and {n} more — open the form to see them all",
        ),
        _buttons(state.key, state.period),
        _context(_HINT),
    ]
    if status_line:
        parts.append(_context(excerpt(status_line, limits.CONTEXT_TEXT)))
    return _message(f"{escape(state.name)}: your {month} update is due", parts)


def status_line(
    department_name: str, who: str, when: datetime, timezone: str, late: bool = False
) -> str:
    """'✅ Fire: updated by <who> on Nov 3', the day in the plan's time zone. `who` comes from
    `people` (trusted mrkdwn); a naive `when` is taken as UTC."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    day = _day(when, timezone)
    return f"✅ {_name(department_name)}: updated by {who} on {day}" + (" (late)" if late else "")


# --- the form ------------------------------------------------------------------------------------


def form_pages(state: DepartmentState) -> int:
    """How many modal pages the department's form has (at least one)."""
    return max(1, math.ceil(len(state.initiatives) / FORM_PAGE_SIZE))


def _page(state: DepartmentState, page: int) -> int:
    """`page` (1-based) brought within the form's pages: it may come from private_metadata."""
    return min(max(page, 1), form_pages(state))


def page_numbers(state: DepartmentState, page: int) -> list[int]:
    """The initiative numbers shown on a form page (1-based), in number order."""
    start = (_page(state, page) - 1) * FORM_PAGE_SIZE
    return [i.number for i in _in_order(state)[start : start + FORM_PAGE_SIZE]]


def _form_title(name: str, page: int, pages: int) -> str:
    """'Fire update', 'Fire update · 2/3', or 'Health & Human… · 2/3' when the name is long."""
    pager = f" · {page}/{pages}" if pages > 1 else ""
    whole = f"{name} update{pager}"
    if name and len(whole) <= limits.MODAL_TITLE:
        return whole
    if not name.strip():
        return f"Update{pager}"
    if pager:
        return excerpt(name, limits.MODAL_TITLE - len(pager)) + pager
    return excerpt(name, limits.MODAL_TITLE - len(" update")) + " update"


def _status_option(status: Status) -> Option:
    return Option(value=status.value, text=PlainTextObject(text=status.label, emoji=True))


def _form_blocks(initiative: InitiativeState, period: str) -> list[Block]:
    n = initiative.number
    latest = initiative.latest
    lines = [f"*#{n}* {escaped_excerpt(initiative.text, _FORM_TEXT)}"]
    if initiative.parent_number is not None:
        lines.append(f"_↳ part of #{initiative.parent_number}_")
    if latest is not None:
        lines.append(f"_Last update: {_last_status(initiative)}, {period_label(latest.period)}_")
    else:
        lines.append("_No update yet_")
    select = StaticSelectElement(
        action_id="status",
        placeholder=PlainTextObject(text=STATUS_ERROR, emoji=True),
        options=[_status_option(s) for s in Status],
        initial_option=_status_option(latest.status) if latest is not None else None,
    )
    status = InputBlock(
        block_id=f"status-{n}",
        label=PlainTextObject(text=f"Status of #{n} for {_month(period)}", emoji=True),
        element=select,
        optional=latest is None,
        hint=None if latest is not None else f"Nothing is recorded for #{n} if left empty.",
    )
    percent = InputBlock(
        block_id=f"percent-{n}",
        label="Percent complete",
        optional=True,
        element=PlainTextInputElement(
            action_id="percent",
            placeholder="0–100",
            initial_value=(
                str(latest.percent) if latest is not None and latest.percent is not None else None
            ),
            max_length=10,
        ),
    )
    last_note = excerpt(latest.note, _PLACEHOLDER - len("Last time: ")) if latest else ""
    note = InputBlock(
        block_id=f"note-{n}",
        label="Note",
        optional=True,
        element=PlainTextInputElement(
            action_id="note",
            multiline=True,
            max_length=MAX_NOTE,
            placeholder=f"Last time: {last_note}" if last_note else "What moved, what is blocking",
        ),
    )
    return [_section("\n".join(lines)), status, percent, note]


def render_update_form(state: DepartmentState, page: int, private_metadata: str) -> dict[str, Any]:
    """The update modal, page `page` (1-based, brought within range) of `form_pages(state)`:
    per initiative its text, a status picker pre-filled with the last status, a percent and a
    note. "Save & next" on every page but the last, which says "Save"."""
    if len(private_metadata) > limits.PRIVATE_METADATA:
        raise ValueError(
            f"private_metadata has {len(private_metadata)} characters, "
            f"more than {limits.PRIVATE_METADATA}"
        )
    pages = form_pages(state)
    page = _page(state, page)
    shown = set(page_numbers(state, page))
    about = f"*{_name(state.name)}* · progress for {period_label(state.period)}"
    if pages > 1:
        about += f" · Page {page} of {pages}"
    blocks: list[Block] = [_context(about)]
    for initiative in _in_order(state):
        if initiative.number in shown:
            blocks += _form_blocks(initiative, state.period)
    if not shown:
        blocks.append(_section("This department has no initiatives yet."))
    view = View(
        type="modal",
        callback_id=FORM_CALLBACK,
        title=PlainTextObject(text=_form_title(state.name, page, pages), emoji=True),
        submit=PlainTextObject(text="Save" if page == pages else "Save & next", emoji=True),
        close=PlainTextObject(text="Cancel", emoji=True),
        private_metadata=private_metadata,
        blocks=blocks,
    )
    return view.to_dict()


def _dig(node: Any, *keys: str) -> Any:
    """node[k1][k2]…, or None as soon as a step is not a mapping or lacks the key."""
    for key in keys:
        if not isinstance(node, Mapping):
            return None
        node = node.get(key)
    return node


def _read_percent(raw: Any) -> tuple[int | None, bool]:
    """(percent, ok): blank is (None, True); '40', ' 40 ', '40%' are 40."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None, True
    if not isinstance(raw, str):
        return None, False
    found = _PERCENT.fullmatch(raw)
    if found is None or int(found.group(1)) > 100:
        return None, False
    return int(found.group(1)), True


def read_form(
    values: Mapping[str, Any], numbers: Collection[int]
) -> tuple[list[UpdateEntry], dict[str, str]]:
    """Entries and errors from a submitted form page: `view["state"]["values"]` and the
    initiative numbers that page showed. Errors are keyed by block id, ready for
    `response_action: errors`; record nothing while there are any. An initiative whose optional
    status was left empty (with no percent or note) is skipped. Never raises."""
    entries: list[UpdateEntry] = []
    errors: dict[str, str] = {}
    for n in dict.fromkeys(numbers):
        chosen = _dig(values, f"status-{n}", "status", "selected_option")
        percent_text = _dig(values, f"percent-{n}", "percent", "value")
        note = _dig(values, f"note-{n}", "note", "value")
        note = note.strip()[:MAX_NOTE] if isinstance(note, str) else ""
        percent, percent_ok = _read_percent(percent_text)
        if not percent_ok:
            errors[f"percent-{n}"] = PERCENT_ERROR
        if chosen is None:
            if note or percent is not None:
                errors[f"status-{n}"] = STATUS_MISSING_ERROR
            continue
        value = _dig(chosen, "value")
        status = Status(value) if isinstance(value, str) and value in set(Status) else None
        if status is None:
            errors[f"status-{n}"] = STATUS_ERROR
        elif percent_ok:
            entries.append(UpdateEntry(n, status, percent, note))
    return entries, errors


# --- answers in the thread and privately ---------------------------------------------------------


def _entry_line(number: int, entry: UpdateEntry) -> str:
    """'*#2* 🟡 At risk · 40% — waiting on the union agreement'."""
    line = f"*#{number}* {entry.status.label}"
    if entry.percent is not None:
        line += f" · {entry.percent}%"
    note = escaped_excerpt(entry.note, _NOTE)
    return line + (f" — {note}" if note else "")


def render_reply_summary(
    period: str,
    recorded: Sequence[tuple[int, UpdateEntry]],
    unreadable: Sequence[tuple[str, str]],
    department: DepartmentState,
) -> Message:
    """The bot's answer to a thread reply: what it recorded, what it could not read and why,
    and, when something was unreadable, the form's button."""
    label = period_label(period)
    parts: list[_Part] = []
    if recorded:
        parts.append(
            _List(
                title=f"Recorded for {label}:",
                lines=[_entry_line(n, e) for n, e in recorded],
                more=lambda n: f"…and {n} more recorded",
            )
        )
    else:
        parts.append(_section(f"Nothing was recorded for {label}."))
    if unreadable:
        parts += [
            _List(
                title="I couldn't read:",
                lines=[
                    f"• “{escaped_excerpt(typed, _TYPED) or '(empty line)'}” — "
                    f"{escaped_excerpt(reason, _REASON)}"
                    for typed, reason in unreadable
                ],
                more=lambda n: f"…and {n} more I couldn't read",
            ),
            _submit_button(department.key, period),
            _context("Use the form for these, or reply again with one line per initiative."),
        ]
    fallback = f"{escape(department.name)}, {label}: recorded {_plural(len(recorded), 'update')}"
    if unreadable:
        fallback += f", couldn't read {_plural(len(unreadable), 'line')}"
    return _message(fallback, parts)


def render_not_owner(department_name: str) -> Message:
    """Said only to someone who answered for a department they do not own."""
    shown = (
        f"Only {_name(department_name)}'s owners (or a Plan Bot admin) can report its progress; "
        "nothing was recorded."
    )
    return _message(shown, [_section(shown)])


def render_no_change_done(state: DepartmentState, recorded: int, without: Sequence[int]) -> Message:
    """The private confirmation after "No change", naming the initiatives it could not repeat."""
    name, label = _name(state.name), period_label(state.period)
    if recorded:
        shown = f"Recorded no change for {_plural(recorded, 'initiative')} of {name} for {label}."
    else:
        shown = f"Nothing was recorded for {name} for {label}: no initiative has a status yet."
    parts: list[_Part] = []
    if without:
        verb, them = ("has", "it") if len(without) == 1 else ("have", "them")
        shown += f"\n{_numbers(list(without))} {verb} no status yet — use Submit update for {them}."
        parts = [_section(shown), _submit_button(state.key, state.period)]
    else:
        parts = [_section(shown)]
    return _message(shown, parts)


# --- reminders and admins ------------------------------------------------------------------------


def _still_open(state: DepartmentState) -> str:
    return f"{_name(state.name)}'s {_month(state.period)} update is still open"


_ONE_CLICK = "one click on *No change* is enough if nothing moved."


def render_reminder(state: DepartmentState, ordinal: int, people: People) -> Message:
    """Posted in the prompt's thread while the department has not answered."""
    lead = _ORDINALS.get(ordinal, f"Reminder {ordinal}")
    owners = f"{_mentions(state.owners, people)}, " if state.owners else ""
    shown = f"{lead}: {owners}{_still_open(state)} — {_ONE_CLICK}"
    return _message(
        f"{escape(state.name)}: your {_month(state.period)} update is still open",
        [_section(shown), _buttons(state.key, state.period)],
    )


def _link(url: str) -> str | None:
    """A Slack link to `url`, or None when it would not survive as one."""
    if not url.startswith(("https://", "http://")) or any(c in url for c in "|<> \n"):
        return None
    return f"<{url.replace('&', '&amp;')}|the prompt>"


def render_reminder_dm(state: DepartmentState, permalink: str | None) -> Message:
    """A direct message to an owner who has not answered: the same ask, with the buttons."""
    link = _link(permalink) if permalink else None
    where = f"Reply in the thread of {link}, or use" if link else "Use"
    shown = f"{_still_open(state)}.\n{where} the buttons below — {_ONE_CLICK}"
    return _message(
        f"{escape(state.name)}: your {_month(state.period)} update is still open",
        [_section(shown), _buttons(state.key, state.period)],
    )


def render_unowned(period: str, names: Sequence[str]) -> Message:
    """For admins: departments nobody was asked for, because they have no owner."""
    label = period_label(period)
    if not names:
        shown = f"Every department has an owner, so every one was asked for {label}."
        return _message(shown, [_section(shown)])
    intro = (
        f"This department has no owner, so nobody was asked for {label}: "
        if len(names) == 1
        else f"These departments have no owner, so nobody was asked for {label}: "
    )
    tail = f". Assign one with {_command('owner', '<department>', '@someone')}."
    escaped = [_name(n) for n in names]
    room = limits.SECTION_PACK - len(intro) - len(tail)
    if len(", ".join(escaped)) > room:
        room -= len(f" and {len(escaped)} more")
        shown_names: list[str] = []
        used = 0
        for name in escaped:
            cost = len(name) + (2 if shown_names else 0)
            if used + cost > room:
                break
            shown_names.append(name)
            used += cost
        listed = ", ".join(shown_names) + f" and {len(escaped) - len(shown_names)} more"
    else:
        listed = ", ".join(escaped)
    shown = intro + listed + tail
    return _message(shown, [_section(shown)])
