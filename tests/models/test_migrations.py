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
