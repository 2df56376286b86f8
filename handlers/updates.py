"""Recording progress from Slack: who may, the form, and the prompt's summary line. Shared by
the prompt's buttons, the form, thread replies, `/plan update` and App Home."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from handlers.context import PlanContext
from handlers.messages.cycle import render_prompt, render_update_form, status_line
from handlers.people import mention
from models.cycle import DepartmentState, department_state, is_owner, prompt_for
from models.db import session_scope
from models.lookup import load_directory
from models.periods import PeriodError, parse_period
from models.plans import active_plan, department_by_key, departments_owned_by

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FormMetadata:
    department: str
    period: str
    page: int

    def dump(self) -> str:
        return json.dumps({"d": self.department, "p": self.period, "pg": self.page})

    @classmethod
    def load(cls, text: str) -> FormMetadata | None:
        """None for anything that is not what we wrote (a forged or garbled payload)."""
        try:
            data = json.loads(text)
            department, period, page = str(data["d"]), parse_period(str(data["p"])), data["pg"]
        except (ValueError, KeyError, TypeError, PeriodError):
            return None
        if not isinstance(page, int) or isinstance(page, bool) or not 1 <= page <= 1000:
            return None
        return cls(department[:60], period, page)


async def reporting_state(
    ctx: PlanContext, department_key: str, period: str, user_id: str
) -> tuple[DepartmentState | None, bool]:
    """The department as its form shows it, and whether this user may report for it (an owner
    or an admin). (None, False) when there is no such department with initiatives, or when the
    period has not begun (a forged button or form may name any period; late answers for past
    periods are welcome)."""
    if period > ctx.open_period():
        return None, False
    async with session_scope(ctx.engine) as session:
        plan = await active_plan(session)
        assert plan.id is not None
        department = await department_by_key(session, plan.id, department_key)
        if department is None or department.id is None:
            return None, False
        state = await department_state(session, plan.id, period, department.id)
        allowed = ctx.is_admin(user_id) or await is_owner(session, department.id, user_id)
    return state, allowed


async def state_for_update_command(
    ctx: PlanContext, user_id: str, words: str
) -> tuple[DepartmentState | None, str | None]:
    """`/plan update [department]`: the named department, or the caller's own; else why not."""
    period = ctx.open_period()
    async with session_scope(ctx.engine) as session:
        plan = await active_plan(session)
        assert plan.id is not None
        if words.strip():
            directory = await load_directory(session, plan.id)
            found = directory.resolve(words, kinds=("department",))
            if found.target is None:
                hint = ", ".join(f"`/plan update {t.key}`" for t in found.suggestions)
                return None, f"No department called “{words[:100]}”." + (
                    f" Did you mean {hint}?" if hint else ""
                )
            departments = [directory.department(found.target)]
        else:
            departments = await departments_owned_by(session, user_id)
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
        allowed = ctx.is_admin(user_id) or await is_owner(session, department.id, user_id)
        if not allowed:
            return None, (
                f"Only {department.name}'s owners or a Plan Bot admin can report its progress."
            )
        state = await department_state(session, plan.id, period, department.id)
    if state is None:
        return None, f"{department.name} has no initiatives to report on."
    return state, None


async def open_form(
    client: AsyncWebClient, trigger_id: str, state: DepartmentState, page: int = 1
) -> None:
    metadata = FormMetadata(state.key, state.period, page).dump()
    await client.views_open(trigger_id=trigger_id, view=render_update_form(state, page, metadata))


async def refresh_prompt(
    ctx: PlanContext, client: AsyncWebClient, department_key: str, period: str, who: str
) -> None:
    """Show the new statuses and "Fire: updated by @chief on Nov 3" on the month's prompt.
    A failure here loses nothing: the updates are already stored."""
    async with session_scope(ctx.engine) as session:
        plan = await active_plan(session)
        assert plan.id is not None
        department = await department_by_key(session, plan.id, department_key)
        if department is None or department.id is None:
            return
        prompt = await prompt_for(session, department.id, period)
        state = await department_state(session, plan.id, period, department.id)
    if prompt is None or prompt.message_ts is None or state is None:
        return
    line = status_line(state.name, mention(who), ctx.now(), ctx.timezone, late=ctx.is_late(period))
    message = render_prompt(state, mention, status_line=line)
    try:
        await client.chat_update(
            channel=prompt.channel_id,
            ts=prompt.message_ts,
            text=message.text,
            blocks=message.blocks,
        )
    except SlackApiError as exc:
        log.warning(
            "could not refresh the prompt of %s %s: %s",
            department_key,
            period,
            exc.response.get("error"),
        )


def first_block_id(view: dict[str, Any]) -> str | None:
    for block in view.get("blocks") or []:
        if block.get("type") == "input" and block.get("block_id"):
            return str(block["block_id"])
    return None
