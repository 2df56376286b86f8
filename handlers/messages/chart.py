"""The digest's chart images: status by goal and the status trend, as PNG bytes.

Pure functions from typed query results to PNG bytes; no Slack, no SQL. Drawn with matplotlib's
object API and the Agg canvas (never pyplot), so rendering needs no display and is safe to run
from several threads; of matplotlib's global settings it changes one, once, at import: text is
drawn unhinted (see `_UNHINTED`). Every status is told apart twice, by
its colour from the one status vocabulary — the colour of its emoji in the text (✅ green) — and
by a hatch pattern, so the chart still reads in greyscale and for colour-blind readers. Emoji
are missing from matplotlib's fonts, so the legend uses the status words.

Status by goal draws each goal's bar as shares of its own initiatives (with the counts written
in), so a small goal's red is as visible as a large one's; goals are labelled with the plan
file's short names, wrapped, never cut. The trend draws each month as every initiative's status
at its end — the digest's own reading — so the text and the chart give the same figures; the
month still being reported is drawn faded and labelled so, never as a drop.
"""

from __future__ import annotations

import struct
import textwrap
import zlib
from collections.abc import Sequence, Set
from dataclasses import dataclass
from typing import Any

import matplotlib
import numpy as np
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import PathCollection
from matplotlib.colors import to_hex, to_rgb
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.path import Path
from matplotlib.ticker import FixedLocator, MaxNLocator, PercentFormatter
from matplotlib.transforms import Affine2D, ScaledTranslation

from handlers.chart_process import MAX_MEASURE_PANELS as MAX_MEASURE_PANELS
from handlers.chart_process import ChartPart, assemble_charts
from handlers.chart_process import DigestCharts as DigestCharts  # where it was defined first
from handlers.messages.measure_words import number, plain_amount
from models.digest_content import DigestFigures, MeasureAttention, MeasureDigest
from models.measure_status import Aggregation, Judged
from models.periods import period_label
from models.queries import GoalLine, GoalRef, GoalsOverview, StatusCounts
from models.status import DISPLAY_ORDER, Status, look

FONT = "DejaVu Sans"  # matplotlib's bundled default: present wherever matplotlib is
# Glyphs drawn from the font's outlines as they are, without FreeType's hinting (matplotlib's
# default hints every glyph of every string anew, and text is a third of a chart's drawing).
# At the charts' 110 dpi the text reads the same (compared at 2×; words come out a pixel or
# two wider); a Large digest's three charts, ~1,800 glyphs, draw ~17% sooner. Read by Agg
# whenever it draws text, so it is set for the process: the bot draws nothing else.
_UNHINTED = "none"
matplotlib.rcParams["text.hinting"] = _UNHINTED
DPI = 110
WIDTH_IN = 10.0
MAX_GOALS = 25  # more bars than this stop being readable in a Slack preview
MAX_PERIODS = 6
GOAL_LABEL_WIDTH = 22  # characters per line of a goal's label; longer names wrap

HATCHES: dict[Status | None, str] = {
    Status.COMPLETE: "..",
    Status.ON_TRACK: "//",
    Status.AT_RISK: "\\\\",
    Status.OFF_TRACK: "xx",
    Status.NOT_STARTED: "--",
    None: "",  # no update: an empty outlined box, the one status with nothing in it
}

_INK = "#222222"
_MUTED = "#555555"
_GRID = "#e3e3e3"

# Fixed margins (inches) keep the plotting area a known size, so a segment's width in inches,
# and so whether its count fits inside it, is known before drawing.
_BAR_LEFT_IN = 2.4
_BAR_RIGHT_IN = 0.35
_BAR_TOP_IN = 0.8  # title and legend
_BAR_BOTTOM_IN = 0.65  # tick labels and axis label
_FOOTNOTE_IN = 0.25
_ROW_IN = 0.42
_LABEL_LINE_IN = 0.16  # a wrapped label's line
_TREND_HEIGHT_IN = 4.8
_TREND_LEFT_IN = 0.8
_TREND_BOTTOM_IN = 0.55


@dataclass(frozen=True)
class _Style:
    fill: str
    edge: str  # also the hatch colour: matplotlib draws hatches in the edge colour
    ink: str  # the colour of a count written on the fill
    hatch: str


TREND_TITLE = "Status at the end of each month"
_REPORTING = "still reporting"
_FADED = 0.45  # the opacity of the month still being reported


def render_charts(figures: DigestFigures, period: str) -> DigestCharts:
    """The digest's charts for the open `period` (YYYY-MM): status by goal, the trend, and the
    measures off target against their targets when there are any."""
    measures = figures.measures
    return assemble_charts(
        by_goal_part(figures.goals, period),
        trend_part(figures.trend, period),
        measures_part(measures.shown(MAX_MEASURE_PANELS), len(measures.attention), period),
    )


# The three parts of `render_charts`, each drawn on its own as soon as its figures are in (in
# the chart process: handlers/chart_process.py), then put together by `assemble_charts`.


def by_goal_part(goals: GoalsOverview, period: str) -> ChartPart:
    label = period_label(period)
    return (
        render_status_by_goal(goals, f"Status by goal — {label}"),
        f"Status by goal, {label}",
        "",
    )


def trend_part(trend: Sequence[tuple[str, StatusCounts]], period: str) -> ChartPart:
    png = render_trend([p for p, _ in trend], [c for _, c in trend], TREND_TITLE, reporting=period)
    return png, f"{TREND_TITLE}, the last six months", ""


def measures_part(shown: MeasureDigest, listed: int, period: str) -> ChartPart:
    """The measures' chart from the first MAX_MEASURE_PANELS of the `listed` measures off
    target (`shown`: all that the chart draws, so that only they are sent to the process)."""
    label = period_label(period)
    attention = shown.attention
    return (
        render_measures_chart(shown, f"Measures off target — {label}", listed=listed)
        if attention
        else None,
        f"Measures off target against their targets, {label}",
        measures_alt_text(attention, label, listed=listed) if attention else "",
    )


def _mix(colour: str, towards: tuple[float, float, float], share: float) -> tuple[float, ...]:
    return tuple(c + (t - c) * share for c, t in zip(to_rgb(colour), towards, strict=True))


def _luminance(colour: str) -> float:
    def channel(c: float) -> float:
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in to_rgb(colour))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def _style(status: Status | None) -> _Style:
    fill = look(status).colour
    # Whichever of black and white contrasts more with the fill (WCAG contrast ratio).
    on_white = 1.05 / (_luminance(fill) + 0.05)
    on_black = (_luminance(fill) + 0.05) / 0.05
    red, green, blue = _mix(fill, (0, 0, 0), 0.4)[:3]
    edge = to_hex((red, green, blue))
    return _Style(fill, edge, "#ffffff" if on_white > on_black else "#000000", HATCHES[status])


def _plain(text: str) -> str:
    """Text as typed: a "$" must not switch matplotlib into math mode."""
    return text.replace("$", r"\$")


def goal_label(goal: GoalRef) -> str:
    """A goal's short name (the plan file's, else its name), wrapped whole: never cut off."""
    return "\n".join(textwrap.wrap(" ".join(goal.short_name.split()), GOAL_LABEL_WIDTH))


def _short_period(period: str) -> str:
    """'2026-10' → 'Oct 2026'."""
    month, year = period_label(period).rsplit(" ", 1)
    return f"{month[:3]} {year}"


def _figure(height_in: float) -> Figure:
    return Figure(figsize=(WIDTH_IN, height_in), dpi=DPI, facecolor="white")


def _png(figure: Figure) -> bytes:
    """The figure as an RGB PNG, written here from the canvas's pixels. Every chart is drawn
    opaque on white, so the alpha channel the canvas keeps says nothing and is left out. Each
    row goes unfiltered, through zlib's fastest level: a chart is large runs of one colour,
    which zlib packs as well as a filtered row. Pillow's encoder tried the five PNG filters on
    every row and took twice as long for a larger file (status by goal on the Large plan:
    33 → 15 ms, 247 → 211 kB). Nothing else goes in (no time, no software's name): the same
    data gives the same bytes."""
    canvas = FigureCanvasAgg(figure)
    canvas.draw()  # type: ignore[no-untyped-call]  # no stub types
    width, height = canvas.get_width_height()
    rgba = np.asarray(canvas.buffer_rgba())  # type: ignore[no-untyped-call]  # no stub types
    rows = np.zeros((height, 1 + 3 * width), dtype=np.uint8)  # each row: filter 0, its pixels
    rows[:, 1:] = rgba[:, :, :3].reshape(height, 3 * width)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB, not interlaced
    return b"".join(
        (
            _PNG_SIGNATURE,
            _png_chunk(b"IHDR", header),
            _png_chunk(b"IDAT", zlib.compress(rows.data, 1)),
            _png_chunk(b"IEND", b""),
        )
    )


_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _title(figure: Figure, title: str) -> None:
    """A chart's title, at its top left."""
    figure.text(
        0.2 / figure.get_figwidth(),
        1 - 0.15 / figure.get_figheight(),
        _plain(title),
        ha="left",
        va="top",
        fontsize=14,
        fontweight="bold",
        color=_INK,
        fontfamily=FONT,
    )


def _header(figure: Figure, title: str) -> None:
    """The title, then the legend with every status, so the key is the same every week."""
    height = figure.get_figheight()
    _title(figure, title)
    handles = []
    for status in DISPLAY_ORDER:
        style = _style(status)
        handles.append(
            Patch(
                facecolor=style.fill,
                edgecolor=style.edge,
                hatch=style.hatch,
                linewidth=0.8,
                label=look(status).word,
            )
        )
    figure.legend(
        handles=handles,
        loc="upper left",
        bbox_to_anchor=(0.2 / WIDTH_IN, 1 - 0.45 / height),
        ncol=len(handles),
        frameon=False,
        prop={"family": FONT, "size": 10},
        handlelength=2.2,
        handleheight=1.1,
        columnspacing=1.6,
        borderaxespad=0,
        borderpad=0,
    )


def _axes(figure: Figure, left_in: float, right_in: float, top_in: float, bottom_in: float) -> Axes:
    width, height = figure.get_figwidth(), figure.get_figheight()
    ax = figure.add_axes(
        (
            left_in / width,
            bottom_in / height,
            1 - (left_in + right_in) / width,
            1 - (top_in + bottom_in) / height,
        )
    )
    ax.tick_params(labelfontfamily=FONT, labelsize=9, colors=_MUTED, length=0)
    ax.tick_params(labelcolor=_INK)
    for side in ("top", "right", "left", "bottom"):
        ax.spines[side].set_visible(False)
    ax.set_axisbelow(True)
    return ax


def _tick_labels(
    figure: Figure,
    ax: Axes,
    axis: str,
    at: Sequence[float],
    labels: Sequence[str],
    size: float,
    *,
    headings: Set[int] = frozenset(),
    grid: float | None = None,
) -> None:
    """Labels where matplotlib puts an axis's tick labels — under the axes, centred, for "x";
    left of it, right-aligned, for "y" — written as text of their own, with no ticks: a tick is
    five artists (three lines, two texts), and the charts draw no tick marks. The same pixels
    as tick labels (compared pixel for pixel), with a tenth less drawing for status by goal and
    for the measures. `headings`: indices written in bold, muted. `grid`: the width of a grid
    line drawn across the axes at each label, below everything else, as a tick's would be."""
    if axis == "x":
        ax.set_xticks([])
        along = ax.get_xaxis_transform()  # x in data, y across the axes
        pad = ScaledTranslation(
            0, -matplotlib.rcParams["xtick.major.pad"] / 72, figure.dpi_scale_trans
        )
        where: dict[str, Any] = {"ha": "center", "va": "top"}
    else:
        ax.set_yticks([])
        along = ax.get_yaxis_transform()  # y in data, x across the axes
        pad = ScaledTranslation(
            -matplotlib.rcParams["ytick.major.pad"] / 72, 0, figure.dpi_scale_trans
        )
        where = {"ha": "right", "va": "center_baseline"}
    place = along + pad
    for index, (position, label) in enumerate(zip(at, labels, strict=True)):
        if grid is not None:
            across = (
                ([position, position], [0, 1]) if axis == "x" else ([0, 1], [position, position])
            )
            ax.add_line(
                Line2D(
                    *across,
                    color=_GRID,
                    linewidth=grid,
                    transform=along,
                    zorder=0.5,
                )
            )
        heading = index in headings
        x, y = (position, 0.0) if axis == "x" else (0.0, position)
        ax.text(
            x,
            y,
            label,
            transform=place,
            fontsize=size,
            fontfamily=FONT,
            fontweight="bold" if heading else "normal",
            color=_MUTED if heading else _INK,
            clip_on=False,
            **where,
        )


class _CountLabels(Artist):
    """Every count written on a chart's segments, as one artist: each count's digits, centred
    on its segment, on a patch of the segment's plain fill so that the hatch does not run
    through them. A `Text` per count (with its own layout and box patch) was a third of the
    status-by-goal chart's drawing time; this draws the same glyphs with the renderer's own
    text call, each distinct count measured once."""

    zorder = 3  # above the segments, as text is

    def __init__(self, ax: Axes) -> None:
        super().__init__()
        self._ax = ax
        self._font = FontProperties(family=FONT, size=_COUNT_POINTS, weight="bold")
        self._labels: list[tuple[float, float, str, _Style]] = []
        ax.add_artist(self)

    def add(self, x: float, y: float, count: int, style: _Style) -> None:
        """A count at (x, y) in data units."""
        self._labels.append((x, y, str(count), style))

    def draw(self, renderer: Any) -> None:
        if not self.get_visible() or not self._labels:
            return
        pad = renderer.points_to_pixels(_COUNT_PAD * _COUNT_POINTS)
        _, canvas_height = renderer.get_canvas_width_height()
        sizes: dict[str, tuple[float, float, float]] = {}
        centres = self._ax.transData.transform([(x, y) for x, y, _, _ in self._labels])
        gc = renderer.new_gc()
        gc.set_linewidth(0)
        for (x, y), (_, _, text, style) in zip(centres, self._labels, strict=True):
            size = sizes.get(text)
            if size is None:
                size = sizes[text] = renderer.get_text_width_height_descent(
                    text, self._font, ismath=False
                )
            width, height, descent = size
            box = Affine2D().scale(width + 2 * pad, height + 2 * pad)
            box.translate(x - width / 2 - pad, y - height / 2 - pad)
            renderer.draw_path(gc, _UNIT_SQUARE, box, to_rgb(style.fill))
            gc.set_foreground(style.ink)
            # The digits' ink centred on the segment; the renderer's y runs downwards.
            baseline = y - height / 2 + descent
            renderer.draw_text(gc, x - width / 2, canvas_height - baseline, text, self._font, 0)
        gc.restore()
        self.stale = False


_COUNT_POINTS = 9
_COUNT_PAD = 0.12  # the plain patch around a count's digits, as a share of the font size
_UNIT_SQUARE = Path.unit_rectangle()


_Box = tuple[float, float, float, float]  # x0, y0, x1, y1 in data units


def _draw_segments(
    ax: Axes, boxes: dict[Status | None, list[_Box]], *, alpha: float | None = None
) -> None:
    """Every segment of a status as one path of many rectangles, in a collection of its own: one
    artist per status, and one hatch pattern drawn for all of them (Agg draws a hatch's tile
    anew for each path it fills). A `bar` call per segment made an artist each, and that was
    most of a chart's drawing time."""
    for status, rectangles in boxes.items():
        style = _style(status)
        ax.add_collection(
            PathCollection(
                [
                    Path.make_compound_path_from_polys(
                        np.array(
                            [
                                [(x0, y0), (x0, y1), (x1, y1), (x1, y0)]
                                for x0, y0, x1, y1 in rectangles
                            ]
                        )
                    )
                ],
                facecolors=style.fill,
                edgecolors=style.edge,
                hatchcolors="edge",
                hatch=style.hatch or None,
                linewidths=0.8,
                alpha=alpha,
            ),
            autolim=False,  # the limits are set beforehand
        )


def _fits_across(count: int, width_in: float) -> bool:
    """Whether a count's digits fit across a segment `width_in` wide."""
    return width_in >= len(str(count)) * 0.075 + 0.12


def _footnote(figure: Figure, text: str, bottom_in: float) -> None:
    """A line of small italics at the figure's foot, `bottom_in` inches from the bottom."""
    figure.text(
        0.2 / figure.get_figwidth(),
        bottom_in / figure.get_figheight(),
        text,
        ha="left",
        va="bottom",
        fontsize=9,
        style="italic",
        color=_MUTED,
        fontfamily=FONT,
    )


def _empty_note(ax: Axes, text: str) -> None:
    ax.text(
        0.5,
        0.5,
        text,
        transform=ax.transAxes,
        ha="center",
        va="center",
        fontsize=13,
        color=_MUTED,
        fontfamily=FONT,
    )


def render_status_by_goal(overview: GoalsOverview, title: str) -> bytes:
    """A bar per goal, under its group (the plan's groups in order, its main goals first): the
    shares of the goal's initiatives at each status (so a small goal's off-track share shows as
    plainly as a large one's) on a percent axis, each segment with its count where there is
    room, the goal's count of initiatives at the end. PNG bytes.

    With more than MAX_GOALS goals the first ones are drawn and a footnote says how many more
    there are, so the image stays readable and well under a megabyte."""
    ordered = [line for _, lines in overview.by_group() for line in lines]
    shown, hidden = ordered[:MAX_GOALS], len(ordered) - MAX_GOALS
    grouped = len({line.goal.group_position for line in shown}) > 1

    rows: list[GoalLine | str] = []  # a str is a group heading
    for line in shown:
        if grouped and (not rows or _group(rows[-1]) != line.goal.group_position):
            rows.append(line.goal.group)
        rows.append(line)

    most_lines = max((_row_label(row).count("\n") + 1 for row in rows), default=1)
    row_in = max(_ROW_IN, _LABEL_LINE_IN * most_lines + 0.12)
    bottom_in = _BAR_BOTTOM_IN + (_FOOTNOTE_IN if hidden > 0 else 0)
    height_in = max(3.2, _BAR_TOP_IN + bottom_in + row_in * max(len(rows), 2))
    figure = _figure(height_in)
    _header(figure, title)
    ax = _axes(figure, _BAR_LEFT_IN, _BAR_RIGHT_IN + 0.4, _BAR_TOP_IN, bottom_in)
    axes_width_in = WIDTH_IN - _BAR_LEFT_IN - _BAR_RIGHT_IN - 0.4

    any_initiatives = any(line.counts.total for line in shown)
    x_max = 1.0
    ax.set_xlim(0, x_max)
    ax.set_ylim(max(len(rows), 1) - 0.5, -0.5)  # first row at the top
    _tick_labels(
        figure,
        ax,
        "y",
        range(len(rows)),
        [_row_label(row) for row in rows],
        9,
        headings={y for y, row in enumerate(rows) if isinstance(row, str)},
    )

    boxes: dict[Status | None, list[_Box]] = {}
    count_labels = _CountLabels(ax)
    half = min(0.34, 0.34 * row_in / _ROW_IN)
    for y, row in enumerate(rows):
        if isinstance(row, str):
            continue
        total = row.counts.total
        left = 0.0
        for status, count in row.counts.shown():
            share = count / total
            style = _style(status)
            boxes.setdefault(status, []).append((left, y - half, left + share, y + half))
            if _fits_across(count, share * axes_width_in):
                count_labels.add(left + share / 2, y, count, style)
            left += share
        if total:
            ax.text(
                1.01,
                y,
                str(total),
                ha="left",
                va="center",
                fontsize=9,
                color=_MUTED,
                fontfamily=FONT,
                transform=ax.transData,
                clip_on=False,
            )
    _draw_segments(ax, boxes)

    if any_initiatives:
        ax.xaxis.set_major_locator(FixedLocator([0, 0.25, 0.5, 0.75, 1.0]))
        ax.xaxis.set_major_formatter(PercentFormatter(xmax=1.0))
        ax.grid(axis="x", color=_GRID, linewidth=0.8)
        ax.set_xlabel(
            "Share of the goal's initiatives (the number at the end: how many)",
            fontsize=10,
            color=_INK,
            fontfamily=FONT,
        )
    else:
        ax.set_xticks([])
        _empty_note(ax, "No initiatives yet")

    if hidden > 0:
        _footnote(figure, f"+{hidden} more goals not shown", 0.12)
    return _png(figure)


def _group(row: GoalLine | str) -> int:
    return -1 if isinstance(row, str) else row.goal.group_position


def _row_label(row: GoalLine | str) -> str:
    """A goal's label, or a group's heading (the plan file names groups: wrapped whole too)."""
    if isinstance(row, str):
        return _plain("\n".join(textwrap.wrap(" ".join(row.split()), GOAL_LABEL_WIDTH)))
    return _plain(goal_label(row.goal))


def render_trend(
    periods: Sequence[str],
    counts: Sequence[StatusCounts],
    title: str,
    *,
    reporting: str | None = None,
) -> bytes:
    """Status counts over the last (up to) six periods, one stacked column each, oldest on the
    left; PNG bytes. `periods` are YYYY-MM, oldest first, matching `counts` one for one; the
    period `reporting` (the open one) is drawn faded and labelled as still being reported."""
    if len(periods) != len(counts):
        raise ValueError(f"{len(periods)} periods but {len(counts)} counts")
    periods, counts = list(periods)[-MAX_PERIODS:], list(counts)[-MAX_PERIODS:]
    open_column = periods.index(reporting) if reporting in periods else None

    bottom_in = _TREND_BOTTOM_IN + (_FOOTNOTE_IN if open_column is not None else 0)
    figure = _figure(_TREND_HEIGHT_IN)
    _header(figure, title)
    ax = _axes(figure, _TREND_LEFT_IN, _BAR_RIGHT_IN, _BAR_TOP_IN, bottom_in + 0.2)
    axes_height_in = _TREND_HEIGHT_IN - _BAR_TOP_IN - bottom_in - 0.2

    # At least four slots wide, centred, so one or two periods do not become slabs.
    slots = max(len(periods), 4)
    offset = (slots - len(periods)) / 2
    ax.set_xlim(-0.5, slots - 0.5)
    labels = [_short_period(p) for p in periods]
    if open_column is not None:
        labels[open_column] += f"\n({_REPORTING})"
    _tick_labels(figure, ax, "x", [offset + i for i in range(len(periods))], labels, 10)

    most = max((c.total for c in counts), default=0)
    y_max = most * 1.1 if most else 1.0
    ax.set_ylim(0, y_max)
    boxes: dict[Status | None, list[_Box]] = {}
    count_labels = _CountLabels(ax)
    faded: dict[Status | None, list[_Box]] = {}
    for i, period_counts in enumerate(counts):
        x = offset + i
        bottom = 0
        for status, count in period_counts.shown():
            style = _style(status)
            box = (x - 0.3, bottom, x + 0.3, bottom + count)
            (faded if i == open_column else boxes).setdefault(status, []).append(box)
            if count / y_max * axes_height_in >= 0.2:  # a line of 9 pt digits
                count_labels.add(x, bottom + count / 2, count, style)
            bottom += count
        if bottom:
            ax.text(
                x,
                bottom + y_max * 0.01,
                str(bottom),
                ha="center",
                va="bottom",
                fontsize=9,
                color=_MUTED,
                fontfamily=FONT,
            )
    _draw_segments(ax, boxes)
    _draw_segments(ax, faded, alpha=_FADED)
    if open_column is not None:
        _footnote(
            figure,
            f"Each month: every initiative's latest status at its end. "
            f"{period_label(periods[open_column])} is still being reported: initiatives not yet "
            "updated show their last status.",
            0.1,
        )

    if most:
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(axis="y", color=_GRID, linewidth=0.8)
        ax.set_ylabel("Initiatives", fontsize=10, color=_INK, fontfamily=FONT)
    else:
        ax.set_yticks([])
        _empty_note(ax, "No updates yet" if periods else "No periods yet")
    return _png(figure)


# --- measures off target: small multiples, the actual against the target ---------------------

ALT_TEXT = 1000  # Slack's limit for a file's alt text
_PANEL_COLUMNS = 3
_PANEL_WIDTH_IN = 3.6
_PANEL_IN = 2.6  # a panel's height, its title included
_PANEL_TITLE_IN = 0.6
_PANEL_TOP_IN = 0.75  # the chart's title and key
_MEASURE_LABEL_WIDTH = 30
_ACTUAL = "#1f1f1f"
_TARGET = "#5f5f5f"


def render_measures_chart(
    measures: MeasureDigest, title: str, *, listed: int | None = None
) -> bytes:
    """One small panel per measure off target (the first MAX_MEASURE_PANELS, worst first): its
    figure each period as a solid line with dots, its target as a dashed line labelled with the
    value, both in dark greys so that the chart reads in greyscale; each panel titled with the
    measure's name, its status word and the direction that is better. Sums and averages are
    drawn year to date, as they are judged. PNG bytes. `listed`: how many measures the digest
    lists, when `measures` holds only the first of them."""
    attention = measures.attention
    listed = len(attention) if listed is None else listed
    shown, hidden = list(attention[:MAX_MEASURE_PANELS]), listed - MAX_MEASURE_PANELS
    columns = min(_PANEL_COLUMNS, max(len(shown), 1))
    rows = -(-len(shown) // columns) if shown else 1
    width_in = max(columns * _PANEL_WIDTH_IN, 6.0)
    footnote_in = _FOOTNOTE_IN if hidden > 0 else 0.0
    height_in = _PANEL_TOP_IN + rows * _PANEL_IN + footnote_in
    figure = Figure(figsize=(width_in, height_in), dpi=DPI, facecolor="white")
    _title(figure, title)
    figure.legend(
        handles=[
            Line2D([], [], color=_ACTUAL, linewidth=2, marker="o", markersize=4, label="actual"),
            Line2D([], [], color=_TARGET, linewidth=1.6, linestyle=(0, (5, 3)), label="target"),
        ],
        loc="upper left",
        bbox_to_anchor=(0.2 / width_in, 1 - 0.48 / height_in),
        ncol=2,
        frameon=False,
        prop={"family": FONT, "size": 10},
        borderaxespad=0,
        borderpad=0,
    )
    panel_width = width_in / columns
    for index, item in enumerate(shown):
        row, column = divmod(index, columns)
        # Each panel: its title (up to three lines) above, the month labels below.
        left_in = column * panel_width + 0.7
        bottom_in = footnote_in + (rows - 1 - row) * _PANEL_IN + 0.35
        ax = figure.add_axes(
            (
                left_in / width_in,
                bottom_in / height_in,
                (panel_width - 0.95) / width_in,
                (_PANEL_IN - 0.35 - _PANEL_TITLE_IN) / height_in,
            )
        )
        _measure_panel(figure, ax, item, measures.series(item))
    if hidden > 0:
        _footnote(figure, f"+{hidden} more measures off target: the digest lists them all", 0.08)
    return _png(figure)


def _measure_panel(figure: Figure, ax: Axes, item: MeasureAttention, series: list[Judged]) -> None:
    view, judged = item.measure, item.judged
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    for side in ("left", "bottom"):
        ax.spines[side].set_color(_GRID)
    name = "\n".join(textwrap.wrap(" ".join(view.name.split()), _MEASURE_LABEL_WIDTH)[:2])
    ytd = view.rule.aggregation is not Aggregation.LATEST
    ax.set_title(
        _plain(
            f"{name}\n{judged.status.word} · {view.direction.words}"
            + (" · year to date" if ytd else "")
        ),
        loc="left",
        y=1.0,  # where matplotlib puts it, told: else it measures every tick label to find out
        fontsize=9,
        color=_INK,
        fontfamily=FONT,
    )
    series = [j for j in series if j.figure is not None]
    if not series:
        ax.set_xticks([])
        ax.set_yticks([])
        _empty_note(ax, "No figures yet")
        return
    xs = list(range(len(series)))
    figures = [j.figure for j in series if j.figure is not None]
    ax.plot(xs, figures, color=_ACTUAL, linewidth=2, marker="o", markersize=4, zorder=3)
    targets = [j.target for j in series]
    known = [t for t in targets if t is not None]
    if known:
        # A step line: a target holds for its period (a new fiscal year may move it).
        ax.step(
            xs,
            [float("nan") if t is None else t for t in targets],
            where="mid",
            color=_TARGET,
            linewidth=1.6,
            linestyle=(0, (5, 3)),
            zorder=2,
        )
        last_target = next(t for t in reversed(targets) if t is not None)
        ax.annotate(
            _plain(f"target {plain_amount(last_target, view.unit)}"),
            (xs[-1], last_target),
            xytext=(0, 4),
            textcoords="offset points",
            ha="right",
            va="bottom",
            fontsize=8,
            color=_TARGET,
            fontfamily=FONT,
        )
    ax.annotate(
        _plain(plain_amount(figures[-1], view.unit)),
        (xs[-1], figures[-1]),
        xytext=(5, 0),
        textcoords="offset points",
        ha="left",
        va="center",
        fontsize=8,
        fontweight="bold",
        color=_ACTUAL,
        fontfamily=FONT,
    )
    low, high = min([*figures, *known]), max([*figures, *known])
    pad = (high - low) * 0.25 or abs(high) * 0.1 or 1.0
    bottom, top = low - pad, high + pad
    ax.set_ylim(bottom, top)
    # Up to five round values, those within the limits (to a hair, as matplotlib keeps a tick).
    close = (top - bottom) * 1e-10
    values = [
        float(v)
        for v in MaxNLocator(nbins=4).tick_values(bottom, top)
        if bottom - close <= v <= top + close
    ]
    _tick_labels(
        figure, ax, "y", values, [number(v, whole=abs(v) >= 100) for v in values], 8, grid=0.6
    )
    # Room on the right for the last figure's label, written beside its point.
    ax.set_xlim(-0.5, max(len(xs) - 1, 3) + 0.4 + 0.12 * len(plain_amount(figures[-1], view.unit)))
    step = max(1, -(-len(xs) // 4))
    ticks = xs[::-1][::step][::-1]
    _tick_labels(figure, ax, "x", ticks, [_short_period(series[i].period) for i in ticks], 8)


def measures_alt_text(
    attention: Sequence[MeasureAttention], label: str, *, listed: int | None = None
) -> str:
    """The chart in words, for a screen reader: each measure shown with its figure, target and
    status; at most Slack's limit. `listed` as for `render_measures_chart`."""
    listed = len(attention) if listed is None else listed
    said = []
    for item in attention[:MAX_MEASURE_PANELS]:
        view, judged = item.measure, item.judged
        figure = plain_amount(judged.figure, view.unit)
        target = plain_amount(judged.target, view.unit)
        said.append(
            f"{' '.join(view.name.split())}: {figure} against a target of {target} "
            f"({judged.status.word}, {view.direction.words})"
        )
    text = f"Measures off target, {label}, each against its target. " + "; ".join(said) + "."
    if listed > MAX_MEASURE_PANELS:
        text += f" {listed - MAX_MEASURE_PANELS} more are listed in the digest."
    return text if len(text) <= ALT_TEXT else text[: ALT_TEXT - 1] + "…"
