"""Button listeners."""
