"""Reading Block Kit in tests: the texts Slack renders as mrkdwn."""

from __future__ import annotations

from typing import Any


def mrkdwn_texts(node: Any) -> list[str]:
    """Every mrkdwn text in the blocks (or any JSON), in order."""
    found: list[str] = []

    def walk(item: Any) -> None:
        if isinstance(item, dict):
            if item.get("type") == "mrkdwn":
                found.append(item["text"])
            for value in item.values():
                walk(value)
        elif isinstance(item, list):
            for value in item:
                walk(value)

    walk(node)
    return found
