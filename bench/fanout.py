"""The monthly fan-out: one prompt per department against a rate-limited Web API stand-in.

The stand-in enforces Slack's posting limits (1 message a second per channel, 50 a second for
the workspace; past either it answers 429 with Retry-After) and every other method's published
tier (`users.list` pages at Tier 2, `users.info` at Tier 4, …). Every department has an owner and
its own channel, so the workspace limit is the bound: N prompts take at least N / 50 seconds. The
owners are the workspace's members, as users.list lists them: their statuses (who is away) are
read before their prompts go, page by page, as a real workspace of that size would make the bot
read them.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections import Counter
from pathlib import Path

import sqlalchemy as sa

from bench.common import DATA_DIR, Row, Settings, say
from bench.data import LAST_PERIOD, NOW, fanout_workload, fresh_sqlite_copy
from bot.workspace import Workspace
from jobs.prompts import PROMPT_EVENT, post_monthly_prompts
from models.tables import Prompt

PER_CHANNEL = 1.0
PER_WORKSPACE = 50.0
TARGET_FACTOR = 1.05  # issue 18: a margin that holds; it was 1.25


async def run_fanout(settings: Settings) -> list[Row]:
    departments = settings.fanout_departments
    workload = fanout_workload(departments)
    bound = departments / PER_WORKSPACE
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="fanout-", dir=DATA_DIR) as scratch:
        url = fresh_sqlite_copy(workload, Path(scratch))
        members = {workload.owner(i): f"Lead {i + 1}" for i in range(departments)}
        async with Workspace(url, now=lambda: NOW, users=members) as ws:
            ws.slack.enforce_slack_limits(
                posts_per_channel_per_second=PER_CHANNEL, posts_per_second=PER_WORKSPACE
            )
            say(
                f"fan-out: {departments:,} prompts, limits 1/s per channel, 50/s workspace, "
                f"every other method at its tier; {len(members):,} members…"
            )
            started = time.perf_counter()
            run = await asyncio.wait_for(
                post_monthly_prompts(ws.ctx, ws.app.client, LAST_PERIOD),
                timeout=bound * 5 + 60,
            )
            elapsed = time.perf_counter() - started
            calls = ws.slack.calls_to("chat.postMessage")
            pages = len(ws.slack.calls_to("users.list"))
            limited_elsewhere = Counter(
                c.method
                for c in ws.slack.calls
                if c.status == 429 and c.method != "chat.postMessage"
            )
            async with ws.engine.connect() as conn:
                states = dict(
                    (
                        await conn.execute(
                            sa.select(Prompt.state, sa.func.count()).group_by(Prompt.state)
                        )
                    ).all()
                )
    accepted = [c for c in calls if c.ok]
    per_department = Counter(
        (c.args.get("metadata") or {}).get("event_payload", {}).get("department")
        for c in accepted
        if (c.args.get("metadata") or {}).get("event_type") == PROMPT_EVENT
    )
    posted = len(per_department)
    duplicates = sum(n - 1 for n in per_department.values())
    lost = departments - posted
    limited = sum(1 for c in calls if c.status == 429)
    ok = (
        posted == departments
        and duplicates == 0
        and not run.failed
        and not limited_elsewhere
        and elapsed <= TARGET_FACTOR * bound
    )
    say(
        f"  {posted} posted, {duplicates} duplicates, {len(run.failed)} failed, {limited} × 429, "
        f"{elapsed:.1f} s (bound {bound:.0f} s); statuses from {pages} users.list pages; "
        f"429s elsewhere: {dict(limited_elsewhere) or 'none'}"
    )
    return [
        Row(
            "Monthly fan-out: prompts posted once each, within Slack's limits",
            workload.label,
            "SQLite",
            f"{posted:,} posted, {lost} lost, {duplicates} duplicates, {len(run.failed)} failed, "
            f"{limited} × 429; {elapsed:.1f} s = {elapsed / bound:.2f} × the bound "
            f"({departments:,} / 50/s = {bound:.0f} s); the owners' statuses read from "
            f"{pages} users.list pages at Tier 2 meanwhile",
            f"all, once; ≤ {TARGET_FACTOR} × bound ({TARGET_FACTOR * bound:.0f} s)",
            ok,
            {
                "departments": departments,
                "posted": posted,
                "duplicates": duplicates,
                "lost": lost,
                "failed": run.failed,
                "rate_limited": limited,
                "rate_limited_elsewhere": dict(limited_elsewhere),
                "users_list_pages": pages,
                "seconds": elapsed,
                "bound": bound,
                "prompt_states": states,
                "finding": "fanout",
            },
        )
    ]
