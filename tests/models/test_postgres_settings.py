"""What every PostgreSQL connection of the bot is set to (models/db.py create_engine): statements
planned for their own values, never a generic plan. psycopg prepares a statement once it has
run five times, and PostgreSQL's generic plan for the digest's queries on the Large plan took a
build from 0.65 s to 5 s from the sixth build on (bench/digest.py)."""

from __future__ import annotations

import sqlalchemy as sa

from models.db import create_engine, session_scope


async def test_every_statement_is_planned_for_its_own_values(postgres_database: str) -> None:
    engine = create_engine(postgres_database)
    try:
        async with session_scope(engine) as session:
            connection = await session.connection()
            for _ in range(7):  # past psycopg's prepare threshold, as the digest's queries go
                mode = (await connection.execute(sa.text("SHOW plan_cache_mode"))).scalar_one()
                assert mode == "force_custom_plan"
            jit = (await connection.execute(sa.text("SHOW jit"))).scalar_one()
    finally:
        await engine.dispose()
    assert jit == "off"


async def test_a_callers_own_connect_args_keep_the_bots_settings(postgres_database: str) -> None:
    engine = create_engine(
        postgres_database,
        connect_args={"application_name": "planbot-test", "options": "-c work_mem=8MB"},
    )
    try:
        async with session_scope(engine) as session:
            connection = await session.connection()
            shown = {
                name: (await connection.execute(sa.text(f"SHOW {name}"))).scalar_one()
                for name in ("plan_cache_mode", "jit", "work_mem", "application_name")
            }
    finally:
        await engine.dispose()
    assert shown == {
        "plan_cache_mode": "force_custom_plan",
        "jit": "off",
        "work_mem": "8MB",
        "application_name": "planbot-test",
    }
