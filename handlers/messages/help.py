"""Block Kit for "Ask for help" (issue 16): the button, the small form, the thread it opens in
the escalation channel with its Acknowledge and Resolve buttons, what the lead is told, and the
lines `/plan <goal>` and the digest show until a request is resolved. No SQL, no Slack calls."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from slack_sdk.models.blocks import ActionsBlock, ButtonElement

from handlers.ids import ActionId, CallbackId
from handlers.messages.layout import (
    Lines,
    Message,
    Part,
    People,
    context,
    day,
    header,
    message,
    plan_name,
    section,
)
from handlers.messages.text import escaped_excerpt, excerpt
from handlers.messages.words import people_named, status_text
from handlers.reading.buttons import help_value
from models.cycle import DepartmentState, InitiativeState
from models.help import MAX_TEXT, HelpView
from models.periods import PeriodError, parse_period
from models.tables import HelpStatus

BLOCKED = "blocked"  # the form's block ids
UNBLOCK = "unblock"
WHICH = "which"
BLOCKED_ERROR = "Say what is blocked: a few words are enough."
_OPTION_TEXT = 75  # static_select option text
_SHOWN = 300  # how much of a request's text the goal and digest lines show


def help_button(department_key: str, period: str, number: int | None = None) -> ButtonElement:
    return ButtonElement(
        text="Ask for help",
        action_id=ActionId.ASK_HELP,
        value=help_value(department_key, period, number),
    )


def help_actions(department_key: str, period: str, number: int | None = None) -> ActionsBlock:
    return ActionsBlock(elements=[help_button(department_key, period, number)])


@dataclass(frozen=True)
class HelpFormMetadata:
    department: str
    period: str
    number: int | None  # None: the form asks which initiative

    def dump(self) -> str:
        return json.dumps({"d": self.department, "p": self.period, "n": self.number})

    @classmethod
    def load(cls, text: str) -> HelpFormMetadata | None:
        try:
            data = json.loads(text)
            department, period, number = (
                str(data["d"])[:60],
                parse_period(str(data["p"])),
                data["n"],
            )
        except (ValueError, KeyError, TypeError, AttributeError, PeriodError):
            return None
        if number is not None and (not isinstance(number, int) or isinstance(number, bool)):
            return None
        return cls(department, period, number)


def _option(initiative: InitiativeState) -> dict[str, Any]:
    return {
        "text": {
            "type": "plain_text",
            "text": excerpt(f"#{initiative.number} {initiative.text}", _OPTION_TEXT),
        },
        "value": str(initiative.number),
    }


def render_help_form(state: DepartmentState, metadata: HelpFormMetadata) -> dict[str, Any]:
    """What is blocked (required), who could unblock it (optional), and which initiative
    when the button did not say."""
    blocks: list[dict[str, Any]] = []
    chosen = state.initiative(metadata.number) if metadata.number is not None else None
    if chosen is not None:
        blocks.append(
            section(
                f"*{plan_name(state.name)} #{chosen.number}* — {escaped_excerpt(chosen.text, 500)}"
            ).to_dict()
        )
    else:
        options = [_option(i) for i in sorted(state.initiatives, key=lambda i: i.number)][:100]
        blocks.append(
            {
                "type": "input",
                "block_id": WHICH,
                "label": {"type": "plain_text", "text": "Which initiative?"},
                "element": {"type": "static_select", "action_id": WHICH, "options": options},
            }
        )
    blocks += [
        {
            "type": "input",
            "block_id": BLOCKED,
            "label": {"type": "plain_text", "text": "What is blocked?"},
            "element": {
                "type": "plain_text_input",
                "action_id": BLOCKED,
                "multiline": True,
                "max_length": MAX_TEXT,
                "placeholder": {
                    "type": "plain_text",
                    "text": "The union has not signed; hiring waits",
                },
            },
        },
        {
            "type": "input",
            "block_id": UNBLOCK,
            "optional": True,
            "label": {"type": "plain_text", "text": "Who could unblock it?"},
            "element": {
                "type": "plain_text_input",
                "action_id": UNBLOCK,
                "max_length": 500,
                "placeholder": {"type": "plain_text", "text": "Labor Relations; the COO"},
            },
        },
        {
            "type": "context",
            "elements": [
                {
                    "type": "mrkdwn",
                    "text": "Opens a thread in the leadership's escalation channel; you are told "
                    "when someone acknowledges it and when it is resolved.",
                }
            ],
        },
    ]
    return {
        "type": "modal",
        "callback_id": CallbackId.ASK_HELP,
        "title": {"type": "plain_text", "text": "Ask for help"},
        "submit": {"type": "plain_text", "text": "Ask"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "private_metadata": metadata.dump(),
        "blocks": blocks,
    }


def read_help_form(
    values: dict[str, Any], asks_which: bool
) -> tuple[dict[str, Any], dict[str, str]]:
    """({"number", "blocked", "unblock"}, errors by block id)."""

    def typed(block: str) -> str:
        return str(((values.get(block) or {}).get(block) or {}).get("value") or "").strip()

    errors: dict[str, str] = {}
    number = None
    if asks_which:
        chosen = ((values.get(WHICH) or {}).get(WHICH) or {}).get("selected_option") or {}
        picked = str(chosen.get("value") or "")
        if not picked.isdigit():
            errors[WHICH] = "Pick the initiative."
        else:
            number = int(picked)
    blocked = typed(BLOCKED)
    if not blocked:
        errors[BLOCKED] = BLOCKED_ERROR
    elif len(blocked) > MAX_TEXT:
        errors[BLOCKED] = f"Keep it under {MAX_TEXT} characters."
    unblock = typed(UNBLOCK)
    if len(unblock) > 500:
        errors[UNBLOCK] = "Keep it under 500 characters."
    return {"number": number, "blocked": blocked, "unblock": unblock}, errors


def _when(moment: datetime | None, timezone: str) -> str:
    return "" if moment is None else day(moment, timezone)


def status_words(v: HelpView, names: People, timezone: str) -> str:
    """'🆘 Open', '👀 Acknowledged by @coo on Nov 3', '✅ Resolved by @coo on Nov 5'."""
    if v.status == HelpStatus.RESOLVED and v.resolved_by:
        return f"✅ Resolved by {names(v.resolved_by)} on {_when(v.resolved_at, timezone)}"
    if v.status == HelpStatus.ACKNOWLEDGED and v.acknowledged_by:
        return (
            f"👀 Acknowledged by {names(v.acknowledged_by)} on {_when(v.acknowledged_at, timezone)}"
        )
    return "🆘 Open"


def render_help_post(
    v: HelpView,
    initiative: InitiativeState | None,
    owners: Sequence[str],
    mentions: Sequence[str],
    names: People,
    pings: People,
    timezone: str,
) -> Message:
    """The request in the escalation channel. Who is asked to act is pinged (`pings`: the
    escalation people); the lead and the owners are named without a ping (`names`)."""
    title = f"Help requested: {v.department_name} #{v.number}"
    latest = initiative.latest if initiative is not None else None
    lines = [
        f"*{plan_name(v.department_name)} #{v.number}* — {escaped_excerpt(v.initiative_text, 300)}"
    ]
    lines.append(f"*Status:* {status_text(latest)}")
    if latest is not None and latest.note.strip():
        lines.append(f"*Latest note:* {escaped_excerpt(latest.note, 500)}")
    lines.append(f"*Owner:* {people_named(list(owners), names) if owners else 'none assigned'}")
    parts: list[Part] = [
        header(excerpt(title, 150)),
        section("\n".join(lines)),
        section(f"*What is blocked:*\n{escaped_excerpt(v.blocked, MAX_TEXT)}"),
    ]
    if v.unblock:
        parts.append(section(f"*Who could unblock it:* {escaped_excerpt(v.unblock, 500)}"))
    asked = f"Asked by {names(v.asked_by)} on {_when(v.created_at, timezone)}"
    if mentions:
        asked += f" · for {people_named(list(mentions), pings)}"
    parts.append(context(asked))
    parts.append(context(status_words(v, names, timezone)))
    buttons = []
    if v.status == HelpStatus.OPEN:
        buttons.append(
            ButtonElement(text="Acknowledge", action_id=ActionId.HELP_ACKNOWLEDGE, value=str(v.id))
        )
    if v.status != HelpStatus.RESOLVED:
        buttons.append(
            ButtonElement(
                text="Resolve", action_id=ActionId.HELP_RESOLVE, value=str(v.id), style="primary"
            )
        )
    if buttons:
        parts.append(ActionsBlock(elements=buttons))
    return message(f"🆘 {title}", parts)


def render_help_step(v: HelpView, by: str, people: People) -> Message:
    """The reply in the request's thread when someone acknowledges or resolves it."""
    what = "resolved" if v.status == HelpStatus.RESOLVED else "acknowledged"
    said = f"{'✅' if what == 'resolved' else '👀'} {people(by)} {what} this request."
    return message(said, [section(said)])


def render_help_news(v: HelpView, by: str, people: People, link: str | None) -> Message:
    """The direct message to the lead who asked."""
    what = "resolved" if v.status == HelpStatus.RESOLVED else "acknowledged"
    said = (
        f"Your request for help on *{plan_name(v.department_name)} #{v.number}* was {what} by "
        f"{people(by)}."
    )
    if link:
        said += f" <{link}|See the thread>."
    return message(said, [section(said)])


def render_help_asked(v: HelpView, posted: bool, link: str | None) -> Message:
    """The lead's private confirmation."""
    if posted:
        said = f"🆘 Asked for help on *{plan_name(v.department_name)} #{v.number}*"
        said += f": <{link}|the thread>." if link else "."
        said += " You will hear when it is acknowledged and when it is resolved."
    else:
        said = (
            f"🆘 Your request for help on *{plan_name(v.department_name)} #{v.number}* is "
            "recorded; Slack did not take the post just now, so Plan Bot posts it at its "
            "next try (within 15 minutes)."
        )
    return message(said, [section(said)])


def help_line(v: HelpView, names: People, timezone: str, now: datetime | None = None) -> str:
    """One request in `/plan <goal>` (asked on a day: the answer is cached) or the digest
    (how long it has been open, as of `now`)."""
    if now is None:
        age = f"on {_when(v.created_at, timezone)}"
    else:
        days = max(0, (now - v.created_at).days)
        age = "today" if days == 0 else f"{days} day{'s' if days != 1 else ''} ago"
    state = status_words(v, names, timezone)
    return (
        f"• *{plan_name(v.department_name)} #{v.number}* — {escaped_excerpt(v.blocked, _SHOWN)} "
        f"· asked {age} · {state}"
    )


def help_part(
    requests: Sequence[HelpView], names: People, timezone: str, now: datetime | None = None
) -> list[Part]:
    """'Help requested' with every request not yet resolved; nothing when there are none."""
    if not requests:
        return []
    return [
        Lines(
            title=f"*Help requested* ({len(requests)})",
            lines=[help_line(v, names, timezone, now) for v in requests],
            more=lambda n: f"…and {n} more requests for help",
        )
    ]
