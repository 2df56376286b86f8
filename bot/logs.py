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
    "reason",
    "department",
    "period",
)


# A response URL lets whoever holds it post into the channel for half an hour: a credential too,
# whatever its host (hooks.slack.com, GovSlack's hooks.slack-gov.com, a proxy in between). Bolt
# logs the whole body of a request it refuses, where a slash command carries its response_url
# URL-encoded and an interaction in URL-encoded JSON; slack_sdk logs the whole URL when it retries
# a post to one. Hidden here: the value of any `response_url` key, every URL on a `hooks.` host,
# and every URL whose path is shaped as Slack's response and webhook URLs are — written plainly,
# JSON-escaped (`https:\/\/…`) or URL-encoded. A key stays, so the line still says what was there.
_SLASH = r"(?:/|\\/|%2F|%5C%2F)"
_URL_START = rf"https?(?::|%3A){_SLASH}{_SLASH}"
_URL_REST = r"[^\s\"'&<>|]*"
_RESPONSE_URL = re.compile(
    r"(?P<key>response_url(?:=|\"\s*:\s*\"|%22%3A%22|%22%3A%20%22))(?P<value>.+?)(?=&|\"|%22|\s|$)"
    rf"|{_URL_START}hooks\.[A-Za-z0-9.-]+{_URL_REST}"
    rf"|{_URL_START}[^\s\"'&<>|/\\%]+{_SLASH}"
    rf"(?:commands|actions|services|workflows|triggers){_SLASH}[A-Z0-9]{_URL_REST}",
    re.IGNORECASE,
)
# slack_sdk's webhook client posts only to response URLs and incoming webhooks: every URL in
# what it logs is one.
_WEBHOOK_LOGGERS = ("slack_sdk.webhook",)
_ANY_URL = re.compile(rf"{_URL_START}{_URL_REST}", re.IGNORECASE)


def _hide_response_url(match: re.Match[str]) -> str:
    return f"{match['key']}[redacted]" if match["key"] else "[redacted]"


def redact_secrets(text: str) -> str:
    if not _may_hold_secret(text):
        return text
    return _RESPONSE_URL.sub(_hide_response_url, _SECRETS.sub("[redacted]", text))


def _may_hold_secret(text: str) -> bool:
    """False only where neither pattern can match: every token starts `xox`/`xapp-`, every
    password follows `://`, and every response URL is a `response_url` key or starts `http`
    (in any case; `ſ` folds to `s`). Most log lines hold none: they skip both expressions."""
    if "xox" in text or "xapp-" in text or "://" in text or "\u017f" in text:
        return True
    lowered = text.lower()
    return "http" in lowered or "response_url" in lowered


def redact_record(record: logging.LogRecord, text: str) -> str:
    """`text`, the formatted `record`, with its secrets hidden: every URL too when the record
    comes from the webhook client."""
    text = redact_secrets(text)
    if record.name.startswith(_WEBHOOK_LOGGERS):
        text = _ANY_URL.sub("[redacted]", text)
    return text


class _Redacting(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return redact_record(record, super().format(record))


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
        return redact_record(record, json.dumps(entry, default=str))


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
