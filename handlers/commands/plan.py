"""The `/plan` command: every sub-command answered privately, acknowledged within 3 seconds."""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.commands.parse import MAX_COMMAND_TEXT, PlanCommand, parse_plan_command
from handlers.context import PlanContext
from handlers.digest import digest_for
from handlers.messages.answers import (
    Message,
    render_department_summary,
    render_error,
    render_goal_summary,
    render_goals_overview,
    render_help,
    render_history,
    render_missing,
    render_not_found,
    render_owners_set,
    with_share_button,
)
from handlers.people import People, PeopleNames, mention
from handlers.updates import open_form, state_for_update_command
from models.cycle import failed_prompts
from models.db import session_scope
from models.export import export_rows, to_csv
from models.lookup import load_directory, normalise
from models.plans import NoActivePlan, active_plan, set_owners
from models.queries import (
    department_summary,
    goal_summary,
    goals_overview,
    initiative_history,
    missing_departments,
)

log = logging.getLogger(__name__)

# Answer in the acknowledgement when we can; past this, acknowledge and answer a moment later.
ACK_BUDGET_SECONDS = 2.0
SHAREABLE = frozenset({"goals", "lookup", "missing", "history"})


@dataclass(frozen=True)
class Answer:
    message: Message
    shareable: bool = False


class AnswerCache:
    """Private answers by the plan's revision: every write bumps it, so an answer is reused
    only while nothing it shows can have changed (in this process or any other)."""

    def __init__(self, size: int = 512) -> None:
        self.size = size
        self._answers: OrderedDict[tuple[object, ...], Answer] = OrderedDict()

    def get(self, key: tuple[object, ...]) -> Answer | None:
        answer = self._answers.get(key)
        if answer is not None:
            self._answers.move_to_end(key)
        return answer

    def put(self, key: tuple[object, ...], answer: Answer) -> None:
        self._answers[key] = answer
        self._answers.move_to_end(key)
        while len(self._answers) > self.size:
            self._answers.popitem(last=False)


CACHEABLE = frozenset({"goals", "missing", "history", "lookup"})


async def answer_plan_command(
    ctx: PlanContext,
    command: PlanCommand,
    user_id: str,
    people: People,
    cache: AnswerCache | None = None,
) -> Answer:
    """What `/plan …` answers, for everything that is a query (no Slack calls). Private
    answers come from `cache` while the plan's revision has not moved."""
    action = command.action
    if action == "help":
        return Answer(render_help())
    if action == "too_long":
        return Answer(
            render_error(f"That is longer than {MAX_COMMAND_TEXT} characters. Try `/plan help`.")
        )
    if action == "bad_history":
        return Answer(
            render_error("Name a department and an initiative number, e.g. `/plan history fire 3`.")
        )
    if action == "bad_owner":
        return Answer(
            render_error(
                "Name a department and mention its owner(s), e.g. `/plan owner fire @chief`."
            )
        )
    if action == "owner" and not ctx.is_admin(user_id):
        return Answer(render_error("Only a Plan Bot admin can change a department's owners."))
    period = ctx.open_period()
    async with session_scope(ctx.engine) as session:
        try:
            plan = await active_plan(session)
        except NoActivePlan:
            return Answer(render_error("No plan is loaded yet: an admin runs `planbot plan load`."))
        assert plan.id is not None
        key: tuple[object, ...] | None = None
        # Admins' view of `missing` shows undelivered prompts, which do not move the revision.
        admin_missing = action == "missing" and ctx.is_admin(user_id)
        if cache is not None and action in CACHEABLE and people is mention and not admin_missing:
            key = (
                plan.id,
                plan.revision,
                period,
                action,
                normalise(command.words),
                command.number,
                ctx.is_admin(user_id),
            )
            cached = cache.get(key)
            if cached is not None:
                return cached
        answer = await _answer_from_plan(ctx, session, plan.id, command, user_id, people, period)
        if key is not None and cache is not None:
            cache.put(key, answer)
        return answer


async def _answer_from_plan(
    ctx: PlanContext,
    session: AsyncSession,
    plan_id: int,
    command: PlanCommand,
    user_id: str,
    people: People,
    period: str,
) -> Answer:
    action = command.action
    if action == "goals":
        overview = await goals_overview(session, plan_id, period)
        return Answer(render_goals_overview(overview, people), shareable=True)
    if action == "missing":
        report = await missing_departments(session, plan_id, period)
        failed = await failed_prompts(session, plan_id, period) if ctx.is_admin(user_id) else []
        return Answer(render_missing(report, people, failed), shareable=not failed)
    directory = await load_directory(session, plan_id)
    if action == "history":
        found = directory.resolve(command.words, kinds=("department",))
        if found.target is None:
            return Answer(render_not_found(command.words, found.suggestions))
        department = directory.department(found.target)
        assert command.number is not None
        history = await initiative_history(session, department, command.number)
        if history is None:
            return Answer(
                render_error(
                    f"{department.name} has no initiative #{command.number}. "
                    f"See `/plan {department.key}` for its list."
                )
            )
        return Answer(render_history(history, people, timezone=ctx.timezone), shareable=True)
    if action == "owner":
        found = directory.resolve(command.words, kinds=("department",))
        if found.target is None:
            return Answer(render_not_found(command.words, found.suggestions))
        department = directory.department(found.target)
        await set_owners(session, department, command.user_ids)
        log.info("owners of %s set to %s by %s", department.key, command.user_ids, user_id)
        return Answer(render_owners_set(department.name, command.user_ids, people))
    found = directory.resolve(command.words)
    if found.target is None:
        return Answer(render_not_found(command.words, found.suggestions))
    if found.target.kind == "goal":
        summary = await goal_summary(session, directory.goal(found.target), period)
        return Answer(render_goal_summary(summary, people, timezone=ctx.timezone), shareable=True)
    dept_summary = await department_summary(session, directory.department(found.target), period)
    return Answer(
        render_department_summary(dept_summary, people, timezone=ctx.timezone), shareable=True
    )


def reply(answer: Answer, command_text: str) -> dict[str, Any]:
    message = answer.message
    if answer.shareable:
        message = with_share_button(message, command_text)
    return {"response_type": "ephemeral", "text": message.text, "blocks": message.blocks}


FAILED = Answer(
    render_error(
        "Something went wrong on our side and has been logged. Please try again in a minute."
    )
)


async def _safe_answer(
    ctx: PlanContext, command: PlanCommand, user_id: str, cache: AnswerCache
) -> Answer:
    try:
        return await answer_plan_command(ctx, command, user_id, mention, cache)
    except Exception:
        log.exception("/plan %s failed", command.action)
        return FAILED


async def export_for(ctx: PlanContext, client: AsyncWebClient, user_id: str) -> None:
    """The latest status of every initiative, as a CSV file in a direct message."""
    period = ctx.open_period()
    async with session_scope(ctx.engine) as session:
        plan = await active_plan(session)
        assert plan.id is not None
        content = to_csv(await export_rows(session, plan.id, period))
        key = plan.key
    dm = await client.conversations_open(users=user_id)
    await client.files_upload_v2(
        channel=dm["channel"]["id"],
        content=content.encode("utf-8"),
        filename=f"{key}-status-{period}.csv",
        title=f"Plan status, {period}",
        initial_comment="The latest status of every initiative, as you asked.",
    )


async def _digest_preview(ctx: PlanContext, client: AsyncWebClient, names: PeopleNames) -> Answer:
    try:
        built = await digest_for(ctx, client, names, preview=True)
    except NoActivePlan:
        return Answer(render_error("No plan is loaded yet: an admin runs `planbot plan load`."))
    except Exception:
        log.exception("/plan digest failed")
        return FAILED
    return Answer(built.messages.main)


def register(app: AsyncApp, ctx: PlanContext, names: PeopleNames) -> None:
    cache = AnswerCache()

    @app.command("/plan")
    async def plan_command(
        ack: AsyncAck, command: dict[str, Any], respond: AsyncRespond, client: AsyncWebClient
    ) -> None:
        text = str(command.get("text") or "")
        user_id = str(command.get("user_id") or "")
        parsed = parse_plan_command(text)
        if parsed.action == "export":
            if not ctx.is_admin(user_id):
                await ack(
                    **reply(
                        Answer(render_error("Only a Plan Bot admin can export the plan.")), text
                    )
                )
                return
            await ack(
                response_type="ephemeral",
                text=":inbox_tray: Preparing the export; it will arrive as a direct message.",
            )
            try:
                await export_for(ctx, client, user_id)
            except Exception:
                log.exception("/plan export failed")
                await respond(**reply(FAILED, text))
            return
        if parsed.action == "update":
            state, problem = await state_for_update_command(ctx, user_id, parsed.words)
            if state is None:
                await ack(**reply(Answer(render_error(problem or "Not possible.")), text))
                return
            await ack()
            await open_form(client, str(command.get("trigger_id") or ""), state)
            return
        task = asyncio.create_task(
            _digest_preview(ctx, client, names)
            if parsed.action == "digest"
            else _safe_answer(ctx, parsed, user_id, cache)
        )
        done, _ = await asyncio.wait({task}, timeout=ACK_BUDGET_SECONDS)
        if task in done:
            await ack(**reply(task.result(), text))
            return
        await ack(response_type="ephemeral", text=":hourglass_flowing_sand: Working on it…")
        await respond(**reply(await task, text))
