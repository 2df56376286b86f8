"""The `planbot` command line: serve, local mode, database, plan files, owners."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from rich.console import Console
from rich.markup import escape as rich_escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table
from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.logs import configure_logging, redact_secrets
from bot.settings import Settings, SettingsError, load_settings
from models.db import create_engine, redact, session_scope, upgrade
from models.export import EXPORT_FORMATS, authors, export_rows, render_export, with_names
from models.lookup import load_directory
from models.ownersfile import OwnersFileError
from models.periods import PeriodError, open_period, parse_period
from models.planfile import PlanFileError, read_plan_file
from models.plans import (
    NoActivePlan,
    active_plan_id,
    list_owners,
    load_plan,
    set_backups,
    set_contacts,
    set_owners,
)
from models.tables import ContactRole
from models.tokens import TokenError

if TYPE_CHECKING:
    from slack_sdk.web.async_client import AsyncWebClient

    from handlers.context import PlanContext

log = logging.getLogger("planbot")
err = Console(stderr=True, soft_wrap=True)


class CommandError(Exception):
    """A problem the person at the terminal can fix; printed as one line, exit status 2."""


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "run"):
        parser.print_help()
        return 0
    try:
        settings = load_settings()
        configure_logging(settings.log_format)
        return int(args.run(settings, args) or 0)
    except (
        SettingsError,
        CommandError,
        PlanFileError,
        OwnersFileError,
        PeriodError,
        NoActivePlan,
        TokenError,
    ) as exc:
        # The message may quote the user's own text: shown as typed, never read as markup.
        err.print(f"[bold red]planbot:[/] {rich_escape(str(exc))}", highlight=False, markup=True)
        return 2
    except sa_exc.OperationalError as exc:
        lines = str(exc.orig or exc).strip().splitlines() or ["unknown error"]
        err.print(
            f"planbot: cannot use the database {redact(settings.database)}: "
            f"{redact_secrets(lines[0])}",
            highlight=False,
            markup=False,
        )
        return 2
    except KeyboardInterrupt:
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="planbot", description="Plan Bot keeps a city's strategic plan alive in Slack."
    )
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the bot: Socket Mode or HTTP")
    serve.add_argument("--host", help="HTTP mode: address to listen on (default $HOST or 0.0.0.0)")
    serve.add_argument("--port", type=int, help="HTTP mode: port (default $PORT or 3000)")
    serve.set_defaults(run=_serve)

    local = commands.add_parser(
        "local", help="try the bot in the terminal, with a local stand-in for Slack"
    )
    local.add_argument(
        "--run",
        dest="script",
        action="append",
        metavar="COMMAND",
        help='run one command (e.g. "/plan safety") and exit; may be repeated',
    )
    local.add_argument("--user", default=None, help="the Slack user id you act as")
    local.add_argument(
        "--no-samples",
        action="store_true",
        help="do not add sample updates to an empty database",
    )
    local.set_defaults(run=_local)

    doctor = commands.add_parser(
        "doctor", help="check the deployment: database, token, scopes, channels, people"
    )
    doctor.set_defaults(run=_doctor)

    db = commands.add_parser("db", help="the database").add_subparsers(metavar="ACTION")
    db_up = db.add_parser("upgrade", help="create or migrate the tables")
    db_up.set_defaults(run=_db_upgrade)

    plan = commands.add_parser("plan", help="plan files").add_subparsers(metavar="ACTION")
    load = plan.add_parser("load", help="load a plan (the bundled Hartford plan by default)")
    load.add_argument("file", nargs="?", type=Path, help="a .yaml or .csv plan file")
    load.add_argument("--period", help="period for statuses the file states (default: open)")
    load.set_defaults(run=_plan_load)
    export = plan.add_parser("export", help="latest status of every initiative")
    export.add_argument("--format", choices=EXPORT_FORMATS, default="csv")
    export.add_argument("--output", type=Path, help="write to FILE instead of standard output")
    export.add_argument("--period", help="the reporting period (default: the open one)")
    export.set_defaults(run=_plan_export)
    samples = plan.add_parser("samples", help="add months of sample updates (demos)")
    samples.add_argument("--months", type=int, default=6)
    samples.set_defaults(run=_plan_samples)

    jobs = commands.add_parser("jobs", help="scheduled jobs").add_subparsers(metavar="ACTION")
    jobs_run = jobs.add_parser("run", help="run a job now: the scheduler's own code")
    jobs_run.add_argument(
        "job", choices=("prompts", "reminders", "digest", "fetch", "escalate", "canvases")
    )
    jobs_run.add_argument(
        "--period",
        help="the reporting period (default: the open one; for escalate, the one that closed)",
    )
    jobs_run.add_argument("--department", help="only this department (prompts, canvases)")
    jobs_run.add_argument("--reminder", type=int, help="which reminder (1, 2…; default: due)")
    jobs_run.set_defaults(run=_jobs_run)

    owners = commands.add_parser("owners", help="department owners").add_subparsers(
        metavar="ACTION"
    )
    owners_set = owners.add_parser("set", help="set a department's owner(s) and channel")
    owners_set.add_argument("department", help="key, name or alias, e.g. fire")
    owners_set.add_argument("user_ids", nargs="+", metavar="USER_ID")
    owners_set.add_argument("--channel", help="channel id for its prompts")
    owners_set.add_argument(
        "--backup",
        action="append",
        metavar="USER_ID",
        help="a backup owner, who may answer and is reminded from the second reminder on "
        "(repeat for several; replaces the department's backups)",
    )
    owners_set.add_argument(
        "--no-backups", action="store_true", help="remove the department's backup owners"
    )
    owners_set.add_argument(
        "--escalation",
        action="append",
        metavar="USER_ID",
        help="who is told by direct message when a period closes without the department's "
        "answer (repeat for several; default: the admins)",
    )
    owners_set.add_argument(
        "--no-escalation",
        action="store_true",
        help="remove its escalation contacts (the admins are told again)",
    )
    owners_set.set_defaults(run=_owners_set)
    owners_load = owners.add_parser(
        "load", help="owners (and channels) of many departments from a CSV file"
    )
    owners_load.add_argument(
        "file", type=Path, help="CSV with columns department, owners and optionally channel"
    )
    owners_load.set_defaults(run=_owners_load)
    owners_list = owners.add_parser("list", help="every department with its owners")
    owners_list.set_defaults(run=_owners_list)

    measures = commands.add_parser(
        "measures", help="measures: numbers with targets"
    ).add_subparsers(metavar="ACTION")
    define = measures.add_parser(
        "define", help="define measures from a .yaml or .csv file (docs/measures.md)"
    )
    define.add_argument("file", type=Path)
    define.set_defaults(run=_measures_define)
    actuals = measures.add_parser(
        "load", help="actuals from a CSV export: measure, period, value, note, ref"
    )
    actuals.add_argument("file", type=Path)
    actuals.set_defaults(run=_measures_load)
    measures_export = measures.add_parser(
        "export", help="every measure's figures against target, as open data (CSV or JSON)"
    )
    measures_export.add_argument("--format", choices=EXPORT_FORMATS, default="csv")
    measures_export.add_argument("--output", type=Path, help="write to FILE instead of stdout")
    measures_export.add_argument(
        "--period", help="only this period (YYYY-MM); default: every period up to the open one"
    )
    measures_export.set_defaults(run=_measures_export)

    tokens = commands.add_parser("tokens", help="API tokens for POST /api/measures").add_subparsers(
        metavar="ACTION"
    )
    create = tokens.add_parser("create", help="a new token, shown once")
    create.add_argument("name", help="who uses it, e.g. city-gis")
    create.set_defaults(run=_tokens_create)
    tokens_list = tokens.add_parser("list", help="every token: created, last used, revoked")
    tokens_list.set_defaults(run=_tokens_list)
    revoke = tokens.add_parser("revoke", help="revoke a token at once")
    revoke.add_argument("name")
    revoke.set_defaults(run=_tokens_revoke)
    return parser


T = TypeVar("T")


def _run(coro: Callable[..., Coroutine[Any, Any, Any]], *args: Any) -> Any:
    return asyncio.run(coro(*args))


def _in_progress(held: Sequence[tuple[str, str, datetime | None]]) -> list[str]:
    """'fire (by host:123:ab12cd since 09:00:05 UTC)': a claim another process holds now."""
    return [
        f"{key} (by {who}" + (f" since {since:%H:%M:%S %Z}" if since else "") + ")"
        for key, who, since in held
    ]


def _on_database(settings: Settings, work: Callable[[AsyncEngine], Awaitable[T]]) -> T:
    """Run a command's `work` with the one engine it opens, disposed however it ends."""

    async def go() -> T:
        engine = create_engine(settings.database)
        try:
            return await work(engine)
        finally:
            await engine.dispose()

    return asyncio.run(go())


def _prepare_database(settings: Settings) -> None:
    log.debug("database %s: bringing the schema up to date", redact(settings.database))
    upgrade(settings.database)


# --- serve and local ------------------------------------------------------------------------


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    from bot.server import serve

    socket_mode = settings.slack_app_token is not None
    settings.require_slack(socket_mode=socket_mode)
    _prepare_database(settings)
    serve(settings, host=args.host or settings.host, port=args.port or settings.port)
    return 0


def _local(settings: Settings, args: argparse.Namespace) -> int:
    from bot.local import run_local

    # The terminal is local mode's screen: only warnings and errors are logged on it.
    logging.getLogger().setLevel(logging.WARNING)
    _prepare_database(settings)
    return int(_run(run_local, settings, args.script, args.user, not args.no_samples))


def _doctor(settings: Settings, _args: argparse.Namespace) -> int:
    """Each finding with its fix; exit status 1 when something would fail."""
    from bot.doctor import Level, check_deployment

    checkup = _run(check_deployment, settings)
    out = Console(soft_wrap=True, highlight=False)
    marks = {Level.OK: "✔", Level.WARNING: "!", Level.ERROR: "✘"}
    for finding in checkup.findings:
        out.print(f"{marks[finding.level]} {finding.subject}: {finding.message}", markup=False)
        if finding.fix:
            out.print(f"    fix: {finding.fix}", markup=False)
    out.print(f"Plan Bot doctor: {checkup.summary()}.", markup=False)
    return 1 if checkup.errors else 0


# --- database and plan ----------------------------------------------------------------------


def _db_upgrade(settings: Settings, _args: argparse.Namespace) -> int:
    _prepare_database(settings)
    err.print(f"Database {redact(settings.database)} is up to date.", highlight=False)
    return 0


def _plan_load(settings: Settings, args: argparse.Namespace) -> int:
    spec = read_plan_file(args.file)
    _prepare_database(settings)
    period = parse_period(args.period) if args.period else open_period(settings.timezone)

    async def go(engine: AsyncEngine) -> Any:
        with _progress(f"Loading {spec.name}", spec.initiative_count) as advance:
            async with session_scope(engine) as session:
                return await load_plan(session, spec, period=period, progress=advance)

    result = _on_database(settings, go)
    verdict = (
        "nothing changed"
        if result.unchanged
        else (f"{result.created} rows added, {result.changed} changed")
    )
    err.print(
        f"Loaded {spec.name}: {result.goals} goals, {result.departments} departments, "
        f"{result.initiatives} initiatives ({verdict}).",
        highlight=False,
    )
    return 0


class _progress:
    """A progress bar on a terminal, a few plain log lines elsewhere."""

    def __init__(self, label: str, total: int) -> None:
        self.label, self.total = label, total
        self.bar: Progress | None = None
        self.logged = 0

    def __enter__(self) -> Callable[[int, int], None]:
        if err.is_terminal:
            self.bar = Progress(
                TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), console=err
            )
            self.bar.start()
            task = self.bar.add_task(self.label, total=self.total)

            def advance(done: int, total: int) -> None:
                assert self.bar is not None
                self.bar.update(task, completed=done, total=total)

            return advance

        def log_line(done: int, total: int) -> None:
            if done == total or done - self.logged >= max(1, total // 10):
                self.logged = done
                log.info("%s: %d of %d", self.label, done, total)

        return log_line

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()


def _plan_export(settings: Settings, args: argparse.Namespace) -> int:
    period = parse_period(args.period) if args.period else open_period(settings.timezone)

    async def go(engine: AsyncEngine) -> str:
        async with session_scope(engine) as session:
            plan_id = await active_plan_id(session)
            rows = await export_rows(session, plan_id, period)
        ids = authors(rows)
        if ids and settings.slack_bot_token is None:
            err.print(
                "planbot: people are shown by Slack user ID: set SLACK_BOT_TOKEN to show "
                "their names",
                highlight=False,
                markup=False,
            )
        elif ids:
            from bot.app import build_client
            from handlers.people import PeopleNames

            names = await PeopleNames().plain_names(build_client(settings), ids)
            unnamed = len(set(ids) - names.keys())
            if unnamed:
                err.print(
                    f"planbot: Slack did not name {unnamed} of {len(ids)} people; they are "
                    "shown by user ID",
                    highlight=False,
                    markup=False,
                )
            rows = with_names(rows, names)
        return render_export(rows, args.format)

    _prepare_database(settings)
    text = _on_database(settings, go)
    return _write_out(text, args.output)


def _write_out(text: str, output: Path | None) -> int:
    """An export to its file, or to standard output."""
    if output:
        output.write_text(text, encoding="utf-8")
        err.print(f"Wrote {output}.", highlight=False)
    else:
        sys.stdout.write(text)
    return 0


def _plan_samples(settings: Settings, args: argparse.Namespace) -> int:
    from models.periods import recent_periods
    from models.samples import add_sample_updates

    if not 1 <= args.months <= 120:
        raise CommandError("--months must be between 1 and 120")
    first = recent_periods(open_period(settings.timezone), args.months)[0]

    async def go(engine: AsyncEngine) -> int:
        async with session_scope(engine) as session:
            plan_id = await active_plan_id(session)
            return await add_sample_updates(session, plan_id, first, args.months)

    _prepare_database(settings)
    err.print(f"Added {_on_database(settings, go)} sample updates from {first}.", highlight=False)
    return 0


# --- jobs -----------------------------------------------------------------------------------


def _jobs_run(settings: Settings, args: argparse.Namespace) -> int:
    from bot.app import build_client, plan_context
    from jobs.prompts import BeforeThePlan, UnknownDepartment, post_monthly_prompts
    from jobs.reminders import send_reminders

    if args.job == "fetch":
        return _fetch(settings)
    if settings.slack_bot_token is None:
        raise CommandError("setting SLACK_BOT_TOKEN is missing: it is needed to post to Slack")
    period = parse_period(args.period) if args.period else open_period(settings.timezone)

    async def go(engine: AsyncEngine) -> int:
        ctx = plan_context(settings, engine)
        client = build_client(settings)
        period_shown = period
        if args.job == "digest":
            from handlers.people import PeopleNames
            from jobs.weekly_digest import DigestOutcome, post_weekly_digest

            if settings.digest_channel is None:
                raise CommandError(
                    "setting PLANBOT_DIGEST_CHANNEL is missing: the digest needs a channel"
                )
            digest = await post_weekly_digest(ctx, client, PeopleNames())
            verdict = {
                DigestOutcome.POSTED: f"posted in {digest.channel}",
                DigestOutcome.ALREADY: "already posted this week; nothing sent",
                DigestOutcome.IN_PROGRESS: f"being posted right now {digest.error}; nothing sent",
                DigestOutcome.FAILED: f"failed: {digest.error}",
            }[digest.outcome]
            err.print(f"Digest for the week of {digest.week}: {verdict}.", highlight=False)
            from jobs.follower_digests import send_follower_digests

            followers = await send_follower_digests(ctx, client)
            if followers.sent or followers.failed:
                err.print(
                    f"Followers' weekly lines: {len(followers.sent)} sent, "
                    f"{len(followers.failed)} failed.",
                    highlight=False,
                )
            failed = digest.outcome is DigestOutcome.FAILED or bool(followers.failed)
            return 1 if failed else 0
        if args.job == "canvases":
            return await _canvases(ctx, client, args.department)
        if args.job == "escalate":
            from jobs.escalations import escalate_silence
            from models.periods import previous_period

            closed = period if args.period else previous_period(period)
            if ctx.now() < ctx.calendar.closes_at(closed):
                raise CommandError(f"{closed} has not closed yet: silence is escalated once it has")
            escalation = await escalate_silence(ctx, client, closed)
            period_shown = closed
            rows = [
                ("escalated", escalation.escalated),
                ("had answered", escalation.answered),
                ("already escalated", escalation.already),
                ("nobody to tell (no contact, no admin)", escalation.nobody),
                ("failed", [f"{k} ({e})" for k, e in escalation.failed]),
            ]
            failing = bool(escalation.failed)
        elif args.job == "prompts":
            try:
                # Run by a person: prompts blocked by their channel are tried again too.
                run = await post_monthly_prompts(
                    ctx, client, period, department=args.department, retry_blocked=True
                )
            except (UnknownDepartment, BeforeThePlan) as exc:
                raise CommandError(str(exc)) from None
            rows = [
                ("posted", run.posted),
                ("already posted", run.already),
                ("being posted elsewhere", _in_progress(run.in_progress)),
                ("no owner (skipped)", run.unowned),
                ("no channel (skipped)", run.no_channel),
                ("failed", [f"{k} ({e})" for k, e in run.failed]),
                (
                    "channel needs a person",
                    [f"{b.department_key} ({b.error})" for b in run.blocked],
                ),
            ]
            failing = bool(run.failed or run.blocked)
        else:
            try:
                reminders = await send_reminders(ctx, client, period, args.reminder)
            except ValueError as exc:
                raise CommandError(f"--reminder: {exc}") from None
            if reminders.ordinal is None:
                err.print(f"No reminder is due yet for {period}.", highlight=False)
                return 0
            rows = [
                (f"reminder {reminders.ordinal} sent", reminders.reminded),
                ("had answered", reminders.answered),
                ("already reminded", reminders.already),
                ("being sent elsewhere", _in_progress(reminders.in_progress)),
                ("failed", [f"{k} ({e})" for k, e in reminders.failed]),
            ]
            if reminders.direct is not None:
                direct = reminders.direct
                rows += [
                    ("direct messages sent", direct.sent),
                    (
                        "direct messages at their morning",
                        [f"{k} ({at:%a %H:%M} UTC)" for k, at in direct.later],
                    ),
                    ("direct messages failed", [f"{k} ({e})" for k, e in direct.failed]),
                ]
            failing = bool(reminders.failed)
        table = Table(f"{args.job} for {period_shown}", "departments")
        for label, keys in rows:
            table.add_row(label, ", ".join(keys) or "—")
        Console().print(table)
        return 1 if failing else 0

    _prepare_database(settings)
    return int(_on_database(settings, go))


async def _canvases(ctx: PlanContext, client: AsyncWebClient, department: str | None) -> int:
    """Every department's canvas (or one), and the plan's, shown as they stand now."""
    from jobs.canvases import CanvasOutcome, refresh_canvases

    if not ctx.canvases:
        raise CommandError("canvases are turned off (PLANBOT_CANVASES=false)")
    try:
        runs = await refresh_canvases(ctx, client, department)
    except LookupError as exc:
        raise CommandError(str(exc)) from None
    table = Table("canvases", "departments")
    for outcome in CanvasOutcome:
        shown = [
            run.label + (f" ({run.error})" if run.error else "")
            for run in runs
            if run.outcome is outcome
        ]
        if shown:
            table.add_row(outcome.value.replace("_", " "), ", ".join(shown))
    Console().print(table)
    failed = (CanvasOutcome.FAILED, CanvasOutcome.NOT_ALLOWED)
    return 1 if any(run.outcome in failed for run in runs) else 0


# --- owners ---------------------------------------------------------------------------------


def _owners_set(settings: Settings, args: argparse.Namespace) -> int:
    from bot.settings import _CHANNEL_ID, _USER_ID
    from models.cycle import reopen_blocked_prompts

    backups: list[str] | None = [] if args.no_backups else args.backup
    if args.no_backups and args.backup:
        raise CommandError("give --backup or --no-backups, not both")
    escalation: list[str] | None = [] if args.no_escalation else args.escalation
    if args.no_escalation and args.escalation:
        raise CommandError("give --escalation or --no-escalation, not both")
    named = [*args.user_ids, *(backups or []), *(escalation or [])]
    bad = [u for u in named if not _USER_ID.match(u)]
    if bad:
        raise CommandError(f"{bad[0]!r} is not a Slack user id such as U0123ABCD")
    if args.channel and not _CHANNEL_ID.match(args.channel):
        raise CommandError(f"{args.channel!r} is not a channel id such as C0123ABCD")

    async def go(engine: AsyncEngine) -> str:
        async with session_scope(engine) as session:
            plan_id = await active_plan_id(session)
            directory = await load_directory(session, plan_id)
            found = directory.resolve(args.department, kinds=("department",), guess=False)
            if found.target is None:
                hint = ", ".join(t.key for t in found.suggestions) or "planbot owners list"
                raise CommandError(f"no department {args.department!r}; try: {hint}")
            department = directory.department(found.target)
            moved = args.channel is not None and args.channel != department.channel_id
            await set_owners(session, department, args.user_ids, args.channel)
            if backups is not None:
                await set_backups(session, department, backups)
            if escalation is not None:
                await set_contacts(session, department, ContactRole.ESCALATION, escalation)
            if moved and department.id is not None:  # a prompt its old channel refused
                await reopen_blocked_prompts(session, department_ids=[department.id])
            return department.name

    _prepare_database(settings)
    name = _on_database(settings, go)
    said = f"{name}: owners set to {', '.join(args.user_ids)}"
    if backups is not None:
        said += f"; backup owners: {', '.join(backups) or 'none'}"
    if escalation is not None:
        said += f"; escalation: {', '.join(escalation) or 'the admins'}"
    err.print(f"{said}.", highlight=False)
    return 0


def _owners_load(settings: Settings, args: argparse.Namespace) -> int:
    """Checked whole — the plan's departments, Slack's people and channels — then written in
    one transaction, or not at all."""
    from bot.app import build_client
    from bot.owners import check_owners_file, save_assignments
    from models.ownersfile import read_owners_file

    found = read_owners_file(args.file)

    async def go(engine: AsyncEngine) -> Any:
        client = build_client(settings) if settings.slack_bot_token else None
        with _progress("Checking owners and channels in Slack", len(found.rows)) as advance:
            assignments = await check_owners_file(found, engine, client, advance)
        await save_assignments(engine, assignments)
        return assignments

    _prepare_database(settings)
    assignments = _on_database(settings, go)
    with_backups = any(a.backup_ids is not None for a in assignments)
    table = Table("row", "department", "owners", *(["backups"] if with_backups else []), "channel")
    for a in assignments:
        backups = [", ".join(a.backups_shown) or "—"] if with_backups else []
        table.add_row(
            str(a.row),
            f"{a.name} ({a.key})",
            ", ".join(a.owners_shown),
            *backups,
            a.channel_shown,
        )
    Console().print(table)
    checked = "" if settings.slack_bot_token else " (not checked in Slack: no SLACK_BOT_TOKEN)"
    err.print(
        f"Loaded the owners of {len(assignments)} department"
        f"{'' if len(assignments) == 1 else 's'} from {args.file.name}{checked}.",
        highlight=False,
    )
    return 0


def _owners_list(settings: Settings, _args: argparse.Namespace) -> int:
    async def go(engine: AsyncEngine) -> Any:
        async with session_scope(engine) as session:
            return await list_owners(session)

    _prepare_database(settings)
    rows = _on_database(settings, go)
    table = Table()
    table.add_column("key", no_wrap=True)
    table.add_column("department")
    table.add_column("initiatives", justify="right")
    # User and channel ids are folded onto a second line when narrow, never cut.
    for name in ("owners", "backups", "escalation", "channel"):
        table.add_column(name, overflow="fold")
    for row in rows:
        table.add_row(
            row.key,
            row.name,
            str(row.initiatives),
            ", ".join(row.owners) or "—",
            ", ".join(row.backups) or "—",
            ", ".join(row.escalation) or "admins",
            row.channel_id or f"(updates channel {settings.updates_channel or 'unset'})",
        )
    console = Console()
    if not console.is_terminal:  # piped or redirected: one line per department, for grep
        console = Console(width=max(console.width, 160))
    console.print(table)
    return 0


def _fetch(settings: Settings) -> int:
    """Measures from their data sources now (no Slack needed); 1 when a source failed."""
    from bot.app import plan_context
    from jobs.measure_fetch import fetch_measures

    async def go(engine: AsyncEngine) -> Any:
        return await fetch_measures(plan_context(settings, engine))

    _prepare_database(settings)
    run = _on_database(settings, go)
    for key in run.fetched:
        err.print(
            f"{key}: {run.stored[key]} stored, {run.unchanged[key]} already there",
            highlight=False,
            markup=False,
        )
    for key, why in run.failed:
        err.print(f"{key}: failed, nothing stored: {why}", highlight=False, markup=False)
    if not run.fetched and not run.failed:
        err.print("No measure has a data source.", highlight=False, markup=False)
    return 1 if run.failed else 0


# --- measures and API tokens ------------------------------------------------------------------


def _measures_define(settings: Settings, args: argparse.Namespace) -> int:
    """Checked whole against the plan, then written in one transaction, or not at all."""
    from models.measurefile import read_measure_file
    from models.measures import load_measures

    found = read_measure_file(args.file)

    async def go(engine: AsyncEngine) -> Any:
        async with session_scope(engine) as session:
            plan_id = await active_plan_id(session)
            return await load_measures(
                session, plan_id, found.measures, source=args.file.name, sample=found.sample
            )

    _prepare_database(settings)
    loaded = _on_database(settings, go)
    verdict = (
        "nothing changed"
        if not (loaded.created or loaded.changed)
        else f"{loaded.created} added, {loaded.changed} changed"
    )
    err.print(
        f"Defined {loaded.measures} measure{'' if loaded.measures == 1 else 's'} from "
        f"{args.file.name} ({verdict}).",
        highlight=False,
        markup=False,
    )
    return 0


def _measures_load(settings: Settings, args: argparse.Namespace) -> int:
    """A monthly export of actuals: every row checked, then all stored, or none."""
    from models.measurefile import read_actuals_file
    from models.measures import record_actuals
    from models.tables import ActualSource

    rows = read_actuals_file(args.file)

    async def go(engine: AsyncEngine) -> Any:
        async with session_scope(engine) as session:
            plan_id = await active_plan_id(session)
            return await record_actuals(
                session,
                plan_id,
                rows,
                source=ActualSource.FILE,
                author=f"file:{args.file.name}"[:60],
            )

    _prepare_database(settings)
    result = _on_database(settings, go)
    err.print(
        f"Loaded {args.file.name}: {result.stored} value{'' if result.stored == 1 else 's'} "
        f"stored, {result.unchanged} already there.",
        highlight=False,
        markup=False,
    )
    return 0


def _measures_export(settings: Settings, args: argparse.Namespace) -> int:
    """Every measure's figures judged against target, with the fields KPI records use."""
    from models.export import MeasureExportRow, measure_export_rows

    only = args.period is not None
    period = parse_period(args.period) if only else open_period(settings.timezone)

    async def go(engine: AsyncEngine) -> str:
        async with session_scope(engine) as session:
            plan_id = await active_plan_id(session)
            rows = await measure_export_rows(
                session,
                plan_id,
                period,
                start_month=settings.fiscal_year_start,
                only_period=only,
            )
        if not rows:
            err.print(
                "planbot: no measure figures to export"
                + (f" for {period}" if only else "")
                + " (measures are defined with `planbot measures define`)",
                highlight=False,
                markup=False,
            )
        return render_export(rows, args.format, MeasureExportRow)

    _prepare_database(settings)
    text = _on_database(settings, go)
    return _write_out(text, args.output)


def _tokens_create(settings: Settings, args: argparse.Namespace) -> int:
    from models.tokens import create_token

    async def go(engine: AsyncEngine) -> str:
        async with session_scope(engine) as session:
            return await create_token(session, args.name)

    _prepare_database(settings)
    token = _on_database(settings, go)
    err.print(
        f"Token {args.name!r} created. It is shown this once: store it where its sender keeps "
        "secrets, and send it as `Authorization: Bearer <token>`.",
        highlight=False,
        markup=False,
    )
    sys.stdout.write(token + "\n")  # alone on standard output, for a script to capture
    return 0


def _tokens_list(settings: Settings, _args: argparse.Namespace) -> int:
    from models.tokens import list_tokens

    async def go(engine: AsyncEngine) -> Any:
        async with session_scope(engine) as session:
            return await list_tokens(session)

    _prepare_database(settings)
    table = Table("name", "created", "last used", "state")

    def when(moment: datetime | None) -> str:
        return "—" if moment is None else f"{moment:%Y-%m-%d %H:%M} UTC"

    for token in _on_database(settings, go):
        state = "revoked " + when(token.revoked_at) if token.revoked_at else "live"
        table.add_row(token.name, when(token.created_at), when(token.last_used_at), state)
    Console().print(table)
    return 0


def _tokens_revoke(settings: Settings, args: argparse.Namespace) -> int:
    from models.tokens import revoke_token

    async def go(engine: AsyncEngine) -> bool:
        async with session_scope(engine) as session:
            return await revoke_token(session, args.name)

    _prepare_database(settings)
    revoked = _on_database(settings, go)
    said = "revoked: it is refused from now on" if revoked else "was revoked already"
    err.print(f"Token {args.name!r} {said}.", highlight=False, markup=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
