"""Alembic migrations: the only way the schema is created or changed."""

# The newest revision. Start-up compares the database with it and skips loading Alembic (slow
# to import) when there is nothing to do; a test keeps it equal to Alembic's own head.
HEAD = "0026"
