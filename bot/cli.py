"""The `planbot` command line: serve, local mode, database, plan files, owners."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Callable, Coroutine, Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table
from sqlalchemy import exc as sa_exc

from bot.logs import configure_logging, redact_secrets
from bot.settings import Settings, SettingsError, load_settings
from models.db import create_engine, redact, session_scope, upgrade
from models.export import EXPORT_FORMATS, export_rows, render_export
from models.lookup import load_directory
from models.periods import PeriodError, open_period, parse_period
from models.planfile import PlanFileError, read_plan_file
from models.plans import NoActivePlan, active_plan, list_owners, load_plan, set_owners

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
    except (SettingsError, CommandError, PlanFileError, PeriodError, NoActivePlan) as exc:
        err.print(f"[bold red]planbot:[/] {exc}", highlight=False, markup=True)
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
    jobs_run.add_argument("job", choices=("prompts", "reminders", "digest"))
    jobs_run.add_argument("--period", help="the reporting period (default: the open one)")
    jobs_run.add_argument("--department", help="only this department (prompts)")
    jobs_run.add_argument("--reminder", type=int, help="which reminder (1, 2…; default: due)")
    jobs_run.set_defaults(run=_jobs_run)

    owners = commands.add_parser("owners", help="department owners").add_subparsers(
        metavar="ACTION"
    )
    owners_set = owners.add_parser("set", help="set a department's owner(s) and channel")
    owners_set.add_argument("department", help="key, name or alias, e.g. fire")
    owners_set.add_argument("user_ids", nargs="+", metavar="USER_ID")
    owners_set.add_argument("--channel", help="channel id for its prompts")
    owners_set.set_defaults(run=_owners_set)
    owners_list = owners.add_parser("list", help="every department with its owners")
    owners_list.set_defaults(run=_owners_list)
    return parser


def _run(coro: Callable[..., Coroutine[Any, Any, Any]], *args: Any) -> Any:
    return asyncio.run(coro(*args))


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
    return _run(run_local, settings, args.script, args.user, not args.no_samples)


# --- database and plan ----------------------------------------------------------------------


def _db_upgrade(settings: Settings, _args: argparse.Namespace) -> int:
    _prepare_database(settings)
    err.print(f"Database {redact(settings.database)} is up to date.", highlight=False)
    return 0


def _plan_load(settings: Settings, args: argparse.Namespace) -> int:
    spec = read_plan_file(args.file)
    _prepare_database(settings)
    period = parse_period(args.period) if args.period else open_period(settings.timezone)

    async def go() -> Any:
        engine = create_engine(settings.database)
        try:
            with _progress(f"Loading {spec.name}", spec.initiative_count) as advance:
                async with session_scope(engine) as session:
                    return await load_plan(session, spec, period=period, progress=advance)
        finally:
            await engine.dispose()

    result = _run(go)
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

    async def go() -> str:
        engine = create_engine(settings.database)
        try:
            async with session_scope(engine) as session:
                plan = await active_plan(session)
                assert plan.id is not None
                return render_export(await export_rows(session, plan.id, period), args.format)
        finally:
            await engine.dispose()

    _prepare_database(settings)
    text = _run(go)
    if args.output:
        args.output.write_text(text, encoding="utf-8")
        err.print(f"Wrote {args.output}.", highlight=False)
    else:
        sys.stdout.write(text)
    return 0


def _plan_samples(settings: Settings, args: argparse.Namespace) -> int:
    from models.periods import recent_periods
    from models.samples import add_sample_updates

    if not 1 <= args.months <= 120:
        raise CommandError("--months must be between 1 and 120")
    first = recent_periods(open_period(settings.timezone), args.months)[0]

    async def go() -> int:
        engine = create_engine(settings.database)
        try:
            async with session_scope(engine) as session:
                plan = await active_plan(session)
                assert plan.id is not None
                return await add_sample_updates(session, plan.id, first, args.months)
        finally:
            await engine.dispose()

    _prepare_database(settings)
    err.print(f"Added {_run(go)} sample updates from {first}.", highlight=False)
    return 0


# --- jobs -----------------------------------------------------------------------------------


def _jobs_run(settings: Settings, args: argparse.Namespace) -> int:
    from bot.app import build_client, plan_context
    from jobs.prompts import UnknownDepartment, post_monthly_prompts
    from jobs.reminders import send_reminders

    if settings.slack_bot_token is None:
        raise CommandError("setting SLACK_BOT_TOKEN is missing: it is needed to post to Slack")
    period = parse_period(args.period) if args.period else open_period(settings.timezone)

    async def go() -> int:
        engine = create_engine(settings.database)
        try:
            ctx = plan_context(settings, engine)
            client = build_client(settings)
            if args.job == "digest":
                from handlers.people import PeopleNames
                from jobs.digest import post_weekly_digest

                if settings.digest_channel is None:
                    raise CommandError(
                        "setting PLANBOT_DIGEST_CHANNEL is missing: the digest needs a channel"
                    )
                digest = await post_weekly_digest(ctx, client, PeopleNames())
                verdict = {
                    "posted": f"posted in {digest.channel}",
                    "already": "already posted this week; nothing sent",
                    "failed": f"failed: {digest.error}",
                }[digest.outcome]
                err.print(f"Digest for the week of {digest.week}: {verdict}.", highlight=False)
                return 1 if digest.outcome == "failed" else 0
            if args.job == "prompts":
                try:
                    run = await post_monthly_prompts(
                        ctx, client, period, department=args.department
                    )
                except UnknownDepartment as exc:
                    raise CommandError(str(exc)) from None
                rows = [
                    ("posted", run.posted),
                    ("already posted", run.already),
                    ("no owner (skipped)", run.unowned),
                    ("no channel (skipped)", run.no_channel),
                    ("failed", [f"{k} ({e})" for k, e in run.failed]),
                ]
            else:
                try:
                    reminders = await send_reminders(ctx, client, period, args.reminder)
                except ValueError as exc:
                    raise CommandError(f"--reminder: {exc}") from None
                if reminders.ordinal is None:
                    err.print(f"No reminder is due yet for {period}.", highlight=False)
                    return 0
                run = reminders
                rows = [
                    (f"reminder {reminders.ordinal} sent", reminders.reminded),
                    ("had answered", reminders.answered),
                    ("already reminded", reminders.already),
                    ("failed", [f"{k} ({e})" for k, e in reminders.failed]),
                ]
            table = Table(f"{args.job} for {period}", "departments")
            for label, keys in rows:
                table.add_row(label, ", ".join(keys) or "—")
            Console().print(table)
            return 1 if run.failed else 0
        finally:
            await engine.dispose()

    _prepare_database(settings)
    return int(_run(go))


# --- owners ---------------------------------------------------------------------------------


def _owners_set(settings: Settings, args: argparse.Namespace) -> int:
    from bot.settings import _CHANNEL_ID, _USER_ID

    bad = [u for u in args.user_ids if not _USER_ID.match(u)]
    if bad:
        raise CommandError(f"{bad[0]!r} is not a Slack user id such as U0123ABCD")
    if args.channel and not _CHANNEL_ID.match(args.channel):
        raise CommandError(f"{args.channel!r} is not a channel id such as C0123ABCD")

    async def go() -> str:
        engine = create_engine(settings.database)
        try:
            async with session_scope(engine) as session:
                plan = await active_plan(session)
                assert plan.id is not None
                directory = await load_directory(session, plan.id)
                found = directory.resolve(args.department, kinds=("department",))
                if found.target is None:
                    hint = ", ".join(t.key for t in found.suggestions) or "planbot owners list"
                    raise CommandError(f"no department {args.department!r}; try: {hint}")
                department = directory.department(found.target)
                await set_owners(session, department, args.user_ids, args.channel)
                return department.name
        finally:
            await engine.dispose()

    _prepare_database(settings)
    name = _run(go)
    err.print(f"{name}: owners set to {', '.join(args.user_ids)}.", highlight=False)
    return 0


def _owners_list(settings: Settings, _args: argparse.Namespace) -> int:
    async def go() -> Any:
        engine = create_engine(settings.database)
        try:
            async with session_scope(engine) as session:
                return await list_owners(session)
        finally:
            await engine.dispose()

    _prepare_database(settings)
    rows = _run(go)
    table = Table("key", "department", "initiatives", "owners", "channel")
    for row in rows:
        table.add_row(
            row.key,
            row.name,
            str(row.initiatives),
            ", ".join(row.owners) or "—",
            row.channel_id or f"(updates channel {settings.updates_channel or 'unset'})",
        )
    Console().print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
