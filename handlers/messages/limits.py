"""The one place that knows Slack's limits, and checks that blocks respect them.

Lengths are counted in characters (code points), as slack_sdk's own validators count them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

# Blocks.
MESSAGE_BLOCKS = 50
VIEW_BLOCKS = 100  # a modal or the App Home tab
SECTION_TEXT = 3000
SECTION_FIELDS = 10
FIELD_TEXT = 2000
HEADER_TEXT = 150
CONTEXT_ELEMENTS = 10
CONTEXT_TEXT = 3000  # a text object's own maximum
ACTIONS_ELEMENTS = 25
BLOCK_ID = 255

# Elements.
BUTTON_TEXT = 75
BUTTON_VALUE = 2000
ACTION_ID = 255
STATIC_SELECT_OPTIONS = 100
OPTION_TEXT = 75  # an option's text

# Modals.
MODAL_TITLE = 24
MODAL_SUBMIT = 24
MODAL_CLOSE = 24
PRIVATE_METADATA = 3000
INPUT_LABEL = 2000  # an input block's label
INPUT_HINT = 2000  # an input block's hint

# Canvases. Slack takes up to 1 MiB of markdown in `document_content`; a canvas that long is
# unreadable and slow to edit, so the bot's stay under a tenth of it (long plans list what fits
# and count the rest).
CANVAS_MARKDOWN = 100_000

# Messages. Slack truncates `text` past 40,000 characters, and rejects a message whose blocks hold
# more than about 12,000 characters of text in total (`msg_blocks_too_long`, undocumented: seen
# near 13,200 with the block containers counted; 12,000 is the figure Slack's staff gave).
MESSAGE_TEXT = 40_000
MESSAGE_BLOCKS_TEXT = 12_000

# Posting rates. chat.postMessage allows about one message a second per channel (short bursts
# allowed) plus a workspace-wide limit; Plan Bot paces its own fan-outs below both, so that a
# month's prompts to hundreds of departments go out without a single 429.
POSTS_PER_CHANNEL_PER_SECOND = 1.0
# 48 a second: 4% under the 50 a second the workspace allows, so that a thousand prompts take
# within 5% of the least time Slack permits (issue 18); a 429 still slows every replica.
POSTS_PER_SECOND = 48.0
# After a quiet spell a fan-out's first half second of posts (24 at 48 a second) go at once, as
# Slack's short bursts allow, then the pace holds: at no moment more than 24 + 48 t posts have
# gone by t seconds, well within a bucket of 50 refilled at 50 a second.
POSTS_BURST_SECONDS = 0.5
# Methods in Slack's Tier 3 ("50+ per minute" for the workspace): `chat.update` (prompt
# refreshes) and `reactions.add` (the ✅ on a thread reply). The bot keeps to 45 a minute of
# each, across every replica (models/pace.py), so that a first business day of a thousand
# answers queues edits instead of drawing 429s.
TIER_3_PER_MINUTE = 45.0
# Tier 2 ("20+ per minute"): `users.list` and `conversations.list` pages. A few pages go at
# once (Slack allows short bursts), then one every 60 / TIER_2_PER_MINUTE seconds, so reading
# a workspace of thousands never draws 429s.
TIER_2_PER_MINUTE = 18.0
TIER_2_BURST = 3


async def tier_2_turn(pages_read: int) -> None:
    """Wait, when needed, before reading page `pages_read + 1` of a Tier 2 list."""
    if pages_read >= TIER_2_BURST:
        await asyncio.sleep(60.0 / TIER_2_PER_MINUTE)


# Plan Bot's own choices, kept here so that every builder uses the same figures.
NOTIFICATION_TEXT = 3000  # a message's plain `text` fallback: what a notification shows
SECTION_PACK = 2900  # lines are packed into one section up to this length, then a new one starts


def text_length(blocks: Iterable[Mapping[str, Any]]) -> int:
    """Characters of text shown by the blocks: every text object, nested ones included."""
    return sum(_text_length(block) for block in blocks)


def _text_length(node: Any) -> int:
    if isinstance(node, Mapping):
        own = node.get("text")
        total = len(own) if isinstance(own, str) else 0
        return total + sum(_text_length(v) for k, v in node.items() if k != "value")
    if isinstance(node, list):
        return sum(_text_length(item) for item in node)
    return 0


def check_message(blocks: Sequence[Mapping[str, Any]], text: str | None = None) -> None:
    """Raise ValueError naming the first limit a message's blocks (and `text`) break."""
    if text is not None and len(text) > MESSAGE_TEXT:
        raise ValueError(f"message text has {len(text)} characters, more than {MESSAGE_TEXT}")
    _check(blocks, MESSAGE_BLOCKS, "message")
    total = text_length(blocks)
    if total > MESSAGE_BLOCKS_TEXT:
        raise ValueError(
            f"message blocks hold {total} characters of text, more than {MESSAGE_BLOCKS_TEXT}"
        )


def check_view(blocks: Sequence[Mapping[str, Any]]) -> None:
    """Raise ValueError naming the first limit a modal's or the Home tab's blocks break."""
    _check(blocks, VIEW_BLOCKS, "view")


def _check(blocks: Sequence[Mapping[str, Any]], most: int, surface: str) -> None:
    if len(blocks) > most:
        raise ValueError(f"{surface} has {len(blocks)} blocks, more than {most}")
    for index, block in enumerate(blocks):
        where = f"block {index} ({block.get('type')})"
        _check_block(block, where)


def _check_block(block: Mapping[str, Any], where: str) -> None:
    _at_most(block.get("block_id"), BLOCK_ID, f"{where} block_id")
    kind = block.get("type")
    if kind == "section":
        text, fields = block.get("text"), block.get("fields")
        if text is None and not fields:
            raise ValueError(f"{where} has neither text nor fields")
        if text is not None:
            _text(text, SECTION_TEXT, f"{where} text")
        if fields:
            if len(fields) > SECTION_FIELDS:
                raise ValueError(f"{where} has {len(fields)} fields, more than {SECTION_FIELDS}")
            for n, field in enumerate(fields):
                _text(field, FIELD_TEXT, f"{where} field {n}")
        if block.get("accessory"):
            _check_element(block["accessory"], f"{where} accessory")
    elif kind == "header":
        _text(block.get("text"), HEADER_TEXT, f"{where} text")
    elif kind == "context":
        elements = block.get("elements") or []
        if not elements or len(elements) > CONTEXT_ELEMENTS:
            raise ValueError(f"{where} has {len(elements)} elements, not 1 to {CONTEXT_ELEMENTS}")
        for n, element in enumerate(elements):
            if element.get("type") in ("mrkdwn", "plain_text"):
                _text(element, CONTEXT_TEXT, f"{where} element {n}")
    elif kind == "actions":
        elements = block.get("elements") or []
        if not elements or len(elements) > ACTIONS_ELEMENTS:
            raise ValueError(f"{where} has {len(elements)} elements, not 1 to {ACTIONS_ELEMENTS}")
        for n, element in enumerate(elements):
            _check_element(element, f"{where} element {n}")


def _check_element(element: Mapping[str, Any], where: str) -> None:
    _at_most(element.get("action_id"), ACTION_ID, f"{where} action_id")
    if element.get("type") == "button":
        _text(element.get("text"), BUTTON_TEXT, f"{where} text")
        _at_most(element.get("value"), BUTTON_VALUE, f"{where} value")
    elif element.get("type") == "static_select":
        options = element.get("options") or []
        if len(options) > STATIC_SELECT_OPTIONS:
            raise ValueError(
                f"{where} has {len(options)} options, more than {STATIC_SELECT_OPTIONS}"
            )


def _text(obj: Any, most: int, where: str) -> None:
    text = obj.get("text") if isinstance(obj, Mapping) else None
    if not isinstance(text, str) or not text:
        raise ValueError(f"{where} is missing or empty")
    _at_most(text, most, where)


def _at_most(value: Any, most: int, where: str) -> None:
    if isinstance(value, str) and len(value) > most:
        raise ValueError(f"{where} has {len(value)} characters, more than {most}")
