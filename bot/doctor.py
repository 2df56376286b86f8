"""`planbot doctor`: would this deployment work? The database, the token and its scopes, every
channel Plan Bot posts in, and the people it asks — each finding with what to do about it.
`planbot serve` runs the same checks at start-up and logs each problem as one line.

It changes one thing: a public channel Plan Bot is configured for but not in is joined, as the
first post there would join it anyway (and thread replies only reach a member)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.settings import Settings
from bot.slack_client import build_web_client
from handlers.channels import (
    CHANNEL_NOT_FOUND,
    IS_ARCHIVED,
    UPDATES_SETTING,
    how_to_fix,
)
from handlers.messages.limits import TIER_3_PER_MINUTE, tier_2_turn
from jobs.failures import POST_FAILURES, describe
from jobs.pacing import Pacer
from models.canvases import canvas_refusals
from models.db import create_engine, current_revision, redact, session_scope
from models.plans import DepartmentOwners, NoActivePlan, active_plan, list_owners

log = logging.getLogger("planbot.doctor")

# Every scope the bot uses, and what stops working without it (manifest.yml asks for these).
REQUIRED_SCOPES: dict[str, str] = {
    "commands": "the /plan command",
    "chat:write": "prompts, answers, reminders and the digest",
    "im:write": "reminders and exports by direct message",
    "users:read": "names in shared answers and the digest; this check of owners",
    "users:read.email": "owners given by e-mail in planbot owners load",
    "files:write": "/plan export and the digest's charts",
    "reactions:write": "the ✅ on a recorded thread reply",
    "channels:history": "thread replies in public channels",
    "groups:history": "thread replies in private channels",
    "channels:join": "joining a department's public channel",
    "channels:read": "this check of public channels; #names in planbot owners load",
    "groups:read": "this check of private channels; hearing that Plan Bot was invited",
}
# Scopes of features that are skipped without them: a warning, not a problem.
OPTIONAL_SCOPES: dict[str, str] = {
    "canvases:write": "each department's canvas in its channel, the plan's in the digest channel",
}
REINSTALL = (
    "add them under OAuth & Permissions → Bot Token Scopes (manifest.yml lists each), then "
    "Reinstall to Workspace"
)
DIGEST_SETTING = "PLANBOT_DIGEST_CHANNEL"
LIST_FROM = 10  # with this many channels or people to check, page through the lists
LIST_PAGES = 25
AT_ONCE = 4  # single look-ups in flight at a time
ACTIVE = "active"
DEACTIVATED = "deactivated"
NOT_A_MEMBER = "not a member of this workspace"
NOT_CHECKED = "not checked"
_BAD_TOKEN = frozenset(
    {"invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired"}
)


class Level(StrEnum):
    OK = "ok"
    WARNING = "warning"
    ERROR = "error"  # something would fail


@dataclass(frozen=True)
class Finding:
    level: Level
    subject: str  # "token", "scopes", "channel #fire (C0FIRE)", "owner U0123"…
    message: str
    fix: str = ""

    def line(self) -> str:
        """The finding as one line, for a log."""
        return f"{self.subject}: {self.message}" + (f" — fix: {self.fix}" if self.fix else "")


@dataclass
class Checkup:
    findings: list[Finding] = field(default_factory=list)

    def add(self, level: Level, subject: str, message: str, fix: str = "") -> None:
        self.findings.append(Finding(level, subject, message, fix))

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.level is Level.ERROR]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.level is Level.WARNING]

    def summary(self) -> str:
        errors, warnings = len(self.errors), len(self.warnings)
        if not errors and not warnings:
            return "every check passed"
        parts = [f"{errors} problem{'s' if errors != 1 else ''}"] if errors else []
        if warnings:
            parts.append(f"{warnings} warning{'s' if warnings != 1 else ''}")
        return " and ".join(parts)


@dataclass(frozen=True)
class _Plan:
    name: str
    departments: list[DepartmentOwners]
    canvas_refusals: dict[str, int] = field(default_factory=dict)  # Slack's error → canvases


async def check_deployment(settings: Settings) -> Checkup:
    """Every check, in the order a person would fix things: database, token, scopes,
    channels, people."""
    checkup = Checkup()
    plan = await _check_database(settings, checkup)
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else ""
    if not token:
        checkup.add(
            Level.ERROR,
            "token",
            "SLACK_BOT_TOKEN is not set",
            "copy the Bot User OAuth Token (xoxb-…) from the app's OAuth & Permissions page",
        )
        return checkup
    client = build_web_client(token, settings.slack_api_url)
    if not await _check_token(client, token, settings, checkup):
        return checkup
    await _check_channels(client, settings, plan, checkup)
    if plan is not None:
        _check_canvases(settings, plan, checkup)
        await _check_people(client, settings, plan, checkup)
    return checkup


# What to do when Slack refused canvases (the scope itself is checked with the others).
_CANVAS_FIXES = {
    "not_allowed_token_type": "SLACK_BOT_TOKEN must be the Bot User OAuth Token (xoxb-…)",
    "restricted_action": (
        "a workspace admin restricts who may create canvases: allow it for apps (Settings & "
        "Permissions), or set PLANBOT_CANVASES=false"
    ),
    "canvas_disabled_user_team": "canvases are turned off in this workspace: turn them on, or "
    "set PLANBOT_CANVASES=false",
}
_FREE_PLAN = (
    "this Slack plan allows only one canvas per channel: give departments their own channels "
    "(`planbot owners set KEY … --channel`), upgrade the plan, or set PLANBOT_CANVASES=false"
)


def _check_canvases(settings: Settings, plan: _Plan, checkup: Checkup) -> None:
    """Canvases Slack refused when the bot last tried: why, and how to have them."""
    if not settings.canvases:
        return
    for error, count in sorted(plan.canvas_refusals.items()):
        if error == "missing_scope":
            continue
        fix = _CANVAS_FIXES.get(error)
        if fix is None and ("free_team" in error or "team_tier" in error):
            fix = _FREE_PLAN
        if fix is None:
            continue  # a channel's own trouble: the channel checks name it
        what = f"Slack refused {count} canvas{'es' if count != 1 else ''}: {error}"
        checkup.add(Level.WARNING, "canvases", what + "; answers are recorded without them", fix)


def log_checkup(checkup: Checkup) -> None:
    """At start-up: each problem as one clear line, then how it went."""
    for finding in checkup.findings:
        if finding.level is Level.ERROR:
            log.error("doctor: %s", finding.line())
        elif finding.level is Level.WARNING:
            log.warning("doctor: %s", finding.line())
    log.info("doctor: %s (planbot doctor says more)", checkup.summary())


# --- database -------------------------------------------------------------------------------


async def _check_database(settings: Settings, checkup: Checkup) -> _Plan | None:
    import migrations

    where = redact(settings.database)
    try:
        revision = await asyncio.to_thread(current_revision, settings.database)
    except Exception as exc:
        first = (str(getattr(exc, "orig", None) or exc).strip().splitlines() or ["?"])[0]
        checkup.add(
            Level.ERROR,
            "database",
            f"cannot open {where}: {redact(first)}",
            "check DATABASE_URL, and that the database server is up",
        )
        return None
    if revision is None:
        checkup.add(
            Level.ERROR, "database", f"{where} has no tables yet", "run `planbot db upgrade`"
        )
        return None
    if revision != migrations.HEAD:
        checkup.add(
            Level.ERROR,
            "database",
            f"{where} is at revision {revision}; this version needs {migrations.HEAD}",
            "run `planbot db upgrade` (`planbot serve` also does it when it starts)",
        )
        return None
    engine = create_engine(settings.database)
    try:
        async with session_scope(engine) as session:
            try:
                name = (await active_plan(session)).name
            except NoActivePlan:
                checkup.add(
                    Level.WARNING,
                    "plan",
                    "no plan is loaded, so nobody is asked anything",
                    "run `planbot plan load` (the bundled plan) or `planbot plan load FILE`",
                )
                return None
            departments = await list_owners(session)
            refusals = await canvas_refusals(session)
    finally:
        await engine.dispose()
    checkup.add(Level.OK, "database", f"{where} is at revision {revision}; plan: {name}")
    return _Plan(name, departments, refusals)


# --- token and scopes -----------------------------------------------------------------------


def _header(answer: Any, name: str) -> str | None:
    for key, value in (getattr(answer, "headers", None) or {}).items():
        if str(key).lower() == name:
            return str(value[0] if isinstance(value, list) else value)
    return None


async def _check_token(
    client: AsyncWebClient, token: str, settings: Settings, checkup: Checkup
) -> bool:
    try:
        answer = await client.auth_test()
    except SlackApiError as exc:
        error = describe(exc)
        fix = (
            "copy the Bot User OAuth Token (xoxb-…) again from OAuth & Permissions; if the "
            "app was uninstalled, install it again"
            if error in _BAD_TOKEN
            else "see Slack's answer above"
        )
        checkup.add(Level.ERROR, "token", f"Slack refused the token: {error}", fix)
        return False
    except POST_FAILURES as exc:
        checkup.add(
            Level.ERROR,
            "token",
            f"cannot reach Slack at {settings.slack_api_url}: {describe(exc)}",
            "check the network, a proxy, or SLACK_API_URL",
        )
        return False
    checkup.add(
        Level.OK,
        "token",
        f"{answer.get('user') or 'the bot'} ({answer.get('user_id')}) "
        f"in {answer.get('team') or 'the workspace'} ({answer.get('team_id')})",
    )
    if not token.startswith("xoxb-"):
        checkup.add(
            Level.WARNING,
            "token",
            "SLACK_BOT_TOKEN is not a bot token (those start with xoxb-)",
            "use the Bot User OAuth Token from OAuth & Permissions",
        )
    header = _header(answer, "x-oauth-scopes")
    if header is None:
        checkup.add(
            Level.WARNING,
            "scopes",
            "Slack did not say which scopes the token has",
            "compare OAuth & Permissions → Bot Token Scopes with manifest.yml",
        )
        return True
    granted = {scope.strip() for scope in header.split(",") if scope.strip()}
    missing = [scope for scope in REQUIRED_SCOPES if scope not in granted]
    if missing:
        what = "; ".join(f"{scope} ({REQUIRED_SCOPES[scope]})" for scope in missing)
        checkup.add(Level.ERROR, "scopes", f"missing {what}", REINSTALL)
    else:
        extra = [scope for scope in OPTIONAL_SCOPES if scope in granted]
        also = f", and {', '.join(extra)} for canvases" if extra else ""
        checkup.add(Level.OK, "scopes", f"all {len(REQUIRED_SCOPES)} the bot uses{also}")
    if settings.canvases and "canvases:write" not in granted:
        checkup.add(
            Level.WARNING,
            "scopes",
            f"missing canvases:write ({OPTIONAL_SCOPES['canvases:write']}): canvases are "
            "skipped, everything else works",
            "to have them, add canvases:write under OAuth & Permissions → Bot Token Scopes and "
            "Reinstall to Workspace (a free Slack plan allows only channel canvases); to stop "
            "this warning instead, set PLANBOT_CANVASES=false",
        )
    return True


# --- channels -------------------------------------------------------------------------------


async def _check_channels(
    client: AsyncWebClient, settings: Settings, plan: _Plan | None, checkup: Checkup
) -> None:
    uses: dict[str, list[str]] = {}  # channel id → what posts there
    settings_of: dict[str, str] = {}  # channel id → the setting that names it
    owned = [d for d in plan.departments if d.owners] if plan else []
    if settings.updates_channel:
        uses.setdefault(settings.updates_channel, []).append(UPDATES_SETTING)
        settings_of[settings.updates_channel] = UPDATES_SETTING
    else:
        homeless = [d.name for d in owned if not d.channel_id]
        if homeless:
            checkup.add(
                Level.ERROR,
                "updates channel",
                f"{UPDATES_SETTING} is not set, and {_names(homeless)} have owners but no "
                "channel of their own: their prompts go nowhere",
                f"set {UPDATES_SETTING} to a channel id (C0123ABCD), or give them a channel "
                "with `planbot owners load`",
            )
    if settings.digest_channel:
        uses.setdefault(settings.digest_channel, []).append(DIGEST_SETTING)
        settings_of.setdefault(settings.digest_channel, DIGEST_SETTING)
    else:
        checkup.add(
            Level.WARNING,
            "digest channel",
            f"{DIGEST_SETTING} is not set: no weekly digest is posted",
            f"set {DIGEST_SETTING} to the leadership channel's id",
        )
    for department in plan.departments if plan else []:
        if department.channel_id:
            uses.setdefault(department.channel_id, []).append(department.name)
    facts = await _channel_facts(client, list(uses))
    for channel_id, used_by in uses.items():
        await _check_channel(
            client, channel_id, used_by, settings_of.get(channel_id), facts[channel_id], checkup
        )


async def _channel_facts(client: AsyncWebClient, ids: Sequence[str]) -> dict[str, Any]:
    """Each channel's conversation object, or Slack's error for it: from conversations.list
    pages when there are many, conversations.info for the rest."""
    facts: dict[str, Any] = {}
    wanted = set(ids)
    if len(wanted) >= LIST_FROM:
        cursor: str | None = None
        for n in range(LIST_PAGES):
            await tier_2_turn(n)
            try:
                page = await client.conversations_list(
                    types="public_channel,private_channel", limit=1000, cursor=cursor
                )
            except POST_FAILURES:
                break
            for channel in page.get("channels") or []:
                if channel.get("id") in wanted:
                    facts[channel["id"]] = channel
            cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
            if cursor is None or wanted <= facts.keys():
                break
    slots = asyncio.Semaphore(AT_ONCE)
    # conversations.info is Tier 3 (about 50 a minute): channels the list did not show (a
    # private one the bot is not in, a mistyped id) are looked up at that pace, not all at once.
    pace = Pacer(per_second=TIER_3_PER_MINUTE / 60.0, per_channel=TIER_3_PER_MINUTE / 60.0)

    async def info(channel_id: str) -> None:
        async with slots:
            await pace.wait("conversations.info")
            try:
                facts[channel_id] = (await client.conversations_info(channel=channel_id))["channel"]
            except POST_FAILURES as exc:
                facts[channel_id] = describe(exc)

    await asyncio.gather(*(info(c) for c in ids if c not in facts))
    return facts


async def _check_channel(
    client: AsyncWebClient,
    channel_id: str,
    used_by: list[str],
    setting: str | None,
    fact: Any,
    checkup: Checkup,
) -> None:
    departments = len([u for u in used_by if u not in (UPDATES_SETTING, DIGEST_SETTING)])
    purpose = f"used by {_names(used_by)}"
    if isinstance(fact, str):
        where = f"channel {channel_id}"
        if fact in (CHANNEL_NOT_FOUND, IS_ARCHIVED):
            fix = how_to_fix(fact, where, setting=setting, departments=departments)
            checkup.add(Level.ERROR, where, f"{purpose}: Slack says {fact}", fix)
        else:
            checkup.add(Level.WARNING, where, f"{purpose}: could not check it ({fact})")
        return
    where = f"channel #{fact.get('name') or channel_id} ({channel_id})"
    if fact.get("is_archived"):
        fix = how_to_fix(IS_ARCHIVED, where, setting=setting, departments=departments)
        checkup.add(Level.ERROR, where, f"{purpose}: it is archived", fix)
        return
    if fact.get("is_member"):
        checkup.add(Level.OK, where, f"{purpose}; Plan Bot is a member")
        return
    try:
        await client.conversations_join(channel=channel_id)
    except POST_FAILURES as exc:
        error = describe(exc)
        fix = how_to_fix(error, where, setting=setting, departments=departments)
        checkup.add(Level.ERROR, where, f"{purpose}: Plan Bot is not a member ({error})", fix)
        return
    checkup.add(Level.OK, where, f"{purpose}; Plan Bot was not a member and joined it")


# --- people ---------------------------------------------------------------------------------


async def _check_people(
    client: AsyncWebClient, settings: Settings, plan: _Plan, checkup: Checkup
) -> None:
    owns: dict[str, list[DepartmentOwners]] = {}
    for department in plan.departments:
        for user_id in department.owners:
            owns.setdefault(user_id, []).append(department)
    people = await people_states(client, [*owns, *settings.admins])
    problems = 0
    for user_id, departments in owns.items():
        state = people[user_id]
        if state == ACTIVE:
            continue
        problems += 1
        names = _names([d.name for d in departments])
        if state.startswith(NOT_CHECKED):
            checkup.add(Level.WARNING, f"owner {user_id}", f"owner of {names}: {state}")
            continue
        checkup.add(
            Level.ERROR,
            f"owner {user_id}",
            f"owner of {names}, {state}: nobody will answer for "
            f"{'it' if len(departments) == 1 else 'them'}",
            f"give {names} an owner who is a member: `/plan owner {departments[0].key} "
            "@someone` in Slack, or `planbot owners load`",
        )
    for user_id in settings.admins:
        if people[user_id] != ACTIVE:
            problems += 1
            checkup.add(
                Level.WARNING,
                f"admin {user_id}",
                f"in PLANBOT_ADMINS but {people[user_id]}",
                "remove them from PLANBOT_ADMINS, or name someone who is a member",
            )
    if not problems:
        checkup.add(
            Level.OK,
            "people",
            f"{_count(len(owns), 'owner')} and {_count(len(settings.admins), 'admin')}, "
            "all active members of the workspace",
        )


async def people_states(client: AsyncWebClient, user_ids: Iterable[str]) -> dict[str, str]:
    """For each user id: ACTIVE, DEACTIVATED, NOT_A_MEMBER, or NOT_CHECKED with Slack's
    error. From users.list pages when there are many, users.info otherwise."""
    wanted = list(dict.fromkeys(user_ids))
    states: dict[str, str] = {}
    if len(wanted) >= LIST_FROM:
        cursor: str | None = None
        for n in range(LIST_PAGES):
            await tier_2_turn(n)
            try:
                page = await client.users_list(limit=200, cursor=cursor)
            except POST_FAILURES:
                break
            for member in page.get("members") or []:
                if member.get("id") in wanted:
                    states[member["id"]] = _state(member)
            cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
            if cursor is None or len(states) == len(wanted):
                break
    slots = asyncio.Semaphore(AT_ONCE)

    async def info(user_id: str) -> None:
        async with slots:
            try:
                states[user_id] = _state((await client.users_info(user=user_id))["user"])
            except POST_FAILURES as exc:
                error = describe(exc)
                states[user_id] = (
                    NOT_A_MEMBER if error == "user_not_found" else f"{NOT_CHECKED} ({error})"
                )

    await asyncio.gather(*(info(u) for u in wanted if u not in states))
    return states


def _state(user: dict[str, Any]) -> str:
    return DEACTIVATED if user.get("deleted") else ACTIVE


def _names(names: Sequence[str], most: int = 5) -> str:
    shown = list(names[:most])
    extra = len(names) - len(shown)
    if extra > 0:
        return ", ".join(shown) + f" and {extra} more"
    return shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " and " + shown[-1]


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"
