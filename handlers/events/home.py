"""App Home: the viewer's own departments, and the goal overview for admins."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from handlers.context import PlanContext
from handlers.messages.answers import render_home
from handlers.people import mention
from models.db import session_scope
from models.plans import NoActivePlan, active_plan, departments_owned_by
from models.queries import DepartmentSummary, GoalsOverview, department_summary, goals_overview

log = logging.getLogger(__name__)


async def home_view(ctx: PlanContext, user_id: str) -> dict[str, Any]:
    period = ctx.open_period()
    summaries: list[DepartmentSummary] = []
    overview: GoalsOverview | None = None
    async with session_scope(ctx.engine) as session:
        try:
            plan = await active_plan(session)
        except NoActivePlan:
            plan = None
        if plan is not None and plan.id is not None:
            for department in await departments_owned_by(session, user_id):
                summaries.append(await department_summary(session, department, period))
            if ctx.is_admin(user_id):
                overview = await goals_overview(session, plan.id, period)
    return {"type": "home", "blocks": render_home(summaries, overview, mention)}


def register(app: AsyncApp, ctx: PlanContext) -> None:
    @app.event("app_home_opened")
    async def app_home_opened(event: dict[str, Any], client: AsyncWebClient) -> None:
        if event.get("tab", "home") != "home":
            return
        user_id = str(event.get("user") or "")
        await client.views_publish(user_id=user_id, view=await home_view(ctx, user_id))
