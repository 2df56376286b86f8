"""`planbot owners load FILE.csv`: departments' owners (and channels) from a spreadsheet. The
whole file is checked — departments against the plan, e-mails, user IDs and channels against
Slack — before anything is written; then every row is written in one transaction."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.doctor import ACTIVE, DEACTIVATED, NOT_A_MEMBER, people_states
from handlers.channels import CHANNEL_NOT_FOUND, INVITE
from jobs.failures import POST_FAILURES, describe
from models.cycle import reopen_blocked_prompts
from models.db import session_scope
from models.lookup import load_directory
from models.ownersfile import Owner, OwnersFile
from models.plans import active_plan_id, set_backups, set_contacts, set_owners
from models.tables import ContactRole, Department

AT_ONCE = 4
LIST_PAGES = 25
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Assignment:
    """One row, checked: what will be written."""

    row: int
    department_id: int
    key: str
    name: str
    user_ids: tuple[str, ...]
    owners_shown: tuple[str, ...]  # "U0123 (chief@city.gov)" where an e-mail was given
    channel_id: str | None  # None: the updates channel
    keep_channel: bool  # the file has no channel column
    channel_shown: str
    channel_changes: bool
    backup_ids: tuple[str, ...] | None = None  # None: the file has no backups column
    backups_shown: tuple[str, ...] = ()
    escalation_ids: tuple[str, ...] | None = None  # None: the file has no escalation column


async def check_owners_file(
    found: OwnersFile,
    engine: AsyncEngine,
    client: AsyncWebClient | None,
    progress: Progress | None = None,
) -> list[Assignment]:
    """Every row resolved, or OwnersFileError listing every problem with its row (all of
    them: the file's shape, the plan's departments, Slack's people and channels)."""
    async with session_scope(engine) as session:
        plan_id = await active_plan_id(session)
        directory = await load_directory(session, plan_id)
    departments: dict[int, Department] = {}
    first_row: dict[int, int] = {}
    for row in found.rows:
        department = directory.exact_department(row.department)
        if department is None:
            guess = directory.resolve(row.department, kinds=("department",))
            hints = (guess.target,) if guess.target else guess.suggestions
            hint = f"; did you mean {' or '.join(t.key for t in hints)}?" if hints else ""
            found.fail(row.row, "department", f"no department {row.department!r}{hint}")
            continue
        assert department.id is not None
        if department.id in first_row:
            found.fail(
                row.row,
                "department",
                f"{department.name} is on row {first_row[department.id]} already",
            )
            continue
        first_row[department.id] = row.row
        departments[row.row] = department

    emails = sorted({o.email for r in found.rows for o in r.people if o.email})
    names = sorted({r.channel.name for r in found.rows if r.channel and r.channel.name})
    user_ids = {o.user_id for r in found.rows for o in r.people if o.user_id}
    channel_ids = {r.channel.channel_id for r in found.rows if r.channel and r.channel.channel_id}
    by_email: dict[str, str] = {}  # e-mail → user id
    email_problems: dict[str, str] = {}
    by_name: dict[str, str] = {}  # channel name → id
    states: dict[str, str] = {}
    channel_problems: dict[str, str] = {}
    if client is None:
        if emails or names:
            rows = sorted(
                {
                    r.row
                    for r in found.rows
                    if any(o.email for o in r.people) or (r.channel and r.channel.name)
                }
            )
            found.fail_row(
                rows[0],
                "e-mails and #names are looked up in Slack, and SLACK_BOT_TOKEN is not set "
                "(user and channel IDs alone need no token)",
                rows=f"row{'s' if len(rows) > 1 else ''} {', '.join(map(str, rows))}",
            )
    else:
        total = len(emails) + len(user_ids) + len(channel_ids) + (1 if names else 0)
        done = 0

        def advance(n: int = 1) -> None:
            nonlocal done
            done += n
            if progress is not None:
                progress(done, total)

        by_email, email_problems = await _lookup_emails(client, emails, advance)
        states = await people_states(client, [*user_ids, *by_email.values()])
        advance(len(user_ids))
        if names:
            by_name = await _channels_by_name(client)
            advance()
        channel_problems = await _check_channel_ids(client, sorted(channel_ids), advance)

    def resolved(row: int, people: tuple[Owner, ...]) -> tuple[list[str], list[str]]:
        """The user ids of the people a cell names, and how to show them; each one who is
        not an active member of the workspace is a problem of that row and cell."""
        ids: list[str] = []
        shown: list[str] = []
        for owner in people:
            if owner.email:
                if client is None:
                    continue
                if owner.email in email_problems:
                    found.fail(row, owner.column, email_problems[owner.email])
                    continue
                user_id = by_email[owner.email]
                shown.append(f"{user_id} ({owner.email})")
            else:
                assert owner.user_id is not None
                user_id = owner.user_id
                shown.append(user_id)
            state = states.get(user_id, ACTIVE)
            if state != ACTIVE:
                what = {
                    NOT_A_MEMBER: "is not a member of this Slack workspace",
                    DEACTIVATED: "is a deactivated Slack account",
                }.get(state, f"could not be checked: {state}")
                found.fail(row, owner.column, f"{owner.text} {what}")
                continue
            ids.append(user_id)
        return ids, shown

    assignments: list[Assignment] = []
    for row in found.rows:
        ids, shown = resolved(row.row, row.owners)
        backup_ids, backups_shown = resolved(row.row, row.backups or ())
        escalation_ids, _ = resolved(row.row, row.escalation or ())
        channel_id: str | None = None
        channel_shown = "(unchanged)"
        if row.channel is not None:
            if row.channel.name:
                channel_id = by_name.get(row.channel.name)
                if channel_id is None and client is not None:
                    found.fail(
                        row.row,
                        "channel",
                        f"Plan Bot sees no channel {row.channel.text}: check the name; if it is "
                        f"private, invite Plan Bot first ({INVITE} in it)",
                    )
                channel_shown = f"{row.channel.text} ({channel_id})"
            elif row.channel.channel_id:
                channel_id = row.channel.channel_id
                if channel_id in channel_problems:
                    found.fail(row.row, "channel", channel_problems[channel_id])
                channel_shown = channel_id
            else:
                channel_shown = "(the updates channel)"
        department = departments.get(row.row)
        if department is None or department.id is None:
            continue
        keep = row.channel is None
        assignments.append(
            Assignment(
                row=row.row,
                department_id=department.id,
                key=department.key,
                name=department.name,
                user_ids=tuple(dict.fromkeys(ids)),
                owners_shown=tuple(dict.fromkeys(shown)),
                channel_id=department.channel_id if keep else channel_id,
                keep_channel=keep,
                channel_shown=channel_shown,
                channel_changes=not keep and channel_id != department.channel_id,
                backup_ids=None if row.backups is None else tuple(dict.fromkeys(backup_ids)),
                backups_shown=tuple(dict.fromkeys(backups_shown)),
                escalation_ids=(
                    None if row.escalation is None else tuple(dict.fromkeys(escalation_ids))
                ),
            )
        )
    found.check()
    return assignments


async def save_assignments(engine: AsyncEngine, assignments: list[Assignment]) -> None:
    """Every row in one transaction. A department given a new channel has any prompt its old
    channel refused tried again there."""
    async with session_scope(engine) as session:
        for assignment in assignments:
            department = await session.get(Department, assignment.department_id)
            assert department is not None
            if not assignment.keep_channel:
                department.channel_id = assignment.channel_id
                session.add(department)
            await set_owners(session, department, assignment.user_ids)
            if assignment.backup_ids is not None:
                await set_backups(session, department, assignment.backup_ids)
            if assignment.escalation_ids is not None:
                await set_contacts(
                    session, department, ContactRole.ESCALATION, assignment.escalation_ids
                )
        moved = [a.department_id for a in assignments if a.channel_changes]
        if moved:
            await reopen_blocked_prompts(session, department_ids=moved)


async def _lookup_emails(
    client: AsyncWebClient, emails: list[str], advance: Callable[[], None]
) -> tuple[dict[str, str], dict[str, str]]:
    found: dict[str, str] = {}
    problems: dict[str, str] = {}
    slots = asyncio.Semaphore(AT_ONCE)

    async def one(email: str) -> None:
        async with slots:
            try:
                user = (await client.users_lookupByEmail(email=email))["user"]
            except POST_FAILURES as exc:
                error = describe(exc)
                problems[email] = (
                    f"no one in this Slack workspace has the e-mail {email}"
                    if error == "users_not_found"
                    else f"cannot look up {email} in Slack: {error}"
                    + (" (the token needs users:read.email)" if error == "missing_scope" else "")
                )
            else:
                if user.get("deleted"):
                    problems[email] = f"{email} belongs to a deactivated Slack account"
                else:
                    found[email] = str(user["id"])
            advance()

    await asyncio.gather(*(one(email) for email in emails))
    return found, problems


async def _channels_by_name(client: AsyncWebClient) -> dict[str, str]:
    """Every channel Plan Bot can see (all public ones, the private ones it is in): name → id."""
    names: dict[str, str] = {}
    cursor: str | None = None
    for _ in range(LIST_PAGES):
        page = await client.conversations_list(
            types="public_channel,private_channel", exclude_archived=True, limit=1000, cursor=cursor
        )
        for channel in page.get("channels") or []:
            names[str(channel.get("name", "")).lower()] = str(channel["id"])
        cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
        if cursor is None:
            break
    return names


async def _check_channel_ids(
    client: AsyncWebClient, ids: list[str], advance: Callable[[], None]
) -> dict[str, str]:
    problems: dict[str, str] = {}
    slots = asyncio.Semaphore(AT_ONCE)

    async def one(channel_id: str) -> None:
        async with slots:
            try:
                channel = (await client.conversations_info(channel=channel_id))["channel"]
            except POST_FAILURES as exc:
                error = describe(exc)
                problems[channel_id] = (
                    f"Plan Bot cannot see channel {channel_id}: check the ID; if it is private, "
                    f"invite Plan Bot first ({INVITE} in it)"
                    if error == CHANNEL_NOT_FOUND
                    else f"cannot check channel {channel_id} in Slack: {error}"
                )
            else:
                if channel.get("is_archived"):
                    problems[channel_id] = f"channel #{channel.get('name')} is archived"
            advance()

    await asyncio.gather(*(one(channel_id) for channel_id in ids))
    return problems
