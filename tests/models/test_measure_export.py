"""Measures as open data: one row per measure and period with the fields KPI records use
(indicator, unit, direction, fiscal year, period, actual, target, status, goal, department),
judged as every other surface judges them, across the July boundary; a note typed as a formula
stays text in a spreadsheet; `planbot measures export` and `/plan export` give the same rows."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.workspace import Workspace
from models.db import session_scope
from models.export import MeasureExportRow, measure_export_rows, render_export
from models.measurefile import ActualRow, parse_yaml_measures
from models.measures import load_measures, record_actuals
from models.plans import active_plan_id
from models.tables import ActualSource
from tests.bot.test_cli import planbot
from tests.helpers import ADMIN

MEASURES = """
measures:
  - key: response-time
    name: 311 response time
    unit: days
    direction: lower
    department: dpw
    goals: [quality-of-life]
    targets: {FY2026: 3.0, FY2027: 2.5}
  - key: potholes
    name: Potholes filled
    unit: count
    direction: higher
    aggregation: sum
    department: dpw
    goals: [quality-of-life, safety]
    targets: {FY2027: 1200}
  - key: inspections
    name: Fire inspections
    unit: count
    direction: higher
    frequency: quarterly
    department: fire
    targets: {FY2027: 100}
"""

ACTUALS = [
    ActualRow("response-time", "2026-05", 2.9),
    ActualRow("response-time", "2026-06", 3.1, note='=HYPERLINK("http://evil","x")'),
    ActualRow("response-time", "2026-07", 2.4),
    ActualRow("potholes", "2026-06", 500),
    ActualRow("potholes", "2026-07", 90),
    ActualRow("potholes", "2026-08", 110),
    ActualRow("inspections", "2026-09", 80),
]


async def _measures(ws_engine: object, plan_id: int) -> None:
    async with session_scope(ws_engine) as session:  # type: ignore[arg-type]
        await load_measures(
            session, plan_id, parse_yaml_measures(MEASURES).measures, source="m.yaml"
        )
        await record_actuals(
            session,
            plan_id,
            ACTUALS,
            source=ActualSource.FILE,
            author="file:october.csv",
            received_at=datetime(2026, 9, 15, tzinfo=UTC),
        )


@pytest.fixture
async def city(database_url: str, hartford: int) -> Workspace:
    async with Workspace(database_url, admins=(ADMIN,)) as ws:
        await _measures(ws.engine, hartford)
        yield ws  # type: ignore[misc]


async def test_every_figure_judged_with_its_fiscal_year(city: Workspace) -> None:
    async with session_scope(city.engine) as session:
        rows = await measure_export_rows(
            session, await active_plan_id(session), "2026-10", start_month=7
        )
    got = {(r.indicator_key, r.period): r for r in rows}
    assert [(r.indicator_key, r.period) for r in rows] == [
        ("response-time", "2026-05"),
        ("response-time", "2026-06"),
        ("response-time", "2026-07"),
        ("potholes", "2026-06"),
        ("potholes", "2026-07"),
        ("potholes", "2026-08"),
        ("inspections", "2026-09"),
    ]
    june, july = got[("response-time", "2026-06")], got[("response-time", "2026-07")]
    assert (june.fiscal_year, june.target, june.status) == ("FY2026", 3.0, "Near")
    assert (july.fiscal_year, july.target, july.status, july.status_key) == (
        "FY2027",
        2.5,
        "Met",
        "met",
    )
    assert july.direction == "lower is better" and july.unit == "days"
    assert july.goal == "quality-of-life" and july.department == "Public Works"
    assert july.year_to_date is None  # a level, not a sum
    # A sum starts again in July: two months of a 1,200 year is 200.
    august = got[("potholes", "2026-08")]
    assert (august.actual, august.year_to_date, august.target) == (110, 200, 200)
    assert august.status == "Met" and august.goal == "safety;quality-of-life"  # the plan's order
    june_sum = got[("potholes", "2026-06")]
    assert june_sum.fiscal_year == "FY2026" and june_sum.status == "No target"
    assert got[("inspections", "2026-09")].status == "Missed"  # 80 of a quarter's 100
    assert all(r.source == "file" and not r.sample for r in rows)


async def test_one_period_lists_what_was_due_and_says_no_data(city: Workspace) -> None:
    async with session_scope(city.engine) as session:
        plan_id = await active_plan_id(session)
        october = await measure_export_rows(
            session, plan_id, "2026-10", start_month=7, only_period=True
        )
        september = await measure_export_rows(
            session, plan_id, "2026-09", start_month=7, only_period=True
        )
    # October is no quarter's end: the quarterly measure is not due, the others have no figure.
    assert [(r.indicator_key, r.actual, r.status) for r in october] == [
        ("response-time", None, "No data"),
        ("potholes", None, "No data"),
    ]
    assert [r.indicator_key for r in september] == ["response-time", "potholes", "inspections"]


async def test_a_formula_in_a_note_stays_text_in_the_csv(city: Workspace) -> None:
    async with session_scope(city.engine) as session:
        rows = await measure_export_rows(
            session, await active_plan_id(session), "2026-10", start_month=7
        )
    text = render_export(rows, "csv", MeasureExportRow)
    read = list(csv.DictReader(io.StringIO(text)))
    assert list(read[0]) == [
        "indicator",
        "indicator_key",
        "unit",
        "direction",
        "frequency",
        "fiscal_year",
        "period",
        "actual",
        "year_to_date",
        "target",
        "status",
        "status_key",
        "goal",
        "department",
        "department_key",
        "note",
        "source",
        "sample",
        "updated_at",
    ]
    assert read[1]["note"] == '\'=HYPERLINK("http://evil","x")'
    as_json = json.loads(render_export(rows, "json", MeasureExportRow))
    assert as_json[1]["note"] == '=HYPERLINK("http://evil","x")'  # JSON is not a spreadsheet


async def test_plan_export_in_slack_sends_the_measures_too(city: Workspace) -> None:
    ws = city
    await ws.command("export", user=ADMIN, wait=0)
    (complete,) = await ws.slack.wait_for("files.completeUploadExternal")
    names = [ws.slack.files[f["id"]]["name"] for f in complete.args["files"]]
    period = ws.ctx.open_period()
    assert names[1] == f"city-of-hartford-fiscal-year-2016-strategic-plan-measures-{period}.csv"
    content = ws.slack.uploads[complete.args["files"][1]["id"]].decode("utf-8")
    rows = list(csv.DictReader(io.StringIO(content)))
    assert {r["indicator_key"] for r in rows} == {"response-time", "potholes", "inspections"}
    assert "every measure's figures against target" in complete.args["initial_comment"]


def test_the_command_line_export(database_url: str, tmp_path: Path) -> None:
    assert planbot(database_url, "plan", "load", cwd=tmp_path).returncode == 0
    empty = planbot(database_url, "measures", "export", cwd=tmp_path)
    assert empty.returncode == 0 and "no measure figures to export" in empty.stderr
    definition = tmp_path / "m.yaml"
    definition.write_text(MEASURES)
    assert (
        planbot(database_url, "measures", "define", str(definition), cwd=tmp_path).returncode == 0
    )
    actuals = tmp_path / "september.csv"
    actuals.write_text("measure,period,value,note\npotholes,2026-09,95,\n")
    assert planbot(database_url, "measures", "load", str(actuals), cwd=tmp_path).returncode == 0
    out = tmp_path / "measures.json"
    done = planbot(
        database_url,
        "measures",
        "export",
        "--format",
        "json",
        "--period",
        "2026-09",
        "--output",
        str(out),
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    rows = {r["indicator_key"]: r for r in json.loads(out.read_text())}
    assert rows["potholes"]["actual"] == 95 and rows["potholes"]["fiscal_year"] == "FY2027"
    assert rows["potholes"]["year_to_date"] == 95 and rows["potholes"]["status"] == "Missed"
    assert rows["inspections"]["status"] == "No data"
    bad = planbot(database_url, "measures", "export", "--period", "Sept", cwd=tmp_path)
    assert bad.returncode == 2 and "Sept" in bad.stderr
