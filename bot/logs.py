"""Logging: readable lines on a terminal, one JSON object a line elsewhere; secrets redacted."""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import Any

# Slack tokens and URL passwords must never reach a log line, whoever formats it.
_SECRETS = re.compile(
    r"(xox[abposr]-[A-Za-z0-9-]+|xapp-[A-Za-z0-9-]+|(?<=://)[^/\s:@]+:[^/\s@]+(?=@))"
)
_CONTEXT = (
    "kind",
    "team",
    "user",
    "command",
    "event",
    "status",
    "latency_ms",
    "department",
    "period",
)


# A response URL (and any hooks.slack.com URL) lets whoever holds it post into the channel:
# a credential too. Bolt logs the whole body of a request it refuses, at INFO, and a slash
# command's body carries its response_url, URL-encoded; an interaction's carries it in
# URL-encoded JSON. The key stays, so the line still says what was there.
_RESPONSE_URL = re.compile(
    r"(?P<key>response_url(?:=|\"\s*:\s*\"|%22%3A%22|%22%3A%20%22))(?P<value>.+?)(?=&|\"|%22|\s|$)"
    r"|https://hooks\.slack\.com/[^\s\"'&<>|]+"
    r"|https%3A%2F%2Fhooks\.slack\.com%2F[^\s\"'&<>|]+",
    re.IGNORECASE,
)


def _hide_response_url(match: re.Match[str]) -> str:
    return f"{match['key']}[redacted]" if match["key"] else "[redacted]"


def redact_secrets(text: str) -> str:
    return _RESPONSE_URL.sub(_hide_response_url, _SECRETS.sub("[redacted]", text))


class _Redacting(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return redact_secrets(super().format(record))


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in _CONTEXT:
            if hasattr(record, key):
                entry[key] = getattr(record, key)
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return redact_secrets(json.dumps(entry, default=str))


def configure_logging(log_format: str = "auto", level: int = logging.INFO) -> None:
    handler = logging.StreamHandler(sys.stderr)
    as_json = log_format == "json" or (log_format == "auto" and not sys.stderr.isatty())
    handler.setFormatter(
        JsonFormatter()
        if as_json
        else _Redacting("%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("slack_bolt").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    logging.getLogger("httpx").setLevel(logging.WARNING)
