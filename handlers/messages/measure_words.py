"""How a measure's numbers read in any message: a value in its unit, a target, a status, a
trend as a small text sparkline — the same words on every surface (answers, prompts, the form,
threads, the digest)."""

from __future__ import annotations

from collections.abc import Sequence

from handlers.messages.text import escape
from models.measure_status import Direction, Judged, MeasureStatus
from models.measures import MeasureView

SPARKS = "▁▂▃▄▅▆▇█"
TREND_PERIODS = 6


def number(value: float, whole: bool = False) -> str:
    """1234.0 → '1,234'; 2.456 → '2.46'; 71.25 → '71.3' (two significant decimals below ten,
    one below a hundred, none above; `whole` rounds counts and dollars from 100 up), no '.0'."""
    size = abs(value)
    places = 2 if size < 10 else 1 if size < 100 and not whole else 0
    if whole and size >= 100:
        places = 0
    return f"{value:,.{places}f}".rstrip("0").rstrip(".") if places else f"{value:,.0f}"


def amount(value: float | None, unit: str) -> str:
    """A value in its unit, for mrkdwn: '71.5%', '$1,200', '2.4 days', '412' (a count), '–'
    for none."""
    return escape(plain_amount(value, unit))


def plain_amount(value: float | None, unit: str) -> str:
    """`amount` as plain text (a chart's labels, an image's alt text): nothing escaped."""
    if value is None:
        return "–"
    shown = number(value, whole=unit in ("count", "dollars"))
    if unit == "%":
        return f"{shown}%"
    if unit == "dollars":
        return f"-${shown[1:]}" if shown.startswith("-") else f"${shown}"
    if unit == "count":
        return shown
    return f"{shown} {unit}"


def unit_label(unit: str) -> str:
    """A unit as it reads after a measure's name in a label: '(%)', '(days)', '' for a count."""
    if unit == "count":
        return ""
    return f"({'$' if unit == 'dollars' else escape(unit)})"


def sparkline(values: Sequence[float | None]) -> str:
    """'▁▃▅▇' from a few values, '·' where one is missing; '' when there are none."""
    known = [v for v in values if v is not None]
    if not known:
        return ""
    low, high = min(known), max(known)
    span = high - low
    return "".join(
        "·"
        if v is None
        else SPARKS[0 if span == 0 else round((v - low) / span * (len(SPARKS) - 1))]
        for v in values
    )


def trend(view: MeasureView, periods: Sequence[str]) -> str:
    """The measure's last values over `periods` (those it is due in) as a sparkline, with the
    direction that is good: '▃▄▆▇ ↑ better'."""
    due = [p for p in periods if p in view.values or view.rule.frequency.months == 1]
    values = [view.values.get(p) for p in due][-TREND_PERIODS:]
    while values and values[0] is None:  # before its first figure: nothing to show
        values.pop(0)
    line = sparkline(values)
    return f"{line} {view.direction.arrow}" if line else ""


def status_words(judged: Judged) -> str:
    return judged.status.label


def against_target(view: MeasureView, judged: Judged) -> str:
    """'2.4 days vs 2.5 target' — the figure judged (year to date for sums and averages)."""
    figure = amount(judged.figure if judged.figure is not None else judged.actual, view.unit)
    ytd = " YTD" if view.rule.aggregation.value != "latest" and judged.figure is not None else ""
    if judged.target is None:
        return f"{figure}{ytd} (no target)"
    return f"{figure}{ytd} vs {amount(judged.target, view.unit)} target"


def direction_words(direction: Direction) -> str:
    return f"{direction.arrow} {direction.words}"


def measure_line(view: MeasureView, judged: Judged, periods: Sequence[str]) -> str:
    """'✗ Missed · *311 response time* · 3.1 days vs 2.5 target · ▃▄▆▇ ↓' — one line."""
    parts = [status_words(judged), f"*{escape(view.name)}*"]
    if judged.status is MeasureStatus.NO_DATA:
        parts.append(f"no figure yet (target {amount(judged.target, view.unit)})")
    else:
        parts.append(against_target(view, judged))
    line = trend(view, periods)
    if line:
        parts.append(line)
    return " · ".join(parts)


def legend() -> str:
    return " · ".join(s.label for s in MeasureStatus)
