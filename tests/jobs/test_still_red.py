"""Items that stay red (issue 16, item 4): off track for two months or more, or without
progress for three, are listed for the COO in the digest with how long and the last reason
given — the latest note that said something, not a "No change"."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.workspace import Workspace
from jobs.scheduler import Cycle
from models.status import Status
from tests.helpers import ADMIN, mrkdwn_texts
from tests.jobs.test_digest import add_update

NY = ZoneInfo("America/New_York")
MONDAY = datetime(2026, 11, 2, 8, 0, 5, tzinfo=NY)  # October is the open period
LEADERSHIP = "C0LEADERS"


async def said(
    ws: Workspace, key: str, number: int, period: str, status: Status, note: str
) -> None:
    when = datetime(int(period[:4]), int(period[5:]), 20, tzinfo=NY)
    await add_update(ws, key, number, status, note, when, period)


async def test_what_stays_red_is_listed_with_how_long_and_the_last_reason(
    database_url: str, hartford: int
) -> None:
    async with Workspace(
        database_url, admins=(ADMIN,), now=lambda: MONDAY, digest_channel=LEADERSHIP
    ) as ws:
        await said(ws, "fire", 3, "2026-08", Status.OFF_TRACK, "roof <!channel> leak")
        await said(ws, "fire", 3, "2026-09", Status.OFF_TRACK, "No change")
        await said(ws, "fire", 3, "2026-10", Status.OFF_TRACK, "")
        await said(ws, "police", 1, "2026-10", Status.OFF_TRACK, "new this month")
        for period in ("2026-07", "2026-08", "2026-09", "2026-10"):
            await said(ws, "dpw", 2, period, Status.ON_TRACK, "")
        due = await Cycle(ws.ctx, ws.app.client, timedelta(hours=2)).run_due()
        assert due.digest is not None and due.digest.outcome == "posted"
        posts = ws.slack.calls_to("chat.postMessage")
        main = next(
            c for c in posts if c.args["channel"] == LEADERSHIP and not c.args.get("thread_ts")
        )
        shown = "\n".join(mrkdwn_texts(main.args["blocks"]))
        assert (
            "*Still red* — 1 off track for two months or more, 1 with no progress for three "
            "months or more: marked “still red” where they are listed" in shown
        )
        thread = "\n".join(
            "\n".join(mrkdwn_texts(c.args["blocks"]))
            for c in posts
            if c.args.get("thread_ts") == main.response["ts"]
        )
        everything = shown + "\n" + thread
        # Fire #3's latest word is silent: the reason given in August is shown instead.
        assert "🔴 Off track · *Fire #3* · since August 2026 · still red" in everything
        assert "last reason (August 2026): “roof &lt;!channel&gt; leak”" in everything
        # Police #1 turned red this month: listed, not "still red".
        police = next(line for line in everything.splitlines() if "*Police #1*" in line)
        assert "still red" not in police
        public_works = next(line for line in thread.splitlines() if "*Public Works #2*" in line)
        assert "no progress since July 2026 · still red" in public_works
        assert "> no reason given in the last year" in thread
        assert "<!channel>" not in json.dumps([c.args for c in posts])
