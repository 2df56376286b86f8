"""Recording progress from Slack: who may, the form, and the prompt's summary line. Shared by
the prompt's buttons, the form, thread replies, `/plan update` and App Home."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.context import PlanContext
from handlers.messages.answers import render_error
from handlers.messages.form import render_update_form
from handlers.messages.layout import Message
from handlers.messages.prompt import render_not_owner
from handlers.person import Person
from handlers.reading.form import MeasureAnswer
from models.absence import covered_by
from models.canvases import department_canvas, want_canvas
from models.cycle import (
    DepartmentState,
    UpdateEntry,
    delivered_before,
    department_state,
    first_delivery,
    hold_department,
    record_updates,
    still_as_seen,
)
from models.db import session_scope, write_scope
from models.lookup import load_directory
from models.measurefile import ActualRow
from models.measures import record_actuals
from models.periods import PeriodError, parse_period, period_label
from models.plans import active_plan, active_plan_id, department_by_key, departments_owned_by
from models.prompt_refresh import want_prompt_refresh
from models.tables import ActualSource, Source

log = logging.getLogger(__name__)


MOST_REOPENED = 100  # complete initiatives reopened in one form (one menu's worth)


@dataclass(frozen=True)
class FormMetadata:
    department: str
    period: str
    page: int
    reopened: tuple[int, ...] = ()  # complete initiatives the lead reopened in this form

    def dump(self) -> str:
        data: dict[str, object] = {"d": self.department, "p": self.period, "pg": self.page}
        if self.reopened:
            data["r"] = list(self.reopened)
        return json.dumps(data)

    @classmethod
    def load(cls, text: str) -> FormMetadata | None:
        """None for anything that is not what we wrote (a forged or garbled payload)."""
        try:
            data = json.loads(text)
            department, period, page = str(data["d"]), parse_period(str(data["p"])), data["pg"]
            reopened = data.get("r", [])
        except (ValueError, KeyError, TypeError, AttributeError, PeriodError):
            return None
        if not isinstance(page, int) or isinstance(page, bool) or not 1 <= page <= 1000:
            return None
        if not isinstance(reopened, list) or len(reopened) > MOST_REOPENED:
            return None
        if not all(isinstance(n, int) and not isinstance(n, bool) and n > 0 for n in reopened):
            return None
        return cls(department[:60], period, page, tuple(dict.fromkeys(reopened)))


@dataclass(frozen=True)
class Reporting:
    """A department's period as its form shows it, or why this person may not report it."""

    state: DepartmentState | None
    refusal: Message | None = None  # said privately, instead of recording anything


def outside_the_plan(period: str, open_period: str, first_period: str | None) -> str | None:
    """Why a period named by a button or form cannot be reported, or None. A forged or stale
    one may name any period: late answers for past periods are welcome, but not for periods
    that have not begun, nor for ones before the plan was reported on at all."""
    if period > open_period:
        return f"{period_label(period)} has not begun yet; nothing was recorded."
    if first_period is not None and period < first_period:
        return (
            f"{period_label(period)} is before this plan's first month "
            f"({period_label(first_period)}); nothing was recorded."
        )
    return None


async def reporting_state(
    ctx: PlanContext, department_key: str, period: str, person: Person, *, urgent: bool = False
) -> Reporting:
    """The department as its form shows it, when this person may report for it (an owner or
    an admin) and the period is one the plan is reported on; otherwise what to tell them.
    `urgent`: read before Slack is answered (a form submitted)."""
    async with session_scope(ctx.engine, urgent=urgent) as session:
        plan = await active_plan(session)
        assert plan.id is not None
        outside = outside_the_plan(period, ctx.open_period(), plan.first_period)
        if outside is not None:
            return Reporting(None, render_error(outside))
        department = await department_by_key(session, plan.id, department_key)
        if department is None or department.id is None:
            return Reporting(None, render_not_owner("that department"))
        state = await department_state(
            session, plan.id, period, department.id, start_month=ctx.fiscal_year_start
        )
        if state is None:
            return Reporting(None, render_error(f"{department.name} has no initiatives."))
        if not await person.may_report_for(session, department.id):
            return Reporting(None, render_not_owner(state.name))
    return Reporting(state)


async def state_for_update_command(
    ctx: PlanContext, person: Person, words: str
) -> tuple[DepartmentState | None, str | None]:
    """`/plan update [department]`: the named department, or the caller's own; else why not."""
    period = ctx.open_period()
    async with session_scope(ctx.engine) as session:
        plan_id = await active_plan_id(session)
        if words.strip():
            directory = await load_directory(session, plan_id)
            found = directory.resolve(words, kinds=("department",))
            if found.target is None:
                hint = ", ".join(f"`/plan update {t.key}`" for t in found.suggestions)
                return None, f"No department called “{words[:100]}”." + (
                    f" Did you mean {hint}?" if hint else ""
                )
            departments = [directory.department(found.target)]
        else:
            departments = await departments_owned_by(session, person.user_id)
            if not departments:  # a delegate answers for the departments of whom they cover
                for owner in await covered_by(session, person.user_id, ctx.now()):
                    departments += await departments_owned_by(session, owner)
            if not departments:
                return None, (
                    "You do not own a department yet. Name one (`/plan update fire`) "
                    "if you are an admin, or ask an admin to add you."
                )
            if len(departments) > 1:
                keys = ", ".join(f"`/plan update {d.key}`" for d in departments[:10])
                return None, f"You own several departments; name one: {keys}."
        department = departments[0]
        assert department.id is not None
        if not await person.may_report_for(session, department.id):
            return None, (
                f"Only {department.name}'s owners or a Plan Bot admin can report its progress."
            )
        state = await department_state(
            session, plan_id, period, department.id, start_month=ctx.fiscal_year_start
        )
    if state is None:
        return None, f"{department.name} has no initiatives to report on."
    return state, None


async def open_form(
    client: AsyncWebClient, trigger_id: str, state: DepartmentState, page: int = 1
) -> None:
    metadata = FormMetadata(state.key, state.period, page).dump()
    await client.views_open(trigger_id=trigger_id, view=render_update_form(state, page, metadata))


def form_view(state: DepartmentState, metadata: FormMetadata) -> dict[str, Any]:
    """The form as `metadata` says it stands: its page and the initiatives reopened."""
    return render_update_form(state, metadata.page, metadata.dump(), metadata.reopened)


async def record_reported(
    ctx: PlanContext,
    session: AsyncSession,
    state: DepartmentState,
    entries: Sequence[UpdateEntry],
    *,
    author: str,
    source: Source,
    source_ref: str | None = None,
) -> list[UpdateEntry]:
    """Record what `author` reported for the department's period, in `session` (with whatever
    else belongs in the same transaction: a thread reply's delivery and questions, a chosen
    reading's claim), late or not by the plan's calendar, received now by its clock — read
    once the department is held, so that an answer recorded after another is the later one."""
    await hold_department(session, state.id)
    return await record_updates(
        session,
        state,
        entries,
        author=author,
        source=source,
        source_ref=source_ref,
        late=ctx.is_late(state.period),
        now=ctx.now(),
    )


async def record_and_refresh(
    ctx: PlanContext,
    client: AsyncWebClient,
    state: DepartmentState,
    entries: Sequence[UpdateEntry],
    *,
    author: str,
    source: Source,
    answer: Callable[[], Awaitable[None]],
    once: str,
    actuals: Sequence[ActualRow] = (),
    same_as: str | None = None,
    urgent: bool = False,
    changed: Callable[[], Awaitable[None]] | None = None,
) -> bool:
    """What every surface does with an answer: record it, then `answer` the person (it is
    stored by then), then show it on the month's prompt. `once` names the interaction (a
    click's trigger and time, a form's view and hash): the same one delivered again — a replay,
    a retry — gets the same answer and records nothing. False for such a repeat. Surfaces that
    write more in the same transaction use `record_reported` and `refresh_prompt` themselves.
    With `changed`, the entries repeat `state` as it was read ("No change"): if another answer
    was stored since, nothing is recorded and `changed` tells the person instead of `answer`."""
    first = True
    waits = False
    stale = False
    if entries or actuals:  # an answer that records nothing writes nothing, not even that it came
        # `urgent`: Slack's acknowledgement waits for this write (a form): it goes first.
        async with write_scope(ctx.engine, urgent=urgent) as session:
            if changed is not None and not await still_as_seen(session, state):
                # Changed by this very answer, delivered again or clicked twice, it is a repeat;
                # changed by another, what the person saw is no longer what they would repeat.
                first = False
                stale = not (
                    await delivered_before(session, once)
                    or (same_as is not None and await delivered_before(session, same_as))
                )
            else:
                first = await first_delivery(session, once)
                # An answer identical to one being recorded at this moment (`same_as`: a double
                # click handled at once by two workers) is the same answer: the database decides.
                if first and same_as is not None:
                    first = await first_delivery(session, same_as)
            if first:
                await record_reported(ctx, session, state, entries, author=author, source=source)
                await record_measures(ctx, session, state, actuals, author=author, source=source)
                waits = await want_shown(ctx, session, state.id, state.period)
    if stale and changed is not None:
        log.info("an answer read before another was stored: nothing recorded, the person is asked")
        await changed()
        return False
    if not first:
        log.info("answered a repeated %s without recording it", once.split(":")[0])
    try:
        await answer()
    finally:  # the prompt follows the stored answer even if telling the person failed
        if first and (entries or actuals):
            await show_soon(ctx, client, state.id, waits)
    return first


def measure_rows(state: DepartmentState, answers: Sequence[MeasureAnswer]) -> list[ActualRow]:
    """The form's measure answers as actuals of the department's measures for its period: a
    note alone repeats the period's value with the explanation (the number stays the one that
    arrived; the note is the lead's)."""
    rows = []
    for given in answers:
        view = state.measure(given.measure_id)
        value = given.value
        if view is not None and value is None:
            value = view.values.get(state.period)
        if view is not None and value is not None:
            rows.append(ActualRow(view.key, state.period, value, note=given.note))
    return rows


async def record_measures(
    ctx: PlanContext,
    session: AsyncSession,
    state: DepartmentState,
    rows: Sequence[ActualRow],
    *,
    author: str,
    source: Source,
) -> int:
    """Record a lead's numbers for the department's own measures, in `session`; how many."""
    if not rows:
        return 0
    result = await record_actuals(
        session,
        await active_plan_id(session),
        rows,
        source=ActualSource.THREAD if source == Source.THREAD else ActualSource.FORM,
        author=author,
        received_at=ctx.now(),
        allowed=[m.id for m in state.measures],
    )
    return result.stored


def click_key(body: dict[str, Any]) -> str:
    """A click, as Slack identifies it: its trigger and the action's time (a replay carries
    both unchanged; another click, even a double click, has its own)."""
    actions = body.get("actions") or [{}]
    first = actions[0] if isinstance(actions, list) and actions else {}
    action_ts = first.get("action_ts", "") if isinstance(first, dict) else ""
    return f"click:{body.get('trigger_id', '')}:{action_ts}"[:100]


def submission_key(view: dict[str, Any]) -> str:
    """A form page submitted, as Slack identifies it: the view and its hash (which changes
    whenever the view does, so the next page is another submission)."""
    return f"view:{view.get('id', '')}:{view.get('hash', '')}"[:100]


async def want_shown(
    ctx: PlanContext, session: AsyncSession, department_id: int, period: str
) -> bool:
    """In the answer's own transaction: the month's prompt wanted, so that it shows the new
    statuses and "Fire: updated by @chief on Nov 3", and the department's canvas. Whether a
    prompt waits (one was posted)."""
    if ctx.canvases:
        await want_canvas(session, department_canvas(department_id), ctx.now())
    return await want_prompt_refresh(session, department_id, period, ctx.now())


async def show_soon(
    ctx: PlanContext, client: AsyncWebClient, department_id: int, prompt_waits: bool
) -> None:
    """Once the answer is stored: wake the refresher, which edits the prompt at Slack's pace
    for the workspace (a whole burst of answers is one edit: jobs/prompt_refresh.py), and start
    the canvas's debounce. The answer does not wait for either, and a failure here loses
    nothing: the updates are stored, and what waits is in the database."""
    if ctx.canvases and ctx.canvas_wanted is not None:
        ctx.canvas_wanted(ctx, client, department_id)
    if prompt_waits and ctx.prompt_wanted is not None:
        await ctx.prompt_wanted(ctx, client)


async def refresh_prompt(
    ctx: PlanContext, client: AsyncWebClient, department_key: str, period: str
) -> None:
    """`want_shown` and `show_soon`, for a change stored without its own transaction at hand."""
    async with write_scope(ctx.engine) as session:
        plan_id = await active_plan_id(session)
        department = await department_by_key(session, plan_id, department_key)
        if department is None or department.id is None:
            return
        waits = await want_shown(ctx, session, department.id, period)
    await show_soon(ctx, client, department.id, waits)


def first_block_id(view: dict[str, Any]) -> str | None:
    for block in view.get("blocks") or []:
        if block.get("type") == "input" and block.get("block_id"):
            return str(block["block_id"])
    return None
