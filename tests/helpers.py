"""What tests share, said once: the people and the period of a test, finding a department,
what a lead does in the monthly cycle (own a department, open the form, pick a status, type a
percent or a note), replying in a prompt's thread and reading back what was stored, and reading
Block Kit as a person sees it. Fixtures are in conftest.py; this module holds no fixtures."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import slack_requests
from bot.workspace import Workspace
from jobs.prompts import post_monthly_prompts
from models.db import (
    POOL_OVERFLOW,
    POOL_SIZE,
    URGENT_CONNECTIONS,
    session_scope,
    sync_url,
)
from models.plans import set_owners
from models.queries import GoalRef
from models.status import Status
from models.tables import Department, Initiative, Update

ADMIN = "U0ADMIN"
COO = "U0COO"
CHIEF = "U0CHIEF"
PEOPLE = {ADMIN: "Budget Office", COO: "Chief Operating Officer", CHIEF: "Fire Chief"}
PERIOD = "2026-10"  # the open period of most tests: October 2026


async def find_department(session: AsyncSession, key: str) -> Department:
    """The department with key `key` (tests load one plan)."""
    return (await session.exec(select(Department).where(Department.key == key))).one()


async def find_initiative(session: AsyncSession, key: str, number: int) -> Initiative:
    """Initiative `number` of department `key`."""
    department = await find_department(session, key)
    return (
        await session.exec(
            select(Initiative).where(
                Initiative.department_id == department.id, Initiative.number == number
            )
        )
    ).one()


async def add_update(
    engine: AsyncEngine,
    key: str,
    number: int,
    period: str,
    status: Status | str,
    received_at: datetime,
    *,
    author: str = "",
    source: str = "thread",
    note: str = "",
) -> None:
    """An update on initiative `number` of department `key`, written straight to the table."""
    async with session_scope(engine) as session:
        initiative = await find_initiative(session, key, number)
        session.add(
            Update(
                initiative_id=initiative.id,
                period=period,
                status=Status(status),
                note=note,
                author=author,
                source=source,
                received_at=received_at,
            )
        )


async def reported_before(ws: Workspace, key: str, number: int, period: str, status: str) -> None:
    """Initiative `number` of department `key` had `status` in `period` (an earlier month), so
    that "No change" has a status to repeat."""
    when = datetime(int(period[:4]), int(period[5:]), 28, tzinfo=UTC)
    await add_update(ws.engine, key, number, period, status, when, source="import")


def truncate_all(url: str) -> None:
    """Empty every table of the PostgreSQL database at `url` (the schema stays)."""
    engine = sa.create_engine(sync_url(url))
    with engine.begin() as conn:
        tables = [
            row[0]
            for row in conn.execute(
                sa.text(
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                    "AND tablename <> 'alembic_version'"
                )
            )
        ]
        conn.execute(sa.text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
    engine.dispose()


# --- reading Block Kit ----------------------------------------------------------------------------


def mrkdwn_texts(node: Any) -> list[str]:
    """Every mrkdwn text in the blocks (or any JSON), in order."""
    found: list[str] = []

    def walk(item: Any) -> None:
        if isinstance(item, dict):
            if item.get("type") == "mrkdwn":
                found.append(item["text"])
            for value in item.values():
                walk(value)
        elif isinstance(item, list):
            for value in item:
                walk(value)

    walk(node)
    return found


# --- goals for message tests ----------------------------------------------------------------------


# As hartford-fy2016.yaml's goal_groups name them: (name, one, position).
GROUPS = {
    "mayor": ("Mayor's goals", "Mayor's goal", 0),
    "city-plan": ("One City, One Plan goals", "One City, One Plan goal", 1),
}


def goal_ref(
    key: str, name: str, kind: str, objectives: tuple[str, ...] = (), short: str = ""
) -> GoalRef:
    """A goal of group `kind` ("mayor" or "city-plan")."""
    group, one, position = GROUPS[kind]
    return GoalRef(key, name, kind, objectives, short, group, one, position)


# --- a lead in the monthly cycle ------------------------------------------------------------------


async def own(ws: Workspace, key: str, *users: str) -> None:
    """`users` become the owners of department `key`."""
    async with session_scope(ws.engine) as session:
        department = await find_department(session, key)
        await set_owners(session, department, users)


async def open_form(ws: Workspace, user: str, department: str = "fire") -> dict[str, Any]:
    """The update form as Slack received it after `user` typed `/plan update DEPARTMENT`."""
    before = len(ws.slack.calls_to("views.open"))
    await ws.command(f"update {department}", user=user, wait=0)
    opened = await ws.slack.wait_for("views.open", count=before + 1)
    view = opened[-1].args["view"]
    return json.loads(view) if isinstance(view, str) else view


def chosen(status: str) -> dict[str, Any]:
    return {"status": {"type": "static_select", "selected_option": {"value": status}}}


def typed_percent(value: str) -> dict[str, Any]:
    return {"percent": {"type": "plain_text_input", "value": value}}


def typed_note(value: str) -> dict[str, Any]:
    return {"note": {"type": "plain_text_input", "value": value}}


async def opened_form(ws: Workspace, user: str, department: str = "fire") -> dict[str, Any]:
    """The update form as Slack holds it after `/plan update DEPARTMENT` (with its view id and
    hash, as Slack sends it back with a click inside it)."""
    before = len(ws.slack.calls_to("views.open"))
    await ws.command(f"update {department}", user=user, wait=0)
    opened = await ws.slack.wait_for("views.open", count=before + 1)
    return dict(opened[-1].response["view"])


async def pick_in_form(
    ws: Workspace, view: dict[str, Any], action_id: str, value: str, *, user: str
) -> None:
    """`user` picks option `value` of the menu `action_id` inside the open form `view`."""
    payload = {
        "type": "block_actions",
        "team": {"id": slack_requests.TEAM_ID, "domain": "planbot"},
        "user": {"id": user, "username": user.lower(), "team_id": slack_requests.TEAM_ID},
        "api_app_id": "A0PLANBOT",
        "trigger_id": slack_requests.new_trigger_id(),
        "container": {"type": "view", "view_id": view["id"]},
        "view": view,
        "actions": [
            {
                "type": "static_select",
                "action_id": action_id,
                "block_id": "complete",
                "selected_option": {"value": value, "text": {"type": "plain_text", "text": value}},
                "action_ts": "1.0",
            }
        ],
    }
    response = await ws.send(slack_requests.interaction(ws.signing_secret, payload))
    assert response.status_code == 200, response.text


# --- replying in a prompt's thread ----------------------------------------------------------------


NOW = datetime(2026, 11, 4, 15, 0, tzinfo=UTC)  # October is the open period, not yet closed
UPDATES = "C0UPDATES"
OTHER = "U0OTHER"


async def fire_workspace(database_url: str) -> AsyncIterator[tuple[Workspace, str]]:
    """Fire owned by the chief, its October prompt posted; yields the prompt's ts. (The
    Hartford plan must be loaded.)"""
    # Requests are answered after their listeners finish: a test sees all that a delivery did.
    async with Workspace(
        database_url,
        admins=(ADMIN,),
        now=lambda: NOW,
        updates_channel=UPDATES,
        process_before_response=True,
    ) as ws:
        await own(ws, "fire", CHIEF)
        run = await post_monthly_prompts(ws.ctx, ws.app.client, PERIOD)
        assert run.posted == ["fire"]
        yield ws, ws.slack.calls_to("chat.postMessage")[0].response["ts"]


async def current(ws: Workspace, key: str = "fire") -> dict[int, Update]:
    """Each initiative's latest update for the period."""
    async with session_scope(ws.engine) as session:
        rows = (
            await session.exec(
                select(Initiative.number, Update)
                .join(Update)
                .join(Department)
                .where(Department.key == key, Update.period == PERIOD)
                .order_by(Update.received_at, Update.id)
            )
        ).all()
    return {number: update for number, update in rows}


async def count_updates(ws: Workspace) -> int:
    async with session_scope(ws.engine) as session:
        return len(
            (
                await session.exec(select(Update).where(Update.source.not_in(("import", "plan"))))
            ).all()
        )


async def thread_posts(ws: Workspace, thread_ts: str, count: int) -> list[Any]:
    """Wait until the bot has posted `count` messages in a thread; return them."""
    for _ in range(500):
        posts = [
            c
            for c in ws.slack.calls_to("chat.postMessage")
            if c.ok and c.args.get("thread_ts") == thread_ts
        ]
        if len(posts) >= count:
            return posts
        await asyncio.sleep(0.01)
    raise AssertionError(f"expected {count} posts in thread {thread_ts}, saw {len(posts)}")


def reply_event(ts: str, thread_ts: str, text: str, user: str = CHIEF) -> dict[str, Any]:
    return {
        "type": "message",
        "channel": UPDATES,
        "user": user,
        "ts": ts,
        "thread_ts": thread_ts,
        "text": text,
    }


def measure_view(n: int, name: str, values: dict[str, float], target: float, unit: str) -> Any:
    """A monthly measure (higher is better, its FY2027 target `target`) as the readers of
    measures see it, for tests of rendering that need no database."""
    from models.measure_status import Aggregation, Direction, Frequency, MeasureRule
    from models.measures import MeasureView

    return MeasureView(
        id=n,
        key=f"m{n}",
        name=name,
        description="",
        unit=unit,
        rule=MeasureRule(Direction.HIGHER, Frequency.MONTHLY, Aggregation.LATEST),
        department_key="dpw",
        department_name="Public Works",
        baseline=None,
        baseline_period=None,
        goal_ids=(),
        targets={"FY2027": target},
        values=values,
        latest={},
        position=n,
        sample=False,
        source_url=None,
    )


@asynccontextmanager
async def every_connection_taken(ws: Workspace, extra: int = 0) -> AsyncIterator[None]:
    """The work after acknowledged answers holding every connection it may take (all but those
    kept for acknowledgements), with `extra` more sessions waiting, until the block ends."""
    release = asyncio.Event()
    holding = 0

    async def busy() -> None:
        nonlocal holding
        async with session_scope(ws.engine) as session:
            await session.exec(sa.text("SELECT 1"))  # type: ignore[call-overload]
            holding += 1
            await release.wait()

    others = [asyncio.create_task(busy()) for _ in range(POOL_SIZE + POOL_OVERFLOW + extra)]
    try:
        while holding < POOL_SIZE + POOL_OVERFLOW - URGENT_CONNECTIONS:
            await asyncio.sleep(0.01)
        yield
    finally:
        release.set()
        # Those still waiting when the block ends may have run out of the pool's wait.
        await asyncio.gather(*others, return_exceptions=True)
