"""Thread replies to a prompt, in the lead's own words: what the bot is sure of is recorded at
once, what it is not sure of is asked back with a button per reading, and the answer in the
thread shows every initiative recorded, with Undo. An edited reply is read again whole."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from handlers.context import PlanContext
from handlers.messages.layout import month_name
from handlers.messages.limits import TIER_3_PER_MINUTE
from handlers.messages.prompt import render_not_owner
from handlers.messages.thread import (
    AskedChoices,
    RecordedMeasure,
    ReplyAnswer,
    render_not_an_update,
    render_reply_answer,
)
from handlers.person import Person
from handlers.reading.measures import KnownMeasure, MeasureReading, read_measure_lines
from handlers.reading.replies import Known, ReplyReading, read_thread_reply
from handlers.updates import record_measures, record_reported, show_soon, want_shown
from models.clean import clean_text
from models.cycle import (
    DepartmentState,
    UpdateEntry,
    department_state,
    first_delivery,
    prompt_for_message,
)
from models.db import session_scope, write_scope
from models.measurefile import ActualRow
from models.pace import try_slot
from models.plans import active_plan_id
from models.replies import (
    ask_questions,
    recorded_by_reply,
    replace_questions,
    reply_ref,
    undo_reply,
)
from models.tables import Source

log = logging.getLogger(__name__)

REACTIONS = "reactions.add"  # the workspace's reactions budget, in models.pace
REACTION_GAP = 60.0 / TIER_3_PER_MINUTE
REACTION_BURST = 3


@dataclass(frozen=True)
class ThreadMessage:
    channel: str
    user: str
    text: str
    ts: str
    thread_ts: str
    edited: bool


def read_reply(event: dict[str, Any]) -> ThreadMessage | None:
    """A person's reply in a thread (new or edited), or None for anything else."""
    subtype = event.get("subtype")
    message = event.get("message") if subtype == "message_changed" else event
    if subtype not in (None, "message_changed", "thread_broadcast") or not isinstance(
        message, dict
    ):
        return None
    if message.get("bot_id") or message.get("subtype") == "bot_message":
        return None
    channel, user = event.get("channel"), message.get("user")
    ts, thread_ts = message.get("ts"), message.get("thread_ts")
    if not (channel and user and ts and thread_ts) or ts == thread_ts:
        return None
    return ThreadMessage(
        str(channel),
        str(user),
        str(message.get("text") or ""),
        str(ts),
        str(thread_ts),
        subtype == "message_changed",
    )


def known_initiatives(state: DepartmentState) -> list[Known]:
    """The department's initiatives as the reader needs them: number, text, last status."""
    return [
        Known(i.number, i.text, i.status, i.latest.percent if i.latest is not None else None)
        for i in state.initiatives
    ]


def known_measures(state: DepartmentState) -> list[KnownMeasure]:
    """The department's measures as the measure-line reader needs them; one not due this
    period is known too, so that a line giving it is answered rather than lost."""
    due = {m.id for m in state.due_measures}
    month = month_name(state.period)
    return [
        KnownMeasure(
            m.id,
            m.name,
            (m.key, m.name, *m.aliases),
            m.unit,
            state.period in m.values,
            None
            if m.id in due
            else f"{m.name} is reported {m.rule.frequency.value}: none is due for {month}",
        )
        for m in state.measures
    ]


def entries_of(reading: ReplyReading) -> list[UpdateEntry]:
    return [UpdateEntry(r.number, r.status, r.percent, r.note) for r in reading.readings]


def register(app: AsyncApp, ctx: PlanContext) -> None:
    @app.event("message")
    async def thread_reply(
        event: dict[str, Any], body: dict[str, Any], client: AsyncWebClient
    ) -> None:
        reply = read_reply(event)
        if reply is None:
            return
        async with session_scope(ctx.engine) as session:
            prompt = await prompt_for_message(session, reply.channel, reply.thread_ts)
            if prompt is None:
                return  # a thread that is not one of our prompts
            plan_id = await active_plan_id(session)
            state = await department_state(
                session,
                plan_id,
                prompt.period,
                prompt.department_id,
                start_month=ctx.fiscal_year_start,
            )
            # The reply's author, who for an edit is the message's, not the event's.
            author = Person(reply.user, ctx.is_admin(reply.user), ctx.now())
            allowed = await author.may_report_for(session, prompt.department_id)
        if state is None:
            return
        event_id = str(body.get("event_id") or f"{reply.channel}:{reply.ts}:{reply.text}")[:100]
        if not allowed:
            async with session_scope(ctx.engine) as session:
                if not await first_delivery(session, event_id):
                    return
            refusal = render_not_owner(state.name)
            await client.chat_postEphemeral(
                channel=reply.channel,
                user=reply.user,
                thread_ts=reply.thread_ts,
                text=refusal.text,
                blocks=refusal.blocks,
            )
            return
        # Read as it will be stored: the answer shows exactly what is recorded. Lines naming
        # one of the department's measures are read first; the rest are initiatives'.
        text = clean_text(reply.text)
        numbers = read_measure_lines(text, known_measures(state))
        reading = read_thread_reply(numbers.rest, known_initiatives(state))
        answer = await _record(ctx, state, reply, reading, event_id, numbers)
        if answer is None:
            return
        changed = answer.recorded or answer.restored or answer.measures
        if changed:  # first: the prompt follows even if the thread answer fails
            await show_soon(ctx, client, state.id, prompt_waits=True)
        message = (
            render_reply_answer(answer)
            if reading.is_update or answer.restored or numbers.lines or numbers.unreadable
            else render_not_an_update(state.key, state.period)
        )
        if ctx.wait_to_post is not None:
            await ctx.wait_to_post(reply.channel)
        await client.chat_postMessage(
            channel=reply.channel,
            thread_ts=reply.thread_ts,
            text=message.text,
            blocks=message.blocks,
        )
        if changed:
            await _tick_the_reply(ctx, client, reply)


async def _tick_the_reply(ctx: PlanContext, client: AsyncWebClient, reply: ThreadMessage) -> None:
    """A ✅ on the reply, when the workspace's `reactions.add` budget (Tier 3, shared by every
    replica) has room: the answer in the thread is the acknowledgement; on a morning of a
    thousand replies the tick is left out rather than drawing 429s."""
    async with write_scope(ctx.engine) as session:
        room = await try_slot(session, time.time(), REACTION_GAP, REACTIONS, burst=REACTION_BURST)
    if not room:
        log.info("no ✅ on %s: the workspace's reactions budget is spent", reply.ts)
        return
    try:
        await client.reactions_add(
            channel=reply.channel, timestamp=reply.ts, name="white_check_mark"
        )
    except SlackApiError as exc:
        if exc.response.get("error") != "already_reacted":
            log.warning("no ✅ on %s: Slack said %s", reply.ts, exc.response.get("error"))


def _without_reason(state: DepartmentState, changed: list[UpdateEntry]) -> list[UpdateEntry]:
    """Reds and ambers set by this reply without a reason, asked why once: not when the
    initiative already had that status this period (asked then, or explained then)."""
    found = []
    for entry in changed:
        if not entry.status.needs_reason or entry.note.strip():
            continue
        initiative = state.initiative(entry.number)
        before = initiative.latest if initiative is not None else None
        if before is not None and before.period == state.period and before.status == entry.status:
            continue
        found.append(entry)
    return found


async def _record(
    ctx: PlanContext,
    state: DepartmentState,
    reply: ThreadMessage,
    reading: ReplyReading,
    event_id: str,
    numbers: MeasureReading,
) -> ReplyAnswer | None:
    """Store what the reply says — updates, questions, and for an edit what it no longer says
    — together with its delivery, so a retried event finds it all done. None when there is
    nothing to answer (a retry, or a second reply without an update in the same thread)."""
    ref = reply_ref(reply.channel, reply.ts)
    now = ctx.now()
    late = ctx.is_late(state.period)
    entries = entries_of(reading)
    async with write_scope(ctx.engine) as session:
        if not await first_delivery(session, event_id):
            log.info("ignored a retried delivery of %s", event_id)
            return None
        before: dict[int, UpdateEntry] = {}
        if reply.edited:
            before = await recorded_by_reply(session, state, ref)
            await replace_questions(session, ref, now)
        if not reading.is_update and not before and not numbers.lines and not numbers.unreadable:
            # "Thanks!" after an update needs no answer; "will send Friday" gets one, once
            # per person and thread, not one for every line of chat.
            once = f"no-update:{reply.channel}:{reply.thread_ts}:{reply.user}"
            if state.reported or not await first_delivery(session, once):
                return None
        changed = [e for e in entries if before.get(e.number) != e]
        await record_reported(
            ctx,
            session,
            state,
            changed,
            author=reply.user,
            source=Source.THREAD,
            source_ref=ref,
        )
        given = [
            ActualRow(
                m.key, state.period, line.value if line.value is not None else value, line.note
            )
            for line in numbers.lines
            if (m := state.measure(line.measure_id)) is not None
            and (value := line.value if line.value is not None else m.values.get(state.period))
            is not None
        ]
        await record_measures(ctx, session, state, given, author=reply.user, source=Source.THREAD)
        asked = {n for q in reading.questions for n in q.numbers}
        dropped = [n for n in before if n not in {e.number for e in entries} and n not in asked]
        restored = []
        if dropped:
            undone = await undo_reply(
                session, state, ref, author=reply.user, late=late, now=now, numbers=dropped
            )
            restored = undone.restored
        ids = await ask_questions(
            session,
            department_id=state.id,
            period=state.period,
            reply=ref,
            asked_of=reply.user,
            questions=[
                [UpdateEntry(c.number, c.status, c.percent, c.note) for c in q.choices]
                for q in reading.questions
            ],
            now=now,
        )
        if changed or restored or given:  # shown on the prompt: wanted in the same transaction
            await want_shown(ctx, session, state.id, state.period)
    return ReplyAnswer(
        department_key=state.key,
        department_name=state.name,
        period=state.period,
        reply=ref,
        recorded=changed,
        questions=[
            AskedChoices(
                id,
                q.said,
                q.why,
                [UpdateEntry(c.number, c.status, c.percent, c.note) for c in q.choices],
            )
            for id, q in zip(ids, reading.questions, strict=True)
        ],
        unreadable=[*((u.said, u.reason) for u in reading.unreadable), *numbers.unreadable],
        measures=[
            RecordedMeasure(m.name, m.unit, line.value, line.note)
            for line in numbers.lines
            if (m := state.measure(line.measure_id)) is not None
        ],
        kept_complete=reading.kept_complete,
        without_status=reading.without_status,
        ask_why=_without_reason(state, changed) if ctx.reason_required else [],
        restored=restored,
        edited=reply.edited,
        undoable=any(
            (i := state.initiative(e.number)) is not None and i.latest is not None for e in changed
        ),
    )
