"""`/plan` through the real request path: signed requests in, answers and Web API calls out."""

from __future__ import annotations

import csv
import io
import json
import re
import time
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from sqlmodel import select

from bot import slack_requests
from bot.workspace import Workspace
from handlers.commands.plan import Answer, AnswerCache
from handlers.messages.layout import Message
from handlers.messages.limits import check_message, check_view
from models.db import create_engine, session_scope
from models.lookup import load_directory
from models.planfile import read_plan_file
from models.plans import list_owners, load_plan, set_owners
from models.queries import goal_summary
from models.samples import add_sample_updates
from models.status import Status
from models.synthetic import synthetic_plan
from models.tables import Department, Initiative, Update
from tests.helpers import ADMIN, CHIEF, COO, PERIOD, find_department, find_initiative, truncate_all

pytestmark = pytest.mark.usefixtures("frozen_period")


@pytest.fixture
def frozen_period(monkeypatch: pytest.MonkeyPatch) -> None:
    """The open period is October 2026, whatever today's date."""
    monkeypatch.setattr("handlers.context.PlanContext.open_period", lambda self: PERIOD)


@pytest.fixture
async def with_samples(workspace: Workspace, hartford: int) -> Workspace:
    async with session_scope(workspace.engine) as session:
        await add_sample_updates(session, hartford, "2026-05", 6)
    return workspace


def blocks_text(message: dict) -> str:
    return json.dumps(message.get("blocks", []), ensure_ascii=False)


async def test_coo_asks_where_safety_stands(with_samples: Workspace, hartford: int) -> None:
    ws = with_samples
    reply = await ws.command("safety", user=COO)
    assert reply.status == 200
    answer = reply.message
    assert answer["response_type"] == "ephemeral"
    check_message(answer["blocks"], answer["text"])
    assert (
        answer["blocks"][0]["type"] == "header" and "Safety" in answer["blocks"][0]["text"]["text"]
    )
    async with session_scope(ws.engine) as session:
        directory = await load_directory(session, hartford)
        truth = await goal_summary(
            session,
            directory.goal(directory.resolve("safety").target),
            PERIOD,  # type: ignore[arg-type]
        )
    shown = blocks_text(answer)
    assert "16 initiatives" in shown
    for status, count in truth.counts.shown():
        assert f"{count}" in shown and (status is None or status.emoji in shown)
    for department in ("Fire", "Police", "Emergency Services"):
        assert department in shown
    for item in truth.attention:
        assert f"#{item.number}" in shown
    assert "Share in channel" in shown
    # Misspelled, it is the same answer, saying which goal it took.
    misspelled = (await ws.command("sfety", user=COO)).message["blocks"]
    note = misspelled[1]["elements"].pop(0)
    assert note["text"] == "Showing *Safety*, the closest match to “sfety”."
    assert misspelled[:-1] == answer["blocks"][:-1]  # all but the share button's command


async def test_unknown_word_names_closest_matches(workspace: Workspace) -> None:
    reply = await workspace.command("educ", user=COO)
    assert "/plan education" in reply.text
    nonsense = await workspace.command("<!channel> zzzzqqq", user=COO)
    assert "<!channel>" not in nonsense.text and "&lt;!channel&gt;" in nonsense.text
    assert "/plan help" in nonsense.text


async def test_department_summary_for_the_fire_chief(with_samples: Workspace) -> None:
    reply = await with_samples.command("hfd", user=CHIEF)
    shown = blocks_text(reply.message)
    assert '"Fire"' in shown
    for number in range(1, 7):
        assert f"#{number}" in shown
    check_message(reply.message["blocks"], reply.message["text"])


async def test_dates_in_answers_are_the_days_in_hartford(
    workspace: Workspace, hartford: int
) -> None:
    # Sent at 21:30 on 14 October in Hartford, which is already the 15th in UTC.
    async with session_scope(workspace.engine) as session:
        fire_1 = (
            await session.exec(
                select(Initiative.id)
                .join(Department, Department.id == Initiative.department_id)
                .where(Department.key == "fire", Initiative.number == 1)
            )
        ).one()
        session.add(
            Update(
                initiative_id=fire_1,
                period=PERIOD,
                status=Status.ON_TRACK,
                note="Sent after the evening shift",
                author=CHIEF,
                source="thread",
                received_at=datetime(2026, 10, 15, 1, 30, tzinfo=UTC),
                late=False,
            )
        )
    history = await workspace.command("history fire 1", user=COO)
    assert f"<@{CHIEF}>, Oct 14, 2026 via a thread reply" in history.text
    department = await workspace.command("fire", user=COO)
    assert f"<@{CHIEF}>, Oct 14" in department.text and "Oct 15" not in department.text


async def test_goals_missing_help_and_history(with_samples: Workspace) -> None:
    ws = with_samples
    goals = await ws.command("goals", user=COO)
    for name in (
        "Safety",
        "Jobs and Economic Development",
        "Education",
        "Quality of Life",
        "Promote Livable and Sustainable Neighborhoods",
    ):
        assert name in goals.text
    missing = await ws.command("missing", user=COO)
    match = re.search(r"(\d+) of (\d+) departments", missing.text)
    assert match is not None and match.group(2) == "18" and int(match.group(1)) < 18
    help_answer = await ws.command("", user=COO)
    for example in ("/plan safety", "/plan history fire 3", "/plan missing", "/plan goals"):
        assert example in help_answer.text
    history = await ws.command("history fire 3", user=COO)
    assert history.text.count("2026") >= 6  # six months of updates, newest first
    assert "Fire #3" in history.text
    assert "no initiative #99" in (await ws.command("history fire 99", user=COO)).text
    assert "/plan history fire 3" in (await ws.command("history fire", user=COO)).text


async def test_share_posts_for_everyone_without_pinging(with_samples: Workspace) -> None:
    ws = with_samples
    async with session_scope(ws.engine) as session:
        fire = await find_department(session, "fire")
        await set_owners(session, fire, [CHIEF])
    private = await ws.command("fire", user=COO)
    assert f"<@{CHIEF}>" in private.text  # only the caller sees it: a mention, no ping
    shared = await ws.click("plan_share", "fire", user=COO)
    posted = shared.message
    assert posted["response_type"] == "in_channel"
    assert "<@" not in json.dumps(posted)  # named, not pinged
    assert "Shared by @Chief Operating Officer" in json.dumps(posted)
    assert "Fire Chief" in json.dumps(posted)


async def test_owner_and_export_are_for_admins(workspace: Workspace) -> None:
    ws = workspace
    refused = await ws.command(f"owner fire <@{CHIEF}|chief>", user=COO)
    assert "Only a Plan Bot admin" in refused.text
    async with session_scope(ws.engine) as session:
        assert {o.key: o.owners for o in await list_owners(session)}["fire"] == ()
    done = await ws.command(f"owner fire <@{CHIEF}|chief>", user=ADMIN)
    assert "now owned by" in done.text
    async with session_scope(ws.engine) as session:
        assert {o.key: o.owners for o in await list_owners(session)}["fire"] == (CHIEF,)

    assert "Only a Plan Bot admin" in (await ws.command("export", user=COO)).text
    assert ws.slack.calls_to("files.completeUploadExternal") == []
    await ws.command("export", user=ADMIN, wait=0)
    complete = await ws.slack.wait_for("files.completeUploadExternal")
    assert complete[0].args.get("channel_id") == f"D{ADMIN}"
    (content,) = ws.slack.uploads.values()
    rows = list(csv.DictReader(io.StringIO(content.decode("utf-8"))))
    assert len(rows) == 87 and rows[0]["department_key"] == "treasurer"


async def test_the_export_says_statuses_in_words_and_names_people(workspace: Workspace) -> None:
    ws = workspace
    period = ws.ctx.open_period()
    async with session_scope(ws.engine) as session:
        first = await find_initiative(session, "fire", 1)
        session.add(
            Update(
                initiative_id=first.id,
                period=period,
                status=Status.ON_TRACK,
                percent=40,
                author=CHIEF,
                source="form",
            )
        )
    await ws.command("export", user=ADMIN, wait=0)
    (complete,) = await ws.slack.wait_for("files.completeUploadExternal")
    (content,) = ws.slack.uploads.values()
    rows = {
        (r["department_key"], r["number"]): r
        for r in csv.DictReader(io.StringIO(content.decode("utf-8")))
    }
    assert rows[("fire", "1")]["status"] == "On track"
    assert rows[("fire", "1")]["status_key"] == "on_track"  # kept for programs, in its own column
    assert rows[("fire", "1")]["author"] == "Fire Chief"  # a name, not U0CHIEF
    assert rows[("fire", "2")]["status"] == "No update"
    assert CHIEF not in content.decode("utf-8")
    (uploaded,) = complete.args["files"]
    name = ws.slack.files[uploaded["id"]]["name"]
    assert name == f"city-of-hartford-fiscal-year-2016-strategic-plan-status-{period}.csv"


async def test_bad_or_stale_signature_is_refused_and_changes_nothing(workspace: Workspace) -> None:
    ws = workspace
    forged = slack_requests.slash_command(
        "not-the-secret",
        f"owner fire <@{CHIEF}>",
        user_id=ADMIN,
        response_url=ws.slack.response_url("forged"),
    )
    assert (await ws.send(forged)).status_code == 401
    stale = slack_requests.slash_command(
        ws.signing_secret,
        f"owner fire <@{CHIEF}>",
        user_id=ADMIN,
        response_url=ws.slack.response_url("stale"),
        timestamp=int(time.time()) - 6 * 60,
    )
    assert (await ws.send(stale)).status_code == 401
    tampered = slack_requests.slash_command(
        ws.signing_secret,
        "goals",
        user_id=ADMIN,
        response_url=ws.slack.response_url("t"),
    )
    evil = tampered.body.replace(b"text=goals", b"text=export")
    response = await ws.http.post("/slack/events", content=evil, headers=tampered.headers)
    assert response.status_code == 401
    async with session_scope(ws.engine) as session:
        assert {o.key: o.owners for o in await list_owners(session)}["fire"] == ()
    assert ws.slack.responses == []
    assert [c.method for c in ws.slack.calls if c.method != "auth.test"] == []


async def test_app_home_shows_own_departments(with_samples: Workspace) -> None:
    ws = with_samples
    async with session_scope(ws.engine) as session:
        fire = await find_department(session, "fire")
        await set_owners(session, fire, [CHIEF])
    await ws.event({"type": "app_home_opened", "user": CHIEF, "tab": "home"})
    await ws.slack.wait_for("views.publish")
    chief_home = ws.slack.home_views[CHIEF]
    check_view(chief_home["blocks"])
    shown = json.dumps(chief_home["blocks"], ensure_ascii=False)
    assert '"Fire"' in shown and "Update" in shown and "Safety" not in shown
    await ws.event({"type": "app_home_opened", "user": ADMIN, "tab": "home"})
    await ws.slack.wait_for("views.publish", count=2)
    admin_home = json.dumps(ws.slack.home_views[ADMIN]["blocks"], ensure_ascii=False)
    assert "Safety" in admin_home and "Quality of Life" in admin_home
    await ws.event({"type": "app_home_opened", "user": COO, "tab": "home"})
    await ws.slack.wait_for("views.publish", count=3)
    assert "/plan owner" in json.dumps(ws.slack.home_views[COO]["blocks"])


async def test_answers_fit_slack_limits_on_a_huge_plan(database_url: str) -> None:
    """300 initiatives in one department, 40 goals: every answer within Slack's limits."""
    async with Workspace(database_url, admins=(ADMIN,)) as ws:
        async with session_scope(ws.engine) as session:
            result = await load_plan(session, synthetic_plan(2, 300, 40, seed=7), period=PERIOD)
            await add_sample_updates(session, result.plan_id, "2026-08", 3, skip_last_share=0.5)
            department = await find_department(session, "dept-1")
            await set_owners(session, department, [ADMIN])
        for text in ("dept-1", "goal-1", "goal-40", "goals", "missing", "history dept-1 300"):
            reply = await ws.command(text, user=ADMIN)
            assert reply.status == 200
            check_message(reply.message["blocks"], reply.message["text"])
            assert reply.message["blocks"][0]["type"] == "header", text
        big = await ws.command("dept-1", user=ADMIN)
        assert "more initiatives" in big.text
        await ws.event({"type": "app_home_opened", "user": ADMIN, "tab": "home"})
        await ws.slack.wait_for("views.publish")
        check_view(ws.slack.home_views[ADMIN]["blocks"])


async def test_health_check(workspace: Workspace) -> None:
    response = await workspace.http.get("/healthz")
    assert response.status_code == 200 and response.json() == {"ok": True}


async def test_status_vocabulary_is_one(with_samples: Workspace) -> None:
    """The same emoji and word for a status in every answer."""
    texts = [
        (await with_samples.command(text, user=COO)).text
        for text in ("safety", "fire", "goals", "history fire 1")
    ]
    for status in Status:
        for text in texts:
            assert status.word not in text or status.emoji in text


async def test_cached_answers_follow_every_write(with_samples: Workspace, hartford: int) -> None:
    """Answers are reused only while the plan's revision stands still: an update or an owner
    change made anywhere (here, straight through the models, as another replica would) shows."""
    from models.cycle import UpdateEntry, department_state, record_updates

    ws = with_samples
    first = await ws.command("fire", user=COO)
    assert (await ws.command("fire", user=COO)).message == first.message
    async with session_scope(ws.engine) as session:
        fire = await find_department(session, "fire")
        state = await department_state(session, hartford, PERIOD, fire.id)  # type: ignore[arg-type]
        assert state is not None
        await record_updates(
            session,
            state,
            [UpdateEntry(2, Status.OFF_TRACK, 5, "Boiler gone")],
            author=CHIEF,
            source="form",
            late=False,
        )
    after_update = await ws.command("fire", user=COO)
    assert "Boiler gone" in after_update.text and "Boiler gone" not in first.text
    async with session_scope(ws.engine) as session:
        await set_owners(session, fire, ["U0NEWCHIEF"])
    assert "U0NEWCHIEF" in (await ws.command("fire", user=COO)).text


async def test_the_answer_cache_keeps_only_the_newest_revisions_answers(
    with_samples: Workspace,
) -> None:
    """A revision once moved past is never read again: its answers are let go as soon as an
    answer of a newer one is kept, and an answer computed before a write but finished after
    another answer saw it is not kept at all."""
    cache = AnswerCache(with_samples.engine)

    def answer(text: str) -> Answer:
        return Answer(
            Message(text, [{"type": "section", "text": {"type": "mrkdwn", "text": text}}])
        )

    def key(plan_id: int, revision: int, words: str) -> tuple[object, ...]:
        return (plan_id, revision, PERIOD, "goal", words, None, False)

    safety, fire = answer("safety at 7"), answer("fire at 7")
    cache.put(key(1, 7, "safety"), safety)
    cache.put(key(1, 7, "fire"), fire)
    assert cache.get(key(1, 7, "safety")) is safety and cache.get(key(1, 7, "fire")) is fire

    newer = answer("safety at 8")
    cache.put(key(1, 8, "safety"), newer)  # a write moved the revision on
    assert cache.get(key(1, 8, "safety")) is newer
    assert cache.get(key(1, 7, "safety")) is None and cache.get(key(1, 7, "fire")) is None

    cache.put(key(1, 7, "fire"), answer("fire at 7, finished late"))
    assert cache.get(key(1, 7, "fire")) is None and cache.get(key(1, 8, "safety")) is newer

    other = answer("another plan")
    cache.put(key(2, 1, "safety"), other)  # another plan made active
    assert cache.get(key(2, 1, "safety")) is other and cache.get(key(1, 8, "safety")) is None


@pytest.mark.postgres
async def test_an_answer_slower_than_slack_waits_arrives_by_response_url(
    postgres_database: str,
) -> None:
    """Slack waits 3 s for the acknowledgement. An answer not ready in 2 s is acknowledged with
    "Working on it…" and arrives through the response URL when it is done. Here a table lock,
    held by another connection until the acknowledgement is back, keeps the answer waiting."""
    truncate_all(postgres_database)
    async with Workspace(postgres_database, admins=(ADMIN,)) as ws:
        async with session_scope(ws.engine) as session:
            await load_plan(session, read_plan_file(), period=PERIOD)
        locker = create_engine(postgres_database)
        try:
            async with locker.connect() as hold:
                await hold.execute(sa.text("LOCK TABLE updates IN ACCESS EXCLUSIVE MODE"))
                ack = await ws.send(
                    slack_requests.slash_command(
                        ws.signing_secret,
                        "safety",
                        user_id=COO,
                        response_url=ws.slack.response_url("slow"),
                    )
                )
                assert ack.status_code == 200
                assert "Working on it" in ack.json()["text"] and not ack.json().get("blocks")
                assert ws.slack.responses == []  # the answer is still held back
                await hold.rollback()  # let it go
            (answer,) = await ws.slack.wait_for("response:slow", timeout=10)
        finally:
            await locker.dispose()
    assert answer.args["response_type"] == "ephemeral"
    assert "Safety" in json.dumps(answer.args["blocks"])
    check_message(answer.args["blocks"], answer.args["text"])
