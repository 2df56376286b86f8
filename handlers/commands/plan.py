"""The `/plan` command: every sub-command answered privately, acknowledged within 3 seconds."""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, time, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.commands.parse import (
    CommandError,
    PlanCommand,
    Verb,
    parse_plan_command,
    read_away,
    read_person,
)
from handlers.commands.revision import PlanRevisions, Revision, WouldWait
from handlers.context import PlanContext
from handlers.digest_build import digest_for
from handlers.messages.answers import (
    render_department_summary,
    render_error,
    render_goal_objectives,
    render_goal_summary,
    render_goals_overview,
    render_help,
    render_history,
    render_missing,
    render_not_found,
    render_owners_set,
    shared_by,
    with_guess,
    with_share_button,
)
from handlers.messages.cover import render_away_set, render_away_status, render_back
from handlers.messages.followers import render_followed, render_following, render_unfollowed
from handlers.messages.help import help_part
from handlers.messages.layout import Message, People
from handlers.messages.measures import (
    DETAIL_MONTHS,
    TREND_MONTHS,
    MeasureBoard,
    measures_part,
    render_measure,
    render_measure_not_found,
    render_measures,
)
from handlers.messages.questions import (
    render_attention_by_goal,
    render_changes,
    render_initiative,
    render_owners,
)
from handlers.people import PeopleNames, mention
from handlers.person import Person, person_of
from handlers.updates import open_form, state_for_update_command
from handlers.views.publish import open_preview
from models.absence import away_now, clear_away, set_away
from models.attention import Which, attention_by_goal
from models.cycle import failed_prompts
from models.db import database_unavailable, session_scope
from models.digest_content import changes_since, last_digest_time
from models.export import (
    MeasureExportRow,
    authors,
    export_filename,
    export_rows,
    measure_export_rows,
    measures_filename,
    to_csv,
    with_names,
)
from models.followers import follow, followed_goals, unfollow
from models.help import unresolved
from models.lookup import Directory, Resolution, load_directory, normalise
from models.measures import find_measure, measure_names, measure_views
from models.periods import local_now, period_label, recent_periods
from models.plans import (
    NoActivePlan,
    active_plan,
    departments_owned_by,
    set_backups,
    set_contacts,
    set_owners,
    stored_id,
)
from models.queries import (
    department_summary,
    goal_ref,
    goal_summary,
    goals_overview,
    initiative_detail,
    initiative_history,
    owners_overview,
    response_rate,
)
from models.tables import ContactRole, Goal

log = logging.getLogger(__name__)

# Answer in the acknowledgement when we can; past this, acknowledge and answer a moment later.
ACK_BUDGET_SECONDS = 2.0
DETAIL_PERIODS = 6  # `/plan fire 3` shows the last six periods
CHANGES_WITHOUT_DIGEST = timedelta(days=7)

Render = Callable[[People], Message]


@dataclass(frozen=True)
class Shown:
    """A query's result, ready to be written for any audience: `render(people)` names people
    with pings (the caller's private answer) or by name (a shared one)."""

    render: Render
    shareable: bool = True  # False when this result must stay private (an error, admins' detail)


@dataclass(frozen=True)
class Answer:
    message: Message
    shareable: bool = False
    named: tuple[str, ...] = ()  # the Slack users the answer names, in order of appearance
    # Its replies by the command as typed (the Share button carries it), kept while a cached
    # answer is reused: building the button with slack_sdk's classes was ≈ 3 % of its CPU.
    replies: dict[str, dict[str, Any]] = field(default_factory=dict, compare=False, repr=False)


@dataclass
class Query:
    """What a sub-command's query gets: the request's facts and an open session."""

    ctx: PlanContext
    session: AsyncSession
    plan_id: int
    command: PlanCommand
    user_id: str
    period: str
    _directory: Directory | None = None

    async def directory(self) -> Directory:
        if self._directory is None:
            self._directory = await load_directory(self.session, self.plan_id)
        return self._directory


@dataclass(frozen=True)
class Act:
    """What a sub-command that talks to Slack itself gets (a form to open, a file to send)."""

    ctx: PlanContext
    command: PlanCommand
    person: Person
    text: str  # as typed, for the Share button
    trigger_id: str
    ack: AsyncAck
    respond: AsyncRespond
    client: AsyncWebClient
    names: PeopleNames


@dataclass(frozen=True)
class SubCommand:
    """One `/plan` sub-command: exactly one of `query` (answered from the plan, within the
    acknowledgement when quick enough) or `act` (talks to Slack itself)."""

    query: Callable[[Query], Awaitable[Shown]] | None = None
    act: Callable[[Act], Awaitable[None]] | None = None
    shareable: bool = False  # its answer offers *Share in channel*
    # Its answer is reused while the plan's revision stands; `changes` is not: it moves with the
    # clock and the digests posted, not the revision.
    cacheable: bool = False
    admins_only: str | None = None  # what a non-admin is told


class AnswerCache:
    """Private answers by the plan's revision: every write bumps it, so an answer is reused
    only while nothing it shows can have changed (in this process or any other). The revision
    is read afresh for every request (`revision`, cheaply: handlers/commands/revision.py).

    Keys begin with the revision they were computed at. Only the newest revision's answers are
    kept: a revision, once moved past, is never read again, so an answer of an older one could
    only take memory (on a busy first business day the revision moves every few requests)."""

    def __init__(self, engine: AsyncEngine, size: int = 512) -> None:
        self.size = size
        self._answers: OrderedDict[tuple[object, ...], Answer] = OrderedDict()
        self._newest: Revision | None = None
        self.revisions = PlanRevisions(engine)

    async def revision(self) -> Revision | None:
        """The active plan's id and revision, read after this call began; None without a plan."""
        return await self.revisions.current()

    def get(self, key: tuple[object, ...]) -> Answer | None:
        answer = self._answers.get(key)
        if answer is not None:
            self._answers.move_to_end(key)
        return answer

    def put(self, key: tuple[object, ...], answer: Answer) -> None:
        at = cast(Revision, key[:2])  # `_key` begins with the revision it was computed at
        newest = self._newest
        if at != newest:
            if newest is not None and at[0] == newest[0] and at[1] < newest[1]:
                return  # computed before a write that a later answer has already seen
            self._answers.clear()  # a newer revision, or another plan made active
            self._newest = at
        self._answers[key] = answer
        self._answers.move_to_end(key)
        while len(self._answers) > self.size:
            self._answers.popitem(last=False)


NO_PLAN = "No plan is loaded yet: an admin runs `planbot plan load`."


def _said(message: Message, shareable: bool = False) -> Shown:
    """A result that names nobody."""
    return Shown(lambda _people: message, shareable)


def _not_found(typed: str, found: Resolution) -> Shown:
    return _said(render_not_found(typed, found.suggestions))


# --- the queries ------------------------------------------------------------------------------


async def _goals(q: Query) -> Shown:
    overview = await goals_overview(q.session, q.plan_id, q.period)
    response = await response_rate(q.session, q.plan_id, q.period)
    return Shown(lambda people: render_goals_overview(overview, response, people))


async def _missing(q: Query) -> Shown:
    report = await response_rate(q.session, q.plan_id, q.period)
    admin = q.ctx.is_admin(q.user_id)
    failed = await failed_prompts(q.session, q.plan_id, q.period) if admin else []
    return Shown(lambda people: render_missing(report, people, failed), shareable=not failed)


def _attention(which: Which) -> Callable[[Query], Awaitable[Shown]]:
    async def across_the_plan(q: Query) -> Shown:
        listed = await attention_by_goal(q.session, q.plan_id, q.period, which)
        return _said(render_attention_by_goal(listed), shareable=True)

    return across_the_plan


async def _owners(q: Query) -> Shown:
    owners = await owners_overview(q.session, q.plan_id, q.period)
    return Shown(lambda people: render_owners(owners, people, timezone=q.ctx.timezone))


async def _objectives(q: Query) -> Shown:
    directory = await q.directory()
    found = directory.resolve(q.command.words, kinds=("goal",), guess=False)
    if found.target is None:
        return _not_found(q.command.words, found)
    objectives = render_goal_objectives(goal_ref(directory.goal(found.target)))
    return _said(_guessed(objectives, q.command.words, found), shareable=True)


async def _initiative(q: Query) -> Shown:
    directory = await q.directory()
    words, number = q.command.words, q.command.number
    assert number is not None  # the parser gives INITIATIVE a number
    found = directory.resolve(words, kinds=("department",))
    if found.target is None:
        # A goal or department whose name ends in a number, typed whole.
        if directory.resolve(f"{words} {number}").target is not None:
            return await _lookup(replace(q, command=PlanCommand(Verb.LOOKUP, f"{words} {number}")))
        return _not_found(words, found)
    department = directory.department(found.target)
    periods = recent_periods(q.period, DETAIL_PERIODS)
    detail = await initiative_detail(q.session, department, number, periods)
    if detail is None:
        return _said(_no_such_initiative(department.name, department.key, number))
    return Shown(
        lambda people: _guessed(
            render_initiative(detail, q.period, people, timezone=q.ctx.timezone), words, found
        )
    )


async def _history(q: Query) -> Shown:
    directory = await q.directory()
    words, number = q.command.words, q.command.number
    assert number is not None  # the parser gives HISTORY a number
    found = directory.resolve(words, kinds=("department",))
    if found.target is None:
        return _not_found(words, found)
    department = directory.department(found.target)
    history = await initiative_history(q.session, department, number)
    if history is None:
        return _said(_no_such_initiative(department.name, department.key, number))
    return Shown(
        lambda people: _guessed(
            render_history(history, people, timezone=q.ctx.timezone), words, found
        )
    )


async def _owner(q: Query) -> Shown:
    directory = await q.directory()
    found = directory.resolve(q.command.words, kinds=("department",), guess=False)
    if found.target is None:
        return _not_found(q.command.words, found)
    department = directory.department(found.target)
    users, backups = q.command.user_ids, q.command.backup_ids
    if users:
        await set_owners(q.session, department, users)
        log.info("owners of %s set to %s by %s", department.key, users, q.user_id)
    if backups is not None:
        await set_backups(q.session, department, backups)
        log.info("backup owners of %s set to %s by %s", department.key, backups, q.user_id)
    escalation = q.command.escalation_ids
    if escalation is not None:
        await set_contacts(q.session, department, ContactRole.ESCALATION, escalation)
        log.info("escalation of %s set to %s by %s", department.key, escalation, q.user_id)
    return Shown(
        lambda people: render_owners_set(
            department.name, users, people, backups=backups, escalation=escalation
        ),
        False,
    )


async def _follow(q: Query) -> Shown:
    """`/plan follow safety`: the goal's weekly lines by direct message; `/plan follow` alone
    lists what the person follows."""
    if not q.command.words.strip():
        goals = await followed_goals(q.session, q.plan_id, q.user_id)
        return _said(render_following([g.name for g in goals]))
    goal = await _goal_to_change(q)
    if isinstance(goal, Shown):
        return goal
    new = await follow(q.session, q.user_id, stored_id(goal.id))
    return _said(render_followed(goal.name, new=new))


async def _unfollow(q: Query) -> Shown:
    goal = await _goal_to_change(q)
    if isinstance(goal, Shown):
        return goal
    was = await unfollow(q.session, q.user_id, stored_id(goal.id))
    return _said(render_unfollowed(goal.name, was=was))


async def _away(q: Query) -> Shown:
    """`/plan away until DATE [@delegate]`: not reminded until then, and the delegate may answer
    for the caller's departments; `/plan away` alone says whether the caller is away."""
    now = q.ctx.now()
    if not q.command.words.strip():
        found = (await away_now(q.session, [q.user_id], now)).get(q.user_id)
        return Shown(lambda people: render_away_status(found, q.ctx.timezone, people), False)
    asked = read_away(q.command.words, local_now(q.ctx.timezone, now).date())
    if isinstance(asked, CommandError):
        return _said(render_error(asked.problem))
    person = asked.person or q.user_id
    if person != q.user_id and not q.ctx.is_admin(q.user_id):
        return _said(render_error(ONLY_ADMINS_FOR_OTHERS))
    if asked.delegate == person:
        return _said(render_error("Name someone else to answer meanwhile, or nobody."))
    back = datetime.combine(
        asked.last_day + timedelta(days=1), time(0), tzinfo=ZoneInfo(q.ctx.timezone)
    )
    await set_away(q.session, person, back, asked.delegate, set_by=q.user_id, now=now)
    owned = [d.name for d in await departments_owned_by(q.session, person)]
    log.info("away until %s, delegate %s", asked.last_day, asked.delegate or "none")
    who = None if person == q.user_id else person
    return Shown(
        lambda people: render_away_set(asked.last_day, asked.delegate, owned, people, who), False
    )


async def _back(q: Query) -> Shown:
    named = read_person(q.command.words)
    if isinstance(named, CommandError):
        return _said(render_error(named.problem))
    person = named or q.user_id
    if person != q.user_id and not q.ctx.is_admin(q.user_id):
        return _said(render_error(ONLY_ADMINS_FOR_OTHERS))
    was = await clear_away(q.session, person, q.ctx.now())
    who = None if person == q.user_id else person
    return Shown(lambda people: render_back(was, people, who), False)


ONLY_ADMINS_FOR_OTHERS = "Only a Plan Bot admin can say someone else is away or back."


async def _goal_to_change(q: Query) -> Goal | Shown:
    """The goal a change names exactly (a slip is suggested, never guessed), or what to say."""
    directory = await q.directory()
    found = directory.resolve(q.command.words, kinds=("goal",), guess=False)
    if found.target is None:
        return _not_found(q.command.words, found)
    return directory.goal(found.target)


async def _board(
    q: Query, *, goal_id: int | None = None, department_id: int | None = None
) -> MeasureBoard:
    """The plan's measures (a goal's, a department's), judged at the open period."""
    return await measure_board(
        q.session,
        q.plan_id,
        q.period,
        q.ctx.fiscal_year_start,
        goal_id=goal_id,
        department_id=department_id,
    )


async def measure_board(
    session: AsyncSession,
    plan_id: int,
    period: str,
    start_month: int,
    *,
    goal_id: int | None = None,
    department_id: int | None = None,
) -> MeasureBoard:
    """Measures (a goal's, a department's, or all) judged at `period`, with the months their
    trends need: what answers and the followers' weekly messages show."""
    periods = recent_periods(period, TREND_MONTHS)
    views = await measure_views(
        session,
        plan_id,
        periods,
        goal_id=goal_id,
        department_id=department_id,
        start_month=start_month,
        details=False,
    )
    return MeasureBoard(views, period, periods, start_month)


async def _lookup(q: Query) -> Shown:
    directory = await q.directory()
    words = q.command.words
    found = directory.resolve(words)
    if found.target is None:
        measure = await _measure_named(q, words)
        if measure is not None:  # `/plan 311`: a measure named on its own
            return measure
        return _not_found(words, found)
    timezone = q.ctx.timezone
    if found.target.kind == "goal":
        goal = await goal_summary(q.session, directory.goal(found.target), q.period)
        goal_measures = measures_part(await _board(q, goal_id=found.target.id))
        requests = await unresolved(q.session, q.plan_id, goal_id=found.target.id)
        return Shown(
            lambda people: _guessed(
                render_goal_summary(
                    goal,
                    people,
                    timezone=timezone,
                    measures=goal_measures,
                    help=help_part(requests, people, timezone),
                ),
                words,
                found,
            )
        )
    department = await department_summary(q.session, directory.department(found.target), q.period)
    own = measures_part(await _board(q, department_id=found.target.id))
    return Shown(
        lambda people: _guessed(
            render_department_summary(department, people, timezone=timezone, measures=own),
            words,
            found,
        )
    )


async def _measures(q: Query) -> Shown:
    """`/plan measures`: every measure, missed first."""
    return _said(render_measures(await _board(q)), shareable=True)


async def _measure(q: Query) -> Shown:
    """`/plan measure 311`: one measure in full; with no name, every measure."""
    words = q.command.words.strip()
    if not words:
        return await _measures(q)
    found = find_measure(await measure_names(q.session, q.plan_id), words)
    if found.measure is None:
        return _said(render_measure_not_found(words, [m.name for m in found.suggestions]))
    return await _one_measure(q, found.measure.id, words if found.guessed else None)


async def _measure_named(q: Query, words: str) -> Shown | None:
    """A measure typed exactly by its key, name or alias where a goal or department was
    expected; None when `words` names none."""
    names = await measure_names(q.session, q.plan_id)
    named = names.get(normalise(words))
    return None if named is None else await _one_measure(q, named.id, None)


async def _one_measure(q: Query, measure_id: int, guessed_from: str | None) -> Shown:
    periods = recent_periods(q.period, DETAIL_MONTHS)
    views = await measure_views(
        q.session,
        q.plan_id,
        periods,
        measure_ids=[measure_id],
        start_month=q.ctx.fiscal_year_start,
    )
    board = MeasureBoard(views, q.period, periods, q.ctx.fiscal_year_start)
    directory = await q.directory()
    view = views[0]
    goals = [directory.goals[g].name for g in view.goal_ids if g in directory.goals]
    shown = render_measure(board, view, goals)
    if guessed_from is not None:
        shown = with_guess(shown, guessed_from, view.name)
    return _said(shown, shareable=True)


def _no_such_initiative(name: str, key: str, number: int) -> Message:
    return render_error(f"{name} has no initiative #{number}. See `/plan {key}` for its list.")


async def _changes(q: Query) -> Shown:
    """`/plan changes [goal]`: status changes since the last digest in the digest channel, or
    in the last seven days when there has been none."""
    words = q.command.words
    goal = None
    found = None
    if words.strip():
        found = (await q.directory()).resolve(words, kinds=("goal",))
        if found.target is None:
            return _not_found(words, found)
        goal = (await q.directory()).goal(found.target)
    ctx = q.ctx
    now = ctx.now()
    last = await last_digest_time(q.session, ctx.digest_channel) if ctx.digest_channel else None
    since = last if last is not None else now - CHANGES_WITHOUT_DIGEST
    goal_id = None if goal is None else goal.id
    changes = await changes_since(q.session, q.plan_id, since, now, goal_id)

    def render(people: People) -> Message:
        shown = render_changes(
            changes,
            since,
            since_digest=last is not None,
            goal_name=None if goal is None else goal.name,
            people=people,
            timezone=ctx.timezone,
        )
        return shown if found is None else _guessed(shown, words, found)

    return Shown(render)


def _guessed(message: Message, typed: str, found: Resolution) -> Message:
    """The answer, saying which name it took for a misspelling."""
    if not found.guessed or found.target is None:
        return message
    return with_guess(message, typed, found.target.name)


# --- the sub-commands that talk to Slack ------------------------------------------------------


async def _help(a: Act) -> None:
    await a.ack(**reply(Answer(render_help()), a.text))


async def _update(a: Act) -> None:
    state, problem = await state_for_update_command(a.ctx, a.person, a.command.words)
    if state is None:
        await a.ack(**reply(Answer(render_error(problem or "Not possible.")), a.text))
        return
    await a.ack()
    await open_form(a.client, a.trigger_id, state)


async def _export(a: Act) -> None:
    await a.ack(
        response_type="ephemeral",
        text=":inbox_tray: Preparing the export; it will arrive as a direct message.",
    )
    try:
        await export_for(a.ctx, a.client, a.person.user_id, a.names)
    except Exception:
        log.exception("/plan export failed")
        await a.respond(**reply(FAILED, a.text))


async def _publish(a: Act) -> None:
    """`/plan publish 2026-10`: the preview opens as a form; nothing is public until the admin
    confirms it there."""
    problem = await open_preview(a.ctx, a.client, a.trigger_id, a.command.words)
    if problem is not None:
        await a.ack(**reply(Answer(render_error(problem)), a.text))
        return
    await a.ack()


async def _digest(a: Act) -> None:
    await _within_ack_budget(a, _digest_preview(a.ctx, a.client, a.names))


# Every `/plan` sub-command: how it is answered, whether its answer can be shared or reused,
# and who may use it. `render_help` lists them for people; `docs/architecture.md` says how to
# add one.
SUBCOMMANDS: dict[Verb, SubCommand] = {
    Verb.HELP: SubCommand(act=_help),
    Verb.GOALS: SubCommand(query=_goals, shareable=True, cacheable=True),
    Verb.LOOKUP: SubCommand(query=_lookup, shareable=True, cacheable=True),
    Verb.OBJECTIVES: SubCommand(query=_objectives, shareable=True, cacheable=True),
    Verb.INITIATIVE: SubCommand(query=_initiative, shareable=True, cacheable=True),
    Verb.HISTORY: SubCommand(query=_history, shareable=True, cacheable=True),
    Verb.OFF_TRACK: SubCommand(query=_attention("off_track"), shareable=True, cacheable=True),
    Verb.AT_RISK: SubCommand(query=_attention("at_risk"), shareable=True, cacheable=True),
    Verb.STALE: SubCommand(query=_attention("stale"), shareable=True, cacheable=True),
    Verb.MISSING: SubCommand(query=_missing, shareable=True, cacheable=True),
    Verb.OWNERS: SubCommand(query=_owners, shareable=True, cacheable=True),
    Verb.CHANGES: SubCommand(query=_changes, shareable=True),
    Verb.OWNER: SubCommand(
        query=_owner, admins_only="Only a Plan Bot admin can change a department's owners."
    ),
    Verb.UPDATE: SubCommand(act=_update),
    Verb.EXPORT: SubCommand(act=_export, admins_only="Only a Plan Bot admin can export the plan."),
    Verb.DIGEST: SubCommand(act=_digest),
    Verb.MEASURES: SubCommand(query=_measures, shareable=True, cacheable=True),
    Verb.MEASURE: SubCommand(query=_measure, shareable=True, cacheable=True),
    Verb.FOLLOW: SubCommand(query=_follow),
    Verb.UNFOLLOW: SubCommand(query=_unfollow),
    Verb.AWAY: SubCommand(query=_away),
    Verb.BACK: SubCommand(query=_back),
    Verb.PUBLISH: SubCommand(
        act=_publish, admins_only="Only a Plan Bot admin can publish a period."
    ),
}


def _naming(people: People) -> tuple[People, list[str]]:
    """`people`, noting each user it is asked for: an answer says whom it names."""
    named: list[str] = []

    def noting(user: str) -> str:
        if user not in named:
            named.append(user)
        return people(user)

    return noting, named


async def _answer(
    ctx: PlanContext,
    command: PlanCommand,
    user_id: str,
    people: People,
    cache: AnswerCache | None,
) -> tuple[Answer, Shown | None]:
    """The answer to a `/plan` query, and the result it was written from (None when it came
    from `cache`, which holds private answers while the plan's revision stands)."""
    sub = SUBCOMMANDS[command.verb]
    assert sub.query is not None
    if sub.admins_only and not ctx.is_admin(user_id):
        return Answer(render_error(sub.admins_only)), None
    period = ctx.open_period()
    caching = cache is not None and _reusable(ctx, command, user_id, people)
    if caching:
        assert cache is not None
        # The cached path: the revision, read after this request arrived, and nothing else.
        current = await cache.revision()
        if current is not None:
            cached = cache.get(_key(ctx, command, user_id, period, current))
            if cached is not None:
                return cached, None
    key: tuple[object, ...] | None = None
    async with session_scope(ctx.engine) as session:
        try:
            plan = await active_plan(session)
        except NoActivePlan:
            return Answer(render_error(NO_PLAN)), None
        assert plan.id is not None
        if caching:
            # The answer is computed at this revision or later: kept under this one.
            key = _key(ctx, command, user_id, period, (plan.id, plan.revision))
        shown = await sub.query(Query(ctx, session, plan.id, command, user_id, period))
    noting, named = _naming(people)
    answer = Answer(shown.render(noting), sub.shareable and shown.shareable, tuple(named))
    if key is not None and cache is not None:
        cache.put(key, answer)
    return answer, shown


def _reusable(ctx: PlanContext, command: PlanCommand, user_id: str, people: People) -> bool:
    """Whether this answer may come from (and go to) the answer cache."""
    sub = SUBCOMMANDS[command.verb]
    # Admins' view of `missing` shows undelivered prompts, which do not move the revision.
    admin_missing = command.verb is Verb.MISSING and ctx.is_admin(user_id)
    return sub.cacheable and not sub.admins_only and people is mention and not admin_missing


def _key(
    ctx: PlanContext, command: PlanCommand, user_id: str, period: str, at: Revision
) -> tuple[object, ...]:
    words, admin = normalise(command.words), ctx.is_admin(user_id)
    return (*at, period, command.verb, words, command.number, admin)


def cached_now(
    ctx: PlanContext, command: PlanCommand, user_id: str, cache: AnswerCache
) -> Answer | None:
    """The private answer from `cache` when the revision can be read without waiting (a SQLite
    file: handlers/commands/revision.py) and the answer is there; None otherwise (then the
    answer is found the usual way, within the acknowledgement's budget). Saves a task and a
    timer per cached answer."""
    if not _reusable(ctx, command, user_id, mention):
        return None
    try:
        current = cache.revisions.current_now()
    except WouldWait:
        return None
    if current is None:
        return None
    return cache.get(_key(ctx, command, user_id, ctx.open_period(), current))


async def answer_plan_command(
    ctx: PlanContext,
    command: PlanCommand,
    user_id: str,
    people: People,
    cache: AnswerCache | None = None,
) -> Answer:
    """What a `/plan` query answers (no Slack calls). Private answers (`people` is `mention`)
    come from `cache` while the plan's revision has not moved."""
    return (await _answer(ctx, command, user_id, people, cache))[0]


async def share_plan_command(
    ctx: PlanContext,
    command: PlanCommand,
    user_id: str,
    names: PeopleNames,
    client: AsyncWebClient,
) -> Message | None:
    """The answer as posted for everyone by *Share in channel*: the query runs once, and the
    people its answer names are shown by name (no ping). None when it cannot be shared."""
    if SUBCOMMANDS[command.verb].query is None:
        return None
    answer, shown = await _answer(ctx, command, user_id, mention, None)
    if not answer.shareable or shown is None:
        return None
    people = await names.names(client, [*answer.named, user_id])
    return shared_by(shown.render(people), people(user_id))


REPLIES_KEPT = 8  # an answer's replies kept (by the command as typed: "fire", "Fire ", …)


def reply(answer: Answer, command_text: str) -> dict[str, Any]:
    """The acknowledgement's body (the caller must not change it: it may be reused)."""
    made = answer.replies.get(command_text)
    if made is not None:
        return made
    message = answer.message
    if answer.shareable:
        message = with_share_button(message, command_text)
    made = {"response_type": "ephemeral", "text": message.text, "blocks": message.blocks}
    if len(answer.replies) < REPLIES_KEPT:
        answer.replies[command_text] = made
    return made


FAILED = Answer(
    render_error(
        "Something went wrong on our side and has been logged. Please try again in a minute."
    )
)


# The database did not answer (down, or every connection taken past the pool's wait): a
# known condition, told as such, with one line in the log rather than a traceback.
NOT_ANSWERING = Answer(
    render_error(
        "Plan Bot's database is not answering right now. Please try again in a few minutes."
    )
)


async def _safe_answer(
    ctx: PlanContext, command: PlanCommand, user_id: str, cache: AnswerCache
) -> Answer:
    try:
        return await answer_plan_command(ctx, command, user_id, mention, cache)
    except Exception as exc:
        if database_unavailable(exc):
            log.warning(
                "/plan %s not answered: the database is unavailable (%s)",
                command.verb,
                type(exc).__name__,
            )
            return NOT_ANSWERING
        log.exception("/plan %s failed", command.verb)
        return FAILED


async def _within_ack_budget(a: Act, answering: Awaitable[Answer]) -> None:
    """Answer in the acknowledgement when it is ready within ACK_BUDGET_SECONDS; otherwise
    acknowledge with a "working on it" and answer through the response URL."""
    task = asyncio.ensure_future(answering)
    done, _ = await asyncio.wait({task}, timeout=ACK_BUDGET_SECONDS)
    if task in done:
        await a.ack(**reply(task.result(), a.text))
        return
    await a.ack(response_type="ephemeral", text=":hourglass_flowing_sand: Working on it…")
    await a.respond(**reply(await task, a.text))


async def export_for(
    ctx: PlanContext, client: AsyncWebClient, user_id: str, names: PeopleNames
) -> None:
    """The latest status of every initiative, as a CSV file in a direct message: statuses in
    words and people by name, a file a city can publish as it is. When the plan has measures,
    a second file has every measure's figures against target."""
    period = ctx.open_period()
    async with session_scope(ctx.engine) as session:
        plan = await active_plan(session)
        assert plan.id is not None
        rows = await export_rows(session, plan.id, period)
        measures = await measure_export_rows(
            session, plan.id, period, start_month=ctx.fiscal_year_start
        )
        filename = export_filename(plan, period)
        measures_file = measures_filename(plan, period)
    rows = with_names(rows, await names.plain_names(client, authors(rows)))
    label = period_label(period)
    uploads: list[dict[str, Any]] = [
        {
            "content": to_csv(rows).encode("utf-8"),
            "filename": filename,
            "title": f"Plan status, {label}",
        }
    ]
    if measures:
        uploads.append(
            {
                "content": to_csv(measures, MeasureExportRow).encode("utf-8"),
                "filename": measures_file,
                "title": f"Measures against target, up to {label}",
            }
        )
    said = "every measure's figures against target" if measures else ""
    dm = await client.conversations_open(users=user_id)
    await client.files_upload_v2(
        channel=dm["channel"]["id"],
        file_uploads=uploads,
        initial_comment="The latest status of every initiative"
        + (f", and {said}" if said else "")
        + ", as you asked.",
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
    cache = AnswerCache(ctx.engine)

    @app.command("/plan")
    async def plan_command(
        ack: AsyncAck,
        command: dict[str, Any],
        respond: AsyncRespond,
        client: AsyncWebClient,
        context: AsyncBoltContext,
    ) -> None:
        text = str(command.get("text") or "")
        person = person_of(context)
        user_id = person.user_id
        parsed = parse_plan_command(text)
        if isinstance(parsed, CommandError):
            await ack(**reply(Answer(render_error(parsed.problem)), text))
            return
        trigger_id = str(command.get("trigger_id") or "")
        act = Act(ctx, parsed, person, text, trigger_id, ack, respond, client, names)
        sub = SUBCOMMANDS[parsed.verb]
        if sub.act is None:
            cached = cached_now(ctx, parsed, user_id, cache)
            if cached is not None:
                await ack(**reply(cached, text))
                return
            await _within_ack_budget(act, _safe_answer(ctx, parsed, user_id, cache))
        elif sub.admins_only and not person.is_admin:
            await ack(**reply(Answer(render_error(sub.admins_only)), text))
        else:
            await sub.act(act)
