"""The canvases' markdown: a department's initiatives in its channel, the whole plan in the
digest channel. Pure: plain results in, a title and markdown out (no SQL, no Slack).

Canvases read markdown, not mrkdwn: user text goes through `canvas_escape`, never `escape`.
Each status is shown with its emoji and its word, never colour alone."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from handlers.messages.layout import day, plural
from handlers.messages.limits import CANVAS_MARKDOWN
from handlers.messages.measure_words import number
from handlers.messages.text import canvas_escape, excerpt
from handlers.messages.words import counts_in_words, departments_reported, response_words
from models.attention import AttentionItem
from models.cycle import DepartmentState, InitiativeState
from models.digest_content import DigestContent
from models.measure_status import MeasureStatus
from models.measures import MeasureView
from models.periods import period_label
from models.queries import StatusCounts
from models.status import look

TEXT_CHARS = 200  # an initiative's text, at most
NOTE_CHARS = 300  # a latest note, at most
MOST_ATTENTION = 30  # items needing attention on the plan's canvas, before "and N more"


@dataclass(frozen=True)
class CanvasDocument:
    title: str
    markdown: str


def _fit(head: Sequence[str], items: Sequence[str], rest: str, tail: Sequence[str] = ()) -> str:
    """`head`, as many `items` as fit within the canvas budget, a count of the others, `tail`."""
    budget = CANVAS_MARKDOWN - sum(len(x) + 1 for x in (*head, *tail)) - 200
    shown: list[str] = []
    for item in items:
        budget -= len(item) + 1
        if budget < 0:
            break
        shown.append(item)
    left = len(items) - len(shown)
    more = [f"…and {plural(left, f'more {rest}')}."] if left else []
    return "\n".join([*head, *shown, *more, *tail]).rstrip() + "\n"


def _initiative(item: InitiativeState, period: str, timezone: str) -> str:
    text = canvas_escape(excerpt(item.text, TEXT_CHARS))
    latest = item.latest
    if latest is None:
        return f"- **{item.number}.** {look(None).label} — {text}"
    status = latest.status.label + ("" if latest.percent is None else f" · {latest.percent}%")
    if latest.period != period:
        status += f" · as of {period_label(latest.period)}"
    line = f"- **{item.number}.** {status} — {text}"
    said = f"updated {day(latest.received_at, timezone)}"
    if latest.note.strip():
        said += f": “{canvas_escape(excerpt(latest.note, NOTE_CHARS))}”"
    return f"{line}\n  - {said}"


def _measure(view: MeasureView, period: str, fiscal_start: int) -> str:
    judged = view.status(period, fiscal_start)
    name = canvas_escape(excerpt(view.name, TEXT_CHARS))
    figure = judged.figure if judged.figure is not None else judged.actual
    shown = "no figure yet" if judged.status is MeasureStatus.NO_DATA or figure is None else ""
    if not shown:
        shown = _amount(figure, view.unit)
    if judged.target is not None:
        shown += f" vs {_amount(judged.target, view.unit)} target"
    return f"- {judged.status.label} · **{name}** · {shown}"


def _amount(value: float | None, unit: str) -> str:
    if value is None:
        return "–"
    shown = number(value, whole=unit in ("count", "dollars"))
    if unit == "%":
        return f"{shown}%"
    if unit == "dollars":
        return f"${shown}"
    return shown if unit == "count" else f"{shown} {canvas_escape(unit)}"


def render_department_canvas(state: DepartmentState, timezone: str) -> CanvasDocument:
    """Each initiative numbered with its status (emoji and word), percent, latest note and when
    it was updated; then the department's measures. The same state always gives the same
    markdown (no "now" in it), so an unchanged department is not edited again."""
    counts = StatusCounts.of(i.status for i in state.initiatives)
    received = [i.latest.received_at for i in state.initiatives if i.latest is not None]
    summary = f"**{period_label(state.period)}** · {counts_in_words(counts)}"
    if received:
        summary += f" · last update {day(max(received), timezone)}"
    head = [
        summary,
        "",
        "_Kept up to date by Plan Bot after each answer. Answer the month's prompt in this "
        "channel, or type `/plan update`._",
        "",
        "## Initiatives",
    ]
    tail: list[str] = []
    if state.measures:
        tail = ["", "## Measures"] + [
            _measure(m, state.period, state.fiscal_start) for m in state.measures
        ]
    items = [_initiative(i, state.period, timezone) for i in state.initiatives]
    return CanvasDocument(
        title=f"{excerpt(state.name, 100)} — plan progress",
        markdown=_fit(head, items, "initiative", tail),
    )


def _attention(item: AttentionItem) -> str:
    ref = item.item
    name = canvas_escape(f"{ref.department.name} #{ref.number}")
    text = canvas_escape(excerpt(ref.text, TEXT_CHARS))
    status = look(item.status).label
    if item.stale:
        status += f" · no progress since {period_label(item.stale_since or item.period)}"
    elif item.since is not None and item.since != item.period:
        status += f" since {period_label(item.since)}"
    line = f"- {status} · **{name}** — {text}"
    if item.note.strip():
        line += f": “{canvas_escape(excerpt(item.note, NOTE_CHARS))}”"
    return line


def render_plan_canvas(content: DigestContent, plan_name: str, timezone: str) -> CanvasDocument:
    """The plan as the weekly digest saw it: totals, each goal's counts by status and how many
    of its departments reported, what needs attention, and who has not reported."""
    head = [
        f"**{period_label(content.period)}** · as of the digest of "
        f"{day(content.until, timezone)} · {counts_in_words(content.totals)} — "
        f"{plural(content.totals.total, 'initiative')}",
        "",
        canvas_escape(response_words(content.response)) + ".",
    ]
    for group, lines in content.goals.by_group():
        head += ["", f"## {canvas_escape(group)}"]
        for line in lines:
            counts = counts_in_words(line.counts) or "no initiatives"
            reported = departments_reported(line.departments_reported, line.departments)
            head.append(f"- **{canvas_escape(line.goal.short_name)}**: {counts} · {reported}")
    tail: list[str] = []
    if content.response.missing:
        names = ", ".join(canvas_escape(d.name) for d in content.response.missing)
        tail = ["", f"## Not reported for {period_label(content.period)}", names]
    attention = [_attention(a) for a in content.attention[:MOST_ATTENTION]]
    left = len(content.attention) - len(attention)
    if left:
        attention.append(f"…and {plural(left, 'more item')}: `/plan off track`, `/plan at risk`.")
    head += ["", "## Needs attention"]
    if not attention:
        attention = ["Nothing is off track, at risk or stale."]
    return CanvasDocument(
        title=f"{excerpt(plan_name, 100)} — the plan at a glance",
        markdown=_fit(head, attention, "item", tail),
    )
