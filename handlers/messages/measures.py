"""Block Kit for measures in `/plan` answers: a goal's measures under its initiatives, every
measure worst first (`/plan measures`), one measure in full (`/plan measure 311`).

Each measure is judged as it stands at the open period: at the last period it has a value for
(a quarterly measure between quarters, a monthly one not yet reported), shown with that
period's month when it is not the open one."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from handlers.messages.layout import (
    UNLIMITED,
    Lines,
    Message,
    Part,
    command,
    context,
    header,
    message,
    month_name,
    more,
    plural,
    section,
)
from handlers.messages.measure_words import (
    amount,
    direction_words,
    legend,
    measure_line,
    sparkline,
)
from handlers.messages.text import escape, escaped_excerpt
from models.digest_content import MeasureAttention
from models.measure_status import (
    SEVERITY,
    Aggregation,
    Frequency,
    Judged,
    MeasureStatus,
    fiscal_label,
)
from models.measures import MeasureView
from models.periods import period_label

# Lists read a year: six values of a monthly measure's trend, four of a quarterly one, the
# fiscal year to date, and an annual measure's last value.
TREND_MONTHS = 12
DETAIL_MONTHS = 24  # `/plan measure`: two years read, the last twelve values listed
DETAIL_PERIODS = 12
_DESCRIPTION = 600

SOURCES = {
    "form": "the form",
    "thread": "a thread reply",
    "file": "a file",
    "api": "the city's systems (API)",
    "fetch": "its data source",
    "import": "sample data",
}


@dataclass(frozen=True)
class MeasureBoard:
    """Measures with what judging them needs: the open period, the months read (oldest
    first, ending with it) and the fiscal year's first month."""

    views: Sequence[MeasureView]
    period: str
    periods: Sequence[str]
    start_month: int
    # Each view judged once: the order, the counts and the lines all ask.
    _judged: dict[int, Judged] = field(default_factory=dict, compare=False, repr=False)

    def judged(self, view: MeasureView) -> Judged:
        found = self._judged.get(view.id)
        if found is None:
            found = self._judged[view.id] = view.status(self.period, self.start_month)
        return found

    def worst_first(self) -> list[tuple[MeasureView, Judged]]:
        rank = {s: i for i, s in enumerate(SEVERITY)}
        judged = [(v, self.judged(v)) for v in self.views]
        return sorted(judged, key=lambda pair: (rank[pair[1].status], pair[0].position))

    def line(self, view: MeasureView, judged: Judged) -> str:
        shown = measure_line(view, judged, self.periods)
        if judged.status is not MeasureStatus.NO_DATA and judged.period != self.period:
            shown += f" · {month_name(judged.period)}"
        return shown

    @property
    def sample(self) -> bool:
        return any(v.sample for v in self.views)


def attention_measure_line(a: MeasureAttention, periods: Sequence[str], period: str) -> str:
    """A measure in the digest: '✗ Missed · *311 response time* · 3.1 days vs 2.5 target ·
    ▃▄▆▇ ↓ · Public Works · was ≈ Near' — its month when its last figure is older than the
    open period's, and how it stood at the previous digest when that was better."""
    line = measure_line(a.measure, a.judged, periods)
    if a.judged.period != period:
        line += f" · {month_name(a.judged.period)}"
    if a.measure.department_name:
        line += f" · {escape(a.measure.department_name)}"
    if a.before is not None and a.got_worse:
        if a.before.status is not a.judged.status:
            line += f" · was {a.before.status.label}"
        else:
            line += f" · worse than {amount(a.before.figure, a.measure.unit)}"
    return line


def counts_line(board: MeasureBoard) -> str:
    """'✗ 2 missed · ≈ 1 near · ✓ 5 met' — worst first, statuses with none left out."""
    counts: dict[MeasureStatus, int] = {}
    for view in board.views:
        status = board.judged(view).status
        counts[status] = counts.get(status, 0) + 1
    return " · ".join(f"{s.symbol} {counts[s]} {s.word.lower()}" for s in SEVERITY if s in counts)


# No message shows more lines than this: 11,000 characters, and a measure's line is longer than
# 40. A plan of thousands of measures writes only the lines that could be shown.
LISTED_AT_MOST = 300


def listed(board: MeasureBoard, closing: Callable[[int], str], *, title: str = "") -> Lines:
    """The board's measures worst first, as many as a message can show, and the rest counted."""
    ranked = board.worst_first()
    shown = ranked[:LISTED_AT_MOST]
    beyond = len(ranked) - len(shown)
    return Lines(
        title=title,
        lines=[board.line(v, j) for v, j in shown],
        more=lambda n: closing(n + beyond),
        most_lines=len(shown) - 1 if beyond else UNLIMITED,
    )


SAMPLE_NOTE = "Sample measures with made-up figures, for trying Plan Bot: not the city's numbers."


def measures_part(board: MeasureBoard, *, title: str = "*Measures*") -> list[Part]:
    """A goal's or a department's measures, worst first, for its answer; nothing when none."""
    if not board.views:
        return []
    parts: list[Part] = [
        listed(
            board,
            more("measures", f"see {command('measures')}"),
            title=f"{title} ({len(board.views)}) — {counts_line(board)}",
        )
    ]
    if board.sample:
        parts.append(context(SAMPLE_NOTE))
    return parts


def render_measures(board: MeasureBoard) -> Message:
    """`/plan measures`: every measure of the plan, missed first."""
    label = period_label(board.period)
    parts: list[Part] = [header(f"Measures — {label}")]
    if not board.views:
        text = "The plan has no measures yet: an admin adds them with `planbot measures define`."
        return message(text, [*parts, section(text)])
    parts += [
        context(f"{plural(len(board.views), 'measure')} · {counts_line(board)}", legend()),
        listed(board, more("measures", f"type {command('measure', '<name>')} for one")),
    ]
    if board.sample:
        parts.append(context(SAMPLE_NOTE))
    parts.append(context(f"{command('measure', '<name>')} shows one measure in full."))
    fallback = f"Measures — {label}: {counts_line(board)}"
    return message(fallback, parts)


def render_measure(board: MeasureBoard, view: MeasureView, goal_names: Sequence[str]) -> Message:
    """`/plan measure 311`: what it is, who owns it, its targets and its last year of values."""
    judged = board.judged(view)
    facts = [
        f"Unit: {escape(view.unit)}",
        direction_words(view.direction),
        _frequency_words(view.rule.frequency, view.rule.aggregation),
        f"Near: within {view.rule.band * 100:g}% of target",
    ]
    owner = (
        f"Owned by *{escape(view.department_name)}* ({command(view.department_key)})"
        if view.department_name and view.department_key
        else "No department owns it"
    )
    parts: list[Part] = [header(view.name), context(" · ".join(facts))]
    if view.description:
        parts.append(section(escaped_excerpt(view.description, _DESCRIPTION)))
    serves = f"Serves {', '.join(escape(g) for g in goal_names)}" if goal_names else ""
    parts.append(section("\n".join(p for p in (owner, serves) if p)))
    parts.append(section(f"*Now:* {board.line(view, judged)}"))
    if view.targets:
        targets = [
            f"{scope}: {amount(value, view.unit)}"
            for scope, value in sorted(view.targets.items(), key=lambda t: _scope_order(t[0]))
        ]
        parts.append(section("*Targets* · " + " · ".join(targets)))
    if view.baseline is not None:
        since = f" ({month_name(view.baseline_period)})" if view.baseline_period else ""
        parts.append(context(f"Baseline: {amount(view.baseline, view.unit)}{since}"))
    recent = [p for p in board.periods[-DETAIL_PERIODS:] if p in view.latest]
    if recent:
        lines = []
        for period in reversed(recent):
            at = view.judged(period, board.start_month)
            latest = view.latest[period]
            row = (
                f"{month_name(period)} {period[:4]} ({fiscal_label(period, board.start_month)}) · "
                f"{amount(latest.value, view.unit)} · {at.status.label}"
            )
            if view.rule.aggregation is not Aggregation.LATEST and at.figure is not None:
                row += f" · {amount(at.figure, view.unit)} YTD"
            row += f" · from {SOURCES.get(latest.source, escape(latest.source))}"
            if latest.note:
                row += f"\n> {escaped_excerpt(latest.note, 200)}"
            lines.append(row)
        values = [view.values.get(p) for p in recent]
        parts.append(
            Lines(
                title=f"*Last {plural(len(recent), 'value')}* {sparkline(values)}",
                lines=lines,
                more=more("values"),
            )
        )
    else:
        parts.append(section("No values yet."))
    if view.sample:
        parts.append(context(SAMPLE_NOTE))
    fallback = f"{escape(view.name)}: {judged.status.word}"
    return message(fallback, parts)


def _frequency_words(frequency: Frequency, aggregation: Aggregation) -> str:
    read = {
        Aggregation.LATEST: "each value on its own",
        Aggregation.SUM: "judged on the fiscal year's total so far",
        Aggregation.AVERAGE: "judged on the fiscal year's average so far",
    }[aggregation]
    return f"{frequency.value.capitalize()}, {read}"


def _scope_order(scope: str) -> str:
    """Fiscal years, then periods, each in order."""
    return f"0{scope}" if scope.startswith("FY") else f"1{scope}"


def render_measure_not_found(typed: str, suggestions: Sequence[str]) -> Message:
    shown = escaped_excerpt(typed, 80)
    said = f"I couldn't find a measure called “{shown}”."
    if suggestions:
        said += (
            " Did you mean " + " or ".join(command("measure", escape(s)) for s in suggestions) + "?"
        )
    else:
        said += f" {command('measures')} lists them."
    return message(said, [section(said)])
