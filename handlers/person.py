"""Who acted in a request, and what they may do: worked out once per request by a middleware
(as Dispatch builds its request context), so no listener digs the user id out of a payload or
decides "admin or owner" for itself."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from slack_bolt.async_app import AsyncApp, AsyncBoltContext, AsyncRespond
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.context import Middleware, PlanContext
from handlers.messages.layout import Message
from models.cycle import answers_for

_KEY = "planbot_person"


@dataclass(frozen=True)
class Person:
    user_id: str  # "" when the request names nobody (some events)
    is_admin: bool
    at: datetime | None = None  # when the request came, by the plan's clock

    async def may_report_for(self, session: AsyncSession, department_id: int) -> bool:
        """An owner or a backup owner of the department, the delegate of one of its owners
        while they are away, or a Plan Bot admin."""
        if not self.user_id:
            return False
        return self.is_admin or await answers_for(session, department_id, self.user_id, self.at)


def person_of(context: AsyncBoltContext) -> Person:
    """The person `use_person` found for this request."""
    found = context.get(_KEY)
    assert isinstance(found, Person), "handlers.person.use_person is not installed"
    return found


def use_person(app: AsyncApp, ctx: PlanContext) -> None:
    """Every request carries its Person, from Bolt's own reading of the user id (commands,
    clicks, form submissions and events each put it somewhere else)."""

    async def attach_person(
        req: AsyncBoltRequest, _resp: BoltResponse, next: Callable[[], Awaitable[BoltResponse]]
    ) -> BoltResponse:
        context = req.context
        user = str(context.user_id or "")
        context[_KEY] = Person(user, ctx.is_admin(user), ctx.now())
        return await next()

    app.use(Middleware(attach_person))


async def tell_privately(
    respond: AsyncRespond, client: AsyncWebClient, context: AsyncBoltContext, message: Message
) -> None:
    """An answer only the person who clicked sees: where they clicked (the response URL), or
    as a direct message when the click came from somewhere without one (App Home)."""
    if context.response_url:
        await respond(response_type="ephemeral", replace_original=False, **message.as_reply())
    else:
        await client.chat_postMessage(channel=person_of(context).user_id, **message.as_reply())
