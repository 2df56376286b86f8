"""Loading plans: the bundled Hartford plan, CSV and YAML files, idempotence, refusals."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select

from models.db import session_scope
from models.planfile import PlanFileError, parse_csv_plan, parse_yaml_plan, read_plan_file
from models.plans import list_owners, load_plan, set_owners
from models.status import Status
from models.tables import Department, Goal, Initiative, InitiativeGoal, Update
from tests.helpers import find_department

TABLES = ("plans", "goals", "departments", "initiatives", "initiative_goals", "updates")


async def row_counts(engine: AsyncEngine) -> dict[str, int]:
    async with engine.connect() as conn:
        return {
            t: (await conn.execute(sa.text(f"SELECT count(*) FROM {t}"))).scalar_one()
            for t in TABLES
        }


async def test_hartford_loads_whole(engine: AsyncEngine, hartford: int) -> None:
    counts = await row_counts(engine)
    assert counts["plans"] == 1
    assert counts["goals"] == 10
    assert counts["departments"] == 19
    assert counts["initiatives"] == 87
    # The two "(completed)" sub-items of the accreditation bullet arrive complete: the plan's
    # baseline, the period before the one it was loaded in, not a report.
    assert counts["updates"] == 2
    async with session_scope(engine) as session:
        statuses = (await session.exec(select(Update.status, Update.source, Update.period))).all()
        assert set(statuses) == {(Status.COMPLETE, "plan", "2026-09")}
        owners = await list_owners(session)
    assert [o.key for o in owners][:3] == ["mayor", "treasurer", "registrars"]
    async with session_scope(engine) as session:
        shorts = dict((await session.exec(select(Goal.key, Goal.short))).all())
    assert shorts["jobs"] == "Jobs & Economy" and shorts["downtown"] == "Downtown"
    assert sum(o.initiatives for o in owners) == 87


async def test_loading_twice_changes_nothing(engine: AsyncEngine, hartford: int) -> None:
    before = await row_counts(engine)
    async with session_scope(engine) as session:
        result = await load_plan(session, read_plan_file(), period="2026-11")
    assert result.unchanged
    assert await row_counts(engine) == before


async def test_reload_keeps_owners_and_updates_and_applies_edits(
    engine: AsyncEngine, hartford: int
) -> None:
    async with session_scope(engine) as session:
        fire = await find_department(session, "fire")
        await set_owners(session, fire, ["U0CHIEF"], "C0FIRE")
    edited = read_plan_file()
    fire_spec = next(d for d in edited.departments if d.key == "fire")
    first = fire_spec.initiatives[0]
    changed_first = type(first)(number=1, text="Renamed", goals=("safety",))
    new_fire = type(fire_spec)(
        key="fire",
        name="Fire",
        aliases=fire_spec.aliases,
        initiatives=(changed_first, *fire_spec.initiatives[1:]),
    )
    edited = type(edited)(
        key=edited.key,
        name=edited.name,
        fiscal_year=edited.fiscal_year,
        goals=edited.goals,
        departments=tuple(new_fire if d.key == "fire" else d for d in edited.departments),
    )
    async with session_scope(engine) as session:
        result = await load_plan(session, edited, period="2026-10")
    assert result.changed >= 1 and result.created == 0
    async with session_scope(engine) as session:
        owners = {o.key: o for o in await list_owners(session)}
        text = (
            await session.exec(
                select(Initiative.text)
                .join(Department)
                .where(Department.key == "fire", Initiative.number == 1)
            )
        ).one()
        links = (
            await session.exec(
                select(sa.func.count())
                .select_from(InitiativeGoal)
                .join(Initiative)
                .join(Department)
                .where(Department.key == "fire", Initiative.number == 1)
            )
        ).one()
    assert owners["fire"].owners == ("U0CHIEF",) and owners["fire"].channel_id == "C0FIRE"
    assert text == "Renamed"
    assert links == 1


CSV_PLAN = """department,number,text,goals,city_plan_goals,parent,status
Parks & Recreation,1,Open two splash pads,Quality of Life,Neighborhoods,,
Parks & Recreation,2,Plant 500 trees,Quality of Life; Safety,Environment,,complete
Parks & Recreation,3,Water the trees,Quality of Life,,2,on track
Police,1,Body cameras for every patrol officer,Safety,,,
"""


async def test_csv_plan_loads_and_reloads_without_change(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    path = tmp_path / "springfield-2027.csv"
    path.write_text(CSV_PLAN, encoding="utf-8")
    spec = read_plan_file(path)
    assert [g.key for g in spec.goals] == [
        "quality-of-life",
        "neighborhoods",
        "safety",
        "environment",
    ]
    assert [g.kind for g in spec.goals] == ["goals", "other-goals", "goals", "other-goals"]
    assert [g.name for g in spec.goal_groups] == ["Goals", "Other goals"]
    async with session_scope(engine) as session:
        await load_plan(session, spec, period="2026-10")
    first = await row_counts(engine)
    async with session_scope(engine) as session:
        again = await load_plan(session, read_plan_file(path), period="2026-10")
    assert again.unchanged and await row_counts(engine) == first
    assert first["initiatives"] == 4 and first["departments"] == 2
    assert first["updates"] == 2  # the complete and the on track rows
    async with session_scope(engine) as session:
        child = (
            await session.exec(
                select(Initiative)
                .join(Department)
                .where(Department.key == "parks-and-recreation", Initiative.number == 3)
            )
        ).one()
        parent = await session.get(Initiative, child.parent_id)
    assert parent is not None and parent.text == "Plant 500 trees"


@pytest.mark.parametrize(
    ("body", "where", "problem"),
    [
        ("department,number,text\nFire,1,x\n", "row 1", "missing column(s): goals"),
        (
            "department,number,text,goals\nFire,one,x,Safety\n",
            "row 2, column 'number'",
            "'one' is not a whole number",
        ),
        (
            "department,number,text,goals\nFire,1,x,Safety\nFire,2,,Safety\n",
            "row 3, column 'text'",
            "is empty",
        ),
        (
            "department,number,text,goals\nFire,1,x,Safety\nFire,1,y,Safety\n",
            "row 3, column 'number'",
            "already on row 2",
        ),
        (
            "department,number,text,goals,parent\nFire,1,x,Safety,\nFire,2,y,Safety,9\n",
            "row 3, column 'parent'",
            "no initiative #9",
        ),
        (
            "department,number,text,goals,status\nFire,1,x,Safety,purple\n",
            "row 2, column 'status'",
            "'purple' is not a status",
        ),
        (
            "department,number,text,goals\nFire,1,x,\n",
            "row 2, column 'goals'",
            "needs at least one goal",
        ),
        (
            "department,number,text,goals,colour\nFire,1,x,Safety,red\n",
            "row 1",
            "unknown column(s): colour",
        ),
    ],
)
def test_malformed_csv_names_row_and_column(body: str, where: str, problem: str) -> None:
    with pytest.raises(PlanFileError) as caught:
        parse_csv_plan(body, source="plan.csv")
    assert caught.value.where == f"plan.csv {where}"
    assert problem in caught.value.problem


async def test_malformed_csv_writes_nothing(
    engine: AsyncEngine, hartford: int, tmp_path: Path
) -> None:
    before = await row_counts(engine)
    bad = tmp_path / "bad.csv"
    bad.write_text(CSV_PLAN + "Police,2,Drones,Safety,,,not a status\n", encoding="utf-8")
    with pytest.raises(PlanFileError, match="row 6, column 'status'"):
        read_plan_file(bad)
    assert await row_counts(engine) == before


async def test_failure_midway_rolls_back(engine: AsyncEngine, hartford: int) -> None:
    """A database error during a load leaves the tables as they were."""
    before = await row_counts(engine)
    spec = parse_csv_plan(CSV_PLAN, source="other.csv")
    with pytest.raises(sa.exc.IntegrityError):
        async with session_scope(engine) as session:
            await load_plan(session, spec, period="2026-10")
            session.add(
                Update(
                    initiative_id=999_999, period="2026-10", status=Status.ON_TRACK, source="import"
                )
            )
            await session.flush()
    assert await row_counts(engine) == before


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("plan: [", "line"),
        ("plan: {name: X}\ngoals: []\ndepartments: []\n", "the plan has no goals"),
        (
            "plan: {name: X}\ngoal_groups: [{key: main, name: Main goals}]\n"
            "goals:\n- {key: a, name: A, group: boss}\ndepartments: []\n",
            "'boss' is not one of goal_groups",
        ),
        (
            "plan: {name: X}\ngoal_groups: [{key: main, name: " + "Very long " * 7 + "}]\n"
            "goals:\n- {key: a, name: A}\ndepartments: []\n",
            "goal_groups\\[0\\].name: longer than 60 characters",
        ),
        (
            "plan: {name: X}\ngoals:\n- {key: a, name: A, kind: mayor}\ndepartments:\n"
            "- {key: d, name: D, initiatives: [{number: 1, text: t, goals: [zz]}]}\n",
            "unknown goal 'zz'",
        ),
        (
            "plan: {name: X}\ngoals:\n- {key: a, name: A, kind: mayor}\ndepartments:\n"
            "- {key: d, name: D, aliases: [a], initiatives: []}\n",
            "names both goal a",
        ),
        (
            "plan: {name: X}\ngoals:\n- {key: a, name: A, kind: mayor, short: "
            + "x" * 25
            + "}\ndepartments: []\n",
            "goals\\[0\\].short: longer than 24 characters",
        ),
    ],
)
def test_malformed_yaml_refused(text: str, message: str) -> None:
    with pytest.raises(PlanFileError, match=message):
        parse_yaml_plan(text)


def test_unknown_extension_refused(tmp_path: Path) -> None:
    path = tmp_path / "plan.xlsx"
    path.write_bytes(b"PK")
    with pytest.raises(PlanFileError, match=r"\.yaml, \.yml or \.csv"):
        read_plan_file(path)
