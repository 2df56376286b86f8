"""The schema comes only from migrations, and the migrations match the models."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from models.db import current_revision, sync_url, upgrade
from models.tables import SQLModel


def test_migrated_schema_matches_the_models(database_url: str) -> None:
    engine = sa.create_engine(sync_url(database_url))
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    engine.dispose()
    assert diff == []


def test_upgrade_twice_is_harmless(database_url: str) -> None:
    before = current_revision(database_url)
    upgrade(database_url)
    assert current_revision(database_url) == before is not None


def test_the_recorded_head_is_alembics_head() -> None:
    """Start-up skips Alembic when the database is at migrations.HEAD: it must be the head."""
    from alembic.script import ScriptDirectory

    import migrations
    from models.db import alembic_config

    script = ScriptDirectory.from_config(alembic_config("sqlite:///unused.db"))
    assert script.get_heads() == [migrations.HEAD]


def test_statuses_the_plan_loader_wrote_become_its_baseline(database_url: str) -> None:
    """A database from before 0007 holds the plan file's "(completed)" statuses as `import`
    updates of the period it was loaded in, counted as reports. Upgraded, they are the plan's
    baseline: source `plan`, the period before. Sample data and reports are left alone."""
    from alembic import command

    from models.db import alembic_config

    command.downgrade(alembic_config(database_url), "0006")
    engine = sa.create_engine(sync_url(database_url))
    try:
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO plans (id, key, name, fiscal_year, active, revision, created_at)"
                    " VALUES (1, 'p', 'P', '', true, 0, '2026-11-04 12:00:00')"
                )
            )
            conn.execute(
                sa.text(
                    "INSERT INTO departments (id, plan_id, key, name, position, aliases)"
                    " VALUES (1, 1, 'hhs', 'Health', 0, '[]')"
                )
            )
            for number in (1, 2, 3):
                conn.execute(
                    sa.text(
                        "INSERT INTO initiatives (id, department_id, number, text)"
                        " VALUES (:n, 1, :n, 'x')"
                    ),
                    {"n": number},
                )
            rows = [
                (1, "import", "", "Marked completed in the plan document"),
                (2, "import", "USAMPLE", "Done and handed over to operations"),
                (3, "form", "U0CHIEF", "Marked completed in the plan document"),
            ]
            for initiative, source, author, note in rows:
                conn.execute(
                    sa.text(
                        "INSERT INTO updates (initiative_id, period, status, note, author,"
                        " source, received_at, late) VALUES (:i, '2026-10', 'complete', :note,"
                        " :author, :source, '2026-11-04 12:00:00', false)"
                    ),
                    {"i": initiative, "source": source, "author": author, "note": note},
                )
        upgrade(database_url)
        with engine.connect() as conn:
            after = conn.execute(
                sa.text(
                    "SELECT initiative_id, source, period, received_at FROM updates "
                    "ORDER BY initiative_id"
                )
            ).all()
        assert [tuple(row)[:3] for row in after] == [
            (1, "plan", "2026-09"),
            (2, "import", "2026-10"),
            (3, "form", "2026-10"),
        ]
        # The baseline counts from its period's start; the others keep their time.
        assert [str(r[3])[:10] for r in after] == ["2026-09-01", "2026-11-04", "2026-11-04"]
    finally:
        upgrade(database_url)
        engine.dispose()
