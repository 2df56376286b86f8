"""Measures: a status computed from the numbers at the band's edges in both directions, fiscal
years across the July boundary, quarterly and year-to-date figures, measure files checked whole,
and actuals stored all or nothing, once per sender's reference — on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import func, select

from models.db import count_statements, session_scope
from models.measure_status import (
    CACHED,
    Aggregation,
    Direction,
    Frequency,
    MeasureRule,
    MeasureStatus,
    due_to_date,
    fiscal_label,
    fiscal_months,
    fiscal_year,
    is_due,
    judge,
    judge_period,
    worse,
)
from models.measurefile import (
    SAMPLE_MEASURES,
    ActualRow,
    MeasureFileError,
    parse_actuals_csv,
    parse_csv_measures,
    parse_yaml_measures,
    read_measure_file,
    read_number,
)
from models.measures import load_measures, measure_views, record_actuals
from models.planfile import parse_yaml_plan
from models.plans import load_plan
from models.tables import Actual, ActualSource

UP, DOWN = Direction.HIGHER, Direction.LOWER
MET, NEAR, MISSED = MeasureStatus.MET, MeasureStatus.NEAR, MeasureStatus.MISSED


@pytest.mark.parametrize(
    ("value", "target", "direction", "expected"),
    [
        (100, 100, UP, MET),  # at the target
        (101, 100, UP, MET),
        (90, 100, UP, NEAR),  # exactly at the band's edge (10%)
        (89.99, 100, UP, MISSED),
        (100, 100, DOWN, MET),
        (99, 100, DOWN, MET),
        (110, 100, DOWN, NEAR),  # the edge, on the bad side for lower-is-better
        (110.01, 100, DOWN, MISSED),
        (2.75, 2.5, DOWN, NEAR),  # 311 days: 10% over
        (2.76, 2.5, DOWN, MISSED),
        (-5, -10, DOWN, MISSED),  # a negative target's band is its size
        (0, 0, UP, MET),
        (-0.1, 0, UP, MISSED),  # a zero target leaves no band
    ],
)
def test_met_near_missed_at_the_band_edges(
    value: float, target: float, direction: Direction, expected: MeasureStatus
) -> None:
    assert judge(value, target, direction, 0.10) is expected


def test_no_data_and_no_target_are_said_not_guessed() -> None:
    assert judge(None, 10, UP, 0.1) is MeasureStatus.NO_DATA
    assert judge(5, None, UP, 0.1) is MeasureStatus.NO_TARGET
    assert judge(80, 100, UP, 0.25) is NEAR  # a wider band of its own


def test_each_status_has_one_symbol_and_one_word_none_alike() -> None:
    labels = [s.label for s in MeasureStatus]
    assert len({s.symbol for s in MeasureStatus}) == len(labels)
    assert [s.word for s in MeasureStatus] == ["Met", "Near", "Missed", "No data", "No target"]


def test_calendar_answers_kept_stay_bounded_whatever_periods_are_asked() -> None:
    """Every month of a thousand years asked once (periods typed by anyone): the answers kept
    stay bounded, and the answers are still right."""
    periods = [f"{year:04d}-{month:02d}" for year in range(1000, 2000) for month in range(1, 13)]
    for period in periods:
        fiscal_label(period, 7)
        is_due(period, Frequency.QUARTERLY, 7)
        due_to_date(period, Frequency.MONTHLY, 7)
    for kept in (fiscal_label, fiscal_year, fiscal_months, is_due, due_to_date):
        assert 0 < kept.cache_info().currsize <= CACHED, kept.__name__
    assert fiscal_label("2015-07", 7) == "FY2016"
    assert due_to_date("2015-09", Frequency.MONTHLY, 7) == ("2015-07", "2015-08", "2015-09")


def test_fiscal_years_turn_in_july() -> None:
    assert fiscal_label("2015-06", 7) == "FY2015"
    assert fiscal_label("2015-07", 7) == "FY2016"  # FY2016 is July 2015 – June 2016
    assert fiscal_label("2016-06", 7) == "FY2016"
    assert fiscal_year("2016-12", 1) == 2016  # a calendar fiscal year
    assert fiscal_months(2016, 7)[0] == "2015-07" and fiscal_months(2016, 7)[-1] == "2016-06"
    quarter_ends = [p for p in fiscal_months(2016, 7) if is_due(p, Frequency.QUARTERLY, 7)]
    assert quarter_ends == ["2015-09", "2015-12", "2016-03", "2016-06"]
    assert [p for p in fiscal_months(2016, 7) if is_due(p, Frequency.ANNUAL, 7)] == ["2016-06"]


def test_a_period_target_wins_over_its_year_and_years_do_not_leak() -> None:
    rule = MeasureRule(UP, Frequency.MONTHLY, Aggregation.LATEST)
    targets = {"FY2016": 90.0, "2016-01": 80.0}
    values = {"2015-06": 85.0, "2015-07": 85.0, "2016-01": 85.0}
    assert judge_period(rule, values, targets, "2015-07", 7).status is NEAR  # FY2016: 90
    assert judge_period(rule, values, targets, "2016-01", 7).status is MET  # its own: 80
    # June 2015 is FY2015, which has no target.
    assert judge_period(rule, values, targets, "2015-06", 7).status is MeasureStatus.NO_TARGET


def test_a_sum_is_judged_year_to_date_against_the_year_pro_rata() -> None:
    rule = MeasureRule(UP, Frequency.MONTHLY, Aggregation.SUM)
    targets = {"FY2016": 1200.0}
    values = {"2015-06": 999.0, "2015-07": 100.0, "2015-08": 95.0, "2015-09": 70.0}
    judged = judge_period(rule, values, targets, "2015-09", 7)
    assert (judged.figure, judged.target) == (265.0, 300.0)  # June is the year before
    assert judged.status is MISSED  # 265 is 11.7% short of 300
    assert judge_period(rule, values, targets, "2015-08", 7).status is NEAR  # 195 of 200


def test_quarterly_averages_read_only_quarters() -> None:
    rule = MeasureRule(DOWN, Frequency.QUARTERLY, Aggregation.AVERAGE)
    values = {"2015-09": 3.0, "2015-10": 99.0, "2015-12": 2.0}
    judged = judge_period(rule, values, {"FY2016": 2.5}, "2015-12", 7)
    assert judged.figure == 2.5 and judged.status is MET


def test_worse_is_a_worse_status_or_a_move_the_wrong_way() -> None:
    rule = MeasureRule(DOWN, Frequency.MONTHLY, Aggregation.LATEST)
    targets = {"FY2016": 2.5}
    values = {"2015-07": 2.6, "2015-08": 2.7, "2015-09": 3.5, "2015-10": 2.0}
    judged = {p: judge_period(rule, values, targets, p, 7) for p in values}
    assert worse(judged["2015-07"], judged["2015-08"], DOWN)  # Near, and slower
    assert worse(judged["2015-08"], judged["2015-09"], DOWN)  # Near to Missed
    assert not worse(judged["2015-09"], judged["2015-10"], DOWN)


@pytest.mark.parametrize(
    ("text", "value"),
    [("2.4", 2.4), ("1,234", 1234.0), ("71%", 71.0), ("$1,200.50", 1200.5), ("-3", -3.0)],
)
def test_numbers_as_people_write_them(text: str, value: float) -> None:
    assert read_number(text) == value


@pytest.mark.parametrize("text", ["", "NaN", "inf", "1e400", "12 days", "1,23", "two", "--1"])
def test_not_numbers(text: str) -> None:
    assert read_number(text) is None


def test_the_sample_file_says_it_is_sample_data() -> None:
    sample = read_measure_file(SAMPLE_MEASURES)
    assert sample.sample and "not the City of Hartford's figures" in sample.description
    assert len(sample.measures) >= 8
    assert {m.direction for m in sample.measures} == {UP, DOWN}


MEASURES_CSV = """key,name,unit,direction,frequency,department,goals,targets,band
311-response,311 response time,days,lower,monthly,mhis,quality-of-life,FY2016=2.5; FY2017=2,
potholes,Potholes filled,count,higher,,dpw,quality-of-life;mobility,FY2016=4800,5%
"""


def test_a_csv_of_measures() -> None:
    measures = parse_csv_measures(MEASURES_CSV).measures
    assert [m.key for m in measures] == ["311-response", "potholes"]
    assert measures[0].targets == (("FY2016", 2.5), ("FY2017", 2.0))
    assert measures[1].band == pytest.approx(0.05) and measures[1].goals == (
        "quality-of-life",
        "mobility",
    )


@pytest.mark.parametrize(
    ("bad", "where", "problem"),
    [
        ("x,X,count,sideways,,,,,", "row 2, column 'direction'", "'sideways' is not one of"),
        ("x,X,count,higher,weekly,,,,", "row 2, column 'frequency'", "'weekly'"),
        ("x,X,count,higher,,,,FY2016=lots,", "row 2, column 'targets'", "'lots' is not a number"),
        ("x,X,count,higher,,,,2016=5,", "row 2, column 'targets'", "neither a fiscal year"),
        ("x,X,,higher,,,,,", "row 2, column 'unit'", "give a unit"),
        ("Bad Key,X,count,higher,,,,,", "row 2, column 'key'", "is not a key"),
        ("x,X,count,higher,,,,,150%", "row 2, column 'band'", "0 to 99%"),
    ],
)
def test_a_bad_measure_row_is_named(bad: str, where: str, problem: str) -> None:
    header = MEASURES_CSV.splitlines()[0]
    with pytest.raises(MeasureFileError) as caught:
        parse_csv_measures(f"{header}\n{bad}\n")
    assert where in caught.value.where and problem in caught.value.problem


def test_a_yaml_measure_with_a_typo_in_a_field_is_refused() -> None:
    with pytest.raises(MeasureFileError) as caught:
        parse_yaml_measures(
            "measures:\n  - {key: a, name: A, unit: count, direction: higher, taget: 5}\n"
        )
    assert "measures[0]" in caught.value.where and "taget" in caught.value.problem


def test_two_measures_cannot_answer_to_one_name() -> None:
    with pytest.raises(MeasureFileError, match="already names measure"):
        parse_yaml_measures(
            "measures:\n"
            "  - {key: a, name: Response time, unit: days, direction: lower}\n"
            "  - {key: b, name: Other, unit: days, direction: lower, aliases: [response time]}\n"
        )


def test_actuals_csv_names_the_bad_row() -> None:
    rows = parse_actuals_csv(
        "measure,period,value,note\npotholes,2015-09,412,\n311,2015-09,2.4,ok\n"
    )
    assert [(r.measure, r.value) for r in rows] == [("potholes", 412.0), ("311", 2.4)]
    with pytest.raises(MeasureFileError) as caught:
        parse_actuals_csv("measure,period,value\npotholes,2015-09,412\npotholes,Sept,3\n")
    assert "row 3, 'period'" in caught.value.where


async def _with_measures(engine: AsyncEngine, plan_id: int) -> None:
    async with session_scope(engine) as session:
        await load_measures(
            session,
            plan_id,
            read_measure_file(SAMPLE_MEASURES).measures,
            source="sample.yaml",
            sample=True,
        )


async def test_loading_measures_twice_changes_nothing(engine: AsyncEngine, hartford: int) -> None:
    await _with_measures(engine, hartford)
    async with session_scope(engine) as session:
        again = await load_measures(
            session, hartford, read_measure_file(SAMPLE_MEASURES).measures, source="s", sample=True
        )
    assert (again.created, again.changed) == (0, 0)


async def test_a_measure_naming_what_the_plan_lacks_is_refused_whole(
    engine: AsyncEngine, hartford: int
) -> None:
    specs = parse_yaml_measures(
        "measures:\n"
        "  - {key: good, name: Good, unit: count, direction: higher, department: fire}\n"
        "  - {key: bad, name: Bad, unit: count, direction: higher, department: fire,"
        " initiatives: [99]}\n"
    ).measures
    with pytest.raises(MeasureFileError) as caught:
        async with session_scope(engine) as session:
            await load_measures(session, hartford, specs, source="m.yaml")
    assert "measures[1]" in caught.value.where and "fire #99" in caught.value.problem
    async with session_scope(engine) as session:
        assert await measure_views(session, hartford, ["2015-09"]) == []


async def test_a_plan_file_carries_its_measures(engine: AsyncEngine) -> None:
    spec = parse_yaml_plan(
        "plan: {name: Tiny, fiscal_year: FY2016}\n"
        "goals: [{key: safety, name: Safety}]\n"
        "departments: [{key: fire, name: Fire,"
        " initiatives: [{number: 1, text: T, goals: [safety]}]}]\n"
        "measures:\n"
        "  - {key: response, name: Response time, unit: minutes, direction: lower,"
        " department: fire, goals: [safety], initiatives: [1], targets: {FY2016: 5}}\n"
    )
    async with session_scope(engine) as session:
        loaded = await load_plan(session, spec, period="2015-09")
        views = await measure_views(session, loaded.plan_id, ["2015-09"])
    assert [(v.key, v.department_key, v.targets) for v in views] == [
        ("response", "fire", {"FY2016": 5.0})
    ]


async def test_a_batch_is_stored_whole_or_not_at_all_and_once_per_reference(
    engine: AsyncEngine, hartford: int
) -> None:
    await _with_measures(engine, hartford)
    good = ActualRow("potholes", "2026-09", 412, ref="export-9", where="row 1")
    bad = ActualRow("pot holes typo", "2026-09", 1, where="row 2")
    with pytest.raises(MeasureFileError) as caught:
        async with session_scope(engine) as session:
            await record_actuals(
                session, hartford, [good, bad], source=ActualSource.API, author="city-gis"
            )
    assert caught.value.where == "row 2"
    for _ in range(2):  # the same batch sent twice
        async with session_scope(engine) as session:
            result = await record_actuals(
                session, hartford, [good], source=ActualSource.API, author="city-gis"
            )
    assert (result.stored, result.unchanged) == (0, 1)
    async with session_scope(engine) as session:
        count = (await session.exec(select(func.count()).select_from(Actual))).one()
        views = await measure_views(session, hartford, ["2026-09"])
    assert count == 1
    potholes = next(v for v in views if v.key == "potholes")
    assert potholes.values == {"2026-09": 412.0}


async def test_the_latest_received_value_of_a_period_wins(
    engine: AsyncEngine, hartford: int
) -> None:
    await _with_measures(engine, hartford)
    for value in (3.1, 2.4):
        async with session_scope(engine) as session:
            await record_actuals(
                session,
                hartford,
                [ActualRow("311 response time", "2026-09", value)],
                source=ActualSource.FILE,
                author="file",
            )
    async with session_scope(engine) as session:
        view = (await measure_views(session, hartford, ["2026-09"]))[3]
    assert view.key == "311-response" and view.values["2026-09"] == 2.4
    assert view.judged("2026-09", 7).status is MISSED  # 20% over FY2027's 2.0 days


async def test_reading_measures_takes_the_same_statements_however_many(
    engine: AsyncEngine, hartford: int
) -> None:
    await _with_measures(engine, hartford)
    periods = ["2026-07", "2026-08", "2026-09"]
    counts = []
    for value in (1.0, 2.0):
        async with session_scope(engine) as session:
            await record_actuals(
                session,
                hartford,
                [
                    ActualRow(m, p, value)
                    for m in ("potholes", "311", "fire-response")
                    for p in periods
                ],
                source=ActualSource.FILE,
                author="file",
            )
        async with session_scope(engine) as session:
            with count_statements(engine) as seen:
                views = await measure_views(session, hartford, periods)
            counts.append(len(seen))
    assert len(views) == 10 and counts[0] == counts[1] <= 4
