"""Block Kit for following goals (issue 16): what `/plan follow` and `/plan unfollow` say, and
the weekly direct message a follower gets — a goal's lines, as `/plan <goal>` shows them."""

from __future__ import annotations

from collections.abc import Sequence

from handlers.messages.layout import Message, command, context, message, section
from handlers.messages.text import escape, excerpt

_NAME = 120


def _names(goals: Sequence[str]) -> str:
    shown = [f"*{escape(excerpt(g, _NAME))}*" for g in goals]
    return shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " and " + shown[-1]


def render_followed(goal: str, *, new: bool) -> Message:
    said = (
        f"✅ You follow {_names([goal])}: its lines of the weekly digest come to you by direct "
        "message every Monday. You are not asked to report."
        if new
        else f"You already follow {_names([goal])}."
    )
    return message(said, [section(said), context(f"{command('unfollow', '<goal>')} stops them.")])


def render_unfollowed(goal: str, *, was: bool) -> Message:
    said = (
        f"You no longer follow {_names([goal])}: no more weekly messages about it."
        if was
        else f"You did not follow {_names([goal])}."
    )
    return message(said, [section(said)])


def render_following(goals: Sequence[str]) -> Message:
    said = (
        f"You follow {_names(goals)}: their lines of the weekly digest come to you every Monday."
        if goals
        else "You follow no goal yet."
    )
    return message(
        said,
        [
            section(said),
            context(
                f"{command('follow', '<goal>')} adds one, {command('unfollow', '<goal>')} "
                "removes one."
            ),
        ],
    )


def render_follower_intro(goal: str, week: str) -> str:
    """The line above a goal's lines in the weekly direct message."""
    return (
        f"Your weekly lines for {_names([goal])} (week of {week}) — you follow it; "
        f"{command('unfollow', '<goal>')} stops these."
    )
