"""Escalation of silence (issue 16): when a period closes, each department whose prompt was
posted and that still has not answered — no initiative reported, or a measure's number owed —
is named in one direct message to its escalation contacts (the admins when it has none), with
what is missing. Never a post in a channel. Sent once per department and period, claimed as
reminders are, so a restart or a second replica sends nothing twice."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from slack_sdk.web.async_client import AsyncWebClient

from handlers.context import PlanContext
from handlers.messages.escalation import render_escalation
from handlers.people import mention
from jobs.delivery import SharedPace, careful_client, claim_or_take_over, holder, keep_leases
from jobs.failures import POST_FAILURES, describe
from models.cycle import (
    claim_escalation,
    department_states,
    finish_escalation,
    prompts_of,
)
from models.db import session_scope
from models.plans import active_plan_id, contacts_of
from models.tables import ContactRole, Escalation, PostState

log = logging.getLogger(__name__)


@dataclass
class EscalationRun:
    period: str
    escalated: list[str] = field(default_factory=list)  # department keys
    answered: list[str] = field(default_factory=list)
    already: list[str] = field(default_factory=list)  # sent before, or being sent elsewhere
    nobody: list[str] = field(default_factory=list)  # no contact and no admin to tell
    failed: list[tuple[str, str]] = field(default_factory=list)


async def escalate_silence(ctx: PlanContext, client: AsyncWebClient, period: str) -> EscalationRun:
    """Tell each silent department's escalation contacts that `period` closed without its
    answer. Meant for the moment the period closes (the next month's prompt time)."""
    run = EscalationRun(period)
    pace = SharedPace(ctx.engine, ctx.posts_per_second)
    careful = careful_client(client)
    me = holder(ctx)
    async with session_scope(ctx.engine) as session:
        plan_id = await active_plan_id(session)
        posted = [
            p.department_id
            for p in await prompts_of(session, period)
            if p.state == PostState.POSTED and p.message_ts
        ]
        states = await department_states(
            session, plan_id, period, posted, start_month=ctx.fiscal_year_start
        )
        contacts = await contacts_of(session, posted, ContactRole.ESCALATION)
    closed = ctx.calendar.closes_at(period)
    admins = tuple(sorted(ctx.admins))
    async with keep_leases(ctx, me):
        for state in states:
            if state.reported and not state.measures_without_number:
                run.answered.append(state.key)
                continue
            recipients = contacts.get(state.id) or admins
            if not recipients:
                run.nobody.append(state.key)
                continue
            async with session_scope(ctx.engine) as session:
                claimed, _ = await claim_or_take_over(
                    session,
                    lambda department_id=state.id: claim_escalation(  # type: ignore[misc]
                        session, department_id, period, ctx.now(), me
                    ),
                    Escalation,
                    {"department_id": state.id, "period": period},
                    ctx.now(),
                )
            if claimed is None:
                run.already.append(state.key)
                continue
            said = render_escalation(
                state, mention, closed=closed, as_admin=state.id not in contacts
            )
            try:
                for person in recipients:
                    await pace.wait(person)
                    await careful.chat_postMessage(
                        channel=person, text=said.text, blocks=said.blocks
                    )
                async with session_scope(ctx.engine) as session:
                    await finish_escalation(session, claimed, ctx.now())
                run.escalated.append(state.key)
            except POST_FAILURES as exc:
                error = describe(exc)
                log.warning("escalation for %s %s failed: %s", state.key, period, error)
                async with session_scope(ctx.engine) as session:
                    await finish_escalation(session, claimed, ctx.now(), error)
                run.failed.append((state.key, error))
    log.info(
        "escalation for %s: %d departments silent, %d answered",
        period,
        len(run.escalated),
        len(run.answered),
        extra={"period": period},
    )
    return run
