"""Block Kit for admins about channels Plan Bot could not post in, and how to fix each."""

from __future__ import annotations

from collections.abc import Sequence

from handlers.channels import (
    CHANNEL_NOT_FOUND,
    UPDATES_SETTING,
    UnreachableChannel,
    how_to_fix,
)
from handlers.messages.layout import Lines, Message, message, plural, section
from handlers.messages.text import escaped_excerpt
from models.periods import period_label

_MOST_NAMES = 10  # departments named on one channel's line; the rest are counted
_NAME = 100


def _channel(problem: UnreachableChannel) -> str:
    # A channel Slack cannot find would show as "#unknown": its id says more.
    if problem.error == CHANNEL_NOT_FOUND:
        return f"channel `{problem.channel}`"
    return f"<#{problem.channel}>"


def _departments(names: Sequence[str]) -> str:
    shown = [escaped_excerpt(n, _NAME) for n in names[:_MOST_NAMES]]
    extra = len(names) - len(shown)
    return ", ".join(shown) + (f" and {extra} more" if extra > 0 else "")


def render_unreachable(period: str, problems: Sequence[UnreachableChannel]) -> Message:
    """For admins, once: the prompts of a period Slack refused because of their channel, one
    line per channel naming its departments and saying what to do."""
    count = sum(len(p.departments) for p in problems)
    intro = (
        f":warning: *Plan Bot could not post {plural(count, 'prompt')} for "
        f"{period_label(period)}.* Slack refused {'it' if count == 1 else 'them'} for a reason "
        "only a person can fix, so Plan Bot is not trying again on its own:"
    )
    lines = [
        f"• *{_departments(p.departments)}* — "
        + how_to_fix(
            p.error,
            _channel(p),
            setting=UPDATES_SETTING if p.updates_channel else None,
            departments=len(p.departments),
        )
        for p in problems
    ]
    closing = (
        "Once Plan Bot is invited to a channel, it posts that prompt at its next check "
        "(every 15 minutes). After any other fix, run `planbot jobs run prompts`."
    )
    names = ", ".join(name for p in problems for name in p.departments)
    fallback = f"Plan Bot could not post the prompts of {period_label(period)} for: {names}"
    return message(
        fallback,
        [
            section(intro),
            Lines(lines, more=lambda n: f"…and {plural(n, 'more channel')}."),
            section(closing),
        ],
    )
