"""Readers of what people send: thread replies in plain words. Each reader is a pure function
with its own case table in tests; building messages lives in `handlers/messages/`."""
