"""Block Kit for the update form: one page per FORM_PAGE_SIZE initiatives, each with its status,
percent and note; the initiatives already complete listed on top with a menu to reopen one.

No SQL and no Slack calls here; what Slack sends back is read in `handlers/reading/form.py`.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from typing import Any

from slack_sdk.models.blocks import (
    Block,
    InputBlock,
    MarkdownTextObject,
    NumberInputElement,
    Option,
    PlainTextInputElement,
    PlainTextObject,
    SectionBlock,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from handlers.ids import ActionId, CallbackId
from handlers.messages import limits
from handlers.messages.layout import (
    context,
    month_name,
    plan_name,
    section,
)
from handlers.messages.measure_words import amount, unit_label
from handlers.messages.prompt import SOURCE_WORDS, asked, done_before, not_asked
from handlers.messages.text import escaped_excerpt, excerpt
from handlers.messages.words import status_text
from handlers.reading.form import MEASURE_BLOCK, MEASURE_NOTE_BLOCK, STATUS_ERROR
from models.cycle import MAX_NOTE, DepartmentState, InitiativeState
from models.measures import MeasureView
from models.periods import period_label
from models.queries import UpdateView
from models.status import Status
from models.tables import Source

# Each initiative takes four blocks in the form (its text, status, percent, note); with the
# context line and the list of complete initiatives on top a page holds 2 + 24 × 4 = 98
# blocks, under the modal's 100.
_BLOCKS_PER_INITIATIVE = 4
FORM_PAGE_SIZE = (limits.VIEW_BLOCKS - 1) // _BLOCKS_PER_INITIATIVE
_FORM_TEXT = 600
_PLACEHOLDER = 150  # Slack's limit for an input's placeholder
_COMPLETE_TEXT = 80
_COMPLETE_TEXT_LINES = 20
# Two blocks a measure, under the heading and the context line: 2 + 2 × 49 = 100.
MOST_FORM_MEASURES = (limits.VIEW_BLOCKS - 2) // 2


def initiative_pages(state: DepartmentState, reopened: Collection[int] = ()) -> int:
    """How many pages ask about initiatives (at least one)."""
    return max(1, math.ceil(len(asked(state, reopened)) / FORM_PAGE_SIZE))


def form_measures(state: DepartmentState) -> list[MeasureView]:
    """The measures the form asks a number for: those due this period, on a page of their own
    after the initiatives' (two inputs each: the most a page holds)."""
    return state.due_measures[:MOST_FORM_MEASURES]


def form_pages(state: DepartmentState, reopened: Collection[int] = ()) -> int:
    """How many modal pages the department's form has (at least one): the initiatives' pages,
    and one for its measures when any is due."""
    return initiative_pages(state, reopened) + (1 if form_measures(state) else 0)


def is_measures_page(state: DepartmentState, page: int, reopened: Collection[int] = ()) -> bool:
    return bool(form_measures(state)) and _page(state, page, reopened) == form_pages(
        state, reopened
    )


def _page(state: DepartmentState, page: int, reopened: Collection[int] = ()) -> int:
    """`page` (1-based) brought within the form's pages: it may come from private_metadata."""
    return min(max(page, 1), form_pages(state, reopened))


def page_numbers(state: DepartmentState, page: int, reopened: Collection[int] = ()) -> list[int]:
    """The initiative numbers a form page (1-based) asks about (none on the measures page)."""
    page = _page(state, page, reopened)
    if page > initiative_pages(state, reopened):
        return []
    start = (page - 1) * FORM_PAGE_SIZE
    return [i.number for i in asked(state, reopened)[start : start + FORM_PAGE_SIZE]]


def _measure_blocks(state: DepartmentState, view: MeasureView) -> list[Block]:
    """A number input in the measure's unit, and a note for why it is off target. Nothing is
    pre-filled: a number the lead did not type is never sent back as theirs."""
    judged = view.judged(state.period, state.fiscal_start)
    latest = view.latest.get(state.period)
    facts = []
    if latest is not None:
        facts.append(
            f"Now {amount(latest.value, view.unit)} ({judged.status.word.lower()}), from "
            f"{SOURCE_WORDS.get(latest.source, latest.source)}: leave empty to keep it"
        )
    else:
        before = [p for p in view.values if p < state.period]
        if before:
            last = max(before)
            facts.append(f"Last: {amount(view.values[last], view.unit)} ({month_name(last)})")
    if judged.target is not None:
        facts.append(f"Target: {amount(judged.target, view.unit)} ({view.direction.words})")
    unit = unit_label(view.unit)
    label = excerpt(f"{view.name} {unit}".strip(), limits.INPUT_LABEL)
    number = InputBlock(
        block_id=f"{MEASURE_BLOCK}{view.id}",
        label=PlainTextObject(text=label, emoji=True),
        optional=True,
        hint=excerpt(" · ".join(facts), limits.INPUT_HINT) if facts else None,
        element=NumberInputElement(action_id="value", is_decimal_allowed=True),
    )
    note = InputBlock(
        block_id=f"{MEASURE_NOTE_BLOCK}{view.id}",
        label="Why, if it is off target",
        optional=True,
        element=PlainTextInputElement(action_id="note", multiline=True, max_length=MAX_NOTE),
    )
    return [number, note]


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


def _when_said(latest: UpdateView) -> str:
    return "from the plan" if latest.source == Source.PLAN else period_label(latest.period)


def _form_blocks(initiative: InitiativeState, period: str) -> list[Block]:
    n = initiative.number
    latest = initiative.latest
    reopened = done_before(initiative, period)
    lines = [f"*#{n}* {escaped_excerpt(initiative.text, _FORM_TEXT)}"]
    if initiative.parent_number is not None:
        lines.append(f"_↳ part of #{initiative.parent_number}_")
    if reopened and latest is not None:
        lines.append(f"_Reopened: it was ✅ Complete, {_when_said(latest)}_")
    elif latest is not None:
        lines.append(f"_Last update: {status_text(initiative.latest)}, {_when_said(latest)}_")
    else:
        lines.append("_No update yet_")
    select = StaticSelectElement(
        action_id="status",
        placeholder=PlainTextObject(text=STATUS_ERROR, emoji=True),
        options=[_status_option(s) for s in Status],
        initial_option=(
            _status_option(latest.status) if latest is not None and not reopened else None
        ),
    )
    status = InputBlock(
        block_id=f"status-{n}",
        label=PlainTextObject(text=f"Status of #{n} for {month_name(period)}", emoji=True),
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
    return [section("\n".join(lines)), status, percent, note]


def _complete_section(done: Sequence[InitiativeState]) -> SectionBlock:
    """The complete initiatives, not asked again, with a menu to reopen one."""
    lines = [f"• *#{i.number}* {escaped_excerpt(i.text, _COMPLETE_TEXT)}" for i in done]
    shown = _COMPLETE_TEXT_LINES
    listed = "\n".join(lines[:shown]) + (
        f"\n…and {len(lines) - shown} more" if len(lines) > shown else ""
    )
    reopen = StaticSelectElement(
        action_id=ActionId.REOPEN,
        placeholder=PlainTextObject(text="Reopen one…", emoji=True),
        options=[
            Option(
                value=str(i.number),
                text=PlainTextObject(
                    text=excerpt(f"#{i.number} {i.text}", limits.OPTION_TEXT), emoji=True
                ),
            )
            for i in done[: limits.STATIC_SELECT_OPTIONS]
        ],
    )
    return SectionBlock(
        block_id="complete",
        text=MarkdownTextObject(text=f"*✅ Complete — not asked again* ({len(done)})\n{listed}"),
        accessory=reopen,
    )


def render_update_form(
    state: DepartmentState,
    page: int,
    private_metadata: str,
    reopened: Collection[int] = (),
) -> dict[str, Any]:
    """The update modal, page `page` (1-based, brought within range) of `form_pages(state)`:
    per initiative its text, a status picker pre-filled with the last status, a percent and a
    note. Complete initiatives are not asked again: the first page lists them, with a menu to
    reopen one (`reopened`: those reopened, asked first with no status chosen). "Save & next"
    on every page but the last, which says "Save"."""
    if len(private_metadata) > limits.PRIVATE_METADATA:
        raise ValueError(
            f"private_metadata has {len(private_metadata)} characters, "
            f"more than {limits.PRIVATE_METADATA}"
        )
    pages = form_pages(state, reopened)
    page = _page(state, page, reopened)
    shown = page_numbers(state, page, reopened)
    by_number = {i.number: i for i in state.initiatives}
    about = f"*{plan_name(state.name)}* · progress for {period_label(state.period)}"
    if pages > 1:
        about += f" · Page {page} of {pages}"
    blocks: list[Block] = [context(about)]
    if is_measures_page(state, page, reopened):
        blocks.append(
            section(
                f"*Measures for {month_name(state.period)}* — a number for each, in its unit; "
                "leave one empty if you do not have it yet."
            )
        )
        for view in form_measures(state):
            blocks += _measure_blocks(state, view)
        return _modal(state, page, pages, private_metadata, blocks)
    done = not_asked(state, reopened)
    if page == 1 and done:
        blocks.append(_complete_section(done))
    for number in shown:
        blocks += _form_blocks(by_number[number], state.period)
    if not state.initiatives:
        blocks.append(section("This department has no initiatives yet."))
    elif not shown:
        blocks.append(section("Every initiative is complete: there is nothing to report."))
    return _modal(state, page, pages, private_metadata, blocks)


def _modal(
    state: DepartmentState, page: int, pages: int, private_metadata: str, blocks: list[Block]
) -> dict[str, Any]:
    view = View(
        type="modal",
        callback_id=CallbackId.UPDATE_FORM,
        title=PlainTextObject(text=_form_title(state.name, page, pages), emoji=True),
        submit=PlainTextObject(text="Save" if page == pages else "Save & next", emoji=True),
        close=PlainTextObject(text="Cancel", emoji=True),
        private_metadata=private_metadata,
        blocks=blocks,
    )
    return view.to_dict()
