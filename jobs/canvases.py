"""Canvases in Slack (issue 17): each department's channel shows its initiatives, edited after
answers, and the digest channel the whole plan, edited after each digest.

- An answer marks its department's canvas wanted (`models.canvases.want_canvas`, one UPDATE in
  `handlers.updates.refresh_prompt`) and starts a debounce here (`CanvasRefresher`): DEBOUNCE
  seconds later one edit shows the department as it then stands, however many answers came in
  between. The scheduler's tick edits whatever is still wanted (a process that stopped, Slack
  down at the time).
- One process edits a canvas at a time: it claims the row (holder and lease) first. The edit
  covers every answer counted when it claimed; answers after that keep the canvas wanted.
- What an edit would show is fingerprinted: a canvas that would not change is not edited.
- The canvas is created on first need as the channel's own canvas
  (`conversations.canvases.create`). A channel that already has one (someone made it, or
  another department shares the channel) gets a standalone canvas added as a tab of the
  channel instead (`canvases.create` with `channel_id`): the bot never takes over a canvas
  people wrote. A canvas someone deleted (`canvas_not_found`) is created again.
- A workspace that does not allow them (no `canvases:write`, a free plan, a user token) keeps
  working without canvases: each refusal is logged once, and `planbot doctor` says how to
  enable them. PLANBOT_CANVASES=false turns them off.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from dataclasses import dataclass, replace
from enum import StrEnum

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from handlers.channels import slack_error
from handlers.context import PlanContext
from handlers.messages.canvas import (
    CanvasDocument,
    render_department_canvas,
    render_plan_canvas,
)
from jobs.delivery import holder
from jobs.failures import POST_FAILURES, describe
from models.canvases import (
    PLAN_CANVAS,
    CanvasClaim,
    claim_canvas,
    department_canvas,
    department_ids,
    finish_canvas,
    held_canvas,
    let_go_of_canvas,
    wanted_canvases,
)
from models.cycle import department_state
from models.db import session_scope
from models.digest_content import digest_content
from models.lookup import load_directory
from models.plans import active_plan

log = logging.getLogger(__name__)

DEBOUNCE_SECONDS = 5.0  # after an answer, the edit waits this long for the rest of a burst

# Slack's answers that mean this workspace or token may not have canvases at all.
NOT_ALLOWED = frozenset(
    {
        "missing_scope",
        "not_allowed_token_type",
        "restricted_action",
        "canvas_disabled_user_team",
        "team_tier_cannot_create_channel_canvases",
        "free_teams_cannot_create_non_tabbed_canvases",
        "free_teams_cannot_edit_standalone_canvases",
    }
)
# Refusals about this one canvas's channel: tried again after the next answer, not every tick.
REFUSED_HERE = frozenset(
    {
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "free_team_canvas_tab_already_exists",
        "invalid_arguments",
    }
)
_told: set[str] = set()  # refusals already logged by this process


class CanvasOutcome(StrEnum):
    CREATED = "created"
    EDITED = "edited"
    UNCHANGED = "unchanged"  # it would show what it shows: not edited
    NOT_WANTED = "not_wanted"  # no answer since its last edit
    IN_PROGRESS = "in_progress"  # another process is editing it right now
    OFF = "off"  # PLANBOT_CANVASES=false
    NO_CHANNEL = "no_channel"
    NOTHING_TO_SHOW = "nothing_to_show"  # a department without initiatives
    NOT_ALLOWED = "not_allowed"  # the workspace or token may not have canvases
    FAILED = "failed"  # Slack refused or was unreachable; tried again later


@dataclass(frozen=True)
class CanvasRun:
    key: str
    outcome: CanvasOutcome
    canvas_id: str | None = None
    error: str | None = None
    label: str = ""  # what a person calls it: a department's key, "plan"


def _fingerprint(document: CanvasDocument) -> str:
    return hashlib.sha256(f"{document.title}\n{document.markdown}".encode()).hexdigest()


def _content(document: CanvasDocument) -> dict[str, str]:
    return {"type": "markdown", "markdown": document.markdown}


async def _create(client: AsyncWebClient, channel: str, document: CanvasDocument) -> str:
    """The channel's own canvas; a standalone one tabbed in the channel when it has one."""
    try:
        made = await client.conversations_canvases_create(
            channel_id=channel, title=document.title, document_content=_content(document)
        )
    except SlackApiError as exc:
        if slack_error(exc) != "channel_canvas_already_exists":
            raise
        made = await client.canvases_create(
            title=document.title, document_content=_content(document), channel_id=channel
        )
    return str(made["canvas_id"])


async def _show(
    client: AsyncWebClient, claim: CanvasClaim, channel: str, document: CanvasDocument
) -> tuple[str, CanvasOutcome]:
    """Edit the canvas to show `document` (creating it when it is missing): its id, and
    whether it was created or edited."""
    if claim.canvas_id is not None and claim.channel_id == channel:
        try:
            await client.canvases_edit(
                canvas_id=claim.canvas_id,
                changes=[{"operation": "replace", "document_content": _content(document)}],
            )
            return claim.canvas_id, CanvasOutcome.EDITED
        except SlackApiError as exc:
            if slack_error(exc) != "canvas_not_found":
                raise
            log.info(
                "canvas %s of %s was deleted in Slack; creating it anew", claim.canvas_id, claim.key
            )
    return await _create(client, channel, document), CanvasOutcome.CREATED


async def _refresh(
    ctx: PlanContext,
    client: AsyncWebClient,
    key: str,
    channel: str | None,
    document: CanvasDocument | None,
    claim: CanvasClaim,
) -> CanvasRun:
    """Show `document` on the claimed canvas and record what it shows; let go of the claim
    whatever happens."""
    me = holder(ctx)
    if channel is None or document is None:
        async with session_scope(ctx.engine) as session:
            await finish_canvas(
                session,
                claim,
                me,
                ctx.now(),
                channel_id=claim.channel_id,
                canvas_id=claim.canvas_id,
                fingerprint=claim.fingerprint,
                edited=False,
            )
        return CanvasRun(key, CanvasOutcome.NO_CHANNEL)
    fingerprint = _fingerprint(document)
    same_place = claim.canvas_id is not None and claim.channel_id == channel
    if same_place and claim.fingerprint == fingerprint:
        async with session_scope(ctx.engine) as session:
            await finish_canvas(
                session,
                claim,
                me,
                ctx.now(),
                channel_id=channel,
                canvas_id=claim.canvas_id,
                fingerprint=fingerprint,
                edited=False,
            )
        return CanvasRun(key, CanvasOutcome.UNCHANGED, claim.canvas_id)
    try:
        canvas_id, outcome = await _show(client, claim, channel, document)
    except POST_FAILURES as exc:
        error = describe(exc)
        async with session_scope(ctx.engine) as session:
            if error in NOT_ALLOWED or error in REFUSED_HERE:
                # Not tried again until something changes: the next answer, or the next digest.
                await finish_canvas(
                    session,
                    claim,
                    me,
                    ctx.now(),
                    channel_id=claim.channel_id,
                    canvas_id=claim.canvas_id,
                    fingerprint=claim.fingerprint,
                    edited=False,
                    error=error,
                )
            else:
                await let_go_of_canvas(session, claim, me, error)
        if error in NOT_ALLOWED:
            if error not in _told:
                _told.add(error)
                log.warning(
                    "canvases skipped: Slack said %s (planbot doctor says how to enable them; "
                    "PLANBOT_CANVASES=false turns them off)",
                    error,
                )
            return CanvasRun(key, CanvasOutcome.NOT_ALLOWED, claim.canvas_id, error)
        log.warning("canvas %s in %s not updated: %s", key, channel, error)
        return CanvasRun(key, CanvasOutcome.FAILED, claim.canvas_id, error)
    async with session_scope(ctx.engine) as session:
        await finish_canvas(
            session,
            claim,
            me,
            ctx.now(),
            channel_id=channel,
            canvas_id=canvas_id,
            fingerprint=fingerprint,
            edited=True,
        )
    log.info("canvas %s %s in %s", key, outcome.value, channel)
    return CanvasRun(key, outcome, canvas_id)


async def _claim(
    ctx: PlanContext, key: str, *, even_if_shown: bool
) -> tuple[CanvasClaim | None, CanvasRun | None]:
    """The claim on the canvas, or the run that says why there is none."""
    if not ctx.canvases:
        return None, CanvasRun(key, CanvasOutcome.OFF)
    now = ctx.now()
    async with session_scope(ctx.engine) as session:
        claim = await claim_canvas(session, key, holder(ctx), now, even_if_shown=even_if_shown)
        if claim is None:
            held = await held_canvas(session, key, now)
    if claim is not None:
        return claim, None
    if held is not None:
        return None, CanvasRun(key, CanvasOutcome.IN_PROGRESS, error=f"by {held}")
    return None, CanvasRun(key, CanvasOutcome.NOT_WANTED)


async def refresh_department_canvas(
    ctx: PlanContext, client: AsyncWebClient, department_id: int, *, even_if_shown: bool = False
) -> CanvasRun:
    """Show the department as it stands on its channel's canvas, when an answer changed it
    since the last edit (or `even_if_shown`) and no other process is editing it."""
    key = department_canvas(department_id)
    claim, skipped = await _claim(ctx, key, even_if_shown=even_if_shown)
    if claim is None:
        assert skipped is not None
        return skipped
    try:
        # Read after claiming: the edit shows every answer counted in the claim.
        async with session_scope(ctx.engine) as session:
            plan = await active_plan(session)
            assert plan.id is not None
            state = await department_state(
                session,
                plan.id,
                ctx.open_period(),
                department_id,
                start_month=ctx.fiscal_year_start,
            )
    except BaseException:
        async with session_scope(ctx.engine) as session:
            await let_go_of_canvas(session, claim, holder(ctx), "could not read the department")
        raise
    if state is None:
        async with session_scope(ctx.engine) as session:
            await let_go_of_canvas(session, claim, holder(ctx), "no initiatives", shown=True)
        return CanvasRun(key, CanvasOutcome.NOTHING_TO_SHOW)
    channel = state.channel_id or ctx.updates_channel
    return await _refresh(
        ctx, client, key, channel, render_department_canvas(state, ctx.timezone), claim
    )


async def refresh_plan_canvas(ctx: PlanContext, client: AsyncWebClient) -> CanvasRun:
    """Show the plan as the digest sees it on the digest channel's canvas (after each digest;
    edited only when it would change)."""
    claim, skipped = await _claim(ctx, PLAN_CANVAS, even_if_shown=True)
    if claim is None:
        assert skipped is not None
        return skipped
    try:
        async with session_scope(ctx.engine) as session:
            plan = await active_plan(session)
            assert plan.id is not None
            content = await digest_content(
                session,
                plan.id,
                ctx.open_period(),
                since=None,
                now=ctx.now(),
                start_month=ctx.fiscal_year_start,
            )
    except BaseException:
        async with session_scope(ctx.engine) as session:
            await let_go_of_canvas(session, claim, holder(ctx), "could not read the plan")
        raise
    document = render_plan_canvas(content, plan.name, ctx.timezone)
    return await _refresh(ctx, client, PLAN_CANVAS, ctx.digest_channel, document, claim)


async def refresh_wanted_canvases(ctx: PlanContext, client: AsyncWebClient) -> list[CanvasRun]:
    """Every department canvas an answer changed since its last edit (the scheduler's tick
    catches what a debounce missed)."""
    if not ctx.canvases:
        return []
    async with session_scope(ctx.engine) as session:
        keys = await wanted_canvases(session)
    runs = []
    for key in keys:
        kind, _, ident = key.partition(":")
        if kind == "department" and ident.isdigit():
            runs.append(await refresh_department_canvas(ctx, client, int(ident)))
    return runs


async def refresh_canvases(
    ctx: PlanContext, client: AsyncWebClient, department: str | None = None
) -> list[CanvasRun]:
    """`planbot jobs run canvases`: every department's canvas (or the one named by key, name
    or alias), shown as it stands whether or not an answer came, and the plan's."""
    async with session_scope(ctx.engine) as session:
        plan = await active_plan(session)
        assert plan.id is not None
        if department is not None:
            directory = await load_directory(session, plan.id)
            found = directory.resolve(department, kinds=("department",), guess=False)
            if found.target is None:
                raise LookupError(f"no department called {department!r}")
            one = directory.department(found.target)
            ids = [] if one.id is None else [(one.id, one.key)]
        else:
            ids = await department_ids(session, plan.id)
    runs = [
        replace(await refresh_department_canvas(ctx, client, i, even_if_shown=True), label=k)
        for i, k in ids
    ]
    if department is None and ctx.digest_channel:
        runs.append(replace(await refresh_plan_canvas(ctx, client), label=PLAN_CANVAS))
    return runs


class CanvasRefresher:
    """The debounce of one running bot: the first answer for a department starts a wait of
    DEBOUNCE seconds, answers during it add nothing, and then one refresh runs."""

    def __init__(self, debounce: float = DEBOUNCE_SECONDS) -> None:
        self.debounce = debounce
        self._waiting: set[int] = set()
        self._tasks: set[asyncio.Task[None]] = set()  # held, so none is collected mid-run

    def wanted(self, ctx: PlanContext, client: AsyncWebClient, department_id: int) -> None:
        if department_id in self._waiting:
            return
        self._waiting.add(department_id)
        task = asyncio.get_running_loop().create_task(self._later(ctx, client, department_id))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _later(self, ctx: PlanContext, client: AsyncWebClient, department_id: int) -> None:
        try:
            await asyncio.sleep(self.debounce)
        finally:
            self._waiting.discard(department_id)
        try:
            await refresh_department_canvas(ctx, client, department_id)
        except Exception:
            log.exception("canvas of department %s not refreshed: the tick tries", department_id)
