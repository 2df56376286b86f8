"""Block Kit messages and views that Plan Bot sends, built from typed query results."""
