"""The digest's chart images: valid PNGs of a sensible size, drawn in the vocabulary's colours."""

from __future__ import annotations

import io
from collections.abc import Callable
from functools import cache
from itertools import cycle

import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure
from matplotlib.image import imread

from handlers.messages.chart import (
    GOAL_LABEL_WIDTH,
    _png,
    goal_label,
    render_status_by_goal,
    render_trend,
)
from models.planfile import read_plan_file
from models.queries import GoalLine, GoalsOverview, StatusCounts
from models.status import DISPLAY_ORDER, Status, look
from tests.helpers import PERIOD, goal_ref

PERIODS = ["2026-05", "2026-06", "2026-07", "2026-08", "2026-09", "2026-10"]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
LEGEND_BOTTOM_PX = 90  # the title and the legend live above this line


def hartford_overview() -> GoalsOverview:
    """The bundled Hartford plan's ten goals, each initiative given a status in turn."""
    plan = read_plan_file()
    statuses = cycle(DISPLAY_ORDER)
    per_goal: dict[str, list[Status | None]] = {goal.key: [] for goal in plan.goals}
    for department in plan.departments:
        for initiative in department.initiatives:
            status = initiative.status or next(statuses)
            for key in initiative.goals:
                per_goal[key].append(status)
    return GoalsOverview(
        PERIOD,
        [
            GoalLine(goal_ref(g.key, g.name, g.kind), StatusCounts.of(per_goal[g.key]), 0)
            for g in plan.goals
        ],
    )


@cache
def many_goals_chart(count: int) -> bytes:
    return render_status_by_goal(many_goals(count), "Status by goal")


def many_goals(count: int) -> GoalsOverview:
    return GoalsOverview(
        PERIOD,
        [
            GoalLine(
                goal_ref(f"goal-{i}", f"Goal {i}: a long name that must be cut short", "city-plan"),
                StatusCounts({Status.ON_TRACK: i % 7 + 1, Status.AT_RISK: 3, None: i % 4}),
                0,
            )
            for i in range(count)
        ],
    )


def one_status_overview(status: Status | None) -> GoalsOverview:
    return GoalsOverview(
        PERIOD,
        [
            GoalLine(goal_ref(f"g{n}", f"Goal {n}", "mayor"), StatusCounts({status: n}), 0)
            for n in (12, 20, 7)
        ],
    )


def decode(data: bytes) -> np.ndarray:
    """RGB pixels as 0–255 integers, after checking the bytes are a PNG under a megabyte."""
    assert data.startswith(PNG_SIGNATURE)
    assert len(data) < 1_000_000
    pixels = imread(io.BytesIO(data), format="png")
    return np.rint(pixels[:, :, :3] * 255).astype(int)


def dominant_colour(pixels: np.ndarray) -> tuple[int, ...]:
    """The most common colour that is not (near) white."""
    flat = pixels.reshape(-1, 3)
    coloured = flat[(flat < 250).any(axis=1)]
    colours, counts = np.unique(coloured, axis=0, return_counts=True)
    return tuple(int(c) for c in colours[counts.argmax()])


def rgb255(colour: str) -> tuple[int, ...]:
    return tuple(round(c * 255) for c in to_rgb(colour))


def bar_rows(pixels: np.ndarray, colour: str) -> np.ndarray:
    """Pixel rows below the legend where a wide run of `colour` is drawn: the bars in it."""
    close = (np.abs(pixels - np.array(rgb255(colour))) <= 3).all(axis=2)
    rows = np.flatnonzero(close.sum(axis=1) > 100)
    return rows[rows > LEGEND_BOTTOM_PX]


ZERO_INITIATIVES = GoalsOverview(
    PERIOD, [GoalLine(goal_ref("safety", "Safety", "mayor"), StatusCounts(), 0)]
)


@pytest.mark.parametrize(
    ("chart", "min_height"),
    [
        (lambda: render_status_by_goal(hartford_overview(), f"Status by goal — {PERIOD}"), 600),
        (lambda: many_goals_chart(40), 1000),
        (lambda: render_status_by_goal(ZERO_INITIATIVES, "Status by goal"), 200),
        (lambda: render_status_by_goal(GoalsOverview(PERIOD, []), "Status by goal"), 200),
    ],
    ids=["hartford", "40 goals", "zero initiatives", "no goals"],
)
def test_status_by_goal_is_a_png_of_a_sensible_size(
    chart: Callable[[], bytes], min_height: int
) -> None:
    pixels = decode(chart())
    height, width = pixels.shape[:2]
    assert 800 <= width <= 2000
    assert min_height <= height <= 4000


def test_many_goals_are_capped_so_the_image_stops_growing() -> None:
    forty = decode(many_goals_chart(40))
    hundred = decode(many_goals_chart(100))
    assert forty.shape == hundred.shape


def test_zero_initiatives_draws_no_bars() -> None:
    overview = GoalsOverview(
        PERIOD,
        [GoalLine(goal_ref(f"g{n}", f"Goal {n}", "mayor"), StatusCounts(), 0) for n in range(4)],
    )
    pixels = decode(render_status_by_goal(overview, "Status by goal"))
    for status in DISPLAY_ORDER:
        assert bar_rows(pixels, look(status).colour).size == 0, look(status).word


@pytest.mark.parametrize("status", DISPLAY_ORDER, ids=lambda s: look(s).word)
def test_bars_use_the_status_colour(status: Status | None) -> None:
    pixels = decode(render_status_by_goal(one_status_overview(status), "One status"))
    expected = rgb255(look(status).colour)
    found = dominant_colour(pixels)
    assert all(abs(f - e) <= 30 for f, e in zip(found, expected, strict=True)), (found, expected)


def test_mayors_goals_are_drawn_above_city_plan_goals() -> None:
    overview = GoalsOverview(
        PERIOD,
        [
            GoalLine(
                goal_ref("parks", "Parks", "city-plan"), StatusCounts({Status.OFF_TRACK: 9}), 0
            ),
            GoalLine(goal_ref("safety", "Safety", "mayor"), StatusCounts({Status.ON_TRACK: 9}), 0),
        ],
    )
    pixels = decode(render_status_by_goal(overview, "Order"))
    mayor = bar_rows(pixels, look(Status.ON_TRACK).colour)
    city = bar_rows(pixels, look(Status.OFF_TRACK).colour)
    assert mayor.size and city.size
    assert mayor.max() < city.min()


def test_the_same_data_renders_the_same_bytes() -> None:
    overview = GoalsOverview(PERIOD, hartford_overview().goals[:3])
    assert render_status_by_goal(overview, "Status") == render_status_by_goal(overview, "Status")
    counts = [StatusCounts({Status.ON_TRACK: 4, None: 2})] * 3
    assert render_trend(PERIODS[:3], counts, "Trend") == render_trend(PERIODS[:3], counts, "Trend")


@pytest.mark.parametrize("periods", [PERIODS[-1:], PERIODS], ids=["1 period", "6 periods"])
def test_trend_is_a_png_of_a_sensible_size(periods: list[str]) -> None:
    counts = [
        StatusCounts({Status.COMPLETE: i, Status.ON_TRACK: 20 - i, Status.OFF_TRACK: 2, None: 5})
        for i in range(len(periods))
    ]
    pixels = decode(render_trend(periods, counts, "Status over six months"))
    height, width = pixels.shape[:2]
    assert 800 <= width <= 2000
    assert 200 <= height <= 4000
    assert bar_rows(pixels, look(Status.ON_TRACK).colour).size


def test_trend_uses_the_status_colour() -> None:
    counts = [StatusCounts({Status.AT_RISK: n}) for n in (5, 9, 12)]
    pixels = decode(render_trend(PERIODS[:3], counts, "At risk"))
    expected = rgb255(look(Status.AT_RISK).colour)
    found = dominant_colour(pixels)
    assert all(abs(f - e) <= 30 for f, e in zip(found, expected, strict=True)), (found, expected)


def test_trend_shows_only_the_last_six_periods() -> None:
    periods = ["2026-03", "2026-04", *PERIODS]
    counts = [StatusCounts({Status.ON_TRACK: n + 1}) for n in range(len(periods))]
    assert render_trend(periods, counts, "Trend") == render_trend(PERIODS, counts[2:], "Trend")


def test_trend_without_periods_is_an_empty_chart() -> None:
    pixels = decode(render_trend([], [], "Trend"))
    assert pixels.shape[1] >= 800
    assert bar_rows(pixels, look(None).colour).size == 0


def test_trend_refuses_periods_and_counts_that_do_not_match() -> None:
    with pytest.raises(ValueError, match="2 periods but 1 counts"):
        render_trend(PERIODS[:2], [StatusCounts()], "Trend")


# --- charts that read like the text -----------------------------------------------------------


def hue(colour: str) -> str:
    """'green', 'yellow', 'red' or 'grey': what a reader would call the colour."""
    r, g, b = rgb255(colour)
    if max(r, g, b) - min(r, g, b) < 30:
        return "grey"
    if g > r + 20 and g > b:
        return "green"
    if r > g + 60 and r > b:
        return "red"
    if r > b + 60 and g > b + 60:
        return "yellow"
    return "other"


@pytest.mark.parametrize(
    ("status", "seen"),
    [
        (Status.COMPLETE, "green"),  # ✅
        (Status.ON_TRACK, "green"),  # 🟢
        (Status.AT_RISK, "yellow"),  # 🟡
        (Status.OFF_TRACK, "red"),  # 🔴
        (Status.NOT_STARTED, "grey"),  # ⚪
    ],
    ids=lambda s: s if isinstance(s, str) else look(s).word,
)
def test_a_status_is_drawn_in_the_colour_of_its_emoji(status: Status, seen: str) -> None:
    pixels = decode(render_status_by_goal(one_status_overview(status), "One status"))
    r, g, b = dominant_colour(pixels)
    assert hue(f"#{r:02x}{g:02x}{b:02x}") == seen


def test_complete_and_on_track_are_told_apart() -> None:
    complete, on_track = rgb255(look(Status.COMPLETE).colour), rgb255(look(Status.ON_TRACK).colour)
    assert sum(complete) < sum(on_track) - 150  # complete is the darker green


def exact_pixels(pixels: np.ndarray, status: Status) -> int:
    close = (np.abs(pixels - np.array(rgb255(look(status).colour))) <= 3).all(axis=2)
    return int(close[LEGEND_BOTTOM_PX:].sum())


def test_a_small_goals_red_is_as_visible_as_a_large_ones() -> None:
    """Bars are shares of each goal's initiatives: one of three off track is a third of its
    bar, however small the goal beside a large one (in counts it would be a sliver)."""
    large = GoalLine(
        goal_ref("jobs", "Jobs", "mayor"), StatusCounts({Status.ON_TRACK: 81, Status.OFF_TRACK: 9})
    )
    small = GoalLine(
        goal_ref("mobility", "Mobility", "mayor"),
        StatusCounts({Status.ON_TRACK: 2, Status.OFF_TRACK: 1}),
    )
    pixels = decode(render_status_by_goal(GoalsOverview(PERIOD, [large, small]), "Shares"))
    red, green = exact_pixels(pixels, Status.OFF_TRACK), exact_pixels(pixels, Status.ON_TRACK)
    # Shares: (10% + 33%) of two equal bars is red, about 0.2 less the digits drawn on the
    # bars; drawn as counts the small bar would be a sliver, about 0.1.
    assert 0.15 < red / (red + green) < 0.26


def test_goals_are_labelled_with_their_short_names_never_cut() -> None:
    plan = read_plan_file()
    assert all(goal.short for goal in plan.goals)
    assert all(len(goal.short) <= GOAL_LABEL_WIDTH for goal in plan.goals)  # one line each
    downtown = next(g for g in plan.goals if g.key == "downtown")
    assert goal_label(goal_ref(downtown.key, downtown.name, downtown.kind, (), downtown.short)) == (
        "Downtown"
    )
    whole = goal_label(goal_ref(downtown.key, downtown.name, downtown.kind))
    assert "…" not in whole and whole.replace("\n", " ") == downtown.name


def test_the_month_still_being_reported_is_drawn_as_such() -> None:
    counts = [StatusCounts({Status.ON_TRACK: 10, Status.AT_RISK: 2}) for _ in PERIODS]
    plain = decode(render_trend(PERIODS, counts, "Trend"))
    reporting = decode(render_trend(PERIODS, counts, "Trend", reporting=PERIODS[-1]))
    # The open month's column is faded: one column of six fewer in the full colour.
    ratio = exact_pixels(reporting, Status.ON_TRACK) / exact_pixels(plain, Status.ON_TRACK)
    assert 0.75 < ratio < 0.9


def test_a_count_is_written_on_its_segment_over_a_patch_of_plain_fill() -> None:
    """A segment's count, in white on red, at its centre; around the digits the plain fill,
    so the hatch that marks the status elsewhere in the bar does not run through them."""
    line = GoalLine(goal_ref("safety", "Safety", "mayor"), StatusCounts({Status.OFF_TRACK: 48}))
    pixels = decode(render_status_by_goal(GoalsOverview(PERIOD, [line]), "Counts"))
    fill = np.array(rgb255(look(Status.OFF_TRACK).colour))
    rows = bar_rows(pixels, look(Status.OFF_TRACK).colour)
    middle = int(rows.mean())
    columns = np.flatnonzero((np.abs(pixels[middle - 6] - fill) <= 3).all(axis=1))
    centre = int(columns.mean())
    window = pixels[middle - 4 : middle + 5, centre - 8 : centre + 9].reshape(-1, 3)

    def off_the_blend(px: np.ndarray) -> np.ndarray:
        """How far each pixel is from the blends of the fill and white (the digits' edges)."""
        towards = np.array([255, 255, 255]) - fill
        share = np.clip(((px - fill) @ towards) / (towards @ towards), 0, 1)
        return np.linalg.norm(px - (fill + share[:, None] * towards), axis=1)

    assert (window >= 240).all(axis=1).sum() >= 10  # the digits, in white
    assert off_the_blend(window).max() <= 8  # nothing but fill, white and their blends
    bar = pixels[middle - 4 : middle + 5, columns.min() : centre - 40].reshape(-1, 3)
    assert off_the_blend(bar).max() > 40  # the hatch, away from the digits


def test_a_chart_png_holds_exactly_the_pixels_drawn_without_alpha() -> None:
    """The PNG is written by hand from the canvas: read back by another decoder (Pillow, under
    matplotlib's imread) it gives every pixel the canvas drew, in three channels, and the same
    figure gives the same bytes. An odd size, so that a row's length is no round number."""
    figure = Figure(figsize=(3.1, 2.3), dpi=50, facecolor="white")
    ax = figure.add_axes((0.1, 0.1, 0.8, 0.8))
    ax.plot([0, 1, 2], [2, 0, 1], color=look(Status.OFF_TRACK).colour)
    ax.text(0.5, 1.5, "On track", color=look(Status.ON_TRACK).colour)
    data = _png(figure)
    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    drawn = np.asarray(canvas.buffer_rgba())[:, :, :3]
    pixels = imread(io.BytesIO(data), format="png")
    assert data.startswith(PNG_SIGNATURE)
    assert pixels.shape == drawn.shape == (115, 155, 3)
    assert (np.rint(pixels * 255).astype(np.uint8) == drawn).all()
    assert len(np.unique(drawn.reshape(-1, 3), axis=0)) > 10  # lines and text, not a blank
    assert _png(figure) == data


def bands(rows: np.ndarray) -> list[np.ndarray]:
    """Runs of consecutive pixel rows (or columns): one per bar."""
    return [run for run in np.split(rows, np.flatnonzero(np.diff(rows) > 1) + 1) if run.size]


def ink(pixels: np.ndarray) -> np.ndarray:
    """Where the labels' dark ink is (the bars' colours are all lighter)."""
    return (pixels < 90).all(axis=2)


def test_each_bar_has_its_goals_label_just_left_of_it() -> None:
    """The row labels are drawn where a y tick's label would be: right-aligned, a few pixels
    left of the bars, level with their bar."""
    pixels = decode(render_status_by_goal(one_status_overview(Status.ON_TRACK), "Labels"))
    colour = look(Status.ON_TRACK).colour
    rows = bar_rows(pixels, colour)
    close = (np.abs(pixels - np.array(rgb255(colour))) <= 3).all(axis=2)
    left = int(np.flatnonzero(close[rows].any(axis=0)).min())  # where the bars start
    found = bands(rows)
    assert len(found) == 3
    dark = ink(pixels)
    for band in found:
        beside = np.flatnonzero(dark[band, :left].any(axis=0))
        assert beside.size, "no label beside a bar"
        assert left - 15 <= beside.max() < left  # right-aligned, just left of the bar
        assert beside.min() > left - 150  # "Goal 12" is short


def test_each_month_is_labelled_under_its_bar() -> None:
    counts = [StatusCounts({Status.ON_TRACK: 10}) for _ in PERIODS]
    pixels = decode(render_trend(PERIODS, counts, "Months"))
    colour = look(Status.ON_TRACK).colour
    close = (np.abs(pixels - np.array(rgb255(colour))) <= 3).all(axis=2)
    close[:LEGEND_BOTTOM_PX] = False  # the legend's swatch
    bottom = int(np.flatnonzero(close.any(axis=1)).max())  # the bars' foot
    columns = bands(np.flatnonzero(close.any(axis=0)))
    assert len(columns) == len(PERIODS)
    below = ink(pixels)[bottom + 1 : bottom + 40]
    for column in columns:
        centre = int(column.mean())
        assert below[:, centre - 10 : centre + 10].any(), "no month under a bar"
