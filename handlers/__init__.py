"""Everything that speaks Slack: listeners by surface, and the messages they send."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from handlers import errors
from handlers.actions import help, prompt, replies, share
from handlers.commands import plan
from handlers.context import PlanContext
from handlers.events import home, membership, thread_replies
from handlers.person import use_person
from handlers.views import publish, update_form


def register_listeners(app: AsyncApp, ctx: PlanContext) -> None:
    names = ctx.people
    errors.register(app)
    use_person(app, ctx)
    plan.register(app, ctx, names)
    share.register(app, ctx, names)
    home.register(app, ctx)
    prompt.register(app, ctx)
    help.register(app, ctx)
    replies.register(app, ctx)
    update_form.register(app, ctx)
    publish.register(app, ctx)
    thread_replies.register(app, ctx)
    membership.register(app, ctx)
