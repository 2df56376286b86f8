"""Local mode: the real app and handlers, driven from the terminal against a stand-in for Slack."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from rich.console import Console
from sqlmodel import select

from bot.settings import Settings
from bot.standin import BOT_ID
from bot.terminal import show_message
from bot.workspace import Reply, Workspace
from handlers.ids import ActionId
from handlers.people import PeopleNames
from handlers.reading.buttons import prompt_value
from jobs.prompts import post_monthly_prompts
from jobs.reminders import send_reminders
from jobs.weekly_digest import DigestOutcome, post_weekly_digest
from models.cycle import prompt_for
from models.db import create_engine, redact, session_scope
from models.lookup import load_directory
from models.measurefile import SAMPLE_MEASURES, read_measure_file
from models.measures import load_measures
from models.periods import open_period, period_label, recent_periods
from models.planfile import read_plan_file
from models.plans import NoActivePlan, active_plan_id, load_plan
from models.samples import SAMPLE_AUTHOR, add_sample_actuals, add_sample_updates
from models.tables import Update

LOCAL_USER = "U0LOCAL"
SAMPLE_MONTHS = 6
FILES = Path("planbot-files")

_HELP = """[bold]In local mode you type what a person would do in Slack:[/]
  [cyan]/plan safety[/]          any /plan command ([cyan]/plan help[/] lists them)
  [cyan]/plan measures[/]        the sample measures against target (made-up figures)
  [cyan]home[/]                  open Plan Bot's App Home tab
  [cyan]share[/]                 click "Share in channel" on the last answer
  [cyan]/plan owner fire {user}[/]  make yourself Fire's lead (you are an admin here)
  [cyan]prompt[/]                send this month's prompts now (what the 1st business day does)
  [cyan]reply fire 1 on track; 2 at risk 40% union talks[/]
                         answer Fire's prompt in its thread (";" starts a new line)
  [cyan]nochange fire[/]         click "No change" on Fire's prompt
  [cyan]click undo[/]            click a button of Plan Bot's latest message that has it
                         ([cyan]click at risk[/] answers a question it asked)
  [cyan]update fire[/]           click "Submit update" (shows the form Slack would open)
  [cyan]remind[/]                send the first reminder to departments that have not answered
  [cyan]digest[/]                post this week's leadership digest (charts saved to planbot-files/)
  [cyan]samples[/]               add a month of sample updates
  [cyan]help[/], [cyan]quit[/]"""
UPDATES_CHANNEL = "C0UPDATES"
DIGEST_CHANNEL = "C0LEADERSHIP"
_SHOWN = ("chat.postMessage", "chat.update", "chat.postEphemeral", "reactions.add", "views.open")


async def prepare_database(settings: Settings, samples: bool, console: Console) -> None:
    """Load the bundled plan into an empty database and, if asked, months of sample updates."""
    engine = create_engine(settings.database)
    try:
        async with session_scope(engine) as session:
            try:
                plan_id = await active_plan_id(session)
            except NoActivePlan:
                spec = read_plan_file()
                await load_plan(session, spec, period=open_period(settings.timezone))
                console.print(f"Loaded [bold]{spec.name}[/].")
                plan_id = await active_plan_id(session)
            has_samples = (
                await session.exec(select(Update.id).where(Update.author == SAMPLE_AUTHOR).limit(1))
            ).first()
            if samples and has_samples is None:
                first = recent_periods(open_period(settings.timezone), SAMPLE_MONTHS)[0]
                added = await add_sample_updates(session, plan_id, first, SAMPLE_MONTHS)
                console.print(
                    f"Added {added} sample updates ({SAMPLE_MONTHS} months) "
                    "so the summaries have something to show."
                )
                sample_measures = read_measure_file(SAMPLE_MEASURES)
                await load_measures(
                    session,
                    plan_id,
                    sample_measures.measures,
                    source=SAMPLE_MEASURES.name,
                    sample=True,
                )
                numbers = await add_sample_actuals(
                    session,
                    plan_id,
                    first,
                    SAMPLE_MONTHS,
                    start_month=settings.fiscal_year_start,
                )
                console.print(
                    f"Added {len(sample_measures.measures)} sample measures with {numbers} "
                    "made-up figures (illustrative, not the city's)."
                )
    finally:
        await engine.dispose()


class LocalSession:
    def __init__(self, ws: Workspace, user: str, console: Console) -> None:
        self.ws, self.user, self.console = ws, user, console
        self.last_command: str | None = None
        self.names = PeopleNames()

    def name(self, user_id: str) -> str:
        return "you" if user_id == self.user else self.ws.slack.users.get(user_id, user_id)

    def show(self, reply: Reply, title: str) -> None:
        if reply.status != 200:
            self.console.print(f"[red]The app answered HTTP {reply.status}.[/]")
            return
        show_message(self.console, reply.message, title, self.name)

    async def handle(self, line: str) -> bool:
        """One line typed at the prompt; False when it was not understood."""
        line = line.strip()
        if not line:
            return True
        since = len(self.ws.slack.calls)
        try:
            return await self._handle(line)
        finally:
            self._show_posts(since)

    def _show_posts(self, since: int) -> None:
        """What the bot did in Slack meanwhile: posts, edits, reactions, forms."""
        for call in self.ws.slack.calls[since:]:
            if call.method not in _SHOWN or not call.ok:
                continue
            args = call.args
            where = f"#{args.get('channel', '?')}"
            if str(args.get("channel", "")).startswith("U"):
                where = f"a direct message to {self.name(str(args['channel']))}"
            if call.method == "chat.postMessage":
                title = f"Plan Bot posted in {where}" + (
                    " (in a thread)" if args.get("thread_ts") else ""
                )
                show_message(self.console, args, title, self.name)
            elif call.method == "chat.update":
                show_message(
                    self.console, args, f"Plan Bot updated its message in {where}", self.name
                )
            elif call.method == "chat.postEphemeral":
                show_message(
                    self.console,
                    args,
                    f"only {self.name(str(args.get('user')))} sees, in {where}",
                    self.name,
                )
            elif call.method == "reactions.add":
                self.console.print(
                    f"Plan Bot reacted :{args.get('name')}: to the reply.", emoji=True
                )
            elif call.method == "views.open":
                show_message(
                    self.console, args.get("view") or {}, "Plan Bot opened a form", self.name
                )

    async def _handle(self, line: str) -> bool:
        if line.startswith("/plan") or line.split()[0] == "plan":
            text = line.split(" ", 1)[1] if " " in line else ""
            before = len(self.ws.slack.uploads)
            reply = await self.ws.command(text, user=self.user)
            self.last_command = text
            self.show(reply, f"/plan {text}".strip() + "  (only you can see this)")
            if text.strip() == "export":
                await self._save_uploads(before)
            return True
        word = line.split()[0].lower() if line else ""  # not shlex: "isn't" is no quote
        if word == "home":
            sent = len(self.ws.slack.calls_to("views.publish"))
            await self.ws.event({"type": "app_home_opened", "user": self.user, "tab": "home"})
            await self.ws.slack.wait_for("views.publish", count=sent + 1)
            view = self.ws.slack.home_views[self.user]
            show_message(self.console, view, "App Home", self.name)
            return True
        if word == "share":
            if self.last_command is None:
                self.console.print("Ask something first, e.g. [cyan]/plan safety[/].")
                return True
            reply = await self.ws.click(ActionId.SHARE, self.last_command, user=self.user)
            self.show(reply, "posted in #local for everyone")
            return True
        if word == "samples":
            await self._add_month()
            return True
        if word == "prompt":
            run = await post_monthly_prompts(
                self.ws.ctx, self.ws.app.client, self.ws.ctx.open_period()
            )
            self.console.print(
                f"Prompts for {period_label(run.period)}: {len(run.posted)} posted, "
                f"{len(run.already)} already posted, {len(run.unowned)} departments "
                "have no owner"
                + (
                    f" (try [cyan]/plan owner fire {self.user}[/])"
                    if not run.posted and not run.already
                    else ""
                )
                + "."
            )
            return True
        if word == "remind":
            reminded = await send_reminders(
                self.ws.ctx, self.ws.app.client, self.ws.ctx.open_period(), 1
            )
            self.console.print(f"Reminded: {', '.join(reminded.reminded) or 'nobody'}.")
            later = reminded.direct.later if reminded.direct is not None else []
            if later:
                # Nobody gets a reminder by direct message at night (issue 16).
                self.console.print(
                    f"{len(later)} direct message(s) wait for 9:00 in the recipient's own time "
                    "zone, on a working day.",
                    highlight=False,
                )
            return True
        if word == "digest":
            before = len(self.ws.slack.uploads)
            digest = await post_weekly_digest(self.ws.ctx, self.ws.app.client, self.names)
            if digest.outcome is DigestOutcome.ALREADY:
                self.console.print(
                    "This week's digest is already posted; "
                    "[cyan]/plan digest[/] shows it again, only to you."
                )
            await self._save_uploads(before)
            return True
        if word in ("reply", "nochange", "update"):
            return await self._as_lead(word, line)
        if word == "click":
            return await self._click(line.partition(" ")[2])
        if word in ("help", "?"):
            self.console.print(_HELP.replace("{user}", self.user))
            return True
        self.console.print(f"Not understood: {line!r}. Type [cyan]help[/].", highlight=False)
        return False

    async def _as_lead(self, word: str, line: str) -> bool:
        parts = line.split(maxsplit=2)
        if len(parts) < 2 or (word == "reply" and len(parts) < 3):
            self.console.print(f"Say which department, e.g. [cyan]{word} fire[/].")
            return False
        period = self.ws.ctx.open_period()
        async with session_scope(self.ws.engine) as session:
            plan_id = await active_plan_id(session)
            found = (await load_directory(session, plan_id)).resolve(
                parts[1], kinds=("department",)
            )
            prompt = None
            if found.target is not None:
                prompt = await prompt_for(session, found.target.id, period)
        if found.target is None or prompt is None or prompt.message_ts is None:
            self.console.print("No prompt for that department yet: type [cyan]prompt[/] first.")
            return False
        channel_messages = self.ws.slack.messages.get(prompt.channel_id, [])
        if not any(m["ts"] == prompt.message_ts for m in channel_messages):
            # Posted by an earlier run, whose stand-in is gone: this one learns of it, so the
            # prompt can be refreshed after the answer.
            self.ws.slack.seed_message(
                prompt.channel_id,
                "The monthly prompt (posted by an earlier run).",
                user=self.ws.slack.bot_user_id,
                ts=prompt.message_ts,
                bot_id=BOT_ID,
            )
        value = prompt_value(found.target.key, period)
        if word == "nochange":
            reply = await self.ws.click(
                ActionId.NO_CHANGE,
                value,
                user=self.user,
                channel=prompt.channel_id,
                message_ts=prompt.message_ts,
            )
            self.show(reply, "only you see")
        elif word == "update":
            await self.ws.click(
                ActionId.SUBMIT,
                value,
                user=self.user,
                channel=prompt.channel_id,
                message_ts=prompt.message_ts,
                expect_followup=False,
            )
            await asyncio.sleep(0.2)
        else:
            await self.ws.event(
                {
                    "type": "message",
                    "channel": prompt.channel_id,
                    "user": self.user,
                    "text": parts[2].replace(";", "\n"),
                    "thread_ts": prompt.message_ts,
                    "ts": f"{time.time():.6f}",
                }
            )
            await asyncio.sleep(0.3)
        return True

    async def _click(self, words: str) -> bool:
        """Click the button whose label holds `words`, in the bot's latest message with one."""
        wanted = " ".join(words.casefold().split())
        for call in reversed(self.ws.slack.calls):
            if call.method not in ("chat.postMessage", "chat.update") or not call.ok:
                continue
            for block in call.args.get("blocks") or []:
                for element in block.get("elements") or []:
                    if element.get("type") != "button" or not wanted:
                        continue
                    label = str(element["text"].get("text", ""))
                    if wanted not in " ".join(label.casefold().split()):
                        continue
                    ts = (call.response or {}).get("ts") or call.args.get("ts")
                    reply = await self.ws.click(
                        element["action_id"],
                        element.get("value", ""),
                        user=self.user,
                        channel=call.args.get("channel"),
                        message_ts=ts,
                        message={
                            "ts": ts,
                            "text": call.args.get("text"),
                            "blocks": call.args["blocks"],
                        },
                        expect_followup=element["action_id"] != ActionId.SUBMIT,
                    )
                    if reply.followups:
                        self.show(reply, f"after clicking “{label}”")
                    return True
        self.console.print(f"No button says {words!r} in Plan Bot's recent messages.")
        return False

    async def _save_uploads(self, before: int) -> None:
        """Files Plan Bot uploaded since `before`, saved where the person can open them."""
        for _ in range(100):
            if len(self.ws.slack.uploads) > before:
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.1)
        FILES.mkdir(exist_ok=True)
        for file_id, content in list(self.ws.slack.uploads.items())[before:]:
            name = self.ws.slack.files.get(file_id, {}).get("name") or f"{file_id}.csv"
            path = FILES / Path(str(name)).name
            path.write_bytes(content)
            self.console.print(
                f"📎 Plan Bot uploaded {Path(str(name)).name}: saved as [bold]{path}[/].",
                highlight=False,
            )

    async def _add_month(self) -> None:
        async with session_scope(self.ws.engine) as session:
            plan_id = await active_plan_id(session)
            period = open_period(self.ws.settings.timezone)
            added = await add_sample_updates(session, plan_id, period, 1, seed=len(period))
        self.console.print(f"Added {added} sample updates for {period}.")


async def run_local(
    settings: Settings, script: list[str] | None, user: str | None, samples: bool
) -> int:
    console = Console()
    user = user or LOCAL_USER
    await prepare_database(settings, samples, console)
    async with Workspace(
        settings.database,
        admins=tuple(dict.fromkeys([user, *settings.admins])),
        users={user: "you", SAMPLE_AUTHOR: "sample data"},
        timezone=settings.timezone,
        updates_channel=settings.updates_channel or UPDATES_CHANNEL,
        digest_channel=settings.digest_channel or DIGEST_CHANNEL,
        process_before_response=True,
    ) as ws:
        session = LocalSession(ws, user, console)
        if script:
            ok = True
            for line in script:
                ok = await session.handle(line) and ok
            return 0 if ok else 2
        console.print(
            f"[bold]Plan Bot — local mode.[/] Database {redact(settings.database)}; "
            f"Slack is a stand-in at {ws.slack.base_url}. You are {user} (an admin).",
            highlight=False,
        )
        console.print(_HELP.replace("{user}", user))
        while True:
            try:
                line = await asyncio.to_thread(console.input, "[bold cyan]› [/]")
            except (EOFError, KeyboardInterrupt):
                console.print()
                return 0
            if line.strip().lower() in ("quit", "exit", "q"):
                return 0
            await session.handle(line)
